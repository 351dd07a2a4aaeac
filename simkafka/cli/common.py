"""What every ``simkafka`` command shares: the consoles, failing with exit status 2,
loading a scenario, the outputs simkafka may write, and tables.

The conventions it keeps: a user error (a bad scenario, an option out of range, an output
simkafka would not be allowed to write) is one clear line on stderr and exit status 2,
never a traceback. Imports no command module: the commands import it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from simkafka.cli.exits import EXIT_USAGE
from simkafka.report.output_dir import OutputRefused
from simkafka.scenario import ScenarioError, load_scenario_with_warnings

# emoji=False: rich would print "file.yaml:100:3" as "file.yaml💯3" (":100:" is an emoji code)
console = Console(highlight=False, soft_wrap=True, emoji=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    """Print ``message`` on stderr as it is (no rich markup) and exit with ``status``."""
    err_console.print(message, markup=False)
    sys.exit(status)


def warn(message: str) -> None:
    """A warning on stderr, in yellow, printed as it is (no rich markup)."""
    err_console.print(message, markup=False, style="yellow")


def load_scenario_file(path: str) -> Any:
    """The scenario in ``path``, its warnings printed; its errors, each with file, line
    and field, and exit status 2 if it has any."""
    try:
        scenario, warnings = load_scenario_with_warnings(path)
    except ScenarioError as exc:
        fail(str(exc))
    for warning in warnings:
        warn(str(warning))
    return scenario


def run_estimate(scenario_file: str, scenario: Any) -> Any:
    """The run's size estimate; exit 2 with one line if the engine would refuse the run,
    a warning if it would take long."""
    from simkafka.sim.budget import LONG_WALL_SECONDS, refuse_if_too_big
    from simkafka.sim.guards import RunRefused, check_engine_inputs

    try:
        check_engine_inputs(scenario)
        estimate = refuse_if_too_big(scenario)
    except RunRefused as exc:
        fail(f"{scenario_file}: error: {exc}")
    if estimate.wall_seconds > LONG_WALL_SECONDS:
        warn(
            f"warning: {scenario_file}: this run may take long ({estimate}); a shorter "
            "run.duration or the stepped engine is faster"
        )
    return estimate


@contextmanager
def own_output(*, prefix: str = "", cannot_write: str | None = None) -> Iterator[None]:
    """Around checking or writing simkafka's own output (``simkafka.report.output_dir``):
    an output simkafka may not write is ``<prefix><why>``, and, given ``cannot_write``, an
    error of the file system ``<cannot_write>: <why>``; one line and exit status 2 either way.
    """
    try:
        yield
    except OutputRefused as exc:
        fail(f"{prefix}{exc}")
    except OSError as exc:
        if cannot_write is None:
            raise
        fail(f"{cannot_write}: {exc.strerror or exc}")


def report_dir(name: str) -> Path:
    """reports/<name>/, or one line and exit 2 if the name is not a safe directory name."""
    from simkafka.report.output_dir import report_dir_for

    try:
        return report_dir_for(name)
    except OutputRefused as exc:
        fail(str(exc))


def check_output(path: Path, *, single_file: bool = False) -> None:
    """Refuse, before any work, an output simkafka would not be allowed to write at the end:
    a report directory, or with ``single_file`` a PNG figure."""
    from simkafka.report.output_dir import check_own_file, check_report_dir, is_simkafka_png

    with own_output():
        if single_file:
            check_own_file(path, is_ours=is_simkafka_png)
        else:
            check_report_dir(path)


def frame_table(
    frame: Any,
    title: str,
    *,
    cell: Callable[[Any, Any], str] | None = None,
    index_header: str | None = None,
    no_wrap: bool = False,
) -> Table:
    """A pandas DataFrame as a rich table: the index first, values right-aligned.

    ``cell(column, value)`` formats a value (default ``str(value)``); the index column is
    headed ``index_header``, or the index's name.
    """
    table = Table(title=title, title_justify="left")
    header = (frame.index.name or "") if index_header is None else index_header
    table.add_column(header, no_wrap=no_wrap)
    for column in frame.columns:
        table.add_column(str(column), justify="right", no_wrap=no_wrap)
    for index, row in frame.iterrows():
        values = (str(v) if cell is None else cell(column, v) for column, v in row.items())
        table.add_row(str(index), *values)
    return table


def executor_options(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--executor``, ``--workers`` and ``--scheduler``, as ``sweep`` and ``plan`` take them;
    ``what`` names what runs (``points``, ``simulations``)."""
    import click

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed((
            click.option("--executor", type=click.Choice(["inprocess", "pool", "dask"]), default="pool",
                         show_default=True,
                         help=f"Where the {what} run: this process, a local process pool, or dask.distributed."),
            click.option("--workers", type=click.IntRange(min=1), default=None,
                         help="Workers (default: one per core)."),
            click.option("--scheduler", default=None,
                         help="A dask scheduler address, e.g. tcp://host:8786 (default: a LocalCluster on "
                         "127.0.0.1)."),
        )):
            command = option(command)
        return command

    return decorate


def check_scheduler(executor: str, scheduler: str | None) -> None:
    """A scheduler address only goes with ``--executor dask``: one line and exit 2 otherwise."""
    if scheduler is not None and executor != "dask":
        fail(f"--scheduler {scheduler}: a scheduler address is for --executor dask")
