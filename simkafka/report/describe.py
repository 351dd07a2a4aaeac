"""``simkafka describe``: the topology as ``kafka-topics.sh --describe`` prints it, plus balance.

Text, tables and the placement figure are built here from a :class:`Topology`; the CLI
only prints them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd

from simkafka.model.election import NO_LEADER
from simkafka.model.topology import Topology
from simkafka.report.output_dir import (
    is_simkafka_png,
    software_tag,
    write_own_file,
    write_report_file,
)
from simkafka.scenario import Scenario, Topic

# topic-level configs whose non-default values `kafka-topics.sh --describe` lists
_DESCRIBED_CONFIGS = (
    "cleanup.policy",
    "compression.type",
    "delete.retention.ms",
    "index.interval.bytes",
    "max.message.bytes",
    "min.cleanable.dirty.ratio",
    "min.insync.replicas",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.ms",
    "unclean.leader.election.enable",
)


def _config_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def non_default_configs(topic: Topic) -> list[tuple[str, str]]:
    """(name, value) of every described config that differs from Kafka's default, sorted by name."""
    dumped = topic.model_dump(mode="json", by_alias=True)
    defaults = Topic(name=topic.name).model_dump(mode="json", by_alias=True)
    return [
        (name, _config_value(dumped[name]))
        for name in sorted(_DESCRIBED_CONFIGS)
        if dumped[name] != defaults[name]
    ]


def describe_topics(scenario: Scenario, topology: Topology) -> str:
    """The exact line format of ``kafka-topics.sh --describe`` (Kafka 3.7 - 4.1 TopicCommand).

    simkafka does not model eligible leader replicas (KIP-966), so ``Elr`` and
    ``LastKnownElr`` print as Kafka prints them when the broker does not report them.
    """
    lines = []
    for topic in scenario.topics:
        configs = ",".join(f"{k}={v}" for k, v in non_default_configs(topic))
        partitions = list(topology.topic_partitions(topic.name))
        rf = len(partitions[0][1].replicas) if partitions else topic.replication_factor
        lines.append(
            f"Topic: {topic.name}\tTopicId: {topology.topic_ids[topic.name]}\tPartitionCount: {len(partitions)}"
            f"\tReplicationFactor: {rf}\tConfigs: {configs}"
        )
        for tp, state in partitions:
            leader = "none" if state.leader == NO_LEADER else str(state.leader)
            lines.append(
                f"\tTopic: {tp.topic}\tPartition: {tp.partition}\tLeader: {leader}"
                f"\tReplicas: {','.join(map(str, state.replicas))}\tIsr: {','.join(map(str, state.isr))}"
                "\tElr: N/A\tLastKnownElr: N/A"
            )
    return "\n".join(lines)


def broker_balance(topology: Topology) -> pd.DataFrame:
    """Per broker: rack, replicas, leaders and preferred leaders (first replica) it holds."""
    replicas = topology.replica_counts()
    leaders = topology.leader_counts()
    preferred = Counter(state.replicas[0] for state in topology.partitions.values())
    rows = [
        {
            "broker": b.id,
            "rack": b.rack or "-",
            "replicas": replicas[b.id],
            "leaders": leaders[b.id],
            "preferred_leaders": preferred.get(b.id, 0),
        }
        for b in topology.brokers
    ]
    return pd.DataFrame(rows).set_index("broker")


def rack_spread(topology: Topology) -> pd.DataFrame:
    """Per topic: how many partitions have their replicas in 1, 2, 3… distinct racks."""
    rack_of = {b.id: b.rack for b in topology.brokers}
    spread: dict[str, Counter] = {}
    for tp, state in topology.partitions.items():
        racks = {rack_of[b] for b in state.replicas}
        spread.setdefault(tp.topic, Counter())[len(racks)] += 1
    width = max((k for c in spread.values() for k in c), default=1)
    rows = [
        {
            "topic": t,
            **{f"{k} rack{'s' if k > 1 else ''}": c.get(k, 0) for k in range(1, width + 1)},
        }
        for t, c in spread.items()
    ]
    return pd.DataFrame(rows).set_index("topic")


def placement_figure(
    topology: Topology, path: Path, title: str = "", *, in_report_dir: bool = False
) -> Path:
    """A three-panel PNG: replica-sharing graph of brokers, placement matrix, per-broker balance.

    The graph (networkx) joins two brokers by the number of partitions they both hold:
    that is the blast radius a pair of failures shares. Nodes are coloured by rack.

    Written atomically, never over a file simkafka did not write
    (:mod:`simkafka.report.output_dir`): with ``in_report_dir`` the parent is a report
    directory (made if absent, refused if it holds the user's files); otherwise an
    existing ``path`` is replaced only if it is a figure simkafka drew.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx
    import numpy as np

    brokers = [b.id for b in topology.brokers]
    racks = sorted({b.rack or "-" for b in topology.brokers})
    rack_of = {b.id: b.rack or "-" for b in topology.brokers}
    cmap = plt.get_cmap("tab10")
    rack_colour = {r: cmap(i % 10) for i, r in enumerate(racks)}

    fig, axes = plt.subplots(1, 3, figsize=(17, 5.5), gridspec_kw={"width_ratios": [1.1, 1.6, 1]})

    graph = nx.Graph()
    graph.add_nodes_from(brokers)
    for state in topology.partitions.values():
        for i, a in enumerate(state.replicas):
            for b in state.replicas[i + 1 :]:
                weight = graph.get_edge_data(a, b, {"weight": 0})["weight"] + 1
                graph.add_edge(a, b, weight=weight)
    pos = nx.circular_layout(sorted(brokers, key=lambda b: (rack_of[b], b)))
    weights = [graph[u][v]["weight"] for u, v in graph.edges]
    top = max(weights, default=1)
    nx.draw_networkx_edges(
        graph, pos, ax=axes[0], width=[0.5 + 4 * w / top for w in weights], alpha=0.4
    )
    nx.draw_networkx_nodes(
        graph,
        pos,
        ax=axes[0],
        node_color=[rack_colour[rack_of[b]] for b in graph.nodes],
        node_size=650,
    )
    nx.draw_networkx_labels(graph, pos, ax=axes[0], font_color="white", font_weight="bold")
    axes[0].set_title("brokers sharing partitions (edge width)")
    axes[0].axis("off")
    for r in racks:
        axes[0].scatter([], [], color=rack_colour[r], label=f"rack {r}")
    axes[0].legend(
        loc="lower center",
        ncol=min(4, len(racks)),
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, -0.12),
    )

    # rows: partitions; columns: brokers; 2 = leader, 1 = follower
    tps = list(topology.partitions)
    column = {b: i for i, b in enumerate(brokers)}
    matrix = np.zeros((len(tps), len(brokers)))
    for row, tp in enumerate(tps):
        state = topology.partitions[tp]
        for b in state.replicas:
            matrix[row, column[b]] = 1
        if state.leader != NO_LEADER:
            matrix[row, column[state.leader]] = 2
    axes[1].imshow(
        matrix.T,
        aspect="auto",
        interpolation="nearest",
        cmap=matplotlib.colors.ListedColormap(["#f4f4f4", "#9ecae1", "#08519c"]),
        vmin=0,
        vmax=2,
    )
    axes[1].set_yticks(range(len(brokers)), [f"{b} ({rack_of[b]})" for b in brokers], fontsize=8)
    axes[1].set_xlabel("partition (topics in scenario order)")
    axes[1].set_title("replicas: dark = leader, light = follower")

    balance = broker_balance(topology)
    x = np.arange(len(brokers))
    axes[2].bar(x - 0.2, balance["replicas"], width=0.4, label="replicas", color="#9ecae1")
    axes[2].bar(x + 0.2, balance["leaders"], width=0.4, label="leaders", color="#08519c")
    axes[2].set_xticks(x, [str(b) for b in brokers])
    axes[2].set_xlabel("broker")
    axes[2].set_title("per-broker balance")
    axes[2].legend(frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()

    def save(temporary: Path) -> None:
        # the Software tag lets a later describe recognise the file as its own
        fig.savefig(
            temporary, dpi=110, format="png", metadata={"Software": software_tag("describe")}
        )

    try:
        if in_report_dir:
            write_report_file(path.parent, path.name, "describe", save)
        else:
            write_own_file(path, save, command="describe", is_ours=is_simkafka_png)
    finally:
        plt.close(fig)
    return path
