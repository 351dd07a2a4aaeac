"""Measuring tools of a bench-log run: latency histograms, page-cache eviction, disk usage.

None of them knows about workers or phases: a worker records into a
:class:`LatencyHistogram`, the cold-read consumer calls :func:`evict_and_check` on its
segment files, and the run ends with :func:`disk_usage` of the log directory.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from simkafka.log.unified_log import CLEAN_SHUTDOWN_FILE

__all__ = ["Eviction", "LatencyHistogram", "disk_usage", "evict_and_check"]


class LatencyHistogram:
    """Latencies in nanoseconds, in log-spaced buckets (``SUB_BUCKETS`` per power of two).

    Bucket ``i`` holds values in ``[2**(i/S), 2**((i+1)/S))`` with ``S = SUB_BUCKETS``;
    a percentile is reported as the bucket's geometric midpoint, clamped to the exact
    min and max, so it is within a factor ``2**(1/(2S))`` (1.1%) of the nearest-rank
    value. Count, sum, min and max are exact. Histograms from several workers merge by
    adding counts -- which is why we keep these and not per-sample lists.
    """

    SUB_BUCKETS = 32

    __slots__ = ("counts", "count", "total_ns", "min_ns", "max_ns")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.count = 0
        self.total_ns = 0
        self.min_ns: int | None = None
        self.max_ns: int | None = None

    def record(self, ns: int) -> None:
        ns = max(int(ns), 1)
        b = int(math.log2(ns) * self.SUB_BUCKETS) if ns > 1 else 0
        counts = self.counts
        counts[b] = counts.get(b, 0) + 1
        self.count += 1
        self.total_ns += ns
        if self.min_ns is None or ns < self.min_ns:
            self.min_ns = ns
        if self.max_ns is None or ns > self.max_ns:
            self.max_ns = ns

    def merge(self, other: LatencyHistogram) -> None:
        for b, c in other.counts.items():
            self.counts[b] = self.counts.get(b, 0) + c
        self.count += other.count
        self.total_ns += other.total_ns
        for attr, pick in (("min_ns", min), ("max_ns", max)):
            mine, theirs = getattr(self, attr), getattr(other, attr)
            if theirs is not None:
                setattr(self, attr, theirs if mine is None else pick(mine, theirs))

    def percentile_ns(self, p: float) -> float:
        """Nearest-rank percentile ``p`` in (0, 100], from the buckets."""
        if not self.count:
            raise ValueError("percentile of an empty histogram")
        if not 0 < p <= 100:
            raise ValueError(f"percentile {p} is outside (0, 100]")
        rank = max(math.ceil(p / 100 * self.count), 1)
        seen = 0
        for b in sorted(self.counts):
            seen += self.counts[b]
            if seen >= rank:
                mid = 2 ** ((b + 0.5) / self.SUB_BUCKETS)
                assert self.min_ns is not None and self.max_ns is not None
                return float(min(max(mid, self.min_ns), self.max_ns))
        raise AssertionError("counts do not add up")  # pragma: no cover

    @property
    def mean_ns(self) -> float:
        return self.total_ns / self.count if self.count else math.nan

    def summary_ms(self) -> dict[str, float | None]:
        """count, mean, p50, p90, p99, p99.9 and max in milliseconds (None when empty)."""
        if not self.count:
            return {k: None for k in ("mean", "p50", "p90", "p99", "p999", "max")} | {"count": 0}
        return {
            "count": self.count,
            "mean": self.mean_ns / 1e6,
            "p50": self.percentile_ns(50) / 1e6,
            "p90": self.percentile_ns(90) / 1e6,
            "p99": self.percentile_ns(99) / 1e6,
            "p999": self.percentile_ns(99.9) / 1e6,
            "max": (self.max_ns or 0) / 1e6,
        }

    def __getstate__(self) -> tuple:
        return (self.counts, self.count, self.total_ns, self.min_ns, self.max_ns)

    def __setstate__(self, state: tuple) -> None:
        self.counts, self.count, self.total_ns, self.min_ns, self.max_ns = state


# ------------------------------------------------------------------ page cache eviction

_MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs", "devtmpfs", "hugetlbfs"})


def _page_cached(fd: int, size: int) -> bool | None:
    """True if any probed page of the file is in the page cache, None if we cannot tell.

    ``preadv2(RWF_NOWAIT)`` reads only cached data: EAGAIN means "not in the page
    cache". Probes the first, middle and last page (reading one pulls in no
    readahead, since NOWAIT never starts I/O).
    """
    flag = getattr(os, "RWF_NOWAIT", None)
    if flag is None or not hasattr(os, "preadv") or size <= 0:
        return None
    buf = bytearray(1)
    page = 4096
    for pos in sorted({0, (size // 2) // page * page, (size - 1) // page * page}):
        try:
            os.preadv(fd, [buf], pos, flag)
            return True
        except BlockingIOError:
            continue
        except OSError:  # EOPNOTSUPP on filesystems without NOWAIT support
            return None
    return False


@dataclass(frozen=True)
class Eviction:
    """What :func:`evict_and_check` achieved on a set of files."""

    files: int
    still_cached: tuple[str, ...] = ()
    unchecked: int = 0
    supported: bool = True

    @property
    def evicted(self) -> bool | None:
        """True: every file checked and gone; False: some stayed; None: could not tell."""
        if not self.supported:
            return None
        if self.still_cached:
            return False
        return None if self.unchecked else True

    def merge(self, other: Eviction) -> Eviction:
        return Eviction(
            self.files + other.files,
            self.still_cached + other.still_cached,
            self.unchecked + other.unchecked,
            self.supported and other.supported,
        )

    @property
    def note(self) -> str:
        if not self.supported:
            return "posix_fadvise is not available on this platform: reads are warm"
        if self.still_cached:
            shown = ", ".join(self.still_cached[:3]) + (
                " ..." if len(self.still_cached) > 3 else ""
            )
            return (
                f"{len(self.still_cached)} of {self.files} segment files still in the page "
                f"cache after POSIX_FADV_DONTNEED ({shown})"
            )
        if self.unchecked:
            return "POSIX_FADV_DONTNEED issued, but RWF_NOWAIT cannot check the page cache here"
        return f"{self.files} segment files evicted (checked with RWF_NOWAIT)"


def evict_and_check(
    paths: Sequence[str], attempts: int = 6, retry_budget_s: float = 2.0
) -> Eviction:
    """fsync + ``POSIX_FADV_DONTNEED`` each file, then check nothing is still cached.

    A file whose pages are still cached gets up to ``attempts`` tries, waiting 10, 20,
    40 ... ms between them: readahead that opening the log started (``readNextOffset``
    reads the last batch) can complete after the first DONTNEED and bring pages back,
    and on a busy machine the kernel can take a while to let go of freshly written
    pages. The waits of one call add up to at most ``retry_budget_s``, so a file system
    that never drops pages (tmpfs, or pages mapped elsewhere) costs seconds, not minutes;
    there the cold read is really warm, and the result says so.
    """
    if not hasattr(os, "posix_fadvise"):
        return Eviction(len(paths), supported=False)
    still: list[str] = []
    unchecked = 0
    deadline = time.monotonic() + retry_budget_s
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            os.fsync(fd)  # dirty pages are not dropped by DONTNEED
            for attempt in range(attempts):
                if attempt:
                    wait = min(0.01 * 2 ** (attempt - 1), deadline - time.monotonic())
                    if wait <= 0:
                        break
                    time.sleep(wait)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                cached = _page_cached(fd, size)
                if not cached:
                    break
        finally:
            os.close(fd)
        if cached is None:
            unchecked += 1
        elif cached:
            still.append(os.path.basename(path))
    return Eviction(len(paths), tuple(still), unchecked)


# ------------------------------------------------------------------------ disk usage


def _file_kind(name: str) -> str:
    for suffix in (".log", ".index", ".timeindex"):
        if name.endswith(suffix):
            return suffix
    if name.endswith("checkpoint") or name == CLEAN_SHUTDOWN_FILE:
        return "checkpoints"
    return "other"


def disk_usage(root: str) -> dict[str, dict[str, int]]:
    """Files, apparent bytes and allocated bytes under ``root`` by type.

    Types: ``.log``, ``.index``, ``.timeindex``, ``checkpoints`` (the log directory's
    recovery-point / log-start checkpoints, each partition's leader-epoch-checkpoint,
    the clean-shutdown marker) and ``other``.
    """
    out = {
        k: {"files": 0, "bytes": 0, "allocated": 0}
        for k in (".log", ".index", ".timeindex", "checkpoints", "other")
    }
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            st = os.stat(os.path.join(dirpath, name))
            entry = out[_file_kind(name)]
            entry["files"] += 1
            entry["bytes"] += st.st_size
            entry["allocated"] += getattr(st, "st_blocks", 0) * 512
    out["total"] = {k: sum(v[k] for v in out.values()) for k in ("files", "bytes", "allocated")}
    return out
