"""The stepped engine's consumer groups drive the same group coordinator as the events
engine, with the same client rules: on the scenarios of ``test_groups.py`` both engines give
the same rebalances (reasons, generations, group sizes, partitions moved) and the same
final owners, at times within a step plus one heartbeat interval of each other.
"""

from __future__ import annotations

import textwrap

import pytest

from simkafka.scenario import parse_scenario
from simkafka.sim.engine import played_fault_types, simulate
from simkafka.sim.stepped import SteppedWorld
from simkafka.sim.stepped_run import SteppedProbes, build_result_for, run_stepped, simulate_stepped

# the scenarios of test_groups.py
BASE = """
name: groups
cluster: {{brokers: 3}}
topics:
  - {{name: t, partitions: 6, replication.factor: 3}}
producers:
  - {{topic: t, rate: 2MB/s, message_size: 1KiB, linger.ms: 5}}
consumer_groups:
  - {{group.id: g, topics: [t], members: {members}, session.timeout.ms: 10000,
     heartbeat.interval.ms: 1000, processing_time_per_record: {per_record}, {extra}}}
faults:
{faults}
run: {{duration: {duration}s, warmup: 0.5s, sample_interval: 0.5s, seed: 7}}
"""

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


def _scenario(faults: str, members: int = 3, extra: str = "", duration: float = 16, per_record: str = "0.05ms"):
    text = BASE.format(
        members=members, extra=extra or "max.poll.records: 500", faults=textwrap.indent(faults, "  "),
        duration=duration, per_record=per_record,
    )
    return parse_scenario(text, "groups.yaml")


def _events(scenario):
    return simulate(scenario.model_copy(update={"run": scenario.run.model_copy(update={"engine": "events"})}))


def _stepped_world(scenario):
    world = SteppedWorld(_stepped(scenario))
    probes = SteppedProbes(world)
    run_stepped(world, probes)
    return world, build_result_for(world, probes)

STEP = 0.005  # the stepped engine's run.step here (5 ms keeps these runs fast)
HEARTBEAT = 1.0  # heartbeat.interval.ms (classic) and group.consumer.heartbeat.interval.ms
TOLERANCE = STEP + HEARTBEAT + 1e-6

CASES = {
    "crash, session timeout": lambda: _scenario("- {type: consumer_crash, at: 2s, group: g, member: 1}"),
    "eager scale-out": lambda: _scenario(
        "- {type: consumer_join, at: 4s, group: g}", members=2,
        extra="partition.assignment.strategy: range", duration=10, per_record="0.3ms",
    ),
    "cooperative scale-out": lambda: _scenario(
        "- {type: consumer_join, at: 4s, group: g}", members=2,
        extra="partition.assignment.strategy: cooperative-sticky", duration=10, per_record="0.3ms",
    ),
    "static back within the session": lambda: _scenario(
        "- {type: consumer_crash, at: 2s, group: g, member: 1, restart_after: 4s}",
        extra="group.instance.id: app",
    ),
    "static back after the session": lambda: _scenario(
        "- {type: consumer_crash, at: 2s, group: g, member: 1, restart_after: 12s}",
        extra="group.instance.id: app", duration=20,
    ),
    "graceful leave": lambda: _scenario(
        "- {type: consumer_leave, at: 3s, group: g, member: 2}", extra="enable.auto.commit: true",
    ),
    "KIP-848 join": lambda: parse_scenario(KIP848, "kip848.yaml"),
}


def _stepped(scenario):
    return scenario.model_copy(update={"run": scenario.run.model_copy(update={"engine": "stepped", "step": STEP})})


def _owners_at_end(result, end):
    spans = result.assignments
    still = spans[spans.end >= end - 1e-9]
    return {m: sorted((r.topic, r.partition) for r in rows.itertuples()) for m, rows in still.groupby("member")}


LOG = ["group", "generation", "protocol", "reason", "members_before", "members_after", "partitions_moved"]


@pytest.mark.parametrize("case", list(CASES))
def test_the_stepped_engine_rebalances_as_the_events_engine_does(case):
    scenario = CASES[case]()
    events = _events(scenario)
    stepped = simulate_stepped(_stepped(scenario))
    a, b = events.rebalances, stepped.rebalances
    assert a[LOG].to_dict("records") == b[LOG].to_dict("records")
    for column in ("started_at", "completed_at"):
        assert (a[column] - b[column]).abs().max() <= TOLERANCE if len(a) else True
    end = scenario.run.duration
    assert _owners_at_end(stepped, end) == _owners_at_end(events, end)
    assert stepped.conservation["ok"] is True
    assert stepped.summary["faults_not_simulated"] == 0
    assert stepped.summary.get("group_rebalances_simulated", True) is not False


def test_a_slow_poll_loop_is_removed_in_both_engines_and_rejoins_after_its_batch():
    # 200 ms per record: the batch its poll() takes after the slowdown outlasts
    # max.poll.interval.ms, the heartbeat thread leaves the group, and the member rejoins
    # as a new member at the poll after that batch
    scenario = _scenario(
        "- {type: consumer_slow, at: 2s, group: g, member: 0, factor: 2000}",
        extra="max.poll.interval.ms: 3000", per_record="0.1ms", duration=11,
    )
    events = _events(scenario)
    world, stepped = _stepped_world(scenario)
    a, b = events.rebalances, stepped.rebalances
    assert list(a.reason) == list(b.reason) == ["member g-0 left", "member g-0.1 joined"]
    assert a[LOG].to_dict("records") == b[LOG].to_dict("records")
    assert world.group_plane.members["g"][0].membership.poll_timeouts >= 1
    # the removal comes max.poll.interval.ms after the member's last poll() in both
    # engines; which poll was the last -- how long its last batches took -- is each
    # engine's processing model, so both fall between slowdown + 3 s and slowdown + 6 s
    for removal in (a.iloc[0], b.iloc[0]):
        assert 2.0 + 3.0 <= removal.started_at <= 2.0 + 2 * 3.0
    # it rejoins once its batch is done, which is after the removal in both
    assert b.started_at.iloc[1] > b.completed_at.iloc[0]
    end = scenario.run.duration
    assert _owners_at_end(stepped, end) == _owners_at_end(events, end)
    assert stepped.conservation["ok"] is True


def test_a_crash_is_reprocessed_by_the_next_owner_from_the_last_commit():
    # auto commit every 2 s: what the crashed member processed since its last commit is
    # processed again by the survivor that takes its partitions
    world, result = _stepped_world(_scenario(
        "- {type: consumer_crash, at: 3.3s, group: g, member: 0}", members=2,
        extra="enable.auto.commit: true, auto.commit.interval.ms: 2000", duration=16,
    ))
    assert int(world.reprocessed[0]) > 0
    # the group read everything, some of it twice: its members processed more records
    # than the partitions' high watermarks hold
    assert result.conservation["ok"] is True
    (record,) = result.rebalances.itertuples()
    assert record.reason == "member g-0 session timeout"
    # while nobody owned its partitions, lag grew; the survivor caught up afterwards
    lag = result.timeseries["lag.g"]
    assert lag[(lag.index > 4) & (lag.index < record.started_at)].min() > lag[lag.index < 3].max()
    assert lag.iloc[-1] < lag[(lag.index > 4) & (lag.index < record.started_at)].max()


def test_same_seed_same_rebalance_log():
    scenario = _stepped(_scenario(
        "- {type: consumer_join, at: 3s, group: g, count: 2}\n"
        "- {type: consumer_crash, at: 5s, group: g, member: 0}\n"
        "- {type: rolling_restart, at: 8s, group: g, pace: 1s, downtime: 0.5s}",
        extra="partition.assignment.strategy: cooperative-sticky",
    ))
    a, b = simulate_stepped(scenario), simulate_stepped(scenario)
    assert len(a.rebalances) >= 3
    assert a.rebalances.equals(b.rebalances) and a.assignments.equals(b.assignments)
    assert a.conservation["ok"] is True


def test_the_stepped_engine_plays_the_consumer_faults():
    assert {"consumer_crash", "consumer_leave", "consumer_join", "consumer_slow", "rolling_restart"} <= (
        played_fault_types("stepped")
    )
    assert "broker_crash" not in played_fault_types("stepped")
