"""``simkafka import``: turn other tools' benchmark configs into scenario files.

Same conventions as every command: every user error is one clear message and exit status
2, never a traceback; and nothing is written unless the whole import succeeded (the file
is written to a temporary name and renamed into place), never over a file an earlier
import did not write.
"""

from __future__ import annotations

from pathlib import Path

import click
import yaml
from pydantic import ValidationError

from simkafka.cli.common import console, fail, own_output, warn
from simkafka.report.output_dir import (
    check_own_file,
    file_head,
    suggest_name,
    unsafe_name_reason,
    write_own_text,
)
from simkafka.scenario.cluster import BrokerHardware, Cluster
from simkafka.scenario.errors import Problem, ScenarioError
from simkafka.scenario.importers.omb import import_omb_with_warnings
from simkafka.scenario.loader import (
    parse_scenario_with_warnings,
    problems_from_validation,
    read_yaml_with_positions,
)
from simkafka.scenario.reading import read_scenario_text

__all__ = ["import_group"]


def _read_cluster(path: str) -> dict:
    """A cluster file holds either a whole ``cluster:`` section or just its contents."""
    text = read_scenario_text(path, "cluster file")  # bounded: size, file kind, UTF-8
    data, positions = read_yaml_with_positions(text, path)
    prefix: tuple = ()
    if isinstance(data, dict) and set(data) == {"cluster"}:
        data, prefix = data["cluster"], ("cluster",)
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem(path, 1, 1, (), "a cluster file is a mapping (brokers, racks, hardware...)")]
        )
    try:
        Cluster.model_validate(data)
    except ValidationError as exc:
        shifted = {
            key[len(prefix) :]: pos
            for key, pos in positions.items()
            if key[: len(prefix)] == prefix
        }
        raise ScenarioError(problems_from_validation(exc, data, shifted, path)) from None
    return data


def _hardware(options: dict[str, object]) -> dict | None:
    given = {key: value for key, value in options.items() if value is not None}
    if not given:
        return None
    try:
        BrokerHardware.model_validate(given)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        flag = "--" + str(first["loc"][0]).replace("_", "-")
        message = first["msg"].removeprefix("Value error, ")
        given_text = repr(first.get("input"))
        fail(f"{flag}: {message}" + ("" if given_text in message else f" (got {given_text})"))
    return given


def _render(document: dict, workload: str, driver: str, warnings: list[Problem]) -> str:
    """The scenario as YAML with a header saying where it came from and what was left out."""
    header = [
        f"{_HEADER} from OpenMessaging Benchmark files:",
        f"#   workload: {workload}",
        f"#   driver:   {driver}",
        "# producerRate is OMB's total over all topics, split evenly per topic; each",
        "# subscription is a consumer group on one topic; run = warm-up + test duration"
        + (" (test alone with consumerBacklogSizeGB)." if _has_backlog(document) else "."),
        "# Topic and group names drop OMB's random suffixes so the import is reproducible.",
    ]
    if warnings:
        header.append("# Not carried over (see the warnings when importing):")
        header.extend(f"#   - {w.source}:{w.line}: {w.message}" for w in warnings)
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    notes = dict(_SECTION_NOTES)
    if _has_backlog(document):
        notes.update(_BACKLOG_NOTES)
    lines = []
    for line in body.splitlines():
        section = line.split(":", 1)[0]
        if section in notes and not line.startswith(" "):
            lines.append("")
            lines.append(f"# {notes[section]}")
        lines.append(line)
    return "\n".join(header) + "\n\n" + "\n".join(lines) + "\n"


_SECTION_NOTES = {
    "cluster": "OMB does not describe the brokers: from --brokers/--racks/--cluster and the hardware flags",
    "topics": "topics x partitionsPerTopic; driver replicationFactor and topicConfig",
    "producers": "producersPerTopic producers per topic; messageSize; keyDistributor; driver producerConfig",
    "consumer_groups": "subscriptionsPerTopic groups per topic of consumerPerSubscription members; consumerConfig",
    "run": "warmupDurationMinutes (OMB default 1) + testDurationMinutes",
    "targets": "OMB's producerRate is the rate the benchmark must sustain",
}


# consumerBacklogSizeGB > 0: the backlog is each topic's prefill at t=0 (see
# simkafka.scenario.importers.omb), which changes what the topics, groups and run say
_BACKLOG_NOTES = {
    "topics": _SECTION_NOTES["topics"] + "; prefill: consumerBacklogSizeGB over the topics",
    "consumer_groups": _SECTION_NOTES["consumer_groups"] + "; from earliest, to read the backlog",
    "run": "testDurationMinutes alone: the backlog is there at t=0, a warm-up would hide its catch-up",
}


def _has_backlog(document: dict) -> bool:
    return any(topic.get("prefill") for topic in document["topics"])


_HEADER = "# Imported by `simkafka import omb`"


def _is_import(path: Path) -> bool:
    """A scenario an earlier ``simkafka import omb`` wrote (it starts with :data:`_HEADER`)."""
    return file_head(path, len(_HEADER)) == _HEADER


# Keys only one of OMB's two files has: a workload (workloads/*.yaml, class Workload) and a
# driver (driver-kafka/*.yaml, class Config of the Kafka driver).
_WORKLOAD_KEYS = frozenset(
    {
        "topics",
        "partitionsPerTopic",
        "messageSize",
        "payloadFile",
        "subscriptionsPerTopic",
        "consumerPerSubscription",
        "producersPerTopic",
        "producerRate",
        "consumerBacklogSizeGB",
        "testDurationMinutes",
        "warmupDurationMinutes",
        "keyDistributor",
    }
)
_DRIVER_KEYS = frozenset(
    {
        "driverClass",
        "replicationFactor",
        "reset",
        "topicConfig",
        "commonConfig",
        "producerConfig",
        "consumerConfig",
    }
)


def _omb_kind(path: str) -> str | None:
    """ "workload" or "driver" when the file's keys say so plainly, else ``None``."""
    try:
        # the bounded reader: this look runs before the importer's own checks of the file
        data, _ = read_yaml_with_positions(read_scenario_text(path), path)
    except ScenarioError:
        return None  # the importer reports unreadable files itself
    if not isinstance(data, dict):
        return None
    keys = {str(k) for k in data}
    workload, driver = len(keys & _WORKLOAD_KEYS), len(keys & _DRIVER_KEYS)
    if workload > driver:
        return "workload"
    if driver > workload:
        return "driver"
    return None


def _check_file_order(workload: str, driver: str) -> None:
    """One line and exit 2 if the two files are given the wrong way round (or twice the same kind)."""
    first, second = _omb_kind(workload), _omb_kind(driver)
    if first == "driver" and second == "workload":
        fail(
            f"the files look swapped: give the workload first ({workload} is a driver file, "
            f"{driver} a workload): simkafka import omb {driver} {workload} -o ..."
        )
    if first == "driver":
        fail(f"{workload}: looks like an OMB driver file (driverClass...), not a workload")
    if second == "workload":
        fail(f"{driver}: looks like an OMB workload file (topics, producerRate...), not a driver")


@click.group("import", context_settings={"help_option_names": ["-h", "--help"]})
def import_group() -> None:
    """Build a scenario from another tool's benchmark configuration."""


@import_group.command("omb")
@click.argument("workload", type=click.Path(dir_okay=False))
@click.argument("driver", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False), help="Scenario file to write."
)
@click.option(
    "--brokers",
    type=click.IntRange(min=1),
    default=None,
    help="Number of brokers (default: the replication factor, at least 3).",
)
@click.option(
    "--racks", default=None, help="Comma-separated rack names, dealt to brokers round-robin."
)
@click.option(
    "--cluster",
    "cluster_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A YAML file with the whole cluster section (overrides --brokers/--racks/hardware).",
)
@click.option("--nic", default=None, help="Broker NIC bandwidth per direction, e.g. 10Gbps.")
@click.option("--disk-write", default=None, help="Broker disk write bandwidth, e.g. 500MB/s.")
@click.option("--disk-read", default=None, help="Broker disk read bandwidth, e.g. 1GB/s.")
@click.option("--cpu-cores", type=click.IntRange(min=1), default=None, help="Broker CPU cores.")
@click.option("--page-cache", default=None, help="Broker page cache, e.g. 16GiB.")
@click.option("--name", default=None, help="Scenario name (default: from the workload's name).")
@click.option("--force", is_flag=True, help="Overwrite an output file an earlier import wrote.")
def omb(
    workload: str,
    driver: str,
    output: str,
    brokers: int | None,
    racks: str | None,
    cluster_file: str | None,
    nic: str | None,
    disk_write: str | None,
    disk_read: str | None,
    cpu_cores: int | None,
    page_cache: str | None,
    name: str | None,
    force: bool,
) -> None:
    """Import an OpenMessaging Benchmark WORKLOAD and Kafka DRIVER file as a scenario."""
    out = Path(output)
    with own_output():
        check_own_file(out, is_ours=_is_import, force=force)
    if name is not None and unsafe_name_reason(name) is not None:
        # the name becomes reports/<name>/ when the scenario runs
        fail(f"--name {name!r}: {unsafe_name_reason(name)}; try --name {suggest_name(name)}")
    _check_file_order(workload, driver)
    hardware = _hardware(
        {
            "nic": nic,
            "disk_write": disk_write,
            "disk_read": disk_read,
            "cpu_cores": cpu_cores,
            "page_cache": page_cache,
        }
    )
    rack_list = [r.strip() for r in racks.split(",") if r.strip()] if racks else None
    try:
        cluster = _read_cluster(cluster_file) if cluster_file else None
        document, warnings = import_omb_with_warnings(
            workload,
            driver,
            hardware=hardware,
            brokers=brokers,
            racks=rack_list,
            cluster=cluster,
            name=name,
        )
        text = _render(document, workload, driver, warnings)
        # what we write must load exactly as `simkafka check` will load it
        parse_scenario_with_warnings(text, output)
    except ScenarioError as exc:
        fail(str(exc))
    for warning in warnings:
        warn(str(warning))
    with own_output(cannot_write=f"{output}: cannot write"):
        write_own_text(out, text, command="import omb", is_ours=_is_import, force=force)
    console.print(
        f"[green]wrote[/green] {output}: {len(document['topics'])} topic(s), "
        f"{len(document['consumer_groups'])} consumer group(s); check it with `simkafka check {output}`"
    )
