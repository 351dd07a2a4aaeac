"""The consumer-group scenarios of scenarios/ show what their headers say.

Each file is run whole in the events engine (once; each is a few seconds) and its headline
asserted from the run itself: the rolling deploy's three protocols side by side, the
scale-out from 3 to 12 members, and the slow member kicked out of its group.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from simkafka.scenario import load_scenario
from simkafka.sim.engine import run_world, summarise
from simkafka.sim.probes import Probes
from simkafka.sim.world import World

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
# a member applies a SyncGroup answer at its next poll(), a round trip after the
# coordinator completed the rebalance: well under this
APPLIED_WITHIN = 0.1


def _play(scenario, watch: tuple[str, int] | None = None):
    """Run; with ``watch`` (group, member), also sample that member's last poll() time
    and the size of the batch it is processing every 50 ms."""
    world = World(scenario)
    probes = Probes(world, scenario.run.sample_interval)
    samples: list[tuple[float, float, int]] = []
    if watch is not None:
        member = world.groups[watch[0]][watch[1]]

        def sample():
            while True:
                samples.append((world.env.now, member.membership.last_poll, member.processing_messages))
                yield world.env.timeout(0.05)

        world.env.process(sample())
    run_world(world, probes)
    return world, summarise(world, probes), samples


@cache
def _run(name: str, watch: tuple[str, int] | None = None):
    return _play(load_scenario(SCENARIOS / f"{name}.yaml"), watch)


def _spans(result, group: str):
    return result.assignments[result.assignments.group == group]


def _owners_at_end(result, group: str) -> dict[str, list[int]]:
    spans = _spans(result, group)
    last = spans[spans.end == spans.end.max()]
    return {m: sorted(rows.partition) for m, rows in last.groupby("member")}


# ---- rolling-deploy ----------------------------------------------------------------------------


def test_rolling_deploy_restarts_every_member_of_the_three_groups_alike():
    world, result, _ = _run("rolling-deploy")
    assert result.conservation["ok"] is True
    for fault in world.scenario.faults:
        spec = world.group_specs[fault.group]
        left = [r for r in world.group_driver.removals if r.group == fault.group]
        # each member closed (LeaveGroup) in turn, pace apart: close() is called between
        # two batches, so it waits for the batch in hand (at most max.poll.records of them)
        assert [r.member for r in left] == [f"{fault.group}-{i}" for i in range(spec.members)]
        assert all(r.reason == "left" for r in left)
        batch = spec.max_poll_records * spec.processing_time_per_record
        for i, removal in enumerate(left):
            assert fault.at + i * fault.pace <= removal.at <= fault.at + i * fault.pace + batch + 0.01
        # and the new processes own the partitions at the end, two each
        partitions = world.scenario.topic(spec.topics[0]).partitions
        owners = _owners_at_end(result, fault.group)
        assert sorted(owners) == [f"{fault.group}-{i}.1" for i in range(spec.members)]
        assert all(len(p) == partitions // spec.members for p in owners.values())


def test_rolling_deploy_eager_revokes_everything_in_every_rebalance():
    world, result, _ = _run("rolling-deploy")
    rebalances = result.rebalances[result.rebalances.group == "eager"]
    spans = _spans(result, "eager")
    partitions = world.scenario.topic("orders").partitions
    assert len(rebalances) >= world.group_specs["eager"].members  # at least one per restart
    for record in rebalances.itertuples():
        # the whole group owned nothing between the last JoinGroup and the SyncGroup answers
        assert record.stop_the_world_s > 0
        # and every partition was handed out anew, not only the moved ones
        granted = spans[(spans.start >= record.started_at) & (spans.start <= record.completed_at + APPLIED_WITHIN)]
        assert set(granted.partition) == set(range(partitions)), record.reason
    assert result.summary["stop_the_world_total_s.eager"] == pytest.approx(rebalances.stop_the_world_s.sum())


def test_rolling_deploy_cooperative_and_kip848_pause_only_what_moves_and_never_stop_the_group():
    _, result, _ = _run("rolling-deploy")
    summary = result.summary
    for group in ("cooperative", "kip848"):
        rebalances = result.rebalances[result.rebalances.group == group]
        assert (rebalances.stop_the_world_s == 0).all()
        assert summary[f"stop_the_world_total_s.{group}"] == 0
        # an unmoved partition keeps its owner: few ownerships change hands
        changed = (_spans(result, group).start > 0).sum()
        assert changed <= rebalances.partitions_moved.sum()
    # cooperative: a join takes two rounds, the first of which moves nothing
    cooperative = result.rebalances[result.rebalances.group == "cooperative"]
    joins = cooperative[cooperative.reason.str.fullmatch(r"member \S+ joined")]
    assert len(joins) > 0 and (joins.partitions_moved == 0).all()
    assert (result.rebalances[result.rebalances.group == "kip848"].protocol == "consumer").all()
    # eager pays for its revoke-everything rebalances in partition-seconds and in lag
    eager_paused = summary["paused_partition_s.eager"]
    assert eager_paused > 1.5 * summary["paused_partition_s.cooperative"]
    assert eager_paused > 1.5 * summary["paused_partition_s.kip848"]
    assert summary["max_lag.eager"] > max(summary["max_lag.cooperative"], summary["max_lag.kip848"])
    # a cooperative member revokes in the second round without committing what it
    # processed since the first round's auto commit: those records are read again
    assert summary["consumed_twice.cooperative"] > 0
    assert summary["consumed_twice.eager"] == 0 and summary["consumed_twice.kip848"] == 0


def test_rolling_deploy_with_static_membership_rebalances_not_at_all():
    # the header's claim: the same deploy of the eager group with group.instance.id (each
    # new process back within session.timeout.ms) causes no rebalance
    scenario = load_scenario(SCENARIOS / "rolling-deploy.yaml")
    eager = next(g for g in scenario.consumer_groups if g.group_id == "eager")
    deploy = next(f for f in scenario.faults if f.group == "eager")
    assert deploy.downtime < eager.session_timeout
    static = scenario.model_copy(update={
        "consumer_groups": (eager.model_copy(update={"group_instance_id": "orders-app"}),),
        "faults": (deploy,),
    })
    world, result, _ = _play(static)
    assert len(result.rebalances) == 0
    # each new process fenced its old incarnation and took back exactly its partitions
    assert [r.reason for r in world.group_driver.removals] == ["fenced"] * eager.members
    spans = _spans(result, "eager")
    for i in range(eager.members):
        before = sorted(spans[spans.member == f"eager-{i}"].partition)
        after = sorted(spans[spans.member == f"eager-{i}.1"].partition)
        assert before == after and len(before) == 2
    _, dynamic, _ = _run("rolling-deploy")
    assert result.summary["max_lag.eager"] < dynamic.summary["max_lag.eager"]


# ---- group-scale-out -----------------------------------------------------------------------------


def test_scale_out_ends_with_twelve_members_and_the_lag_drained():
    world, result, _ = _run("group-scale-out")
    assert result.conservation["ok"] is True
    spec = world.group_specs["enrichment"]
    (join,) = world.scenario.faults
    partitions = world.scenario.topic("clicks").partitions
    # one partition per member at the end
    owners = _owners_at_end(result, "enrichment")
    assert len(owners) == spec.members + join.count == partitions
    assert sorted(p for ps in owners.values() for p in ps) == list(range(partitions))
    # cooperative: a first round that moves nothing, a second that hands over the nine
    rebalances = result.rebalances
    assert list(rebalances.partitions_moved) == [0, partitions - spec.members]
    assert rebalances.members_after.iloc[-1] == partitions
    assert (rebalances.stop_the_world_s == 0).all()
    # three members cannot keep up: the lag grows before the join at least at the
    # producer's rate minus their processing capacity
    lag = result.timeseries["lag.enrichment"]
    rate = world.scenario.producers[0].rate.messages_per_second
    capacity = spec.members / spec.processing_time_per_record
    assert lag[lag.index < join.at].iloc[-1] > 0.8 * (rate - capacity) * join.at
    # and it peaks after the join (the rebalance takes a while) and drains
    peak_at = lag.idxmax()
    assert peak_at > join.at
    assert peak_at < rebalances.completed_at.iloc[-1] + 5.0
    assert lag.iloc[-1] < lag.max() / 10


# ---- slow-consumer-kicked-out ----------------------------------------------------------------


def test_slow_member_is_removed_at_its_poll_timeout_and_its_partitions_go_to_the_others():
    world, result, samples = _run("slow-consumer-kicked-out", ("risk-scoring", 0))
    assert result.conservation["ok"] is True
    spec = world.group_specs["risk-scoring"]
    (slow,) = world.scenario.faults
    (removal,) = world.group_driver.removals
    assert (removal.member, removal.reason) == ("risk-scoring-0", "left")
    # max.poll.interval.ms after its last poll() before the removal (noticed by the
    # heartbeat thread, which runs every heartbeat.interval.ms here)
    last_poll = max(p for t, p, _ in samples if t < removal.at)
    assert last_poll > slow.at
    assert spec.max_poll_interval <= removal.at - last_poll <= spec.max_poll_interval + spec.heartbeat_interval
    # the batch it was processing is longer than max.poll.interval.ms at the slowed rate
    batch = max(n for t, p, n in samples if p == last_poll)
    assert batch * spec.processing_time_per_record * slow.factor > spec.max_poll_interval
    # the LeaveGroup rebalanced the group at once, and the others took its partitions
    first = result.rebalances.iloc[0]
    assert first.reason == "member risk-scoring-0 left"
    assert first.started_at == pytest.approx(removal.at, abs=0.01)
    spans = _spans(result, "risk-scoring")
    owned_before = set(spans[(spans.member == "risk-scoring-0") & (spans.start == 0)].partition)
    taken = spans[(spans.start >= first.started_at) & (spans.start <= first.completed_at + APPLIED_WITHIN)]
    assert set(taken.partition) == owned_before
    assert not set(taken.member) & {"risk-scoring-0"}


def test_slow_member_rejoins_and_what_it_processed_after_its_last_commit_is_processed_twice():
    world, result, samples = _run("slow-consumer-kicked-out", ("risk-scoring", 0))
    (removal,) = world.group_driver.removals
    spec = world.group_specs["risk-scoring"]
    # it joins again as a new member once its batch is done, and owns partitions again
    later = result.rebalances[result.rebalances.started_at > removal.at]
    assert later.reason.iloc[0] == "member risk-scoring-0.1 joined"
    owners = _owners_at_end(result, "risk-scoring")
    assert len(owners.get("risk-scoring-0.1", [])) == world.scenario.topic("payments").partitions // spec.members
    # the whole batch it processed as a zombie was processed again by the new owners
    last_poll = max(p for t, p, _ in samples if t < removal.at)
    batch = max(n for t, p, n in samples if p == last_poll)
    assert result.summary["consumed_twice.risk-scoring"] >= batch
    assert result.summary["skipped.risk-scoring"] == 0
    # the lag grew while its partitions had no working owner, and drained after
    lag = result.timeseries["lag.risk-scoring"]
    assert lag.idxmax() > removal.at - spec.max_poll_interval
    assert lag.iloc[-1] < lag.max() / 10
