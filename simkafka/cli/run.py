"""``simkafka run``: simulate a scenario, print its summary and write its report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from simkafka.cli.common import (
    check_output,
    console,
    err_console,
    fail,
    frame_table,
    load_scenario_file,
    own_output,
    report_dir,
    run_estimate,
    warn,
)
from simkafka.cli.exits import EXIT_FAILED

__all__ = ["run"]


def _played_fault_types(engine: str) -> frozenset[str]:
    """The fault types ``engine`` plays (:func:`simkafka.sim.engine.played_fault_types`);
    the summary's ``faults_not_simulated`` counts the others after the run."""
    from simkafka.sim.engine import played_fault_types

    return played_fault_types(engine)


def _warn_unplayed_faults(scenario_file: str, scenario: Any) -> None:
    """Before the run: which of the scenario's faults the chosen engine will not play."""
    engine = scenario.run.engine
    unplayed = [f for f in scenario.faults if f.type not in _played_fault_types(engine)]
    if not unplayed:
        return
    listed = ", ".join(f"{f.type} at {f.at:g}s" for f in unplayed[:5])
    listed += f" and {len(unplayed) - 5} more" if len(unplayed) > 5 else ""
    elsewhere = sorted(
        {f.type for f in unplayed} & _played_fault_types("events") - _played_fault_types(engine)
    )
    hint = f"; the events engine plays {', '.join(elsewhere)} (--engine events)" if elsewhere else ""
    warn(
        f"warning: {len(unplayed)} of the {len(scenario.faults)} fault(s) in {scenario_file} are "
        f"not simulated by the {engine} engine ({listed}): the run goes on as if they did not "
        f"happen{hint}"
    )


@click.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    default=None,
    help="Report directory (default: reports/<scenario>/).",
)
@click.option("--seed", type=int, default=None, help="Override the scenario's run.seed.")
@click.option("--duration", default=None, help="Override run.duration, e.g. 30s.")
@click.option(
    "--engine",
    type=click.Choice(["events", "stepped", "flow"]),
    default=None,
    help="Override run.engine: events (every request, the reference), stepped (fast) or "
    "flow (rates between changes: hours and days).",
)
@click.option("--step", default=None, help="Override run.step of the stepped engine, e.g. 2ms.")
def run(
    scenario_file: str,
    output: str | None,
    seed: int | None,
    duration: str | None,
    engine: str | None,
    step: str | None,
) -> None:
    """Simulate a scenario, print its summary and write a report."""
    from simkafka.cli.progress import ProgressDisplay
    from simkafka.report.faults import had_faults
    from simkafka.report.groups import group_table, rebalanced
    from simkafka.report.run_report import (
        latency_table_ms,
        summary_table,
        target_table,
        target_table_text,
        write_run_report,
    )
    from simkafka.sim.engine import simulate

    scenario = load_scenario_file(scenario_file)
    overrides: dict = {}
    if seed is not None:
        overrides["seed"] = seed
    if duration is not None:
        overrides["duration"] = _duration_option("--duration", duration, 1e300, "positive")
        if overrides["duration"] <= scenario.run.warmup:
            # a short look at a long scenario: measure its last three quarters
            overrides["warmup"] = overrides["duration"] / 4
            err_console.print(f"note: warm-up shortened to {overrides['warmup']:g}s for --duration")
    if engine is not None:
        overrides["engine"] = engine
    if step is not None:
        if (engine or scenario.run.engine) != "stepped":
            # the events engine has no step: ignoring --step would mislead
            fail(
                f"--step {step}: only the stepped engine has a time step, and this run uses "
                "the events engine; add --engine stepped (or set run.engine: stepped in "
                f"{scenario_file}), or drop --step"
            )
        overrides["step"] = _duration_option("--step", step, 1.0, "positive and at most 1s")
    if overrides:
        scenario = _with_run_overrides(scenario, overrides)
    if "engine" in overrides or "step" in overrides:
        # the loader judged the step the file asked for; judge the one this run uses
        from simkafka.scenario.checks import check_step_resolution, check_step_round_trip
        from simkafka.scenario.errors import Problem

        for path, message, hint, _ in check_step_resolution(scenario) + check_step_round_trip(scenario):
            warn(str(Problem(scenario_file, None, None, path, message, hint, warning=True)))
    run_estimate(scenario_file, scenario)
    directory = Path(output) if output else report_dir(scenario.name)
    check_output(directory)
    # say so rather than let a run look like it survived faults it never saw
    _warn_unplayed_faults(scenario_file, scenario)
    with ProgressDisplay(
        err_console,
        f"simulating {scenario.name}",
        scenario.run.duration,
        detail=lambda now, total: f"{now:.1f}s / {total:.1f}s simulated",
    ) as progress:
        result = simulate(scenario, progress=lambda now, total: progress.update(now, total))
    console.print(frame_table(summary_table(result), f"{scenario.name} (seed {scenario.seed})"))
    if result.summary.get("sustainable") is False:
        # the throughput above is not one the cluster keeps up: say so where it is read
        console.print(result.summary["sustainability"], style="bold red", markup=False)
    console.print(frame_table(latency_table_ms(result), "latency (ms)"))
    targets = scenario.targets.model_dump()
    throughput = scenario.targets.produce_throughput
    if throughput is not None:
        targets["produce_throughput_msgs_per_s"] = throughput.messages_per_second
        targets["produce_throughput_bytes_per_s"] = throughput.bytes_per_second
    met = target_table(result, targets)
    if len(met):
        console.print(target_table_text(met).to_string(), markup=False)
    if had_faults(result):
        _print_faults(result)
    if rebalanced(result):
        # a column per group: a terminal fits a few groups, not ten figures side by side
        console.print(frame_table(group_table(result).T, "consumer groups", index_header=""))
    with own_output(cannot_write=f"cannot write the report to {directory}"):
        write_run_report(
            result,
            directory,
            description=scenario.description,
            warmup=scenario.run.warmup,
            targets=targets,
        )
    # the figures behind every CPU and time cost the engines charged
    console.print(f"costs: {scenario.costs.source}", style="dim", markup=False)
    console.print(f"\nreport: {directory / 'report.html'}")
    if not result.conservation["ok"]:
        err_console.print("conservation check failed: see summary.json", style="red")
        sys.exit(EXIT_FAILED)


def _print_faults(result: Any) -> None:
    """The delivery table, its verdict and the fault headline figures."""
    from simkafka.report.faults import delivery_table, delivery_verdict, headline_table

    verdict = delivery_verdict(result)
    if verdict is not None:
        console.print(frame_table(delivery_table(result, compact=True), "delivery (per topic)"))
        ok = result.summary.get("delivery_ok") is not False
        console.print(f"delivery: {verdict}", style="green" if ok else "bold red", markup=False)
    else:
        engine = result.summary.get("engine", "?")
        console.print(f"delivery: not checked by the {engine} engine (the events engine checks it)",
                      style="dim", markup=False)
    console.print(frame_table(headline_table(result), "faults", index_header=""))


def _with_run_overrides(scenario: Any, overrides: dict) -> Any:
    """The scenario with command-line overrides of its run section, validated as the file's
    own values are (``model_copy`` alone would take ``--seed -1``)."""
    from pydantic import ValidationError

    try:
        run_section = type(scenario.run).model_validate(
            {**scenario.run.model_dump(by_alias=True), **overrides}
        )
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = f"--{first['loc'][0]}" if first["loc"] else "run"
        fail(f"{where}: {first['msg'].removeprefix('Value error, ')}")
    return scenario.model_copy(update={"run": run_section})


def _duration_option(option: str, text: str, most: float, rule: str) -> float:
    """A duration given on the command line, or one clear line and exit 2."""
    from simkafka.units import UnitError, parse_duration

    try:
        value = parse_duration(text)
    except UnitError as exc:
        fail(f"{option}: {exc}")
    if not 0 < value <= most:
        fail(f"{option} must be {rule}")
    return value
