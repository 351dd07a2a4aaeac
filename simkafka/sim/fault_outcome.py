"""What the faults of an events-engine run did: delivery, availability and the timeline.

Built once, after the run, from the world's :class:`~simkafka.model.delivery.DeliveryHistory`
(checked by :func:`~simkafka.model.delivery.check`), the fault player's clocks and the
control plane's timeline. ``RunResult.delivery``, ``.availability`` and ``.timeline``
hold the frames; the summary gets the headline figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from simkafka.model.delivery import DeliveryReport, check

if TYPE_CHECKING:
    from simkafka.sim.world import World

TIMELINE_COLUMNS = ["time", "event", "broker", "topic", "partition", "detail"]
AVAILABILITY_COLUMNS = ["topic", "partition", "no_leader_s", "under_min_isr_s"]


@dataclass
class FaultOutcome:
    """The frames and summary figures of one run's faults."""

    delivery: pd.DataFrame
    report: DeliveryReport | None
    timeline: pd.DataFrame
    availability: pd.DataFrame
    summary: dict[str, object] = field(default_factory=dict)


def empty_outcome() -> FaultOutcome:
    """What an engine that checks no delivery and plays no control-plane fault reports."""
    return FaultOutcome(
        delivery=pd.DataFrame(index=pd.Index([], name="topic")),
        report=None,
        timeline=pd.DataFrame(columns=TIMELINE_COLUMNS),
        availability=pd.DataFrame(columns=AVAILABILITY_COLUMNS).set_index(["topic", "partition"]),
    )


def fault_outcome(world: World) -> FaultOutcome:
    player = world.fault_player
    player.finish()
    report = check(world.history)
    delivery = report.frame()
    timeline = pd.DataFrame(
        [(e.time, e.event, e.broker, e.topic, e.partition, e.detail) for e in world.control.timeline],
        columns=TIMELINE_COLUMNS,
    )
    rows = [
        (tp.topic, tp.partition, player.no_leader_seconds.get(tp, 0.0), player.under_min_isr_seconds.get(tp, 0.0))
        for tp in sorted(world.partitions)
    ]
    availability = pd.DataFrame(rows, columns=AVAILABILITY_COLUMNS).set_index(["topic", "partition"])

    def total(column: str) -> int:
        return int(delivery[column].sum()) if column in delivery else 0

    def worst(values: dict[int, float]) -> float:
        return max(values.values()) if values else math.nan

    control = world.control
    summary: dict[str, object] = {
        "delivery_ok": report.ok,
        "acknowledged_lost": total("lost"),
        "written_twice": total("written_twice"),
        "reordered": total("reordered"),
        "consumed_twice": total("consumed_twice"),
        "no_leader_partition_s": float(availability["no_leader_s"].sum()),
        "max_partition_no_leader_s": float(availability["no_leader_s"].max()) if len(availability) else 0.0,
        "under_min_isr_partition_s": float(availability["under_min_isr_s"].sum()),
        "leader_elections": control.leader_changes,
        "isr_changes": control.isr_changes,
        # fault to the last partition of the lost broker with a reachable leader again
        "failover_s": worst(player.failover_seconds),
        "log_recovery_s": worst(player.recovery_seconds),
        "catch_up_s": worst(player.catch_up_seconds),
    }
    return FaultOutcome(delivery, report, timeline, availability, summary)
