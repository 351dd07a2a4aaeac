"""Contradictions a schema cannot see: settings that are each valid but impossible together.

Each check mirrors what Kafka itself would refuse (topic creation, producer or consumer
construction, JoinGroup) or what no cluster could satisfy. Findings are
``(path, message, hint, is_warning)`` with paths in the file's own key names, so the
loader can point at the line.
"""

from __future__ import annotations

from collections import Counter
from statistics import NormalDist
from typing import Any

from simkafka.kafka_version import behaviour
from simkafka.scenario.durability import durability_gaps
from simkafka.scenario.findings import Finding
from simkafka.scenario.findings import closest as _closest
from simkafka.scenario.findings import error as _error
from simkafka.scenario.findings import warning as _warning
from simkafka.scenario.group_checks import (
    group_coordinator_findings,
    group_findings,
    membership_fault_findings,
)
from simkafka.scenario.limits import MAX_PARTITIONS, MAX_REPLICAS, MAX_SAMPLES
from simkafka.scenario.model import Scenario
from simkafka.scenario.uncertain import UncertainValue
from simkafka.units import format_bytes, format_duration


def find_contradictions(scenario: Scenario, data: Any = None) -> list[Finding]:
    """Every contradiction in ``scenario`` (errors) and every doubtful setting (warnings)."""
    findings: list[Finding] = []
    for check in (_check_brokers, _check_topics, _check_size, _check_producers, _check_groups, _check_faults,
                  _check_run, _check_targets, _check_plan):
        findings.extend(check(scenario))
    return findings


def _duplicates(values: list) -> list:
    return [value for value, n in Counter(values).items() if n > 1]


def _check_brokers(s: Scenario) -> list[Finding]:
    out = []
    if s.cluster.controller == "zookeeper":
        out.append(_warning(("cluster", "controller"),
                            f"Kafka 4.0 removed ZooKeeper mode: replicas are placed as a Kafka 3.x "
                            f"ZooKeeper controller placed them (AdminUtils), everything else follows "
                            f"Kafka {s.cluster.kafka_version}",
                            "use controller: kraft for a cluster Kafka 4.x can run"))
    ids = [b.id for b in s.cluster.brokers]
    for dup in _duplicates(ids):
        index = len(ids) - 1 - ids[::-1].index(dup)
        out.append(_error(("cluster", "brokers", index, "id"), f"broker id {dup} is used twice", "broker ids must be unique"))
    out.extend(_check_offline_brokers(s))
    out.extend(group_coordinator_findings(s.cluster.config))
    with_rack = [b.rack is not None for b in s.cluster.brokers]
    if any(with_rack) and not all(with_rack):
        missing = [b.id for b in s.cluster.brokers if b.rack is None]
        out.append(_warning(("cluster", "brokers"), f"brokers {missing} have no rack while others do",
                            "KRaft treats a missing rack as a rack of its own; ZooKeeper-mode rack-aware "
                            "assignment refuses such a cluster"))
        if s.cluster.controller == "zookeeper":
            out[-1] = _error(("cluster", "brokers"), f"brokers {missing} have no rack while others do; "
                             "ZooKeeper-mode rack-aware assignment refuses this (AdminOperationException: "
                             "Not all brokers have rack information)", "give every broker a rack, or none")
    return out


def _check_offline_brokers(s: Scenario) -> list[Finding]:
    """``cluster.offline_brokers`` names brokers of the cluster and leaves one running
    (a cluster with every broker down has no controller to elect anything)."""
    out = []
    ids = s.cluster.broker_ids
    offline = s.cluster.offline_brokers
    for i, broker in enumerate(offline):
        if broker not in ids:
            out.append(_error(("cluster", "offline_brokers", i), f"broker {broker} is not in the cluster",
                              f"brokers are {sorted(ids)}"))
    if offline and all(b in offline for b in ids):
        out.append(_error(("cluster", "offline_brokers"),
                          f"every broker of the cluster is offline ({sorted(ids)}): nothing to simulate",
                          "leave at least one broker running"))
    return out


def _check_topics(s: Scenario) -> list[Finding]:
    out = []
    names = [t.name for t in s.topics]
    broker_ids = set(s.cluster.broker_ids)
    n_brokers = len(broker_ids)
    for dup in _duplicates(names):
        out.append(_error(("topics", len(names) - 1 - names[::-1].index(dup), "name"), f"topic {dup!r} is defined twice"))
    for i, t in enumerate(s.topics):
        at = ("topics", i)
        rf = t.replication_factor
        if t.replica_assignment is None and rf > n_brokers:
            # the controller's own error: InvalidReplicationFactorException
            out.append(_error((*at, "replication.factor"),
                              f"replication factor {rf} is larger than the {n_brokers} broker(s) in the cluster",
                              f"use replication.factor <= {n_brokers} or add brokers"))
        if t.min_insync_replicas > rf:
            out.append(_error((*at, "min.insync.replicas"),
                              f"min.insync.replicas {t.min_insync_replicas} is above the replication factor {rf}: "
                              "every acks=all write would fail with NOT_ENOUGH_REPLICAS",
                              f"use min.insync.replicas <= {rf}"))
        elif t.min_insync_replicas == rf and rf > 1:
            out.append(_warning((*at, "min.insync.replicas"),
                                f"min.insync.replicas equals the replication factor ({rf}): losing any one "
                                "replica stops acks=all writes", f"the usual choice is {rf - 1}"))
        least_segment = behaviour(s.cluster.kafka_version).topic_segment_bytes_minimum
        if t.segment_bytes < least_segment:
            # LogConfig's atLeast(1 MiB) since Kafka 4.1 (KAFKA-19080); 4.0 took 14 bytes
            out.append(_error((*at, "segment.bytes"),
                              f"segment.bytes {format_bytes(t.segment_bytes)} is below Kafka "
                              f"{s.cluster.kafka_version}'s minimum of {format_bytes(least_segment)}",
                              f"use segment.bytes >= {least_segment}"
                              + (" (or cluster.kafka_version: 4.0.0, which accepts 14 bytes)"
                                 if s.cluster.kafka_version != "4.0.0" else "")))
        if t.replica_assignment is not None:
            out.extend(_check_assignment(t.replica_assignment, t.partitions, rf, broker_ids, (*at, "replica.assignment")))
        if t.compacted and t.deletes and t.retention == float("inf") and t.retention_bytes == float("inf"):
            out.append(_warning((*at, "cleanup.policy"), "compact,delete with unlimited retention deletes nothing"))
    return out


def _check_size(s: Scenario) -> list[Finding]:
    """The whole system's size, beyond each count's own bound (see simkafka.scenario.limits)."""
    out = []
    partitions = sum(t.partitions for t in s.topics)
    replicas = sum(t.partitions * t.replication_factor for t in s.topics)
    if partitions > MAX_PARTITIONS:
        out.append(_error(("topics",), f"{partitions:,} partitions in all: the simulator's limit is "
                          f"{MAX_PARTITIONS:,}", "simulate a representative slice of the cluster"))
    elif replicas > MAX_REPLICAS:
        out.append(_error(("topics",), f"{replicas:,} partition replicas in all: the simulator's limit is "
                          f"{MAX_REPLICAS:,}", "simulate a representative slice of the cluster"))
    return out


def check_step_resolution(s: Scenario) -> list[Finding]:
    """A warning when the stepped engine's ``run.step`` is too coarse for the latencies asked about.

    The stepped engine moves messages once per step, so nothing shorter than a step is
    resolved: a produce's latency is at least ``linger.ms`` plus the client round trip
    plus, with ``acks=all`` and replicas, the replication round trip, and latency
    percentiles are only meaningful when a step is at most half of that. Measured on the
    quickstart (floor 6.8 ms, 5 s steady state), p99 produce latency against the events
    engine's 6.72 ms: 1 ms steps +10 %, 2 ms +4 %, 4 ms +20 %, 8 ms +109 %, 20 ms +82 %
    (and 7 times too high at 100 ms). Callable on a scenario whose engine or step was
    overridden after loading (``simkafka run --engine/--step``).
    """
    if s.run.engine != "stepped" or not s.producers:
        return []
    network = s.cluster.network
    replication_rtt = 2 * (network.cross_rack_latency if len(s.cluster.rack_names) > 1 else network.rack_latency)
    topics = {t.name: t for t in s.topics}
    floors = []
    for p in s.producers:
        topic = topics.get(p.topic)
        replicated = p.acks == "all" and topic is not None and topic.replication_factor > 1
        floors.append(p.linger + 2 * network.client_latency + (replication_rtt if replicated else 0.0))
    shortest = min(floors)
    if s.run.step <= shortest / 2:
        return []
    return [_warning(("run", "step"),
                     f"a step of {format_duration(s.run.step)} cannot resolve the shortest produce latency "
                     f"(linger.ms + round trips = {format_duration(shortest)}): latency percentiles "
                     "will be quantised to steps and come out too high",
                     f"use run.step <= {format_duration(shortest / 2)}, or the events engine for latencies")]


def check_step_round_trip(s: Scenario) -> list[Finding]:
    """A warning when the stepped engine's ``run.step`` is shorter than the clients' round trip.

    The stepped engine holds a client's request for one step and adds the rest of
    ``2 x cluster.network.client_latency`` to the latencies it reports, but does not hold
    the request for it: a producer's in-flight requests (``max.in.flight.requests.per.
    connection``, ``buffer.memory``) and a consumer's one fetch per broker come back every
    step, so throughput bounded by requests in flight x round trip comes out too high by
    about round trip / step. Measured (one partition, max-rate producer, 16 KiB batches,
    64 KiB buffer.memory, one request in flight), stepped against events: client_latency
    5 ms with 1 ms steps 10.1 times, 2 ms steps 5.1, 5 ms steps 2.0, 10 ms steps 1.0;
    0.2 ms with 0.1 ms steps 4.9 times; and a consumer fetching 16 KiB at a time over
    5 ms with 1 ms steps read 4,995 msg/s where the events engine reads 1,478. A shorter
    step makes it worse, so the advice is the events engine.

    Only the client latency: a follower's fetch loop (``rack_latency`` /
    ``cross_rack_latency``) is held in whole steps (``_fetcher_loops`` in
    :mod:`simkafka.sim.stepped`); cross_rack_latency 5 ms with 1 ms steps and acks=all
    gives 1.27 MB/s stepped, 1.44 events. Callable on a scenario whose engine or step was
    overridden after loading (``simkafka run --engine/--step``).
    """
    if s.run.engine != "stepped" or not (s.producers or s.consumer_groups):
        return []
    latency = s.cluster.network.client_latency
    if 2 * latency <= s.run.step:
        return []
    return [_warning(("cluster", "network", "client_latency"),
                     f"the clients' round trip (2 x client_latency = {format_duration(2 * latency)}) is "
                     f"longer than the stepped engine's step ({format_duration(s.run.step)}): it adds the "
                     "round trip to the latencies it reports but holds each request for one step only, so "
                     "throughput bounded by requests in flight x round trip (max.in.flight.requests."
                     "per.connection, buffer.memory, a consumer's fetches) comes out up to "
                     f"{2 * latency / s.run.step:.1f} times too high",
                     "use run.engine: events (a shorter step makes this worse, not better)")]


def _check_run(s: Scenario) -> list[Finding]:
    out = check_step_resolution(s) + check_step_round_trip(s)
    samples = s.run.duration / s.run.sample_interval
    if samples > MAX_SAMPLES:
        out.append(_error(("run", "sample_interval"),
                          f"{format_duration(s.run.duration)} sampled every {format_duration(s.run.sample_interval)} "
                          f"makes {samples:,.0f} time-series rows; the limit is {MAX_SAMPLES:,}",
                          f"use sample_interval >= {format_duration(s.run.duration / MAX_SAMPLES)}"))
    return out


def _check_assignment(assignment, partitions: int, rf: int, broker_ids: set[int], at: tuple) -> list[Finding]:
    out = []
    if len(assignment) != partitions:
        out.append(_error(at, f"the assignment lists {len(assignment)} partition(s) but partitions is {partitions}"))
    for p, replicas in enumerate(assignment):
        if len(replicas) != rf:
            out.append(_error((*at, p), f"partition {p} has {len(replicas)} replica(s); replication.factor is {rf}",
                              "every partition needs the same number of replicas"))
        if len(set(replicas)) != len(replicas):
            out.append(_error((*at, p), f"partition {p} lists a broker twice: {list(replicas)}"))
        unknown = [b for b in replicas if b not in broker_ids]
        if unknown:
            out.append(_error((*at, p), f"partition {p} names broker(s) {unknown} that are not in the cluster",
                              f"brokers are {sorted(broker_ids)}"))
    return out


def _check_producers(s: Scenario) -> list[Finding]:
    out = []
    topics = {t.name: t for t in s.topics}
    # each producer group's hosts are named "<name or topic>-<index>": two groups under one
    # name would be one set of hosts
    names = [p.name or p.topic for p in s.producers]
    for dup in _duplicates(names):
        index = len(names) - 1 - names[::-1].index(dup)
        key = "name" if s.producers[index].name else "topic"
        out.append(_error(("producers", index, key), f"producers[{names.index(dup)}] and producers[{index}] "
                          f"are both called {dup!r}", "give each producer group its own `name`"))
    for i, p in enumerate(s.producers):
        at = ("producers", i)
        for key, uncertain in (("rate", p.rate.uncertainty), ("message_size", p.message_size.uncertainty)):
            if uncertain is not None:
                out.extend(_check_uncertain((*at, key), uncertain))
        if p.rate.shape is not None and "profile" in p.model_fields_set:
            out.append(_error((*at, "profile"), "the rate is diurnal already (rate: {profile: diurnal, ...}): "
                              "a producer has one profile", "remove `profile:`, or write the rate as its mean "
                              "with profile: {type: diurnal, amplitude: ...}"))
        if p.topic not in topics:
            out.append(_error((*at, "topic"), f"topic {p.topic!r} is not defined", _closest(p.topic, list(topics))))
            continue
        topic = topics[p.topic]
        explicit = p.model_fields_set
        # KafkaProducer's own ConfigException when idempotence is asked for explicitly
        if "enable_idempotence" in explicit and p.enable_idempotence:
            if p.acks != "all":
                out.append(_error((*at, "acks"), "Must set acks to all in order to use the idempotent producer",
                                  "set acks: all or enable.idempotence: false"))
            if p.max_in_flight_requests_per_connection > 5:
                out.append(_error((*at, "max.in.flight.requests.per.connection"),
                                  "must be at most 5 to use the idempotent producer"))
            if p.retries == 0:
                out.append(_error((*at, "retries"), "Must set retries to non-zero when using the idempotent producer"))
        if p.batch_size > p.buffer_memory:
            # BufferPool.allocate refuses any allocation above buffer.memory: every send fails
            out.append(_error((*at, "batch.size"),
                              f"batch.size ({format_bytes(p.batch_size)}) is larger than buffer.memory "
                              f"({format_bytes(p.buffer_memory)}): the producer's BufferPool cannot allocate a "
                              "batch and every send fails", "use batch.size <= buffer.memory"))
        smallest = p.message_size.min if p.message_size.distribution != "fixed" else p.message_size.mean
        limit = min(p.max_request_size, topic.max_message_bytes, s.cluster.config.message_max_bytes, p.buffer_memory)
        if smallest > limit:
            out.append(_error((*at, "message_size"),
                              f"every message ({format_bytes(smallest)}) is larger than the limit {format_bytes(limit)} "
                              "(max.request.size / max.message.bytes / buffer.memory): all would fail with "
                              "RecordTooLargeException"))
        if p.keys.keyed and p.keys.count is not None and p.keys.count < topic.partitions:
            out.append(_warning((*at, "keys", "count"),
                                f"{p.keys.count} distinct keys cannot spread over {topic.partitions} partitions"))
        if p.compression_ratio is not None and p.compression_type == "none":
            out.append(_warning((*at, "compression_ratio"), "ignored: compression.type is none"))
    return out


# a normal with more than this share of its probability below zero is worth a warning
WIDE_NORMAL_BELOW_ZERO = 0.01


def _check_uncertain(at: tuple, value: UncertainValue) -> list[Finding]:
    """A wide normal: Monte Carlo draws its negative values again, moving the draws' mean."""
    if value.distribution != "normal":
        return []
    normal = NormalDist(value.mean, value.std)
    below = normal.cdf(0.0)
    if below < WIDE_NORMAL_BELOW_ZERO:
        return []
    # the mean of the normal truncated at zero: mu + sigma * pdf(a) / (1 - cdf(a)), a = -mu/sigma
    standard = NormalDist()
    a = -value.mean / value.std
    shift = value.std * standard.pdf(a) / (1 - standard.cdf(a)) / value.mean
    return [_warning((*at, "sd"), f"{below:.1%} of this normal lies below zero; Monte Carlo draws those "
                     f"again, so its draws average {shift:.1%} above the mean",
                     "a lognormal is positive and keeps the mean and sd written: lognormal instead of normal")]


def _check_groups(s: Scenario) -> list[Finding]:
    out = []
    topics = [t.name for t in s.topics]
    ids = [g.group_id for g in s.consumer_groups]
    cfg = s.cluster.config
    for dup in _duplicates(ids):
        out.append(_error(("consumer_groups", len(ids) - 1 - ids[::-1].index(dup), "group.id"), f"group {dup!r} is defined twice"))
    for i, g in enumerate(s.consumer_groups):
        at = ("consumer_groups", i)
        for j, name in enumerate(g.topics):
            if name not in topics:
                out.append(_error((*at, "topics", j), f"topic {name!r} is not defined", _closest(name, topics)))
        out.extend(group_findings(g, at, cfg))
        idle = _idle_members(g, {t.name: t.partitions for t in s.topics})
        if idle:
            out.append(_warning((*at, "members"),
                                f"{idle} of the {g.members} members will sit idle: the {g.assignor} assignor "
                                "has no partition to give them",
                                "use at most as many members as partitions (extra members only stand by)"))
        if g.max_poll_interval < g.processing_time_per_record * g.max_poll_records:
            out.append(_warning((*at, "max.poll.interval.ms"),
                                "processing one poll of max.poll.records takes longer than max.poll.interval.ms: "
                                "members will be kicked out of the group", "lower max.poll.records"))
    return out


def _check_faults(s: Scenario) -> list[Finding]:
    out = []
    broker_ids = set(s.cluster.broker_ids)
    racks = set(s.cluster.rack_names)
    down: set[int] = set(s.cluster.offline_brokers)  # down from the start
    for i, f in enumerate(s.faults):
        at = ("faults", i)
        if f.at > s.run.duration:
            out.append(_warning((*at, "at"), f"starts at {format_duration(f.at)}, after the run ends "
                                f"({format_duration(s.run.duration)})"))
        broker = getattr(f, "broker", None)
        if broker is not None and broker not in broker_ids:
            out.append(_error((*at, "broker"), f"broker {broker} does not exist", f"brokers are {sorted(broker_ids)}"))
            continue
        if f.type in ("broker_crash", "broker_shutdown"):
            if broker in down:
                out.append(_error((*at, "broker"), f"broker {broker} is already down at {format_duration(f.at)}"))
            down.add(broker)
        elif f.type == "broker_restart":
            if broker not in down:
                out.append(_error((*at, "broker"), f"broker {broker} is not down at {format_duration(f.at)}: "
                                  "nothing to restart", "add a broker_crash or broker_shutdown before it"))
            down.discard(broker)
        elif f.type == "rack_failure":
            if f.rack not in racks:
                hint = _closest(f.rack, sorted(racks)) if racks else "the cluster has no racks: give brokers a rack"
                out.append(_error((*at, "rack"), f"rack {f.rack!r} does not exist", hint))
                continue
            members = {b.id for b in s.cluster.brokers if b.rack == f.rack}
            if members <= down:
                out.append(_error((*at, "rack"), f"every broker of rack {f.rack!r} is already down at "
                                  f"{format_duration(f.at)}"))
            if f.duration is None:
                down |= members
        elif f.type == "network_partition":
            sides = [set(side) for side in f.between]
            for side_index, side in enumerate(f.between):
                for j, member in enumerate(side):
                    if isinstance(member, int) and member not in broker_ids:
                        out.append(_error((*at, "between", side_index, j), f"broker {member} does not exist"))
                    elif isinstance(member, str) and member not in racks:
                        out.append(_error((*at, "between", side_index, j), f"rack {member!r} does not exist",
                                          _closest(member, sorted(racks))))
            if sides[0] & sides[1]:
                out.append(_error((*at, "between"), "a broker or rack is on both sides of the partition"))
    out.extend(membership_fault_findings(s))
    return out


def _check_targets(s: Scenario) -> list[Finding]:
    # a target is a goal, not a validity condition: warnings (see scenario.durability)
    return [_warning(gap.path, gap.reason, gap.hint) for gap in durability_gaps(s)]


def _check_plan(s: Scenario) -> list[Finding]:
    plan = s.plan
    if plan is None:
        return []
    out = []
    names = [t.name for t in s.topics]
    for topic in plan.partitions:
        if topic not in names:
            out.append(_error(("plan", "partitions", topic), f"no topic named {topic!r}", _closest(topic, names)))
    if plan.replication_factor is not None and plan.min_insync_replicas is not None:
        if min(plan.min_insync_replicas) > max(plan.replication_factor):
            out.append(_error(("plan", "min.insync.replicas"),
                              f"every min.insync.replicas ({_listed(plan.min_insync_replicas)}) is above every "
                              f"replication factor ({_listed(plan.replication_factor)}): no candidate can take acks=all",
                              "min.insync.replicas <= replication.factor; RF 3 with min.insync.replicas 2 is usual"))
    if plan.replication_factor is not None and min(plan.replication_factor) > max(plan.brokers):
        out.append(_error(("plan", "replication.factor"),
                          f"every replication factor ({_listed(plan.replication_factor)}) is above the largest "
                          f"broker count ({max(plan.brokers)})", "a replica per broker at most: add brokers"))
    return out


def _listed(values: tuple[int, ...]) -> str:
    return ", ".join(str(v) for v in values)


def _idle_members(group, partitions: dict[str, int]) -> int:
    """Members that Kafka's assignor leaves without a partition.

    The range assignors deal each topic on its own, in member order: member ``i`` gets a
    partition of topic ``t`` only if ``i`` < its partition count, so the largest topic
    decides. The others pool the partitions of all subscribed topics.
    """
    counts = [partitions[name] for name in group.topics if name in partitions]
    if not counts:
        return 0
    usable = max(counts) if group.assignor == "range" else sum(counts)
    return max(0, group.members - usable)
