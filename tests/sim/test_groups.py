"""Consumer groups that live, in the events engine: members crash, join, slow down and come
back, and the group rebalances as Kafka's does -- when the coordinator notices, with the
assignment the configured assignor computes, eager or cooperative, and with the delivery
outcome the group's commit order implies.
"""

from __future__ import annotations

import textwrap

import pytest

from simkafka.model.assignors import GroupSpec, MemberSubscription, classic_assignor
from simkafka.model.types import TopicPartition
from simkafka.scenario import parse_scenario
from simkafka.sim.engine import run_world, summarise
from simkafka.sim.probes import Probes
from simkafka.sim.world import World

BASE = """
name: groups
cluster: {{brokers: 3}}
topics:
  - {{name: t, partitions: 6, replication.factor: 3}}
producers:
  - {{topic: t, rate: 2MB/s, message_size: 1KiB, linger.ms: 5{producer}}}
consumer_groups:
  - {{group.id: g, topics: [t], members: {members}, session.timeout.ms: 10000,
     heartbeat.interval.ms: 1000, processing_time_per_record: {per_record}, {extra}}}
faults:
{faults}
run: {{duration: {duration}s, warmup: 0.5s, sample_interval: 0.5s, seed: 7}}
"""


def _scenario(faults: str, members: int = 3, extra: str = "", duration: float = 16,
              per_record: str = "0.05ms", producer: str = ""):
    text = BASE.format(
        members=members, extra=extra or "max.poll.records: 500", faults=textwrap.indent(faults, "  "),
        duration=duration, per_record=per_record, producer=producer,
    )
    return parse_scenario(text, "groups.yaml")


def _play(scenario, trace: float | None = None):
    """Run; with ``trace``, also sample the group's position per partition every ``trace`` s."""
    world = World(scenario)
    probes = Probes(world, scenario.run.sample_interval)
    positions: list[tuple[float, dict]] = []
    if trace:
        def sample():
            while True:
                positions.append((world.env.now, dict(world.group_driver.position)))
                yield world.env.timeout(trace)
        world.env.process(sample())
    run_world(world, probes)
    return world, summarise(world, probes), positions


def _owners_at_end(result, group="g"):
    spans = result.assignments[result.assignments.group == group]
    last = spans[spans.end == spans.end.max()]
    return {
        member: sorted(TopicPartition(r.topic, r.partition) for r in rows.itertuples())
        for member, rows in last.groupby("member")
    }


def test_a_crashed_member_is_removed_after_the_session_timeout_and_survivors_get_the_assignors_answer():
    world, result, _ = _play(_scenario("- {type: consumer_crash, at: 2s, group: g, member: 1}"))
    (removal,) = world.group_driver.removals
    assert (removal.member, removal.reason) == ("g-1", "session_timeout")
    # g-1 heartbeats every second from 2/3 s (members are phased by index): its last one
    # left at 1.667 s, so the coordinator gives up on it one session later
    assert removal.at == pytest.approx(1 + 2 / 3 + 10.0, abs=0.01)
    (record,) = result.rebalances.itertuples()
    assert record.started_at == removal.at and record.reason == "member g-1 session timeout"
    assert (record.members_before, record.members_after) == (3, 2)
    survivors = ["g-0", "g-2"]
    expected = classic_assignor("range").assign(
        GroupSpec({"t": 6}, {m: MemberSubscription(m, ("t",)) for m in survivors})
    )
    assert _owners_at_end(result) == {m: expected[m] for m in survivors}
    assert result.conservation["ok"] is True


@pytest.mark.parametrize("strategy", ["range", "cooperative-sticky"])
def test_scale_out_cooperative_keeps_unmoved_partitions_flowing_eager_stops_them_all(strategy):
    scenario = _scenario(
        "- {type: consumer_join, at: 4s, group: g}",
        members=2,
        extra=f"partition.assignment.strategy: {strategy}",
        duration=10,
        per_record="0.3ms",
    )
    world, result, positions = _play(scenario, trace=0.02)
    rebalances = result.rebalances
    start, end = rebalances.started_at.min(), rebalances.completed_at.max()
    spans = result.assignments
    tps = [TopicPartition("t", p) for p in range(6)]

    def owners(tp):
        rows = spans[(spans.topic == tp.topic) & (spans.partition == tp.partition)]
        return list(rows.itertuples())

    def progressed(tp):
        before = [p for t, p in positions if t <= start][-1].get(("g", tp), 0)
        after = [p for t, p in positions if t <= end][-1].get(("g", tp), 0)
        return after > before

    if strategy == "range":
        assert len(rebalances) == 1
        # every member revoked everything before rejoining: each partition changed hands
        # (or came back to its owner) through a gap with no owner
        for tp in tps:
            assert len(owners(tp)) == 2
        assert rebalances.paused_partition_s.iloc[0] > 0
    else:
        assert len(rebalances) == 2  # the second round hands over the withheld partitions
        moved = [tp for tp in tps if len(owners(tp)) > 1]
        kept = [tp for tp in tps if len(owners(tp)) == 1]
        assert len(moved) == 2 and len(kept) == 4
        for tp in kept:  # owned throughout, and read during the rebalance
            (span,) = owners(tp)
            assert span.start == 0.0 and span.end == pytest.approx(10.0)
            assert progressed(tp)
        assert rebalances.stop_the_world_s.sum() == 0.0
    assert result.conservation["ok"] is True


def test_static_member_back_within_the_session_timeout_causes_no_rebalance():
    world, result, _ = _play(_scenario(
        "- {type: consumer_crash, at: 2s, group: g, member: 1, restart_after: 4s}",
        extra="group.instance.id: app",
    ))
    assert len(result.rebalances) == 0
    assert [r.reason for r in world.group_driver.removals] == ["fenced"]  # its old incarnation
    assert result.conservation["ok"] is True


def test_static_member_back_after_the_session_timeout_is_removed_then_rejoins():
    world, result, _ = _play(_scenario(
        "- {type: consumer_crash, at: 2s, group: g, member: 1, restart_after: 12s}",
        extra="group.instance.id: app",
        duration=20,
    ))
    reasons = list(result.rebalances.reason)
    assert reasons == ["member g-1 session timeout", "member g-1.1 joined"]
    assert result.rebalances.started_at.iloc[1] > 14.0


def test_a_poll_loop_slower_than_max_poll_interval_gets_the_member_removed():
    world, result, _ = _play(_scenario(
        "- {type: consumer_slow, at: 2s, group: g, member: 0, factor: 200}",
        extra="max.poll.interval.ms: 3000",
        per_record="0.1ms",
    ))
    member = world.groups["g"][0]
    assert member.membership.poll_timeouts >= 1
    first = world.group_driver.removals[0]
    assert (first.member, first.reason) == ("g-0", "left")
    record = result.rebalances.iloc[0]
    assert record.reason == "member g-0 left"
    # its partitions went to the two others, as range computes for them
    spans = result.assignments
    after = spans[(spans.start >= record.completed_at - 1e-9) & (spans.start <= record.completed_at)]
    expected = classic_assignor("range").assign(
        GroupSpec({"t": 6}, {m: MemberSubscription(m, ("t",)) for m in ["g-1", "g-2"]})
    )
    got = {m: sorted(TopicPartition(r.topic, r.partition) for r in rows.itertuples())
           for m, rows in after.groupby("member")}
    for m in ["g-1", "g-2"]:
        assert set(expected[m]) >= set(got.get(m, []))
    assert set().union(*[set(v) for v in got.values()]) | {
        tp for m in ["g-1", "g-2"] for tp in expected[m]
    } == {TopicPartition("t", p) for p in range(6)}


@pytest.mark.parametrize("delivery", ["at-least-once", "at-most-once", "exactly-once"])
def test_delivery_after_a_crash(delivery):
    auto = "enable.auto.commit: true, auto.commit.interval.ms: 2000, " if delivery == "at-least-once" else ""
    world, result, _ = _play(_scenario(
        "- {type: consumer_crash, at: 3.3s, group: g, member: 0}",
        members=2,
        extra=auto + f"delivery: {delivery}",
        # busier than it can keep up with, so the crash comes mid-batch; then the load
        # drops so the survivor reads everything the crash left behind before the end
        per_record="1.5ms",
        producer=", profile: {type: step, steps: [{at: 4s, factor: 0.1}]}",
        duration=24,
    ))
    member = world.groups["g"][0]
    twice, skipped = result.summary["consumed_twice.g"], result.summary["skipped.g"]
    # the summary carries what the crash left behind, as the member counted it
    assert result.summary["uncommitted_at_crash.g"] == member.uncommitted_at_crash
    assert result.summary["unprocessed_at_crash.g"] == member.unprocessed_at_crash
    if delivery == "at-least-once":
        assert member.uncommitted_at_crash > 0
        assert twice == member.uncommitted_at_crash and skipped == 0
    elif delivery == "at-most-once":
        assert member.unprocessed_at_crash > 0
        assert skipped == member.unprocessed_at_crash and twice == 0
    else:
        assert twice == 0 and skipped == 0
        assert member.aborted_messages > 0  # its open transaction aborted
    assert result.conservation["ok"] is True


@pytest.mark.parametrize(
    ("duration", "survivor"),
    [(6, "not yet given the crashed member's partitions"),
     (14, "owns them and has not read up to the committed offset"),
     (16, "has read past the committed offset")],
)
def test_at_most_once_records_committed_and_never_read_are_in_the_group_ledger(duration, survivor):
    """An at-most-once member commits before it processes: what it had not processed
    when it died is skipped. Until the next owner reads past the committed offset those
    records are neither holes in what the group read nor lag -- the ledger must count
    them as committed, not read, whenever the run ends."""
    world, result, _ = _play(_scenario(
        "- {type: consumer_crash, at: 3.3s, group: g, member: 0}",
        members=2,
        extra="delivery: at-most-once",
        per_record="1.5ms",
        producer=", profile: {type: step, steps: [{at: 4s, factor: 0.1}]}",
        duration=duration,
    ))
    crashed = world.groups["g"][0]
    assert crashed.unprocessed_at_crash > 0
    ledger = result.conservation["groups"]["g"]
    committed_not_read, holes = ledger["committed_not_read"], ledger["skipped_in_holes"]
    # every record the crash left committed and unprocessed is in exactly one place
    assert committed_not_read + holes == crashed.unprocessed_at_crash
    # the delivery checker's skipped are the holes below what the group read
    assert result.summary["skipped.g"] == holes
    # nothing was below where the group began: all it skipped is the crash's
    assert ledger["skipped_at_start"] == crashed.unprocessed_at_crash
    assert (
        ledger["consumed"] + ledger["fetched_not_polled"] + ledger["fetch_in_transit"]
        + ledger["being_processed"] + ledger["lag_not_fetched"] + ledger["skipped_at_start"]
        == ledger["below_high_watermark"]
    )
    survivor_owns = len(world.groups["g"][1].assignment) == 6
    if duration == 6:
        assert not survivor_owns, survivor
        assert committed_not_read == crashed.unprocessed_at_crash
    elif duration == 14:
        assert survivor_owns, survivor
        assert committed_not_read == crashed.unprocessed_at_crash
    else:
        assert survivor_owns, survivor
        assert holes == crashed.unprocessed_at_crash
    assert ledger["balanced"] is True and result.conservation["ok"] is True


def test_same_seed_same_rebalance_log():
    scenario = _scenario(
        "- {type: consumer_join, at: 3s, group: g, count: 2}\n"
        "- {type: consumer_crash, at: 5s, group: g, member: 0}",
        extra="partition.assignment.strategy: cooperative-sticky",
    )
    _, a, _ = _play(scenario)
    _, b, _ = _play(scenario)
    assert len(a.rebalances) >= 2
    assert a.rebalances.equals(b.rebalances) and a.assignments.equals(b.assignments)


KIP848 = """
name: kip848
cluster:
  brokers: 3
  config: {group.consumer.heartbeat.interval.ms: 1000, group.consumer.min.heartbeat.interval.ms: 1000}
topics:
  - {name: t, partitions: 6, replication.factor: 3}
producers:
  - {topic: t, rate: 2MB/s, message_size: 1KiB, linger.ms: 5}
consumer_groups:
  - {group.id: g, topics: [t], members: 3, group.protocol: consumer, processing_time_per_record: 0.05ms}
faults:
  - {type: consumer_join, at: 3s, group: g}
run: {duration: 8s, warmup: 0.5s, sample_interval: 0.5s, seed: 7}
"""


def test_kip848_scale_out_moves_only_what_the_assignor_moves_without_a_barrier():
    world, result, _ = _play(parse_scenario(KIP848, "kip848.yaml"))
    (record,) = result.rebalances.itertuples()
    assert record.reason == "member g-3 joined" and record.protocol == "consumer"
    machine = world.group_driver.coordinator.groups["g"]
    # the final owners are the coordinator's target, and only the moved partitions paused
    owners = _owners_at_end(result)
    assert owners == {m: sorted(machine.target(m)) for m in machine.members() if machine.target(m)}
    spans = result.assignments
    moved = {(r.topic, r.partition) for r in spans.itertuples() if r.start > 0}
    assert len(moved) == record.partitions_moved
    assert record.stop_the_world_s == 0.0
    # the old owner releases on its next heartbeat and the new one takes it on its own:
    # at most two heartbeat intervals (1 s each) after the join
    assert record.completed_at - record.started_at <= 2.0 + 0.01
    assert result.conservation["ok"] is True


def test_graceful_leave_rebalances_at_once_and_reads_nothing_twice():
    world, result, _ = _play(_scenario(
        "- {type: consumer_leave, at: 3s, group: g, member: 2}",
        extra="enable.auto.commit: true",
    ))
    (record,) = result.rebalances.itertuples()
    assert record.reason == "member g-2 left"
    assert record.started_at == pytest.approx(3.0, abs=0.01)  # LeaveGroup, not a timeout
    assert result.summary["consumed_twice.g"] == 0  # it committed before leaving
    assert "uncommitted_at_crash.g" not in result.summary  # nobody crashed
    assert result.conservation["ok"] is True
