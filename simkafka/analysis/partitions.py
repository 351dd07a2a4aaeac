"""How many partitions a topic needs, from what one partition carries in the simulator.

One partition's throughput is measured, not assumed: :func:`probe_scenario` is the topic
cut down to a single partition, its producers unthrottled (``rate: max``) and each group
reading it with one member, on brokers of the catalogue's largest network so that the
partition's own limits show (the producer's per-partition batching and in-flight requests,
the leader's serial append, one consumer's poll loop and processing time), not the
machine's. The run's produce rate is the producer side's per-partition throughput ``p``;
a group whose one member keeps up reads at least ``p``, one that does not reads at its own
rate ``c``.

:class:`PartitionAdvice` turns them into a count: enough partitions that none runs above
the plan's utilisation ceiling, ``T / (ceiling x min(p, c))``, and at least as many as the
largest group reading the topic has members (a member without a partition idles). Beside
it stand the rules of thumb operators quote -- ``max(T/p, T/c)``; about 3x the broker count
for a small cluster and 2x for a large one; RF 3 with ``min.insync.replicas`` 2 -- and
:meth:`PartitionAdvice.explain` says where and why the derived count differs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from simkafka.analysis.catalogue import Offer
from simkafka.analysis.hardware import hardware_fields
from simkafka.scenario import Scenario
from simkafka.scenario.plan import PlanSpec

__all__ = [
    "RULE_MIN_INSYNC_REPLICAS",
    "RULE_REPLICATION_FACTOR",
    "SMALL_CLUSTER",
    "PartitionAdvice",
    "advise",
    "probe_scenario",
    "rule_of_thumb_per_broker",
    "throughput_knee",
]

#: Up to this many brokers a cluster is "small": the rule of thumb is 3 partitions a broker.
SMALL_CLUSTER = 6
#: The operators' durability rule: three copies, two of them in sync before ``acks=all``
#: succeeds -- one broker may be down and writes go on, and an acknowledged write is on two.
RULE_REPLICATION_FACTOR = 3
RULE_MIN_INSYNC_REPLICAS = 2


def rule_of_thumb_per_broker(brokers: int) -> int:
    """Partitions per broker by the operators' rule of thumb: ~3x for small clusters, ~2x for large."""
    return 3 if brokers <= SMALL_CLUSTER else 2


def throughput_knee(counts: Sequence[int], throughputs: Sequence[float], tolerance: float = 0.05) -> int:
    """The partition count beyond which one more partition stops helping: the smallest of
    ``counts`` whose throughput is within ``tolerance`` (a fraction) of the best measured
    throughput. ``counts`` must increase."""
    if not counts or len(counts) != len(throughputs):
        raise ValueError("counts and throughputs must be non-empty and of one length")
    if any(b <= a for a, b in zip(counts, counts[1:], strict=False)):
        raise ValueError("counts must increase")
    best = max(throughputs)
    return next(c for c, t in zip(counts, throughputs, strict=True) if t >= (1.0 - tolerance) * best)


def probe_scenario(base: Scenario, topic: str, spec: PlanSpec, offer: Offer, *, engine: str = "stepped") -> Scenario:
    """One partition of ``topic`` driven flat out by its producers, read by one member of
    each group that reads it, on ``max(3, RF)`` brokers of ``offer``'s instance type, on
    ``engine``."""
    from simkafka.analysis.candidates import planned_run, validated_scenario
    from simkafka.analysis.grid import point_seed

    data = base.model_dump(mode="json", by_alias=True, exclude_unset=True)
    written = next(t for t in data["topics"] if t["name"] == topic)
    rf = (spec.replication_factor[0] if spec.replication_factor else base.topic(topic).replication_factor)
    written.pop("replica.assignment", None)
    written["partitions"] = 1
    written["replication.factor"] = rf
    if spec.min_insync_replicas:
        written["min.insync.replicas"] = min(min(spec.min_insync_replicas), rf)
    written.pop("prefill", None)
    data["topics"] = [written]
    producers = [p for p in data.get("producers", []) if p["topic"] == topic]
    for p in producers:
        p["rate"] = "max"
        p.pop("profile", None)
        p.pop("keys", None)  # one partition: keys change nothing but the key bytes, kept in batches
    data["producers"] = producers
    groups = []
    for g in data.get("consumer_groups", []):
        if topic in (g["topics"] if isinstance(g["topics"], list) else [g["topics"]]):
            groups.append({**g, "topics": [topic], "members": 1})
    data["consumer_groups"] = groups
    data.pop("plan", None)
    data.pop("faults", None)
    data.pop("targets", None)
    cluster = data["cluster"]
    cluster["brokers"] = max(3, rf)
    cluster["hardware"] = hardware_fields(offer.instance)
    racks = base.cluster.rack_names
    if racks:
        cluster["racks"] = list(racks)
    cluster.pop("offline_brokers", None)
    data["run"] = {**data.get("run", {}), **planned_run(spec), "engine": engine,
                   "seed": point_seed(base.seed, {"probe": topic})}
    return validated_scenario(data)


@dataclass(frozen=True)
class PartitionAdvice:
    """What one partition of ``topic`` carries and how many the load needs."""

    topic: str
    load: float  # messages/s the topic must take (after growth)
    producer_per_partition: float  # messages/s, measured
    consumer_per_partition: dict[str, float]  # group -> messages/s one member read (>= p when it kept up)
    consumers_keep_up: dict[str, bool]
    members: int  # largest group reading the topic
    ceiling: float
    replication_factor: int
    min_insync_replicas: int

    @property
    def per_partition(self) -> float:
        """Messages/s one partition carries: the slower of its producer and consumer sides."""
        slow = [c for g, c in self.consumer_per_partition.items() if not self.consumers_keep_up[g]]
        return min([self.producer_per_partition, *slow])

    @property
    def derived(self) -> int:
        """Partitions so that none runs above the ceiling and every member has one."""
        need = math.ceil(self.load / (self.ceiling * self.per_partition)) if self.per_partition > 0 else 1
        return max(1, need, self.members)

    def for_brokers(self, brokers: int) -> int:
        """:attr:`derived` rounded up to a multiple of ``brokers``: every broker leads as many."""
        return math.ceil(self.derived / brokers) * brokers

    @property
    def rule_throughput(self) -> int:
        """The rule of thumb ``max(T/p, T/c)``, no headroom, no members."""
        slowest = min([self.producer_per_partition, *self.consumer_per_partition.values()])
        return max(1, math.ceil(self.load / slowest)) if slowest > 0 else 1

    def rule_brokers(self, brokers: int) -> int:
        return rule_of_thumb_per_broker(brokers) * brokers

    def explain(self, brokers: int) -> str:
        """Why the recommended count for ``brokers`` brokers is what it is, and where the
        rules of thumb disagree."""
        chosen = self.for_brokers(brokers)
        why = [f"one partition carries {self.per_partition:,.0f} msg/s "
               f"(producer side {self.producer_per_partition:,.0f}"]
        for g, c in self.consumer_per_partition.items():
            why[-1] += f"; group {g} {'keeps up' if self.consumers_keep_up[g] else f'reads {c:,.0f}'}"
        why[-1] += ")"
        need = math.ceil(self.load / (self.ceiling * self.per_partition)) if self.per_partition > 0 else 1
        why.append(f"{self.load:,.0f} msg/s at {self.ceiling:.0%} per partition needs {need}")
        if self.members > need:
            why.append(f"the largest group has {self.members} members, each needs a partition")
        if chosen > self.derived:
            why.append(f"rounded up to {chosen}, a multiple of {brokers} brokers, so leaders balance")
        rule_t, rule_b = self.rule_throughput, self.rule_brokers(brokers)
        notes = []
        if rule_t < chosen:
            notes.append(f"max(T/p, T/c) = {rule_t} has no headroom"
                         + (" and ignores consumer parallelism" if self.members > rule_t else ""))
        if rule_b > chosen:
            notes.append(f"{rule_of_thumb_per_broker(brokers)}x brokers = {rule_b} is more than the "
                         "load needs (it leaves room to grow without repartitioning: keyed topics keep their "
                         "key -> partition mapping only while the count is unchanged)")
        elif rule_b < chosen:
            notes.append(f"{rule_of_thumb_per_broker(brokers)}x brokers = {rule_b} is too few for the load")
        return "; ".join(why) + (". Rules of thumb: " + "; ".join(notes) if notes else "") + "."


def advise(
    base: Scenario, topic: str, spec: PlanSpec, row: dict, *, load: float,
) -> PartitionAdvice:
    """The advice for ``topic`` from its probe's run ``row`` (an ``evaluate_point`` result)."""
    produced = float(row.get("produce_msgs_per_s") or 0.0)
    consumer: dict[str, float] = {}
    keeps_up: dict[str, bool] = {}
    members = 0
    for group in base.consumer_groups:
        if topic not in group.topics:
            continue
        members = max(members, group.members)
        read = float(row.get(f"consume_msgs_per_s.{group.group_id}") or 0.0)
        consumer[group.group_id] = read
        # a member that reads what is produced (to within 2 %) keeps up: its own limit is higher
        keeps_up[group.group_id] = read >= 0.98 * produced
    t = base.topic(topic)
    rf = spec.replication_factor[0] if spec.replication_factor else t.replication_factor
    min_isr = spec.min_insync_replicas[0] if spec.min_insync_replicas else t.min_insync_replicas
    return PartitionAdvice(topic, load, produced, consumer, keeps_up, members, spec.ceiling, rf, min_isr)
