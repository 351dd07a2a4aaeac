"""The flow engine's consumer groups drive the same group coordinator and the same client
rules as the stepped engine (:mod:`simkafka.sim.flow_groups`): on the group scenarios both
engines give the same rebalances -- generations, group sizes, partitions moved, who owns
which partition in each generation -- at times within a documented tolerance.

**The tolerance.** A member that keeps up polls continuously in the flow engine; a
saturated one polls once per batch, and the flow engine does not resolve which records
each poll returned, only how long a batch takes. When a member hears of a rebalance
depends on its heartbeat's phase (the same in both engines) and on where it is in its
batch, so times agree within one heartbeat interval plus one ``max.poll.records`` batch
at the group's processing time. For the same reason the *second round* of a
cooperative rebalance may name another member: it starts with whichever member that
revoked partitions polls first ("member X changed its subscription", or "member X leader
rejoined" when that is the leader) -- the round, what it moves and to whom are the same.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simkafka.scenario import load_scenario, parse_scenario
from simkafka.sim.engine import simulate
from simkafka.sim.flow import FlowWorld
from simkafka.sim.flow_groups import FlowGroups
from simkafka.sim.flow_run import FlowProbes, build_result_for, run_flow

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
STEP = 0.005  # the stepped engine's run.step here (5 ms keeps the reference runs short)
LOG = ["group", "generation", "protocol", "assignor", "members_before", "members_after", "partitions_moved"]
SECOND_ROUND = re.compile(r"member \S+ (changed its subscription|leader rejoined)")


def _engine(scenario, engine, **run):
    return scenario.model_copy(update={"run": scenario.run.model_copy(update={"engine": engine, **run})})


def _reason(reason: str) -> str:
    return "second round" if SECOND_ROUND.fullmatch(reason) else reason


def _tolerance(scenario, group_id: str) -> float:
    """One heartbeat interval plus one max.poll.records batch of the group (see the docstring)."""
    spec = next(g for g in scenario.consumer_groups if g.group_id == group_id)
    config = scenario.cluster.config
    heartbeat = (
        config.group_consumer_heartbeat_interval if spec.group_protocol == "consumer" else spec.heartbeat_interval
    )
    return heartbeat + spec.max_poll_records * spec.processing_time_per_record


def _spans(result):
    columns = ["group", "member", "topic", "partition", "generation"]
    return sorted(map(tuple, result.assignments[columns].astype(str).to_numpy().tolist()))


def _owners_at_end(result, end):
    spans = result.assignments
    still = spans[spans.end.isna() | (spans.end >= end - 1e-6)]
    return sorted(map(tuple, still[["group", "member", "topic", "partition"]].astype(str).to_numpy().tolist()))


@pytest.mark.parametrize("name", ["group-scale-out", "rolling-deploy", "slow-consumer-kicked-out"])
def test_the_flow_engine_rebalances_as_the_stepped_engine_does(name):
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    stepped = simulate(_engine(scenario, "stepped", step=STEP))
    flow = simulate(_engine(scenario, "flow"))
    a = stepped.rebalances.sort_values(["group", "generation"]).reset_index(drop=True)
    b = flow.rebalances.sort_values(["group", "generation"]).reset_index(drop=True)
    assert len(a) > 0
    assert a[LOG].to_dict("records") == b[LOG].to_dict("records")
    assert [_reason(r) for r in a.reason] == [_reason(r) for r in b.reason]
    # everything but a cooperative second round names the same member for the same cause
    assert [r for r in a.reason if not SECOND_ROUND.fullmatch(r)] == [r for r in b.reason if not SECOND_ROUND.fullmatch(r)]
    for row_a, row_b in zip(a.itertuples(), b.itertuples(), strict=True):
        tolerance = _tolerance(scenario, row_a.group)
        assert abs(row_a.started_at - row_b.started_at) <= tolerance
        assert abs(row_a.completed_at - row_b.completed_at) <= tolerance
    # who owned which partition in which generation, and at the end
    assert _spans(flow) == _spans(stepped)
    assert _owners_at_end(flow, scenario.run.duration) == _owners_at_end(stepped, scenario.run.duration)
    assert flow.conservation["ok"] is True
    assert flow.summary["faults_not_simulated"] == 0
    assert flow.summary["group_rebalances_simulated"] is True


SMALL = """
name: groups
cluster:
  brokers: 3
  config: {{group.consumer.heartbeat.interval.ms: 1000, group.consumer.min.heartbeat.interval.ms: 1000}}
topics:
  - {{name: t, partitions: 6, replication.factor: 3}}
producers:
  - {{topic: t, rate: 2MB/s, message_size: 1KiB, linger.ms: 5}}
consumer_groups:
  - {{group.id: g, topics: [t], members: {members}, processing_time_per_record: {per_record}, {extra}}}
faults:
  - {fault}
run: {{duration: {duration}s, warmup: 0.5s, sample_interval: 0.5s, seed: 7}}
"""

CLASSIC = "session.timeout.ms: 10000, heartbeat.interval.ms: 1000, "
MEMBERSHIP = {
    "crash, session timeout": ("{type: consumer_crash, at: 2s, group: g, member: 1}", 3, CLASSIC + "max.poll.records: 500", 16, "0.05ms"),
    "eager scale-out": ("{type: consumer_join, at: 4s, group: g}", 2, CLASSIC + "partition.assignment.strategy: range", 10, "0.3ms"),
    "cooperative scale-out": (
        "{type: consumer_join, at: 4s, group: g}", 2, CLASSIC + "partition.assignment.strategy: cooperative-sticky", 10, "0.3ms",
    ),
    "static back within the session": (
        "{type: consumer_crash, at: 2s, group: g, member: 1, restart_after: 4s}", 3, CLASSIC + "group.instance.id: app", 16, "0.05ms",
    ),
    "static back after the session": (
        "{type: consumer_crash, at: 2s, group: g, member: 1, restart_after: 12s}", 3, CLASSIC + "group.instance.id: app", 20, "0.05ms",
    ),
    "graceful leave": ("{type: consumer_leave, at: 3s, group: g, member: 2}", 3, CLASSIC + "enable.auto.commit: true", 16, "0.05ms"),
    "KIP-848 join": ("{type: consumer_join, at: 3s, group: g}", 3, "group.protocol: consumer", 8, "0.05ms"),
}


@pytest.mark.parametrize("case", list(MEMBERSHIP))
def test_membership_faults_rebalance_as_in_the_stepped_engine(case):
    fault, members, extra, duration, per_record = MEMBERSHIP[case]
    text = SMALL.format(fault=fault, members=members, extra=extra, duration=duration, per_record=per_record)
    scenario = parse_scenario(text, "groups.yaml")
    stepped = simulate(_engine(scenario, "stepped", step=STEP))
    flow = simulate(_engine(scenario, "flow"))
    a, b = stepped.rebalances, flow.rebalances
    assert a[LOG].to_dict("records") == b[LOG].to_dict("records")
    assert [_reason(r) for r in a.reason] == [_reason(r) for r in b.reason]
    tolerance = _tolerance(scenario, "g") + STEP
    for column in ("started_at", "completed_at"):
        assert (a[column] - b[column]).abs().max() <= tolerance if len(a) else True
    assert _spans(flow) == _spans(stepped)
    assert _owners_at_end(flow, duration) == _owners_at_end(stepped, duration)
    assert flow.conservation["groups"]["g"]["balanced"] is True
    assert flow.summary["faults_not_simulated"] == 0


def test_a_slow_member_is_removed_and_its_uncommitted_records_are_processed_again():
    scenario = _engine(load_scenario(SCENARIOS / "slow-consumer-kicked-out.yaml"), "flow")
    result = simulate(scenario)
    reasons = list(result.rebalances.reason)
    assert reasons[:2] == ["member risk-scoring-0 left", "member risk-scoring-0.1 joined"]
    # removed max.poll.interval.ms after the poll that took its batch: after the slowdown
    # (4 s) plus the batch in hand, within one batch at the slow pace (200 x 100 ms)
    removed = result.rebalances.started_at.iloc[0]
    assert 4.0 + 15.0 < removed < 4.0 + 15.0 + 20.0
    # it rejoins once that batch (20 s of work) is done
    assert result.rebalances.started_at.iloc[1] >= removed - 15.0 + 20.0 - 1e-6
    assert result.summary["consumed_twice.risk-scoring"] > 0
    groups = result.conservation["groups"]["risk-scoring"]
    assert groups["balanced"] is True


CRASH = """
name: crash
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 6, replication.factor: 3}
producers:
  - {topic: t, rate: 3000 msg/s, message_size: 1KiB, linger.ms: 5}
consumer_groups:
  - {group.id: g, topics: [t], members: 3, session.timeout.ms: 10000, heartbeat.interval.ms: 1000,
     processing_time_per_record: 0.05ms, enable.auto.commit: true, auto.commit.interval.ms: COMMIT}
faults:
  - {type: consumer_crash, at: 7s, group: g, member: 1}
run: {duration: 20s, warmup: 0.5s, sample_interval: 0.5s, seed: 7, engine: flow}
"""


def _crash(commit_ms: int):
    return parse_scenario(CRASH.replace("COMMIT", str(commit_ms)), "crash.yaml")


def test_a_crashed_members_partitions_restart_from_the_last_commit():
    # auto commits every 5 s (at 5 s, then 10 s): the member crashes at 7 s, so the two
    # seconds it processed since its last commit are processed again by the next owners
    result = simulate(_crash(5000))
    spans = result.assignments
    crashed = spans[spans.member == "g-1"]
    per_second = 3000 * len(crashed) / 6  # its partitions' share of the 3000 msg/s
    twice = result.summary["consumed_twice.g"]
    assert twice == pytest.approx(2.0 * per_second, rel=0.03)
    # committing every second instead leaves at most a second to process again
    assert simulate(_crash(1000)).summary["consumed_twice.g"] < 1.01 * per_second
    # the session expires 10 s after the crashed member's last heartbeat
    rebalance = result.rebalances.iloc[0]
    assert rebalance.reason == "member g-1 left" or "g-1" in rebalance.reason
    assert 7.0 + 10.0 - 1.0 <= rebalance.started_at <= 7.0 + 10.0 + 0.01
    assert result.conservation["ok"] is True
    assert result.conservation["groups"]["g"]["balanced"] is True


def _flow_world(scenario, quiet: bool = True):
    world = FlowWorld(scenario)
    if not quiet:
        world.groups._is_quiet = lambda group_id: False  # every heartbeat played
    probes = FlowProbes(world)
    run_flow(world, probes)
    return world, build_result_for(world, probes)


def test_quiet_groups_heartbeats_change_nothing_but_the_work():
    scenario = _engine(load_scenario(SCENARIOS / "rolling-deploy.yaml"), "flow")
    lazy_world, lazy = _flow_world(scenario)
    dense_world, dense = _flow_world(scenario, quiet=False)
    columns = ["group", "generation", "reason", "members_before", "members_after", "partitions_moved"]
    assert lazy.rebalances[columns].equals(dense.rebalances[columns])
    for column in ("started_at", "completed_at"):
        assert (lazy.rebalances[column] - dense.rebalances[column]).abs().max() < 1e-6
    assert _spans(lazy) == _spans(dense)
    assert lazy.summary["consumed_twice.eager"] == dense.summary["consumed_twice.eager"]
    # a deploy leaves the groups few quiet stretches (one every 3 s); the steady group
    # below is where the saving is
    assert lazy_world.groups.played_heartbeats < dense_world.groups.played_heartbeats


def test_a_steady_group_costs_no_heartbeats():
    # an hour of a group that never rebalances: its heartbeats are handed to the coordinator
    # about once per session timeout, not every heartbeat interval, and nothing rebalances
    text = CRASH.replace("COMMIT", "5000").replace(
        "faults:\n  - {type: consumer_crash, at: 7s, group: g, member: 1}\n", ""
    ).replace("duration: 20s", "duration: 3600s").replace("sample_interval: 0.5s", "sample_interval: 60s")
    world, result = _flow_world(parse_scenario(text, "steady.yaml"))
    groups: FlowGroups = world.groups
    assert len(result.rebalances) == 0
    assert groups.played_heartbeats <= 3  # the members' first beats find the group quiet
    # fed when the earliest session deadline comes (its member's last beat, up to one
    # heartbeat interval before the feed, plus session.timeout.ms): each member about
    # once per (session.timeout.ms - heartbeat.interval.ms), against 3,600 beats played
    assert groups.fed_heartbeats <= 3 * (3600 / (10.0 - 1.0) + 1)
    assert world.solves < 20


def test_the_flow_engines_groups_are_deterministic():
    scenario = _engine(load_scenario(SCENARIOS / "rolling-deploy.yaml"), "flow")
    a, b = simulate(scenario), simulate(scenario)
    assert a.rebalances.equals(b.rebalances)
    assert a.assignments.equals(b.assignments)
    assert a.timeseries.equals(b.timeseries)
    assert repr(a.summary) == repr(b.summary)
