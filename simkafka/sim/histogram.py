"""Latency histograms with bounded relative error, as HdrHistogram keeps them.

The engine never keeps a list of every latency: a batch of ``count`` messages that all
waited ``value`` seconds is one ``record(value, count)`` call. Buckets are logarithmic
(``buckets_per_decade`` per factor of ten between ``lowest`` and ``highest``), so a
percentile read back is within ``relative_error`` of the true sample, whatever the
number of samples -- the property a p99.9 needs.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

# the longest latency told apart: a flow-engine run of days can hold records behind a
# backlog for hours (a longer wait is counted as this long)
WEEK_S = 7 * 86400.0


@lru_cache(maxsize=4096)
def _bucket_edges(log_lowest: float, scale: float, lo_i: int, hi_i: int) -> np.ndarray:
    """Upper edges of buckets ``lo_i .. hi_i - 1`` (read-only: shared between calls)."""
    edges = 10 ** (log_lowest + np.arange(lo_i, hi_i) / scale)
    edges.flags.writeable = False
    return edges


class LatencyHistogram:
    """Counts of latencies (seconds) in logarithmic buckets."""

    __slots__ = (
        "lowest",
        "highest",
        "buckets_per_decade",
        "_log_lowest",
        "_scale",
        "counts",
        "total",
        "_sum",
        "_max",
        "_min",
    )

    def __init__(
        self, lowest: float = 1e-6, highest: float = WEEK_S, buckets_per_decade: int = 200
    ) -> None:
        if not 0 < lowest < highest:
            raise ValueError("need 0 < lowest < highest")
        self.lowest = lowest
        self.highest = highest
        self.buckets_per_decade = buckets_per_decade
        self._log_lowest = math.log10(lowest)
        self._scale = buckets_per_decade
        size = int(math.ceil((math.log10(highest) - self._log_lowest) * buckets_per_decade)) + 2
        self.counts = np.zeros(size, dtype=np.int64)
        self.total = 0
        self._sum = 0.0
        self._max = 0.0
        self._min = math.inf

    @property
    def relative_error(self) -> float:
        """Worst-case relative error of a reported value (half a bucket's width)."""
        return 10 ** (0.5 / self.buckets_per_decade) - 1

    def _index(self, value: float) -> int:
        if value <= self.lowest:
            return 0
        i = int((math.log10(value) - self._log_lowest) * self._scale) + 1
        return min(i, len(self.counts) - 1)

    def record(self, value: float, count: int = 1) -> None:
        """Record ``count`` samples of ``value`` seconds."""
        if count <= 0:
            return
        self.counts[self._index(value)] += count
        self.total += count
        self._sum += value * count
        if value > self._max:
            self._max = value
        if value < self._min:
            self._min = value

    def _indices(self, values: np.ndarray) -> np.ndarray:
        """Vectorised ``_index``."""
        with np.errstate(divide="ignore"):
            idx = (
                np.floor(
                    (np.log10(np.maximum(values, self.lowest)) - self._log_lowest) * self._scale
                ).astype(np.int64)
                + 1
            )
        idx[values <= self.lowest] = 0
        return np.clip(idx, 0, len(self.counts) - 1, out=idx)

    def record_many(self, values: np.ndarray, counts: np.ndarray) -> None:
        """Vectorised ``record`` for arrays of values and counts."""
        values = np.asarray(values, dtype=float)
        counts = np.asarray(counts, dtype=np.int64)
        keep = counts > 0
        if not keep.any():
            return
        values, counts = values[keep], counts[keep]
        idx = self._indices(values)
        self.counts += np.bincount(idx, weights=counts, minlength=len(self.counts)).astype(np.int64)
        self.total += int(counts.sum())
        self._sum += float((values * counts).sum())
        self._max = max(self._max, float(values.max()))
        self._min = min(self._min, float(values.min()))

    def record_uniform(self, low: float, high: float, count: int) -> None:
        """Record ``count`` samples spread evenly over [low, high] seconds.

        A producer batch's messages arrived evenly between its first and last append, so
        their latencies spread evenly over ``[now - last, now - first]``; putting them in
        the buckets that range covers (integer counts in proportion to the overlap, by
        cumulative rounding so they sum to ``count``) keeps the tail percentiles honest
        without a sample per message.
        """
        if count <= 0:
            return
        if high <= low:
            self.record(low, count)
            return
        lo_i, hi_i = self._index(low), self._index(high)
        if lo_i == hi_i:
            self.record(0.5 * (low + high), count)
            self._max, self._min = max(self._max, high), min(self._min, low)
            return
        # bucket i covers [edge(i-1), edge(i)) with edge(k) = 10**(log_lowest + k/scale);
        # a run records many ranges over the same few buckets: their edges are kept
        edges = _bucket_edges(self._log_lowest, self._scale, lo_i, hi_i)
        bounds = np.concatenate(([low], edges, [high]))
        share = (bounds[1:] - bounds[:-1]).cumsum() / (high - low)
        cumulative = np.rint(share * count).astype(np.int64)
        cumulative[-1] = count
        per_bucket = cumulative.copy()
        per_bucket[1:] -= cumulative[:-1]
        self.counts[lo_i : hi_i + 1] += per_bucket
        self.total += count
        self._sum += 0.5 * (low + high) * count
        self._max = max(self._max, high)
        self._min = min(self._min, low)

    def record_uniform_many(self, low: np.ndarray, high: np.ndarray, counts: np.ndarray) -> None:
        """Vectorised ``record_uniform``: every range spread evenly over the buckets it
        covers, all ranges at once (the stepped engine records every partition's step in
        one call).

        The count below a bucket's upper edge ``e`` is the sum of ramps
        ``c / (high - low) * (max(0, e - low) - max(0, e - high))``, i.e. ``e * A - B``
        with ``A`` and ``B`` the sums of the slopes ``+-c / (high - low)`` and of
        slope * breakpoint over the breakpoints below ``e`` -- two ``bincount``s and two
        ``cumsum``s, whatever the number of ranges. Rounding that cumulative count to
        integers keeps the total exact and each bucket within one of its true share.
        Ranges inside one bucket are recorded at their middle, as ``record_uniform`` does.
        """
        counts = np.asarray(counts, dtype=np.int64)
        keep = counts > 0
        if not keep.any():
            return
        low = np.asarray(low, dtype=float)[keep]
        high = np.maximum(np.asarray(high, dtype=float)[keep], low)
        counts = counts[keep]
        self._max = max(self._max, float(high.max()))
        self._min = min(self._min, float(low.min()))
        lo_i, hi_i = self._indices(low), self._indices(high)
        narrow = lo_i == hi_i
        if narrow.any():
            self.record_many(0.5 * (low[narrow] + high[narrow]), counts[narrow])
            wide = ~narrow
            low, high, counts, lo_i, hi_i = (a[wide] for a in (low, high, counts, lo_i, hi_i))
        if counts.size:
            n = len(self.counts)
            slope = counts / (high - low)
            a = np.bincount(lo_i, slope, n) - np.bincount(hi_i, slope, n)
            b = np.bincount(lo_i, slope * low, n) - np.bincount(hi_i, slope * high, n)
            upper = 10 ** (self._log_lowest + np.arange(n) / self._scale)
            below = upper * np.cumsum(a) - np.cumsum(b)
            below[-1] = 0.0  # the last bucket is open-ended: everything is below its edge
            cumulative = np.maximum.accumulate(np.rint(below).astype(np.int64))
            cumulative[-1] = int(counts.sum())
            self.counts += np.diff(cumulative, prepend=0)
            self.total += int(counts.sum())
            self._sum += float((0.5 * (low + high) * counts).sum())

    def since(self, previous_counts: np.ndarray | None) -> LatencyHistogram:
        """What was recorded after ``previous_counts`` (a copy of ``counts`` taken earlier):
        the histogram of one probe interval, at no extra recording cost."""
        interval = LatencyHistogram(self.lowest, self.highest, self.buckets_per_decade)
        interval.merge(self)
        if previous_counts is not None:
            interval.counts = interval.counts - previous_counts
            interval.total = int(interval.counts.sum())
            interval._min, interval._max = 0.0, math.inf  # unknown within the interval
        return interval

    def merge(self, other: LatencyHistogram) -> None:
        if other.counts.shape != self.counts.shape or other.lowest != self.lowest:
            raise ValueError("histograms with different bucket layouts cannot be merged")
        self.counts += other.counts
        self.total += other.total
        self._sum += other._sum
        self._max = max(self._max, other._max)
        self._min = min(self._min, other._min)

    def _bucket_value(self, index: int) -> float:
        if index == 0:
            return self.lowest
        # the geometric middle of the bucket bounds the relative error by half a bucket
        return 10 ** (self._log_lowest + (index - 0.5) / self._scale)

    def percentile(self, q: float) -> float:
        """The ``q``-th percentile (0-100), nan when empty."""
        if self.total == 0:
            return math.nan
        if q >= 100:
            return self._max
        rank = max(1, math.ceil(q / 100 * self.total))
        index = int(np.searchsorted(np.cumsum(self.counts), rank))
        return min(max(self._bucket_value(index), self._min), self._max)

    def percentiles(self, qs: tuple[float, ...] = (50, 95, 99, 99.9)) -> dict[str, float]:
        return {f"p{q:g}": self.percentile(q) for q in qs}

    @property
    def mean(self) -> float:
        return self._sum / self.total if self.total else math.nan

    @property
    def max(self) -> float:
        return self._max if self.total else math.nan

    def __repr__(self) -> str:
        if not self.total:
            return "<LatencyHistogram empty>"
        p = self.percentiles()
        shown = " ".join(f"{k}={v * 1000:.2f}ms" for k, v in p.items())
        return f"<LatencyHistogram n={self.total} mean={self.mean * 1000:.2f}ms {shown}>"
