"""Leader election and ISR changes, against Kafka's PartitionChangeBuilderTest and
ReplicationControlManagerTest expectations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkafka.model.election import (
    NO_LEADER,
    Election,
    LeaderRecoveryState,
    PartitionRegistration,
    alter_isr,
    change_partition,
    elect_leader,
    elect_preferred_leaders,
    fence_broker,
    leader_imbalance,
    unfence_broker,
)
from simkafka.model.types import TopicPartition

# PartitionChangeBuilderTest's fixtures.
FOO = PartitionRegistration(
    replicas=(2, 1, 3), isr=(2, 1, 3), leader=1, leader_epoch=100, partition_epoch=200
)
BAZ = PartitionRegistration(
    replicas=(2, 1, 3), isr=(1, 3), leader=3, leader_epoch=100, partition_epoch=200
)
OFFLINE = PartitionRegistration(
    replicas=(2, 1, 3), isr=(3,), leader=NO_LEADER, leader_epoch=100, partition_epoch=200
)


def not3(r: int) -> bool:
    return r != 3


def elect(partition, accept, election=Election.ONLINE, isr=None, replicas=None):
    if replicas is not None:
        from dataclasses import replace

        partition = replace(partition, replicas=tuple(replicas))
    result = elect_leader(partition, partition.isr if isr is None else isr, accept, election)
    return result.node, result.unclean


def test_elect_leader_matches_partition_change_builder_test():
    # PartitionChangeBuilderTest.testElectLeader
    assert elect(FOO, not3, Election.PREFERRED) == (2, False)
    assert elect(FOO, not3) == (1, False)
    assert elect(FOO, not3, Election.UNCLEAN) == (1, False)
    assert elect(FOO, not3, isr=[1, 3]) == (1, False)
    assert elect(FOO, not3, Election.UNCLEAN, isr=[1, 3]) == (1, False)
    assert elect(FOO, not3, isr=[3]) == (NO_LEADER, False)
    assert elect(FOO, not3, Election.UNCLEAN, isr=[3]) == (2, True)
    assert elect(FOO, not3, Election.UNCLEAN, isr=[4], replicas=[2, 1, 3, 4]) == (4, False)
    always = lambda r: True  # noqa: E731
    assert elect(BAZ, always, Election.PREFERRED) == (3, False)
    assert elect(BAZ, always) == (3, False)
    assert elect(BAZ, always, Election.UNCLEAN) == (3, False)


def test_no_change_is_none():
    # PartitionChangeBuilderTest.testNoChange: an unchanged ISR builds no record.
    assert change_partition(FOO, is_acceptable_leader=not3) is None
    assert change_partition(FOO, is_acceptable_leader=not3, election=Election.PREFERRED) is not None


def test_isr_shrink_keeps_leader_and_leader_epoch():
    # testIsrChangeDoesNotBumpLeaderEpoch (metadata version >= 3.6, KAFKA-15021)
    new = change_partition(FOO, is_acceptable_leader=not3, target_isr=[2, 1])
    assert (new.leader, new.isr, new.leader_epoch, new.partition_epoch) == (1, (2, 1), 100, 201)


def test_preferred_election_moves_leader_and_bumps_epoch():
    new = change_partition(FOO, is_acceptable_leader=not3, election=Election.PREFERRED)
    assert (new.leader, new.isr, new.leader_epoch, new.partition_epoch) == (2, (2, 1, 3), 101, 201)


def test_unclean_election_forces_isr_and_marks_recovering():
    # testUncleanLeaderElection: OFFLINE with only broker 1 acceptable.
    assert change_partition(OFFLINE, is_acceptable_leader=lambda r: r == 1) is None
    new = change_partition(
        OFFLINE, is_acceptable_leader=lambda r: r == 1, election=Election.UNCLEAN
    )
    assert (new.leader, new.isr, new.leader_recovery_state) == (
        1,
        (1,),
        LeaderRecoveryState.RECOVERING,
    )
    assert new.leader_epoch == 101


def tp(p: int) -> TopicPartition:
    return TopicPartition("orders", p)


def test_fencing_the_leader_elects_first_isr_replica_in_assignment_order():
    parts = {
        tp(0): PartitionRegistration.created([0, 1, 2]),
        tp(1): PartitionRegistration.created([1, 2, 0]),
        tp(2): PartitionRegistration.created([2, 0, 1]),
    }
    changes = fence_broker(parts, 0, active_brokers=[1, 2])
    # partition 0 was led by 0: next in assignment order in the ISR is 1
    assert changes[tp(0)].leader == 1 and changes[tp(0)].isr == (1, 2)
    # partitions 1 and 2 keep their leader; 0 leaves their ISR, leader epoch unchanged
    assert changes[tp(1)].leader == 1 and changes[tp(1)].isr == (1, 2)
    assert changes[tp(2)].leader == 2 and changes[tp(2)].isr == (2, 1)
    assert changes[tp(2)].leader_epoch == 0 and changes[tp(0)].leader_epoch == 1


def test_last_isr_member_stays_and_partition_goes_offline_then_returns():
    # ReplicationControlManagerTest: fencing the last ISR member keeps it in the ISR, leader -1.
    parts = {tp(0): PartitionRegistration(replicas=(0, 1), isr=(0,), leader=0)}
    changes = fence_broker(parts, 0, active_brokers=[1])
    assert changes[tp(0)].leader == NO_LEADER and changes[tp(0)].isr == (0,)
    # broker 1 is alive but out of sync: without unclean election nothing happens
    assert unfence_broker(changes, 1, active_brokers=[1]) == {}
    # broker 0 comes back: it is the only clean candidate and leads again
    back = unfence_broker(changes, 0, active_brokers=[1])
    assert back[tp(0)].leader == 0 and back[tp(0)].leader_epoch == 2


def test_fencing_with_unclean_election_picks_an_out_of_sync_replica():
    parts = {tp(0): PartitionRegistration(replicas=(0, 1, 2), isr=(0,), leader=0)}
    changes = fence_broker(parts, 0, active_brokers=[1, 2], unclean_topics=frozenset({"orders"}))
    assert changes[tp(0)].leader == 1 and changes[tp(0)].isr == (1,)
    assert changes[tp(0)].leader_recovery_state is LeaderRecoveryState.RECOVERING


def test_preferred_leader_election_restores_balance():
    parts = {
        tp(0): PartitionRegistration(replicas=(0, 1, 2), isr=(1, 2, 0), leader=1, leader_epoch=1),
        tp(1): PartitionRegistration(replicas=(1, 2, 0), isr=(1, 2, 0), leader=1),
        tp(2): PartitionRegistration(replicas=(2, 0, 1), isr=(0, 1), leader=0, leader_epoch=1),
    }
    assert leader_imbalance(parts) == {0: 1.0, 1: 0.0, 2: 1.0}
    changes = elect_preferred_leaders(parts, active_brokers=[0, 1, 2])
    # 2 is not in the ISR of partition 2, so it cannot be elected there yet
    assert list(changes) == [tp(0)] and changes[tp(0)].leader == 0


def test_alter_isr_validates():
    with pytest.raises(ValueError, match="must contain the leader"):
        alter_isr(FOO, [2, 3])
    with pytest.raises(ValueError, match="not in the assignment"):
        alter_isr(FOO, [1, 7])
    assert alter_isr(FOO, [1]).isr == (1,)


def test_elr_keeps_leader_candidates_when_isr_below_min():
    # KIP-966: with min ISR 2, replicas leaving an ISR that is already short become ELR.
    part = PartitionRegistration(replicas=(0, 1, 2), isr=(0, 1), leader=0)
    new = change_partition(
        part,
        is_acceptable_leader=lambda r: r != 0,
        target_isr=[1],
        min_insync_replicas=2,
        elr_enabled=True,
    )
    assert new.leader == 1 and new.isr == (1,) and new.elr == (0,)


@st.composite
def partitions(draw):
    n = draw(st.integers(1, 5))
    replicas = draw(st.permutations(list(range(n))))
    isr = [r for r in replicas if draw(st.booleans())] or [replicas[0]]
    leader = draw(st.sampled_from(isr))
    alive = draw(st.sets(st.integers(0, n - 1)))
    return PartitionRegistration(replicas=tuple(replicas), isr=tuple(isr), leader=leader), alive


@given(partitions(), st.booleans())
def test_fencing_properties(case, unclean):
    part, alive = case
    broker = part.leader
    alive = alive - {broker}
    tps = {tp(0): part}
    change = fence_broker(
        tps, broker, alive, unclean_topics=frozenset({"orders"} if unclean else ())
    )
    new = change.get(tp(0), part)
    assert new.isr, "the ISR never becomes empty without ELR"
    clean = [r for r in part.replicas if r in part.isr and r != broker and r in alive]
    if clean:
        assert new.leader == clean[0] and new.leader in new.isr
    elif unclean and any(r in alive for r in part.replicas):
        assert new.leader == next(r for r in part.replicas if r in alive) and new.isr == (
            new.leader,
        )
    else:
        assert new.leader == NO_LEADER
    assert new.leader_epoch == part.leader_epoch + (new.leader != part.leader)
