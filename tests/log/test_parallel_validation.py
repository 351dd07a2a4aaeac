"""A large batch's CRC-32C checked on a worker thread while the batch is written.

The one-pass produce append hands batches of ``OVERLAPPED_CRC_MIN_BYTES`` or more to
``LogSegment.append(..., unchecked_crc=crc)``: the bytes go to the file while
``OverlappedCrc32c`` hashes them, and only a matching CRC lets the segment's size, its
indexes and the log end offset move. Kafka validates first (``LogValidator`` raises
``CorruptRecordException`` before ``LogSegment.append``; ``LogValidatorTest.
testInvalidChecksum``), so what must hold is that nothing *observable* differs: a
corrupt batch is rejected with the same error, and file, indexes, offsets, epoch cache,
reads and the caller's buffer are exactly as if it had never been offered.
"""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest
from crc32c import crc32c as reference_crc32c
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simkafka.log.segment as segment_module
import simkafka.log.unified_log as unified_log_module
from simkafka.log.clock import ManualClock
from simkafka.log.errors import CorruptRecordError, LogError
from simkafka.log.log_config import LogConfig
from simkafka.log.records import (
    RECORD_BATCH_OVERHEAD,
    OverlappedCrc32c,
    RecordBatch,
    build_uniform_batch,
    decode_all,
    overlapped_crc32c,
)
from simkafka.log.unified_log import UnifiedLog

MIB = 1024 * 1024
RECORD = 1024


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_700_000_000_000)


@pytest.fixture
def worker(monkeypatch) -> OverlappedCrc32c:
    """A worker of the test's own, so the overlapped path runs even on one core."""
    w = OverlappedCrc32c()
    monkeypatch.setattr(segment_module, "overlapped_crc32c", lambda: w)
    return w


def _idle(worker: OverlappedCrc32c) -> OverlappedCrc32c:
    """Wait until the worker's slot is free (a job the caller took back frees it only
    when the worker thread wakes), so the next large append is sure to overlap."""
    deadline = time.monotonic() + 10
    while worker.in_flight:
        assert time.monotonic() < deadline, "the CRC worker never freed its slot"
        time.sleep(0.001)
    worker.reset_backoff()  # a loaded test machine must not turn the overlap off here
    return worker


@pytest.fixture
def discards(monkeypatch) -> list[int]:
    """Positions the file was cut back to after an unaccepted write."""
    seen: list[int] = []
    original = segment_module._FileRecords._discard_from

    def spy(self, position: int) -> None:
        seen.append(position)
        original(self, position)

    monkeypatch.setattr(segment_module._FileRecords, "_discard_from", spy)
    return seen


def _batch(records: int, ts: int, fill: int = 0) -> bytes:
    return build_uniform_batch(
        records, RECORD, base_offset=0, base_timestamp=ts, payload=bytes([fill]) * records * RECORD
    )


def _mib_batch(ts: int, fill: int = 0) -> bytes:
    return _batch(MIB // RECORD, ts, fill)


def _corrupt(batch: bytes) -> bytearray:
    """One byte flipped inside the records section (covered by the CRC, not the header)."""
    out = bytearray(batch)
    out[RECORD_BATCH_OVERHEAD + 12345] ^= 0x01
    return out


def _open(path, clock, **cfg) -> UnifiedLog:
    cfg.setdefault("max_message_bytes", 2 * MIB)
    log = UnifiedLog(str(path), LogConfig(**cfg), clock)
    log.maybe_assign_epoch_start_offset(3, 0)
    return log


def _state(log: UnifiedLog) -> dict:
    """Everything an append may change, files included."""
    segs = []
    for s in log.segments:
        with open(s.log_path, "rb") as f:
            data = f.read()
        segs.append(
            (
                s.base_offset,
                s.size,
                data,
                s.offset_index.all_entries(),
                s.time_index.all_entries(),
                s.max_timestamp_so_far,
                s.offset_of_max_timestamp_so_far,
                s.rolling_based_timestamp,
                s._bytes_since_last_index_entry,
                os.lseek(s._log._fd, 0, os.SEEK_CUR),
            )
        )
    log.update_high_watermark(log.log_end_offset)
    read = log.read(0, 10 * MIB).records
    return {
        "segments": segs,
        "leo": log.log_end_offset,
        "hw": log.high_watermark,
        "recovery_point": log.recovery_point,
        "epochs": log.leader_epoch_cache.epoch_entries(),
        "read": read,
    }


@pytest.mark.parametrize("kind", [bytearray, bytes])
def test_corrupt_mib_batch_is_rejected_and_leaves_the_log_as_it_was(
    tmp_path, clock, worker, discards, kind
):
    # LogValidatorTest.testInvalidChecksum: a batch whose CRC does not match is refused
    # with CorruptRecordException. Here it is 1 MiB, so its bytes did reach the file
    # (the CRC ran alongside the write) and had to be cut back.
    log = _open(tmp_path / "t-0", clock, index_interval_bytes=4096)
    log.append_as_leader(bytearray(_mib_batch(clock.now_ms(), 1)), 3)
    log.append_as_leader(bytearray(_batch(16, clock.now_ms(), 2)), 3)
    log.append_as_leader(bytearray(_mib_batch(clock.now_ms(), 3)), 3)
    before = _state(log)
    assert before["leo"] == 1024 + 16 + 1024
    assert len(before["segments"][0][3]) == 2  # index entries exist to be disturbed

    clock.advance(5)
    bad = _corrupt(_mib_batch(clock.now_ms() + 99, 4))
    _idle(worker)
    offered = kind(bad)
    with pytest.raises(CorruptRecordError, match=r"Record is corrupt \(stored crc = \d+"):
        log.append_as_leader(offered, 4)
    assert discards == [before["segments"][0][1]]  # written, then cut at the old end
    assert _state(log) == before
    assert bytes(offered) == bytes(bad)  # baseOffset/epoch not rewritten either

    good = bytearray(_mib_batch(clock.now_ms(), 5))
    info = log.append_as_leader(good, 4)
    assert (info.first_offset, info.last_offset) == (2064, 3087)
    seg = log.active_segment
    found = seg.translate_offset(2064)
    assert found.position == before["segments"][0][1] and found.size == len(good)
    log.update_high_watermark(log.log_end_offset)
    batches = list(log.read(2064, 2 * MIB).batches())
    assert [(b.base_offset, b.last_offset, b.partition_leader_epoch) for b in batches] == [
        (2064, 3087, 4)
    ]
    batches[0].ensure_valid()
    assert RecordBatch(good).base_offset == 2064  # the request buffer, rewritten in place
    assert log.leader_epoch_cache.epoch_entries()[-1].start_offset == 2064
    log.close()


def test_rejection_message_is_the_general_paths(tmp_path, clock, worker, discards):
    # The overlapped route hands a bad CRC back to the general analyzeAndValidateRecords
    # route, so the error is raised by the same code as for a small batch.
    log = _open(tmp_path / "t-0", clock)
    bad = _corrupt(_mib_batch(clock.now_ms()))
    _idle(worker)
    with pytest.raises(CorruptRecordError) as overlapped:
        log.append_as_leader(bad, 0)
    with pytest.raises(CorruptRecordError) as general:
        log.append_as_leader(memoryview(bytes(bad)), 0)  # a memoryview skips the one-pass route
    assert str(overlapped.value) == str(general.value)
    assert len(discards) == 1 and log.log_end_offset == 0 and log.active_segment.size == 0
    log.close()


def test_busy_worker_means_inline_crc_and_nothing_written(tmp_path, clock, worker, discards):
    # Another thread's CRC in flight: this append does not wait, it checks inline first.
    log = _open(tmp_path / "t-0", clock)
    assert _idle(worker).start(b"held by someone else")
    try:
        with pytest.raises(CorruptRecordError):
            log.append_as_leader(_corrupt(_mib_batch(clock.now_ms())), 0)
        assert discards == [] and os.path.getsize(log.active_segment.log_path) == 0
        log.append_as_leader(bytearray(_mib_batch(clock.now_ms())), 0)
    finally:
        assert worker.result() == reference_crc32c(b"held by someone else")
    assert log.log_end_offset == 1024
    log.close()


def test_failed_write_is_cut_back_and_frees_the_worker(tmp_path, clock, worker, monkeypatch):
    log = _open(tmp_path / "t-0", clock)
    log.append_as_leader(bytearray(_mib_batch(clock.now_ms())), 0)
    before = _state(log)
    real_writev, real_write = os.writev, os.write

    def half_then_enospc(fd, buffers):
        data = b"".join(bytes(b) for b in buffers)
        real_write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(segment_module.os, "writev", half_then_enospc)
    _idle(worker)
    with pytest.raises(OSError, match="No space"):
        log.append_as_leader(bytearray(_mib_batch(clock.now_ms())), 0)
    monkeypatch.setattr(segment_module.os, "writev", real_writev)
    assert _state(log) == before
    log.append_as_leader(bytearray(_mib_batch(clock.now_ms())), 0)  # the worker is free again
    assert log.log_end_offset == 2048
    assert os.path.getsize(log.active_segment.log_path) == log.active_segment.size
    log.close()


@given(data=st.binary(min_size=0, max_size=4096), offset=st.integers(0, 64))
@settings(max_examples=60, deadline=None)
def test_worker_crc_equals_crc32c(data, offset):
    w = overlapped_crc32c()
    if w is None:
        pytest.skip("one usable core: no worker")
    view = memoryview(data)[min(offset, len(data)) :]
    assert _idle(w).start(view)
    assert w.result() == reference_crc32c(view)


def test_worker_passes_errors_back_and_stays_usable():
    w = OverlappedCrc32c()
    assert w.start(12345)  # type: ignore[arg-type]  # not a buffer
    with pytest.raises(TypeError):
        w.result()
    assert _idle(w).start(b"123456789")
    assert w.result() == 0xE3069283  # CRC-32C check value (RFC 3720 / Crc32CTest)


def test_caller_takes_the_job_back_when_the_worker_has_not_woken():
    # Another process on the other core: the worker is not scheduled before the write
    # ends. The caller then computes the CRC itself instead of waiting; the slot stays
    # taken (start refuses, so the next append checks inline) until the worker wakes.
    w = OverlappedCrc32c(start_thread=False)
    assert w.start(b"123456789")
    assert w.result() == 0xE3069283
    assert w.in_flight and not w.start(b"other")
    w.start_thread()  # the worker wakes, finds the job taken, frees the slot
    assert _idle(w).start(b"abc")
    assert w.result() == reference_crc32c(b"abc")


def _child_crc(queue) -> None:
    w = overlapped_crc32c()
    queue.put(w.start(b"123456789") and w.result())  # a stale worker would hang or refuse


def test_forked_child_gets_a_fresh_worker():
    parent = overlapped_crc32c()
    if parent is None:
        pytest.skip("one usable core: no worker")
    assert _idle(parent).start(b"x" * MIB)  # busy at fork time: the child must not inherit that
    try:
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        child = ctx.Process(target=_child_crc, args=(queue,))
        child.start()
        child.join(20)
        assert child.exitcode == 0
        assert queue.get(timeout=5) == 0xE3069283
    finally:
        parent.result()


_FAULTS = ["ok", "ok", "ok", "crc", "base_offset", "torn"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    appends=st.lists(
        st.tuples(st.integers(1, 40), st.integers(0, 3), st.sampled_from(_FAULTS)),
        min_size=1,
        max_size=12,
    ),
    seg_batches=st.integers(2, 6),
    interval=st.sampled_from([1, 4096, 40_000]),
)
def test_overlapped_route_equals_general_path(
    tmp_path_factory, monkeypatch, appends, seg_batches, interval
):
    # With the threshold at 0 every one-pass append overlaps its CRC with the write; the
    # logs must equal those of the general route (a memoryview) byte for byte.
    monkeypatch.setattr(unified_log_module, "OVERLAPPED_CRC_MIN_BYTES", 0)
    w = OverlappedCrc32c()
    monkeypatch.setattr(segment_module, "overlapped_crc32c", lambda: w)
    root = tmp_path_factory.mktemp("ov")
    cfg = LogConfig(
        internal_segment_bytes=len(_batch(40, 0)) * seg_batches,
        index_interval_bytes=interval,
        max_message_bytes=2 * MIB,
    )
    clocks = [ManualClock(1_000_000) for _ in range(2)]
    logs = [UnifiedLog(str(root / n / "t-0"), cfg, c) for n, c in zip("ab", clocks, strict=True)]
    for n, advance, fault in appends:
        for c in clocks:
            c.advance(advance)
        batch = bytearray(_batch(n, clocks[0].now_ms(), n))
        if fault == "crc":
            batch[-1] ^= 0x40
        elif fault == "base_offset":
            batch[7] = 5
        elif fault == "torn":
            del batch[-5:]
        outcomes = []
        for log, arg in zip(logs, (memoryview(bytes(batch)), bytearray(batch)), strict=True):
            try:
                outcomes.append(log.append_as_leader(arg, 1))
            except LogError as e:
                outcomes.append((type(e), str(e).replace(log.dir, "<dir>")))
        assert outcomes[0] == outcomes[1]
    for log in logs:
        log.close()
    a, b = logs
    assert (a.log_end_offset, a.high_watermark) == (b.log_end_offset, b.high_watermark)
    names = sorted(os.listdir(a.dir))
    assert names == sorted(os.listdir(b.dir))
    for name in names:
        with (
            open(os.path.join(a.dir, name), "rb") as fa,
            open(os.path.join(b.dir, name), "rb") as fb,
        ):
            assert fa.read() == fb.read(), name
    reopened = UnifiedLog(b.dir, cfg, clocks[1])
    reopened.update_high_watermark(reopened.log_end_offset)
    offsets: list[int] = []
    while len(offsets) < reopened.log_end_offset:  # a read never spans segments
        batches = reopened.read(len(offsets), 100 * MIB).batches()
        offsets.extend(o for o, _t, _r in decode_all(batches))
    assert offsets == list(range(reopened.log_end_offset))
    reopened.close()


def test_one_usable_core_means_no_worker_and_inline_checks(tmp_path, clock, monkeypatch, discards):
    # Nothing to overlap with: the process decides once on no worker, and a large
    # append checks its CRC before writing, as Kafka does.
    import simkafka.log.records as records_module

    monkeypatch.setattr(records_module, "_usable_cpus", lambda: 1)
    monkeypatch.setattr(records_module, "_overlapped", None)
    monkeypatch.setattr(records_module, "_overlapped_decided", False)
    assert overlapped_crc32c() is None and overlapped_crc32c() is None
    log = _open(tmp_path / "t-0", clock)
    with pytest.raises(CorruptRecordError):
        log.append_as_leader(_corrupt(_mib_batch(clock.now_ms())), 0)
    assert discards == [] and os.path.getsize(log.active_segment.log_path) == 0
    assert log.append_as_leader(bytearray(_mib_batch(clock.now_ms())), 0).last_offset == 1023
    log.close()


def test_worker_backs_off_after_overlaps_that_did_not_happen():
    # Jobs taken back because the worker never woke (no free core): after three in a
    # row, the next 64 large appends are not offered to it; then one probe is.
    w = OverlappedCrc32c(start_thread=False)
    assert w.start(b"a") and w.result() == reference_crc32c(b"a")  # taken back: a miss
    w.start_thread()
    for _ in range(OverlappedCrc32c.MISSES_BEFORE_BACKOFF - 1):
        _wait_free(w)
        w._record(True)
    assert not any(w.start(b"b") for _ in range(OverlappedCrc32c.BACKOFF_APPENDS))
    assert not w.in_flight  # refused without taking the slot
    assert w.start(b"probe") and w.result() == reference_crc32c(b"probe")


def _wait_free(w: OverlappedCrc32c) -> None:
    deadline = time.monotonic() + 10
    while w.in_flight:
        assert time.monotonic() < deadline
        time.sleep(0.001)
