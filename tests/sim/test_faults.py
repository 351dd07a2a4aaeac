"""Faults in the events engine: the control plane moves leaders as Kafka's does, and the
delivery checker accounts for every acknowledged record.

Each test plays a small cluster through a fault and asserts Kafka's outcome: when the
new leaders come (session timeout + election + metadata propagation), which replica
leads, what ``acks`` and ``min.insync.replicas`` let through, and what the checker
finds lost -- computed independently from the ranges the test can see.
"""

from __future__ import annotations

import textwrap

import pytest

from simkafka.model.controller import KRAFT_METADATA_DELAY
from simkafka.model.election import NO_LEADER
from simkafka.model.types import TopicPartition
from simkafka.scenario import parse_scenario
from simkafka.sim.engine import run_world, summarise
from simkafka.sim.probes import Probes
from simkafka.sim.world import World

SESSION = 9.0  # broker.session.timeout.ms (KRaft default)
HEARTBEAT = 2.0  # broker.heartbeat.interval.ms


def _play(text: str):
    scenario = parse_scenario(textwrap.dedent(text), "faults.yaml")
    world = World(scenario)
    probes = Probes(world, scenario.run.sample_interval)
    run_world(world, probes)
    return world, summarise(world, probes)


def _events(world, kind: str):
    return [e for e in world.control.timeline if e.event == kind]


def _last_heartbeat_before(world, broker: int, t: float) -> float:
    """Brokers heartbeat every interval from a phase set by their place in the list."""
    ids = sorted(world.brokers)
    phase = HEARTBEAT * (ids.index(broker) + 1) / len(ids)
    k = int((t - phase) // HEARTBEAT)
    return phase + k * HEARTBEAT


CRASH = """
name: crash-acks-all
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 6, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 2MB/s, message_size: 1KiB, acks: all, linger.ms: 5}
consumer_groups:
  - {group.id: g, topics: [t], members: 2}
faults:
  - {type: broker_crash, at: 2s, broker: 1}
run: {duration: 16s, warmup: 0.5s, sample_interval: 0.5s, seed: 7}
"""


def test_crash_under_acks_all_loses_nothing_and_elects_from_the_isr_after_the_session_timeout():
    world, result = _play(CRASH)
    led_before = {tp for tp, r in world.topology.partitions.items() if r.leader == 1}
    assert led_before, "broker 1 led something"
    fenced = _events(world, "fenced")
    assert [e.broker for e in fenced] == [1]
    # fenced exactly one session after its last heartbeat, applied by the brokers one
    # metadata propagation later
    fenced_at = _last_heartbeat_before(world, 1, 2.0) + SESSION + KRAFT_METADATA_DELAY
    assert fenced[0].time == pytest.approx(fenced_at)
    elected = {TopicPartition(e.topic, e.partition): e for e in _events(world, "leader_elected")}
    assert set(elected) == led_before
    for tp in led_before:
        registration = world.partitions[tp]
        old = world.topology.partitions[tp]
        # the new leader is the first live ISR member in replica order (PartitionChangeBuilder)
        assert registration.leader == next(r for r in old.replicas if r != 1 and r in old.isr)
        assert registration.leader_epoch == old.leader_epoch + 1
        assert 1 not in registration.isr
        # the elections are written with the fence, and applied with it
        assert elected[tp].time == pytest.approx(fenced_at)
    # nothing acknowledged was lost, nothing written twice, every produced message accounted
    assert result.summary["delivery_ok"] is True
    assert result.summary["acknowledged_lost"] == 0
    assert result.delivery.loc["t", "lost"] == 0
    assert result.conservation["ok"] is True
    assert result.conservation["history_matches_logs"] is True
    # a pause, not errors: nothing failed (delivery.timeout.ms is 120 s)
    assert result.summary["failed_messages"] == 0
    ts = result.timeseries
    assert ts.loc[3.0:fenced[0].time - 0.5, "produce_msgs_per_s"].max() == 0  # stalled: HW held by broker 1
    assert ts.loc[fenced[0].time + 1:, "produce_msgs_per_s"].min() > 0
    # every partition broker 1 led was without a reachable leader from the crash to the election
    no_leader = result.availability["no_leader_s"]
    for tp in led_before:
        assert no_leader.loc[(tp.topic, tp.partition)] == pytest.approx(elected[tp].time - 2.0)
    assert result.summary["failover_s"] == pytest.approx(max(e.time for e in elected.values()) - 2.0)


UNCLEAN = """
name: unclean
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 1, replication.factor: 3, min.insync.replicas: 1,
     unclean.leader.election.enable: true}
producers:
  - {topic: t, rate: 1MB/s, message_size: 1KiB, acks: "1", linger.ms: 5}
faults:
  - {type: broker_crash, at: 1s, broker: 0}
  - {type: broker_crash, at: 1s, broker: 2}
  - {type: broker_crash, at: 14s, broker: 1}
  - {type: broker_restart, at: 15s, broker: 2}
run: {duration: 26s, warmup: 0.5s, sample_interval: 0.5s, seed: 3}
"""


def test_unclean_election_loses_exactly_the_acknowledged_records_only_the_dead_leader_held():
    world, result = _play(UNCLEAN)
    tp = TopicPartition("t", 0)
    assert world.topology.partitions[tp].leader == 1
    # the ISR shrank to the leader when the followers were fenced; the leader kept taking acks=1
    shrink = [e for e in _events(world, "isr_shrink") if e.partition == 0]
    assert shrink and "-> [1]" in shrink[-1].detail
    final = world.partitions[tp]
    assert final.leader == 2, "broker 2 came back and was elected uncleanly"
    # what broker 2 had when it crashed is all the partition keeps of the old epoch
    elected = [e for e in _events(world, "leader_elected") if e.broker == 2]
    assert len(elected) == 1
    new_end = int(elected[0].detail.split("log end ")[1])
    old_end = world.brokers[1].logs[tp].log_end_offset  # broker 1 never came back
    assert old_end > new_end
    # independently of the checker: records acknowledged by the old leader at offsets
    # [new_end, old_end), which only it held
    acked_beyond = 0
    for acks in world.history._partitions[tp].acked.values():
        for ack in acks:
            if ack.at < elected[0].time:
                stop = min(ack.base_offset + ack.count, old_end)
                acked_beyond += max(0, stop - max(ack.base_offset, new_end))
    assert acked_beyond > 1000  # about 13 s of acks=1 writes the followers never fetched
    assert result.summary["acknowledged_lost"] == acked_beyond
    assert result.delivery.loc["t", "lost"] == acked_beyond
    assert result.summary["delivery_ok"] is False
    assert world.history.truncations(tp)[-1][0] == new_end


MIN_ISR = """
name: min-isr
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 1, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 1MB/s, message_size: 1KiB, acks: all, linger.ms: 5, delivery.timeout.ms: 8000,
     request.timeout.ms: 4000}
consumer_groups:
  - {group.id: g, topics: [t], members: 1}
faults:
  - {type: broker_crash, at: 1s, broker: 1}
  - {type: broker_crash, at: 1s, broker: 2}
run: {duration: 24s, warmup: 0.5s, sample_interval: 0.5s, seed: 5}
"""


def test_min_insync_replicas_rejects_writes_with_two_of_three_replicas_down_and_reads_go_on():
    world, result = _play(MIN_ISR)
    tp = TopicPartition("t", 0)
    assert world.partitions[tp].isr == (0,)
    errors = sum((p.errors for p in world.producers), start=__import__("collections").Counter())
    assert errors["NOT_ENOUGH_REPLICAS"] > 0  # rejected once the ISR is the leader alone
    assert result.conservation["failed"].get("NOT_ENOUGH_REPLICAS", 0) > 0
    assert result.summary["acknowledged_lost"] == 0
    assert result.conservation["ok"] is True
    # reads continue: the group read everything below the high watermark
    assert result.conservation["groups"]["g"]["lag_not_fetched"] == 0
    assert result.availability.loc[("t", 0), "under_min_isr_s"] > 10


SHUTDOWN = """
name: controlled
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 6, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 2MB/s, message_size: 1KiB, acks: all, linger.ms: 5}
faults:
  - {type: broker_shutdown, at: 2s, broker: 1}
run: {duration: 6s, warmup: 0.5s, sample_interval: 0.5s, seed: 7}
"""


def test_controlled_shutdown_moves_leaders_before_the_broker_stops():
    world, result = _play(SHUTDOWN)
    led_before = {tp for tp, r in world.topology.partitions.items() if r.leader == 1}
    stopped = _events(world, "shutdown_completed")
    assert len(stopped) == 1
    moved = [e for e in _events(world, "leader_elected") if TopicPartition(e.topic, e.partition) in led_before]
    assert len(moved) == len(led_before)
    assert all(e.time <= stopped[0].time for e in moved)
    assert all("controlled_shutdown" in e.detail for e in moved)
    assert result.summary["no_leader_partition_s"] == 0
    assert int(result.timeseries["offline_partitions"].max()) == 0
    assert result.summary["acknowledged_lost"] == 0
    assert result.summary["failed_messages"] == 0


SHUTDOWN_RACE = """
name: shutdown-fetch-race
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 3, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 200KB/s, message_size: 1KiB, acks: all, enable.idempotence: true, linger.ms: 0}
faults:
  - {type: broker_shutdown, at: 1.013s, broker: 1}
run: {duration: 2s, warmup: 0.5s, sample_interval: 0.5s, seed: 1}
"""


def test_a_fetch_answered_by_the_old_leader_is_dropped_when_its_follower_became_leader():
    """Controlled shutdown moves leadership while the old leader still answers fetches:
    a follower's response in flight must not be appended once the follower leads (Kafka
    removes the partition from its fetcher), or the new leader's log holds the old
    leader's unreplicated tail under offsets the producer's retry is written after."""
    world, result = _play(SHUTDOWN_RACE)
    dropped = sum(f.stale_reads_dropped for f in world.fetchers.values())
    assert dropped > 0, "the shutdown raced a follower's fetch (the scenario exercises the case)"
    moved = [e for e in _events(world, "leader_elected") if "controlled_shutdown" in e.detail]
    assert moved
    history = world.history
    appended = 0
    for tp in world.partitions:
        log_end = world.leader_log(tp).log_end_offset
        entries = history.log(tp)
        # every offset of the leader's log is a record the history saw appended: no hole
        assert sum(e.count for e in entries) == log_end == history.log_end_offset(tp)
        assert [e.base_offset for e in entries] == [0] + [e.stop_offset for e in entries[:-1]]
        # the idempotent producer's sequences are in the log once each, in order
        assert [e.first_seq for e in entries] == [0] + [e.first_seq + e.count for e in entries[:-1]]
        appended += log_end
    c = result.conservation
    assert c["appended_to_leaders"] == appended
    assert c["written_twice"] == 0 and c["acknowledged_lost"] == 0 and c["not_in_history"] == 0
    assert c["created"] == c["acknowledged"] + c["in_flight"] + c["in_accumulator"] + c["blocked_in_send"]
    assert c["failed"] == {}
    # what is in the logs was created, and holds everything acknowledged
    assert c["acknowledged"] <= c["appended_to_leaders"] <= c["created"]
    assert c["logs_balanced"] and c["history_matches_logs"] and c["ok"]


RESTART = """
name: restart
cluster:
  brokers: 3
  config: {leader.imbalance.check.interval.seconds: 5}
topics:
  - {name: t, partitions: 6, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 2MB/s, message_size: 1KiB, acks: all, linger.ms: 5}
faults:
  - {type: broker_crash, at: 1s, broker: 2}
  - {type: broker_restart, at: 12s, broker: 2}
run: {duration: 24s, warmup: 0.5s, sample_interval: 0.5s, seed: 11}
"""


def test_restart_recovers_catches_up_rejoins_the_isr_and_gets_its_preferred_leaders_back():
    world, result = _play(RESTART)
    rejoined = _events(world, "rejoined_isr")
    assert [e.broker for e in rejoined] == [2]
    assert all(2 in r.isr for r in world.partitions.values())
    # preferred leaders are back: every partition led by its first replica
    for tp, registration in world.partitions.items():
        assert registration.leader == registration.replicas[0], tp
    preferred = [e for e in _events(world, "leader_elected") if "(preferred)" in e.detail]
    assert preferred and all(e.broker == 2 for e in preferred)
    assert all(e.time > rejoined[0].time for e in preferred)
    assert result.summary["catch_up_s"] == pytest.approx(rejoined[0].time - 12.0)
    # after a crash its logs' active segments are re-read and re-validated before it asks
    # to be unfenced (broker.recovery_byte_cpu per byte, simkafka.sim.recovery)
    recovered = _events(world, "log_recovered")
    assert result.summary["log_recovery_s"] > 0
    assert recovered[0].time == pytest.approx(12.0 + result.summary["log_recovery_s"])
    assert _events(world, "unfenced")[0].time >= recovered[0].time
    assert result.summary["acknowledged_lost"] == 0
    assert result.conservation["ok"] is True


def _failover_seconds(controller: str, partitions: int) -> float:
    text = f"""
    name: failover
    cluster: {{brokers: 3, controller: {controller}}}
    topics:
      - {{name: t, partitions: {partitions}, replication.factor: 2, min.insync.replicas: 1}}
    producers:
      - {{topic: t, rate: 100KB/s, message_size: 1KiB, acks: "1", linger.ms: 50}}
    faults:
      - {{type: broker_crash, at: 1s, broker: 0}}
    run: {{duration: 24s, warmup: 0.5s, sample_interval: 1s, seed: 1}}
    """
    world, result = _play(text)
    return result.summary["failover_s"]


def test_zookeeper_failover_grows_with_partitions_per_broker_and_kraft_does_not():
    zk_small, zk_large = _failover_seconds("zookeeper", 30), _failover_seconds("zookeeper", 300)
    kraft_small, kraft_large = _failover_seconds("kraft", 30), _failover_seconds("kraft", 300)
    # ZooKeeper mode: one write per partition at 5 ms each, after the 18 s session
    assert zk_large - zk_small == pytest.approx((100 - 10) * 0.005, rel=0.05)
    # KRaft: every election in one batch of records, one propagation delay
    assert kraft_large == pytest.approx(kraft_small, abs=1e-9)
    assert kraft_small < zk_small


def test_same_seed_gives_the_same_fault_timeline_and_checker_output():
    first_world, first = _play(UNCLEAN)
    second_world, second = _play(UNCLEAN)
    assert first_world.control.timeline == second_world.control.timeline
    assert first.delivery.equals(second.delivery)
    assert first.availability.equals(second.availability)
    # every registration the brokers applied, in the same order at the same times
    assert len(first.partition_history) > 1
    assert first.partition_history.equals(second.partition_history)


def test_a_partition_with_no_live_isr_member_stays_offline_without_unclean_election():
    text = UNCLEAN.replace("unclean.leader.election.enable: true", "unclean.leader.election.enable: false")
    world, result = _play(text)
    assert world.partitions[TopicPartition("t", 0)].leader == NO_LEADER
    assert result.summary["acknowledged_lost"] == 0
    assert int(result.timeseries["offline_partitions"].iloc[-1]) == 1


def _restart_catch_up(extra_config: str, topic_extra: str) -> tuple[float, World]:
    text = f"""
    name: throttled-catch-up
    cluster:
      brokers: 3
      config: {{{extra_config}}}
    topics:
      - {{name: t, partitions: 3, replication.factor: 3, min.insync.replicas: 1{topic_extra}}}
    producers:
      - {{topic: t, rate: 2MB/s, message_size: 1KiB, acks: "1", linger.ms: 5}}
    faults:
      - {{type: broker_crash, at: 0.5s, broker: 2}}
      - {{type: broker_restart, at: 8s, broker: 2}}
    run: {{duration: 24s, warmup: 0.5s, sample_interval: 1s, seed: 2}}
    """
    world, result = _play(text)
    return result.summary.get("catch_up_s"), world


def test_a_leader_replication_throttle_slows_a_restarted_brokers_catch_up():
    free, _ = _restart_catch_up("", "")
    throttled, world = _restart_catch_up(
        "leader.replication.throttled.rate: 1MB/s", ", leader.replication.throttled.replicas: '*'"
    )
    # about 15 MB to fetch again (7.5 s at 2 MB/s) and the producers' 2 MB/s on top: it
    # cannot catch up while it gets 1 MB/s, beyond the meter's ten-second burst
    assert free < 2.0
    assert throttled is None or throttled > 5 * free  # None: never caught up
    quotas = [world.leader_quota[b] for b in (0, 1)]
    assert all(q.rate == 1e6 for q in quotas)
    # the leaders never sent the throttled replica more than the rate over the meter's window
    for q in quotas:
        assert q.measured_rate(world.env.now) <= 1e6 * 1.2


def test_high_watermark_truncation_cuts_a_restarted_follower_back_to_the_high_watermark_it_knew():
    text = RESTART.replace("cluster:\n  brokers: 3", "cluster:\n  brokers: 3\n  follower_truncation: high_watermark")
    world, _ = _play(text)
    epoch_world, _ = _play(RESTART)
    hw_cuts = [e for e in _events(world, "truncated") if "(high watermark)" in e.detail]
    # before KIP-101 every follower of a new leader cut its log back to the high
    # watermark it had heard of -- records the leader had and it had fetched included
    assert hw_cuts
    # with leader epochs the same faults truncate nothing: no follower held records the
    # new leader lacked (they were all in sync), and broker 2's log is a prefix of theirs
    assert not _events(epoch_world, "truncated")


def _leader_crash(idempotence: str) -> tuple[World, object]:
    text = f"""
    name: retry-duplicates
    # three zones 5 ms apart: an acks=all request waits two round trips for the high
    # watermark, so requests are in flight at the leader when it dies
    cluster: {{brokers: 3, racks: [a, b, c], network: {{cross_rack_latency: 5ms}}}}
    topics:
      - {{name: t, partitions: 3, replication.factor: 3, min.insync.replicas: 2}}
    producers:
      - {{topic: t, rate: 10MB/s, message_size: 1KiB, acks: all, linger.ms: 2,
         enable.idempotence: {idempotence}}}
    faults:
      - {{type: broker_crash, at: 1s, broker: 0}}
    run: {{duration: 11s, warmup: 0.5s, sample_interval: 0.5s, seed: 4}}
    """
    return _play(text)


def test_retries_after_a_leader_crash_write_twice_without_idempotence_and_once_with_it():
    plain_world, plain = _leader_crash("false")
    idem_world, idem = _leader_crash("true")
    # requests the crashed leader had appended, and its followers fetched, were never
    # answered: the producer retries them on the new leader
    for world in (plain_world, idem_world):
        assert sum(p.errors["NETWORK_EXCEPTION"] for p in world.producers) > 0
    assert plain.summary["written_twice"] > 0
    assert plain.summary["acknowledged_lost"] == 0
    # the idempotent producer's retries are recognised by their sequence numbers
    assert idem.summary["written_twice"] == 0
    assert idem.summary["acknowledged_lost"] == 0
    assert idem.summary["delivery_ok"] is True
    assert plain.conservation["ok"] is True and idem.conservation["ok"] is True


PARTITIONED = """
name: partitioned
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 3, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 2MB/s, message_size: 1KiB, acks: "ACKS", linger.ms: 5}
faults:
  - {type: network_partition, at: 1s, between: [[2], [0, 1]], duration: 14s}
run: {duration: 24s, warmup: 0.5s, sample_interval: 0.5s, seed: 9}
"""


def test_a_broker_cut_off_from_the_quorum_is_fenced_and_its_acks_1_writes_are_lost_when_it_rejoins():
    world, result = _play(PARTITIONED.replace("ACKS", "1"))
    led = {tp for tp, r in world.topology.partitions.items() if r.leader == 2}
    assert led
    assert [e.broker for e in _events(world, "fenced")] == [2]
    # it kept taking acks=1 writes from the clients (which still reach it) until the
    # brokers applied its fencing; those records were never replicated
    assert result.summary["acknowledged_lost"] > 0
    fenced_at = _events(world, "fenced")[0].time
    moved = {
        TopicPartition(e.topic, e.partition)
        for e in _events(world, "leader_elected")
        if e.time == fenced_at and e.broker != 2
    }
    assert moved == led  # every partition it led moved to the majority side at its fencing
    # after the partition heals (15 s) it is unfenced, truncates and rejoins every ISR
    assert [e.broker for e in _events(world, "unfenced")] == [2]
    assert _events(world, "unfenced")[0].time > 15.0
    assert all(2 in r.isr for r in world.partitions.values())


def test_a_network_partition_under_acks_all_loses_nothing():
    world, result = _play(PARTITIONED.replace("ACKS", "all"))
    assert [e.broker for e in _events(world, "fenced")] == [2]
    assert result.summary["acknowledged_lost"] == 0
    assert result.summary["delivery_ok"] is True
    assert all(2 in r.isr for r in world.partitions.values())  # healed and caught up


def test_a_static_consumer_that_crashes_and_restarts_reads_again_from_the_last_commit():
    text = """
    name: consumer-crash
    cluster: {brokers: 3}
    topics:
      - {name: t, partitions: 2, replication.factor: 3}
    producers:
      - {topic: t, rate: 1MB/s, message_size: 1KiB, acks: all, linger.ms: 5}
    consumer_groups:
      - {group.id: g, topics: [t], members: 2, auto.commit.interval.ms: 1000, group.instance.id: app}
    faults:
      - {type: consumer_crash, at: 3.5s, group: g, member: 0, restart_after: 2s}
    run: {duration: 9s, warmup: 0.5s, sample_interval: 0.5s, seed: 6}
    """
    world, result = _play(text)
    # member 0 last committed at 3 s and crashed at 3.5 s: back at 5.5 s -- within the
    # session timeout, so as a static member it takes its old place without a rebalance
    # -- it resumes from the offsets committed at 3 s and processes them again
    member = world.groups["g"][0]
    assert member.uncommitted_at_crash > 0
    assert result.summary["consumed_twice"] == member.uncommitted_at_crash
    assert result.summary["rebalances.g"] == 0
    assert result.delivery.loc["t", "consumed_twice"] == result.summary["consumed_twice"]
    assert result.summary["acknowledged_lost"] == 0
    assert member.alive
    assert [e.event for e in world.control.timeline if e.event.startswith("consumer")] == [
        "consumer_crash",
        "consumer_restart",
    ]


ELR_CHAIN = """
name: elr-chain
cluster:
  brokers: 3
  config: {broker.session.timeout.ms: 1000, broker.heartbeat.interval.ms: 250}
topics:
  - {name: t, partitions: 3, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 500 msg/s, message_size: 1KiB, acks: "1"}
faults:
  - {type: broker_crash, at: 1s, broker: 0}
  - {type: broker_crash, at: 2s, broker: 1}
  - {type: broker_CRASH_OR_SHUTDOWN, at: 3s, broker: 2}
  - {type: broker_restart, at: 4s, broker: 2}
run: {duration: 6s, warmup: 0.25s, seed: 3}
"""


@pytest.mark.parametrize("stop", ["crash", "shutdown"])
def test_a_replica_eligible_to_lead_leads_again_after_a_clean_shutdown_never_after_a_crash(stop):
    """KIP-966 (Kafka 4.1): brokers 0, 1, 2 lost one after another with min ISR 2 leave
    1 and 2 eligible (ELR). Broker 2 back from a controlled shutdown leads every partition;
    back from a crash, its registration drops it from the ELR, it leads nothing, and it has
    not rejoined any ISR -- there is none to rejoin."""
    world, _ = _play(ELR_CHAIN.replace("CRASH_OR_SHUTDOWN", stop))
    partitions = world.partitions.values()
    if stop == "shutdown":
        assert all(p.leader == 2 and p.isr == (2,) and p.elr == (1,) for p in partitions)
        assert not any("unclean" in e.detail for e in _events(world, "leader_elected"))
    else:
        assert all(p.leader == NO_LEADER and p.isr == () and p.elr == (1,) for p in partitions)
        assert [e.detail.endswith("(unclean_shutdown)") for e in _events(world, "elr_change")] == [True] * 3
        assert not _events(world, "rejoined_isr")
