"""A scenario's first producer on one partition, as a :class:`ValidationWorkload`.

The validation runs one partition of one topic: the producer group's rate divided by the
topic's partition count, batched as the producer would batch it, for the scenario's
``run.duration`` (capped by ``max_bytes`` so a validation fits on a laptop disk). What
does not translate exactly is returned as notes, printed beside the table:

* batches hold ``min(records that fit in batch.size, records arriving per linger.ms)``
  records (at least one) -- the producer's real batching depends on its sender timing;
* sizes are the distribution's *mean* (the model is exact for ``fixed`` sizes);
* keys are round-robin over ``keys.count`` fixed-width keys as wide as the widest
  ``key-<i>`` (the scenario's ``key-<i>`` names vary in width, and its uniform/zipf
  choice of key only matters to compaction, which the model predicts for round-robin);
* batches are written uncompressed (the harness measures the structure, not a codec).
"""

from __future__ import annotations

import math

from simkafka.kafka_version import MODELLED_RELEASE, KafkaRelease
from simkafka.log.log_config import LogConfig
from simkafka.scenario import Scenario
from simkafka.sim.storage import DEFAULT_RETENTION_CHECK_INTERVAL_MS, StorageWorkload, batch_size
from simkafka.validate.harness import ValidationWorkload

__all__ = ["DEFAULT_MAX_BYTES", "log_config_of", "workload_from_scenario"]

#: Default cap on the bytes a validation run writes.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
_MIB = 1024 * 1024


def _ms(seconds: float) -> int:
    return -1 if math.isinf(seconds) else int(round(seconds * 1000))


def log_config_of(topic: object, kafka_release: KafkaRelease = MODELLED_RELEASE) -> LogConfig:
    """The topic's ``LogConfig`` under the scenario's Kafka release.

    The scenario loader already holds ``segment.bytes`` to that release's minimum (1 MiB
    in 4.1, 14 bytes in 4.0.0), so it goes through as ``segment.bytes``.
    """
    kwargs: dict[str, object] = {
        "segment_bytes": int(topic.segment_bytes),  # type: ignore[attr-defined]
        "segment_ms": _ms(topic.segment),  # type: ignore[attr-defined]
        "retention_ms": _ms(topic.retention),  # type: ignore[attr-defined]
        "retention_bytes": -1
        if math.isinf(topic.retention_bytes)  # type: ignore[attr-defined]
        else int(topic.retention_bytes),  # type: ignore[attr-defined]
        "index_interval_bytes": int(topic.index_interval_bytes),  # type: ignore[attr-defined]
        "cleanup_policy": tuple(topic.cleanup_policy),  # type: ignore[attr-defined]
        "delete_retention_ms": _ms(topic.delete_retention),  # type: ignore[attr-defined]
        "min_cleanable_dirty_ratio": float(topic.min_cleanable_dirty_ratio),  # type: ignore[attr-defined]
        "max_message_bytes": int(topic.max_message_bytes),  # type: ignore[attr-defined]
    }
    return LogConfig(kafka_release=kafka_release, **kwargs)  # type: ignore[arg-type]


def workload_from_scenario(
    scenario: Scenario,
    *,
    topic: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    retention_check_interval_ms: int = DEFAULT_RETENTION_CHECK_INTERVAL_MS,
) -> tuple[ValidationWorkload, list[str]]:
    """One partition of ``topic`` (default: the first producer's) under its producer's load."""
    producers = [p for p in scenario.producers if topic is None or p.topic == topic]
    if not producers:
        where = f" on topic {topic!r}" if topic else ""
        raise ValueError(f"the scenario has no producer{where} to validate with")
    producer = producers[0]
    spec = scenario.topic(producer.topic)
    notes: list[str] = []
    value = int(round(producer.message_size.mean))
    if producer.message_size.distribution != "fixed":
        notes.append(f"message sizes: the {producer.message_size.distribution} mean, {value} B")
    key_bytes = key_count = None
    if producer.keys.keyed:
        key_count = int(producer.keys.count)  # type: ignore[arg-type]
        key_bytes = len(f"key-{key_count - 1}")
        notes.append(f"keys: {key_count} round-robin keys of {key_bytes} B")
    if producer.compression_type != "none":
        notes.append(f"compression.type {producer.compression_type}: batches written uncompressed")
    if producer.rate.is_max:
        raise ValueError(
            "the producer's rate is 'max': the log engine replays a given rate; give the "
            "rate the simulator reported (its summary's produce_msgs_per_s)"
        )
    rate = producer.rate.messages(producer.message_size.mean) / spec.partitions
    if rate <= 0:
        raise ValueError("the producer's rate is 0: nothing to validate")
    fit = 1
    while batch_size(fit + 1, key_bytes, value) <= producer.batch_size and fit < 100_000:
        fit += 1
    per_linger = math.floor(rate * producer.linger) if producer.linger > 0 else 1
    k = max(1, min(fit, per_linger))
    interval = max(1, int(round(1000 * k / rate)))
    duration_ms = int(round(scenario.run.duration * 1000))
    b = batch_size(k, key_bytes, value)
    batches = max(1, duration_ms // interval)
    if batches * b > max_bytes:
        batches = max(1, max_bytes // b)
        duration_ms = (batches - 1) * interval
        notes.append(f"capped at {batches} batches ({batches * b / _MIB:.1f} MiB, --max-bytes)")
    storage = StorageWorkload(
        value_bytes=value,
        records_per_batch=k,
        batches=batches,
        batch_interval_ms=interval,
        key_bytes=key_bytes,
        key_count=key_count,
        duration_ms=max(duration_ms, (batches - 1) * interval),
        retention_check_interval_ms=retention_check_interval_ms,
    )
    hardware = scenario.cluster.hardware_of(scenario.cluster.brokers[0].id)
    costs = scenario.costs.broker
    workload = ValidationWorkload(
        storage=storage,
        config=log_config_of(spec, scenario.cluster.kafka_version),
        disk_write=float(hardware.disk_write),
        page_cache=float(hardware.page_cache),
        cache_write=1 / costs.byte_cpu if costs.byte_cpu > 0 else math.inf,
        per_batch_seconds=float(costs.request_cpu),
    )
    notes.insert(
        0,
        f"{producer.topic}-0: {k} records of {value} B per batch ({b} B), one every "
        f"{interval} ms, {batches} batches",
    )
    return workload, notes
