"""Who leads what at any moment of a run (``topology_at``), and its picture
(``plot_topology``).

The run is scenarios/broker-crash-acks-all.yaml made quick: the same cluster, topic and
producers, with a 1 s ``broker.session.timeout.ms`` (heartbeats every 250 ms) and the
crash and restart a few seconds apart. Kafka's outcome is asserted from the topology
before the crash, by Kafka's rule written out here: a partition the dead broker led is
taken over by the first replica of its assignment that is in its ISR and alive.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib
import pytest
import yaml

from simkafka.model.election import NO_LEADER
from simkafka.model.topology import initial_topology, scenario_topology, topology_after_failures
from simkafka.report.plots import brokers_down_at, fenced_spans, plot_topology, topology_at
from simkafka.scenario import Scenario
from simkafka.sim.engine import simulate

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "broker-crash-acks-all.yaml"
CRASH_AT, RESTART_AT, DEAD = 1.5, 3.5, 1


def _quick(**run: object) -> Scenario:
    data = yaml.safe_load(SCENARIO.read_text())
    data["cluster"]["config"].update(
        {
            "broker.session.timeout.ms": 1000,
            "broker.heartbeat.interval.ms": 250,
            "leader.imbalance.check.interval.seconds": 1,
        }
    )
    data["producers"][0]["rate"] = "300 msg/s"
    data["faults"] = [
        {"type": "broker_crash", "at": CRASH_AT, "broker": DEAD},
        {"type": "broker_restart", "at": RESTART_AT, "broker": DEAD},
    ]
    data["run"] |= {"duration": 6.0, "warmup": 0.5, "sample_interval": 0.25, **run}
    return Scenario.model_validate(data)


@cache
def _crash():
    return simulate(_quick())


def _fenced_at(result) -> float:
    spans = fenced_spans(result)
    return float(spans[spans["broker"] == DEAD]["start"].iloc[0])


def test_before_the_crash_the_topology_is_the_one_the_topic_was_created_with():
    result = _crash()
    assert topology_at(result, 0.0).partitions == initial_topology(_quick()).partitions
    assert topology_at(result, CRASH_AT - 1e-6).partitions == initial_topology(_quick()).partitions


def test_the_controller_names_the_dead_broker_leader_until_it_fences_it():
    result = _crash()
    fenced = _fenced_at(result)
    assert CRASH_AT < fenced < RESTART_AT
    before = topology_at(result, CRASH_AT - 1e-6)
    # crashed but not yet fenced: nothing has changed in the registrations
    assert topology_at(result, fenced - 1e-6).partitions == before.partitions
    assert brokers_down_at(result, fenced - 1e-6) == (DEAD,)


def test_after_fencing_the_first_live_isr_replica_leads_and_the_dead_broker_is_in_no_isr():
    result = _crash()
    before = topology_at(result, CRASH_AT - 1e-6)
    after = topology_at(result, _fenced_at(result))
    led = [tp for tp, r in before.partitions.items() if r.leader == DEAD]
    assert led
    for tp in led:
        was = before.partitions[tp]
        expected = next(r for r in was.replicas if r in was.isr and r != DEAD)
        now = after.partitions[tp]
        assert now.leader == expected, tp
        assert now.leader in was.isr and now.leader != DEAD, tp
        assert now.leader_epoch == was.leader_epoch + 1, tp
    for tp, registration in after.partitions.items():
        assert DEAD not in registration.isr, tp
        assert registration.replicas == before.partitions[tp].replicas, "fencing reassigns nothing"
        if tp not in led:
            assert registration.leader == before.partitions[tp].leader, "only its partitions move"


def test_after_the_restart_it_rejoins_every_isr_and_leads_its_preferred_partitions_again():
    result = _crash()
    end = topology_at(result, float(result.summary["duration_s"]))
    preferred = [tp for tp, r in end.partitions.items() if r.replicas[0] == DEAD]
    assert preferred
    assert all(end.partitions[tp].leader == DEAD for tp in preferred)
    assert all(DEAD in r.isr for r in end.partitions.values())
    assert brokers_down_at(result, RESTART_AT) == ()
    assert brokers_down_at(result, RESTART_AT - 1e-6) == (DEAD,)


def test_the_same_seed_gives_the_same_history():
    assert simulate(_quick()).partition_history.equals(_crash().partition_history)


def test_a_stepped_run_keeps_the_topology_it_started_with():
    scenario = _quick(engine="stepped", duration=1.0)
    scenario = scenario.model_copy(
        update={"faults": (), "cluster": scenario.cluster.model_copy(update={"offline_brokers": (2,)})}
    )
    result = simulate(scenario)
    assert result.partition_history.empty
    expected = scenario_topology(scenario).partitions
    assert any(2 not in r.isr for r in expected.values())
    assert topology_at(result, 0.5).partitions == expected
    with pytest.raises(ValueError, match="t must be >= 0"):
        topology_at(result, -1.0)


# -- the picture --------------------------------------------------------------------------


def _edges_by_style(ax):
    """(segments, linewidth, dashed) of each edge collection networkx drew."""
    out = []
    for collection in ax.collections:
        if isinstance(collection, matplotlib.collections.LineCollection):
            dashes = collection.get_linestyle()[0][1]
            out.append((len(collection.get_segments()), collection.get_linewidth()[0], dashes is not None))
    return out


def test_plot_topology_draws_a_bold_edge_per_leader_solid_in_sync_and_dashed_out_of_sync():
    scenario = _quick()
    topology = initial_topology(scenario)
    # broker 1 out of partition 0's ISR, partition 1 without a leader
    partitions = dict(topology.partitions)
    tps = list(partitions)
    p0, p1 = partitions[tps[0]], partitions[tps[1]]
    partitions[tps[0]] = type(p0)(replicas=p0.replicas, isr=tuple(r for r in p0.isr if r != 1) or p0.isr[:1],
                                  leader=next(r for r in p0.replicas if r != 1))
    partitions[tps[1]] = type(p1)(replicas=p1.replicas, isr=p1.isr[:1], leader=NO_LEADER)
    topology = type(topology)(topology.brokers, partitions, topology.topic_ids)
    fig, ax = plt.subplots()
    assert plot_topology(topology, ax, down=(1,), title="t") is ax
    edges = _edges_by_style(ax)
    replicas = sum(len(r.replicas) for r in partitions.values())
    with_leader = sum(1 for r in partitions.values() if r.leader != NO_LEADER)
    out_of_sync = sum(1 for r in partitions.values() for b in r.replicas if b not in r.isr)
    bold = [n for n, width, _ in edges if width > 2]
    dashed = [n for n, _, is_dashed in edges if is_dashed]
    assert bold == [with_leader]
    assert dashed == [out_of_sync]
    assert sum(n for n, _, _ in edges) == replicas
    # the partition without a leader is the one red node; the down broker grey, crossed
    nodes = [c for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection)]
    brokers, parts = nodes
    red = [to_hex(c) for c in parts.get_facecolors()].count("#d62728")
    assert red == 1
    broker_colours = [to_hex(c) for c in brokers.get_facecolors()]
    assert broker_colours[1] == "#bbbbbb"
    assert len({broker_colours[0], broker_colours[2]}) == 2, "one colour per rack"
    assert any(line.get_marker() == "x" for line in ax.lines)
    assert ax.get_title() == "t"
    plt.close(fig)


def test_plot_topology_after_failures_marks_offline_partitions_and_makes_its_own_figure():
    scenario = _quick()
    rf1 = scenario.model_copy(
        update={"topics": tuple(t.model_copy(update={"replication_factor": 1}) for t in scenario.topics)}
    )
    after = topology_after_failures(initial_topology(rf1), [0])
    offline = sum(1 for r in after.partitions.values() if r.leader == NO_LEADER)
    assert offline == sum(1 for r in after.partitions.values() if r.replicas == (0,)) > 0
    ax = plot_topology(after, down=[0])
    parts = [c for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection)][1]
    assert [to_hex(c) for c in parts.get_facecolors()].count("#d62728") == offline
    plt.close(ax.figure)


def test_plot_topology_draws_a_replica_out_of_the_isr_but_eligible_dotted_green():
    topology = initial_topology(_quick())
    partitions = dict(topology.partitions)
    tp = next(iter(partitions))
    p = partitions[tp]
    # the last ISR member fenced, with KIP-966: no leader, an empty ISR, two eligible replicas
    partitions[tp] = type(p)(replicas=p.replicas, isr=(), leader=NO_LEADER, elr=p.replicas[:2])
    topology = type(topology)(topology.brokers, partitions, topology.topic_ids)
    fig, ax = plt.subplots()
    plot_topology(topology, ax)
    green = [c for c in ax.collections if isinstance(c, matplotlib.collections.LineCollection)
             and to_hex(c.get_edgecolor()[0]) == "#27ae60"]
    assert [len(c.get_segments()) for c in green] == [2]
    assert green[0].get_linestyle()[0][1] is not None, "dotted"
    out_of_sync = sum(1 for r in partitions.values() for b in r.replicas if b not in r.isr and b not in r.elr)
    assert [n for n, _, dashed in _edges_by_style(ax) if dashed] == [out_of_sync, 2]
    assert "eligible (ELR)" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)
    # without an ELR there is neither the edge style nor its legend entry
    fig, ax = plt.subplots()
    plot_topology(initial_topology(_quick()), ax)
    assert "eligible (ELR)" not in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(fig)
