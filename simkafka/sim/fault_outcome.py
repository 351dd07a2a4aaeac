"""What the faults of a run did: delivery, availability and the timeline, as frames.

The events engine builds one after the run (:meth:`simkafka.sim.fault_player.FaultPlayer.outcome`);
``RunResult.delivery``, ``.availability`` and ``.timeline`` hold the frames and the
summary gets the headline figures. An engine that checks no delivery reports
:func:`empty_outcome`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from simkafka.model.delivery import DeliveryReport

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
