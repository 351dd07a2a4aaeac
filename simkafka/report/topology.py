"""Who leads what, and who is in sync, at any moment of a run -- and the picture of it.

:func:`topology_at` reads a run's ``partition_history`` (every partition registration
the brokers applied, see :class:`~simkafka.sim.result.RunResult`) and gives the
:class:`~simkafka.model.topology.Topology` at simulated time ``t``: each partition's
replicas, leader and ISR as ``kafka-topics.sh --describe`` would have printed them then.
:func:`simkafka.report.plots.brokers_down_at` says which brokers' processes were not
running at ``t``.

:func:`plot_topology` draws a topology as a bipartite graph: the brokers in a row
(coloured by rack; a broker that is down greyed and crossed), the partitions in a row
below, and one edge per replica -- the leader's bold, an in-sync follower's solid, a
replica out of the ISR dashed, and one out of the ISR but still eligible to lead (in the
partition's ELR, KIP-966) dotted green. A partition with no leader is drawn red. It draws on a
given matplotlib ``Axes`` (or a new figure) and never chooses a backend.
"""

from __future__ import annotations

from collections.abc import Iterable

from simkafka.model.election import NO_LEADER, PartitionRegistration
from simkafka.model.topology import Topology, brokers_of, scenario_topology, topic_id
from simkafka.model.types import TopicPartition
from simkafka.scenario import Scenario
from simkafka.sim.result import RunResult

__all__ = ["plot_topology", "topology_at"]

_NO_LEADER_COLOUR = "#d62728"
_PARTITION_COLOUR = "#dddddd"
_DOWN_COLOUR = "#bbbbbb"
_LEADER_EDGE = "#1f2d3d"
_FOLLOWER_EDGE = "#5d6d7e"
_OUT_OF_SYNC_EDGE = "#a6acaf"
_ELIGIBLE_EDGE = "#27ae60"
# rack colours (matplotlib's tab10 without its red and grey, which mean "no leader" and "down")
_RACK_COLOURS = ("#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#17becf", "#8c564b", "#e377c2", "#bcbd22")
_NO_RACK_COLOUR = "#1f77b4"


def _scenario_of(result: RunResult) -> Scenario:
    return Scenario.model_validate(result.resolved_scenario)


def topology_at(result: RunResult, t: float) -> Topology:
    """Every partition's registration (replicas, leader, ISR, leader epoch) as the
    brokers had applied it at simulated time ``t``: the last row of
    ``result.partition_history`` at or before ``t`` for each partition. A change the
    controller committed is in force from when the brokers applied it (its metadata
    propagation later), the moment clients could see it.

    A run whose history is empty (the stepped engine, which plays no control-plane
    fault) kept the registrations it started with: the scenario's own
    :func:`~simkafka.model.topology.scenario_topology`, whatever ``t``. The leader
    recovery state and the last known ELR are not in the history: they keep their
    defaults. Raises
    ``ValueError`` for a negative ``t``."""
    if t < 0:
        raise ValueError(f"t must be >= 0 s (got {t})")
    history = result.partition_history
    scenario = _scenario_of(result)
    if not len(history):
        return scenario_topology(scenario)
    applied = history[history["time"] <= t]
    partitions: dict[TopicPartition, PartitionRegistration] = {}
    # rows are in the order the brokers applied them, the starting ones first in topic
    # then partition order: the last row per partition is its registration at t
    for row in applied.itertuples(index=False):
        partitions[TopicPartition(row.topic, int(row.partition))] = PartitionRegistration(
            replicas=tuple(int(r) for r in row.replicas),
            isr=tuple(int(r) for r in row.isr),
            leader=int(row.leader),
            leader_epoch=int(row.leader_epoch),
            partition_epoch=int(row.partition_epoch),
            elr=tuple(int(r) for r in row.elr),
        )
    return Topology(
        brokers_of(scenario),
        partitions,
        {topic.name: topic_id(scenario.seed, topic.name) for topic in scenario.topics},
    )


def _partition_label(tp: TopicPartition, topics: int) -> str:
    return f"p{tp.partition}" if topics == 1 else f"{tp.topic}\n{tp.partition}"


def plot_topology(
    topology: Topology,
    ax=None,
    *,
    down: Iterable[int] = (),
    title: str | None = None,
):
    """Draw ``topology``: brokers in a row (coloured by rack; those in ``down`` greyed
    and crossed out), partitions in a row below them, and an edge per replica -- bold
    to the leader, solid to a follower in the ISR, dashed to a replica out of the ISR,
    dotted green to one out of the ISR but in the partition's eligible leader replicas
    (ELR, KIP-966: it may still be elected without unclean election). A partition
    without a leader is red. Made for a handful of brokers and up to a few
    dozen partitions. Returns the Axes."""
    import networkx as nx
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    down_set = {int(b) for b in down}
    brokers = sorted(topology.brokers, key=lambda b: b.id)
    partitions = list(topology.partitions.items())
    topics = len({tp.topic for tp, _ in partitions})
    width = max(len(brokers), len(partitions), 1)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(min(14.0, 1.5 + 0.6 * width), 3.6))

    graph = nx.Graph()
    pos: dict[object, tuple[float, float]] = {}

    def spread(count: int, index: int) -> float:
        # both rows are centred on the same axis, spaced over the wider one's width
        return (index - (count - 1) / 2) * (width - 1) / max(count - 1, 1) if count > 1 else 0.0

    for i, broker in enumerate(brokers):
        graph.add_node(("broker", broker.id))
        pos[("broker", broker.id)] = (spread(len(brokers), i), 1.0)
    for j, (tp, _) in enumerate(partitions):
        graph.add_node(("partition", tp))
        pos[("partition", tp)] = (spread(len(partitions), j), 0.0)

    leader_edges, in_sync_edges, eligible_edges, out_of_sync_edges = [], [], [], []
    for tp, registration in partitions:
        for replica in registration.replicas:
            edge = (("broker", replica), ("partition", tp))
            graph.add_edge(*edge)
            if replica == registration.leader:
                leader_edges.append(edge)
            elif replica in registration.isr:
                in_sync_edges.append(edge)
            elif replica in registration.elr:
                eligible_edges.append(edge)
            else:
                out_of_sync_edges.append(edge)

    racks = sorted({b.rack for b in brokers if b.rack is not None})
    rack_colour = {rack: _RACK_COLOURS[k % len(_RACK_COLOURS)] for k, rack in enumerate(racks)}
    broker_nodes = [("broker", b.id) for b in brokers]
    broker_colours = [
        _DOWN_COLOUR if b.id in down_set else rack_colour.get(b.rack, _NO_RACK_COLOUR) for b in brokers
    ]
    partition_nodes = [("partition", tp) for tp, _ in partitions]
    partition_colours = [
        _NO_LEADER_COLOUR if registration.leader == NO_LEADER else _PARTITION_COLOUR
        for _, registration in partitions
    ]
    nx.draw_networkx_edges(graph, pos, edgelist=out_of_sync_edges, ax=ax, style="dashed", width=1.0,
                           edge_color=_OUT_OF_SYNC_EDGE)
    if eligible_edges:
        nx.draw_networkx_edges(graph, pos, edgelist=eligible_edges, ax=ax, style="dotted", width=2.0,
                               edge_color=_ELIGIBLE_EDGE)
    nx.draw_networkx_edges(graph, pos, edgelist=in_sync_edges, ax=ax, width=1.2, edge_color=_FOLLOWER_EDGE)
    nx.draw_networkx_edges(graph, pos, edgelist=leader_edges, ax=ax, width=3.2, edge_color=_LEADER_EDGE)
    nx.draw_networkx_nodes(graph, pos, nodelist=broker_nodes, node_color=broker_colours, node_shape="s",
                           node_size=900, edgecolors="#333333", ax=ax)
    nx.draw_networkx_nodes(graph, pos, nodelist=partition_nodes, node_color=partition_colours, node_shape="o",
                           node_size=520, edgecolors="#555555", ax=ax)
    nx.draw_networkx_labels(graph, pos, labels={("broker", b.id): f"b{b.id}" for b in brokers}, ax=ax,
                            font_size=9, font_weight="bold")
    nx.draw_networkx_labels(graph, pos, labels={("partition", tp): _partition_label(tp, topics)
                                                for tp, _ in partitions}, ax=ax, font_size=7)
    for broker in brokers:
        x, y = pos[("broker", broker.id)]
        if broker.id in down_set:
            ax.plot([x], [y], marker="x", markersize=22, markeredgewidth=2.5, color="#222222", linestyle="")
        if broker.rack is not None:
            ax.annotate(broker.rack, (x, y), xytext=(0, 19), textcoords="offset points", ha="center",
                        fontsize=7, color="#444444")

    handles: list[object] = [Patch(facecolor=rack_colour[r], edgecolor="#333333", label=f"rack {r}") for r in racks]
    handles += [
        Line2D([], [], color=_LEADER_EDGE, linewidth=3.2, label="leader"),
        Line2D([], [], color=_FOLLOWER_EDGE, linewidth=1.2, label="follower in ISR"),
        Line2D([], [], color=_OUT_OF_SYNC_EDGE, linewidth=1.0, linestyle="--", label="out of ISR"),
    ]
    if eligible_edges:
        handles.append(Line2D([], [], color=_ELIGIBLE_EDGE, linewidth=2.0, linestyle=":", label="eligible (ELR)"))
    if down_set:
        handles.append(Patch(facecolor=_DOWN_COLOUR, edgecolor="#333333", label="broker down"))
    if any(r.leader == NO_LEADER for _, r in partitions):
        handles.append(Patch(facecolor=_NO_LEADER_COLOUR, edgecolor="#555555", label="no leader"))
    ax.legend(handles=handles, frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    half = (width - 1) / 2
    ax.set_xlim(-half - 0.7, half + 0.7)
    ax.set_ylim(-0.35, 1.4)
    ax.set_axis_off()
    ax.set_title(title or f"{len(brokers)} brokers, {len(partitions)} partitions")
    return ax

