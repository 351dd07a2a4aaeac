"""Histogram percentiles against numpy on the raw samples."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.sim.histogram import LatencyHistogram


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(1e-5, 100.0), min_size=1, max_size=300),
    st.sampled_from([50, 90, 95, 99, 99.9]),
)
def test_percentile_within_relative_error_of_nearest_rank(samples, q):
    h = LatencyHistogram()
    for s in samples:
        h.record(s)
    ordered = sorted(samples)
    truth = ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]
    assert abs(h.percentile(q) - truth) <= truth * (h.relative_error * 1.01) + 1e-12


def test_weighted_record_equals_repeated_record_and_vectorised():
    rng = np.random.default_rng(1)
    values = rng.lognormal(-5, 1, 500)
    counts = rng.integers(0, 50, 500)
    a, b = LatencyHistogram(), LatencyHistogram()
    for v, c in zip(values, counts, strict=True):
        a.record(float(v), int(c))
    b.record_many(values, counts)
    assert a.total == b.total == counts.sum()
    assert np.array_equal(a.counts, b.counts)
    assert a.percentiles() == b.percentiles()
    assert math.isclose(a.mean, float((values * counts).sum() / counts.sum()))


def test_merge_and_empty():
    h = LatencyHistogram()
    assert math.isnan(h.percentile(99)) and "empty" in repr(h)
    h.record(0.010, 99)
    other = LatencyHistogram()
    other.record(1.0, 1)
    h.merge(other)
    assert h.percentile(99) < 0.0102 and h.percentile(100) == 1.0
    assert "n=100" in repr(h)


def test_record_uniform_matches_recording_every_sample():
    spread, each = LatencyHistogram(), LatencyHistogram()
    low, high, n = 0.004, 0.011, 7000
    spread.record_uniform(low, high, n)
    for i in range(n):
        each.record(low + (high - low) * (i + 0.5) / n)
    assert spread.total == each.total == n
    assert abs(spread.mean - each.mean) < 1e-9
    for q in (1, 10, 50, 90, 99, 99.9):
        assert spread.percentile(q) == pytest.approx(
            each.percentile(q), rel=2 * spread.relative_error
        )
    # per bucket the counts differ by rounding only
    assert np.abs(spread.counts - each.counts).max() <= 1


def test_record_uniform_degenerate_ranges():
    h = LatencyHistogram()
    h.record_uniform(0.002, 0.002, 5)
    h.record_uniform(0.003, 0.0030001, 5)
    h.record_uniform(0.1, 0.2, 0)
    assert h.total == 10 and h.max == pytest.approx(0.0030001)


def _exact_bucket_mass(h, low, high, counts):
    """Float share of every range in every bucket, range by range (the slow truth)."""
    n = len(h.counts)
    upper = 10 ** (h._log_lowest + np.arange(n) / h._scale)
    lower = np.concatenate(([0.0], upper[:-1]))
    upper[-1] = np.inf
    mass = np.zeros(n)
    for lo, hi, c in zip(low, high, counts, strict=True):
        if h._index(lo) == h._index(hi):
            mass[h._index(0.5 * (lo + hi))] += c
        else:
            overlap = np.clip(np.minimum(upper, hi) - np.maximum(lower, lo), 0, None)
            mass += c * overlap / (hi - lo)
    return mass


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 0.5), st.floats(0.0, 0.2), st.integers(0, 10_000)),
        min_size=1,
        max_size=40,
    )
)
def test_record_uniform_many_spreads_every_range_over_its_buckets(ranges):
    low = np.array([r[0] for r in ranges])
    high = low + np.array([r[1] for r in ranges])
    counts = np.array([r[2] for r in ranges])
    vectorised, one_by_one = LatencyHistogram(), LatencyHistogram()
    vectorised.record_uniform_many(low, high, counts)
    for lo, hi, c in ranges:
        one_by_one.record_uniform(lo, lo + hi, c)
    assert vectorised.total == one_by_one.total == counts.sum()
    if not counts.sum():
        return
    # every bucket within one message of its exact share (one cumulative rounding)
    exact = _exact_bucket_mass(vectorised, low, high, counts)
    assert np.abs(vectorised.counts - exact).max() <= 1 + 1e-6
    assert vectorised.mean == pytest.approx(one_by_one.mean, rel=1e-9, abs=1e-12)
    assert (vectorised.max, vectorised._min) == (one_by_one.max, one_by_one._min)


def test_record_uniform_many_resolves_a_wide_range_like_record_uniform():
    # a linger-closed batch: 1000 messages that waited 2 to 22 ms -- the p50 and p99 of
    # the spread, not of a few representative points
    h = LatencyHistogram()
    h.record_uniform_many(np.array([0.002]), np.array([0.022]), np.array([1000]))
    assert h.percentile(50) == pytest.approx(0.012, rel=2 * h.relative_error)
    assert h.percentile(99) == pytest.approx(0.0218, rel=2 * h.relative_error)


def test_waits_of_hours_and_days_are_told_apart():
    """A flow-engine run of days holds records behind a backlog for hours: their
    percentiles must read as hours, not as the histogram's upper edge."""
    h = LatencyHistogram()
    h.record(5 * 3600.0, 90)
    h.record(2 * 86400.0, 10)
    assert h.percentile(50) == pytest.approx(5 * 3600.0, rel=h.relative_error)
    assert h.percentile(95) == pytest.approx(2 * 86400.0, rel=h.relative_error)
