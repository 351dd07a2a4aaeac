"""Uneven leader traffic near saturation (issue 11): both engines against a hand calculation.

benchmarks/scenarios/uneven-leaders.yaml puts all six leaders on broker 0 (RF 3, one
consumer group, 1 GbE, 50 MB/s offered). By hand:

* fan-out: every byte appended on broker 0 leaves it RF - 1 = 2 times to its followers and
  once to the group, so broker 0's egress is 3x the produce throughput and brokers 1 and 2
  send only fetch requests;
* ceiling: broker 0's NIC (125 MB/s of line rate, 117.7 MB/s of payload after TCP/IP and
  Ethernet framing) allows 117.7 / 3 = 39.2 MB/s, but with ``acks=all`` a
  byte is acknowledged on the followers' fetch *after* the one that carried it, so each
  byte is in flight for two fetch cycles and the producers' window W (producers x
  max.in.flight x partitions x batch.size) carries D = W / 2 per cycle. A cycle sends D
  three times at the NIC's speed C, then waits one fetch loop L (a round trip, the
  follower's append and the leader's read of the next response, each a request's CPU plus
  D bytes' CPU) with nothing to send. Throughput is D / (3 D / C + L).

The stepped engine used to answer a fetcher's next fetch in the step after its response
crossed and to move the high watermark at the follower's append; it ran broker 0's NIC at
99 % whatever the latency, 8 % above the events engine (which has the fetch loop). These
tests pin the hand calculation in both engines and their agreement.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simkafka.scenario import load_scenario
from simkafka.sim.engine import simulate
from simkafka.sim.framing import goodput
from simkafka.sim.guards import hardware_by_broker

SCENARIO = Path(__file__).resolve().parents[2] / "benchmarks" / "scenarios" / "uneven-leaders.yaml"
MB = 1e6


def _scenario(engine: str, **network):
    scenario = load_scenario(SCENARIO)
    run = scenario.run.model_copy(
        update={"engine": engine, "duration": 3.0, "warmup": 1.0, "sample_interval": 0.5}
    )
    cluster = scenario.cluster
    if network:
        cluster = cluster.model_copy(update={"network": cluster.network.model_copy(update=network)})
    return scenario.model_copy(update={"run": run, "cluster": cluster})


def _measured(scenario) -> dict[str, float]:
    result = simulate(scenario)
    rows = result.timeseries[result.timeseries.index > scenario.run.warmup + 1e-9]
    out = {f"b{b}.out": float(rows[f"b{b}.nic_out_MB_per_s"].mean()) * MB for b in range(3)}
    out["throughput"] = float(rows["produce_MB_per_s"].mean()) * MB
    return out


def hand_throughput(scenario) -> float:
    """Bytes/s of produce the fetch loop lets through broker 0's NIC (module docstring)."""
    (producer,) = scenario.producers
    config = scenario.cluster.config
    window = (
        producer.count
        * producer.max_in_flight_requests_per_connection
        * scenario.topics[0].partitions
        * producer.batch_size
    )
    per_cycle = window / 2
    # the NIC's payload capacity: its line rate less TCP/IP and Ethernet framing
    nic = hardware_by_broker(scenario.cluster)[0].egress * goodput(scenario.cluster.network.mtu)
    loop = 2 * scenario.cluster.network.cross_rack_latency + 2 * (
        scenario.costs.broker.request_cpu + per_cycle * scenario.costs.broker.byte_cpu
    )
    return per_cycle / (3 * per_cycle / nic + loop)


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, float]]:
    return {engine: _measured(_scenario(engine)) for engine in ("events", "stepped")}


@pytest.mark.parametrize("engine", ["events", "stepped"])
def test_leader_egress_is_the_fan_out_of_its_produce(runs, engine):
    got = runs[engine]
    # two followers and one group: each produced byte leaves broker 0 three times
    assert got["b0.out"] == pytest.approx(3 * got["throughput"], rel=0.02)
    # the followers lead nothing: their egress is fetch requests only
    assert got["b1.out"] < 0.001 * got["b0.out"]
    assert got["b2.out"] < 0.001 * got["b0.out"]
    assert got["b0.out"] <= 1.001 * hardware_by_broker(_scenario(engine).cluster)[0].egress


@pytest.mark.parametrize("engine", ["events", "stepped"])
def test_saturated_leader_matches_the_fetch_loop_by_hand(runs, engine):
    scenario = _scenario(engine)
    expected = hand_throughput(scenario)  # 36.4 MB/s: 93 % of the NIC, not 100 %
    assert runs[engine]["throughput"] == pytest.approx(expected, rel=0.05)
    assert runs[engine]["b0.out"] == pytest.approx(3 * expected, rel=0.05)


def test_engines_agree_on_the_saturated_leader(runs):
    events, stepped = runs["events"], runs["stepped"]
    assert stepped["throughput"] == pytest.approx(events["throughput"], rel=0.05)
    for broker in ("b0", "b1", "b2"):
        assert stepped[f"{broker}.out"] == pytest.approx(
            events[f"{broker}.out"], rel=0.05, abs=0.1 * MB
        )


def test_longer_round_trips_cost_both_engines_alike(runs):
    """Twice the cross-rack latency: the fetch loop's idle share grows, in both engines (the
    stepped engine's throughput used to stay at 41.4 MB/s whatever the latency). At 2 ms
    the stepped engine comes out 5 % below the events engine: see the report of issue 11."""
    far = {e: _measured(_scenario(e, cross_rack_latency=0.001)) for e in ("events", "stepped")}
    expected = hand_throughput(_scenario("events", cross_rack_latency=0.001))  # 34.7 MB/s
    for engine in ("events", "stepped"):
        assert far[engine]["throughput"] == pytest.approx(expected, rel=0.05)
        assert far[engine]["throughput"] < 0.97 * runs[engine]["throughput"]
    assert far["stepped"]["throughput"] == pytest.approx(far["events"]["throughput"], rel=0.05)
    assert far["stepped"]["b0.out"] == pytest.approx(far["events"]["b0.out"], rel=0.05)
