"""The ``simkafka`` command line, one module per command group.

- :mod:`~simkafka.cli.entry`: the console script (``simkafka``, ``python -m simkafka``);
  imports nothing heavy, so Ctrl-C during start-up is one line and exit status 130.
- :mod:`~simkafka.cli.main`: the click group, which registers every command.
- the commands: :mod:`~simkafka.cli.scenario` (``check``, ``schema``),
  :mod:`~simkafka.cli.describe`, :mod:`~simkafka.cli.run`, :mod:`~simkafka.cli.importers`
  (``import omb``), :mod:`~simkafka.cli.bench_log`, :mod:`~simkafka.cli.validate`. They
  import none of each other.
- what they share: :mod:`~simkafka.cli.common` (consoles, loading a scenario, failing with
  exit status 2, output refusals, tables), :mod:`~simkafka.cli.progress` and
  :mod:`~simkafka.cli.exits`.

This file imports nothing: importing :mod:`simkafka.cli.entry` must stay light.
"""
