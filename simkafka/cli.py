"""The ``simkafka`` command. Thin: parse arguments, call the library, print.

Every user error (a bad scenario, a missing file) is printed as one clear message and
exits with status 2 -- never a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.console import Console

from simkafka.scenario import ScenarioError, load_scenario_with_warnings

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="simkafka")
def main() -> None:
    """simkafka: simulate an Apache Kafka cluster and size it for a workload."""


@main.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False))
@click.option("--resolved", is_flag=True, help="Print the scenario with every default filled in (YAML).")
def check(scenario_file: str, resolved: bool) -> None:
    """Validate a scenario file and say what it describes."""
    scenario = _load(scenario_file)
    if resolved:
        import yaml

        click.echo(yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False))
        return
    console.print(f"[green]ok[/green] {scenario_file}: {scenario!r}")


@main.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout.")
def schema(output: str | None) -> None:
    """Print the scenario JSON Schema (for editor autocompletion)."""
    from simkafka.scenario import Scenario

    text = json.dumps(Scenario.model_json_schema(by_alias=True), indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {output}")
    else:
        click.echo(text)


if __name__ == "__main__":  # pragma: no cover
    main()
