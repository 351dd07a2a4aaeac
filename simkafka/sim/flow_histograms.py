"""The flow engine's latency histograms: each interval's records, per flow, as uniform
pieces between the bounds :mod:`~simkafka.sim.flow_latency` derives.

Between two events every flow's rate holds, so an interval records ``rate x dt``
records per flow (whole ones: each flow carries its fraction to the next interval,
starting at its own golden-ratio phase), each spread uniformly over its latency's
pieces -- the batch's wait, the channel's, the high watermark's pick-up, the fetch's,
the poll's and, behind a group's backlog, its wait there (first in, first out, read off
the log ends noted at every change of rates). Flows alike in all of that are recorded
once, with their counts summed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from simkafka.sim.fluid import DUST, GOLDEN_RATIO_FRACTION
from simkafka.sim.histogram import LatencyHistogram

LOG_END_HISTORY_S = 300.0  # seconds of log-end history kept beyond what backlogs need


class HistogramRecording:
    """The recording half of :class:`~simkafka.sim.flow_latency.FlowLatency`: its
    histograms and what they carry from one interval to the next."""

    world: Any  # simkafka.sim.flow.FlowWorld
    _slowest: np.ndarray
    _slowest_from: np.ndarray

    def start_recording(self, world: Any) -> None:
        self.produce = LatencyHistogram()
        self.e2e = LatencyHistogram()
        # each flow's fraction of a record not yet recorded, starting at its own phase
        # (a golden-ratio sequence over [0, 1)): floor(x + U) counts x records on
        # average, and flows far below a record an interval -- 20 msg/s over 2,000
        # partitions -- take their turns instead of all waiting 100 s for their first
        self._carry_p = _phases(world.K)
        self._carry_c = _phases(world.C)
        self._piece_carry: dict[str, np.ndarray] = {}
        # each partition's log end and append rate at every change of rates since the
        # oldest record a backlog holds was appended: when that record was (backlog_waits)
        self._end_times: list[float] = []
        self._end_marks: list[np.ndarray] = []
        self._end_rates: list[np.ndarray] = []
        self._end_history: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._rates_noted: np.ndarray | None = None
        self._waits_now: np.ndarray | None = None  # backlog_waits(0) at the world's time, if any
        self._tables: dict[str, tuple[Any, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        self._grouping: dict[str, tuple] = {}

    def record(self, dt: float) -> None:
        """The interval's records: per flow, a constant plus the pieces of its waits."""
        w = self.world
        shape = w.shape
        if w.K:
            n = w.rate_k * dt + self._carry_p
            whole = np.floor(n)
            self._carry_p = n - whole
            # records that queued in send() and the accumulator waited that long first
            # (the queue at the interval's middle: it changes linearly)
            queued = w.queue_wait(0.5 * dt)
            # the high watermark's pick-up: its mean is in produce_base, its spread here
            pick_up = shape.hw_spread[w.k_part] * w.all_acks[w.k_spec]
            base = queued + shape.produce_base - shape.channel_queue
            base = base - (self._slowest - self._slowest_from)[w.k_part] * pick_up
            spread = (1.0 - self._slowest_from)[w.k_part] * pick_up
            self._record(self.produce, "produce", lambda: _stacked(shape.latency_pieces()), base, spread, whole)
        if w.C:
            n = w.rate_c * dt + self._carry_c
            whole = np.floor(n)
            self._carry_c = n - whole
            # from the record's creation to the high watermark, as its produce path
            # says (rate-weighted over the partition's producers), then the consumer's part
            base_p = self._to_append_of_partition(dt)
            hw_from = shape.hw_base + self._slowest_from * shape.hw_spread
            low = (base_p + hw_from)[w.c_part] + shape.consume_base - shape.hw_base[w.c_part]
            spread = shape.consume_spread + ((1.0 - self._slowest_from) * shape.hw_spread)[w.c_part]
            if self._waits_now is not None:
                # behind a backlog, a record waits its turn too: linear over the interval
                before, after = self._waits_now, self.backlog_waits(dt)
                low = low + np.minimum(before, after)
                spread = spread + np.abs(after - before)
            self._record(self.e2e, "e2e", self._pieces_of_consumer_flows, low, spread, whole)

    def follow_log_ends(self) -> None:
        """Note each partition's log end and append rate when the rates change (the world
        calls this before it moves on), for :meth:`backlog_waits`. Only what a backlog
        still reaches back to is kept, and the last :data:`LOG_END_HISTORY_S` (a group's
        position can go back to its last commit)."""
        w = self.world
        if not w.C:
            return
        if w.produce_rate_p is not self._rates_noted:
            self._rates_noted = w.produce_rate_p
            self._end_times.append(w.now)
            self._end_marks.append(w.leo.copy())
            self._end_rates.append(w.produce_rate_p)
            self._end_history = None
        # the waits now: the oldest record a backlog holds was appended the longest wait ago
        self._waits_now = self.backlog_waits(0.0) if (w.lag > DUST).any() else None
        keep_from = w.now - LOG_END_HISTORY_S
        if self._waits_now is not None:
            keep_from = min(keep_from, w.now - float(self._waits_now.max()))
        first = max(0, int(np.searchsorted(self._end_times, keep_from, side="right")) - 1)
        if first:
            del self._end_times[:first], self._end_marks[:first], self._end_rates[:first]
            self._end_history = None

    def backlog_waits(self, ahead: float) -> np.ndarray:
        """Per consumer flow, ``ahead`` seconds from now at the current rates: how long the
        record its fetches take next (the oldest of its backlog) has waited since it was
        appended -- first in, first out, read off the log end's history: the record at
        offset ``high watermark - lag`` was appended when the log end passed it (a
        prefill's records, at the start). No backlog, no wait."""
        w = self.world
        at = w.now + ahead
        lag = np.maximum(0.0, w.lag + w.lag_slope * ahead)
        behind = np.flatnonzero(lag > DUST)
        waits = np.zeros(w.C)
        if not behind.size:
            return waits
        if self._end_history is None:
            self._end_history = (np.asarray(self._end_times), np.vstack(self._end_marks), np.vstack(self._end_rates))
        times, marks, rates = self._end_history
        part = w.c_part[behind]
        offset = (w.leo - w.hw_gap)[part] + w.hw_rate_p[part] * ahead - lag[behind]
        column = marks[:, part]
        k = np.maximum((column <= offset[None, :]).sum(axis=0) - 1, 0)
        mark, rate = column[k, np.arange(part.size)], rates[k, part]
        since = np.divide(offset - mark, rate, out=np.zeros(part.size), where=rate > 0)
        appended = np.clip(times[k] + np.maximum(since, 0.0), times[0], at)
        waits[behind] = at - appended
        return waits

    def _record(
        self,
        histogram: LatencyHistogram,
        name: str,
        pieces: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]],
        base: np.ndarray,
        spread: np.ndarray,
        whole: np.ndarray,
    ) -> None:
        """Record ``whole`` records per flow: from ``base`` plus each piece's low to
        ``base + spread`` plus its high. Flows alike in all of that (a spec's flows on
        a symmetric cluster) are recorded once, with their counts summed."""
        table = self._table(name, pieces, whole.size)
        shares, lows, highs = table
        counts = self._counts(name, shares, whole)
        n_flows, n_pieces = shares.shape
        grouping = self._grouping.get(name)
        if grouping is None or grouping[0] is not table or not (
            np.array_equal(grouping[1], base) and np.array_equal(grouping[2], spread)
        ):
            key = np.column_stack([base, spread, shares, lows.reshape(n_pieces, n_flows).T,
                                   highs.reshape(n_pieces, n_flows).T])
            first, inverse = _alike_rows(key)
            grouping = (table, base.copy(), spread.copy(), first, inverse)
            self._grouping[name] = grouping
        first, inverse = grouping[3], grouping[4]
        n_groups = first.size
        rows = (np.arange(n_pieces)[:, None] * n_flows + first[None, :]).ravel()
        at = (np.arange(n_pieces)[:, None] * n_groups + inverse[None, :]).ravel()
        grouped = np.bincount(at, weights=counts, minlength=n_pieces * n_groups).astype(np.int64)
        histogram.record_uniform_many(
            np.tile(base[first], n_pieces) + lows[rows], np.tile((base + spread)[first], n_pieces) + highs[rows], grouped
        )

    def _table(
        self, name: str, pieces: Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]], rows: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pieces (``pieces()``: shares, lows and highs, a row per flow and a column
        per piece) as shares and, piece after piece, lows and highs -- without the
        pieces no flow has a share in; built once per solution (they change only with
        the rates, and the flows: ``rows`` of them)."""
        shape = self.world.shape
        cached = self._tables.get(name)
        if cached is not None and cached[0] is shape and cached[1][0].shape[0] == rows:
            return cached[1]
        shares, lows, highs = pieces()
        used = shares.any(axis=0)
        used[0] = True
        table = (shares[:, used], lows[:, used].T.ravel(), highs[:, used].T.ravel())
        self._tables[name] = (shape, table)
        return table

    def _counts(self, name: str, shares: np.ndarray, whole: np.ndarray) -> np.ndarray:
        """``whole`` records per flow split over its pieces by their ``shares`` (piece
        after piece, as :meth:`_table` lays them out): each piece its share rounded
        down, the rest to the flow's largest piece, and what a piece was short of its
        share carried to the next interval -- so a piece too small for one interval's
        records (the tail's) still gets its share over a run."""
        want = shares * whole[:, None]
        carry = self._piece_carry.get(name)
        if carry is not None and carry.shape == want.shape:
            want = want + carry
        counts = np.floor(np.maximum(want, 0.0))
        rest = whole - counts.sum(axis=1)
        rows = np.arange(counts.shape[0])
        largest = np.argmax(want, axis=1)
        counts[rows, largest] = np.maximum(counts[rows, largest] + rest, 0.0)
        self._piece_carry[name] = want - counts
        return counts.T.ravel()

    def _to_append_of_partition(self, dt: float) -> np.ndarray:
        """Per partition, rate-weighted over its producers: the produce path from the
        batch's send to the append -- its request's trip and service before the high
        watermark's wait (the waits are :meth:`_pieces_of_consumer_flows`)."""
        w = self.world
        shape = w.shape
        to_append = (w.queue_wait(0.5 * dt) + shape.produce_base - shape.channel_queue - w.client_latency
                     - shape.high_watermark_wait)
        return self._partition_mean(to_append, w.rate_k)

    def _partition_mean(self, values: np.ndarray, weights: np.ndarray) -> np.ndarray:
        w = self.world
        total = np.bincount(w.k_part, weights=weights * values, minlength=w.P)
        of = np.bincount(w.k_part, weights=weights, minlength=w.P)
        return np.divide(total, of, out=np.zeros(w.P), where=of > 0)

    def _pieces_of_consumer_flows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The accumulator's and the channel's waits of the records a consumer flow
        reads: its partition's producers' :meth:`~simkafka.sim.flow_latency.Shape.latency_pieces`, each piece's
        share rate-weighted over them, and its bounds weighted by that."""
        w = self.world
        every = w.shape.latency_pieces()
        n = len(every)
        weight = w.rate_k[:, None] * np.stack([share for share, _, _ in every], axis=1)
        at = (w.k_part[:, None] * n + np.arange(n)[None, :]).ravel()

        def by_partition(values: np.ndarray) -> np.ndarray:
            return np.bincount(at, weights=values.ravel(), minlength=w.P * n).astype(float).reshape(w.P, n)

        total = by_partition(weight)
        msgs = np.bincount(w.k_part, weights=w.rate_k, minlength=w.P).astype(float)[:, None]
        share = np.divide(total, msgs, out=np.zeros_like(total), where=msgs > 0)
        low = np.divide(by_partition(weight * np.stack([lo for _, lo, _ in every], axis=1)), total,
                        out=np.zeros_like(total), where=total > 0)
        high = np.divide(by_partition(weight * np.stack([hi for _, _, hi in every], axis=1)), total,
                         out=np.zeros_like(total), where=total > 0)
        return share[w.c_part], low[w.c_part], high[w.c_part]


def _stacked(pieces: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(share, low, high) pieces as three matrices, a row per flow and a column per piece."""
    return tuple(np.stack([piece[i] for piece in pieces], axis=1) for i in range(3))  # type: ignore[return-value]


def _alike_rows(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Groups of equal rows of ``key``: each group's first row and each row's group --
    found by one projection of the rows (a sort of numbers, not of rows), then checked
    row by row; should two different rows share a projection, every row is its own."""
    projection = key @ np.sqrt(np.arange(2.0, key.shape[1] + 2.0))
    _, first, inverse = np.unique(projection, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if not np.array_equal(key, key[first][inverse]):
        rows = np.arange(key.shape[0])
        return rows, rows
    return first, inverse


def _phases(n: int) -> np.ndarray:
    """``n`` phases spread evenly over [0, 1) (the golden-ratio sequence), deterministic."""
    return (np.arange(n) * GOLDEN_RATIO_FRACTION) % 1.0
