"""What the engines need of a scenario, asserted before anything is built.

The scenario loader refuses nonsense with a file, line and field; the engines do not
trust that every caller went through it (a ``model_copy`` with overrides, a planner
sweep, a scenario built in code). A value that would reach a division, a capacity or a
native array size out of range -- a zero or negative bandwidth, a NaN latency, a
``batch.size`` beyond Kafka's int32 -- stops the run here with one clear line naming the
field, instead of a ``ZeroDivisionError`` deep in the network or a run that reports 0
msg/s as if that were a result.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from simkafka.scenario import BrokerHardware, Cluster, Scenario

INT32_MAX = 2**31 - 1  # Kafka's INT configs (batch.size, max.request.size, fetch sizes)
INT64_MAX = 2**63 - 1  # Kafka's LONG configs (buffer.memory)


class RunRefused(ValueError):
    """The scenario cannot be simulated as it is; the message says which field and why
    (or, from :mod:`simkafka.sim.budget`, how big the run would be)."""


HARDWARE_OVERRIDES = (
    "nic", "nic_in", "nic_out", "disk_write", "disk_read", "cpu_cores", "page_cache", "log_dirs"
)


def hardware_by_broker(cluster: Cluster) -> dict[int, BrokerHardware]:
    """Every broker's hardware (the cluster's, with the broker's overrides) in one pass.

    ``Cluster.hardware_of`` finds the broker by a search of the broker list: called once
    per broker it made building a 120,000-broker cluster quadratic (a "hang" before the
    first event).
    """
    out = {}
    for spec in cluster.brokers:
        overrides = {
            name: getattr(spec, name)
            for name in HARDWARE_OVERRIDES
            if getattr(spec, name) is not None
        }
        out[spec.id] = cluster.hardware.model_copy(update=overrides) if overrides else cluster.hardware
    return out


def _path(*parts: str | int) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + part
    return text


def _bad_number(value: float, *, positive: bool, infinite_ok: bool = False) -> str | None:
    """Why ``value`` cannot be used, or None."""
    if isinstance(value, float) and math.isnan(value):
        return "is NaN"
    if math.isinf(value) and not (infinite_ok and value > 0):
        return "is infinite"
    if positive and value <= 0:
        return "must be above zero"
    if value < 0:
        return "must not be negative"
    return None


def _problems(scenario: Scenario) -> Iterator[str]:
    cluster = scenario.cluster
    hardware_fields = ("nic", "nic_in", "nic_out", "disk_write", "disk_read", "page_cache")
    for name in hardware_fields:
        value = getattr(cluster.hardware, name)
        if value is not None:
            why = _bad_number(value, positive=name != "page_cache")
            if why:
                yield f"{_path('cluster', 'hardware', name)} {why} (got {value!r})"
    for i, broker in enumerate(cluster.brokers):
        for name in hardware_fields:
            value = getattr(broker, name)
            if value is not None:
                why = _bad_number(value, positive=name != "page_cache")
                if why:
                    yield f"{_path('cluster', 'brokers', i, name)} {why} (got {value!r})"
    for name in ("rack_latency", "cross_rack_latency", "client_latency"):
        value = getattr(cluster.network, name)
        why = _bad_number(value, positive=False)
        if why:
            yield f"{_path('cluster', 'network', name)} {why} (got {value!r})"
    why = _bad_number(cluster.clients.nic, positive=True)
    if why:
        yield f"cluster.clients.nic {why} (got {cluster.clients.nic!r})"
    config = cluster.config
    for name, alias, value in (
        ("replica_fetch_wait_max", "replica.fetch.wait.max.ms", config.replica_fetch_wait_max),
        ("replica_lag_time_max", "replica.lag.time.max.ms", config.replica_lag_time_max),
    ):
        why = _bad_number(value, positive=name == "replica_lag_time_max")
        if why:
            yield f"cluster.config.{alias} {why} (got {value!r})"
    for alias, value in (
        ("replica.fetch.max.bytes", config.replica_fetch_max_bytes),
        ("replica.fetch.response.max.bytes", config.replica_fetch_response_max_bytes),
    ):
        if not 0 <= value <= INT32_MAX:
            yield f"cluster.config.{alias} must be between 0 and {INT32_MAX} (got {value!r})"
    yield from _cost_problems(scenario.costs.model_dump(exclude={"source", "machine", "how"}), ("costs",))
    for i, topic in enumerate(scenario.topics):
        if topic.partitions < 1:
            yield f"{_path('topics', i, 'partitions')} must be at least 1 (got {topic.partitions})"
        if topic.prefill and not any(p.topic == topic.name for p in scenario.producers):
            yield (
                f"{_path('topics', i, 'prefill')} needs a producer writing to {topic.name!r}: "
                "its message size, keys and compression say what the prefilled data is"
            )
    named: dict[str, int] = {}
    for i, producer in enumerate(scenario.producers):
        # the engines name a producer's hosts "<name or topic>-<index>"
        name = producer.name or producer.topic
        if name in named:
            yield (
                f"{_path('producers', i)} has the same name as producers[{named[name]}] "
                f"({name!r}); give each producer group its own name"
            )
        named.setdefault(name, i)
    for i, producer in enumerate(scenario.producers):
        mean = producer.message_size.mean
        why = _bad_number(mean, positive=True)
        if why:
            yield f"{_path('producers', i, 'message_size')} {why} (got {mean!r})"
            continue
        rate = producer.rate.messages(mean)
        why = None if producer.rate.is_max else _bad_number(rate, positive=False)
        if why:
            yield f"{_path('producers', i, 'rate')} {why} (got {rate!r} messages/s)"
        for alias, value, most in (
            ("batch.size", producer.batch_size, INT32_MAX),
            ("max.request.size", producer.max_request_size, INT32_MAX),
            ("buffer.memory", producer.buffer_memory, INT64_MAX),
        ):
            if not 0 <= value <= most:
                yield f"{_path('producers', i, alias)} must be between 0 and {most} (got {value!r})"
        for alias, value in (
            ("linger.ms", producer.linger),
            ("max.block.ms", producer.max_block),
            ("request.timeout.ms", producer.request_timeout),
            ("delivery.timeout.ms", producer.delivery_timeout),
        ):
            why = _bad_number(value, positive=False, infinite_ok=alias != "linger.ms")
            if why:
                yield f"{_path('producers', i, alias)} {why} (got {value!r})"
        ratio = producer.effective_compression_ratio
        if not 0 < ratio <= 1:
            yield f"{_path('producers', i, 'compression_ratio')} must be in (0, 1] (got {ratio!r})"
    group_ids: dict[str, int] = {}
    for i, group in enumerate(scenario.consumer_groups):
        if group.group_id in group_ids:
            yield (
                f"{_path('consumer_groups', i, 'group.id')} {group.group_id!r} is also "
                f"consumer_groups[{group_ids[group.group_id]}]'s; one group, one entry"
            )
        group_ids.setdefault(group.group_id, i)
        for alias, value in (
            ("processing_time_per_record", group.processing_time_per_record),
            ("fetch.max.wait.ms", group.fetch_max_wait),
        ):
            why = _bad_number(value, positive=False)
            if why:
                yield f"{_path('consumer_groups', i, alias)} {why} (got {value!r})"
        for alias, value in (
            ("fetch.min.bytes", group.fetch_min_bytes),
            ("fetch.max.bytes", group.fetch_max_bytes),
            ("max.partition.fetch.bytes", group.max_partition_fetch_bytes),
        ):
            if not 0 <= value <= INT32_MAX:
                yield (
                    f"{_path('consumer_groups', i, alias)} must be between 0 and {INT32_MAX} "
                    f"(got {value!r})"
                )
    broker_ids = set(cluster.broker_ids)
    for i, fault in enumerate(scenario.faults):
        # the capacity faults the engines play (simkafka.sim.degradation) scale a broker's
        # NIC or disks: a factor outside (0, 1] would make a capacity zero or grow it
        if fault.type in ("slow_disk", "nic_degradation"):
            if fault.broker not in broker_ids:
                yield f"{_path('faults', i, 'broker')}: broker {fault.broker} does not exist"
            if not 0 < fault.factor <= 1:
                yield f"{_path('faults', i, 'factor')} must be in (0, 1] (got {fault.factor!r})"
    run = scenario.run
    for name, value, positive in (
        ("duration", run.duration, True),
        ("warmup", run.warmup, False),
        ("sample_interval", run.sample_interval, True),
        ("step", run.step, True),
    ):
        why = _bad_number(value, positive=positive)
        if why:
            yield f"run.{name} {why} (got {value!r})"


def check_engine_inputs(scenario: Scenario) -> None:
    """Raise :class:`RunRefused` naming every field an engine cannot run with."""
    problems = list(_problems(scenario))
    if problems:
        raise RunRefused(f"cannot simulate {scenario.name!r}: " + "; ".join(problems))


def _cost_problems(costs: dict, where: tuple[str, ...]) -> Iterator[str]:
    for name, value in costs.items():
        if isinstance(value, dict):
            yield from _cost_problems(value, (*where, name))
        else:
            why = _bad_number(value, positive=False)
            if why:
                yield f"{'.'.join((*where, name))} {why} (got {value!r})"
