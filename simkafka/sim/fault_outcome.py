"""What the faults of a run did: delivery, availability, the timeline and every
partition's registration over time, as frames.

The events engine builds one after the run (:meth:`simkafka.sim.fault_player.FaultPlayer.outcome`);
``RunResult.delivery``, ``.availability``, ``.timeline`` and ``.partition_history`` hold
the frames and the summary gets the headline figures. An engine that checks no delivery
and plays no control-plane fault (the stepped engine) reports :func:`empty_outcome`: its
partitions keep the registrations they started with, and its partition history is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from simkafka.model.delivery import DeliveryReport

TIMELINE_COLUMNS = ["time", "event", "broker", "topic", "partition", "detail"]
AVAILABILITY_COLUMNS = ["topic", "partition", "no_leader_s", "under_min_isr_s"]
# one row per partition registration the brokers applied: the starting one of every
# partition at the run's start (reason "initial"), then every change (reason: fenced,
# alter_partition, preferred, unfenced, controlled_shutdown); ``isr``, ``replicas`` and
# ``elr`` (eligible leader replicas, KIP-966) are tuples of broker ids, ``leader`` is -1
# when the partition has none
PARTITION_HISTORY_COLUMNS = [
    "time", "topic", "partition", "leader", "isr", "leader_epoch", "partition_epoch", "replicas", "elr", "reason",
]


@dataclass
class FaultOutcome:
    """The frames and summary figures of one run's faults."""

    delivery: pd.DataFrame
    report: DeliveryReport | None
    timeline: pd.DataFrame
    availability: pd.DataFrame
    summary: dict[str, object] = field(default_factory=dict)
    partition_history: pd.DataFrame = field(default_factory=lambda: empty_partition_history())


def empty_partition_history() -> pd.DataFrame:
    """The partition history of an engine that changes no registration."""
    return pd.DataFrame(columns=PARTITION_HISTORY_COLUMNS)


def empty_outcome() -> FaultOutcome:
    """What an engine that checks no delivery and plays no control-plane fault reports."""
    return FaultOutcome(
        delivery=pd.DataFrame(index=pd.Index([], name="topic")),
        report=None,
        timeline=pd.DataFrame(columns=TIMELINE_COLUMNS),
        availability=pd.DataFrame(columns=AVAILABILITY_COLUMNS).set_index(["topic", "partition"]),
    )
