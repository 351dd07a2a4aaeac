"""``simkafka describe``: a scenario's topology as ``kafka-topics.sh --describe`` shows it,
with the balance per broker and per rack, and a figure of the replica placement."""

from __future__ import annotations

from pathlib import Path

import click

from simkafka.cli.common import (
    check_output,
    console,
    frame_table,
    load_scenario_file,
    own_output,
    report_dir,
)

__all__ = ["describe"]


@click.command()
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

    scenario = load_scenario_file(scenario_file)
    if not no_figure:
        check_output(
            Path(figure) if figure else report_dir(scenario.name),
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
        console.print(frame_table(frame, title))
    if not no_figure:
        path = Path(figure) if figure else report_dir(scenario.name) / "placement.png"
        with own_output(
            prefix="cannot write the placement figure: ",
            cannot_write=f"cannot write the placement figure {path}",
        ):
            placement_figure(
                topology,
                path,
                title=f"{scenario.name}: replica placement ({scenario.cluster.controller})",
                in_report_dir=figure is None,
            )
        console.print(f"\nplacement figure: {path}")
