"""The raw-disk baseline: exact byte counts, clean-up on every path, bad arguments."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from simkafka.log import diskbench
from simkafka.log.diskbench import (
    MB,
    DiskMeasurement,
    measure_fsync_latency,
    measure_sequential_read,
    measure_sequential_write,
    percentile,
)

KIB = 1024


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.parametrize("fsync", ["end", "every", "none"])
@pytest.mark.parametrize(
    ("total", "chunk"), [(2 * MB, 1 * MB), (2 * MB, 16 * KIB), (MB + 123, 64 * KIB)]
)
def test_sequential_write(tmp_path: Path, fsync: str, total: int, chunk: int) -> None:
    m = measure_sequential_write(tmp_path, total, chunk, fsync=fsync)
    assert m.kind == "write"
    assert m.bytes == total  # a short last chunk makes the total exact
    assert m.seconds > 0 and m.mb_per_s > 0
    expected_fsyncs = {"end": 1, "none": 0, "every": -(-total // chunk)}[fsync]
    assert m.fsync_count == expected_fsyncs
    assert (m.fsync_seconds > 0) == (expected_fsyncs > 0)
    assert m.fsync_seconds <= m.seconds
    assert _leftovers(tmp_path) == []


def test_cold_sequential_read_of_directory(tmp_path: Path) -> None:
    m = measure_sequential_read(tmp_path, 1 * MB, total_bytes=3 * MB + 5)
    assert m.kind == "read" and m.bytes == 3 * MB + 5
    assert m.seconds > 0 and m.mb_per_s > 0
    # POSIX_FADV_DONTNEED after fsync works on a disk-backed filesystem; on tmpfs
    # the module must say the read was warm.
    memory_fs = diskbench._filesystem_type(str(tmp_path)) in diskbench._MEMORY_FILESYSTEMS
    assert m.cold is (hasattr(os, "posix_fadvise") and not memory_fs)
    assert _leftovers(tmp_path) == []


def test_warm_read_of_existing_file_leaves_it(tmp_path: Path) -> None:
    f = tmp_path / "00000000000000000000.log"
    f.write_bytes(b"x" * (MB + 7))
    m = measure_sequential_read(f, 16 * KIB, drop_cache=False)
    assert m.bytes == MB + 7 and m.cold is False
    assert f.read_bytes() == b"x" * (MB + 7)


def test_fake_timer_gives_exact_rates(tmp_path: Path) -> None:
    ticks = itertools.count(0.0, 0.5)  # every timer() call advances 0.5 s
    m = measure_sequential_write(tmp_path, 4 * MB, MB, fsync="none", timer=lambda: next(ticks))
    assert m.seconds == 0.5 and m.mb_per_s == 8.0
    assert m.ratio(4 * MB) == 0.5  # 4 MiB/s of engine throughput is half the raw 8 MiB/s
    row = m.as_row()
    assert row["MB/s"] == 8.0 and row["chunk"] == "1 MiB" and row["fsync"] == "none"
    assert "8.0 MB/s" in repr(m) and "fsync=none" in repr(m)


def test_fsync_latency(tmp_path: Path) -> None:
    lat = measure_fsync_latency(tmp_path, 20, 4 * KIB)
    assert lat.count == 20 and lat.write_bytes == 4 * KIB
    assert 0 < lat.p50 <= lat.p90 <= lat.p99 <= lat.p999 <= lat.max
    assert lat.mean > 0
    assert lat.as_row()["n"] == 20 and "p99" in repr(lat)
    assert _leftovers(tmp_path) == []


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 99.9) == 100.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 1) == 7.0
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile(values, 0)


def test_temp_file_removed_when_interrupted(tmp_path: Path, monkeypatch) -> None:
    calls = {"n": 0}
    real_write = os.write

    def failing_write(fd: int, data) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_write(fd, data)

    monkeypatch.setattr(diskbench.os, "write", failing_write)
    with pytest.raises(KeyboardInterrupt):
        measure_sequential_write(tmp_path, MB, 64 * KIB)
    assert _leftovers(tmp_path) == []
    calls["n"] = 0
    with pytest.raises(KeyboardInterrupt):
        measure_sequential_read(tmp_path, 64 * KIB, total_bytes=MB)
    assert _leftovers(tmp_path) == []
    calls["n"] = 0
    with pytest.raises(KeyboardInterrupt):
        measure_fsync_latency(tmp_path, 10, KIB)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda d: measure_sequential_write(d, 0, KIB),
        lambda d: measure_sequential_write(d, -5, KIB),
        lambda d: measure_sequential_write(d, MB, 0),
        lambda d: measure_sequential_write(d, MB, 1.5),
        lambda d: measure_sequential_write(d, True, KIB),
        lambda d: measure_sequential_write(d, MB, KIB, fsync="always"),
        lambda d: measure_sequential_write(d / "missing", MB, KIB),
        lambda d: measure_sequential_write(d, MB, 2 * diskbench.MAX_CHUNK_BYTES),
        lambda d: measure_sequential_write(d, 1 << 62, MB),  # larger than the free space
        lambda d: measure_sequential_read(d, KIB),  # a directory needs total_bytes
        lambda d: measure_sequential_read(d, 0, total_bytes=MB),
        lambda d: measure_sequential_read(d / "missing", KIB, total_bytes=MB),
        lambda d: measure_fsync_latency(d, 0, KIB),
        lambda d: measure_fsync_latency(d, 10, 0),
        lambda d: measure_fsync_latency(d, 1 << 40, MB),
    ],
)
def test_bad_arguments_raise_value_error(tmp_path: Path, call) -> None:
    with pytest.raises(ValueError):
        call(tmp_path)
    assert _leftovers(tmp_path) == []


def test_total_bytes_rejected_for_a_file(tmp_path: Path) -> None:
    f = tmp_path / "seg"
    f.write_bytes(b"abc")
    with pytest.raises(ValueError):
        measure_sequential_read(f, KIB, total_bytes=3)
    assert f.exists()


def test_repr_and_row_of_a_read() -> None:
    m = DiskMeasurement(kind="read", bytes=2 * MB, seconds=0.25, chunk_bytes=16 * KIB, cold=False)
    assert m.mb_per_s == 8.0
    assert m.as_row()["cold"] == "no" and m.as_row()["fsync"] == "-"
    assert "warm (page cache)" in repr(m) and "16 KiB chunks" in repr(m)
