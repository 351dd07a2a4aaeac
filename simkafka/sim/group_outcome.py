"""What consumer groups' rebalances did: the rebalance log and who owned which partition
when, as frames, and the headline figures per group.

An engine that rebalances groups keeps one :class:`~simkafka.model.group_protocol.RebalanceRecord`
per rebalance and one :class:`AssignmentSpan` per (member, partition) ownership, and calls
:func:`group_outcome` after the run; ``RunResult.rebalances`` and ``.assignments`` hold
the frames and the summary gets the figures. An engine whose groups keep their first
assignment reports :func:`empty_group_outcome`, whose summary says so
(``group_rebalances_simulated: false``).

Per-group summary keys follow the summary's ``<figure>.<group.id>`` pattern
(``max_lag.<group>``): ``rebalances``, ``rebalance_total_s``, ``rebalance_longest_s``,
``stop_the_world_total_s``, ``stop_the_world_longest_s``, ``paused_partition_s``,
``partitions_moved``. :func:`group_delivery_summary` adds the delivery checker's
``consumed_twice`` and ``skipped`` per group.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

import pandas as pd

from simkafka.model.group_protocol import RebalanceRecord
from simkafka.model.types import TopicPartition

if TYPE_CHECKING:
    from simkafka.model.delivery import DeliveryReport

REBALANCE_COLUMNS = [f.name for f in fields(RebalanceRecord)] + [
    "duration",
    "stop_the_world_s",
    "paused_partition_s",
]
ASSIGNMENT_COLUMNS = ["group", "member", "topic", "partition", "generation", "start", "end"]
# the summary's per-group figures, in the order the tables show them
GROUP_FIGURES = (
    "rebalances",
    "rebalance_total_s",
    "rebalance_longest_s",
    "stop_the_world_total_s",
    "stop_the_world_longest_s",
    "paused_partition_s",
    "partitions_moved",
)
GROUP_DELIVERY_FIGURES = ("consumed_twice", "skipped")


@dataclass(frozen=True, slots=True)
class AssignmentSpan:
    """Member ``member`` of ``group`` owned ``tp`` -- was allowed to fetch and process it --
    from ``start`` to ``end`` (``None``: still at the run's end). ``generation`` is the
    classic generation (KIP-848: the member epoch) in which it got the partition; a
    cooperative member keeps one span across the rebalances that leave the partition
    with it."""

    group: str
    member: str
    tp: TopicPartition
    generation: int
    start: float
    end: float | None


@dataclass
class GroupOutcome:
    """The rebalance log, the ownership spans and the summary figures of one run's groups."""

    rebalances: pd.DataFrame
    assignments: pd.DataFrame
    summary: dict[str, object] = field(default_factory=dict)


def empty_group_outcome() -> GroupOutcome:
    """What an engine reports whose groups keep the assignment they got at the start."""
    return GroupOutcome(
        rebalances=pd.DataFrame(columns=REBALANCE_COLUMNS),
        assignments=pd.DataFrame(columns=ASSIGNMENT_COLUMNS),
        summary={"group_rebalances_simulated": False},
    )


def group_outcome(
    records: Sequence[RebalanceRecord],
    spans: Sequence[AssignmentSpan],
    run_end: float,
    group_partitions: Mapping[str, int],
) -> GroupOutcome:
    """The frames and figures of a run whose groups rebalanced.

    ``group_partitions``: every group of the run and how many partitions it subscribes
    to (a partition no span covers was unowned the whole time). Per rebalance,
    ``stop_the_world_s`` is the time within ``[started_at, completed_at]`` in which the
    group owned no partition at all (an eager rebalance revokes everything; a
    cooperative one keeps what does not move), and ``paused_partition_s`` the
    partition-seconds within it that a partition of the group had no owner.
    """
    _check(records, spans, run_end, group_partitions)
    owned_by_group: dict[str, list[tuple[float, float]]] = {g: [] for g in group_partitions}
    owned_by_partition: dict[str, dict[TopicPartition, list[tuple[float, float]]]] = {
        g: {} for g in group_partitions
    }
    for span in spans:
        interval = (span.start, run_end if span.end is None else min(span.end, run_end))
        owned_by_group[span.group].append(interval)
        owned_by_partition[span.group].setdefault(span.tp, []).append(interval)
    covered_group = {g: _union(v) for g, v in owned_by_group.items()}
    covered_partition = {
        g: [_union(v) for _, v in sorted(by_tp.items())] for g, by_tp in owned_by_partition.items()
    }

    rows = []
    for record in records:
        start, stop = record.started_at, record.completed_at
        window = stop - start
        partitions = group_partitions[record.group]
        if partitions == 0:
            stopped = paused = 0.0  # a group with nothing to consume has nothing to stop
        else:
            stopped = window - _covered(covered_group[record.group], start, stop)
            owned = covered_partition[record.group]
            # partitions of the group that no span ever covered were unowned throughout
            paused = (partitions - len(owned)) * window + sum(
                window - _covered(c, start, stop) for c in owned
            )
        rows.append(
            [getattr(record, f.name) for f in fields(RebalanceRecord)]
            + [window, stopped, paused]
        )
    rebalances = pd.DataFrame(rows, columns=REBALANCE_COLUMNS)
    assignments = pd.DataFrame(
        [
            (s.group, s.member, s.tp.topic, s.tp.partition, s.generation, s.start,
             run_end if s.end is None else s.end)
            for s in spans
        ],
        columns=ASSIGNMENT_COLUMNS,
    )
    if len(assignments):
        assignments = assignments.sort_values(
            ["group", "start", "member", "topic", "partition"], kind="stable"
        ).reset_index(drop=True)
    summary: dict[str, object] = {"group_rebalances_simulated": True}
    for group in group_partitions:
        summary |= _group_summary(group, rebalances[rebalances["group"] == group])
    return GroupOutcome(rebalances, assignments, summary)


def group_delivery_summary(report: DeliveryReport, groups: Iterable[str]) -> dict[str, object]:
    """Per group, the delivery checker's records consumed more than once (the extra
    reads) and records skipped (offsets below the last one the group read that it never
    read: a hole, not lag), as ``consumed_twice.<group>`` and ``skipped.<group>``."""
    out: dict[str, object] = {}
    for group in groups:
        out[f"consumed_twice.{group}"] = sum(p.consumed_twice.get(group, 0) for p in report.partitions)
        out[f"skipped.{group}"] = sum(
            len(p.skipped[group]) for p in report.partitions if group in p.skipped
        )
    return out


def _group_summary(group: str, rebalances: pd.DataFrame) -> dict[str, object]:
    def total(column: str) -> float:
        return float(rebalances[column].sum()) if len(rebalances) else 0.0

    def longest(column: str) -> float:
        return float(rebalances[column].max()) if len(rebalances) else 0.0

    figures: dict[str, object] = {
        "rebalances": len(rebalances),
        "rebalance_total_s": total("duration"),
        "rebalance_longest_s": longest("duration"),
        "stop_the_world_total_s": total("stop_the_world_s"),
        "stop_the_world_longest_s": longest("stop_the_world_s"),
        "paused_partition_s": total("paused_partition_s"),
        "partitions_moved": int(rebalances["partitions_moved"].sum()) if len(rebalances) else 0,
    }
    return {f"{name}.{group}": figures[name] for name in GROUP_FIGURES}


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Disjoint, sorted intervals covering the same time as ``intervals``."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _covered(disjoint: list[tuple[float, float]], start: float, stop: float) -> float:
    """How much of ``[start, stop]`` the disjoint intervals cover."""
    return sum(max(0.0, min(end, stop) - max(begin, start)) for begin, end in disjoint)


def _check(
    records: Sequence[RebalanceRecord],
    spans: Sequence[AssignmentSpan],
    run_end: float,
    group_partitions: Mapping[str, int],
) -> None:
    """The engine's records must describe the run: a mistake here is a bug, said plainly."""
    for record in records:
        if record.group not in group_partitions:
            raise ValueError(f"rebalance of group {record.group!r}, which is not one of the run's groups")
        if not record.started_at <= record.completed_at <= run_end:
            raise ValueError(
                f"rebalance of group {record.group!r} generation {record.generation}: "
                f"started {record.started_at:g}s, completed {record.completed_at:g}s, run ends {run_end:g}s"
            )
    owned: dict[str, set[TopicPartition]] = {}
    for span in spans:
        if span.group not in group_partitions:
            raise ValueError(f"assignment span of group {span.group!r}, which is not one of the run's groups")
        if span.end is not None and span.end < span.start:
            raise ValueError(
                f"assignment span of {span.member} on {span.tp}: ends at {span.end:g}s, "
                f"before it starts at {span.start:g}s"
            )
        owned.setdefault(span.group, set()).add(span.tp)
    for group, partitions in owned.items():
        if len(partitions) > group_partitions[group]:
            raise ValueError(
                f"group {group!r}: spans cover {len(partitions)} partitions, but the group "
                f"subscribes to {group_partitions[group]}"
            )
