"""Validation: the same workload through the real log engine and the simulator's storage model.

See :mod:`simkafka.validate.harness` (``validate``) and ``simkafka validate``; and
:mod:`simkafka.validate.calibration` (``simkafka calibrate``), which measures the engines'
cost profile on this machine with the log engine and a small JVM probe.
"""
