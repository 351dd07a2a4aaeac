"""Kafka's broker-side software limits, in both engines (issue 11).

Each test runs a small cluster for a few simulated seconds on both engines, derives the
expected figure from the mechanism's formula and the cost profile, and checks both
engines against it and against each other (within 5 %).
"""

from __future__ import annotations

import textwrap

import pytest

from simkafka.scenario import parse_scenario
from simkafka.sim.accumulator import RecordAccumulator
from simkafka.scenario.costs import default_costs
from simkafka.sim.engine import simulate
from simkafka.sim.storage import RECORD_BATCH_OVERHEAD

ENGINES = ("events", "stepped")
AGREE = 0.05  # the engines agree on throughput within 5 %

BASE = """
name: limits
cluster:
  brokers: {brokers}
  hardware: {{nic: 10Gbps, disk_write: {disk_write}, page_cache: 8GiB}}
topics:
  - {{name: t, partitions: {partitions}, replication.factor: {rf}{topic_extra}}}
producers:
  - topic: t
    count: 2
    rate: {rate}
    message_size: 1KiB
    acks: "{acks}"
    linger.ms: 5
    batch.size: {batch}
    buffer.memory: 512KiB
costs:
  broker: {costs}
run: {{duration: {duration}, warmup: 1s, seed: 3, sample_interval: 0.5s, engine: {engine}}}
"""

DEFAULTS = dict(
    brokers=1,
    disk_write="2GB/s",
    partitions=1,
    rf=1,
    topic_extra="",
    rate="80MB/s",
    acks="1",
    costs="{append_batch_cpu: 500us, append_record_cpu: 2us, append_byte_cpu: 2ns}",
    duration="4s",
    batch="16KiB",
)


def run(engine: str, **overrides):
    text = BASE.format(**{**DEFAULTS, **overrides, "engine": engine})
    return simulate(parse_scenario(textwrap.dedent(text), "limits.yaml"))


def full_batch() -> tuple[int, float]:
    """(records, wire bytes) of a full 16 KiB batch of 1 KiB messages, as the producer
    builds it."""
    acc = RecordAccumulator(
        1, batch_size=16384, linger=0.005, compression_ratio=1.0, message_bytes=1024
    )
    records = acc.messages_per_batch
    return records, RECORD_BATCH_OVERHEAD + records * acc.record_bytes


def both(**overrides) -> dict[str, dict]:
    return {engine: run(engine, **overrides).summary for engine in ENGINES}


def assert_agree(summaries: dict[str, dict], column: str = "produce_MB_per_s") -> None:
    events, stepped = (summaries[e][column] for e in ENGINES)
    assert stepped == pytest.approx(events, rel=AGREE), (events, stepped)


def test_one_partition_is_bounded_by_its_serial_append():
    # one partition's appends hold its log's lock: 500 us + 2 us a record + 2 ns a byte
    # per 16 KiB batch, so at most 1 / that batches a second -- about 28 MB/s, far below
    # the 2 GB/s disk and the 80 MB/s offered; 2 partitions double it
    records, wire = full_batch()
    per_batch = 500e-6 + records * 2e-6 + wire * 2e-9
    bound = wire / per_batch / 1e6
    one = both(partitions=1)
    two = both(partitions=2)
    for engine in ENGINES:
        assert one[engine]["produce_MB_per_s"] == pytest.approx(bound, rel=0.05)
        assert one[engine]["bottleneck"].startswith("broker 0 partition append")
        assert two[engine]["produce_MB_per_s"] == pytest.approx(2 * bound, rel=0.05)
    assert_agree(one)
    assert_agree(two)


def test_more_partitions_lift_it_until_another_resource_binds():
    # 4 partitions could take ~110 MB/s: the 80 MB/s offered is all acknowledged now
    four = both(partitions=4)
    for engine in ENGINES:
        assert four[engine]["produce_payload_MB_per_s"] == pytest.approx(80, rel=0.03)
    assert_agree(four)


def test_recompression_to_the_topics_codec_costs_lock_time():
    # the topic stores gzip, the producer sends uncompressed: the leader compresses every
    # record under the lock (gzip's compress_cpu per uncompressed byte), on top of the append
    records, wire = full_batch()
    gzip = default_costs().codecs.gzip.compress_cpu  # the shipped profile's
    uncompressed = wire - RECORD_BATCH_OVERHEAD
    per_batch = 500e-6 + records * 2e-6 + wire * 2e-9 + uncompressed * gzip
    bound = wire / per_batch / 1e6
    result = both(topic_extra=", compression.type: gzip")
    for engine in ENGINES:
        assert result[engine]["produce_MB_per_s"] == pytest.approx(bound, rel=0.05)
    assert_agree(result)


def test_flush_messages_1_makes_throughput_fsync_bound():
    # flush.messages=1: every append fsyncs the log under its lock -- 2 ms, plus writing
    # the batch at the disk's 2 GB/s -- so a partition takes one batch per fsync time
    records, wire = full_batch()
    per_batch = 5e-6 + records * 20e-9 + wire * 0.05e-9  # the default append costs
    per_batch += 2e-3 + wire / 2e9
    bound = wire / per_batch / 1e6
    result = both(
        topic_extra=", flush.messages: 1",
        costs="{fsync: 2ms, append_batch_cpu: 5us, "
        "append_record_cpu: 20ns, append_byte_cpu: 0.05ns}",
    )
    for engine in ENGINES:
        assert result[engine]["produce_MB_per_s"] == pytest.approx(bound, rel=0.05)
        assert result[engine]["bottleneck"].startswith("broker 0 partition append")
    assert_agree(result)


def test_index_entries_are_written_to_the_disk():
    # index.interval.bytes: 0 -- every append adds an 8-byte offset-index and a 12-byte
    # time-index entry, so the disk writes 20 bytes more per batch than the log grows
    for engine in ENGINES:
        # one 1 KiB record a batch: the index entries are ~2 % of the bytes
        result = run(engine, topic_extra=", index.interval.bytes: 0", rate="2MB/s", batch="1KiB")
        s = result.summary
        steady = result.timeseries[result.timeseries.index > 1.5]
        batches = s["produce_requests_per_s"] * s["batches_per_request"]
        expected = s["produce_MB_per_s"] + batches * 20 / 1e6
        disk = steady["b0.disk_write_MB_per_s"].mean()
        assert disk == pytest.approx(expected, rel=0.003), (engine, disk, s["produce_MB_per_s"])
        assert disk - s["produce_MB_per_s"] == pytest.approx(batches * 20 / 1e6, rel=0.15)


JBOD = dict(
    disk_write="100MB/s",  # ignored: the dirs below set each disk's bandwidth
    costs="{fsync: 2ms}",
)


def run_jbod(engine: str, partitions: int):
    text = BASE.format(**{**DEFAULTS, **JBOD, "partitions": partitions, "engine": engine})
    text = text.replace(
        "page_cache: 8GiB}",
        "page_cache: 128MiB, log_dirs: [{disk_write: 50MB/s, disk_read: 200MB/s}, "
        "{disk_write: 50MB/s, disk_read: 200MB/s}]}",
    )
    return simulate(parse_scenario(textwrap.dedent(text), "jbod.yaml"))


def test_jbod_one_busy_log_dir_saturates_while_the_other_idles():
    # log.dirs of two 50 MB/s disks; one partition goes to the first (LogManager puts a
    # new log in the dir with the fewest), so 80 MB/s offered is held to that disk's
    # 50 MB/s while the other disk writes nothing; two partitions use both disks
    results = {engine: run_jbod(engine, 1) for engine in ENGINES}
    for engine, result in results.items():
        steady = result.timeseries[result.timeseries.index > 1.5]
        assert steady["b0.dir0.disk_write_util"].mean() > 0.97, engine
        assert steady["b0.dir1.disk_write_MB_per_s"].max() == 0.0, engine
        assert steady["b0.disk_write_util"].mean() > 0.97, engine
        assert result.summary["produce_MB_per_s"] == pytest.approx(50, rel=0.05)
        assert result.summary["bottleneck"].startswith("broker 0 disk write")
    assert_agree({e: r.summary for e, r in results.items()})
    spread = {engine: run_jbod(engine, 2).summary for engine in ENGINES}
    for engine in ENGINES:
        # both disks now: the 80 MB/s offered fits in their 100 MB/s
        assert spread[engine]["produce_payload_MB_per_s"] == pytest.approx(80, rel=0.03)
    assert_agree(spread)
