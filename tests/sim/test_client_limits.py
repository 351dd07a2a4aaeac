"""Kafka's client-side software limits (issue 11), in both engines.

A producer instance has one application thread calling ``send()`` (``record_cpu`` per
record plus compression per uncompressed byte) and one Sender thread (per request, batch
and byte); a ``rate: max`` producer sends as fast as they allow. The expected figures are
derived from the mechanism and the cost profile, not copied from a run; the two engines
must agree with them and with each other within 5 %.
"""

from __future__ import annotations

import textwrap

import pytest

from simkafka.scenario import parse_scenario
from simkafka.sim.accumulator import RECORD_BATCH_OVERHEAD, RecordAccumulator
from simkafka.sim.client_costs import producer_send_cpu, sender_cpu
from simkafka.sim.engine import simulate
from simkafka.sim.framing import goodput

ENGINES = pytest.mark.parametrize("engine", ["events", "stepped"])
TOLERANCE = 0.05  # engines vs the mechanism's bound, and vs each other

BASE = """
name: client-limits
cluster:
  brokers: 1
  hardware: {{nic: 10Gbps, disk_write: 2GB/s, page_cache: 4GiB}}
topics:
  - {{name: events, partitions: 1, replication.factor: 1}}
producers:
  - topic: events
    count: {count}
    rate: {rate}
    message_size: 1KiB
    acks: "1"
    linger.ms: 5
    batch.size: 16KiB
    compression.type: {codec}
costs:
  producer: {{record_cpu: {record_cpu}, request_cpu: 200us, batch_cpu: 50us, byte_cpu: 1ns}}
  codecs: {{lz4: {{compress_cpu: 10ns, decompress_cpu: 1ns}}}}
run: {{duration: 1.5s, warmup: 0.5s, seed: 7, sample_interval: 0.25s, engine: {engine}}}
"""


def scenario(
    engine: str, *, count: int = 1, rate: str = "max", record_cpu: str = "1us", codec: str = "none"
):
    text = BASE.format(engine=engine, count=count, rate=rate, record_cpu=record_cpu, codec=codec)
    return parse_scenario(textwrap.dedent(text), "client-limits.yaml")


def accumulator(s) -> RecordAccumulator:
    spec = s.producers[0]
    return RecordAccumulator(
        1,
        batch_size=int(spec.batch_size),
        linger=spec.linger,
        compression_ratio=spec.effective_compression_ratio,
        message_bytes=spec.message_size.mean,
    )


def sender_bound(s) -> float:
    """One Sender thread moving full batches, one per request (one partition)."""
    acc = accumulator(s)
    wire = RECORD_BATCH_OVERHEAD + round(
        acc.messages_per_batch * acc.record_bytes * acc.compression_ratio
    )
    return acc.messages_per_batch / sender_cpu(s.costs, 1, 1, wire, acc.messages_per_batch)


def application_bound(s) -> float:
    spec = s.producers[0]
    return 1.0 / producer_send_cpu(s.costs, spec.compression_type, accumulator(s).record_bytes)


def runs(**kw) -> dict[str, dict]:
    return {engine: simulate(scenario(engine, **kw)).summary for engine in ("events", "stepped")}


def assert_near(results: dict[str, dict], key: str, expected: float) -> None:
    values = {engine: summary[key] for engine, summary in results.items()}
    for engine, value in values.items():
        assert value == pytest.approx(expected, rel=TOLERANCE), (engine, values, expected)
    assert values["events"] == pytest.approx(values["stepped"], rel=TOLERANCE), values


def test_one_producer_is_bound_by_its_sender_thread_and_more_instances_lift_it():
    one = runs()
    bound = sender_bound(scenario("events"))
    # the application thread could do 1M records/s: the Sender binds
    assert bound < 0.1 * application_bound(scenario("events"))
    assert_near(one, "produce_msgs_per_s", bound)
    for summary in one.values():
        assert summary["bottleneck"].startswith("producer events sender thread"), summary[
            "bottleneck"
        ]
        assert summary["conservation_ok"]
        assert summary["failed_messages"] == 0
    two = runs(count=2)
    assert_near(two, "produce_msgs_per_s", 2 * bound)


def test_one_producer_is_bound_by_its_per_record_cost():
    results = runs(record_cpu="20us")
    bound = application_bound(scenario("events", record_cpu="20us"))
    assert bound == pytest.approx(50_000)
    assert bound < sender_bound(scenario("events"))
    assert_near(results, "produce_msgs_per_s", bound)
    for summary in results.values():
        assert summary["bottleneck"].startswith("producer events application thread"), summary[
            "bottleneck"
        ]
    assert_near(runs(count=2, record_cpu="20us"), "produce_msgs_per_s", 2 * bound)


def test_compression_is_charged_to_the_application_thread():
    s = scenario("events", record_cpu="5us", codec="lz4")
    bound = application_bound(s)
    # 5 us + 10 ns x ~1 KiB: compression takes about two thirds of the thread
    assert bound == pytest.approx(1 / (5e-6 + 10e-9 * accumulator(s).record_bytes))
    assert_near(runs(record_cpu="5us", codec="lz4"), "produce_msgs_per_s", bound)


def test_offered_load_beyond_the_application_thread_is_reported_not_created():
    results = runs(rate="'80000 msg/s'", record_cpu="20us")
    assert_near(results, "created_msgs_per_s", 50_000)
    assert_near(results, "producer_cpu_limited_msgs_per_s", 30_000)
    for summary in results.values():
        assert summary["conservation_ok"]


def test_offered_load_within_the_threads_is_produced_as_offered():
    results = runs(rate="'20000 msg/s'")
    assert_near(results, "produce_msgs_per_s", 20_000)
    for summary in results.values():
        assert summary["producer_cpu_limited_msgs_per_s"] == 0


def test_rate_max_is_a_rate_of_its_own():
    s = scenario("events")
    rate = s.producers[0].rate
    assert rate.is_max and str(rate) == "max"
    assert rate.messages(1024) == float("inf")
    # it loads back from the resolved scenario
    again = parse_scenario(
        textwrap.dedent(
            BASE.format(engine="events", count=1, rate="max", record_cpu="1us", codec="none")
        ),
        "x.yaml",
    )
    assert again.producers[0].rate == rate
    assert s.model_dump(mode="json", by_alias=True)["producers"][0]["rate"] == "max"


def test_a_max_rate_producer_waits_on_a_full_buffer_and_never_fails():
    # a 100 Mbps broker NIC, far below what the producer's threads could send: send()
    # waits for buffer.memory, nothing fails, and the throughput is the NIC's
    results = {}
    for engine in ("events", "stepped"):
        s = scenario(engine)
        s = s.model_copy(
            update={
                "cluster": s.cluster.model_copy(
                    update={"hardware": s.cluster.hardware.model_copy(update={"nic": 12.5e6})}
                )
            }
        )
        results[engine] = simulate(s).summary
    acc = accumulator(scenario("events"))
    wire = RECORD_BATCH_OVERHEAD / acc.messages_per_batch + acc.record_bytes
    # payload after TCP/IP and Ethernet framing (94 % at MTU 1500); headers take under 1 %
    bound = 12.5e6 * goodput(1500) / wire
    assert_near(results, "produce_msgs_per_s", bound)
    for summary in results.values():
        assert summary["failed_messages"] == 0
        assert summary["conservation_ok"]
        assert "broker 0 nic in" in summary["bottleneck"], summary["bottleneck"]


BUFFER_MEMORY = """
name: buffer-memory
cluster:
  brokers: 1
  hardware: {nic: 10Gbps, disk_write: 2GB/s, page_cache: 4GiB}
  network: {client_latency: 5ms}
topics:
  - {name: events, partitions: 1, replication.factor: 1}
producers:
  - topic: events
    rate: max
    message_size: 1KiB
    acks: "1"
    linger.ms: 0
    batch.size: 16KiB
    buffer.memory: 64KiB
run: {duration: 2s, warmup: 0.5s, seed: 7, sample_interval: 0.25s, engine: events}
"""


def test_buffer_memory_holds_batches_until_their_response():
    # BufferPool frees a batch's memory when its request completes: with 64 KiB of
    # buffer.memory and a 10 ms round trip (5 ms each way), at most 64 KiB is sent per
    # round trip -- the events engine used to count only the accumulator and sent up to
    # max.in.flight x batch.size per round trip on top of it (7.7 instead of 6.5 MB/s)
    s = parse_scenario(BUFFER_MEMORY, "buffer-memory.yaml")
    round_trip = 2 * s.cluster.network.client_latency
    bound = s.producers[0].buffer_memory / round_trip / 1e6
    result = simulate(s)
    assert result.summary["produce_MB_per_s"] == pytest.approx(bound, rel=TOLERANCE)
