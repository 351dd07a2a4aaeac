"""The ``simkafka`` command. Thin: parse arguments, call the library, print.

Every user error (a bad scenario, a missing file) is printed as one clear message and
exits with status 2 -- never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from simkafka.cli.entry import interrupted
from simkafka.scenario import ScenarioError, load_scenario_with_warnings

# emoji=False: rich would print "file.yaml:100:3" as "file.yaml💯3" (":100:" is an emoji code)
console = Console(highlight=False, soft_wrap=True, emoji=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

EXIT_USAGE = 2


def _fail(message: str) -> None:
    err_console.print(message, markup=False)
    sys.exit(EXIT_USAGE)


def _load(path: str):
    try:
        scenario, warnings = load_scenario_with_warnings(path)
    except ScenarioError as exc:
        _fail(str(exc))
    for warning in warnings:
        err_console.print(str(warning), markup=False, style="yellow")
    return scenario


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
@click.version_option(package_name="simkafka")
def main() -> None:
    """simkafka: simulate an Apache Kafka cluster and size it for a workload."""


@main.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False))
@click.option(
    "--resolved", is_flag=True, help="Print the scenario with every default filled in (YAML)."
)
def check(scenario_file: str, resolved: bool) -> None:
    """Validate a scenario file and say what it describes."""
    scenario = _load(scenario_file)
    estimate = _run_estimate(scenario_file, scenario)
    if resolved:
        import yaml

        click.echo(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True))
        return
    console.print(f"[green]ok[/green] {scenario_file}: {scenario!r}")
    console.print(f"estimated run: {estimate}", markup=False)


def _run_estimate(scenario_file: str, scenario: Any) -> Any:
    """The run's size estimate; exit 2 with one line if the engine would refuse the run,
    a warning if it would take long."""
    from simkafka.sim.budget import LONG_WALL_SECONDS, refuse_if_too_big
    from simkafka.sim.guards import RunRefused, check_engine_inputs

    try:
        check_engine_inputs(scenario)
        estimate = refuse_if_too_big(scenario)
    except RunRefused as exc:
        _fail(f"{scenario_file}: error: {exc}")
    if estimate.wall_seconds > LONG_WALL_SECONDS:
        err_console.print(
            f"warning: {scenario_file}: this run may take long ({estimate}); a shorter "
            "run.duration or the stepped engine is faster",
            markup=False,
            style="yellow",
        )
    return estimate


def _frame_table(frame: Any, title: str, cell: Callable[[Any], str] = str) -> Any:
    """A pandas DataFrame as a rich table: the index first, values right-aligned."""
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column(frame.index.name or "")
    for column in frame.columns:
        table.add_column(str(column), justify="right")
    for index, row in frame.iterrows():
        table.add_row(str(index), *(cell(v) for v in row))
    return table


@main.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False))
@click.option(
    "--figure",
    type=click.Path(dir_okay=False),
    default=None,
    help="Where to write the placement figure (default: reports/<scenario>/placement.png).",
)
@click.option("--no-figure", is_flag=True, help="Print the tables only.")
def describe(scenario_file: str, figure: str | None, no_figure: bool) -> None:
    """Show the topology as kafka-topics.sh --describe does, with per-broker and per-rack balance."""
    from simkafka.model.topology import initial_topology
    from simkafka.report.describe import (
        broker_balance,
        describe_topics,
        placement_figure,
        rack_spread,
    )
    from simkafka.report.output_dir import OutputRefused

    scenario = _load(scenario_file)
    if not no_figure:
        _check_output(
            Path(figure) if figure else _report_dir(scenario.name),
            single_file=figure is not None,
        )
    topology = initial_topology(scenario)
    console.print(f"[bold]{scenario.name}[/bold]: {scenario!r}\n")
    click.echo(describe_topics(scenario, topology))
    for title, frame in (
        ("Per broker", broker_balance(topology)),
        ("Rack spread of replicas", rack_spread(topology)),
    ):
        console.print()
        console.print(_frame_table(frame, title))
    if not no_figure:
        path = Path(figure) if figure else _report_dir(scenario.name) / "placement.png"
        try:
            placement_figure(
                topology,
                path,
                title=f"{scenario.name}: replica placement ({scenario.cluster.controller})",
                in_report_dir=figure is None,
            )
        except OutputRefused as exc:
            _fail(f"cannot write the placement figure: {exc}")
        except OSError as exc:
            _fail(f"cannot write the placement figure {path}: {exc.strerror or exc}")
        console.print(f"\nplacement figure: {path}")


def _report_dir(name: str) -> Path:
    """reports/<name>/, or one line and exit 2 if the name is not a safe directory name."""
    from simkafka.report.output_dir import OutputRefused, report_dir_for

    try:
        return report_dir_for(name)
    except OutputRefused as exc:
        _fail(str(exc))


def _check_output(path: Path, *, single_file: bool = False) -> None:
    """Refuse, before any work, an output simkafka would not be allowed to write at the end."""
    from simkafka.report.output_dir import (
        OutputRefused,
        check_own_file,
        check_report_dir,
        is_simkafka_png,
    )

    try:
        if single_file:
            check_own_file(path, is_ours=is_simkafka_png)
        else:
            check_report_dir(path)
    except OutputRefused as exc:
        _fail(str(exc))


def _with_run_overrides(scenario: Any, overrides: dict) -> Any:
    """The scenario with command-line overrides of its run section, validated as the file's
    own values are (``model_copy`` alone would take ``--seed -1``)."""
    from pydantic import ValidationError

    try:
        run = type(scenario.run).model_validate(
            {**scenario.run.model_dump(by_alias=True), **overrides}
        )
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = f"--{first['loc'][0]}" if first["loc"] else "run"
        _fail(f"{where}: {first['msg'].removeprefix('Value error, ')}")
    return scenario.model_copy(update={"run": run})


def _duration_option(option: str, text: str, most: float, rule: str) -> float:
    """A duration given on the command line, or one clear line and exit 2."""
    from simkafka.units import UnitError, parse_duration

    try:
        value = parse_duration(text)
    except UnitError as exc:
        _fail(f"{option}: {exc}")
    if not 0 < value <= most:
        _fail(f"{option} must be {rule}")
    return value


@main.command()
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
    type=click.Choice(["events", "stepped"]),
    default=None,
    help="Override run.engine: events (every request, the reference) or stepped (fast).",
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
    from simkafka.report.output_dir import OutputRefused
    from simkafka.report.run_report import (
        latency_table_ms,
        summary_table,
        target_table,
        target_table_text,
        write_run_report,
    )
    from simkafka.sim.engine import simulate

    scenario = _load(scenario_file)
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
            _fail(
                f"--step {step}: only the stepped engine has a time step, and this run uses "
                "the events engine; add --engine stepped (or set run.engine: stepped in "
                f"{scenario_file}), or drop --step"
            )
        overrides["step"] = _duration_option("--step", step, 1.0, "positive and at most 1s")
    if overrides:
        scenario = _with_run_overrides(scenario, overrides)
    if "engine" in overrides or "step" in overrides:
        # the loader judged the step the file asked for; judge the one this run uses
        from simkafka.scenario.checks import check_step_resolution
        from simkafka.scenario.errors import Problem

        for path, message, hint, _ in check_step_resolution(scenario):
            warning = Problem(scenario_file, None, None, path, message, hint, warning=True)
            err_console.print(str(warning), markup=False, style="yellow")
    _run_estimate(scenario_file, scenario)
    directory = Path(output) if output else _report_dir(scenario.name)
    _check_output(directory)
    if scenario.faults:
        # Faults are validated now; brokers dying, elections and rebalances come with the
        # fault engine. Say so rather than let a run look like it survived them.
        err_console.print(
            f"warning: {len(scenario.faults)} fault(s) in {scenario_file} are not simulated yet "
            "(leader elections and rebalances after faults arrive with the fault engine)",
            style="yellow",
        )
    with ProgressDisplay(
        err_console,
        f"simulating {scenario.name}",
        scenario.run.duration,
        detail=lambda now, total: f"{now:.1f}s / {total:.1f}s simulated",
    ) as progress:
        result = simulate(scenario, progress=lambda now, total: progress.update(now, total))
    console.print(_frame_table(summary_table(result), f"{scenario.name} (seed {scenario.seed})"))
    console.print(_frame_table(latency_table_ms(result), "latency (ms)"))
    targets = scenario.targets.model_dump()
    throughput = scenario.targets.produce_throughput
    if throughput is not None:
        targets["produce_throughput_msgs_per_s"] = throughput.messages_per_second
        targets["produce_throughput_bytes_per_s"] = throughput.bytes_per_second
    met = target_table(result, targets)
    if len(met):
        console.print(target_table_text(met).to_string(), markup=False)
    try:
        write_run_report(
            result,
            directory,
            description=scenario.description,
            warmup=scenario.run.warmup,
            targets=targets,
        )
    except OutputRefused as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write the report to {directory}: {exc.strerror or exc}")
    console.print(f"\nreport: {directory / 'report.html'}")
    if not result.conservation["ok"]:
        err_console.print("conservation check failed: see summary.json", style="red")
        sys.exit(1)


@main.command()
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout."
)
def schema(output: str | None) -> None:
    """Print the scenario JSON Schema (for editor autocompletion)."""
    from simkafka.report.output_dir import OutputRefused, write_own_text
    from simkafka.scenario.schema import scenario_json_schema

    # the comment marks the file as simkafka's, so a later `schema -o` may replace it;
    # allow_nan=False: strict JSON, no Infinity
    text = json.dumps(
        {"$comment": SCHEMA_COMMENT, **scenario_json_schema()}, indent=2, allow_nan=False
    )
    if not output:
        click.echo(text)
        return
    text += "\n"
    try:
        write_own_text(output, text, command="schema", is_ours=_is_schema_file)
    except OutputRefused as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror or exc}")
    console.print(f"wrote {output}")


SCHEMA_COMMENT = "generated by `simkafka schema`: the scenario file format"


def _is_schema_file(path: Path) -> bool:
    """A JSON file an earlier ``simkafka schema -o`` wrote (it carries :data:`SCHEMA_COMMENT`)."""
    from simkafka.report.output_dir import file_head

    head = file_head(path)
    return head.lstrip().startswith("{") and json.dumps(SCHEMA_COMMENT) in head


def _register_subcommands() -> None:
    # Kept in their own modules so this file stays a readable index of commands.
    from simkafka.cli.importers import import_group
    from simkafka.cli.bench_log import bench_log
    from simkafka.cli.validate import validate

    main.add_command(import_group)
    main.add_command(bench_log)
    main.add_command(validate)


_register_subcommands()

if __name__ == "__main__":  # pragma: no cover
    from simkafka.cli.entry import main as entry

    entry()
