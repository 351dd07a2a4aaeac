"""Figures about partitions for the course: where keys land, how the producer batches
keyless records, what partitions buy in throughput and which consumers own them.

- :func:`plot_key_partitions`: a small key set, one row per key, a dot in its partition;
- :func:`plot_key_spread`: how many of many keys each partition receives, against an even
  share;
- :func:`plot_sticky_batches`: a producer's batches over time, one row per partition (from
  :func:`simkafka.model.batching.batch_unkeyed_records`);
- :func:`plot_throughput_knee`: throughput against partition count for one or more sweeps,
  each knee marked;
- :func:`plot_member_ownership`: partitions each consumer-group member owns;
- :func:`plot_partition_advice`: the planner's partition count beside the rules of thumb.

Each draws on a given matplotlib ``Axes`` (a new figure when none is given), returns it,
and never chooses a backend or writes a file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from simkafka.model.batching import Batch

__all__ = [
    "plot_key_partitions",
    "plot_key_spread",
    "plot_member_ownership",
    "plot_partition_advice",
    "plot_sticky_batches",
    "plot_throughput_knee",
]

_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
            "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def _new_axes(ax, size: tuple[float, float]):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size)
    return ax


def plot_key_partitions(placement: Mapping[str, int], num_partitions: int, ax=None, *, title: str | None = None):
    """Which partition each key of ``placement`` (key -> partition) lands in: a row per
    key, a column per partition, a coloured dot where the key goes. Returns the Axes."""
    keys = list(placement)
    ax = _new_axes(ax, (1.5 + 0.6 * num_partitions, 0.8 + 0.3 * len(keys)))
    for y, key in enumerate(keys):
        p = placement[key]
        ax.scatter([p], [y], s=90, color=_PALETTE[p % len(_PALETTE)], zorder=3)
    ax.set_xticks(range(num_partitions), [str(p) for p in range(num_partitions)])
    ax.set_yticks(range(len(keys)), keys)
    ax.set_xlim(-0.5, num_partitions - 0.5)
    ax.set_ylim(len(keys) - 0.5, -0.5)
    ax.set_xlabel("partition")
    ax.grid(alpha=0.3)
    ax.set_title(title or f"key -> partition ({num_partitions} partitions)")
    return ax


def plot_key_spread(partitions: Sequence[int] | np.ndarray, num_partitions: int, ax=None, *,
                    title: str | None = None):
    """How many keys each of ``num_partitions`` partitions receives (``partitions`` is the
    partition of every key), as bars, with the even share ``len(partitions) /
    num_partitions`` as a line. Returns the Axes."""
    counts = np.bincount(np.asarray(partitions, dtype=np.int64), minlength=num_partitions)
    ax = _new_axes(ax, (1.5 + 0.5 * num_partitions, 3))
    ax.bar(range(num_partitions), counts, color=[_PALETTE[p % len(_PALETTE)] for p in range(num_partitions)])
    ax.axhline(len(partitions) / num_partitions, color="black", linestyle="--", linewidth=1, label="even share")
    ax.set_xticks(range(num_partitions), [str(p) for p in range(num_partitions)])
    ax.set_xlabel("partition")
    ax.set_ylabel("keys")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.set_title(title or f"{len(partitions):,} keys over {num_partitions} partitions")
    return ax


def plot_sticky_batches(batches: Sequence[Batch], num_partitions: int, ax=None, *, batch_size: int | None = None,
                        title: str | None = None):
    """A producer's batches over time (from
    :func:`~simkafka.model.batching.batch_unkeyed_records`): one row per partition, a bar
    from when each batch was opened to when the Sender took it, its height its fill
    (bytes / ``batch_size``, or / the largest batch when not given), its record count
    written on it. Returns the Axes."""
    ax = _new_axes(ax, (11, 0.8 + 0.5 * num_partitions))
    full = batch_size or max((b.size for b in batches), default=1)
    for b in batches:
        height = 0.8 * min(1.0, b.size / full)
        ax.barh(b.partition, max(b.sent_ms - b.opened_ms, 0.05), left=b.opened_ms, height=height,
                color=_PALETTE[b.partition % len(_PALETTE)], edgecolor="black", linewidth=0.4)
        ax.text(b.opened_ms, b.partition, str(len(b.records)), fontsize=6, va="center")
    ax.set_yticks(range(num_partitions), [f"partition {p}" for p in range(num_partitions)])
    ax.set_ylim(num_partitions - 0.5, -0.5)
    ax.set_xlabel("time (ms); bar height = batch fill" + (" (of batch.size)" if batch_size else "")
                  + ", number = records in the batch")
    ax.set_title(title or f"{len(batches)} batches")
    return ax


def plot_throughput_knee(
    curves: Mapping[str, tuple[Sequence[int], Sequence[float]]],
    ax=None,
    *,
    knees: Mapping[str, int] | None = None,
    ylabel: str = "messages/s",
    title: str | None = None,
):
    """Throughput against partition count, one line per entry of ``curves`` (label ->
    (partition counts, throughputs)), with each curve's knee (``knees``: label -> the
    partition count beyond which one more partition stops helping) circled. Returns the
    Axes."""
    ax = _new_axes(ax, (7, 3.5))
    for k, (label, (counts, values)) in enumerate(curves.items()):
        colour = _PALETTE[k % len(_PALETTE)]
        ax.plot(counts, values, marker="o", color=colour, label=label)
        if knees and label in knees:
            at = list(counts).index(knees[label])
            ax.scatter([counts[at]], [values[at]], s=260, facecolors="none", edgecolors=colour, linewidths=2,
                       zorder=3)
            ax.annotate(f"knee: {counts[at]}", (counts[at], values[at]), xytext=(8, -14),
                        textcoords="offset points", color=colour, fontsize=8)
    ax.set_xlabel("partitions")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(title or "throughput against partitions")
    return ax


def plot_member_ownership(assignment: Mapping[str, Sequence[int]], ax=None, *, title: str | None = None):
    """How many partitions each consumer-group member owns (``assignment``: member ->
    its partitions), the partition numbers written on each bar; a member that owns none
    shows an empty, labelled bar: it is idle. Returns the Axes."""
    members = list(assignment)
    ax = _new_axes(ax, (7, 0.8 + 0.4 * len(members)))
    counts = [len(assignment[m]) for m in members]
    ax.barh(range(len(members)), counts, color=[_PALETTE[0] if c else "#dddddd" for c in counts])
    for y, member in enumerate(members):
        owned = sorted(assignment[member])
        ax.text(0.05, y, ", ".join(map(str, owned)) if owned else "idle: owns nothing", va="center", fontsize=8,
                color="white" if owned else "#c0392b")
    ax.set_yticks(range(len(members)), members)
    ax.set_ylim(len(members) - 0.5, -0.5)
    ax.set_xlabel("partitions owned")
    ax.set_xlim(0, max(counts + [1]) + 0.5)
    ax.set_title(title or "who owns which partition")
    return ax


def plot_partition_advice(advice, brokers: int, ax=None, *, title: str | None = None):
    """The planner's partition count for ``advice`` (a
    :class:`~simkafka.analysis.partitions.PartitionAdvice`) on ``brokers`` brokers beside
    what the rules of thumb give and the floor the consumers set: the measured need
    (load / (ceiling x one partition's throughput)), the advice (rounded up to a multiple
    of the brokers), ``max(T/p, T/c)``, the ~3x-brokers rule, and the largest group's
    members. Returns the Axes."""
    need = math.ceil(advice.load / (advice.ceiling * advice.per_partition)) if advice.per_partition > 0 else 1
    bars = {
        "measured need\n(with headroom)": need,
        f"advice\n({brokers} brokers)": advice.for_brokers(brokers),
        "max(T/p, T/c)\n(no headroom)": advice.rule_throughput,
        f"{advice.rule_brokers(brokers) // brokers}x brokers": advice.rule_brokers(brokers),
        "group members": advice.members,
    }
    ax = _new_axes(ax, (8, 3.2))
    colours = ["#7f7f7f", _PALETTE[0], _PALETTE[1], _PALETTE[2], _PALETTE[4]]
    drawn = ax.bar(range(len(bars)), list(bars.values()), color=colours)
    ax.bar_label(drawn, fontsize=8)
    ax.set_xticks(range(len(bars)), list(bars))
    ax.set_ylabel("partitions")
    ax.set_title(title or f"partitions for {advice.topic}: the planner's advice and the rules of thumb")
    return ax
