"""Recovery on open (``LogLoader``): torn tails, corruption, lost/corrupt indexes, leftovers.

Ported from Kafka's ``LogLoaderTest`` (``testCorruptLog``, ``testIndexRebuild``,
``testCorruptIndexRebuild``, swap/cleaned/deleted file handling) plus the crash-stress
harness in ``scripts/crash_stress.py`` (SIGKILL + emulated power loss).
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
import time
from pathlib import Path

import pytest

from simkafka.log.clock import ManualClock
from simkafka.log.epoch_cache import EpochEntry, LeaderEpochFileCache
from simkafka.log.log_config import LogConfig
from simkafka.log.records import (
    NO_TIMESTAMP,
    Record,
    build_batch,
    decode_all,
    iter_batches,
)
from simkafka.log.unified_log import UnifiedLog

MIB = 1024 * 1024


def Cfg(**kw) -> LogConfig:  # noqa: N802
    """LogLoaderTest's config: 1000-byte segments (``internal.segment.bytes``), index every batch."""
    kw.setdefault("internal_segment_bytes", kw.pop("segment_bytes", 1000))
    kw.setdefault("index_interval_bytes", 1)
    kw.setdefault("max_message_bytes", 64 * 1024)
    return LogConfig(**kw)


def _single(value: bytes, timestamp: int = NO_TIMESTAMP) -> bytes:
    return build_batch([Record(0, 0, None, value)], base_offset=0, base_timestamp=timestamp)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000_000)


@pytest.fixture
def logdir(tmp_path) -> str:
    return str(tmp_path / "topic-0")


def _all_batches(log: UnifiedLog) -> list[bytes]:
    out = []
    for seg in log.segments:
        data = Path(seg.log_path).read_bytes()
        out.extend(b.to_bytes() for _p, b in iter_batches(data))
    return out


def _file(logdir: str, base: int, ext: str) -> str:
    return os.path.join(logdir, f"{base:020d}{ext}")


def test_corrupt_log_tail_is_truncated(logdir, clock):
    # LogLoaderTest.testCorruptLog: nonsense appended to the active segment's log and
    # offset index is cut away; every good record survives.
    rng = random.Random(42)
    cfg = Cfg()
    for _ in range(5):
        log = UnifiedLog(logdir, cfg, clock)
        log.truncate_fully_and_start_at(0)
        n = 50 + rng.randrange(50)
        for _ in range(n):
            log.append_as_leader(_single(b"x" * 20, clock.now_ms()), 0)
        records = _all_batches(log)
        recovery_point = log.segments[-1].base_offset
        active = log.active_segment
        log.close()
        with open(active.log_path, "ab") as f:
            f.write(bytes(rng.randrange(256) for _ in range(rng.randrange(1024) + 1)))
        with open(_file(logdir, active.base_offset, ".index"), "ab") as f:
            f.write(bytes(rng.randrange(256) for _ in range(rng.randrange(4096))))
        log = UnifiedLog(logdir, cfg, clock, recovery_point=recovery_point)
        assert log.log_end_offset == n
        assert _all_batches(log) == records
        log.close()


def test_torn_tail_mid_batch(logdir, clock):
    # A crash in the middle of a write: the file ends inside the last batch.
    log = UnifiedLog(logdir, Cfg(segment_bytes=10**9), clock)
    sizes = []
    for i in range(20):
        b = _single(bytes([i]) * 50, clock.now_ms())
        sizes.append(len(b))
        log.append_as_leader(b, 0)
    log.flush(10)  # offsets 0..9 durable, recovery point 10
    path = log.active_segment.log_path
    # no close: the process "died"; cut 17 bytes into batch 15
    cut = sum(sizes[:15]) + 17
    os.truncate(path, cut)
    log2 = UnifiedLog(logdir, Cfg(segment_bytes=10**9), clock, recovery_point=log.recovery_point)
    assert log2.log_end_offset == 15
    [event] = log2.recovery_report
    assert (event.kind, event.position) == ("truncated", sum(sizes[:15]))
    assert "torn" in event.detail
    assert os.path.getsize(path) == sum(sizes[:15])
    log2.update_high_watermark(15)
    assert [o for o, _t, _r in decode_all(log2.read(0, 10**6).batches())] == list(range(15))
    log2.close()


def test_flipped_byte_truncates_there_and_drops_later_segments(logdir, clock):
    cfg = Cfg(segment_bytes=400)
    log = UnifiedLog(logdir, cfg, clock)
    for i in range(30):
        log.append_as_leader(_single(bytes([65 + i % 26]) * 40, clock.now_ms()), 0)
    bases = [s.base_offset for s in log.segments]
    assert len(bases) >= 4
    log.close()
    victim = log.segments[1]
    positions = [p for p, _b in iter_batches(Path(victim.log_path).read_bytes())]
    # flip a value byte inside the third batch of the second segment (CRC-covered)
    with open(victim.log_path, "r+b") as f:
        f.seek(positions[2] + 70)
        byte = f.read(1)
        f.seek(positions[2] + 70)
        f.write(bytes([byte[0] ^ 0x01]))
    log = UnifiedLog(logdir, cfg, clock, recovery_point=0)
    assert log.log_end_offset == victim.base_offset + 2
    assert [s.base_offset for s in log.segments] == bases[:2]
    # the report names the file and the byte position of the bad batch, then the drops
    first = log.recovery_report[0]
    assert (first.kind, first.file, first.position) == ("truncated", victim.log_path, positions[2])
    assert "crc" in first.detail and str(positions[2]) in first.detail
    assert [e.kind for e in log.recovery_report[1:]] == ["deleted"] * (len(bases) - 2)
    assert not [n for n in os.listdir(logdir) if n.startswith(f"{bases[2]:020d}")]
    log.close()


def test_flipped_base_offset_is_caught_by_offset_order(logdir, clock):
    # baseOffset is outside the CRC; the offset-order check catches a flipped bit there.
    log = UnifiedLog(logdir, Cfg(segment_bytes=10**9), clock)
    for _ in range(5):
        log.append_as_leader(_single(b"abc"), 0)
    path = log.active_segment.log_path
    log.close()
    positions = [p for p, _b in iter_batches(Path(path).read_bytes())]
    with open(path, "r+b") as f:
        f.seek(positions[3] + 7)  # low byte of batch 3's baseOffset: 3 -> 3 ^ 2 = 1
        f.write(bytes([3 ^ 2]))
    log = UnifiedLog(logdir, Cfg(segment_bytes=10**9), clock)
    assert log.log_end_offset == 3
    log.close()


def test_flushed_segments_are_trusted(logdir, clock):
    # Kafka does not re-validate segments below the recovery point: a byte flipped in a
    # flushed segment goes unnoticed on open (it would surface as a CRC error on read).
    cfg = Cfg(segment_bytes=300)
    log = UnifiedLog(logdir, cfg, clock)
    for _ in range(20):
        log.append_as_leader(_single(b"y" * 40), 0)
    first = log.segments[0]
    log.flush()
    rp, leo = log.recovery_point, log.log_end_offset
    log.close()
    with open(first.log_path, "r+b") as f:
        f.seek(80)
        b = f.read(1)
        f.seek(80)
        f.write(bytes([b[0] ^ 0xFF]))
    trusted = UnifiedLog(logdir, cfg, clock, recovery_point=rp)
    assert trusted.log_end_offset == leo
    trusted.close()
    rescanned = UnifiedLog(logdir, cfg, clock, recovery_point=0)
    assert rescanned.log_end_offset < leo
    rescanned.close()


def _write_timed_log(logdir: str, clock: ManualClock, n: int = 200) -> tuple[UnifiedLog, Cfg, int]:
    cfg = Cfg(segment_bytes=200, index_interval_bytes=1)
    log = UnifiedLog(logdir, cfg, clock)
    t0 = clock.now_ms()
    for i in range(n):
        log.append_as_leader(_single(os.urandom(10), t0 + i * 10), 0)
    return log, cfg, t0


def _index_snapshot(log: UnifiedLog) -> dict[int, tuple[list, list]]:
    return {
        s.base_offset: (s.offset_index.all_entries(), s.time_index.all_entries())
        for s in log.segments
    }


def test_index_rebuild_after_deleting_index_files(logdir, clock):
    # LogLoaderTest.testIndexRebuild: both indexes deleted -> rebuilt on open, and the
    # rebuilt files equal the originals entry for entry.
    n = 200
    log, cfg, t0 = _write_timed_log(logdir, clock, n)
    log.close()
    original = _index_snapshot(UnifiedLog(logdir, cfg, clock, had_clean_shutdown=True))
    for name in os.listdir(logdir):
        if name.endswith(".index") or name.endswith(".timeindex"):
            os.remove(os.path.join(logdir, name))
    log = UnifiedLog(logdir, cfg, clock, recovery_point=n)
    assert log.log_end_offset == n
    assert log.segments[0].offset_index.entries > 0
    assert log.segments[0].time_index.entries > 0
    rebuilt = _index_snapshot(log)
    # the active segment is still being written, so only compare the rolled ones
    for base in list(original)[:-1]:
        assert rebuilt[base] == original[base]
    log.update_high_watermark(n)
    for i in range(n):
        assert next(log.read(i, 100).batches()).last_offset == i
        expected = log.segments[0].base_offset if i == 0 else i
        assert log.fetch_offset_by_timestamp(t0 + i * 10).offset == expected
    log.close()


def test_corrupt_index_rebuild(logdir, clock):
    # LogLoaderTest.testCorruptIndexRebuild: two spaces written over every index file,
    # reopened with recovery point 0.
    n = 200
    log, cfg, t0 = _write_timed_log(logdir, clock, n)
    log.close()
    for name in os.listdir(logdir):
        if name.endswith(".index") or name.endswith(".timeindex"):
            Path(logdir, name).write_text("  ")
    log = UnifiedLog(logdir, cfg, clock, recovery_point=0)
    assert log.log_end_offset == n
    log.update_high_watermark(n)
    for i in range(n):
        assert next(log.read(i, 100).batches()).last_offset == i
        expected = log.segments[0].base_offset if i == 0 else i
        assert log.fetch_offset_by_timestamp(t0 + i * 10).offset == expected
    log.close()


def test_corrupt_index_below_recovery_point_is_rebuilt(logdir, clock):
    # Our LogLoader also sanity-checks flushed segments' indexes (Kafka 2.0 behaviour):
    # an index whose length is not a whole number of entries is rebuilt, not trusted.
    n = 200
    log, cfg, _t0 = _write_timed_log(logdir, clock, n)
    log.close()
    original = _index_snapshot(UnifiedLog(logdir, cfg, clock, had_clean_shutdown=True))
    first = _file(logdir, 0, ".index")
    with open(first, "ab") as f:
        f.write(b"\x01\x02\x03")
    log = UnifiedLog(logdir, cfg, clock, recovery_point=n)
    assert log.segments[0].offset_index.all_entries() == original[0][0]
    log.close()


def test_missing_time_index_only_is_left_empty_below_recovery_point(logdir, clock):
    # LogSegment.sanityCheck: when only the .timeindex is missing, Kafka creates it empty
    # (resize(0)) and does not rebuild it unless the segment is recovered anyway.
    n = 200
    log, cfg, _t0 = _write_timed_log(logdir, clock, n)
    log.close()
    os.remove(_file(logdir, 0, ".timeindex"))
    log = UnifiedLog(logdir, cfg, clock, recovery_point=n)
    assert log.segments[0].time_index.entries == 0
    assert log.segments[0].offset_index.entries > 0
    log.close()


def test_reopen_gives_same_log_end_offset_and_recovery_point(logdir, clock):
    log = UnifiedLog(logdir, Cfg(segment_bytes=10**9, flush_messages=7), clock)
    for _ in range(50):
        log.append_as_leader(_single(b"z" * 30), 0)
    leo, rp = log.log_end_offset, log.recovery_point
    assert rp == 49  # flush.messages = 7: flushed at 7, 14, ..., 49
    log.close()
    dirty = UnifiedLog(logdir, Cfg(segment_bytes=10**9), clock, recovery_point=rp)
    assert (dirty.log_end_offset, dirty.recovery_point) == (leo, rp)
    dirty.close()
    clean = UnifiedLog(logdir, Cfg(segment_bytes=10**9), clock, had_clean_shutdown=True)
    assert (clean.log_end_offset, clean.recovery_point) == (leo, leo)
    clean.close()


def test_recovery_rebuilds_leader_epoch_cache(logdir, clock):
    # LogSegment.recover assigns each newer partitionLeaderEpoch at its batch's base.
    log = UnifiedLog(logdir, Cfg(), clock)
    for epoch in (0, 0, 3, 3, 5):
        log.append_as_leader(_single(b"e"), epoch)
    log.close()
    cache = LeaderEpochFileCache()
    log = UnifiedLog(logdir, Cfg(), clock, leader_epoch_cache=cache)
    assert cache.epoch_entries() == [EpochEntry(0, 0), EpochEntry(3, 2), EpochEntry(5, 4)]
    log.close()


def test_leftover_files_deleted_cleaned_and_swap(logdir, clock):
    # LogLoader.load: *.deleted and *.cleaned are removed; a valid *.swap replaces the
    # segments in its offset range; a *.swap at or above the smallest *.cleaned offset
    # is an unfinished split and is removed (KAFKA-6264).
    cfg = Cfg(segment_bytes=10**9)
    log = UnifiedLog(logdir, cfg, clock)
    batches = []
    for i in range(10):
        log.append_as_leader(_single(bytes([i]) * 8), 0)
    log.close()
    data = Path(_file(logdir, 0, ".log")).read_bytes()
    batches = [b.to_bytes() for _p, b in iter_batches(data)]
    # a "compacted" copy keeping offsets 0, 4 and 9, left as a swap file
    Path(_file(logdir, 0, ".log.swap")).write_bytes(batches[0] + batches[4] + batches[9])
    Path(_file(logdir, 20, ".log.deleted")).write_bytes(b"junk")
    Path(_file(logdir, 30, ".log.cleaned")).write_bytes(b"junk")
    Path(_file(logdir, 40, ".log.swap")).write_bytes(b"junk")  # above the .cleaned: dropped
    Path(_file(logdir, 50, ".index")).write_bytes(b"")  # orphaned index
    log = UnifiedLog(logdir, cfg, clock)
    assert sorted(os.listdir(logdir)) == [
        "00000000000000000000.index",
        "00000000000000000000.log",
        "00000000000000000000.timeindex",
        "leader-epoch-checkpoint",
    ]
    assert log.log_end_offset == 10
    log.update_high_watermark(10)
    assert [o for o, _t, _r in decode_all(log.read(0, 10**6).batches())] == [0, 4, 9]
    # the swapped-in segment got real indexes (rebuilt), not empty placeholders
    assert [e.offset for e in log.segments[0].offset_index.all_entries()] == [4, 9]
    log.close()


def test_log_start_offset_checkpoint_beyond_log_end_deletes_everything(logdir, clock):
    # deleteSegmentsIfLogStartGreaterThanLogEnd: segments were lost from the disk.
    log = UnifiedLog(logdir, Cfg(), clock)
    for _ in range(3):
        log.append_as_leader(_single(b"q"), 0)
    log.close()
    log = UnifiedLog(logdir, Cfg(), clock, log_start_offset=100)
    assert (log.log_start_offset, log.log_end_offset) == (100, 100)
    assert [s.base_offset for s in log.segments] == [100]
    log.close()


def _load_crash_stress():
    path = Path(__file__).resolve().parents[2] / "scripts" / "crash_stress.py"
    spec = importlib.util.spec_from_file_location("crash_stress", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_crash_stress_trials():
    # SIGKILL a writer at a random moment, lose the unflushed tail as a power cut would,
    # recover: everything flushed is there, offsets contiguous, no partial batch.
    stress = _load_crash_stress()
    results = stress.run(10, seed=2024, max_kill_delay=0.2, jobs=4)
    failures = [r for r in results if not r.ok]
    assert not failures, failures
    assert len(results) == 10
    assert sum(r.flushed > 0 for r in results) >= 5  # the trials did real work


def test_crash_stress_checker_detects_lost_flushed_data(tmp_path, clock):
    # The checker is not vacuous: data missing below the reported recovery point fails.
    stress = _load_crash_stress()
    from simkafka.log._crash_writer import WriterParams, value_for
    from simkafka.log.records import build_uniform_batch

    params = WriterParams.from_seed(1)
    d = str(tmp_path / "topic-0")
    log = UnifiedLog(d, params.config(), clock)
    for first in range(0, 30, 3):
        payload = b"".join(value_for(o, params.value_size) for o in range(first, first + 3))
        log.append_as_leader(
            build_uniform_batch(
                3, params.value_size, base_offset=0, base_timestamp=1, payload=payload
            ),
            0,
        )
    log.close()
    leo, problem = stress._check(d, params, 30)
    assert (leo, problem) == (30, "")
    leo, problem = stress._check(d, params, 31)
    assert "lost flushed data" in problem


class _Crash(BaseException):
    """The process dies at this instant (nothing after it runs)."""


def test_crash_between_overlapped_write_and_cut_back_is_recovered(logdir, clock, monkeypatch):
    # A large batch's CRC is checked while its bytes are written; a bad one is cut back
    # afterwards. A crash in between leaves the corrupt bytes in the file, beyond the
    # recovery point and never covered by the log end offset -- LogLoaderTest.
    # testCorruptLog's situation: recovery CRC-scans the tail and truncates it.
    import simkafka.log.segment as segment_module
    from simkafka.log.records import OverlappedCrc32c, build_uniform_batch

    worker = OverlappedCrc32c()
    monkeypatch.setattr(segment_module, "overlapped_crc32c", lambda: worker)
    cfg = Cfg(segment_bytes=64 * MIB, index_interval_bytes=4096, max_message_bytes=2 * MIB)
    log = UnifiedLog(logdir, cfg, clock)

    def mib(fill: int) -> bytearray:
        payload = bytes([fill]) * MIB
        return bytearray(
            build_uniform_batch(
                1024, 1024, base_offset=0, base_timestamp=clock.now_ms(), payload=payload
            )
        )

    log.append_as_leader(mib(1), 0)
    log.flush()
    log.append_as_leader(mib(2), 0)  # unflushed but whole: recovery keeps it
    good_size = log.active_segment.size
    bad = mib(3)
    bad[100_000] ^= 0x10

    deadline = time.monotonic() + 10
    while worker.in_flight:  # a job the caller took back frees the slot when the worker wakes
        assert time.monotonic() < deadline
        time.sleep(0.001)

    def crash(self, position: int) -> None:
        raise _Crash

    monkeypatch.setattr(segment_module._FileRecords, "_discard_from", crash)
    with pytest.raises(_Crash):
        log.append_as_leader(bad, 0)
    assert os.path.getsize(log.active_segment.log_path) == good_size + len(bad)
    assert log.log_end_offset == 2048  # the bytes were never part of the log
    recovery_point = log.recovery_point
    monkeypatch.undo()

    reopened = UnifiedLog(logdir, cfg, clock, recovery_point=recovery_point)
    assert reopened.log_end_offset == 2048
    [event] = reopened.recovery_report
    assert (event.kind, event.position) == ("truncated", good_size)
    assert "Record is corrupt" in event.detail
    assert os.path.getsize(reopened.active_segment.log_path) == good_size
    info = reopened.append_as_leader(mib(4), 0)
    assert (info.first_offset, reopened.active_segment.translate_offset(2048).position) == (
        2048,
        good_size,
    )
    reopened.update_high_watermark(reopened.log_end_offset)
    offsets = [o for o, _t, _r in decode_all(reopened.read(0, 10 * MIB).batches())]
    assert offsets == list(range(3072))
    reopened.close()
