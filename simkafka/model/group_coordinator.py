"""The group coordinator: every consumer group of a cluster, classic or KIP-848, behind one
``handle`` / ``next_deadline`` interface (Kafka 4.x's ``GroupMetadataManager``).

An engine builds one per run, sends each request to it when the request reaches the
group's coordinator broker, and calls back with a :class:`~simkafka.model.group_protocol.Tick`
at :meth:`GroupCoordinator.next_deadline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from simkafka.model.group_protocol import GroupDecision, GroupEvent, RebalanceRecord, Tick

if TYPE_CHECKING:
    from simkafka.model.classic_group import ClassicGroup
    from simkafka.model.consumer_group import ConsumerGroup


class GroupCoordinator:
    """Groups by id; a request goes to its group, a tick to all of them."""

    def __init__(self, groups: Mapping[str, ClassicGroup | ConsumerGroup]) -> None:
        self.groups = dict(groups)

    def handle(self, event: GroupEvent) -> list[GroupDecision]:
        if isinstance(event, Tick):
            out: list[GroupDecision] = []
            for group in self.groups.values():
                deadline = group.next_deadline()
                if deadline is not None and deadline <= event.at:
                    out.extend(group.handle(event))
            return out
        return self.groups[event.group].handle(event)  # type: ignore[arg-type]

    def next_deadline(self) -> float | None:
        deadlines = [d for g in self.groups.values() if (d := g.next_deadline()) is not None]
        return min(deadlines) if deadlines else None

    def records(self) -> list[RebalanceRecord]:
        """Every group's rebalances, in the order they completed."""
        return sorted(
            (r for g in self.groups.values() for r in g.records),
            key=lambda r: (r.completed_at, r.group, r.generation),
        )

    def __repr__(self) -> str:
        return f"<GroupCoordinator {len(self.groups)} groups>"
