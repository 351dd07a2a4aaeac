"""Validation: the same workload through the real log engine and the simulator's storage model.

See :mod:`simkafka.validate.harness` (``validate``) and ``simkafka validate``.
"""
