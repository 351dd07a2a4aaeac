"""Analytic capacity bounds of a candidate cluster: how much can it take before a resource
reaches its utilisation ceiling?

Every resource is expressed against one quantity, the **produce throughput** ``T``: the
bytes per second of producer record batches on the wire (compressed records and batch
headers, the payload of the produce requests' TCP streams), summed over every producer.
The workload's mix is kept: each producer's share of ``T`` is its configured rate's share
(``rate: max`` producers weigh as an average rated instance, or all alike when none is
rated), and each partition's share of a producer's traffic is its key weight
(:func:`partition_weights`: the simulator's ``simkafka.model.keys.key_weights``) or, for the sticky and round-robin
partitioners, uniform. A resource with capacity ``C`` that a produced byte loads with
``L`` (seconds, bytes, records) reaches the ceiling ``headroom x C`` at ``T = headroom x
C / L``; the cluster's bound is the least of these. The replica layout is the scenario's
own (:func:`simkafka.model.topology.initial_topology`), so heterogeneous topics,
explicit assignments and racks are handled as the simulator places them.

A bound is an *upper* bound: wherever the load of a mechanism is not known exactly
(requests per second, consumer balance) the smallest load it can have is used, so a
candidate the bounds reject cannot meet the throughput in the simulator either. Bounds
prune; they never decide alone. Not counted here (so never a reason to prune): fsync and
flush overheads, fetch request counts, the replica fetcher threads, the producer's Sender
thread, and recompression to a topic's own ``compression.type`` changing stored sizes.

:func:`aws_sizing_bound` is the published AWS sizing equation this generalises; for a
homogeneous cluster with uniform traffic and at least one consumer group the two agree.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from simkafka.model.keys import key_weights as partition_weights
from simkafka.model.log_dirs import place_in_log_dirs
from simkafka.model.topology import Topology, initial_topology
from simkafka.model.types import TopicPartition
from simkafka.scenario import Scenario
from simkafka.scenario.workload import ProducerSpec
from simkafka.sim.accumulator import RECORD_BATCH_OVERHEAD, RecordAccumulator, kafka_batch_size
from simkafka.sim.broker import INDEX_ENTRY_BYTES
from simkafka.sim.client_costs import consumer_poll_cpu, producer_send_cpu, topic_compression
from simkafka.sim.framing import goodput
from simkafka.sim.guards import hardware_by_broker
from simkafka.sim.log_append import leader_append_cost
from simkafka.sim.storage import index_interval_batches

__all__ = [
    "DEFAULT_HEADROOM",
    "PARTITION_LIMITS",
    "Bounds",
    "ResourceBound",
    "aws_sizing_bound",
    "aws_sizing_brokers",
    "capacity_bounds",
    "offered_throughput",
    "produced_by_topic",
    "partition_weights",
    "retention_throughput",
]

#: The rows that bound the clients, not the cluster (their names start so).
CLIENT_RESOURCES = ("producer ", "group ")

#: Utilisation ceiling applied to every resource unless the caller gives another.
DEFAULT_HEADROOM = 0.7

#: Recommended partition replicas (per broker, per cluster) by controller mode.
#: ZooKeeper: "As a rule of thumb, we recommend each broker to have up to 4,000 partitions
#: and each cluster to have up to 200,000 partitions" -- Jun Rao, "Apache Kafka Supports
#: 200K Partitions Per Cluster", Confluent blog, 2018 (Kafka 1.1.0's controller).
#: KRaft: KIP-500 / KIP-631 remove the ZooKeeper bottleneck; Confluent's KRaft preview
#: ("Apache Kafka Made Simple: A First Glimpse of a Kafka Without ZooKeeper", 2021) ran
#: 2 million partitions in one cluster -- recalled, not found in a source during this
#: work. No per-broker figure is documented for KRaft, so none is applied (None).
PARTITION_LIMITS: dict[str, tuple[int | None, int]] = {
    "zookeeper": (4_000, 200_000),
    "kraft": (None, 2_000_000),
}

@functools.lru_cache(maxsize=1024)
def _cached_weights(spec: ProducerSpec, partitions: int):  # noqa: ANN202 - the model's type
    """:func:`partition_weights`, remembered: a planner asks for the same producer over
    the same partition count for every instance type, and hashing a million keys with
    murmur2 takes a second. Specs are frozen (hashable by value)."""
    weights = partition_weights(spec, partitions)
    if weights is not None:
        weights.setflags(write=False)
    return weights


@dataclass(frozen=True)
class ResourceBound:
    """One resource: its capacity, what a produced byte costs it, and the throughput at
    which it reaches ``headroom`` of its capacity (``inf`` when nothing loads it)."""

    resource: str
    capacity: float
    unit: str
    load_per_byte: float
    max_throughput: float
    note: str = ""


@dataclass(frozen=True)
class Bounds:
    """Every resource's bound on the produce throughput, and the least of them."""

    headroom: float
    rows: tuple[ResourceBound, ...]
    idle_consumers: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def bound(self) -> float:
        """Bytes/s of produced batches the cluster can take with every resource under the
        ceiling (``inf`` when nothing is loaded)."""
        return min((r.max_throughput for r in self.rows), default=math.inf)

    @property
    def cluster_bound(self) -> float:
        """:attr:`bound` over the brokers' own resources only: what the cluster could take
        if its clients (producers' threads, consumer groups' members) kept up."""
        return min((r.max_throughput for r in self.rows if not r.resource.startswith(CLIENT_RESOURCES)),
                   default=math.inf)

    @property
    def binding(self) -> tuple[ResourceBound, ...]:
        """The resources that set :attr:`bound` (ties all listed)."""
        least = self.bound
        if math.isinf(least):
            return ()
        return tuple(r for r in self.rows if math.isclose(r.max_throughput, least, rel_tol=1e-9))

    def row(self, resource: str) -> ResourceBound:
        for r in self.rows:
            if r.resource == resource:
                return r
        raise KeyError(f"no resource named {resource!r}")

    def __repr__(self) -> str:
        binding = {id(r) for r in self.binding}
        head = ("resource", "capacity", "load / produced byte", "max throughput", "binding")
        lines = [head]
        for r in self.rows:
            lines.append((
                r.resource,
                f"{r.capacity:.4g} {r.unit}",
                f"{r.load_per_byte:.4g}",
                "unbounded" if math.isinf(r.max_throughput) else f"{r.max_throughput / 1e6:.2f} MB/s",
                "BINDING" if id(r) in binding else "",
            ))
        widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
        text = [
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
            for line in lines
        ]
        bound = "unbounded" if math.isinf(self.bound) else f"{self.bound / 1e6:.2f} MB/s"
        text.insert(0, f"<Bounds at {self.headroom:.0%} headroom: {bound}")
        for group, idle in self.idle_consumers.items():
            text.append(f"group {group}: {idle} idle member(s) (more members than partitions)")
        text.extend(self.notes)
        return "\n".join(text) + ">"


@dataclass(frozen=True)
class _Shape:
    """A producer's full batches: records per batch, batch wire bytes, uncompressed record bytes."""

    records: float
    batch_bytes: float
    record_bytes: float


def _shape(spec: ProducerSpec) -> _Shape:
    """A full batch as the producer's accumulator closes it (the simulator's own
    ``RecordAccumulator``): full batches, the fewest batches (and requests) a byte takes."""
    key = float(len(f"key-{(spec.keys.count or 1) - 1}")) if spec.keys.keyed else 0.0
    acc = RecordAccumulator(
        1,
        batch_size=kafka_batch_size(spec.batch_size),
        linger=spec.linger,
        compression_ratio=spec.effective_compression_ratio,
        message_bytes=spec.message_size.mean,
        key_bytes=key,
    )
    records = acc.messages_per_batch
    batch = RECORD_BATCH_OVERHEAD + records * acc.record_bytes * spec.effective_compression_ratio
    return _Shape(float(records), batch, acc.record_bytes)


def _producer_shares(scenario: Scenario, shapes: list[_Shape]) -> list[float]:
    """Each producer spec's fraction of the produced wire bytes."""
    wire: list[float | None] = []
    for spec, shape in zip(scenario.producers, shapes, strict=True):
        if spec.rate.is_max:
            wire.append(None)
        else:
            messages = spec.rate.messages(spec.message_size.mean)
            wire.append(messages * shape.batch_bytes / shape.records)
    rated = [(w, s.count) for w, s in zip(wire, scenario.producers, strict=True) if w is not None]
    per_instance = sum(w for w, _ in rated) / sum(c for _, c in rated) if rated else 1.0
    weights = [w if w is not None else per_instance * s.count
               for w, s in zip(wire, scenario.producers, strict=True)]
    total = sum(weights)
    return [w / total for w in weights]


def _row(resource: str, capacity: float, unit: str, load: float, headroom: float,
         note: str = "") -> ResourceBound:
    limit = headroom * capacity / load if load > 0 else math.inf
    return ResourceBound(resource, capacity, unit, load, limit, note)


def capacity_bounds(
    scenario: Scenario,
    headroom: float = DEFAULT_HEADROOM,
    *,
    framing: bool = True,
    index: bool = True,
    disk_bytes: float | Mapping[int, float] | None = None,
    topology: Topology | None = None,
) -> Bounds:
    """The analytic capacity of every resource of ``scenario``'s cluster for its workload.

    ``disk_bytes`` is each broker's log storage in bytes (one figure for all, or by broker
    id), e.g. from the instance catalogue: a scenario's hardware states bandwidths, not
    sizes, so without it retention is not checked (the result says so).

    ``topology`` is the replica layout to judge (default: the one the scenario's controller
    creates, :func:`~simkafka.model.topology.initial_topology`).

    ``framing`` charges TCP/IP and Ethernet framing on the NICs (payload capacity is line
    rate x :func:`~simkafka.sim.framing.goodput`); ``index`` charges the offset- and
    time-index entries on the disks. Turn them off to compare with back-of-envelope
    equations that ignore them.
    """
    if not 0 < headroom <= 1:
        raise ValueError(f"headroom is a fraction of capacity in (0, 1], got {headroom}")
    cluster = scenario.cluster
    hardware = hardware_by_broker(cluster)
    topology = topology or initial_topology(scenario)
    costs = scenario.costs
    topics = {t.name: t for t in scenario.topics}
    notes: list[str] = []
    rows: list[ResourceBound] = []
    idle: dict[str, int] = {}

    shapes = [_shape(p) for p in scenario.producers]
    shares = _producer_shares(scenario, shapes) if scenario.producers else []

    # per partition, per produced byte: wire bytes, batches, records, disk bytes
    # (with index entries), leader append seconds, and produce requests by producer
    wire: dict[TopicPartition, float] = defaultdict(float)
    disk: dict[TopicPartition, float] = defaultdict(float)
    append: dict[TopicPartition, float] = defaultdict(float)
    records_of_topic: dict[str, float] = defaultdict(float)
    producer_batches: list[dict[TopicPartition, float]] = []
    for index_of, (spec, shape, share) in enumerate(zip(scenario.producers, shapes, shares, strict=True)):
        topic = topics[spec.topic]
        weights = _cached_weights(spec, topic.partitions)
        cost = leader_append_cost(costs.broker, costs.codecs, spec.compression_type,
                                  topic.compression_type)
        entries = 1.0 / index_interval_batches(int(shape.batch_bytes), int(topic.index_interval_bytes))
        per_batch_disk = shape.batch_bytes + (INDEX_ENTRY_BYTES * entries if index else 0.0)
        batches_here: dict[TopicPartition, float] = {}
        for p in range(topic.partitions):
            w = share * (weights[p] if weights is not None else 1.0 / topic.partitions)
            if w <= 0:
                continue
            tp = TopicPartition(topic.name, p)
            batches = w / shape.batch_bytes
            batches_here[tp] = batches
            wire[tp] += w
            disk[tp] += batches * per_batch_disk
            append[tp] += cost.of(batches, batches * shape.records, w,
                                  batches * shape.records * shape.record_bytes)
        producer_batches.append(batches_here)
        records_of_topic[topic.name] += share * shape.records / shape.batch_bytes

        send = producer_send_cpu(costs, spec.compression_type, shape.record_bytes)
        label = spec.name or f"{spec.topic}[{index_of}]"
        rows.append(_row(f"producer {label} send() threads", float(spec.count), "threads",
                         share * shape.records / shape.batch_bytes * send, headroom))

    readers: dict[str, int] = defaultdict(int)
    for group in scenario.consumer_groups:
        for t in group.topics:
            readers[t] += 1

    # brokers: NICs, handler CPU, log dirs
    nic_in: dict[int, float] = defaultdict(float)
    nic_out: dict[int, float] = defaultdict(float)
    handler: dict[int, float] = defaultdict(float)
    network: dict[int, float] = defaultdict(float)
    dir_load: dict[tuple[int, int], float] = defaultdict(float)
    replicas_on: dict[int, int] = defaultdict(int)
    broker_costs = costs.broker
    for tp, reg in topology.partitions.items():
        load = wire.get(tp, 0.0)
        followers = len(reg.replicas) - 1
        for b in reg.replicas:
            replicas_on[b] += 1
            nic_in[b] += load  # the leader from producers, each follower from the leader
        served = load * (readers[tp.topic] + followers)
        nic_out[reg.leader] += served
        # the produce request's bytes and every fetch's bytes pass a handler thread
        # (request_cpu + bytes * byte_cpu); the leader's appends hold it too
        handler[reg.leader] += (load + served) * broker_costs.byte_cpu + append.get(tp, 0.0)
        # a network thread reads each request and writes each response
        network[reg.leader] += (load + served) * broker_costs.network_byte_cpu
    for batches_here in producer_batches:
        # a ProduceRequest carries at most one batch per partition of its broker: the
        # fewest requests a producer can send a broker is its batches there over the
        # partitions it writes there
        by_leader: dict[int, list[float]] = defaultdict(list)
        for tp, batches in batches_here.items():
            by_leader[topology.partitions[tp].leader].append(batches)
        for b, batch_rates in by_leader.items():
            requests = sum(batch_rates) / len(batch_rates)
            handler[b] += requests * broker_costs.request_cpu
            network[b] += requests * broker_costs.network_request_cpu

    placed = place_in_log_dirs(
        [(r, tp) for tp, reg in topology.partitions.items() for r in reg.replicas],
        {b: len(hw.dirs) for b, hw in hardware.items()},
    )
    for (b, tp), d in placed.items():
        dir_load[(b, d)] += disk.get(tp, 0.0)

    mtu = cluster.network.mtu
    net = goodput(mtu) if framing else 1.0
    threads = cluster.config.num_io_threads
    for b, hw in hardware.items():
        rows.append(_row(f"broker {b} NIC in", hw.ingress * net, "B/s", nic_in[b], headroom))
        rows.append(_row(f"broker {b} NIC out", hw.egress * net, "B/s", nic_out[b], headroom))
        for d, (write, _) in enumerate(hw.dirs):
            name = f"broker {b} disk write" if len(hw.dirs) == 1 else f"broker {b} dir {d} write"
            rows.append(_row(name, write, "B/s", dir_load[(b, d)], headroom))
        rows.append(_row(f"broker {b} handler CPU", float(min(threads, hw.cpu_cores)), "threads",
                         handler[b], headroom))
        rows.append(_row(f"broker {b} network threads",
                         float(min(cluster.config.num_network_threads, hw.cpu_cores)), "threads",
                         network[b], headroom))

    # one partition's appends are serial under its log's lock: the busiest of each topic
    for topic in scenario.topics:
        loads = [(append.get(TopicPartition(topic.name, p), 0.0), p) for p in range(topic.partitions)]
        worst, p = max(loads)
        rows.append(_row(f"append {topic.name}-{p} (busiest partition)", 1.0, "lock", worst,
                         headroom))

    # consumer groups: members beyond the partitions idle; the rest share the records
    codecs = topic_compression(scenario)
    for group in scenario.consumer_groups:
        partitions = sum(topics[t].partitions for t in group.topics)
        used = min(group.members, partitions)
        if group.members > used:
            idle[group.group_id] = group.members - used
        seconds = 0.0
        for t in group.topics:
            writers = [(s, sh, f) for s, sh, f in zip(scenario.producers, shapes, shares, strict=True)
                       if s.topic == t]
            codec, _ = codecs[t]
            for _, sh, f in writers:
                recs = f * sh.records / sh.batch_bytes
                poll = consumer_poll_cpu(costs, codec, 1.0, sh.batch_bytes / sh.records, sh.record_bytes)
                seconds += recs * (group.processing_time_per_record + poll)
        note = f"{group.members - used} idle" if group.members > used else ""
        rows.append(_row(f"group {group.group_id} members", float(used), "members", seconds,
                         headroom, note))

    # partition counts: a recommendation, not a utilisation, so no headroom
    per_broker, per_cluster = PARTITION_LIMITS[cluster.controller]
    total = sum(replicas_on.values())
    if per_broker is not None:
        most = max(replicas_on.values(), default=0)
        rows.append(ResourceBound(
            f"replicas per broker ({cluster.controller})", float(per_broker), "replicas", 0.0,
            math.inf if most <= per_broker else 0.0, f"{most} on the fullest broker"))
    rows.append(ResourceBound(
        f"replicas per cluster ({cluster.controller})", float(per_cluster), "replicas", 0.0,
        math.inf if total <= per_cluster else 0.0, f"{total} in all"))

    if disk_bytes is None:
        notes.append("disk capacity for retention not checked: the scenario's hardware states no disk size")
    else:
        for b in hardware:
            size = disk_bytes[b] if isinstance(disk_bytes, Mapping) else float(disk_bytes)
            # a replica holds retention.ms of its bytes (0 when nothing is written to it)
            held = [(wire[tp] * topics[tp.topic].retention if wire.get(tp) else 0.0,
                     topics[tp.topic].retention_bytes)
                    for tp, reg in topology.partitions.items() if b in reg.replicas]
            rows.append(ResourceBound(
                f"broker {b} disk space", size, "B", sum(a for a, _ in held),
                retention_throughput(held, headroom * size), "retention at RF"))
    if not scenario.producers:
        notes.append("no producers: nothing loads the cluster")
    return Bounds(headroom, tuple(rows), idle, tuple(notes))


def retention_throughput(held: list[tuple[float, float]], space: float) -> float:
    """The largest ``T`` with ``sum(min(a * T, c)) <= space``: each replica keeps
    ``retention.ms`` of its bytes (``a`` bytes per produced byte/s) up to ``retention.bytes``
    (``c``). The active segment and the retention check's delay are not counted (a bound
    takes the least a disk must hold). A replica kept forever (both unlimited) fills any
    disk: 0."""
    fixed = 0.0  # bytes of the replicas already at retention.bytes
    growing: list[tuple[float, float, float]] = []  # (T where it reaches c, a, c)
    for a, c in held:
        if a <= 0:
            continue
        if math.isinf(a):  # retention.ms unlimited: at retention.bytes whatever T is
            if math.isinf(c):
                return 0.0
            fixed += c
        else:
            growing.append((c / a, a, c))
    if fixed > space:
        return 0.0
    growing.sort()
    for i, (reaches, _, c) in enumerate(growing):
        slope = sum(a for _, a, _ in growing[i:])
        if fixed + slope * reaches >= space:
            return (space - fixed) / slope
        fixed += c
    return math.inf  # every replica capped by retention.bytes, and it all fits


def aws_sizing_bound(
    brokers: int,
    storage_bandwidth: float,
    network_bandwidth: float,
    replication_factor: int,
    consumer_groups: int,
    headroom: float = 1.0,
) -> float:
    """The AWS MSK sizing equation (AWS Big Data blog, "Best practices for right-sizing
    your Apache Kafka clusters to optimize performance and cost", 2022 -- title and year
    recalled, the page was not found in a source during this work; the equation is the one
    issue 12 quotes): ``throughput <= min(storage x B / r, network x B / (consumer_groups +
    r - 1))``, each bandwidth per broker, times the utilisation ceiling ``headroom``."""
    storage = headroom * storage_bandwidth * brokers / replication_factor
    fanout = consumer_groups + replication_factor - 1
    network = headroom * network_bandwidth * brokers / fanout if fanout > 0 else math.inf
    return min(storage, network)


def aws_sizing_brokers(
    required: float,
    storage_bandwidth: float,
    network_bandwidth: float,
    replication_factor: int,
    consumer_groups: int,
    headroom: float = 1.0,
) -> int:
    """The broker count the AWS sizing equation (:func:`aws_sizing_bound`) asks for: the
    fewest brokers, and at least ``replication_factor`` of them, whose bound reaches
    ``required`` bytes/s. The operators' rule of thumb for brokers, before any simulation."""
    if required <= 0:
        return replication_factor
    fanout = consumer_groups + replication_factor - 1
    per_broker = min(headroom * storage_bandwidth / replication_factor,
                     headroom * network_bandwidth / fanout if fanout > 0 else math.inf)
    brokers = max(replication_factor, math.ceil(required / per_broker))
    # the closed form may round one off either way: the equation itself decides
    while aws_sizing_bound(brokers, storage_bandwidth, network_bandwidth, replication_factor,
                           consumer_groups, headroom) < required:
        brokers += 1
    while brokers > replication_factor and aws_sizing_bound(
            brokers - 1, storage_bandwidth, network_bandwidth, replication_factor, consumer_groups,
            headroom) >= required:
        brokers -= 1
    return brokers


def produced_by_topic(scenario: Scenario) -> dict[str, float]:
    """Bytes/s of produced batches (the wire bytes the bounds count) per topic, from the
    producers' configured rates; ``rate: max`` producers count at the throughput target's
    share when there is one, else not at all."""
    by_topic: dict[str, float] = defaultdict(float)
    maxed: list[tuple[ProducerSpec, _Shape]] = []
    for spec in scenario.producers:
        shape = _shape(spec)
        if spec.rate.is_max:
            maxed.append((spec, shape))
            continue
        by_topic[spec.topic] += spec.rate.messages(spec.message_size.mean) * shape.batch_bytes / shape.records
    if maxed:
        # unthrottled producers: they need what the target asks beyond the rated ones
        wanted = _target_wire(scenario)
        if wanted is not None:
            rest = max(0.0, wanted - sum(by_topic.values()))
            for spec, _ in maxed:
                by_topic[spec.topic] += rest / len(maxed)
    return dict(by_topic)


def _wire_per_message(scenario: Scenario) -> tuple[float, float]:
    """(wire bytes, payload bytes) of an average produced message, over the producers."""
    wire = payload = weight = 0.0
    for spec in scenario.producers:
        shape = _shape(spec)
        w = spec.count if spec.rate.is_max else spec.rate.messages(spec.message_size.mean)
        wire += w * shape.batch_bytes / shape.records
        payload += w * spec.message_size.mean
        weight += w
    if weight == 0:
        return 0.0, 0.0
    return wire / weight, payload / weight


def _target_wire(scenario: Scenario) -> float | None:
    target = scenario.targets.produce_throughput
    if target is None or not scenario.producers:
        return None
    wire, payload = _wire_per_message(scenario)
    if target.messages_per_second is not None:
        return target.messages_per_second * wire
    if target.bytes_per_second is not None and payload > 0:
        return target.bytes_per_second / payload * wire
    return None


def offered_throughput(scenario: Scenario) -> float:
    """The produce throughput ``T`` (bytes/s of produced batches, as :func:`capacity_bounds`
    counts it) the scenario needs: its rated producers' load or its throughput target,
    whichever is more. 0 when neither says (only ``rate: max`` producers, no target)."""
    rated = sum(produced_by_topic(scenario).values())
    target = _target_wire(scenario)
    return max(rated, target or 0.0)
