"""assign_until_stable: the assignment a group settles on after its follow-up rounds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.model.assignors import (
    GroupSpec,
    MemberSubscription,
    assign_until_stable,
    classic_assignor,
    server_assignor,
)
from simkafka.model.types import TopicPartition


def tps(*partitions: int) -> tuple[TopicPartition, ...]:
    return tuple(TopicPartition("t", p) for p in partitions)


def joining_group() -> GroupSpec:
    """c-0 and c-1 share six partitions; c-2 has just joined and owns nothing."""
    return GroupSpec({"t": 6}, {
        "c-0": MemberSubscription("c-0", ("t",), tps(0, 2, 4), 1),
        "c-1": MemberSubscription("c-1", ("t",), tps(1, 3, 5), 1),
        "c-2": MemberSubscription("c-2", ("t",)),
    })


def test_a_cooperative_join_settles_in_the_second_round_with_the_kept_partitions_where_they_were():
    assignor = classic_assignor("cooperative-sticky")
    first = assignor.assign(joining_group())
    assert first["c-2"] == []  # withheld: c-0 and c-1 still own what c-2 will get
    settled = assign_until_stable(assignor, joining_group())
    assert sorted(p for owned in settled.values() for p in owned) == list(tps(*range(6)))
    assert all(len(owned) == 2 for owned in settled.values())
    # what each old member keeps is a subset of what it had; c-2 gets the withheld two
    assert set(settled["c-0"]) <= set(tps(0, 2, 4)) and set(settled["c-1"]) <= set(tps(1, 3, 5))
    assert set(settled["c-2"]) == set(tps(0, 2, 4)) - set(settled["c-0"]) | (set(tps(1, 3, 5)) - set(settled["c-1"]))


@pytest.mark.parametrize("name", ["range", "roundrobin"])
def test_an_eager_assignor_settles_on_its_first_answer(name):
    assignor = classic_assignor(name)
    assert assign_until_stable(assignor, joining_group()) == assignor.assign(joining_group())


def test_the_kip848_uniform_assignor_moves_only_what_balance_needs():
    settled = assign_until_stable(server_assignor("uniform"), joining_group())
    moved = set(tps(0, 2, 4)) - set(settled["c-0"]) | (set(tps(1, 3, 5)) - set(settled["c-1"]))
    assert len(moved) == 2 and set(settled["c-2"]) == moved


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=8, max_size=8), st.integers(2, 5))
def test_the_settled_answer_is_a_fixed_point_giving_each_partition_one_owner(owners, members):
    names = [f"m-{k}" for k in range(members)]
    owned = {m: tuple(TopicPartition("t", p) for p, o in enumerate(owners) if o < members and names[o] == m)
             for m in names}
    spec = GroupSpec({"t": 8}, {m: MemberSubscription(m, ("t",), owned[m], 1) for m in names})
    assignor = classic_assignor("cooperative-sticky")
    settled = assign_until_stable(assignor, spec)
    assert sorted(p for tps_ in settled.values() for p in tps_) == [TopicPartition("t", p) for p in range(8)]
    again = GroupSpec({"t": 8}, {m: MemberSubscription(m, ("t",), tuple(settled[m]), 9) for m in names})
    assert {m: sorted(v) for m, v in assignor.assign(again).items()} == {m: sorted(v) for m, v in settled.items()}


def test_an_assignment_that_never_settles_is_an_error():
    class Flipping:
        name = "flipping"

        def assign(self, spec):
            owner = "a" if spec.subscriptions["a"].owned_partitions == () else "b"
            return {"a": list(tps(0)) if owner == "a" else [], "b": list(tps(0)) if owner == "b" else []}

    spec = GroupSpec({"t": 1}, {m: MemberSubscription(m, ("t",)) for m in ("a", "b")})
    with pytest.raises(RuntimeError, match="did not settle in 3 rounds"):
        assign_until_stable(Flipping(), spec, max_rounds=3)
