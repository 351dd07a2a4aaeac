"""The durability target, measured against the placement: how many simultaneous losses of
a broker or a rack every acknowledged write survives, at worst.

With ``acks=all`` a write is acknowledged once every replica in the ISR has it, and the
ISR may have shrunk to ``min.insync.replicas`` members -- so only those are sure to hold
it. The worst case is the ISR whose members sit in the fewest failure domains: losing
those domains loses acknowledged data. With ``acks=1`` only the leader is sure to hold an
acknowledged write (and with ``acks=0`` not even that), so a single loss can lose data.
Unclean leader election is not counted as a loss here: it is off by default.
"""

from __future__ import annotations

from collections import Counter

from simkafka.model.topology import Topology
from simkafka.scenario import Scenario


def _fewest_domains(domains: list[str | int], members: int) -> int:
    """The fewest distinct domains ``members`` of these replicas can sit in."""
    covered = 0
    for used, count in enumerate(sorted(Counter(domains).values(), reverse=True), start=1):
        covered += count
        if covered >= members:
            return used
    return len(set(domains))


def tolerated_failures(scenario: Scenario, topology: Topology, domain: str) -> int:
    """Simultaneous ``domain`` ("broker" or "rack") losses every acknowledged write survives.

    The minimum over the produced topics (over all topics if nothing produces); ``-1``
    when some acknowledged write may already be on no replica (``acks=0``).
    """
    rack_of = {b.id: b.rack for b in topology.brokers}

    def domain_of(broker: int) -> str | int:
        # a broker without a rack is a rack of its own, as KRaft's placer treats it
        if domain == "rack" and rack_of.get(broker) is not None:
            return str(rack_of[broker])
        return broker

    acks_by_topic: dict[str, list[str]] = {}
    for producer in scenario.producers:
        acks_by_topic.setdefault(producer.topic, []).append(producer.acks)
    if not acks_by_topic:
        acks_by_topic = {t.name: ["all"] for t in scenario.topics}
    worst: int | None = None
    for topic_name, acks in acks_by_topic.items():
        topic = scenario.topic(topic_name)
        for _, state in topology.topic_partitions(topic_name):
            for ack in set(acks):
                if ack == "0":
                    tolerated = -1
                elif ack == "1":
                    tolerated = 0
                else:
                    holders = min(topic.min_insync_replicas, len(state.replicas))
                    domains = [domain_of(b) for b in state.replicas]
                    tolerated = _fewest_domains(domains, holders) - 1
                worst = tolerated if worst is None else min(worst, tolerated)
    return 0 if worst is None else worst
