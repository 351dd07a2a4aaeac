"""``simkafka plan``: the cheapest cluster that meets the scenario's targets, and why.

Exit status: 0 with a recommendation; 1 when no candidate meets the targets (the report
is written and says why); 2 for bad input (the scenario, the plan block, an unknown
instance type, a catalogue file, an option).
"""

from __future__ import annotations

import sys
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
from simkafka.cli.exits import EXIT_FAILED

__all__ = ["plan"]

@click.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False))
@click.option(
    "--engine",
    type=click.Choice(["stepped", "events", "flow"]),
    default="stepped",
    show_default=True,
    help="stepped ranks every candidate; events also confirms the recommendation request by request; "
         "flow ranks on the flow engine (tens of times faster) and confirms the recommendation on stepped.",
)
@click.option("--samples", type=click.IntRange(min=0, max=10_000), default=0, show_default=True,
              help="Monte Carlo samples per finalist over the scenario's uncertain inputs.")
@click.option("--catalogue", "catalogues", multiple=True, type=click.Path(dir_okay=False),
              help="An instance catalogue file of your own (repeatable); adds to the shipped one.")
@executor_options("simulations")
@click.option("-o", "--output", type=click.Path(file_okay=False), default=None,
              help="Report directory (default: reports/<scenario>/plan/).")
def plan(
    scenario_file: str,
    engine: str,
    samples: int,
    catalogues: tuple[str, ...],
    executor: str,
    workers: int | None,
    scheduler: str | None,
    output: str | None,
) -> None:
    """Find the cheapest cluster that meets the scenario's targets; write a sizing report."""
    from simkafka.analysis.catalogue import CatalogueError, load_catalogue
    from simkafka.analysis.executors import ExecutorError
    from simkafka.analysis.planner import PlanError
    from simkafka.analysis.planner import plan as search
    from simkafka.cli.progress import ProgressDisplay
    from simkafka.report.sizing import next_cheaper_table, sizing_summary_table, write_sizing_report

    check_scheduler(executor, scheduler)
    scenario = load_scenario_file(scenario_file)
    if scenario.plan is None:
        err_console.print(f"note: {scenario_file} has no plan: block; planning with every default (plan: {{}})",
                          markup=False)
    try:
        catalogue = load_catalogue(*catalogues)
    except CatalogueError as exc:
        fail(str(exc))
    _check_instance_types(scenario_file, scenario, catalogue)
    directory = Path(output) if output else report_dir(scenario.name) / "plan"
    check_output(directory)
    with ProgressDisplay(
        err_console,
        f"planning {scenario.name}",
        None,
        detail=lambda done, total: f"{done:.0f} / {total:.0f} runs" if total else "",
    ) as progress:
        try:
            result = search(
                scenario,
                catalogue=catalogue,
                engine=engine,
                samples=samples,
                executor=executor,
                workers=workers,
                scheduler=scheduler,
                progress=lambda stage, done, total: progress.update(done, total, description=stage),
            )
        except (PlanError, ExecutorError) as exc:
            fail(f"{scenario_file}: {exc}")
    if result.recommendation is not None:
        console.print(frame_table(sizing_summary_table(result), f"{scenario.name}: recommended cluster"))
    else:
        console.print(f"no candidate meets the targets: {result.reason}", style="bold red", markup=False)
    cheaper = next_cheaper_table(result)
    if len(cheaper):
        title = "next cheaper candidates (each misses something)" if result.recommendation else "cheapest candidates"
        console.print(frame_table(cheaper, title))
    for note in result.notes:
        err_console.print(f"note: {note}", markup=False, style="dim")
    with own_output(cannot_write=f"cannot write the report to {directory}"):
        write_sizing_report(result, directory)
    console.print(f"\n{len(result.candidates)} candidates, "
                  f"{sum(1 for c in result.candidates if not c.bound_ok)} ruled out by the bounds, "
                  f"{result.simulations} simulations")
    console.print(f"report: {directory / 'sizing.html'}")
    if result.recommendation is None:
        sys.exit(EXIT_FAILED)


def _check_instance_types(scenario_file: str, scenario: object, catalogue: object) -> None:
    """Every ``plan.instance_types`` name is in the catalogue, or one message per unknown
    name with its line in the file and the closest names, and exit 2."""
    from simkafka.analysis.catalogue import CatalogueError
    from simkafka.scenario import ScenarioError
    from simkafka.scenario.errors import Problem
    from simkafka.scenario.loader import position_of
    from simkafka.scenario.reading import read_scenario_text, read_yaml_with_positions

    spec = scenario.plan  # type: ignore[attr-defined]
    if spec is None or not spec.instance_types:
        return
    _, positions = read_yaml_with_positions(read_scenario_text(scenario_file), scenario_file)
    problems = []
    for i, name in enumerate(spec.instance_types):
        try:
            catalogue.offer(name)  # type: ignore[attr-defined]
        except CatalogueError as exc:
            path = ("plan", "instance_types", i)
            line, column = position_of(path, positions)
            problems.append(Problem(scenario_file, line, column, path, exc.problems[0].message,
                                    exc.problems[0].hint))
    if problems:
        fail(str(ScenarioError(problems)))
