"""Sets of integers kept as sorted, merged half-open ranges ``[start, stop)``.

The delivery history counts messages by the million, so it never stores one entry per
message: a producer's batch is one range of sequence numbers, a log segment one range of
offsets. Every operation here costs O(number of ranges) (a single-range ``add`` or
``clip`` O(log n) plus the list shift), never O(number of integers).

No library in the environment provides this (``portion`` is not installed and works on
general intervals with per-object overhead); a sorted pair of lists searched with
:mod:`bisect` is all that is needed.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator


class IntervalSet:
    """A set of integers as sorted, disjoint, non-adjacent ranges ``[start, stop)``.

    ``len(s)`` is the number of integers, ``s.range_count`` the number of ranges, and
    iterating yields the ranges as ``(start, stop)`` pairs. ``|``, ``&`` and ``-`` return
    new sets; :meth:`add` and :meth:`discard` change the set in place.
    """

    __slots__ = ("_starts", "_stops")

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        self._starts: list[int] = []
        self._stops: list[int] = []
        pairs = sorted((int(a), int(b)) for a, b in ranges)
        for start, stop in pairs:
            if stop < start:
                raise ValueError(f"IntervalSet: range [{start}, {stop}) has stop < start")
            if start == stop:
                continue
            if self._stops and start <= self._stops[-1]:
                if stop > self._stops[-1]:
                    self._stops[-1] = stop
            else:
                self._starts.append(start)
                self._stops.append(stop)

    @classmethod
    def _from_sorted(cls, starts: list[int], stops: list[int]) -> IntervalSet:
        # Trusted constructor for the merge operations, which already produce normal form.
        new = cls.__new__(cls)
        new._starts = starts
        new._stops = stops
        return new

    @classmethod
    def span(cls, start: int, stop: int) -> IntervalSet:
        """The single range ``[start, stop)`` (empty when ``stop <= start``)."""
        if stop <= start:
            return cls()
        return cls._from_sorted([start], [stop])

    # --- queries -------------------------------------------------------------------

    def __len__(self) -> int:
        return sum(self._stops) - sum(self._starts)

    @property
    def range_count(self) -> int:
        return len(self._starts)

    def __bool__(self) -> bool:
        return bool(self._starts)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return zip(self._starts, self._stops, strict=True)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        i = bisect_right(self._starts, value) - 1
        return i >= 0 and value < self._stops[i]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IntervalSet):
            return NotImplemented
        return self._starts == other._starts and self._stops == other._stops

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        inner = ", ".join(f"[{a}, {b})" for a, b in self)
        return f"IntervalSet({inner})"

    @property
    def start(self) -> int | None:
        """The smallest integer in the set, or ``None`` when empty."""
        return self._starts[0] if self._starts else None

    @property
    def stop(self) -> int | None:
        """One past the largest integer in the set, or ``None`` when empty."""
        return self._stops[-1] if self._stops else None

    def copy(self) -> IntervalSet:
        return IntervalSet._from_sorted(list(self._starts), list(self._stops))

    def clip(self, start: int, stop: int) -> IntervalSet:
        """``self & [start, stop)`` in O(log n + k) for k ranges in the window."""
        if stop <= start or not self._starts:
            return IntervalSet()
        lo = bisect_right(self._stops, start)  # first range ending after start
        hi = bisect_left(self._starts, stop)  # ranges from hi on begin at or after stop
        if lo >= hi:
            return IntervalSet()
        starts = self._starts[lo:hi]
        stops = self._stops[lo:hi]
        starts[0] = max(starts[0], start)
        stops[-1] = min(stops[-1], stop)
        return IntervalSet._from_sorted(starts, stops)

    def shift(self, delta: int) -> IntervalSet:
        """Every integer moved by ``delta`` (sequence numbers to offsets and back)."""
        return IntervalSet._from_sorted(
            [a + delta for a in self._starts], [b + delta for b in self._stops]
        )

    # --- in-place changes ----------------------------------------------------------

    def add(self, start: int, stop: int) -> None:
        """Add ``[start, stop)``; O(1) when it extends or follows the last range."""
        if stop <= start:
            if stop < start:
                raise ValueError(f"IntervalSet.add: range [{start}, {stop}) has stop < start")
            return
        starts, stops = self._starts, self._stops
        # Fast path: records arrive mostly in order, at or past the end.
        if not starts or start > stops[-1]:
            starts.append(start)
            stops.append(stop)
            return
        if start >= starts[-1]:
            if stop > stops[-1]:
                stops[-1] = stop
            return
        lo = bisect_left(stops, start)  # first range that touches or follows start
        hi = bisect_right(starts, stop)  # ranges before hi start at or before stop
        if lo == hi:
            starts.insert(lo, start)
            stops.insert(lo, stop)
            return
        new_start = min(start, starts[lo])
        new_stop = max(stop, stops[hi - 1])
        starts[lo:hi] = [new_start]
        stops[lo:hi] = [new_stop]

    def discard(self, start: int, stop: int) -> None:
        """Remove ``[start, stop)`` (the parts of it that are present)."""
        if stop <= start or not self._starts:
            return
        starts, stops = self._starts, self._stops
        lo = bisect_right(stops, start)
        hi = bisect_left(starts, stop)
        if lo >= hi:
            return
        new_starts: list[int] = []
        new_stops: list[int] = []
        if starts[lo] < start:
            new_starts.append(starts[lo])
            new_stops.append(start)
        if stops[hi - 1] > stop:
            new_starts.append(stop)
            new_stops.append(stops[hi - 1])
        starts[lo:hi] = new_starts
        stops[lo:hi] = new_stops

    # --- set algebra (linear merges) -------------------------------------------------

    def __or__(self, other: IntervalSet) -> IntervalSet:
        if not isinstance(other, IntervalSet):
            return NotImplemented
        a_s, a_e, b_s, b_e = self._starts, self._stops, other._starts, other._stops
        i = j = 0
        starts: list[int] = []
        stops: list[int] = []
        while i < len(a_s) or j < len(b_s):
            if j >= len(b_s) or (i < len(a_s) and a_s[i] <= b_s[j]):
                s, e = a_s[i], a_e[i]
                i += 1
            else:
                s, e = b_s[j], b_e[j]
                j += 1
            if stops and s <= stops[-1]:
                if e > stops[-1]:
                    stops[-1] = e
            else:
                starts.append(s)
                stops.append(e)
        return IntervalSet._from_sorted(starts, stops)

    def __and__(self, other: IntervalSet) -> IntervalSet:
        if not isinstance(other, IntervalSet):
            return NotImplemented
        a_s, a_e, b_s, b_e = self._starts, self._stops, other._starts, other._stops
        i = j = 0
        starts: list[int] = []
        stops: list[int] = []
        while i < len(a_s) and j < len(b_s):
            s = max(a_s[i], b_s[j])
            e = min(a_e[i], b_e[j])
            if s < e:
                starts.append(s)
                stops.append(e)
            if a_e[i] < b_e[j]:
                i += 1
            else:
                j += 1
        return IntervalSet._from_sorted(starts, stops)

    def __sub__(self, other: IntervalSet) -> IntervalSet:
        if not isinstance(other, IntervalSet):
            return NotImplemented
        b_s, b_e = other._starts, other._stops
        j = 0
        starts: list[int] = []
        stops: list[int] = []
        for s, e in zip(self._starts, self._stops, strict=True):
            # skip the other's ranges that end before this one begins
            while j < len(b_s) and b_e[j] <= s:
                j += 1
            k = j
            while k < len(b_s) and b_s[k] < e:
                if b_s[k] > s:
                    starts.append(s)
                    stops.append(b_s[k])
                s = max(s, b_e[k])
                k += 1
            if s < e:
                starts.append(s)
                stops.append(e)
            # the other's range k-1 may also cover the next range of self: do not skip it
            j = max(j, k - 1)
        return IntervalSet._from_sorted(starts, stops)

    union = __or__
    intersection = __and__
    difference = __sub__
