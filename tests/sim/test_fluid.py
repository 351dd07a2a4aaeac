"""The stepped engine's primitives: max-min sharing, integer splitting, creation curves."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkafka.sim.fluid import (
    CreationCurve,
    max_min_share,
    share_by_turns,
    split_fraction,
    split_total,
)


def test_max_min_share_gives_the_small_flow_its_demand_and_splits_the_rest():
    # links: 0 = a sender's egress (100), 1 = receiver X ingress (100), 2 = receiver Y ingress (30)
    demand = np.array([1000.0, 1000.0, 10.0])
    src = np.array([0, 0, 0])
    dst = np.array([1, 2, 1])
    alloc = max_min_share(demand, src, dst, np.array([100.0, 100.0, 30.0]))
    # the 10-unit flow is satisfied; the flow to Y is capped at 30 by Y; the rest (60) to X
    assert alloc == pytest.approx([60.0, 30.0, 10.0])


def test_max_min_share_never_exceeds_a_link_or_a_demand():
    rng = np.random.default_rng(3)
    demand = rng.uniform(0, 50, 40)
    src = rng.integers(0, 5, 40)
    dst = rng.integers(5, 10, 40)
    capacity = rng.uniform(10, 100, 10)
    alloc = max_min_share(demand, src, dst, capacity)
    assert (alloc <= demand + 1e-9).all()
    used = np.bincount(src, alloc, 10) + np.bincount(dst, alloc, 10)
    assert (used <= capacity + 1e-6).all()
    # max-min: every flow short of its demand crosses a full link
    full = used >= capacity - 1e-6
    short = alloc < demand - 1e-6
    assert (full[src[short]] | full[dst[short]]).all()


@given(
    st.lists(st.integers(0, 1000), min_size=1, max_size=20),
    st.floats(0, 1),
    st.integers(0, 2**32 - 1),
)
def test_split_fraction_is_an_integer_share_of_each_backlog(backlog, fraction, seed):
    backlog = np.array(backlog, dtype=np.int64)
    out = split_fraction(backlog, np.full(backlog.size, fraction), np.random.default_rng(seed))
    assert out.dtype == np.int64
    assert (out >= 0).all() and (out <= backlog).all()
    assert (np.abs(out - backlog * fraction) < 1).all()


def test_split_fraction_never_starves_a_single_message():
    rng = np.random.default_rng(1)
    served = sum(int(split_fraction(np.array([1]), np.array([0.3]), rng)[0]) for _ in range(1000))
    assert 230 < served < 370  # unbiased: about 30 % of the steps serve it


@given(st.lists(st.integers(0, 500), min_size=1, max_size=12), st.data())
def test_split_total_sums_exactly_and_respects_each_weight(weights, data):
    w = np.array(weights, dtype=np.int64)[:, None]
    total = data.draw(st.integers(0, int(w.sum())))
    out = split_total(np.array([total]), w)[:, 0]
    assert out.sum() == total
    assert (out >= 0).all() and (out <= w[:, 0]).all()


def test_creation_curve_reads_back_creation_times():
    # 10 messages per 1 ms step on series 0, 1 per step on series 1
    curve = CreationCurve(2, 0.001, window=64, coarse_every=8)
    for k in range(1, 501):
        curve.push(np.array([10 * k, k]))
    # message 55 of series 0 was created in step 5 (messages 51..60), at its middle
    assert curve.times(np.array([0]), np.array([55]))[0] == pytest.approx(0.00545)
    # recent messages come from the fine ring, old ones from the coarse samples
    recent = curve.times(np.array([0, 1]), np.array([4_995, 499]))
    assert recent == pytest.approx([0.49945, 0.4985])
    old = curve.times(np.array([1]), np.array([20]))[0]
    assert old == pytest.approx(0.0195, abs=0.001)  # one coarse interval of 8 steps resolves it
    # counts beyond the newest sample are clamped to the newest step's end
    assert curve.times(np.array([1]), np.array([10_000]))[0] == pytest.approx(0.5)


def test_creation_curve_splits_a_range_by_the_step_that_created_it():
    # a sticky burst: 2 messages in step 0, nothing for three steps, then 30 in step 4
    curve = CreationCurve(2, 0.001, window=64, coarse_every=8)
    for cumulative in (2, 2, 2, 2, 32):
        curve.push(np.array([cumulative, 0]))
    piece, oldest, newest, n = curve.segments(
        np.array([0, 0]), np.array([0, 1]), np.array([32, 17])
    )
    tenths = np.round(oldest * 1e4).tolist(), np.round(newest * 1e4).tolist()
    by_range = sorted(zip(piece.tolist(), *tenths, n.tolist(), strict=True))
    assert by_range == [  # (range, oldest, newest in 0.1 ms, messages)
        (0, 0, 10, 2),  # the two that waited: created over step 0
        (0, 40, 50, 30),  # not smeared over the four steps between
        (1, 5, 10, 1),  # message 2 alone, the second half of step 0
        (1, 40, 45, 15),  # messages 3..17: the first half of step 4
    ]
    # a range older than the newest RECENT steps is one piece between its ends
    for k in range(1, 40):
        curve.push(np.array([32 + 10 * k, 0]))
    piece, oldest, newest, n = curve.segments(np.array([0]), np.array([2]), np.array([52]))
    assert piece.tolist() == [0] and n.tolist() == [50]
    # messages 3 and 52 at the middles of their slots in steps 4 and 6
    assert (oldest[0], newest[0]) == pytest.approx(((4 + 0.5 / 30) * 1e-3, 6.95e-3))


def test_share_by_turns_splits_room_by_turn_size_and_passes_on_what_is_not_needed():
    # pool 0: a 3 MB produce queue and two 1 MB responses share 2 MB of room by turn;
    # pool 1: one writer needing less than its room
    room = np.array([2.0, 5.0])
    demand = np.array([3.0, 1.0, 0.1, 1.0])
    turn = np.array([3.0, 1.0, 1.0, 1.0])
    pool = np.array([0, 0, 0, 1])
    granted = share_by_turns(room, demand, turn, pool)
    # the nearly appended response needs 0.1 of its 0.4: the rest goes to the others by turn
    assert granted[2] == pytest.approx(0.1)
    assert granted[0] / granted[1] == pytest.approx(3.0)
    assert granted[:3].sum() == pytest.approx(2.0)
    assert granted[3] == pytest.approx(1.0)


def test_split_fraction_rounds_one_group_alike():
    # two followers of one leader (group 0) with the same half-message share round
    # together, every step; a follower of another leader (group 1) draws on its own
    rng = np.random.default_rng(3)
    backlog = np.array([10, 10, 10])
    fraction = np.array([0.55, 0.55, 0.55])
    groups = np.array([0, 0, 1])
    moved = np.array([split_fraction(backlog, fraction, rng, groups) for _ in range(2000)])
    assert (moved[:, 0] == moved[:, 1]).all()
    assert (moved[:, 0] != moved[:, 2]).any()
    assert set(np.unique(moved)) == {5, 6}
    assert moved.mean() == pytest.approx(5.5, abs=0.05)  # the right total on average


def test_apportion_never_gives_a_partition_fewer_than_zero_and_keeps_every_share():
    # one message at a time over many skewed shares: the carried remainder of a partition
    # rounded up before is negative, and a share smaller than it must not go below zero
    from simkafka.sim.fluid import apportion

    rng = np.random.default_rng(3)
    weights = rng.dirichlet(np.full(32, 0.3))
    carry = np.zeros(32)
    given = np.zeros(32)
    total = 0
    for step in range(5000):
        count = int(rng.integers(0, 3))
        want = carry + count * weights
        whole = apportion(want[None, :], np.array([count]))[0]
        assert whole.min() >= 0 and whole.sum() == count
        carry = want - whole
        given += whole
        total += count
        assert np.abs(given - total * weights).max() < 2.0, step  # within a message or two of its share
