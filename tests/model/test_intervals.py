"""IntervalSet against a plain Python set of integers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkafka.model.intervals import IntervalSet

ranges = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 12)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=8,
)


def as_set(s: IntervalSet) -> set[int]:
    return {i for a, b in s for i in range(a, b)}


def oracle(rs: list[tuple[int, int]]) -> set[int]:
    return {i for a, b in rs for i in range(a, b)}


def assert_normal(s: IntervalSet) -> None:
    pairs = list(s)
    for a, b in pairs:
        assert a < b
    for (_, b1), (a2, _) in zip(pairs, pairs[1:], strict=False):
        assert b1 < a2  # disjoint and not adjacent: merged


def test_repr_len_and_ranges():
    s = IntervalSet([(150, 200), (0, 50), (50, 100)])
    assert repr(s) == "IntervalSet([0, 100), [150, 200))"
    assert len(s) == 150
    assert s.range_count == 2
    assert list(s) == [(0, 100), (150, 200)]
    assert (s.start, s.stop) == (0, 200)
    assert 99 in s and 100 not in s and 150 in s
    assert repr(IntervalSet()) == "IntervalSet()"


def test_reversed_range_is_an_error():
    with pytest.raises(ValueError, match=r"\[5, 3\)"):
        IntervalSet([(5, 3)])
    with pytest.raises(ValueError, match="stop < start"):
        IntervalSet().add(5, 3)


@given(ranges, ranges)
def test_algebra_matches_sets(a: list[tuple[int, int]], b: list[tuple[int, int]]):
    x, y = IntervalSet(a), IntervalSet(b)
    for result, expected in (
        (x | y, oracle(a) | oracle(b)),
        (x & y, oracle(a) & oracle(b)),
        (x - y, oracle(a) - oracle(b)),
        (y - x, oracle(b) - oracle(a)),
    ):
        assert as_set(result) == expected
        assert len(result) == len(expected)
        assert_normal(result)


@given(
    ranges, st.lists(st.tuples(st.booleans(), st.integers(0, 70), st.integers(0, 12)), max_size=12)
)
def test_add_discard_clip_match_sets(
    start: list[tuple[int, int]], ops: list[tuple[bool, int, int]]
):
    s = IntervalSet(start)
    expected = oracle(start)
    for add, a, n in ops:
        if add:
            s.add(a, a + n)
            expected |= set(range(a, a + n))
        else:
            s.discard(a, a + n)
            expected -= set(range(a, a + n))
        assert_normal(s)
        assert as_set(s) == expected
        clipped = s.clip(a, a + n)
        assert as_set(clipped) == expected & set(range(a, a + n))
        assert_normal(clipped)
    assert as_set(s.shift(5)) == {i + 5 for i in expected}
