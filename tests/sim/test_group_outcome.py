"""The groups' outcome: stop-the-world and paused partition time from hand-built ownership
spans with known answers, the frames' columns, the summary keys per group, and what an
engine that does not rebalance groups reports."""

from __future__ import annotations

import math
import textwrap

import pytest

from simkafka.model.delivery import DeliveryHistory, check
from simkafka.model.group_protocol import RebalanceRecord
from simkafka.model.types import TopicPartition
from simkafka.scenario import parse_scenario
from simkafka.sim.engine import simulate
from simkafka.sim.group_outcome import (
    AssignmentSpan,
    empty_group_outcome,
    group_delivery_summary,
    group_outcome,
)
from simkafka.sim.histogram import LatencyHistogram
from simkafka.sim.result import build_result

RUN_END = 30.0


def tp(p: int) -> TopicPartition:
    return TopicPartition("t", p)


def rebalance(group: str, generation: int, start: float, end: float, **kw) -> RebalanceRecord:
    fields = dict(
        protocol="classic",
        assignor="range",
        reason="member g-2 joined",
        members_before=2,
        members_after=3,
        partitions_moved=2,
    ) | kw
    return RebalanceRecord(group, generation, started_at=start, completed_at=end, **fields)


def eager() -> tuple[list[RebalanceRecord], list[AssignmentSpan]]:
    """Two members own four partitions; every span closes at t=10 (the eager revoke) and
    the new generation's reopen at 12."""
    before = [AssignmentSpan("g", f"g-{p % 2}", tp(p), 1, 0.0, 10.0) for p in range(4)]
    after = [AssignmentSpan("g", f"g-{p % 3}", tp(p), 2, 12.0, None) for p in range(4)]
    return [rebalance("g", 2, 9.0, 13.0)], before + after


def cooperative() -> tuple[list[RebalanceRecord], list[AssignmentSpan]]:
    """Partition 3 moves from g-0 to g-2 with a 1 s gap; the other three never stop."""
    spans = [AssignmentSpan("g", f"g-{p % 2}", tp(p), 1, 0.0, None) for p in range(3)]
    spans += [
        AssignmentSpan("g", "g-0", tp(3), 1, 0.0, 10.0),
        AssignmentSpan("g", "g-2", tp(3), 3, 11.0, None),
    ]
    records = [rebalance("g", 2, 9.0, 10.0, partitions_moved=0), rebalance("g", 3, 10.0, 12.0, partitions_moved=1)]
    return records, spans


def test_an_eager_rebalance_stops_the_world_for_the_gap_between_revoke_and_reassignment():
    records, spans = eager()
    outcome = group_outcome(records, spans, RUN_END, {"g": 4})
    row = outcome.rebalances.iloc[0]
    assert row["duration"] == 4.0
    assert row["stop_the_world_s"] == 2.0  # [10, 12]: nobody owns anything
    assert row["paused_partition_s"] == 4 * 2.0
    assert outcome.summary["stop_the_world_total_s.g"] == 2.0
    assert outcome.summary["stop_the_world_longest_s.g"] == 2.0


def test_a_cooperative_rebalance_pauses_only_the_partition_that_moves():
    records, spans = cooperative()
    outcome = group_outcome(records, spans, RUN_END, {"g": 4})
    assert list(outcome.rebalances["stop_the_world_s"]) == [0.0, 0.0]
    # partition 3 had no owner in [10, 11]: inside the second rebalance only
    assert list(outcome.rebalances["paused_partition_s"]) == [0.0, 1.0]
    s = outcome.summary
    assert (s["rebalances.g"], s["rebalance_total_s.g"], s["rebalance_longest_s.g"]) == (2, 3.0, 2.0)
    assert (s["stop_the_world_total_s.g"], s["paused_partition_s.g"], s["partitions_moved.g"]) == (0.0, 1.0, 1)


def test_a_partition_no_span_covers_was_paused_for_the_whole_rebalance():
    records, spans = cooperative()
    # the group reads five partitions; partition 4 was never given to anyone
    outcome = group_outcome(records, spans, RUN_END, {"g": 5})
    assert list(outcome.rebalances["paused_partition_s"]) == [1.0, 2.0 + 1.0]
    assert list(outcome.rebalances["stop_the_world_s"]) == [0.0, 0.0]


def test_overlapping_spans_of_one_partition_are_counted_once():
    # a hand-over where the old owner's span is closed late: the partition is owned
    # throughout, whoever holds it
    spans = [
        AssignmentSpan("g", "g-0", tp(0), 1, 0.0, 11.0),
        AssignmentSpan("g", "g-1", tp(0), 2, 10.5, None),
    ]
    outcome = group_outcome([rebalance("g", 2, 10.0, 12.0)], spans, RUN_END, {"g": 1})
    assert outcome.rebalances.iloc[0][["stop_the_world_s", "paused_partition_s"]].tolist() == [0.0, 0.0]


def test_the_frames_have_the_record_fields_and_spans_end_at_the_run_end():
    records, spans = eager()
    outcome = group_outcome(records, spans, RUN_END, {"g": 4})
    assert list(outcome.rebalances.columns) == [
        "group", "generation", "protocol", "assignor", "reason", "started_at", "completed_at",
        "members_before", "members_after", "partitions_moved", "superseded",
        "duration", "stop_the_world_s", "paused_partition_s",
    ]  # fmt: skip
    assert outcome.rebalances.iloc[0]["reason"] == "member g-2 joined"
    frame = outcome.assignments
    assert list(frame.columns) == ["group", "member", "topic", "partition", "generation", "start", "end"]
    assert len(frame) == len(spans)
    still_owned = frame[frame["generation"] == 2]
    assert set(still_owned["end"]) == {RUN_END}
    assert set(frame[frame["generation"] == 1]["end"]) == {10.0}
    assert list(frame["start"]) == sorted(frame["start"])


def test_a_group_without_rebalances_reports_zeros_and_no_nan():
    records, spans = eager()
    outcome = group_outcome(records, spans, RUN_END, {"g": 4, "quiet": 2})
    quiet = {k: v for k, v in outcome.summary.items() if k.endswith(".quiet")}
    assert quiet == {
        "rebalances.quiet": 0,
        "rebalance_total_s.quiet": 0.0,
        "rebalance_longest_s.quiet": 0.0,
        "stop_the_world_total_s.quiet": 0.0,
        "stop_the_world_longest_s.quiet": 0.0,
        "paused_partition_s.quiet": 0.0,
        "partitions_moved.quiet": 0,
    }
    assert outcome.summary["group_rebalances_simulated"] is True
    assert not any(isinstance(v, float) and math.isnan(v) for v in outcome.summary.values())


def test_the_empty_outcome_says_groups_were_not_rebalanced():
    empty = empty_group_outcome()
    assert empty.summary == {"group_rebalances_simulated": False}
    assert len(empty.rebalances) == len(empty.assignments) == 0
    nothing = group_outcome([], [], RUN_END, {"g": 4})
    assert list(empty.rebalances.columns) == list(nothing.rebalances.columns)
    assert list(empty.assignments.columns) == list(nothing.assignments.columns)


@pytest.mark.parametrize(
    ("records", "spans", "message"),
    [
        ([rebalance("other", 2, 1.0, 2.0)], [], "rebalance of group 'other', which is not one of the run's groups"),
        ([rebalance("g", 2, 29.0, 31.0)], [], "started 29s, completed 31s, run ends 30s"),
        ([], [AssignmentSpan("g", "g-0", tp(0), 1, 5.0, 4.0)], "g-0 on t-0: ends at 4s, before it starts at 5s"),
        (
            [],
            [AssignmentSpan("g", "g-0", tp(p), 1, 0.0, None) for p in range(5)],
            "group 'g': spans cover 5 partitions, but the group subscribes to 4",
        ),
    ],
)
def test_records_that_cannot_describe_the_run_are_refused(records, spans, message):
    with pytest.raises(ValueError, match=message):
        group_outcome(records, spans, RUN_END, {"g": 4})


def test_delivery_figures_per_group_from_the_checker():
    h = DeliveryHistory()
    tp1 = tp(1)
    h.appended(tp(0), 1, 0, 100, base_offset=0, leader_epoch=0, at=0.0)
    h.appended(tp1, 1, 0, 50, base_offset=0, leader_epoch=0, at=0.0)
    # billing re-reads 30 records after a rebalance; audit skips 20 and reads on
    h.consumed(tp(0), "billing", 0, 80, at=1.0)
    h.consumed(tp(0), "billing", 50, 50, at=2.0)
    h.consumed(tp1, "billing", 0, 50, at=1.0)
    h.consumed(tp(0), "audit", 0, 40, at=1.0)
    h.consumed(tp(0), "audit", 60, 40, at=1.0)
    figures = group_delivery_summary(check(h), ["billing", "audit", "idle"])
    assert figures == {
        "consumed_twice.billing": 30,
        "skipped.billing": 0,
        "consumed_twice.audit": 0,
        "skipped.audit": 20,
        "consumed_twice.idle": 0,
        "skipped.idle": 0,
    }


SCENARIO = """
name: groups
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 4, replication.factor: 3}
producers:
  - {topic: t, rate: 1MB/s, message_size: 1KiB}
consumer_groups:
  - {group.id: g, topics: [t], members: 2}
run: {duration: 2s, warmup: 0.5s, sample_interval: 0.25s, seed: 1, engine: ENGINE}
"""


def test_the_events_engine_reports_each_partitions_owner_and_no_rebalance_when_none_happened():
    r = simulate(parse_scenario(textwrap.dedent(SCENARIO.replace("ENGINE", "events")), "groups.yaml"))
    assert r.summary["group_rebalances_simulated"] is True
    assert len(r.rebalances) == 0 and r.summary["rebalances.g"] == 0
    # the group formed before the run: every partition owned from time zero to the end
    assert len(r.assignments) == 4
    assert (r.assignments.start == 0.0).all() and (r.assignments.generation == 1).all()
    assert r.summary["consumed_twice.g"] == r.summary["skipped.g"] == 0


def test_the_stepped_engine_reports_owners_too_but_counts_no_reads_twice():
    r = simulate(parse_scenario(textwrap.dedent(SCENARIO.replace("ENGINE", "stepped")), "groups.yaml"))
    assert r.summary["group_rebalances_simulated"] is True
    assert len(r.rebalances) == 0 and len(r.assignments) == 4
    assert "consumed_twice.g" not in r.summary  # it keeps no per-record delivery history


def test_build_result_takes_the_groups_outcome():
    scenario = parse_scenario(textwrap.dedent(SCENARIO.replace("ENGINE", "events")), "groups.yaml")
    records, spans = eager()
    outcome = group_outcome(records, spans, RUN_END, {"g": 4})
    accounting = {"failed": {}, "ok": True}
    r = build_result(
        scenario, simulate(scenario).timeseries, LatencyHistogram(), LatencyHistogram(), [0, 1, 2],
        {"g": (2, 0.0)}, accounting, groups=outcome,
    )  # fmt: skip
    assert r.rebalances is outcome.rebalances and r.assignments is outcome.assignments
    assert {k: r.summary[k] for k in outcome.summary} == outcome.summary
    assert "1 rebalance(s), longest stop-the-world 2 s" in repr(r)
