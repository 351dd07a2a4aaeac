"""The flow engine drives the same controller as the events engine: same fencing, same
elections, same preferred-leader returns -- and the produce path reacts as Kafka's does."""

from __future__ import annotations

from pathlib import Path

import pytest

from simkafka.scenario import load_scenario
from simkafka.sim.engine import simulate

ROOT = Path(__file__).resolve().parents[2]


def run(name: str, engine: str, duration: float):
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    return simulate(scenario.with_run(engine=engine, duration=duration, warmup=1.0, sample_interval=0.5))


def decisions(result, reasons=("fenced", "preferred", "controlled_shutdown")):
    """The controller's registrations by reason, as (time, topic, partition, leader, isr)."""
    h = result.partition_history
    h = h[h.reason.isin(reasons)]
    return sorted(
        (round(float(r.time), 6), r.topic, int(r.partition), int(r.leader), tuple(r.isr), r.reason)
        for r in h.itertuples()
    )


@pytest.fixture(scope="module")
def crash():
    return run("broker-crash-acks-all", "flow", 18.0), run("broker-crash-acks-all", "events", 18.0)


def test_a_crash_is_fenced_and_its_leaders_elected_exactly_as_in_the_events_engine(crash):
    flow, events = crash
    assert decisions(flow) == decisions(events)
    assert decisions(flow)  # the crash did move leaders, and they came back preferred
    # fenced at the same instant; unfenced after a log recovery over the same logs, whose
    # sizes a fluid engine knows to within a batch (a fraction of a millisecond here)
    for event, within in (("fenced", 1e-9), ("unfenced", 1e-3)):
        f = flow.timeline[flow.timeline.event == event].time.tolist()
        e = events.timeline[events.timeline.event == event].time.tolist()
        assert f == pytest.approx(e, abs=within), event


def test_acks_all_waits_while_the_dead_broker_is_in_the_isr_then_catches_up(crash):
    flow, _ = crash
    ts = flow.timeseries
    fenced = float(flow.timeline[flow.timeline.event == "fenced"].time.iloc[0])
    # every ISR holds the crashed broker (RF 3 on 3 brokers): no acks=all write completes
    assert ts.loc[3.5:fenced - 0.5, "produce_msgs_per_s"].max() == 0.0
    # once fenced, the records that waited go at once, then the offered rate again
    after = ts.loc[fenced:fenced + 1.0, "produce_msgs_per_s"]
    assert after.max() > 5 * 1000
    assert ts.loc[16.0:, "produce_msgs_per_s"].mean() == pytest.approx(1000, rel=1e-6)
    assert flow.conservation["ok"], flow.conservation


def test_the_restarted_broker_catches_up_and_rejoins_every_isr(crash):
    flow, _ = crash
    t = flow.timeline
    restart = float(t[t.event == "broker_restart"].time.iloc[0])
    expands = t[(t.event == "isr_expand") & (t.time > restart)]
    assert sorted(expands.partition.tolist()) == list(range(6))
    assert flow.timeseries["under_replicated_partitions"].iloc[-1] == 0
    assert flow.summary["faults_not_simulated"] == 0


def test_a_controlled_shutdown_moves_leaders_before_the_broker_stops():
    flow = run("rolling-restart", "flow", 4.0)
    t = flow.timeline
    moved = t[(t.event == "leader_elected") & (t.detail == "controlled_shutdown")]
    stopped = float(t[t.event == "shutdown_completed"].time.iloc[0])
    assert len(moved) > 0 and (moved.time <= stopped).all()
    assert flow.timeseries["produce_msgs_per_s"].loc[2.5:].min() > 0  # acks go on
