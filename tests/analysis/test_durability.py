"""The durability matrix: each cell is the scenario's fault schedule replayed with one
combination of acks, enable.idempotence, min.insync.replicas and unclean election, and
reports Kafka's outcome for it; combinations Kafka refuses are shown, never run.

The outcomes asserted are Kafka's, computed here from the records the test can see:
an unclean election loses exactly the acknowledged records only the dead leader held, and
a retried batch whose response a crash lost is written twice unless the producer is
idempotent.
"""

from __future__ import annotations

import textwrap
from collections import Counter

import pandas as pd
import pytest

from simkafka.analysis.durability import (
    DurabilityAxes,
    DurabilityError,
    broker_faults,
    default_axes,
    durability_cells,
    durability_matrix,
    parse_axis,
)
from simkafka.model.types import TopicPartition
from simkafka.scenario import parse_scenario
from simkafka.sim.engine import run_world
from simkafka.sim.probes import Probes
from simkafka.sim.world import World

# tests/sim/test_faults.py's unclean election: two followers crash (the ISR shrinks to the
# leader, which keeps taking writes), the leader crashes, a follower that missed 4 s of
# writes comes back
UNCLEAN = """
name: unclean
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 1, replication.factor: 3}
producers:
  - {topic: t, rate: 500KB/s, message_size: 1KiB, linger.ms: 20}
faults:
  - {type: broker_crash, at: 1s, broker: 0}
  - {type: broker_crash, at: 1s, broker: 2}
  - {type: broker_crash, at: 12s, broker: 1}
  - {type: broker_restart, at: 13s, broker: 2}
run: {duration: 24s, warmup: 0.5s, sample_interval: 0.5s, seed: 3}
"""

# one leader lost: requests in flight to it are answered by nobody, and retried on the
# new leader after the session timeout -- which holds what followers fetched before the crash
CRASH = """
name: crash
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 3, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 1MB/s, message_size: 1KiB, acks: all, linger.ms: 5}
faults:
  - {type: broker_crash, at: 1s, broker: 1}
run: {duration: 12s, warmup: 0.5s, sample_interval: 0.5s, seed: 7, engine: stepped}
"""


def _scenario(text: str):
    return parse_scenario(textwrap.dedent(text), "durability.yaml")


def _play(scenario) -> World:
    world = World(scenario)
    run_world(world, Probes(world, scenario.run.sample_interval))
    return world


def _cell_scenario(scenario, axes, acks, idempotence, min_isr, unclean):
    for cell in durability_cells(scenario, axes):
        if (cell.acks, cell.idempotence, cell.min_insync_replicas, cell.unclean) == (acks, idempotence, min_isr,
                                                                                     unclean):
            return cell.scenario
    raise AssertionError("no such cell")


UNCLEAN_AXES = DurabilityAxes(acks=("1", "all"), idempotence=(False,), min_insync_replicas=(1, 2),
                              unclean=(False, True))


@pytest.fixture(scope="module")
def unclean_matrix():
    return durability_matrix(_scenario(UNCLEAN), UNCLEAN_AXES, executor="inprocess")


def test_unclean_election_under_acks_1_loses_exactly_what_only_the_dead_leader_held(unclean_matrix):
    scenario = _scenario(UNCLEAN)
    cell = unclean_matrix.cell("1", False, 1, True)
    # independently of the checker: play the cell and count the records acknowledged by
    # the old leader at offsets the uncleanly elected replica never had
    world = _play(_cell_scenario(scenario, UNCLEAN_AXES, "1", False, 1, True))
    tp = TopicPartition("t", 0)
    elected = [e for e in world.control.timeline if e.event == "leader_elected" and e.broker == 2]
    assert len(elected) == 1
    new_end = int(elected[0].detail.split("log end ")[1])
    old_end = world.brokers[1].logs[tp].log_end_offset
    acked_beyond = 0
    for acks in world.history._partitions[tp].acked.values():
        for ack in acks:
            if ack.at < elected[0].time:
                acked_beyond += max(0, min(ack.base_offset + ack.count, old_end) - max(ack.base_offset, new_end))
    assert acked_beyond > 3000  # about 4 s of writes the followers never fetched
    assert cell["acknowledged_lost"] == acked_beyond
    assert not cell["delivery_ok"]
    # min.insync.replicas does not guard acks=1 writes: the same loss with min ISR 2
    assert unclean_matrix.cell("1", False, 2, True)["acknowledged_lost"] == acked_beyond


def test_acks_all_with_min_isr_2_loses_nothing_even_with_unclean_election(unclean_matrix):
    guarded = unclean_matrix.cell("all", False, 2, True)
    # the leader alone is below min.insync.replicas: it refused acks=all writes
    # (NOT_ENOUGH_REPLICAS), so it acknowledged nothing the new leader lacks
    assert guarded["acknowledged_lost"] == 0
    assert guarded["delivery_ok"]
    assert guarded["under_min_isr_partition_s"] > 10
    # with min ISR 1 the ISR of the leader alone accepts acks=all writes: lost as with acks=1
    assert unclean_matrix.cell("all", False, 1, True)["acknowledged_lost"] > 3000
    # ... and at 1/50 of the rate it produces when writes are accepted
    assert guarded["produce_msgs_per_s"] < unclean_matrix.cell("all", False, 1, True)["produce_msgs_per_s"] / 20


def test_without_unclean_election_nothing_is_lost_and_the_partition_stays_offline_longer(unclean_matrix):
    frame = unclean_matrix.frame
    clean = frame[~frame["unclean.leader.election.enable"]]
    unclean = frame[frame["unclean.leader.election.enable"]]
    assert (clean["acknowledged_lost"] == 0).all()
    assert clean["delivery_ok"].all()
    # broker 2 is back at 15 s but out of the ISR: without unclean election the partition
    # has no leader from broker 1's crash to the end
    assert (clean["no_leader_partition_s"].to_numpy() > unclean["no_leader_partition_s"].to_numpy()).all()


@pytest.fixture(scope="module")
def crash_matrices():
    scenario = _scenario(CRASH)
    axes = DurabilityAxes(acks=("1", "all"), idempotence=(False, True), min_insync_replicas=(2,), unclean=(False,))
    seen: list[tuple[int, int]] = []
    first = durability_matrix(scenario, axes, executor="inprocess", progress=lambda d, t: seen.append((d, t)))
    # the same seed in other processes, finishing in any order
    pooled = durability_matrix(scenario, axes, executor="pool", workers=2)
    return first, pooled, seen


def test_a_retried_batch_is_written_twice_without_idempotence_and_once_with_it(crash_matrices):
    matrix = crash_matrices[0]
    plain, idempotent = matrix.cell("all", False, 2, False), matrix.cell("all", True, 2, False)
    assert plain["acknowledged_lost"] == idempotent["acknowledged_lost"] == 0
    assert plain["written_twice"] > 0 and not plain["delivery_ok"]
    assert idempotent["written_twice"] == 0 and idempotent["delivery_ok"]
    # independently of the checker: in the final logs, the sequence numbers held twice,
    # each second copy appended by a later leader epoch (the retry on the new leader)
    scenario = _scenario(CRASH)
    plain_world = _play(_cell_scenario(scenario, matrix.axes, "all", False, 2, False))
    twice = 0
    for tp in plain_world.partitions:
        copies: dict[tuple[int, int], list[int]] = {}
        for entry in plain_world.history.log(tp):
            for seq in range(entry.first_seq, entry.first_seq + entry.count):
                copies.setdefault((entry.producer_id, seq), []).append(entry.leader_epoch)
        for epochs in copies.values():
            if len(epochs) > 1:
                assert epochs[-1] > epochs[0]
                twice += len(epochs) - 1
    assert twice == plain["written_twice"]
    # the idempotent producer retried as much: its leader recognised the retries
    idempotent_world = _play(_cell_scenario(scenario, matrix.axes, "all", True, 2, False))
    retries = sum(p.retries for p in idempotent_world.producers)
    assert retries == sum(p.retries for p in plain_world.producers) > 0


def test_impossible_cells_are_marked_with_kafkas_reason_and_not_run(crash_matrices):
    matrix, _, progress = crash_matrices
    frame = matrix.frame
    refused = frame[~frame["valid"]]
    # idempotence with acks=1: KafkaProducer's ConfigException
    assert refused[["acks", "enable.idempotence"]].drop_duplicates().values.tolist() == [["1", True]]
    assert refused["why_not"].str.contains("Must set acks to all in order to use the idempotent producer").all()
    assert refused["acknowledged_lost"].isna().all() and refused["produce_msgs_per_s"].isna().all()
    assert matrix.runs == len(frame) - len(refused) == 3
    # the runs the progress counted are the valid cells only
    assert progress[-1] == (3, 3)
    assert "Must set acks to all" in repr(matrix)


def test_min_isr_above_the_replication_factor_is_refused_by_the_scenario():
    scenario = _scenario(CRASH)
    cells = durability_cells(scenario, DurabilityAxes(acks=("all",), idempotence=(True,), min_insync_replicas=(3, 4),
                                                      unclean=(False,)))
    assert [c.scenario is not None for c in cells] == [True, False]
    assert "min.insync.replicas 4 is above the replication factor 3" in cells[1].why_impossible


def test_same_seed_gives_the_same_matrix_in_process_and_in_a_pool(crash_matrices):
    first, pooled, _ = crash_matrices
    pd.testing.assert_frame_equal(first.frame, pooled.frame)
    assert first.to_dict() == pooled.to_dict()


def test_every_cell_runs_the_events_engine_with_the_scenarios_own_seed():
    scenario = _scenario(CRASH)
    cells = durability_cells(scenario)
    assert {c.scenario.run.engine for c in cells if c.scenario is not None} == {"events"}
    assert {c.scenario.seed for c in cells if c.scenario is not None} == {7}
    # every producer and topic carries the cell's settings
    for c in cells:
        if c.scenario is not None:
            assert [(p.acks, p.enable_idempotence) for p in c.scenario.producers] == [(c.acks, c.idempotence)]
            assert [(t.min_insync_replicas, t.unclean_leader_election_enable) for t in c.scenario.topics] == [
                (c.min_insync_replicas, c.unclean)]


def test_default_axes_and_their_cap_by_the_replication_factor():
    axes = default_axes(_scenario(CRASH))
    assert (axes.acks, axes.idempotence, axes.min_insync_replicas, axes.unclean) == (
        ("0", "1", "all"), (False, True), (1, 2), (False, True))
    narrowed = axes.narrowed({"acks": ("all",), "unclean.leader.election.enable": (False,)})
    assert (narrowed.acks, narrowed.idempotence, narrowed.min_insync_replicas, narrowed.unclean) == (
        ("all",), (False, True), (1, 2), (False,))
    rf1 = _scenario(CRASH.replace("replication.factor: 3, min.insync.replicas: 2", "replication.factor: 1"))
    assert default_axes(rf1).min_insync_replicas == (1,)
    assert len(durability_cells(rf1)) == 3 * 2 * 1 * 2


def test_axis_values_are_parsed_as_kafka_reads_them_or_refused_with_the_setting_named():
    assert parse_axis("acks", "1, -1") == ("1", "all")
    assert parse_axis("min.insync.replicas", "2,1") == (2, 1)
    assert parse_axis("unclean.leader.election.enable", "TRUE,false") == (True, False)
    for setting, text, says in (
        ("acks", "2", "'2' is not a value of acks"),
        ("min.insync.replicas", "0", "'0' is not a whole number of replicas"),
        ("enable.idempotence", "maybe", "'maybe' is not true or false"),
        ("acks", "1,,all", "an empty value"),
        ("acks", "all,-1", "given twice"),
    ):
        with pytest.raises(DurabilityError, match=says) as caught:
            parse_axis(setting, text)
        assert str(caught.value).startswith(f"{setting}: ")


def test_a_scenario_without_a_broker_fault_has_nothing_to_replay():
    slow = _scenario(CRASH.replace("{type: broker_crash, at: 1s, broker: 1}",
                                   "{type: slow_disk, at: 1s, broker: 1, factor: 0.5}"))
    with pytest.raises(DurabilityError, match="no broker or controller fault to replay .it has only slow_disk"):
        durability_matrix(slow, executor="inprocess")
    assert broker_faults(_scenario(UNCLEAN)) == [
        "broker_crash at 1s", "broker_crash at 1s", "broker_crash at 12s", "broker_restart at 13s"]


def test_the_matrix_says_it_ran_the_events_engine_for_a_stepped_scenario(crash_matrices):
    matrix = crash_matrices[0]
    assert any("run.engine is stepped" in note for note in matrix.notes)
    data = matrix.to_dict()
    assert data["engine"] == "events" and len(data["cells"]) == len(matrix.frame)
    refused = [c for c in data["cells"] if not c["valid"]]
    assert all(c["acknowledged_lost"] is None and c["delivery_ok"] is None for c in refused)
    assert Counter(type(c["written_twice"]) for c in data["cells"] if c["valid"]) == Counter({int: 3})
