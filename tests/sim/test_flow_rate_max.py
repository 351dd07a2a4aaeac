"""The flow engine with producers at ``rate: max``: what sets their pace.

An ``acks=all`` producer flat out is held by its connections: the broker serves one
request at a time per connection, and a request holds it until the high watermark
passed its batches -- two replica fetcher loops, each longer by the bytes it carries
(handled on both sides, and sent from the leader's egress together with every other
fetch of the same append). The events engine plays every request and fetch; the flow
engine must find the same pace from its rates.
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from simkafka.scenario import parse_scenario
from simkafka.sim.engine import simulate
from simkafka.sim.flow import FlowWorld


def flat_out(engine: str, *, nic: str, partitions: int, producers: int, size: str, batch: str,
             linger_ms: int, cpu_cores: int = 16):
    doc = {
        "name": "flat-out",
        "cluster": {"brokers": 3, "hardware": {"nic": nic, "disk_write": "1GB/s", "cpu_cores": cpu_cores,
                                               "page_cache": "16GiB"}},
        "topics": [{"name": "events", "partitions": partitions, "replication.factor": 3,
                    "min.insync.replicas": 2}],
        "producers": [{"topic": "events", "count": producers, "rate": "max", "message_size": size,
                       "batch.size": batch, "linger.ms": linger_ms}],
        "consumer_groups": [{"group.id": "g", "topics": ["events"], "members": 3}],
        "run": {"duration": "0.3s", "warmup": "0.1s", "seed": 1, "engine": engine},
    }
    return parse_scenario(yaml.safe_dump(doc), "flat-out.yaml")


# 1 KiB records in 16 KiB batches over fast NICs; 16 KiB records in 128 KiB batches over
# NICs a quarter as busy again as the replication needs (their fetches' bytes matter)
CASES = {
    "small-records": {"nic": "25Gbps", "partitions": 12, "producers": 3, "size": "1KiB",
                      "batch": "16KiB", "linger_ms": 5},
    "large-records-slow-nic": {"nic": "2Gbps", "partitions": 3, "producers": 2, "size": "16KiB",
                               "batch": "128KiB", "linger_ms": 10, "cpu_cores": 8},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_flat_out_producers_move_what_the_events_engine_moves(case):
    """Within 15 %: the flow engine has the mean fetcher loop, the events engine every
    loop's own length (measured: -5 % and -11 %; before the loops carried their data,
    the flow engine moved +34 % and +22 %)."""
    events = simulate(flat_out("events", **CASES[case])).summary
    flow = simulate(flat_out("flow", **CASES[case])).summary
    assert flow["produce_MB_per_s"] == pytest.approx(events["produce_MB_per_s"], rel=0.15)
    assert "connection" in events["bottleneck"] and "connection" in flow["bottleneck"]
    assert flow["conservation_ok"]


def test_flat_out_records_wait_for_the_buffer_memory_ahead_of_them():
    """``send()`` blocks on a full ``buffer.memory`` and refills what each acknowledged
    batch frees, so a record waits for about ``buffer.memory`` of records ahead of it:
    three producers' 32 MiB at ~0.55 GB/s, some 0.18 s (measured: events 0.165 s, flow
    0.187 s; without the full buffer, the flow engine had 0.004 s)."""
    events = simulate(flat_out("events", **CASES["small-records"])).summary
    flow = simulate(flat_out("flow", **CASES["small-records"])).summary
    assert flow["p50_produce_latency_s"] == pytest.approx(events["p50_produce_latency_s"], rel=0.25)


def test_a_backed_up_connection_takes_one_full_batch_of_every_partition_it_leads():
    """At ``rate: max`` the accumulator is full: every request drains a full batch of each
    of the broker's partitions (``RecordAccumulator.drain``), never more batches than
    that -- whatever batches the sticky partitioner's stints would make at leisure."""
    scenario = flat_out("flow", **CASES["small-records"])
    world = FlowWorld(scenario)
    world.solve(np.ones(world.N))
    shape = world.shape
    assert shape.msgs_per_batch == pytest.approx(world.full_batch[world.k_spec], rel=1e-3)
    led = world.conn_partitions[world.k_conn]  # 12 partitions over 3 brokers: 4 each
    assert (shape.msgs_per_request / shape.msgs_per_batch) == pytest.approx(led, rel=1e-3)
    summary = simulate(scenario).summary
    assert summary["batches_per_request"] == pytest.approx(4.0, rel=1e-3)


def test_the_high_watermark_waits_longer_for_fetches_that_carry_more():
    """The same cluster flat out with records 16 times larger: the fetches carry more
    bytes, the fetcher loops and so the ``acks=all`` wait grow."""
    waits = []
    for size, batch in (("1KiB", "16KiB"), ("16KiB", "256KiB")):
        world = FlowWorld(flat_out("flow", **{**CASES["small-records"], "size": size, "batch": batch}))
        world.solve(np.ones(world.N))
        waits.append(float(world.shape.high_watermark_wait.mean()))
    assert waits[1] > 1.5 * waits[0]
