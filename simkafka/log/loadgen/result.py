"""What a bench-log run reports: per-phase totals and the run's result as tables and JSON.

Units: MB is 2**20 bytes, as in Kafka's perf tools.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Any

from simkafka.log.diskbench import MB, DiskMeasurement
from simkafka.log.loadgen.config import LoadgenConfig

__all__ = ["LoadgenResult", "PhaseStats"]

_JSON_SCHEMA = "simkafka.bench-log/1"


@dataclass
class PhaseStats:
    """One phase's totals over all its workers (bytes are on-disk batch bytes)."""

    bytes: int = 0
    records: int = 0
    batches: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    workers: int = 0
    latency_ms: dict[str, float | None] = field(default_factory=dict)
    requests: int = 0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / MB if self.seconds > 0 else math.nan

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else math.nan

    @property
    def cpu_busy(self) -> float:
        """Mean fraction of the wall time each worker spent on CPU (1.0 = CPU-bound)."""
        if self.seconds <= 0 or not self.workers:
            return math.nan
        return self.cpu_seconds / self.workers / self.seconds

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(mb_per_s=self.mb_per_s, records_per_s=self.records_per_s, cpu_busy=self.cpu_busy)
        return d


@dataclass
class LoadgenResult:
    """Everything a run measured. ``as_table()`` for people, ``to_json()`` for machines."""

    config: LoadgenConfig
    environment: dict[str, Any]
    run_directory: str
    kept: bool
    batch_bytes: int
    batch_pool_build_seconds: float
    raw_write: DiskMeasurement | None
    raw_write_synced: DiskMeasurement | None
    raw_read: DiskMeasurement | None
    append: PhaseStats
    append_with_flush_seconds: float
    flush_count: int
    flush_seconds: float
    final_flush_seconds: float
    tail_read: PhaseStats | None
    cold_read: PhaseStats | None
    evicted: bool | None
    eviction_note: str
    disk: dict[str, dict[str, int]]
    partitions: dict[int, dict[str, int]]
    verify_errors: list[str]

    # -- derived figures ---------------------------------------------------------
    @property
    def append_with_flush_mb_per_s(self) -> float:
        s = self.append_with_flush_seconds
        return self.append.bytes / s / MB if s > 0 else math.nan

    def ratios(self) -> dict[str, float | None]:
        """Engine figures as fractions of the raw disk figures of the same run."""

        def r(raw: DiskMeasurement | None, mb_s: float | None) -> float | None:
            if raw is None or mb_s is None or math.isnan(mb_s):
                return None
            return raw.ratio(mb_s * MB)

        return {
            "append_vs_raw_write": r(self.raw_write, self.append.mb_per_s),
            "append_with_flush_vs_raw_write_synced": r(
                self.raw_write_synced, self.append_with_flush_mb_per_s
            ),
            "tail_read_vs_raw_read": r(
                self.raw_read, self.tail_read.mb_per_s if self.tail_read else None
            ),
            "cold_read_vs_raw_read": r(
                self.raw_read, self.cold_read.mb_per_s if self.cold_read else None
            ),
        }

    @property
    def verified(self) -> bool:
        return not self.verify_errors

    # -- tables --------------------------------------------------------------------
    def as_table(self) -> Any:
        """One row per measurement: MB/s, records/s, per-batch latency, ratio to raw disk."""
        import pandas as pd

        ratios = self.ratios()
        rows: list[dict[str, Any]] = []

        def raw_row(name: str, m: DiskMeasurement | None, note: str) -> None:
            if m is not None:
                rows.append({"test": name, "MB/s": m.mb_per_s, "note": note})

        raw_row(
            "raw write",
            self.raw_write,
            f"{_human(self.raw_write.chunk_bytes) if self.raw_write else ''} chunks, page cache",
        )
        raw_row("raw write+fsync", self.raw_write_synced, "one fsync at the end")
        raw_row(
            "raw read",
            self.raw_read,
            "cold" if self.raw_read and self.raw_read.cold else "warm (page cache)",
        )

        def phase_row(name: str, p: PhaseStats, ratio: float | None, note: str) -> None:
            lat = p.latency_ms
            rows.append(
                {
                    "test": name,
                    "MB/s": p.mb_per_s,
                    "records/s": p.records_per_s,
                    "p50 ms": lat.get("p50"),
                    "p99 ms": lat.get("p99"),
                    "p99.9 ms": lat.get("p999"),
                    "max ms": lat.get("max"),
                    "vs raw": ratio,
                    "cpu busy": p.cpu_busy,
                    "note": note,
                }
            )

        phase_row(
            "append",
            self.append,
            ratios["append_vs_raw_write"],
            f"{self.append.batches} batches of {self.batch_bytes} B",
        )
        rows.append(
            {
                "test": "append + final flush",
                "MB/s": self.append_with_flush_mb_per_s,
                "vs raw": ratios["append_with_flush_vs_raw_write_synced"],
                "note": f"final flush {self.final_flush_seconds:.3f} s, vs raw write+fsync",
            }
        )
        if self.tail_read is not None:
            phase_row(
                "tail read",
                self.tail_read,
                ratios["tail_read_vs_raw_read"],
                "while producing (bounded by the producers)",
            )
        if self.cold_read is not None:
            phase_row(
                "cold read",
                self.cold_read,
                ratios["cold_read_vs_raw_read"],
                "evicted" if self.evicted else f"NOT evicted: {self.eviction_note}",
            )
        rows.append(
            {
                "test": "log flushes",
                "note": f"{self.flush_count} flushes, {self.flush_seconds:.3f} s total"
                + (
                    f", {1e3 * self.flush_seconds / self.flush_count:.3f} ms each"
                    if self.flush_count
                    else ""
                ),
            }
        )
        columns = [
            "test",
            "MB/s",
            "records/s",
            "p50 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms",
            "vs raw",
            "cpu busy",
            "note",
        ]
        return pd.DataFrame(rows, columns=columns).set_index("test")

    def disk_table(self) -> Any:
        """Files and bytes on disk by type (``.log``, ``.index``, ``.timeindex``, checkpoints)."""
        import pandas as pd

        frame = pd.DataFrame.from_dict(
            self.disk, orient="index", columns=["files", "bytes", "allocated"]
        )
        frame.index.name = "type"
        return frame

    # -- JSON ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def raw(m: DiskMeasurement | None) -> dict[str, Any] | None:
            if m is None:
                return None
            d = asdict(m)
            d["mb_per_s"] = m.mb_per_s
            return d

        return {
            "schema": _JSON_SCHEMA,
            "config": asdict(self.config),
            "environment": self.environment,
            "run_directory": self.run_directory,
            "kept": self.kept,
            "batch_bytes": self.batch_bytes,
            "batch_pool_build_seconds": self.batch_pool_build_seconds,
            "raw_disk": {
                "write": raw(self.raw_write),
                "write_synced": raw(self.raw_write_synced),
                "read": raw(self.raw_read),
            },
            "append": self.append.to_dict()
            | {
                "with_final_flush_seconds": self.append_with_flush_seconds,
                "with_final_flush_mb_per_s": self.append_with_flush_mb_per_s,
            },
            "flush": {
                "count": self.flush_count,
                "seconds": self.flush_seconds,
                "final_flush_seconds": self.final_flush_seconds,
            },
            "tail_read": self.tail_read.to_dict() if self.tail_read else None,
            "cold_read": (
                self.cold_read.to_dict()
                | {"evicted": self.evicted, "eviction_note": self.eviction_note}
                if self.cold_read
                else None
            ),
            "ratios": self.ratios(),
            "disk_usage": self.disk,
            "partitions": {str(p): v for p, v in sorted(self.partitions.items())},
            "verification": {"ok": self.verified, "errors": self.verify_errors},
        }

    def to_json(self) -> str:
        """JSON text; NaN/inf become null so any JSON reader accepts it."""
        return json.dumps(_finite(self.to_dict()), indent=2, sort_keys=False)

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_json` atomically: temp file in the same directory, fsync, rename."""
        target = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(target))
        fd, tmp = tempfile.mkstemp(prefix=".bench-log-", suffix=".json.tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(self.to_json() + "\n")
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise


def _finite(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def _human(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} B"
