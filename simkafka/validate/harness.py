"""``simkafka validate``: one workload through the real log engine and the storage model.

The same :class:`ValidationWorkload` -- identical record batches appended at a fixed
interval to one partition, retention checks every ``log.retention.check.interval.ms`` --
is run twice:

* **measured**: :class:`~simkafka.log.unified_log.UnifiedLog` on a real directory, with
  batches built by :mod:`simkafka.log.records` and time from a
  :class:`~simkafka.log.clock.ManualClock`, so a week of ``segment.ms`` / ``retention.ms``
  takes seconds; the append loop is also timed on the wall clock, and
  :mod:`simkafka.log.diskbench` can measure the raw disk beside it (calibration);
* **predicted**: :func:`simkafka.sim.storage.predict`, the simulator's storage model.

The comparison table has one row per quantity: measured, predicted, error %, and whether
the prediction is meant to be *exact* (structural quantities: they are deterministic
functions of the workload and Kafka's rules, so any error is a bug in one of the two) or
*approximate* (throughput, which depends on this machine). The fixes that earlier runs of
this comparison led to are listed in :mod:`simkafka.sim.storage`'s docstring.

The engine's high watermark is moved to the log end offset after every append: a single
replica is its own ISR, and ``Partition.maybeIncrementLeaderHW`` does that in Kafka
(without it retention could never delete anything -- ``deletableSegments`` stops at the
high watermark).

Throughput: predicted by :func:`simkafka.sim.storage.append_seconds` from either the
scenario's hardware (``disk_write``, ``page_cache`` and the broker's ``byte.cpu.cost`` as
the page-cache copy rate) or a :class:`Calibration` measured by ``diskbench`` on the same
directory (raw page-cache write rate and raw device write rate). Both are reported when a
calibration is given; the row named ``append MB/s`` uses the calibration if there is one
(``basis`` says which).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from simkafka.log.clock import ManualClock
from simkafka.log.log_config import LogConfig
from simkafka.log.records import Record, build_batch, build_uniform_batch
from simkafka.log.unified_log import UnifiedLog
from simkafka.sim.accumulator import mean_record_overhead
from simkafka.sim.storage import (
    RECORD_BATCH_OVERHEAD,
    StoragePrediction,
    StorageWorkload,
    append_seconds,
    predict,
)

__all__ = [
    "Calibration",
    "ValidationWorkload",
    "ValidationResult",
    "Measurement",
    "calibrate",
    "measure",
    "validate",
    "key_of",
]

MB = 1024 * 1024  # MB/s as Kafka's perf tools count it
_TOPIC_PARTITION = "validate-0"
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Calibration:
    """Disk figures measured on the validation directory with ``diskbench``.

    ``cache_write``: raw sequential write without fsync (page-cache rate);
    ``disk_write``: raw sequential write with a final fsync (device rate), bytes/s;
    ``per_batch_seconds``: what one append costs the engine beyond copying its bytes,
    from a short probe run (stands in for the simulator's ``costs.broker.request_cpu``);
    ``per_roll_seconds``: what one segment roll costs (the engine flushes the old segment
    inline -- Kafka schedules that flush -- and creates and preallocates two indexes).
    """

    disk_write: float
    cache_write: float
    per_batch_seconds: float = 0.0
    per_roll_seconds: float = 0.0
    source: str = "diskbench"


@dataclass(frozen=True)
class ValidationWorkload:
    """What to run: the storage workload, the topic's ``LogConfig`` and the hardware figures.

    ``disk_write``/``page_cache`` are the scenario's broker hardware; ``cache_write`` is the
    rate appends enter the page cache at (the simulator charges ``costs.broker.byte_cpu`` seconds
    per byte, so ``1 / byte_cpu``) and ``per_batch_seconds`` the broker's
    ``request_cpu`` (one ProduceRequest per batch).
    """

    storage: StorageWorkload
    config: LogConfig = field(default_factory=LogConfig)
    disk_write: float = 500e6
    page_cache: float = 16 * 1024**3
    cache_write: float = 1 / 0.25e-9
    per_batch_seconds: float = 50e-6
    compact: bool | None = None  # run one cleaner pass at the end (default: cleanup.policy)

    def __post_init__(self) -> None:
        w = self.storage
        if w.key_count is not None:
            key_of(w.key_count - 1, w.key_bytes)  # type: ignore[arg-type]  # raises if too wide
        if w.compression_ratio != 1.0:
            raise ValueError("the harness writes uncompressed batches (compression_ratio 1)")

    @property
    def run_compaction(self) -> bool:
        return self.config.compact if self.compact is None else self.compact


@dataclass
class Measurement:
    """What the engine did: the final state, a timeline, and the append wall time."""

    log_end_offset: int
    log_start_offset: int
    segments: int
    log_bytes: int
    offset_index_bytes: int
    time_index_bytes: int
    offset_index_entries: int
    time_index_entries: int
    allocated_bytes: int
    deleted_segments: int
    append_seconds: float
    appended_bytes: int
    timeline: pd.DataFrame
    compacted_log_bytes: int | None = None
    compacted_segments: int | None = None
    raw_write: Any = None  # diskbench.DiskMeasurement when calibrated


@dataclass
class ValidationResult:
    """The comparison table plus both sides' details."""

    table: pd.DataFrame
    measurement: Measurement
    prediction: StoragePrediction
    calibration: Calibration | None
    timeline: pd.DataFrame

    @property
    def exact_rows_agree(self) -> bool:
        """Every quantity the model claims to get exactly right has 0% error."""
        exact = self.table[(self.table["kind"] == "exact") & self.table["measured"].notna()]
        return bool((exact["measured"] == exact["predicted"]).all())

    @property
    def timeline_mismatches(self) -> int:
        """Cells of the time series (per retention check) where model and engine differ."""
        cols = [c for c in self.timeline.columns if c.endswith(" measured")]
        return int(
            sum(
                (self.timeline[c] != self.timeline[c.replace(" measured", " predicted")]).sum()
                for c in cols
            )
        )

    def to_json(self) -> dict[str, Any]:
        rows = []
        for row in self.table.to_dict(orient="records"):
            rows.append({k: _finite(v) for k, v in row.items()})
        return {
            "workload": _workload_json(self.prediction.workload),
            "config": self.prediction.config.to_topic_configs(),
            "calibration": None
            if self.calibration is None
            else {
                "disk_write": self.calibration.disk_write,
                "cache_write": self.calibration.cache_write,
                "per_batch_seconds": self.calibration.per_batch_seconds,
                "per_roll_seconds": self.calibration.per_roll_seconds,
                "source": self.calibration.source,
            },
            "table": rows,
            "timeline_mismatches": self.timeline_mismatches,
            "exact_rows_agree": self.exact_rows_agree,
            "timeline": [
                {k: _finite(v) for k, v in r.items()}
                for r in self.timeline.reset_index().to_dict(orient="records")
            ],
        }


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _workload_json(w: StorageWorkload) -> dict[str, Any]:
    return {
        "value_bytes": w.value_bytes,
        "key_bytes": w.key_bytes,
        "key_count": w.key_count,
        "records_per_batch": w.records_per_batch,
        "batches": w.batches,
        "batch_interval_ms": w.batch_interval_ms,
        "batch_bytes": w.batch_bytes,
        "start_ms": w.start_ms,
        "end_ms": w.end_ms,
        "retention_check_interval_ms": w.retention_check_interval_ms,
    }


def key_of(index: int, key_bytes: int) -> bytes:
    """Key ``index`` as fixed-width ASCII (``key-000042``), so every record has one size."""
    digits = key_bytes - 4
    text = f"key-{index:0{digits}d}" if digits > 0 else str(index)
    if len(text) != key_bytes:
        raise ValueError(f"key {index} does not fit in {key_bytes} bytes (--key-bytes)")
    return text.encode()


def _batch_bytes(w: StorageWorkload, j: int, timestamp: int) -> bytes:
    """Batch ``j`` as a producer would send it (base offset 0, timestamp = append time)."""
    k = w.records_per_batch
    if w.compression_ratio != 1.0:
        raise ValueError("the harness writes uncompressed batches (compression_ratio 1)")
    if w.key_count is None:
        key = None if w.key_bytes is None else key_of(0, w.key_bytes)
        return build_uniform_batch(
            k, w.value_bytes, base_offset=0, base_timestamp=timestamp, key=key
        )
    value = bytes(w.value_bytes)
    first = j * k
    records = [
        Record(offset_delta=i, key=key_of((first + i) % w.key_count, w.key_bytes), value=value)  # type: ignore[arg-type]
        for i in range(k)
    ]
    return build_batch(records, base_offset=0, base_timestamp=timestamp)


def _disk_state(log: UnifiedLog) -> dict[str, int]:
    """Files of the partition directory: apparent sizes by kind and allocated blocks."""
    out = {"log_bytes": 0, "offset_index_bytes": 0, "time_index_bytes": 0, "allocated": 0}
    kinds = {".log": "log_bytes", ".index": "offset_index_bytes", ".timeindex": "time_index_bytes"}
    segments = 0
    for name in sorted(os.listdir(log.dir)):
        ext = os.path.splitext(name)[1]
        if ext not in kinds:
            continue
        st = os.stat(os.path.join(log.dir, name))
        out[kinds[ext]] += st.st_size
        out["allocated"] += st.st_blocks * 512
        segments += ext == ".log"
    out["segments"] = segments
    return out


def _sample(log: UnifiedLog, now: int, deleted: int) -> dict[str, int]:
    disk = _disk_state(log)
    return {
        "time_ms": now,
        "log_end_offset": log.log_end_offset,
        "log_start_offset": log.log_start_offset,
        "segments": disk["segments"],
        "log_bytes": disk["log_bytes"],
        "index_bytes": disk["offset_index_bytes"] + disk["time_index_bytes"],
        "offset_index_entries": sum(s.offset_index.entries for s in log.segments),
        "time_index_entries": sum(s.time_index.entries for s in log.segments),
        "deleted_segments": deleted,
    }


def measure(
    workload: ValidationWorkload,
    directory: str | os.PathLike[str],
    *,
    progress: ProgressCallback | None = None,
    keep_files: bool = False,
) -> Measurement:
    """Run the workload through ``UnifiedLog`` in a fresh subdirectory of ``directory``.

    Events in time order: the appends due at an instant, then a retention check if one is
    due (``LogManager.cleanupLogs``); a sample of the directory after every check and at
    the end. The subdirectory is removed afterwards unless ``keep_files``.
    """
    w = workload.storage
    config = workload.config
    root = tempfile.mkdtemp(prefix="simkafka-validate-", dir=os.fspath(directory))
    try:
        clock = ManualClock(w.start_ms)
        log = UnifiedLog(os.path.join(root, _TOPIC_PARTITION), config, clock)
        checks = w.retention_check_times()
        rows: list[dict[str, int]] = []
        deleted = 0
        spent = 0.0
        appended = 0
        ci = 0
        perf = time.perf_counter
        total = w.batches
        for j in range(total):
            now = w.append_time(j)
            while ci < len(checks) and checks[ci] < now:
                clock.set_time_ms(checks[ci])
                deleted += log.delete_old_segments(checks[ci])
                rows.append(_sample(log, checks[ci], deleted))
                ci += 1
            clock.set_time_ms(now)
            data = bytearray(_batch_bytes(w, j, now))
            appended += len(data)
            t0 = perf()
            log.append_as_leader(data, leader_epoch=0)
            spent += perf() - t0
            log.high_watermark = log.log_end_offset
            if progress is not None and (j % 256 == 0 or j == total - 1):
                progress(j + 1, total)
        while ci < len(checks):
            clock.set_time_ms(checks[ci])
            deleted += log.delete_old_segments(checks[ci])
            rows.append(_sample(log, checks[ci], deleted))
            ci += 1
        if not rows or rows[-1]["time_ms"] != w.end_ms:
            clock.set_time_ms(w.end_ms)
            rows.append(_sample(log, w.end_ms, deleted))
        disk = _disk_state(log)
        result = Measurement(
            log_end_offset=log.log_end_offset,
            log_start_offset=log.log_start_offset,
            segments=disk["segments"],
            log_bytes=disk["log_bytes"],
            offset_index_bytes=disk["offset_index_bytes"],
            time_index_bytes=disk["time_index_bytes"],
            offset_index_entries=sum(s.offset_index.entries for s in log.segments),
            time_index_entries=sum(s.time_index.entries for s in log.segments),
            allocated_bytes=disk["allocated"],
            deleted_segments=deleted,
            append_seconds=spent,
            appended_bytes=appended,
            timeline=pd.DataFrame(rows).set_index("time_ms"),
        )
        if workload.run_compaction:
            result.compacted_log_bytes, result.compacted_segments = _compact(log, clock)
        log.close()
        return result
    finally:
        if not keep_files:
            shutil.rmtree(root, ignore_errors=True)


def _compact(log: UnifiedLog, clock: ManualClock) -> tuple[int | None, int | None]:
    """One cleaner pass over ``[log start, active segment base)``; (bytes, segments) after.

    Uses :mod:`simkafka.log.cleaner` when it is installed; otherwise nothing is measured.
    """
    try:
        from simkafka.log.cleaner import Cleaner
        from simkafka.log.offset_map import SkimpyOffsetMap
    except ModuleNotFoundError as exc:  # the cleaner is optional for validation
        if exc.name not in ("simkafka.log.cleaner", "simkafka.log.offset_map"):
            raise
        return None, None
    end = log.active_segment.base_offset
    if end > log.log_start_offset:
        memory = max(1 << 20, 64 * (end - log.log_start_offset))
        cleaner = Cleaner(SkimpyOffsetMap(memory), clock=clock)
        cleaner.clean(log, log.log_start_offset, end, clock.now_ms())
    return log.size, len(log.segments)


def calibrate(
    directory: str | os.PathLike[str],
    workload: ValidationWorkload,
    probe_batches: int = 500,
    probe_rolls: int = 20,
) -> tuple[Calibration, Any]:
    """Measure this machine: raw writes with ``diskbench``, then a probe of the engine.

    The raw writes (the workload's bytes, at least 1 MiB, in 1 MiB chunks) give the
    page-cache rate (no fsync) and the device rate (fsync at the end). The probe appends
    ``probe_batches`` of the workload's batch to a throwaway log with segments too large to
    roll, so its time per batch minus the byte copy is the engine's fixed cost per append
    -- the figure the simulator calls ``costs.broker.request_cpu`` --, then times
    ``probe_rolls`` rolls of a one-batch segment.
    """
    from simkafka.log.diskbench import measure_sequential_write

    size = max(int(workload.storage.total_bytes), MB)
    chunk = min(MB, size)
    cached = measure_sequential_write(directory, size, chunk, fsync="none")
    device = measure_sequential_write(directory, size, chunk, fsync="end")
    w = workload.storage
    n = max(1, probe_batches)
    root = tempfile.mkdtemp(prefix="simkafka-validate-probe-", dir=os.fspath(directory))
    try:
        clock = ManualClock(w.start_ms)
        big = LogConfig(internal_segment_bytes=max(n * w.batch_bytes + 1, 1 << 20))
        log = UnifiedLog(os.path.join(root, _TOPIC_PARTITION), big, clock)
        data = _batch_bytes(w, 0, w.start_ms)
        spent = 0.0
        for _ in range(n):
            buf = bytearray(data)
            t0 = time.perf_counter()
            log.append_as_leader(buf, leader_epoch=0)
            spent += time.perf_counter() - t0
        roll_spent = 0.0
        for _ in range(probe_rolls):
            t0 = time.perf_counter()
            log.roll()
            roll_spent += time.perf_counter() - t0
            log.append_as_leader(bytearray(data), leader_epoch=0)  # a non-empty segment
        log.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    per_batch = max(0.0, spent / n - w.batch_bytes / cached.bytes_per_s)
    calibration = Calibration(
        disk_write=device.bytes_per_s,
        cache_write=cached.bytes_per_s,
        per_batch_seconds=per_batch,
        per_roll_seconds=roll_spent / probe_rolls if probe_rolls else 0.0,
    )
    return calibration, device


def _error(measured: float | None, predicted: float | None) -> float | None:
    if measured is None or predicted is None:
        return None
    if measured == predicted:
        return 0.0
    if measured == 0:
        return math.inf
    return 100.0 * (predicted - measured) / measured


def _mb_per_s(nbytes: int, seconds: float) -> float:
    return nbytes / seconds / MB if seconds > 0 else math.inf


def compare(
    workload: ValidationWorkload,
    measured: Measurement,
    predicted: StoragePrediction,
    calibration: Calibration | None,
) -> pd.DataFrame:
    """The table: quantity, measured, predicted, error %, kind (exact/approx), basis."""
    rows: list[tuple[str, Any, Any, str, str]] = [
        ("log end offset", measured.log_end_offset, predicted.log_end_offset, "exact", "model"),
        (
            "log start offset",
            measured.log_start_offset,
            predicted.log_start_offset,
            "exact",
            "retention rules",
        ),
        ("segments", measured.segments, predicted.segment_count, "exact", "roll rules"),
        (
            "segments deleted",
            measured.deleted_segments,
            predicted.deleted_segments,
            "exact",
            "retention rules",
        ),
        (".log bytes", measured.log_bytes, predicted.log_bytes, "exact", "record format"),
        (
            ".index bytes (apparent)",
            measured.offset_index_bytes,
            predicted.offset_index_bytes,
            "exact",
            "preallocated active index",
        ),
        (
            ".timeindex bytes (apparent)",
            measured.time_index_bytes,
            predicted.time_index_bytes,
            "exact",
            "preallocated active index",
        ),
        (
            "offset index entries",
            measured.offset_index_entries,
            predicted.offset_index_entries,
            "exact",
            "index.interval.bytes",
        ),
        (
            "time index entries",
            measured.time_index_entries,
            predicted.time_index_entries,
            "exact",
            "index.interval.bytes",
        ),
    ]
    rows.append(
        (
            "allocated bytes on disk",
            measured.allocated_bytes,
            predicted.allocated_bytes(),
            "approx",
            "4 KiB blocks, sparse indexes",
        )
    )
    rows.append(
        (
            ".log bytes (sim.accumulator framing)",
            measured.log_bytes,
            _accumulator_log_bytes(workload.storage, predicted),
            "approx",
            "mean DefaultRecord framing",
        )
    )
    if workload.run_compaction and workload.storage.key_count is not None:
        rows.append(
            (
                ".log bytes after compaction",
                measured.compacted_log_bytes,
                predicted.compacted_log_bytes(),
                "exact",
                "latest offset per key"
                if measured.compacted_log_bytes is not None
                else "cleaner not available",
            )
        )
    measured_mb = _mb_per_s(measured.appended_bytes, measured.append_seconds)
    scenario_seconds = append_seconds(
        measured.appended_bytes,
        disk_write=workload.disk_write,
        page_cache=workload.page_cache,
        cache_write=workload.cache_write,
        batches=workload.storage.batches,
        per_batch_seconds=workload.per_batch_seconds,
    )
    scenario_mb = _mb_per_s(measured.appended_bytes, scenario_seconds)
    if calibration is not None:
        cal_seconds = (
            append_seconds(
                measured.appended_bytes,
                disk_write=calibration.disk_write,
                page_cache=workload.page_cache,
                cache_write=calibration.cache_write,
                batches=workload.storage.batches,
                per_batch_seconds=calibration.per_batch_seconds,
            )
            + predicted.rolls * calibration.per_roll_seconds
        )
        cal_mb = _mb_per_s(measured.appended_bytes, cal_seconds)
        rows.append(
            ("append MB/s", measured_mb, cal_mb, "approx", f"calibrated ({calibration.source})")
        )
        rows.append(
            ("append MB/s (scenario disk)", measured_mb, scenario_mb, "approx", "scenario hardware")
        )
        rows.append(
            (
                "raw disk write MB/s (fsync at end)",
                calibration.disk_write / MB,
                workload.disk_write / MB,
                "approx",
                "diskbench vs scenario",
            )
        )
    else:
        rows.append(("append MB/s", measured_mb, scenario_mb, "approx", "scenario hardware"))
    frame = pd.DataFrame(
        [
            {
                "quantity": q,
                "measured": m,
                "predicted": p,
                "error %": _error(m, p),
                "kind": kind,
                "basis": basis,
            }
            for q, m, p, kind, basis in rows
        ]
    )
    return frame


def _accumulator_log_bytes(w: StorageWorkload, predicted: StoragePrediction) -> int:
    """The ``.log`` bytes the simulator's producer would account for the same batches.

    ``sim.accumulator`` sizes a batch as ``61 + messages * (value + key + framing)`` with
    the framing averaged over the batch's offset deltas; shown beside the exact figure so
    any rounding error is visible.
    """
    key = 0 if w.key_bytes is None else w.key_bytes
    framing = mean_record_overhead(w.records_per_batch, w.key_bytes, w.value_bytes)
    per_batch = RECORD_BATCH_OVERHEAD + int(
        round(w.records_per_batch * (w.value_bytes + key + framing) * w.compression_ratio)
    )
    return sum(s.batches for s in predicted.segments) * per_batch


def _timeline(measured: pd.DataFrame, predicted: pd.DataFrame) -> pd.DataFrame:
    both = measured.add_suffix(" measured").join(predicted.add_suffix(" predicted"), how="outer")
    return both[sorted(both.columns)]


def validate(
    workload: ValidationWorkload,
    directory: str | os.PathLike[str],
    calibration: Calibration | None = None,
    *,
    progress: ProgressCallback | None = None,
    measure_disk: bool = False,
    keep_files: bool = False,
) -> ValidationResult:
    """Run ``workload`` through the engine (in ``directory``) and the model; compare.

    ``measure_disk`` calibrates with ``diskbench`` in the same directory first (unless a
    ``calibration`` is given); the raw measurement is kept on the result.
    """
    if not os.path.isdir(directory):
        raise ValueError(f"{directory} is not a directory")
    predicted = predict(workload.config, workload.storage)
    raw = None
    if calibration is None and measure_disk:
        calibration, raw = calibrate(directory, workload)
    measured = measure(workload, directory, progress=progress, keep_files=keep_files)
    measured.raw_write = raw
    table = compare(workload, measured, predicted, calibration)
    return ValidationResult(
        table=table,
        measurement=measured,
        prediction=predicted,
        calibration=calibration,
        timeline=_timeline(measured.timeline, predicted.timeline),
    )
