"""The control plane state machines: exact times, leaders and epochs for Kafka's rules."""

from __future__ import annotations

import pytest

from simkafka.model.controller import (
    KRAFT_METADATA_DELAY,
    AlterPartitionRejected,
    AlterPartitionRequest,
    BrokerFenced,
    BrokerHeartbeat,
    BrokerRegistered,
    BrokerUnfenced,
    ControlledShutdownRequest,
    ControllerActivated,
    ControllerFailover,
    Decision,
    Event,
    KRaftController,
    PartitionChanged,
    ShutdownCompleted,
    Tick,
    TopicPolicy,
    decision_order,
)
from simkafka.model.controller_zk import (
    ZK_ELECTION_SECONDS_PER_PARTITION,
    ZK_RELOAD_SECONDS_PER_PARTITION,
    ZooKeeperController,
)
from simkafka.model.election import NO_LEADER, LeaderRecoveryState, PartitionRegistration
from simkafka.model.topology import Topology
from simkafka.model.types import BrokerInfo, TopicPartition
from simkafka.scenario.cluster import BrokerConfig

TP = TopicPartition


def rf3_topology(partitions: int = 3, topic: str = "t") -> Topology:
    """Brokers 0, 1, 2; partition p has replicas rotated so p % 3 is the preferred leader."""
    regs = {
        TP(topic, p): PartitionRegistration.created([(p + i) % 3 for i in range(3)])
        for p in range(partitions)
    }
    return Topology(tuple(BrokerInfo(b) for b in range(3)), regs, {topic: "id"})


def beats(broker: int, start: float, stop: float, every: float = 2.0) -> list[Event]:
    out: list[Event] = []
    t = start
    while t <= stop:
        out.append(BrokerHeartbeat(t, broker))
        t += every
    return out


def run(ctrl: KRaftController | ZooKeeperController, events: list[Event], until: float) -> list[Decision]:
    """What an engine does: deliver events in time order, and a Tick at every deadline."""
    pending = sorted(events, key=lambda e: e.at)  # stable: same-time events keep list order
    out: list[Decision] = []
    i = 0
    while True:
        deadline = ctrl.next_deadline()
        nxt = pending[i].at if i < len(pending) else None
        if deadline is not None and deadline <= until and (nxt is None or deadline < nxt):
            out += ctrl.handle(Tick(deadline))
        elif nxt is not None and nxt <= until:
            out += ctrl.handle(pending[i])
            i += 1
        else:
            return out


def changes(decisions: list[Decision]) -> list[PartitionChanged]:
    return [d for d in decisions if isinstance(d, PartitionChanged)]


def broker_1_dies_at_10(until: float = 60.0) -> list[Event]:
    return [*beats(0, 0, until), *beats(1, 0, 10), *beats(2, 0, until)]


# --- KRaft sessions and fencing -------------------------------------------------------------


def test_silent_broker_is_fenced_exactly_one_session_timeout_after_its_last_heartbeat():
    ctrl = KRaftController(rf3_topology())
    out = run(ctrl, broker_1_dies_at_10(), until=60)
    fenced = [d for d in out if isinstance(d, BrokerFenced)]
    assert fenced == [BrokerFenced(1, 19.0, 19.0 + KRAFT_METADATA_DELAY)]
    by_tp = {d.tp: d for d in changes(out) if d.reason == "fenced"}
    # broker 1 led t-1 (replicas [1, 2, 0]): the first live ISR replica, 2, takes over
    led = by_tp[TP("t", 1)]
    assert (led.registration.leader, led.registration.leader_epoch, led.registration.isr) == (2, 1, (2, 0))
    assert led.at == 19.0 and led.visible_at == pytest.approx(19.025)
    # where 1 only followed, the ISR shrinks and the leader epoch stays (KAFKA-15021)
    assert by_tp[TP("t", 0)].registration.isr == (0, 2)
    assert by_tp[TP("t", 0)].registration.leader_epoch == 0
    assert by_tp[TP("t", 2)].registration.isr == (2, 0)
    assert 1 not in {p.leader for p in ctrl.partitions.values()}


def test_heartbeats_every_two_seconds_keep_every_broker_unfenced():
    ctrl = KRaftController(rf3_topology())
    out = run(ctrl, [*beats(0, 0, 300), *beats(1, 0, 300), *beats(2, 0, 300)], until=300)
    assert out == []
    assert all(not s.fenced for s in ctrl.brokers.values())
    # the next deadline is always the oldest heartbeat plus the 9 s session
    assert ctrl.next_deadline() == 300 + 9.0


def test_a_heartbeat_at_the_very_deadline_still_counts_as_kafkas_session_check_does():
    ctrl = KRaftController(rf3_topology())
    assert ctrl.handle(BrokerHeartbeat(9.0, 1)) == []  # last contact 0 + 9 s >= 9
    assert ctrl.next_deadline() == 9.0  # brokers 0 and 2 are due now
    out = ctrl.handle(Tick(9.0))
    assert [d.broker for d in out if isinstance(d, BrokerFenced)] == [0, 2]
    assert not ctrl.brokers[1].fenced


def test_a_broker_that_never_heartbeats_is_fenced_at_the_session_timeout():
    ctrl = KRaftController(rf3_topology(), config=BrokerConfig(**{"broker.session.timeout.ms": 4000}))
    out = run(ctrl, [*beats(0, 0, 20), *beats(2, 0, 20)], until=20)
    assert [d for d in out if isinstance(d, BrokerFenced)] == [BrokerFenced(1, 4.0, 4.025)]


def test_stale_brokers_are_fenced_one_at_a_time_the_longest_silent_first():
    ctrl = KRaftController(rf3_topology())
    out = run(ctrl, [*beats(0, 0, 40), *beats(1, 0, 10), *beats(2, 0, 8)], until=40)
    assert [(d.broker, d.at) for d in out if isinstance(d, BrokerFenced)] == [(2, 17.0), (1, 19.0)]
    # t-1 ([1, 2, 0]): 1 led, then alone with 0 in the ISR; 0 leads after both are gone
    assert ctrl.partitions[TP("t", 1)].leader == 0
    assert ctrl.partitions[TP("t", 1)].isr == (0,)


# --- controlled shutdown ----------------------------------------------------------------------


def test_controlled_shutdown_moves_every_leader_before_the_broker_may_stop():
    ctrl = KRaftController(rf3_topology(6))
    events = [*beats(0, 0, 30), *beats(1, 0, 4), *beats(2, 0, 30), ControlledShutdownRequest(5.0, 1)]
    out = run(ctrl, events, until=30)
    done = [d for d in out if isinstance(d, ShutdownCompleted)]
    assert done == [ShutdownCompleted(1, 5.025, pytest.approx(5.05))]
    moved = [d for d in changes(out) if d.reason == "controlled_shutdown"]
    assert {d.tp for d in moved} == set(ctrl.partitions)  # 1 is in every ISR
    assert all(d.at == 5.0 and d.visible_at <= done[0].at for d in moved)
    # no partition is ever led by 1 or leaderless once the shutdown completes
    assert all(p.leader not in (1, NO_LEADER) and 1 not in p.isr for p in ctrl.partitions.values())
    assert ctrl.partitions[TP("t", 1)].leader == 2 and ctrl.partitions[TP("t", 4)].leader == 2
    # SHUTDOWN_NOW fences it: no session left to expire, no second round of elections
    assert [d for d in out if isinstance(d, BrokerFenced)] == [BrokerFenced(1, 5.025, pytest.approx(5.05))]
    assert not [d for d in changes(out) if d.at > 5.0]


def test_without_controlled_shutdown_the_broker_stops_at_once_and_is_fenced_later():
    config = BrokerConfig.model_validate({"controlled.shutdown.enable": False})
    ctrl = KRaftController(rf3_topology(), config=config)
    events = [*beats(0, 0, 30), *beats(1, 0, 4), *beats(2, 0, 30), ControlledShutdownRequest(5.0, 1)]
    out = run(ctrl, events, until=30)
    assert [d for d in out if isinstance(d, ShutdownCompleted)] == [ShutdownCompleted(1, 5.0, 5.0)]
    assert [d.broker for d in out if isinstance(d, BrokerFenced)] == [1]
    assert {d.at for d in changes(out)} == {13.0}  # last heartbeat 4 + 9 s session


# --- unclean election -----------------------------------------------------------------------


def test_unclean_topic_elects_an_out_of_sync_replica_a_clean_one_goes_offline():
    shrunk = PartitionRegistration(replicas=(1, 0, 2), isr=(1,), leader=1)
    topology = Topology(
        tuple(BrokerInfo(b) for b in range(3)), {TP("clean", 0): shrunk, TP("dirty", 0): shrunk}, {}
    )
    policies = {"clean": TopicPolicy(), "dirty": TopicPolicy(unclean_leader_election_enable=True)}
    ctrl = KRaftController(topology, topics=policies)
    out = run(ctrl, broker_1_dies_at_10(40), until=40)
    by_tp = {d.tp: d.registration for d in changes(out)}
    dirty = by_tp[TP("dirty", 0)]
    assert (dirty.leader, dirty.isr, dirty.leader_epoch) == (0, (0,), 1)
    assert dirty.leader_recovery_state is LeaderRecoveryState.RECOVERING
    clean = by_tp[TP("clean", 0)]
    assert (clean.leader, clean.isr, clean.leader_epoch) == (NO_LEADER, (1,), 1)
    assert ctrl.offline_partitions() == [TP("clean", 0)]


def test_an_uncleanly_elected_leader_recovers_before_followers_rejoin():
    shrunk = PartitionRegistration(replicas=(1, 0, 2), isr=(1,), leader=1)
    policies = {"dirty": TopicPolicy(unclean_leader_election_enable=True)}
    ctrl = KRaftController(Topology(tuple(BrokerInfo(b) for b in range(3)), {TP("dirty", 0): shrunk}, {}), topics=policies)
    run(ctrl, [*beats(0, 0, 40), *beats(2, 0, 40), *beats(1, 0, 10)], until=40)
    recovering = LeaderRecoveryState.RECOVERING
    tp = TP("dirty", 0)
    early = AlterPartitionRequest(41.0, tp, 0, (0, 2), leader_epoch=1, leader_recovery_state=recovering)
    assert [getattr(d, "error", None) for d in ctrl.handle(early)] == ["INVALID_REQUEST"]
    recovered = ctrl.handle(AlterPartitionRequest(42.0, tp, 0, (0,), leader_epoch=1))
    assert [(d.registration.leader_recovery_state, d.registration.partition_epoch) for d in changes(recovered)] == [
        (LeaderRecoveryState.RECOVERED, 2)
    ]
    expanded = ctrl.handle(AlterPartitionRequest(43.0, tp, 0, (0, 2), leader_epoch=1))
    assert [d.registration.isr for d in changes(expanded)] == [(0, 2)]
    back = AlterPartitionRequest(44.0, tp, 0, (0,), leader_epoch=1, leader_recovery_state=recovering)
    assert [getattr(d, "error", None) for d in ctrl.handle(back)] == ["INVALID_REQUEST"]


def test_the_offline_partition_comes_back_when_its_last_isr_member_is_unfenced():
    shrunk = PartitionRegistration(replicas=(1, 0, 2), isr=(1,), leader=1)
    ctrl = KRaftController(Topology(tuple(BrokerInfo(b) for b in range(3)), {TP("c", 0): shrunk}, {}))
    run(ctrl, broker_1_dies_at_10(40), until=40)
    recovering = [BrokerHeartbeat(41.0 + 2 * i, 1, want_fence=True) for i in range(3)]  # log recovery
    out = run(ctrl, [BrokerRegistered(41.0, 1), *recovering, *beats(1, 47, 50), *beats(0, 41, 50)], until=50)
    assert [d for d in out if d.at < 47] == []  # fenced while it recovers: nothing moves
    assert BrokerUnfenced(1, 47.0, 47.025) in out
    back = changes(out)
    assert [(d.reason, d.at, d.registration.leader, d.registration.leader_epoch) for d in back] == [
        ("unfenced", 47.0, 1, 2)
    ]


# --- restart, ISR expansion, preferred leaders ------------------------------------------------


def restart_events(expand: bool) -> list[Event]:
    events: list[Event] = [*beats(0, 0, 700), *beats(1, 0, 10), *beats(2, 0, 700)]
    events += [BrokerRegistered(30.0, 1), *beats(1, 30, 700)]
    if expand:  # the leaders see 1 caught up and add it back
        events += [
            AlterPartitionRequest(40.0, TP("t", 0), 0, (0, 2, 1), leader_epoch=0),
            AlterPartitionRequest(40.0, TP("t", 1), 2, (2, 0, 1), leader_epoch=1),
            AlterPartitionRequest(40.0, TP("t", 2), 2, (2, 0, 1), leader_epoch=0),
        ]
    return events


def test_restart_expansion_and_the_imbalance_check_bring_the_preferred_leader_back():
    ctrl = KRaftController(rf3_topology())
    out = run(ctrl, restart_events(expand=True), until=700)
    assert BrokerUnfenced(1, 30.0, 30.025) in out
    expanded = [d for d in changes(out) if d.reason == "alter_partition"]
    assert [(d.tp.partition, d.registration.isr, d.at) for d in expanded] == [
        (0, (0, 2, 1), 40.0),
        (1, (2, 0, 1), 40.0),
        (2, (2, 0, 1), 40.0),
    ]
    # the fence at 19 left t-1 imbalanced: the check runs 300 s after that write
    preferred = [d for d in changes(out) if d.reason == "preferred"]
    assert [(d.tp, d.at, d.registration.leader, d.registration.leader_epoch) for d in preferred] == [
        (TP("t", 1), 319.0, 1, 2)
    ]
    # balanced again: no further check pending, only the sessions (last heartbeats at 700)
    assert ctrl._balance_at is None
    assert ctrl.next_deadline() == 709.0


def test_the_imbalance_check_leaves_a_leader_whose_preferred_replica_is_not_in_the_isr():
    ctrl = KRaftController(rf3_topology())
    out = run(ctrl, restart_events(expand=False), until=700)
    assert [d for d in changes(out) if d.reason == "preferred"] == []
    assert ctrl.partitions[TP("t", 1)].leader == 2
    assert ctrl._balance_at == 619.0 + 300.0  # checked at 319 and 619, rescheduled each time


def test_auto_leader_rebalance_disabled_never_checks():
    config = BrokerConfig(**{"auto.leader.rebalance.enable": False})
    ctrl = KRaftController(rf3_topology(), config=config)
    out = run(ctrl, restart_events(expand=True), until=700)
    assert [d for d in changes(out) if d.reason == "preferred"] == []
    assert ctrl.partitions[TP("t", 1)].leader == 2


# --- AlterPartition validation -----------------------------------------------------------------


def test_alter_partition_with_a_stale_leader_epoch_is_rejected():
    ctrl = KRaftController(rf3_topology())
    run(ctrl, broker_1_dies_at_10(25), until=25)  # t-1 is now at leader epoch 1, led by 2
    before = dict(ctrl.partitions)
    out = ctrl.handle(AlterPartitionRequest(26.0, TP("t", 1), 2, (2,), leader_epoch=0))
    assert out == [AlterPartitionRejected(TP("t", 1), 2, "FENCED_LEADER_EPOCH", 26.0, 26.0)]
    assert ctrl.partitions == before


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        (AlterPartitionRequest(26.0, TP("t", 1), 0, (2, 0), leader_epoch=1), "INVALID_REQUEST"),  # not the leader
        (AlterPartitionRequest(26.0, TP("t", 1), 2, (0,), leader_epoch=1), "INVALID_REQUEST"),  # leader left out
        (AlterPartitionRequest(26.0, TP("t", 1), 2, (2, 0, 1), leader_epoch=1), "INELIGIBLE_REPLICA"),  # 1 fenced
        (AlterPartitionRequest(26.0, TP("t", 1), 2, (2,), leader_epoch=2), "NOT_CONTROLLER"),
        (AlterPartitionRequest(26.0, TP("t", 1), 2, (2,), 1, partition_epoch=0), "INVALID_UPDATE_VERSION"),
        (AlterPartitionRequest(26.0, TP("t", 9), 2, (2,), leader_epoch=0), "UNKNOWN_TOPIC_OR_PARTITION"),
    ],
)
def test_alter_partition_errors_follow_kafkas_validation(request_: AlterPartitionRequest, error: str):
    ctrl = KRaftController(rf3_topology())
    run(ctrl, broker_1_dies_at_10(25), until=25)
    out = ctrl.handle(request_)
    assert [(type(d), getattr(d, "error", None)) for d in out] == [(AlterPartitionRejected, error)]


def test_a_valid_shrink_keeps_the_leader_epoch_and_bumps_the_partition_epoch():
    ctrl = KRaftController(rf3_topology())
    out = ctrl.handle(AlterPartitionRequest(1.0, TP("t", 0), 0, (0, 1), leader_epoch=0, partition_epoch=0))
    assert [(d.registration.isr, d.registration.leader_epoch, d.registration.partition_epoch) for d in changes(out)] == [
        ((0, 1), 0, 1)
    ]


# --- ZooKeeper mode ----------------------------------------------------------------------------


def last_leader_change(out: list[Decision]) -> float:
    """When the last partition broker 1 led (p % 3 == 1) got its new leader."""
    return max(d.at for d in changes(out) if d.tp.partition % 3 == 1 and d.registration.leader != 1)


@pytest.mark.parametrize("partitions", [30, 300, 3000])
def test_kraft_failover_time_does_not_depend_on_the_partition_count(partitions: int):
    ctrl = KRaftController(rf3_topology(partitions))
    out = run(ctrl, broker_1_dies_at_10(40), until=40)
    assert last_leader_change(out) - 10.0 == 9.0  # the session timeout, whatever the count
    assert len(changes(out)) == partitions  # 1 was in every ISR


def test_zookeeper_failover_time_grows_linearly_with_the_partitions():
    times = {}
    for partitions in (30, 300, 3000):
        ctrl = ZooKeeperController(rf3_topology(partitions))
        out = run(ctrl, broker_1_dies_at_10(60), until=60)
        fenced = [d for d in out if isinstance(d, BrokerFenced)]
        assert fenced == [BrokerFenced(1, 28.0, 28.001)]  # 10 + zookeeper.session.timeout.ms
        # elections of the partitions 1 led come first, one ZooKeeper write each
        led = [d for d in changes(out) if d.tp.partition % 3 == 1]
        assert [d.at for d in led] == pytest.approx(
            [28.0 + (i + 1) * ZK_ELECTION_SECONDS_PER_PARTITION for i in range(partitions // 3)]
        )
        assert all(d.registration.leader == 2 for d in led)
        # then the ISR shrinks of the others, each also bumping the leader epoch
        others = [d for d in changes(out) if d.tp.partition % 3 != 1]
        assert min(d.at for d in others) > max(d.at for d in led)
        assert all(d.registration.leader_epoch == 1 for d in changes(out))
        times[partitions] = last_leader_change(out) - 10.0
    assert times[30] == pytest.approx(18.0 + 10 * 0.005)
    assert times[3000] - times[300] == pytest.approx(10 * (times[300] - times[30]))


def test_zookeeper_controller_failover_reloads_every_partition_before_electing():
    ctrl = ZooKeeperController(rf3_topology(3000))
    # the controller's broker (1) dies: the new controller takes over when its session expires
    # (given first: at one instant the engine reports the failover before the expiry)
    out = run(ctrl, [ControllerFailover(28.0), *broker_1_dies_at_10(60)], until=60)
    ready = 28.0 + 3000 * ZK_RELOAD_SECONDS_PER_PARTITION
    assert ControllerActivated(ready, ready + 0.001) in out
    assert min(d.at for d in changes(out)) == pytest.approx(ready + ZK_ELECTION_SECONDS_PER_PARTITION)
    fenced = [d for d in out if isinstance(d, BrokerFenced)]
    assert fenced[0].at == ready


def test_kraft_controller_failover_is_immediate_and_renews_sessions():
    ctrl = KRaftController(rf3_topology(3000))
    out = run(ctrl, [*beats(0, 0, 40), *beats(2, 0, 40), ControllerFailover(5.0)], until=40)
    assert ControllerActivated(5.0, 5.0) in out
    # 1 never heartbeated: without the failover it is fenced at 9, with it at 5 + 9
    assert [(d.broker, d.at) for d in out if isinstance(d, BrokerFenced)] == [(1, 14.0)]


def test_zookeeper_controlled_shutdown_takes_a_write_per_partition():
    ctrl = ZooKeeperController(rf3_topology(30))
    events = [*beats(0, 0, 30), *beats(1, 0, 4), *beats(2, 0, 30), ControlledShutdownRequest(5.0, 1)]
    out = run(ctrl, events, until=30)
    done = [d for d in out if isinstance(d, ShutdownCompleted)]
    assert done == [ShutdownCompleted(1, pytest.approx(5.0 + 30 * 0.005), pytest.approx(5.151))]
    assert all(p.leader not in (1, NO_LEADER) for p in ctrl.partitions.values())
    assert all(d.at <= done[0].at for d in changes(out))


def test_zookeeper_rebalance_uses_the_per_broker_percentage():
    # 1 prefers 10 partitions; losing the lead of 1 of them (10 %) is not over the threshold
    # (10 %), losing 2 (20 %) is
    regs = {}
    for p in range(10):
        leader = 2 if p < 2 else 1
        regs[TP("t", p)] = PartitionRegistration(replicas=(1, 2, 0), isr=(1, 2, 0), leader=leader, leader_epoch=1)
    ctrl = ZooKeeperController(Topology(tuple(BrokerInfo(b) for b in range(3)), regs, {}))
    out = run(ctrl, [*beats(0, 0, 10), *beats(1, 0, 10), *beats(2, 0, 10)], until=10)
    preferred = [d for d in changes(out) if d.reason == "preferred"]
    assert [(d.tp.partition, d.at) for d in preferred] == [(0, pytest.approx(5.005)), (1, pytest.approx(5.010))]
    assert ctrl.next_deadline() == 10.0 + 18.0  # next check at 305; sessions first

    regs[TP("t", 1)] = regs[TP("t", 1)].__class__(replicas=(1, 2, 0), isr=(1, 2, 0), leader=1, leader_epoch=1)
    ctrl = ZooKeeperController(Topology(tuple(BrokerInfo(b) for b in range(3)), regs, {}))
    out = run(ctrl, [*beats(0, 0, 10), *beats(1, 0, 10), *beats(2, 0, 10)], until=10)
    assert [d for d in changes(out) if d.reason == "preferred"] == []


# --- determinism and readability ----------------------------------------------------------------


@pytest.mark.parametrize("cls", [KRaftController, ZooKeeperController])
def test_same_inputs_give_the_same_decisions_in_order(cls: type):
    def once() -> list[Decision]:
        ctrl = cls(rf3_topology(60))
        return run(ctrl, [*restart_events(expand=True), ControlledShutdownRequest(500.0, 0)], until=700)

    first, second = once(), once()
    assert first == second
    assert first == sorted(first, key=decision_order)
    assert len(changes(first)) > 60


def test_events_must_not_go_back_in_time():
    ctrl = KRaftController(rf3_topology())
    ctrl.handle(Tick(5.0))
    with pytest.raises(ValueError, match="earlier than the controller's time"):
        ctrl.handle(BrokerHeartbeat(4.0, 0))
    with pytest.raises(ValueError, match="broker 7 is not in the cluster"):
        ctrl.handle(BrokerHeartbeat(6.0, 7))


def test_reprs_say_time_brokers_and_offline_partitions():
    kraft = KRaftController(rf3_topology())
    run(kraft, broker_1_dies_at_10(25), until=25)
    assert repr(kraft) == "<KRaftController t=24s 3 brokers 3 partitions offline=0 fenced=[1] balance_at=319s>"
    zk = ZooKeeperController(rf3_topology())
    assert repr(zk) == "<ZooKeeperController t=0s 3 brokers 3 partitions offline=0 busy_until=0s>"


def test_controlled_shutdown_enable_is_a_broker_config_with_kafkas_default():
    assert BrokerConfig().controlled_shutdown_enable is True
    assert BrokerConfig.model_validate({"controlled.shutdown.enable": "false"}).controlled_shutdown_enable is False


@pytest.mark.parametrize("cls", [KRaftController, ZooKeeperController])
def test_from_scenario_reads_topic_policies_broker_configs_and_offline_brokers(cls: type):
    import textwrap

    from simkafka.model.topology import scenario_topology
    from simkafka.scenario import parse_scenario

    text = """
    name: t
    cluster:
      brokers: 3
      offline_brokers: [2]
      config: {broker.session.timeout.ms: 6000, zookeeper.session.timeout.ms: 6000}
    topics:
      - {name: dirty, partitions: 1, replication.factor: 1, unclean.leader.election.enable: true,
         replica.assignment: [[1]]}
      - {name: rf2, partitions: 1, replication.factor: 2, replica.assignment: [[1, 0]]}
    """
    scenario = parse_scenario(textwrap.dedent(text), "t.yaml")
    ctrl = cls.from_scenario(scenario, scenario_topology(scenario))
    assert ctrl.brokers[2].fenced and not ctrl.brokers[0].fenced
    assert ctrl.policies["dirty"].unclean_leader_election_enable
    out = run(ctrl, [*beats(0, 0, 20), *beats(1, 0, 4)], until=20)
    # 4 + 6 s session; broker 2 is fenced already and has no session to expire
    assert [(d.broker, d.at) for d in out if isinstance(d, BrokerFenced)] == [(1, 10.0)]
    assert ctrl.partitions[TP("rf2", 0)].leader == 0
    assert ctrl.partitions[TP("dirty", 0)].leader == NO_LEADER  # no other replica to take it


# --- eligible leader replicas (KIP-966) --------------------------------------------------------


def elr_chain(min_isr: int = 2) -> tuple[KRaftController, list[Event]]:
    """Brokers 0, 1, 2 fall silent one after another (at 10, 20, 30 s): with
    min.insync.replicas 2, the last two to leave the ISR stay eligible to lead."""
    ctrl = KRaftController(
        rf3_topology(1),
        topics={"t": TopicPolicy(min_insync_replicas=min_isr)},
        elr_enabled=True,
    )
    return ctrl, [*beats(0, 0, 10), *beats(1, 0, 20), *beats(2, 0, 30)]


def test_the_replicas_that_leave_an_isr_below_min_stay_eligible_and_survive_another_unfence():
    ctrl, events = elr_chain()
    run(ctrl, events, until=60)
    partition = ctrl.partitions[TP("t", 0)]
    assert (partition.leader, partition.isr, partition.elr) == (NO_LEADER, (), (1, 2))
    # broker 0 -- never eligible, it left while the ISR was still at min -- comes back:
    out = run(ctrl, [BrokerRegistered(61.0, 0, clean_shutdown=False), *beats(0, 62, 70)], until=70)
    assert not changes(out)
    assert ctrl.partitions[TP("t", 0)].elr == (1, 2)  # an unrelated unfence keeps the ELR


def test_an_unclean_restart_drops_the_broker_from_the_elr_and_it_may_not_lead():
    ctrl, events = elr_chain()
    run(ctrl, events, until=60)
    out = run(ctrl, [BrokerRegistered(61.0, 2, clean_shutdown=False), *beats(2, 62, 70)], until=70)
    change = changes(out)
    # handleBrokerUncleanShutdown at registration; nothing to elect when it is unfenced
    assert [(d.reason, d.at, d.registration.elr, d.registration.leader) for d in change] == [
        ("unclean_shutdown", 61.0, (1,), NO_LEADER)
    ]
    assert BrokerUnfenced(2, 62.0, 62.0 + KRAFT_METADATA_DELAY) in out


def test_a_clean_restart_of_an_eligible_replica_leads_again_without_unclean_election():
    ctrl, events = elr_chain()
    run(ctrl, events, until=60)
    out = run(ctrl, [BrokerRegistered(61.0, 2, clean_shutdown=True), *beats(2, 62, 70)], until=70)
    change = changes(out)
    assert [(d.reason, d.at, d.registration.leader, d.registration.isr, d.registration.elr)
            for d in change] == [("unfenced", 62.0, 2, (2,), (1,))]


def test_without_elr_an_unclean_restart_changes_nothing_at_registration():
    ctrl = KRaftController(rf3_topology(1), topics={"t": TopicPolicy(min_insync_replicas=2)})
    run(ctrl, [*beats(0, 0, 10), *beats(1, 0, 20), *beats(2, 0, 30)], until=60)
    out = run(ctrl, [BrokerRegistered(61.0, 2, clean_shutdown=False), *beats(2, 62, 70)], until=70)
    # Kafka 4.0: the last ISR member leads again when it is unfenced, clean or not
    assert [(d.reason, d.registration.leader) for d in changes(out)] == [("unfenced", 2)]


def test_an_isr_back_at_min_clears_the_elr():
    ctrl, events = elr_chain()
    run(ctrl, events, until=60)
    run(ctrl, [BrokerRegistered(61.0, 2), *beats(2, 62, 90), BrokerRegistered(63.0, 1), *beats(1, 64, 90)],
        until=70)
    partition = ctrl.partitions[TP("t", 0)]
    out = run(ctrl, [AlterPartitionRequest(71.0, TP("t", 0), 2, (2, 1), leader_epoch=partition.leader_epoch),
                     *beats(1, 72, 80), *beats(2, 72, 80)], until=80)
    assert [(d.registration.isr, d.registration.elr) for d in changes(out)] == [((2, 1), ())]
