"""The ``simkafka`` command group: an index of the commands, each in its own module.

Thin, as every command is: parse arguments, call the library, print. Every user error (a
bad scenario, a missing file) is printed as one clear message and exits with status 2 --
never a traceback (:mod:`simkafka.cli.common`).
"""

from __future__ import annotations

from typing import Any

import click

from simkafka.cli.bench_log import bench_log
from simkafka.cli.calibrate import calibrate
from simkafka.cli.describe import describe
from simkafka.cli.durability import durability
from simkafka.cli.exits import interrupted
from simkafka.cli.importers import import_group
from simkafka.cli.plan import plan
from simkafka.cli.run import run
from simkafka.cli.scenario import check, schema
from simkafka.cli.sweep import sweep
from simkafka.cli.validate import validate
from simkafka.kafka_version import MODELLED_RELEASE

# `simkafka --version`: simkafka's own release, and the Kafka release it models
VERSION_MESSAGE = f"%(prog)s %(version)s (models Apache Kafka {MODELLED_RELEASE})"


class _Commands(click.Group):
    """The command group: Ctrl-C inside any command is one line and exit status 130.

    (click's own handling prints "Aborted!" and exits 1.)
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            interrupted()


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="simkafka", prog_name="simkafka", message=VERSION_MESSAGE)
def main() -> None:
    """simkafka: simulate an Apache Kafka cluster and size it for a workload."""


for _command in (check, describe, run, schema, import_group, bench_log, validate, calibrate, sweep, plan,
                 durability):
    main.add_command(_command)
