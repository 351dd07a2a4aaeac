"""Disk usage with retention (issue 16): LogSizes against the storage model's exact
prediction for one partition, its rules on their own, and a week of many replicas."""

import math
import time

import numpy as np
import pytest

from simkafka.log.log_config import LogConfig
from simkafka.sim.log_sizes import LogSizes
from simkafka.sim.storage import (
    StorageWorkload,
    batches_per_segment,
    index_interval_batches,
    offset_index_entries,
    predict,
    time_index_entries,
)

CHECK_MS = 300_000


def _play_like_predict(config: LogConfig, workload: StorageWorkload) -> list[tuple[int, int, int, float]]:
    """LogSizes fed the workload's batches between retention checks: each batch's bytes
    arrive over the batch interval that ends at its timestamp, so a segment's newest
    byte is its last batch's. (check time, segments, log bytes, index bytes) per check."""
    b = workload.batch_bytes
    dt = workload.batch_interval_ms
    sizes = LogSizes(
        np.array([0]), 1,
        segment_bytes=batches_per_segment(config, workload) * b,
        segment_ms=config.segment_ms,
        retention_ms=config.retention_ms if config.retention_ms >= 0 else math.inf,
        retention_bytes=config.retention_bytes if config.retention_bytes >= 0 else math.inf,
        index_interval_bytes=config.index_interval_bytes,
        batch_bytes=b,
        check_interval=workload.retention_check_interval_ms,
    )
    rows, done = [], 0
    for check in workload.retention_check_times():
        due = min(workload.batches, (check - workload.start_ms) // dt + 1)
        if due > done:
            first, last = workload.append_time(done), workload.append_time(due - 1)
            sizes.append(np.array([(due - done) * b], dtype=float), first - dt, last)
            done = due
        sizes.retention_check(check)
        rows.append((check, int(sizes.segments[0]), int(sizes.log_bytes()[0]), float(sizes.index_bytes()[0])))
    return rows


def _allocated_index_bytes(prediction) -> float:
    """The storage model's index entries of every segment, in bytes (no preallocation)."""
    p = index_interval_batches(prediction.workload.batch_bytes, prediction.config.index_interval_bytes)
    return sum(8 * offset_index_entries(s.batches, p)
               + 12 * time_index_entries(s.batches, p, increasing=True, rolled=s.rolled)
               for s in prediction.segments)


def _compare(config: LogConfig, workload: StorageWorkload) -> None:
    mine = _play_like_predict(config, workload)
    prediction = predict(config, workload)
    timeline = prediction.timeline
    assert [row[0] for row in mine] == list(timeline.index)  # the workload ends at a check
    for check, segments, log_bytes, _ in mine:
        expected = timeline.loc[check]
        assert (segments, log_bytes) == (expected["segments"], expected["log_bytes"]), check
    assert timeline["deleted_segments"].iloc[-1] > 0  # retention did delete
    # the index bytes at the end: storage's entries, allocated
    assert mine[-1][3] == _allocated_index_bytes(prediction)


WORKLOAD = {"value_bytes": 1000, "records_per_batch": 4, "batch_interval_ms": 50}


def test_retention_ms_deletes_the_segments_predict_deletes_at_the_same_checks():
    config = LogConfig(segment_bytes=1024 * 1024, retention_ms=20 * 60_000)
    workload = StorageWorkload(**WORKLOAD, batches=2 * 3600 * 20, duration_ms=2 * 3600_000, retention_check_interval_ms=CHECK_MS)
    _compare(config, workload)
    final = _play_like_predict(config, workload)[-1]
    # retention bites: far less than two hours of data is left
    assert final[2] < workload.total_bytes / 4


def test_retention_bytes_deletes_the_segments_predict_deletes_at_the_same_checks():
    config = LogConfig(segment_bytes=1024 * 1024, retention_ms=-1, retention_bytes=5 * 1024 * 1024)
    workload = StorageWorkload(**WORKLOAD, batches=3600 * 20, duration_ms=3600_000, retention_check_interval_ms=CHECK_MS)
    _compare(config, workload)
    assert _play_like_predict(config, workload)[-1][2] <= 5 * 1024 * 1024 + 1024 * 1024


def test_a_log_idle_past_retention_ms_rolls_an_empty_segment_and_deletes_the_rest():
    config = LogConfig(segment_bytes=1024 * 1024, retention_ms=10 * 60_000)
    # ten minutes of appends, then an hour of nothing: every segment goes, the active too
    workload = StorageWorkload(**WORKLOAD, batches=600 * 20, duration_ms=3600_000, retention_check_interval_ms=CHECK_MS)
    _compare(config, workload)
    assert _play_like_predict(config, workload)[-1][1:3] == (1, 0)


def test_segment_ms_rolls_by_time_when_the_size_does_not():
    sizes = LogSizes(np.array([0, 0]), 1, segment_bytes=1e9, segment_ms=60.0)
    sizes.append(np.array([1000.0, 0.0]), 0.0, 150.0)  # 150 s at a steady rate
    # segments of 60 s each: two closed, the active holds the last 30 s
    assert sizes.closed_segments(0) == [(400.0, 60.0), (400.0, 120.0)]
    assert sizes.active_bytes[0] == pytest.approx(200.0)
    # a segment that waited past segment.ms while nothing came rolls before the next byte
    sizes.append(np.array([10.0, 0.0]), 500.0, 500.0)
    assert sizes.segments[0] == 4 and sizes.active_bytes[0] == 10.0
    assert sizes.log_bytes()[1] == 0.0 and sizes.segments[1] == 1


def test_size_rolls_in_one_long_append_each_segment_at_its_own_time():
    sizes = LogSizes(np.array([0]), 1, segment_bytes=100.0)
    sizes.append(np.array([50.0]), 0.0, 0.0)
    sizes.append(np.array([400.0]), 0.0, 400.0)  # 1 byte/s
    assert sizes.closed_segments(0) == [(100.0, 50.0), (100.0, 150.0), (100.0, 250.0), (100.0, 350.0)]
    assert sizes.active_bytes[0] == 50.0 and sizes.active_first[0] == 350.0 and sizes.rolls[0] == 4


def test_play_runs_the_checks_inside_its_span():
    played = LogSizes(np.arange(3), 3, segment_bytes=1000.0, retention_ms=600.0, check_interval=300.0)
    stepped = LogSizes(np.arange(3), 3, segment_bytes=1000.0, retention_ms=600.0, check_interval=300.0)
    rates = np.array([1.0, 5.0, 20.0])
    played.play(rates * 3600.0, 0.0, 3600.0)
    for k in range(12):
        stepped.append(rates * 300.0, 300.0 * k, 300.0 * (k + 1))
        stepped.retention_check(300.0 * (k + 1))
    np.testing.assert_allclose(played.log_bytes(), stepped.log_bytes())
    np.testing.assert_array_equal(played.segments, stepped.segments)
    # about retention.ms of data is kept, plus what the last whole segment holds
    assert (played.log_bytes() <= rates * 600.0 + 1000.0).all()


def test_per_broker_sums_and_the_prefill():
    sizes = LogSizes(np.array([0, 1, 1, 2]), 3, segment_bytes=1e6, index_interval_bytes=4096)
    sizes.append(np.array([3e6, 1e6, 0.0, 5e5]), 0.0, 0.0)  # prefill at t = 0
    assert sizes.segments.tolist() == [3, 1, 1, 1]  # full segments roll when the next byte comes
    per_broker = sizes.broker_bytes()
    assert per_broker == pytest.approx([sizes.bytes_on_disk()[0], sizes.bytes_on_disk()[1], sizes.bytes_on_disk()[3]])
    assert per_broker[0] == pytest.approx(3e6 * (1 + 20 / 4096), rel=1e-3)  # .log plus ~20 B of index per 4 KiB


def test_a_week_of_100k_replicas_is_cheap():
    rng = np.random.default_rng(1)
    n = 100_000
    sizes = LogSizes(rng.integers(0, 100, n), 100, segment_bytes=64 * 2**20, retention_ms=86400.0,
                     check_interval=300.0)
    rates = rng.lognormal(np.log(2e3), 1.0, n)  # bytes/s per replica
    started = time.perf_counter()
    hour = 3600.0
    for h in range(7 * 24):
        sizes.play(rates * hour, h * hour, (h + 1) * hour)
    elapsed = time.perf_counter() - started
    assert elapsed < 60.0, elapsed
    kept = sizes.log_bytes()
    # a day is kept, give or take one segment
    assert (kept <= rates * (86400.0 + 300.0) + 64 * 2**20 + 1).all()
    assert (kept >= rates * 86400.0 - 1).all()
