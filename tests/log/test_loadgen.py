"""The bench-log load generator: what it writes is what is on disk, and all of it reads back."""

import json
import math
import os
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.log.diskbench import percentile
from simkafka.log.loadgen import (
    Eviction,
    LatencyHistogram,
    LoadgenConfig,
    LoadgenConfigError,
    build_batch_pool,
    disk_usage,
    evict_and_check,
    run_loadgen,
)
from simkafka.log.records import BatchIterator, RecordBatch
from simkafka.log.unified_log import UnifiedLog

SMALL = dict(
    message_size=100,
    batch_size=1000,
    partitions=3,
    total_bytes=300_000,
    segment_bytes=64 * 1024,  # several rolls per partition (internal.segment.bytes)
    raw_bytes=256 * 1024,
    fetch_bytes=8 * 1024,
    executor="thread",
)


def small(tmp_path, **kw):
    return LoadgenConfig(str(tmp_path), **(SMALL | kw))


# --------------------------------------------------------------------------- the run


def test_bytes_written_equal_log_size_on_disk_and_every_batch_reads_back(tmp_path):
    r = run_loadgen(small(tmp_path, producers=2, consumers=2, keep=True))
    assert r.verify_errors == []
    # --bytes is a floor: each producer stops at the first batch that reaches its share
    assert r.append.bytes >= 300_000
    assert r.disk[".log"]["bytes"] == r.append.bytes
    assert r.append.batches == sum(v["batches"] for v in r.partitions.values())
    # every batch holds batch_size // message_size records
    assert r.append.records == 10 * r.append.batches
    # ...and the kept logs say the same when reopened (clean shutdown: no recovery)
    total_size = 0
    for p, tally in r.partitions.items():
        log = UnifiedLog.load(os.path.join(r.run_directory, "kafka-logs", f"bench-{p}"))
        assert log.recovery_report == []
        assert log.log_end_offset == tally["log_end_offset"] == tally["records"]
        total_size += log.size
        log.close()
    assert total_size == r.append.bytes
    # consumers: count and offsets of what they fetched
    for stats in (r.tail_read, r.cold_read):
        assert stats is not None
        assert (stats.batches, stats.records, stats.bytes) == (
            r.append.batches,
            r.append.records,
            r.append.bytes,
        )
    assert r.cold_read.requests >= r.append.bytes // SMALL["fetch_bytes"]


def test_warmup_batches_are_in_the_log_and_read_back_but_not_in_the_append_figures(tmp_path):
    r = run_loadgen(small(tmp_path, producers=2, consumers=1, warmup_batches=5))
    assert r.verify_errors == []
    batch = r.batch_bytes
    warmup = 5 * SMALL["partitions"]
    # the timed window holds only what came after the warm-up ...
    assert 300_000 <= r.append.bytes < 300_000 + 2 * batch
    assert r.append.batches == r.append.bytes // batch
    assert r.append.records == 10 * r.append.batches
    # ... the log holds both, and the consumers read both back, offsets contiguous
    assert r.disk[".log"]["bytes"] == r.append.bytes + warmup * batch
    assert sum(v["batches"] for v in r.partitions.values()) == r.append.batches + warmup
    for tally in r.partitions.values():
        assert tally["log_end_offset"] == tally["records"]
    assert r.cold_read.bytes == r.append.bytes + warmup * batch


def test_partition_split_is_fixed_and_each_partition_gets_its_share(tmp_path):
    # producer w owns partitions p % producers == w; a byte budget is split by partitions
    r = run_loadgen(small(tmp_path, producers=2, partitions=4, consumers=0))
    share = {p: v["bytes"] for p, v in r.partitions.items()}
    batch = r.batch_bytes
    for owned in ((0, 2), (1, 3)):  # producer 0 and producer 1
        written = sum(share[p] for p in owned)
        assert 150_000 <= written < 150_000 + batch, share
        # round-robin over its partitions: they differ by at most one batch
        assert abs(share[owned[0]] - share[owned[1]]) <= batch
    assert r.tail_read is None and r.cold_read is None


def test_process_executor_duration_run(tmp_path):
    r = run_loadgen(
        small(
            tmp_path, executor="process", total_bytes=None, duration=0.3, producers=2, consumers=1
        )
    )
    assert r.verify_errors == []
    assert r.append.seconds == pytest.approx(0.3, abs=0.25)
    assert r.append.workers == 2 and r.cold_read.workers == 1
    assert r.disk[".log"]["bytes"] == r.append.bytes
    assert r.environment["executor"] == "process"


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_compressed_batches_are_appended_as_built(tmp_path, codec):
    cfg = small(tmp_path, compression=codec, total_bytes=50_000, consumers=1, raw_disk=False)
    pool = build_batch_pool(cfg)
    for raw in pool:
        batch = RecordBatch(raw)
        assert batch.compression_type.name.lower() == codec
        batch.ensure_valid()
    r = run_loadgen(cfg)
    assert r.verify_errors == []
    plain = len(build_batch_pool(small(tmp_path))[0])
    if codec in ("gzip", "zstd"):
        # entropy coders shrink ProducerPerformance's random letters (~4.7 of 8 bits)
        assert r.batch_bytes < 0.8 * plain
    else:
        # snappy and lz4 only find repeats, and random letters have few: no gain
        assert r.batch_bytes > 0.9 * plain
    assert r.raw_write is None and r.ratios()["append_vs_raw_write"] is None


def test_batch_pool_is_deterministic_per_seed_with_letter_payloads(tmp_path):
    a = build_batch_pool(small(tmp_path, seed=7))
    b = build_batch_pool(small(tmp_path, seed=7))
    c = build_batch_pool(small(tmp_path, seed=8))
    assert a == b and a != c
    assert len(set(a)) == len(a)  # distinct payloads in the pool
    records = list(RecordBatch(a[0]).records())
    assert len(records) == 10
    assert all(len(r.value) == 100 and set(r.value) <= set(range(65, 91)) for r in records)


def test_flush_messages_one_flushes_every_append(tmp_path):
    # flush.messages=1: UnifiedLog.append flushes after each append (LogFlushStats counts it)
    r = run_loadgen(
        small(tmp_path, flush_messages=1, total_bytes=20_000, consumers=0, raw_disk=False)
    )
    assert r.flush_count == r.append.batches


def test_flush_messages_counts_records_not_batches(tmp_path):
    # Kafka's topic-config doc: "if this was set to 1 we would fsync after every message;
    # if it were 5 we would fsync after every five messages". UnifiedLog.append flushes
    # when unflushedMessages (LEO - recovery point, i.e. records) >= flush.messages: with
    # 10 records per batch and flush.messages=25 that is after every 3rd batch.
    r = run_loadgen(
        small(
            tmp_path,
            flush_messages=25,
            total_bytes=60_000,
            segment_bytes=1 << 30,  # no rolls, so no roll flushes
            partitions=1,
            consumers=0,
            raw_disk=False,
        )
    )
    assert r.append.batches >= 50
    assert r.flush_count == r.append.batches // 3


def test_flush_ms_zero_flushes_every_append(tmp_path):
    # flush.ms=0: "timeSinceLastFlush >= flushMs" holds on every check
    r = run_loadgen(small(tmp_path, flush_ms=0, total_bytes=20_000, consumers=0, raw_disk=False))
    assert r.flush_count == r.append.batches


def test_without_flush_policy_only_rolls_flush(tmp_path):
    r = run_loadgen(small(tmp_path, consumers=0, raw_disk=False))
    segments = r.disk[".log"]["files"]
    # each roll flushes the previous segment inline; the final flush is reported apart
    assert r.flush_count == segments - r.config.partitions
    assert r.final_flush_seconds >= 0


def test_run_directory_removed_unless_keep(tmp_path):
    r = run_loadgen(small(tmp_path, consumers=0, raw_disk=False))
    assert not os.path.exists(r.run_directory)
    assert os.listdir(tmp_path) == []
    kept = run_loadgen(small(tmp_path, consumers=0, raw_disk=False, keep=True))
    assert os.path.isdir(os.path.join(kept.run_directory, "kafka-logs", "bench-0"))


def test_disk_usage_by_type(tmp_path):
    r = run_loadgen(small(tmp_path, keep=True, consumers=1, raw_disk=False))
    d = r.disk
    segments = d[".log"]["files"]
    assert d[".index"]["files"] == d[".timeindex"]["files"] == segments
    # recovery-point + log-start checkpoints, the clean-shutdown marker and one
    # leader-epoch-checkpoint per partition
    assert d["checkpoints"]["files"] == 3 + r.config.partitions
    assert d["total"]["bytes"] == sum(
        d[k]["bytes"] for k in (".log", ".index", ".timeindex", "checkpoints", "other")
    )
    assert disk_usage(os.path.join(r.run_directory, "kafka-logs")) == d


def test_cold_read_evicts_and_says_so(tmp_path):
    r = run_loadgen(small(tmp_path, consumers=2, raw_disk=False))
    assert r.evicted in (True, False, None)
    if r.environment["filesystem"] in ("ext4", "xfs", "btrfs"):
        assert r.evicted is True, r.eviction_note
        segments = r.disk[".log"]["files"]
        assert r.eviction_note == f"{segments} segment files evicted (checked with RWF_NOWAIT)"


def test_evict_and_check_detects_cached_pages(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(64 * 1024))
    eviction = evict_and_check([str(path)])
    assert eviction.files == 1
    assert eviction.evicted in (True, None), eviction.note
    if eviction.evicted:
        with open(path, "rb") as f:
            f.read()  # back in the page cache
        fd = os.open(path, os.O_RDONLY)
        try:
            from simkafka.log.loadgen.measure import _page_cached

            assert _page_cached(fd, 64 * 1024) is True
        finally:
            os.close(fd)


# ---------------------------------------------------------------------------- output


def test_json_schema_and_atomic_write(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    r = run_loadgen(small(tmp_path / "out", consumers=1))
    target = tmp_path / "result.json"
    r.write_json(target)
    data = json.loads(target.read_text())
    assert data["schema"] == "simkafka.bench-log/1"
    assert set(data) == {
        "schema",
        "config",
        "environment",
        "run_directory",
        "kept",
        "batch_bytes",
        "batch_pool_build_seconds",
        "raw_disk",
        "append",
        "flush",
        "tail_read",
        "cold_read",
        "ratios",
        "disk_usage",
        "partitions",
        "verification",
    }
    assert data["config"]["message_size"] == 100
    assert set(data["raw_disk"]) == {"write", "write_synced", "read"}
    assert data["raw_disk"]["write"]["kind"] == "write"
    for key in (
        "bytes",
        "records",
        "batches",
        "seconds",
        "mb_per_s",
        "records_per_s",
        "latency_ms",
    ):
        assert key in data["append"]
    assert set(data["append"]["latency_ms"]) == {
        "count",
        "mean",
        "p50",
        "p90",
        "p99",
        "p999",
        "max",
    }
    assert data["cold_read"]["evicted"] in (True, False, None)
    assert set(data["ratios"]) == {
        "append_vs_raw_write",
        "append_with_flush_vs_raw_write_synced",
        "tail_read_vs_raw_read",
        "cold_read_vs_raw_read",
    }
    assert data["ratios"]["append_vs_raw_write"] == pytest.approx(
        data["append"]["mb_per_s"] / data["raw_disk"]["write"]["mb_per_s"]
    )
    assert data["disk_usage"][".log"]["bytes"] == data["append"]["bytes"]
    assert data["verification"] == {"ok": True, "errors": []}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".bench-log-")] == []
    table = r.as_table()
    assert {"append", "cold read", "tail read", "raw write", "raw read"} <= set(table.index)
    assert table.loc["append", "vs raw"] == pytest.approx(data["ratios"]["append_vs_raw_write"])


# ------------------------------------------------------------------------ bad options


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(message_size=0), "--message-size"),
        (dict(partitions=0), "--partitions"),
        (dict(producers=4), "--producers (4) must not exceed --partitions (3)"),
        (dict(consumers=4), "--consumers"),
        (dict(compression="brotli"), "--compression"),
        (dict(flush_messages=0), "--flush-messages"),
        (dict(flush_ms=-1), "--flush-ms"),
        (dict(duration=1.0), "exactly one of --duration and --bytes"),
        (dict(total_bytes=None), "exactly one of --duration and --bytes"),
        (dict(total_bytes=None, duration=-1.0), "--duration"),
        (dict(segment_bytes=500), "--segment-bytes (500) is smaller than one batch"),
        (dict(warmup_batches=-1), "--warmup-batches"),
    ],
)
def test_bad_options_raise_one_clear_error(tmp_path, kw, message):
    with pytest.raises(LoadgenConfigError) as e:
        run_loadgen(small(tmp_path, **kw))
    assert message in str(e.value)
    assert os.listdir(tmp_path) == []


def test_missing_directory(tmp_path):
    with pytest.raises(LoadgenConfigError, match="not an existing directory"):
        run_loadgen(small(tmp_path / "nope"))


# ------------------------------------------------------------------- latency histogram


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10**10), min_size=1, max_size=300))
def test_histogram_percentiles_within_bucket_error_of_nearest_rank(values):
    h = LatencyHistogram()
    for v in values:
        h.record(v)
    ordered = sorted(values)
    tolerance = 2 ** (1 / LatencyHistogram.SUB_BUCKETS)  # one bucket width
    for p in (50, 90, 99, 99.9, 100):
        exact = percentile(ordered, p)
        assert exact / tolerance <= h.percentile_ns(p) <= exact * tolerance
    assert (h.count, h.min_ns, h.max_ns, h.total_ns) == (
        len(values),
        min(values),
        max(values),
        sum(values),
    )


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=10**9), max_size=100),
    st.lists(st.integers(min_value=1, max_value=10**9), max_size=100),
)
def test_histogram_merge_equals_recording_everything(a, b):
    ha, hb, hall = LatencyHistogram(), LatencyHistogram(), LatencyHistogram()
    for v in a:
        ha.record(v)
        hall.record(v)
    for v in b:
        hb.record(v)
        hall.record(v)
    ha.merge(hb)
    assert ha.__getstate__() == hall.__getstate__()


def test_histogram_empty_summary():
    s = LatencyHistogram().summary_ms()
    assert s["count"] == 0 and s["p99"] is None
    assert math.isnan(LatencyHistogram().mean_ns)


def test_consume_walk_stops_at_a_partial_batch(tmp_path):
    from simkafka.log.loadgen.workers import PartitionTally, _consume_batches

    pool = build_batch_pool(small(tmp_path))
    one = bytearray(pool[0])
    two = bytearray(pool[1])
    struct.pack_into(">q", two, 0, 10)  # second batch starts at offset 10
    data = bytes(one + two[: len(two) - 5])  # torn by max_bytes
    tally, errors = PartitionTally(), []
    assert _consume_batches(data, 0, tally, 0, errors) == 10
    assert (tally.batches, tally.records, errors) == (1, 10, [])
    assert [b.base_offset for _pos, b in BatchIterator(data)] == [0]
    bad = PartitionTally()
    _consume_batches(bytes(two), 0, bad, 0, errors)
    assert errors == ["partition 0: batch at offset 10, expected 0"]


def test_eviction_merge_and_verdicts():
    ok = Eviction(2)
    assert ok.evicted is True
    assert ok.merge(Eviction(1, ("a.log",))).evicted is False
    assert "1 of 3 segment files still in the page cache" in ok.merge(Eviction(1, ("a.log",))).note
    assert ok.merge(Eviction(1, unchecked=1)).evicted is None
    assert ok.merge(Eviction(1, supported=False)).evicted is None


def test_a_failing_worker_is_reported_and_the_run_directory_removed(tmp_path, monkeypatch):
    import simkafka.log.loadgen as loadgen
    import simkafka.log.loadgen.workers as workers

    class Broken:
        def __init__(self, *a, **kw):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(workers, "UnifiedLog", Broken)
    with pytest.raises(loadgen.LoadgenError, match="No space left on device"):
        run_loadgen(small(tmp_path, producers=2, raw_disk=False))
    assert os.listdir(tmp_path) == []
