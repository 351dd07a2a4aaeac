"""Primitives of the stepped engine: fair sharing, integer splitting, creation-time curves.

The stepped engine moves *counts* of messages between stages once per step instead of
moving requests one at a time. Four small tools make that exact where it must be:

* :func:`max_min_share` -- progressive filling: the max-min fair rates of flows that each
  cross two links (a sender's egress and a receiver's ingress), the same sharing the event
  engine's flow network computes transfer by transfer.
* :func:`share_by_turns` -- the page cache's dirty-page room shared among the writers
  waiting for it as if each wrote its whole request or response in turn.
* :func:`split_fraction` -- serve a fraction of integer backlogs without losing a
  message: unbiased stochastic rounding, so small backlogs are never starved and counts
  stay integers (conservation is checked exactly).
* :class:`CreationCurve` -- per partition, the cumulative number of messages created up
  to each step. Any stage that passes messages in order (append, high watermark, consumed
  offsets) turns "messages n0..n1 passed at time t" into latencies by reading the curve
  backwards, with no per-message state.
"""

from __future__ import annotations

import numpy as np

EPSILON = 1e-9
RECENT = 16  # newest steps a creation-time lookup tries before bisecting
NEAR = 64  # a bisection of the fine ring first narrows to the newest NEAR steps when it can
GOLDEN_RATIO_FRACTION = 0.6180339887498949  # an evenly spread sequence: frac(k * this)
DUST = 1e-6  # messages: a fluid queue holding less is empty (the flow engine's queues)


def max_min_share(
    demand: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    capacity: np.ndarray,
    rounds: int = 8,
) -> np.ndarray:
    """Max-min fair allocation of ``capacity`` (per link) among flows wanting ``demand``.

    Each flow ``k`` crosses links ``src[k]`` and ``dst[k]``. Progressive filling: every
    unfrozen flow grows by the smallest fair share of its links; a flow freezes when it has
    its demand or one of its links is full. ``rounds`` bounds the iterations (each round
    freezes at least one link or flow; a handful settles every practical case).
    """
    alloc = np.zeros_like(demand)
    remaining = capacity.astype(float).copy()
    active = (demand > EPSILON).nonzero()[0]  # the unfrozen flows
    links = remaining.size
    nearly_empty = EPSILON * np.maximum(capacity, 1.0)
    for _ in range(rounds):
        if not active.size:
            break
        src_a, dst_a = src[active], dst[active]
        users = np.bincount(src_a, minlength=links) + np.bincount(dst_a, minlength=links)
        fair = np.divide(remaining, users, out=np.full(links, np.inf), where=users > 0)
        demand_a, alloc_a = demand[active], alloc[active]
        grant = np.minimum(demand_a - alloc_a, np.minimum(fair[src_a], fair[dst_a]))
        alloc_a += grant
        alloc[active] = alloc_a
        remaining -= np.bincount(src_a, weights=grant, minlength=links)
        remaining -= np.bincount(dst_a, weights=grant, minlength=links)
        full = remaining <= nearly_empty
        active = active[(demand_a - alloc_a > EPSILON) & ~(full[src_a] | full[dst_a])]
    return alloc


def share_by_turns(
    room: np.ndarray,
    demand: np.ndarray,
    turn: np.ndarray,
    pool: np.ndarray,
    rounds: int = 8,
) -> np.ndarray:
    """Share each pool's ``room`` among the writers that wait for it as if they took
    turns, each writing ``turn`` bytes a turn: in proportion to ``turn``, none beyond its
    ``demand`` (what it still has to write; a satisfied writer leaves the rest to the
    others). ``pool[k]`` is the pool writer ``k`` waits for."""
    granted = np.zeros_like(demand, dtype=float)
    remaining = room.astype(float).copy()
    active = (demand > EPSILON) & (turn > 0)
    unsatisfied = EPSILON * np.maximum(demand, 1.0)
    nearly_full = (EPSILON * np.maximum(room, 1.0))[pool]
    for _ in range(rounds):
        if not np.count_nonzero(active):
            break
        turns = np.bincount(pool, weights=turn * active, minlength=room.size)
        per_byte = np.divide(remaining, turns, out=np.zeros(room.size), where=turns > 0)
        grant = np.where(active, np.minimum(demand - granted, turn * per_byte[pool]), 0.0)
        granted += grant
        remaining -= np.bincount(pool, weights=grant, minlength=room.size)
        active &= (demand - granted > unsatisfied) & (remaining[pool] > nearly_full)
    return granted


def split_fraction(
    backlog: np.ndarray,
    fraction: np.ndarray,
    rng: np.random.Generator,
    groups: np.ndarray | None = None,
    clamped: bool = False,
) -> np.ndarray:
    """``round(backlog * fraction)`` per element, rounding up with the probability of the
    remainder: integers, never more than the backlog, the right total on average.

    With ``groups`` (a small non-negative integer per element), elements of one group
    share one draw, so equal shares of one group round alike -- the followers of one
    leader, served alike by its NIC, finish their responses in the same step.
    ``clamped``: the caller has put ``fraction`` within [0, 1] already.
    """
    if backlog.size == 0 or fraction.min() >= 1.0:  # nothing is short: everything moves
        return backlog.copy()
    want = backlog * (fraction if clamped else np.minimum(np.maximum(fraction, 0.0), 1.0))
    whole = np.floor(want)
    rest = want - whole
    partial = rest > EPSILON
    if np.count_nonzero(partial):
        if groups is None:
            draws = rng.random(int(np.count_nonzero(partial)))
        else:
            draws = rng.random(int(groups.max()) + 1)[groups[partial]]
        whole[partial] += draws < rest[partial]
    return np.minimum(whole.astype(np.int64), backlog)


def split_total(total: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split integer ``total[j]`` over the rows of integer ``weights[:, j]`` in proportion,
    by cumulative flooring: integers that sum exactly to ``total`` and never exceed a
    weight (``total <= weights.sum(0)``)."""
    cumulative = weights.cumsum(axis=0)
    whole = cumulative[-1]
    scale = np.divide(total, whole, out=np.zeros(total.shape), where=whole > 0)
    floored = np.floor(cumulative * scale + EPSILON).astype(np.int64)
    floored[-1] = np.where(whole > 0, total, 0)
    return differences(floored)


def differences(cumulative: np.ndarray) -> np.ndarray:
    """``np.diff(cumulative, axis=0, prepend=0)`` of integers, in two calls (np.diff's
    own Python costs more than the arithmetic on the small arrays of a step)."""
    out = cumulative.copy()
    out[1:] -= cumulative[:-1]
    return out


class CreationCurve:
    """Cumulative messages created per series (partition), sampled at every step end.

    ``count_at(step_end_k)`` is kept for the last ``window`` steps and every
    ``coarse_every``-th step for the whole run; within a step creation is uniform, so the
    time of the ``n``-th message is interpolated. Lookups are vectorised bisections.
    """

    def __init__(self, series: int, step: float, window: int = 4096, coarse_every: int = 64):
        self.series = series
        self.step = step
        self.window = window
        self.coarse_every = coarse_every
        self.fine = np.zeros((window, series), dtype=np.int64)
        self.fine_steps = 0  # steps pushed so far (the ring holds the newest `window`)
        self.coarse = np.zeros((1024, series), dtype=np.int64)
        self.coarse_len = 1  # row 0: zero at time 0
        self.current = np.zeros(series, dtype=np.int64)

    def push(self, cumulative: np.ndarray) -> None:
        """Record the cumulative counts at the end of the next step."""
        self.current = cumulative.copy()
        self.fine[self.fine_steps % self.window] = cumulative
        self.fine_steps += 1
        if self.fine_steps % self.coarse_every == 0:
            if self.coarse_len == self.coarse.shape[0]:
                self.coarse = np.concatenate([self.coarse, np.zeros_like(self.coarse)])
            self.coarse[self.coarse_len] = cumulative
            self.coarse_len += 1

    def times(self, series: np.ndarray, n: np.ndarray) -> np.ndarray:
        """Creation time of message number ``n`` (1-based count) of each ``series``;
        counts beyond the newest sample are clamped to the newest step's end."""
        n = np.asarray(n, dtype=np.int64)
        out = np.zeros(n.shape)
        if n.size == 0:
            return out
        steps = self.fine_steps
        # the ring holds the ends of steps (oldest - 1) .. (steps - 1); the first of them is
        # the lower bound of what the ring can answer
        oldest = max(0, steps - self.window + 1)
        if oldest == 0:
            floor_count = np.zeros(n.shape, dtype=np.int64)
        else:
            floor_count = self._fine_row(oldest - 1, series)
        in_fine = n > floor_count
        in_coarse = ~in_fine
        # most lookups are for messages created a few dozen steps ago: one gather of the
        # newest NEAR steps answers them without a bisection (the first step whose count
        # reaches n, as the bisection finds it)
        recent_steps = min(NEAR, steps - oldest)
        if recent_steps > 0:
            first = steps - recent_steps
            rows = np.arange(first - 1, steps) % self.window
            block = self.fine[rows[:, None], series]
            if first == 0:
                block[0] = 0
            recent = n > block[0]
            if np.count_nonzero(recent):
                j = np.minimum((block[1:] < n).sum(axis=0), recent_steps - 1)
                cols = np.arange(n.size)
                out[recent] = self._interpolate(
                    first + j, block[j, cols], block[j + 1, cols], n, 1
                )[recent]
                in_fine &= ~recent
        if np.count_nonzero(in_fine):
            out[in_fine] = self._search_fine(series[in_fine], n[in_fine], oldest, steps)
        if np.count_nonzero(in_coarse):
            out[in_coarse] = self._search_coarse(series[in_coarse], n[in_coarse])
        return out

    def segments(
        self, series: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Messages ``lo + 1 .. hi`` of each ``series``, split by the step that created
        them: ``(range index, oldest creation time, newest creation time, messages)`` per
        piece. A partition's messages come in bursts (the sticky partitioner fills a
        batch or two, then moves on), so one straight line from the first creation time
        to the last would smear two records that waited a whole ``linger.ms`` over the 30
        that did not. Within a step arrivals are even, so each piece is uniform. Ranges
        older than the newest RECENT steps (a backlog) stay one piece between their ends.
        """
        lo = np.asarray(lo, dtype=np.int64)
        hi = np.maximum(np.asarray(hi, dtype=np.int64), lo)
        index = np.arange(lo.size)
        steps = self.fine_steps
        oldest = max(0, steps - self.window + 1)
        recent_steps = min(RECENT, steps - oldest)
        parts: list[tuple[np.ndarray, ...]] = []
        inside = np.zeros(lo.size, dtype=bool)
        if recent_steps > 0:
            first = steps - recent_steps
            rows = np.arange(first - 1, steps) % self.window
            block = self.fine[rows[:, None], series]  # ends of steps first-1 .. steps-1
            if first == 0:
                block[0] = 0
            inside = (block[0] <= lo) & (hi <= block[-1])
            if np.count_nonzero(inside):
                cols = inside.nonzero()[0]
                sub = block[:, cols]
                clipped = np.minimum(np.maximum(sub, lo[cols]), hi[cols])  # np.clip, faster
                j, m = (clipped[1:] - clipped[:-1]).nonzero()
                before, end = sub[j, m], sub[j + 1, m]
                span = np.maximum(end - before, 1)
                a, b = clipped[j, m], clipped[j + 1, m]
                t_old = (first + j + (a - before) / span) * self.step
                t_new = (first + j + (b - before) / span) * self.step
                parts.append((cols[m], t_old, t_new, b - a))
        rest = ~inside & (hi > lo)
        if np.count_nonzero(rest):
            r = index[rest]
            both = self.times(
                np.concatenate([series[r], series[r]]), np.concatenate([lo[r] + 1, hi[r]])
            )
            parts.append((r, both[: r.size], both[r.size :], hi[r] - lo[r]))
        if not parts:
            empty = np.zeros(0)
            return np.zeros(0, dtype=np.int64), empty, empty, np.zeros(0, dtype=np.int64)
        return tuple(np.concatenate(column) for column in zip(*parts, strict=True))  # type: ignore[return-value]

    def _fine_row(self, k: int | np.ndarray, series: np.ndarray) -> np.ndarray:
        return self.fine[np.asarray(k) % self.window, series]

    def _search_fine(self, s: np.ndarray, n: np.ndarray, oldest: int, steps: int) -> np.ndarray:
        # smallest step k in [oldest, steps) whose end count reaches n
        lo = np.full(n.shape, oldest, dtype=np.int64)
        hi = np.full(n.shape, steps - 1, dtype=np.int64)
        near = steps - 1 - NEAR
        if near > oldest:
            # most messages looked up are a few dozen steps old: the answer -- the first
            # step that reaches n -- is past ``near`` exactly when ``near`` falls short
            # (the counts rise with the step), and then it is ``near + 1`` plus the steps
            # after it that fall short, counted in one gather of the newest NEAR steps
            rows = np.arange(near, steps) % self.window
            block = self.fine[rows[:, None], s]  # ends of steps near .. steps - 1
            beyond = block[0] < n
            if beyond.all():
                j = (block[1:-1] < n).sum(axis=0)
                cols = np.arange(n.size)
                return self._interpolate(near + 1 + j, block[j, cols], block[j + 1, cols], n, 1)
            lo = np.where(beyond, near + 1, lo)
            hi = np.where(beyond, hi, near)
        while True:
            open_ = lo < hi
            if not np.count_nonzero(open_):
                break
            mid = (lo + hi) // 2
            reached = self._fine_row(mid, s) >= n
            hi = np.where(open_ & reached, mid, hi)
            lo = np.where(open_ & ~reached, mid + 1, lo)
        end = self._fine_row(lo, s)
        before = np.where(lo > 0, self._fine_row(np.maximum(lo - 1, 0), s), 0)
        return self._interpolate(lo, before, end, n, 1)

    def _search_coarse(self, s: np.ndarray, n: np.ndarray) -> np.ndarray:
        rows = self.coarse[: self.coarse_len]
        lo = np.ones(n.shape, dtype=np.int64)
        hi = np.full(n.shape, self.coarse_len - 1, dtype=np.int64)
        while True:
            open_ = lo < hi
            if not np.count_nonzero(open_):
                break
            mid = (lo + hi) // 2
            reached = rows[mid, s] >= n
            hi = np.where(open_ & reached, mid, hi)
            lo = np.where(open_ & ~reached, mid + 1, lo)
        end = rows[lo, s]
        before = rows[lo - 1, s]
        # coarse row r holds the end of step r * coarse_every - 1
        return self._interpolate((lo - 1) * self.coarse_every, before, end, n, self.coarse_every)

    def _interpolate(
        self, first_step: np.ndarray, before: np.ndarray, end: np.ndarray, n: np.ndarray, steps: int
    ) -> np.ndarray:
        span = np.maximum(end - before, 1)
        within = np.minimum(np.maximum((n - before - 0.5) / span, 0.0), 1.0)  # np.clip
        return (first_step + within * steps) * self.step


def apportion(want: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Whole messages per partition for each row: row ``i`` sums to ``counts[i]``, each
    partition gets its ``want`` (its key share plus the carried remainder) rounded by
    largest remainder, and none gets fewer than zero -- a partition whose carried
    remainder is negative (it was rounded up before) and whose share this time is smaller
    than that gets nothing, and another gives one back."""
    whole = np.floor(np.maximum(want, 0.0))
    short = counts - whole.sum(axis=1).astype(np.int64)
    width = whole.shape[1]
    rank = np.arange(width)[None, :]
    # too few: one more to those furthest below their want
    order = np.argsort(whole - want, axis=1, kind="stable")
    bump = np.zeros_like(whole)
    np.put_along_axis(bump, order, rank < np.maximum(short, 0)[:, None], axis=1)
    # too many: one fewer from those furthest above it, among those that have one
    over = np.where(whole > 0, want - whole, np.inf)
    order = np.argsort(over, axis=1, kind="stable")
    cut = np.zeros_like(whole)
    np.put_along_axis(cut, order, rank < np.maximum(-short, 0)[:, None], axis=1)
    return whole + bump - cut
