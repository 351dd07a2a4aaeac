"""``simkafka durability``: the scenario's faults replayed over ``acks`` x
``min.insync.replicas`` x ``unclean.leader.election.enable`` x ``enable.idempotence``.

Exit status: 0 with the matrix (whatever it shows: a cell losing records is an answer,
not a failure); 2 for bad input -- the scenario, an axis value, an output simkafka may not
write, and a scenario with no broker or controller fault, which leaves nothing to replay
(as ``plan`` exits 2 on a scenario its search cannot use: the input, not the cluster, is
what is wrong).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from simkafka.cli.common import (
    check_output,
    check_scheduler,
    console,
    err_console,
    executor_options,
    fail,
    load_scenario_file,
    own_output,
    report_dir,
)

if TYPE_CHECKING:
    from rich.table import Table

    from simkafka.analysis.durability import DurabilityMatrix

__all__ = ["durability"]

# option -> the setting it narrows
_AXIS_OPTIONS = (
    ("--acks", "acks"),
    ("--idempotence", "enable.idempotence"),
    ("--min-isr", "min.insync.replicas"),
    ("--unclean", "unclean.leader.election.enable"),
)


@click.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False))
@click.option("--acks", "acks", default=None, help="acks values to replay, e.g. 1,all (default: 0,1,all).")
@click.option("--idempotence", "idempotence", default=None,
              help="enable.idempotence values, e.g. true (default: false,true).")
@click.option("--min-isr", "min_isr", default=None,
              help="min.insync.replicas values, e.g. 1,2 (default: 1,2 up to the replication factor).")
@click.option("--unclean", "unclean", default=None,
              help="unclean.leader.election.enable values, e.g. false (default: false,true).")
@executor_options("cells")
@click.option("-o", "--output", type=click.Path(file_okay=False), default=None,
              help="Report directory (default: reports/<scenario>/durability/).")
def durability(
    scenario_file: str,
    acks: str | None,
    idempotence: str | None,
    min_isr: str | None,
    unclean: str | None,
    executor: str,
    workers: int | None,
    scheduler: str | None,
    output: str | None,
) -> None:
    """Replay the scenario's faults over acks x min.insync.replicas x unclean election x
    idempotence; print what each combination loses, writes twice and leaves unavailable."""
    from simkafka.analysis.durability import (
        DurabilityError,
        broker_faults,
        default_axes,
        durability_matrix,
        parse_axis,
    )
    from simkafka.cli.progress import ProgressDisplay
    from simkafka.report.durability import write_durability_report

    check_scheduler(executor, scheduler)
    given = dict(zip((o for o, _ in _AXIS_OPTIONS), (acks, idempotence, min_isr, unclean), strict=True))
    parsed = {}
    for option, setting in _AXIS_OPTIONS:
        if given[option] is not None:
            try:
                parsed[setting] = parse_axis(setting, given[option])
            except DurabilityError as exc:
                fail(f"{option} {given[option]}: {exc}")
    scenario = load_scenario_file(scenario_file)
    try:
        broker_faults(scenario)
    except DurabilityError as exc:
        fail(f"{scenario_file}: {exc}")
    axes = default_axes(scenario).narrowed(parsed)
    if scenario.run.engine != "events":
        err_console.print(f"note: {scenario_file} runs on the {scenario.run.engine} engine; the matrix uses the "
                          "events engine, the only one that plays broker and controller faults", markup=False)
    directory = Path(output) if output else report_dir(scenario.name) / "durability"
    check_output(directory)
    cells = len(axes.combinations())
    with ProgressDisplay(
        err_console,
        f"replaying {scenario.name}'s faults",
        None,
        detail=lambda done, total: f"{done:.0f} / {total:.0f} cells run" if total else "",
    ) as progress:
        try:
            matrix = durability_matrix(
                scenario,
                axes,
                executor=executor,  # type: ignore[arg-type]
                workers=workers,
                scheduler=scheduler,
                progress=lambda done, total: progress.update(done, total),
            )
        except DurabilityError as exc:
            fail(f"{scenario_file}: {exc}")
    console.print(_table(matrix))
    for line in _refusals(matrix):
        console.print(line, markup=False, style="dim")
    zero = _all_zero(matrix)
    if zero:
        console.print(f"zero in every cell, so not shown: {', '.join(zero)}", markup=False, style="dim")
    with own_output(cannot_write=f"cannot write the report to {directory}"):
        write_durability_report(matrix, directory)
    console.print(f"\n{cells} cells, {matrix.runs} run, {cells - matrix.runs} refused by Kafka's configuration rules; "
                  f"faults replayed: {', '.join(matrix.faults)}")
    console.print(f"report: {directory / 'durability.html'}")


# the readable table's headers, shortened to fit a terminal of 80 columns
_SHORT = {"idempotence": "idem", "written twice": "twice", "no leader (partition-s)": "no leader s",
          "under min ISR (partition-s)": "< min ISR s"}
# figures a table may leave out when they are zero in every cell (said under the table)
_OMITTED_WHEN_ZERO = ("reordered", "failed")


def _table(matrix: DurabilityMatrix) -> Table:
    """The matrix as a rich table: a refused cell dimmed, a cell losing acknowledged
    records in red, one writing records twice in yellow; the reasons for refused cells
    are printed under it (:func:`_refusals`)."""
    from rich import box
    from rich.table import Table

    readable = matrix.readable().drop(columns=["impossible because", *_all_zero(matrix)])
    frame = matrix.frame
    table = Table(title=f"{matrix.scenario}: durability matrix (seed {matrix.seed})", title_justify="left",
                  box=box.SIMPLE_HEAD)
    for column in readable.columns:
        # the figures never wrap (a header may): a column is as wide as its widest figure
        widest = max(len(v) for v in [*readable[column], "refused"]) if column == "lost" else readable[column].str.len().max()
        table.add_column(_SHORT.get(column, column), justify="right", min_width=int(widest))
    for (_, row), (_, cell) in zip(readable.iterrows(), frame.iterrows(), strict=True):
        values = [str(v) for v in row]
        style = None
        if not cell["valid"]:
            style = "dim"
            values[list(readable.columns).index("lost")] = "refused"
        elif cell["acknowledged_lost"] > 0:
            style = "red"
        elif cell["written_twice"] > 0:
            style = "yellow"
        table.add_row(*values, style=style)
    return table


def _all_zero(matrix: DurabilityMatrix) -> list[str]:
    """The columns of :data:`_OMITTED_WHEN_ZERO` that are zero in every cell run."""
    readable = matrix.readable()
    return [c for c in _OMITTED_WHEN_ZERO if readable[c].isin(["0", "-"]).all()]


def _refusals(matrix: DurabilityMatrix) -> list[str]:
    """One line per distinct reason Kafka refuses cells, with how many."""
    from simkafka.analysis.durability import short_reason

    frame = matrix.frame
    reasons = frame.loc[~frame["valid"], "why_not"].map(short_reason)
    return [f"refused ({count} cells): {reason}" for reason, count in reasons.value_counts(sort=False).items()]
