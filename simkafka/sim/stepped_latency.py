"""The stepped engine's latencies: creation times read back from the creation curve.

Latencies come from :class:`~simkafka.sim.fluid.CreationCurve`: a partition's messages
pass every stage in order, so "offsets n0..n1 passed at t" reads back as creation times,
piece by piece of the step that created them. What a step cannot resolve -- order within a
step, a follower fetching in the same step as the append -- costs up to a step of latency
(the simplifications that move the percentiles most are in :mod:`simkafka.sim.stepped`).
The ranges of a step are queued and binned into the produce and end-to-end histograms
``PENDING_STEPS`` recordings at a time.
"""

from __future__ import annotations

import numpy as np

from simkafka.sim.fluid import RECENT, differences

PENDING_STEPS = 256  # latency recordings queued before they are binned


class LatencyRecording:
    """Latency bookkeeping of :class:`~simkafka.sim.stepped.SteppedWorld`: how long messages
    waited, as ranges of creation times, binned into its histograms."""

    def _waited(
        self, now: float, newest: np.ndarray, oldest: np.ndarray, hops: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """How long messages created between ``oldest`` and ``newest`` waited in queues
        before passing a stage during the step ending ``now``.

        Within a step the moment of passing is not resolved: on average it is the step's
        middle, and never before the message existed. A hop that the step order delays by
        one whole step even when nothing queues -- a follower fetching what was appended
        the step before, a consumer fetching below the high watermark of the step before --
        is credited back (``hops`` steps); its real duration is added by the caller as
        propagation latency instead."""
        middle = now - (0.5 + hops) * self.dt
        return np.maximum(0.0, middle - newest), np.maximum(0.0, middle - oldest)

    def _record_latency(
        self, name: str, low: np.ndarray, high: np.ndarray, count: np.ndarray
    ) -> None:
        """Queue one step's latency ranges; they are binned in batches (one vectorised
        call per ``PENDING_STEPS`` recordings instead of one per step)."""
        pending = self._pending[name]
        pending.append((low, high, count))
        if len(pending) >= PENDING_STEPS:
            self.flush_latency()

    def flush_latency(self) -> None:
        """Bin every queued latency range into the histograms (call before reading them)."""
        for name, histogram in (("produce", self.produce_latency), ("e2e", self.e2e_latency)):
            pending = self._pending[name]
            if pending:
                low, high, count = (np.concatenate(parts) for parts in zip(*pending, strict=True))
                histogram.record_uniform_many(low, high, count)
                pending.clear()

    def _creation_pieces(
        self, series: np.ndarray, lo: np.ndarray, hi: np.ndarray, counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Creation times of messages ``lo + 1 .. hi`` of each partition ``series``, in
        pieces of one creation step each (see ``CreationCurve.segments``): ``(range,
        oldest, newest, messages)``, the messages of each range scaled to ``counts``
        (acknowledged messages can differ from offsets passed when producers mix acks
        settings), integers by cumulative rounding."""
        if self._kernels is not None:
            curve = self.curve
            return self._kernels.creation_pieces(
                curve.fine, curve.fine_steps, curve.coarse, curve.coarse_len,
                curve.coarse_every, curve.step, RECENT, series,
                np.asarray(lo, dtype=np.int64), np.asarray(hi, dtype=np.int64), counts,
            )  # fmt: skip
        piece, oldest, newest, n = self.curve.segments(series, lo, hi)
        order = piece.argsort(kind="stable")
        piece, oldest, newest, n = piece[order], oldest[order], newest[order], n[order]
        total = np.bincount(piece, weights=n, minlength=series.size)
        scale = np.divide(counts, total, out=np.zeros(series.size), where=total > 0)
        rounded = np.rint((n * scale[piece]).cumsum()).astype(np.int64)
        return piece, oldest, newest, differences(rounded)
