"""Whether a scenario's configuration can keep its durability target, and why not.

``targets.durability: {failures: f, domain: broker|rack}`` asks that no *acknowledged*
write is lost when any ``f`` brokers (or racks) fail at once. That is a property of the
configuration alone, so it is decided here, before any run, by the rules Kafka's
replication follows:

- a partition must have a replica outside any ``f`` failed brokers/racks: more than
  ``f`` replicas, spread over more than ``f`` racks for the rack domain;
- with ``acks=all`` a write is acknowledged once the in-sync replicas have it, and the
  ISR may shrink to ``min.insync.replicas``: an acknowledged write may live on only that
  many replicas, so ``min.insync.replicas`` must exceed ``f``;
- ``acks=1`` acknowledges on the leader alone and ``acks=0`` on sending: a leader's
  failure loses acknowledged writes whatever the replication factor;
- ``unclean.leader.election.enable`` lets an out-of-sync replica lead, truncating
  acknowledged writes.

:func:`durability_gaps` is pure; ``check`` reports each gap as a warning (a target is a
goal, like a throughput target: the configuration is still one Kafka runs, and a user
may simulate it on purpose to see it fall short) and the report's target table shows
the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

from simkafka.scenario.model import Scenario
from simkafka.scenario.topic import Topic

__all__ = ["DurabilityGap", "durability_gaps", "durability_goal"]


@dataclass(frozen=True, slots=True)
class DurabilityGap:
    """One reason the target cannot be kept: where to fix it, what is wrong, what would do."""

    path: tuple[str | int, ...]
    reason: str
    hint: str | None = None


def durability_goal(failures: int, domain: str) -> str:
    """``survive 1 rack failure`` -- the target in words."""
    return f"survive {failures} {domain} failure{'s' if failures != 1 else ''} without losing acknowledged writes"


def durability_gaps(scenario: Scenario) -> list[DurabilityGap]:
    """Every reason ``scenario`` cannot meet ``targets.durability``; empty when it can (or has none)."""
    target = scenario.targets.durability
    if target is None or target.failures == 0:
        return []
    f, domain = target.failures, target.domain
    at = ("targets", "durability")
    brokers = scenario.cluster.brokers
    if domain == "rack":
        if any(b.rack is None for b in brokers):
            return [DurabilityGap((*at, "domain"), "surviving a rack loss needs every broker to have a rack",
                                  "give every broker a rack, or use domain: broker")]
        racks = scenario.cluster.rack_names
        if len(racks) <= f:
            return [DurabilityGap((*at, "failures"),
                                  f"cannot survive {f} rack failure(s) with {len(racks)} rack(s): "
                                  "some partition would have every replica in the failed racks",
                                  f"add racks (at least {f + 1})")]
    elif len(brokers) <= f:
        return [DurabilityGap((*at, "failures"),
                              f"cannot survive {f} broker failure(s) with {len(brokers)} broker(s)",
                              f"add brokers (at least {f + 1})")]
    gaps: list[DurabilityGap] = []
    for i, topic in enumerate(scenario.topics):
        gaps.extend(_topic_gaps(scenario, topic, ("topics", i), f, domain))
    for i, producer in enumerate(scenario.producers):
        if producer.acks != "all":
            gaps.append(DurabilityGap(
                ("producers", i, "acks"),
                f"acks={producer.acks} acknowledges a write before it is replicated: a leader failure "
                "loses acknowledged writes whatever the replication factor",
                "use acks: all"))
    return gaps


def _topic_gaps(scenario: Scenario, topic: Topic, at: tuple, f: int, domain: str) -> list[DurabilityGap]:
    gaps = []
    name = topic.name
    unit = "rack" if domain == "rack" else "broker"
    spread = _least_spread(scenario, topic, domain)
    if spread <= f:
        if domain == "broker" or topic.replication_factor <= f:
            gaps.append(DurabilityGap((*at, "replication.factor"),
                                      f"topic {name!r}: replication factor {topic.replication_factor} cannot "
                                      f"survive {f} {unit} failure(s): every replica of a partition can be lost",
                                      f"use replication.factor >= {f + 1}"))
        else:
            gaps.append(DurabilityGap((*at, "replica.assignment" if topic.replica_assignment else "replication.factor"),
                                      f"topic {name!r}: some partition has its replicas in only {spread} rack(s), "
                                      f"so {f} rack failure(s) can take every replica",
                                      f"spread each partition's replicas over at least {f + 1} racks"))
    if topic.min_insync_replicas <= f and topic.replication_factor > f:
        gaps.append(DurabilityGap((*at, "min.insync.replicas"),
                                  f"topic {name!r}: with min.insync.replicas={topic.min_insync_replicas} an "
                                  f"acknowledged (acks=all) write may be on only {topic.min_insync_replicas} "
                                  f"replica(s), which {f} {unit} failure(s) can all take",
                                  f"use min.insync.replicas >= {f + 1} (and replication.factor >= {f + 2} "
                                  "to keep accepting writes with one replica down)"))
    if topic.unclean_leader_election_enable:
        gaps.append(DurabilityGap((*at, "unclean.leader.election.enable"),
                                  f"topic {name!r}: unclean leader election lets an out-of-sync replica lead, "
                                  "truncating acknowledged writes", "set unclean.leader.election.enable: false"))
    return gaps


def _least_spread(scenario: Scenario, topic: Topic, domain: str) -> int:
    """The fewest distinct brokers (or racks) holding one partition's replicas."""
    if topic.replica_assignment is None:
        if domain == "broker":
            return min(topic.replication_factor, len(scenario.cluster.brokers))
        # Kafka's rack-aware placement puts a partition's replicas in distinct racks first
        return min(topic.replication_factor, len(scenario.cluster.rack_names))
    rack_of = {b.id: b.rack for b in scenario.cluster.brokers}
    spreads = []
    for replicas in topic.replica_assignment:
        where = set(replicas) if domain == "broker" else {rack_of.get(b) for b in replicas}
        spreads.append(len(where))
    return min(spreads, default=0)
