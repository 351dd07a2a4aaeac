"""``simkafka sweep``: simulate a grid of variations of a scenario, write every point's summary."""

from __future__ import annotations

import json
from pathlib import Path

import click

from simkafka.cli.common import (
    check_output,
    check_scheduler,
    console,
    err_console,
    executor_options,
    fail,
    frame_table,
    load_scenario_file,
    own_output,
    report_dir,
)

__all__ = ["sweep"]

CACHE_FILE = "cache.jsonl"
POINTS_FILE = "points.parquet"
# the summary fields the printed table shows beside the parameters (all are in the parquet)
_SHOWN = (
    "produce_MB_per_s",
    "p99_produce_latency_s",
    "p99_e2e_latency_s",
    "bottleneck_utilisation",
    "sustainable",
)
# rows printed; a larger grid is summarised by its first rows (the parquet has them all)
_MAX_ROWS = 40


@click.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False))
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    required=True,
    help="PATH=VALUES, e.g. cluster.brokers=3..12 or topics.events.partitions=12,24,48 "
    "(repeat for a grid).",
)
@executor_options("points")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    default=None,
    help="Sweep directory (default: reports/<scenario>/sweep/); finished points are kept "
    "there, so a repeated or interrupted sweep resumes.",
)
def sweep(
    scenario_file: str,
    params: tuple[str, ...],
    executor: str,
    workers: int | None,
    scheduler: str | None,
    output: str | None,
) -> None:
    """Simulate every point of a grid of --param values; write points.parquet."""
    from simkafka.analysis.cache import HEADER, CacheRefused
    from simkafka.analysis.grid import GridError, expand_grid
    from simkafka.analysis.sweep import SweepError, sweep_points
    from simkafka.cli.progress import ProgressDisplay
    from simkafka.report.output_dir import write_report_file

    check_scheduler(executor, scheduler)
    scenario = load_scenario_file(scenario_file)
    try:
        points = expand_grid(scenario, params)
    except GridError as exc:
        fail(f"{scenario_file}: {exc}")
    _show_point_warnings(points)
    directory = Path(output) if output else report_dir(scenario.name) / "sweep"
    check_output(directory)
    cache = directory / CACHE_FILE
    if not cache.is_file():
        # made a report file (in the directory's marker) before any point runs, so a
        # resumed sweep finds it recorded as simkafka's own
        with own_output(cannot_write=f"cannot write {cache}"):
            write_report_file(
                directory,
                CACHE_FILE,
                "sweep",
                lambda p: p.write_text(json.dumps(HEADER) + "\n", encoding="utf-8"),
            )
    with ProgressDisplay(
        err_console,
        f"sweeping {scenario.name}",
        len(points),
        detail=lambda done, total: f"{done:.0f} / {total:.0f} points",
    ) as progress:
        try:
            frame = sweep_points(
                points,
                executor=executor,  # type: ignore[arg-type]
                workers=workers,
                scheduler=scheduler,
                cache=cache,
                progress=lambda done, total: progress.update(done, total),
            )
        except (SweepError, CacheRefused) as exc:
            fail(f"{scenario_file}: {exc}")
    with own_output(cannot_write=f"cannot write {directory / POINTS_FILE}"):
        written = write_report_file(
            directory, POINTS_FILE, "sweep", lambda p: frame.to_parquet(p, index=False)
        )
    names = [p.split("=", 1)[0].strip() for p in params]
    shown = frame[[c for c in [*names, *_SHOWN] if c in frame.columns]]
    title = f"{scenario.name}: {len(frame)} points"
    if len(frame) > _MAX_ROWS:
        title += f" (the first {_MAX_ROWS})"
    console.print(frame_table(shown.head(_MAX_ROWS), title, cell=_cell, index_header="#"))
    console.print(f"\npoints: {written}")


# distinct warnings printed; the rest are counted
_MAX_WARNINGS = 10


def _show_point_warnings(points: list) -> None:
    """Each distinct warning the points raise, once, with the first point that raises it
    and how many do (a sweep over RF 1..3 would print one per point otherwise)."""
    from simkafka.cli.common import warn

    seen: dict[tuple, list] = {}
    for point in points:
        for problem in point.warnings:
            seen.setdefault((problem.path, problem.message), []).append(problem)
    for shown, problems in enumerate(seen.values()):
        if shown == _MAX_WARNINGS:
            warn(f"... and {len(seen) - _MAX_WARNINGS} more distinct warning(s)")
            break
        more = f"\n    (and at {len(problems) - 1} more point(s))" if len(problems) > 1 else ""
        warn(str(problems[0]) + more)


def _cell(column: object, value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
