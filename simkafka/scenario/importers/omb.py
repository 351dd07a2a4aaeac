"""OpenMessaging Benchmark (OMB) workload + Kafka driver files -> a scenario document.

What OMB does, from ``io.openmessaging.benchmark.WorkloadGenerator`` and
``worker.LocalWorker`` (openmessaging/benchmark), and how each piece maps here:

* ``topics`` topics of ``partitionsPerTopic`` partitions, named
  ``<prefix>-%07d-<random>`` with the Kafka driver's prefix ``test-topic``
  (``LocalWorker.generateTopicName``). The random suffix is dropped so that an import
  is reproducible: ``test-topic-0000000``, ``test-topic-0000001``...
* ``producerRate`` is the *total* publish rate of the whole test: it becomes
  ``targetPublishRate`` and is divided among all producers of all topics. Each topic
  therefore gets ``producerRate / topics`` messages/s, spread over ``producersPerTopic``
  producers. ``producerRate: 0`` asks OMB to search for the maximum sustainable rate:
  it becomes ``rate: max`` (every producer as fast as its threads and the cluster let it,
  as kafka-producer-perf-test ``--throughput -1``), with a warning that the run's
  sustainability line, not OMB's search, says whether the consumers keep up.
* For each topic, ``subscriptionsPerTopic`` subscriptions, each a Kafka consumer group
  (``sub-%03d-<random>``) of ``consumerPerSubscription`` consumers reading that topic
  only. Group ids here are ``sub-<i>-<topic>``.
* ``keyDistributor``: OMB draws keys from a fixed pool of 10,000 random keys
  (``KeyDistributor.UNIQUE_COUNT``). ``NO_KEY`` -> no key (sticky partitioner);
  ``KEY_ROUND_ROBIN`` cycles through the pool in order -> ``sequential`` over 10,000;
  ``RANDOM_NANO`` picks ``abs((int) nanoTime % 10000)`` -> ``uniform`` over 10,000.
* ``warmupDurationMinutes`` (default 1, the warm-up OMB runs before measuring) and
  ``testDurationMinutes`` -> ``run.warmup`` and ``run.duration = warm-up + test``.
* ``consumerBacklogSizeGB > 0`` (``buildAndDrainBacklog``): after the warm-up OMB pauses
  the consumers, produces until ``subscriptionsPerTopic x messages sent - messages
  received``, times ``messageSize``, reaches ``consumerBacklogSizeGB x 1024^3`` bytes, then
  resumes them to drain it while the producers go on. Here every topic starts with that
  backlog as its ``prefill`` (see :func:`_backlog_prefill`), the groups start from
  ``earliest`` to read it, and the run is the test alone (no warm-up), so the catch-up is in
  the summary as it is in OMB's measured window. OMB builds the backlog while producing;
  here it is on disk at t=0, so the build phase is not simulated (a warning says so).
  OMB refuses a backlog with ``producerRate: 0``, and so does the import.
* Driver ``replicationFactor`` and ``topicConfig`` -> every topic; ``producerConfig`` ->
  every producer; ``consumerConfig`` -> every group; ``commonConfig`` -> both clients.
  Each properties key the schema knows is copied under its Kafka name (the schema
  parses and checks the value); every other key is reported as a warning, never
  silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simkafka.scenario.checks import find_contradictions
from simkafka.scenario.errors import PathElement, Problem, ScenarioError
from simkafka.scenario.importers.java_properties import PropertiesError, parse_properties
from simkafka.scenario.loader import (
    allowed_keys,
    position_of,
    problems_from_validation,
    read_yaml_with_positions,
)
from simkafka.scenario.model import Scenario
from simkafka.scenario.reading import read_scenario_text
from simkafka.scenario.topic import Topic
from simkafka.scenario.workload import ConsumerGroupSpec, ProducerSpec

TOPIC_PREFIX = "test-topic"  # KafkaBenchmarkDriver.getTopicNamePrefix
KEY_POOL = 10_000  # KeyDistributor.UNIQUE_COUNT
KEY_DISTRIBUTORS = {
    "NO_KEY": None,
    "KEY_ROUND_ROBIN": "sequential",
    "RANDOM_NANO": "uniform",
}
DEFAULT_WARMUP_MINUTES = 1

# Workload fields OMB has that change nothing a scenario can express.
_IGNORED_QUIETLY = {"name", "payloadFile"}
# Workload fields that change nothing while they hold OMB's default value (Workload.java);
# any other value is reported. Randomised payloads, for one, change compressibility.
_QUIET_AT_DEFAULT = {
    "useRandomizedPayloads": False,
    "randomBytesRatio": 0.0,
    "randomizedPayloadPoolSize": 0,
    "backlogDrainRatio": 1.0,
    "producerPauseBeforeDrain": 0,
    "producerPauseDuringDrain": 0,
}
# Driver fields with no effect on the simulated cluster.
_DRIVER_IGNORED_QUIETLY = {"name", "driverClass", "reset"}

_TOPIC_KEYS = set(allowed_keys(Topic)) - {
    "name",
    "partitions",
    "replication.factor",
    "replica.assignment",
}
_PRODUCER_KEYS = set(allowed_keys(ProducerSpec)) - {
    "name",
    "topic",
    "count",
    "rate",
    "profile",
    "message_size",
    "keys",
    "compression_ratio",
}
_CONSUMER_KEYS = set(allowed_keys(ConsumerGroupSpec)) - {
    "group.id",
    "topics",
    "members",
    "processing_time_per_record",
}


class _Source:
    """One input file: its name, parsed data and the line of every key."""

    def __init__(self, path: str | Path, kind: str):
        self.name = str(path)
        text = read_scenario_text(path, f"{kind} file")  # bounded: size, file kind, UTF-8
        self.data, self.positions = read_yaml_with_positions(text, self.name)
        if not isinstance(self.data, dict):
            raise ScenarioError(
                [Problem(self.name, 1, 1, (), f"an OMB {kind} file is a mapping of fields")]
            )

    def problem(
        self,
        field: str,
        message: str,
        hint: str | None = None,
        *,
        line: int | None = None,
        warning: bool = False,
    ) -> Problem:
        if line is None:
            line, col = position_of((field,), self.positions)
        else:
            col = None
        return Problem(self.name, line, col, (field,), message, hint, warning)


def _integer(
    src: _Source, field: str, errors: list[Problem], *, minimum: int, default: int | None = None
) -> int:
    value = src.data.get(field, default)
    if value is None:
        errors.append(src.problem(field, "required field is missing"))
        return minimum
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(src.problem(field, f"expected a whole number, got {value!r}"))
        return minimum
    if value < minimum:
        errors.append(src.problem(field, f"must be >= {minimum}, got {value}"))
        return minimum
    return value


def _properties(
    src: _Source, field: str, errors: list[Problem]
) -> dict[str, tuple[str, int | None]]:
    """Parse an embedded properties block; lines are mapped to lines of the YAML file."""
    text = src.data.get(field)
    if text is None:
        return {}
    if not isinstance(text, str):
        errors.append(
            src.problem(field, "expected Java properties text (a `|` block of key=value lines)")
        )
        return {}
    key_line, _ = position_of((field,), src.positions)
    # a `|` block starts on the line after its key, so property line n is key_line + n
    try:
        parsed = parse_properties(text)
    except PropertiesError as exc:
        line = key_line + exc.line if key_line is not None else None
        errors.append(src.problem(field, exc.message, line=line))
        return {}
    return {k: (v, key_line + n if key_line is not None else None) for k, (v, n) in parsed.items()}


def _copy_supported(
    src: _Source,
    field: str,
    props: Mapping[str, tuple[str, int | None]],
    supported: set[str],
    target: dict[str, Any],
    where: dict[str, tuple[str, int | None, str]],
    warnings: list[Problem],
    what: str,
) -> None:
    for key, (value, line) in props.items():
        if key in supported:
            target[key] = _typed(value)
            where[key] = (src.name, line, f"{field}.{key}")
        else:
            warnings.append(
                src.problem(
                    field,
                    f"{key}={value}: not modelled for {what}; ignored",
                    line=line,
                    warning=True,
                )
            )


def _typed(value: str) -> object:
    """Properties values are text; write numbers and booleans as YAML scalars.

    Kafka's ConfigDef parses BOOLEAN case-insensitively and INT/LONG as decimal text; the
    schema re-checks every value, this only makes the written scenario read naturally.
    """
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "omb-import"


def import_omb_with_warnings(
    workload_path: str | Path,
    driver_path: str | Path,
    *,
    hardware: dict | None = None,
    brokers: int | None = None,
    racks: list[str] | None = None,
    cluster: dict | None = None,
    name: str | None = None,
) -> tuple[dict, list[Problem]]:
    """Build a validated scenario document and the warnings for what could not be mapped.

    ``cluster`` is a whole ``cluster:`` section (e.g. from ``--cluster cluster.yaml``);
    otherwise one is made of ``brokers`` (default: the replication factor, at least 3),
    ``racks`` and ``hardware``. Raises :class:`ScenarioError` naming file, line and field.
    """
    workload, driver = _Source(workload_path, "workload"), _Source(driver_path, "driver")
    errors: list[Problem] = []
    warnings: list[Problem] = []

    topics = _integer(workload, "topics", errors, minimum=1)
    partitions = _integer(workload, "partitionsPerTopic", errors, minimum=1)
    message_size = _integer(workload, "messageSize", errors, minimum=1)
    producers_per_topic = _integer(workload, "producersPerTopic", errors, minimum=1)
    subscriptions = _integer(workload, "subscriptionsPerTopic", errors, minimum=0)
    consumers_per_subscription = _integer(workload, "consumerPerSubscription", errors, minimum=0)
    test_minutes = _integer(workload, "testDurationMinutes", errors, minimum=1)
    warmup_minutes = _integer(
        workload, "warmupDurationMinutes", errors, minimum=0, default=DEFAULT_WARMUP_MINUTES
    )
    backlog_gb = _integer(workload, "consumerBacklogSizeGB", errors, minimum=0, default=0)

    rate = workload.data.get("producerRate")
    if rate is None:
        errors.append(workload.problem("producerRate", "required field is missing"))
    elif isinstance(rate, bool) or not isinstance(rate, (int, float)):
        errors.append(
            workload.problem("producerRate", f"expected messages/s as a number, got {rate!r}")
        )
    elif rate < 0:
        errors.append(
            workload.problem(
                "producerRate",
                f"must be >= 0, got {rate}",
                "0 asks for the maximum rate; otherwise give the messages/s to simulate",
            )
        )
    elif rate == 0:
        warnings.append(
            workload.problem(
                "producerRate",
                "producerRate 0 asks OMB to search for the maximum sustainable rate; the producers "
                "run at rate: max instead (as fast as their threads and the cluster allow), and the "
                "run's sustainability line says whether the consumers keep up",
                warning=True,
            )
        )

    distributor = workload.data.get("keyDistributor", "NO_KEY")
    if distributor not in KEY_DISTRIBUTORS:
        errors.append(
            workload.problem(
                "keyDistributor",
                f"unknown key distributor {distributor!r}",
                "one of: " + ", ".join(KEY_DISTRIBUTORS),
            )
        )

    if backlog_gb and rate == 0:
        # WorkloadGenerator's constructor: IllegalArgumentException
        errors.append(
            workload.problem(
                "consumerBacklogSizeGB",
                'OMB refuses a backlog with producerRate 0: "Cannot probe producer sustainable '
                'rate when building backlog"',
                "give producerRate the messages/s to produce, or set consumerBacklogSizeGB: 0",
            )
        )
    known = {
        "topics",
        "partitionsPerTopic",
        "messageSize",
        "producersPerTopic",
        "subscriptionsPerTopic",
        "consumerPerSubscription",
        "testDurationMinutes",
        "warmupDurationMinutes",
        "consumerBacklogSizeGB",
        "producerRate",
        "keyDistributor",
    } | _IGNORED_QUIETLY
    for field, value in workload.data.items():
        if field in _QUIET_AT_DEFAULT and value == _QUIET_AT_DEFAULT[field]:
            continue
        if field not in known:
            warnings.append(
                workload.problem(
                    str(field), f"OMB field {field!r} is not modelled; ignored", warning=True
                )
            )

    rf = _integer(driver, "replicationFactor", errors, minimum=1)
    topic_props = _properties(driver, "topicConfig", errors)
    common_props = _properties(driver, "commonConfig", errors)
    producer_props = _properties(driver, "producerConfig", errors)
    consumer_props = _properties(driver, "consumerConfig", errors)
    for field in driver.data:
        if (
            field
            not in {
                "replicationFactor",
                "topicConfig",
                "commonConfig",
                "producerConfig",
                "consumerConfig",
            }
            | _DRIVER_IGNORED_QUIETLY
        ):
            warnings.append(
                driver.problem(
                    str(field), f"driver field {field!r} is not modelled; ignored", warning=True
                )
            )
    if errors:
        raise ScenarioError(errors)

    # where each generated value came from, so schema errors point into the OMB files
    where: dict[str, tuple[str, int | None, str]] = {}
    topic_cfg: dict[str, Any] = {}
    producer_cfg: dict[str, Any] = {}
    consumer_cfg: dict[str, Any] = {}
    _copy_supported(
        driver, "topicConfig", topic_props, _TOPIC_KEYS, topic_cfg, where, warnings, "topics"
    )
    # commonConfig goes to both clients (KafkaBenchmarkDriver loads it into both
    # Properties before the client-specific block, which overrides it)
    for key, (value, line) in common_props.items():
        if key in _PRODUCER_KEYS and key not in producer_props:
            producer_props[key] = (value, line)
        if key in _CONSUMER_KEYS and key not in consumer_props:
            consumer_props[key] = (value, line)
        if key not in _PRODUCER_KEYS and key not in _CONSUMER_KEYS:
            warnings.append(
                driver.problem(
                    "commonConfig", f"{key}={value}: not modelled; ignored", line=line, warning=True
                )
            )
    producer_props = {
        k: v for k, v in producer_props.items() if k in _PRODUCER_KEYS or k not in common_props
    }
    consumer_props = {
        k: v for k, v in consumer_props.items() if k in _CONSUMER_KEYS or k not in common_props
    }
    _copy_supported(
        driver,
        "producerConfig",
        producer_props,
        _PRODUCER_KEYS,
        producer_cfg,
        where,
        warnings,
        "producers",
    )
    if "group.id" in consumer_props:
        warnings.append(
            driver.problem(
                "consumerConfig",
                "group.id is set per subscription by OMB; ignored",
                line=consumer_props.pop("group.id")[1],
                warning=True,
            )
        )
    _copy_supported(
        driver,
        "consumerConfig",
        consumer_props,
        _CONSUMER_KEYS,
        consumer_cfg,
        where,
        warnings,
        "consumer groups",
    )

    topic_names = [f"{TOPIC_PREFIX}-{i:07d}" for i in range(topics)]
    backlog = backlog_gb > 0 and subscriptions > 0 and consumers_per_subscription > 0
    if backlog_gb and not backlog:
        warnings.append(
            workload.problem(
                "consumerBacklogSizeGB",
                f"{backlog_gb} GB backlog ignored: with no consumers there is no one to read it "
                "(OMB's producers write it all the same)",
                warning=True,
            )
        )
    if backlog:
        # OMB's consumers subscribe before anything is produced (ensureTopicsAreReady) and
        # only pause for the backlog, so they read it whatever auto.offset.reset says; a
        # prefill is older than any group here, so only `earliest` reads it.
        reset = consumer_cfg.get("auto.offset.reset", "latest")
        if reset != "earliest":
            source, line, _field = where.get("auto.offset.reset", (driver.name, None, ""))
            warnings.append(
                Problem(
                    source,
                    line,
                    None,
                    ("consumerConfig",),
                    f"auto.offset.reset={reset}: the groups start from earliest instead, so "
                    "that they read the consumerBacklogSizeGB backlog as OMB's consumers do",
                    warning=True,
                )
            )
            where.pop("auto.offset.reset", None)
        consumer_cfg["auto.offset.reset"] = "earliest"
    key_kind = KEY_DISTRIBUTORS[distributor]
    keys: dict[str, Any] = (
        {"distribution": "none"}
        if key_kind is None
        else {"distribution": key_kind, "count": KEY_POOL}
    )
    max_rate = rate == 0
    per_topic_rate = float(rate) / topics
    workload_name = str(workload.data.get("name") or Path(workload_path).stem)

    if cluster is None:
        count = brokers if brokers is not None else max(3, rf)
        cluster = {"brokers": count}
        if racks:
            cluster["racks"] = list(racks)
        if hardware:
            cluster["hardware"] = dict(hardware)

    document: dict[str, Any] = {
        "name": name or _slug(workload_name),
        "description": f"Imported from OpenMessaging Benchmark workload {workload_name!r} "
        f"({Path(workload_path).name}) with driver {Path(driver_path).name}.",
        "cluster": cluster,
        "topics": [
            {"name": t, "partitions": partitions, "replication.factor": rf, **topic_cfg}
            for t in topic_names
        ],
        "producers": [
            {
                "name": f"producers-{t}",
                "topic": t,
                "count": producers_per_topic,
                "rate": "max" if max_rate else f"{per_topic_rate:g} msg/s",
                "message_size": message_size,
                "keys": dict(keys),
                **producer_cfg,
            }
            for t in topic_names
        ],
        "consumer_groups": [
            {
                "group.id": f"sub-{i:03d}-{t}",
                "topics": [t],
                "members": consumers_per_subscription,
                **consumer_cfg,
            }
            for t in topic_names
            for i in range(subscriptions)
        ]
        if consumers_per_subscription
        else [],
        "run": {
            "duration": f"{warmup_minutes + test_minutes}min",
            "warmup": f"{warmup_minutes}min",
        },
        "targets": {} if max_rate else {"produce_throughput": f"{float(rate):g} msg/s"},
    }
    if backlog:
        prefill = _backlog_prefill(backlog_gb, topics, subscriptions, document["producers"][0])
        for topic in document["topics"]:
            topic["prefill"] = prefill
        # OMB measures from the end of its warm-up, and the backlog is built and drained
        # inside that window; here the backlog is there at t=0, so a warm-up would hide the
        # catch-up from the summary. The run is OMB's measured window alone.
        document["run"] = {"duration": f"{test_minutes}min"}
        warnings.append(
            workload.problem(
                "consumerBacklogSizeGB",
                f"approximated: OMB pauses the consumers after the warm-up, produces until "
                f"{backlog_gb} GiB is unread over all subscriptions, then resumes them; here each "
                f"topic starts with prefill {prefill} bytes ({backlog_gb} x 1024^3 / "
                f"({subscriptions} subscription(s) x {topics} topic(s)), as the producer's codec "
                "stores it) on disk, read from earliest while the producers go on, and the run is "
                f"the {test_minutes} min test without warm-up: OMB's build phase (producing with "
                "the consumers paused) is not simulated",
                warning=True,
            )
        )
    if subscriptions and not consumers_per_subscription:
        warnings.append(
            workload.problem(
                "consumerPerSubscription",
                "0 consumers per subscription: no consumer groups are created",
                warning=True,
            )
        )
    _validate(document, where, workload, driver)
    return document, warnings


def _backlog_prefill(backlog_gb: int, topics: int, subscriptions: int, producer: dict) -> int:
    """Bytes of ``prefill`` per topic standing for OMB's ``consumerBacklogSizeGB``.

    ``buildAndDrainBacklog`` stops at ``consumerBacklogSizeGB * 1024 * 1024 * 1024`` bytes
    of ``(subscriptionsPerTopic * messagesSent - messagesReceived) * messageSize``: every
    subscription of a topic owes each message once, so the messages in the topics are that
    many bytes of payload divided by the subscriptions per topic, spread evenly over the
    topics (OMB's producers share one rate over all of them). ``prefill`` is what the log
    holds, after compression, so the payload is scaled by the producer's compression
    ratio. Not scaled: each record's headers (tens of bytes), so the prefill holds slightly
    fewer messages than OMB's backlog (1 % fewer at 1 KiB uncompressed).
    """
    payload = backlog_gb * 1024**3 / (subscriptions * topics)
    try:
        ratio = ProducerSpec.model_validate(producer).effective_compression_ratio
    except ValidationError:
        ratio = 1.0  # the whole document's validation reports the bad producer setting
    return int(round(payload * ratio))


def _validate(
    document: dict,
    where: dict[str, tuple[str, int | None, str]],
    workload: _Source,
    driver: _Source,
) -> None:
    """Validate with the scenario schema; report problems at the OMB field they came from."""
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as exc:
        raw = problems_from_validation(exc, document, {}, "<generated>")
        raise ScenarioError(
            [_locate(p.path, p.message, p.hint, where, workload, driver) for p in raw]
        ) from None
    found = [f for f in find_contradictions(scenario, document) if not f[3]]
    if found:
        raise ScenarioError(
            [
                _locate(path, message, hint, where, workload, driver)
                for path, message, hint, _ in found
            ]
        )


_WORKLOAD_ORIGIN = {
    "partitions": "partitionsPerTopic",
    "count": "producersPerTopic",
    "rate": "producerRate",
    "message_size": "messageSize",
    "members": "consumerPerSubscription",
    "duration": "testDurationMinutes",
    "warmup": "warmupDurationMinutes",
}


def _locate(
    path: tuple[PathElement, ...],
    message: str,
    hint: str | None,
    where: dict[str, tuple[str, int | None, str]],
    workload: _Source,
    driver: _Source,
) -> Problem:
    keys = [p for p in path if isinstance(p, str)]
    for key in reversed(keys):
        if key in where:
            source, line, field = where[key]
            return Problem(source, line, None, (field,), message, hint)
        if key == "replication.factor":
            return driver.problem("replicationFactor", message, hint)
        if key in _WORKLOAD_ORIGIN:
            return workload.problem(_WORKLOAD_ORIGIN[key], message, hint)
    return Problem(workload.name, None, None, tuple(path), message, hint)


def import_omb(
    workload_path: str | Path,
    driver_path: str | Path,
    *,
    hardware: dict | None = None,
    brokers: int | None = None,
    racks: list[str] | None = None,
    cluster: dict | None = None,
    name: str | None = None,
) -> dict:
    """Build a validated scenario document (a plain dict in the scenario schema)."""
    document, _warnings = import_omb_with_warnings(
        workload_path,
        driver_path,
        hardware=hardware,
        brokers=brokers,
        racks=racks,
        cluster=cluster,
        name=name,
    )
    return document
