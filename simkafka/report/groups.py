"""What a user sees of consumer groups' rebalances: the per-group table, the rebalance
log, the note for an engine whose groups keep their first assignment, and three figures --
the assignment over time, the consumer lag with the rebalances marked, and how many
partitions had an owner (stop-the-world against incremental).

Tables a notebook reads beside them: :func:`revoked_per_rebalance` (partitions taken from
their owner in each rebalance, against partitions that changed owner),
:func:`assignment_at` (who owned what at a moment, in an assignor's answer's shape) and
:func:`owned_partitions`.

Everything here reads a :class:`~simkafka.sim.result.RunResult` (its ``rebalances`` and
``assignments`` frames, its summary's ``<figure>.<group>`` keys and its ``lag.<group>``
columns). :func:`plot_assignment` and :func:`plot_lag_with_rebalances` draw on a given
matplotlib ``Axes`` (or a new figure) and never choose a backend, so notebooks reuse them.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd

from simkafka.model.types import TopicPartition
from simkafka.report import faults as fault_report
from simkafka.report.numbers import significant
from simkafka.sim.group_outcome import GROUP_DELIVERY_FIGURES, GROUP_FIGURES
from simkafka.sim.result import RunResult

# the per-group table's columns: summary figure -> header, and whether it is a count
_COLUMNS = {
    "rebalances": ("rebalances", True),
    "rebalance_total_s": ("rebalancing total (s)", False),
    "rebalance_longest_s": ("longest rebalance (s)", False),
    "stop_the_world_total_s": ("stop-the-world total (s)", False),
    "stop_the_world_longest_s": ("longest stop-the-world (s)", False),
    "paused_partition_s": ("partition-s without an owner", False),
    "partitions_moved": ("partitions moved", True),
    "consumed_twice": ("consumed twice", True),
    "skipped": ("skipped", True),
}
# one stripe per partition in each member's row up to this many partitions in a group
# (12 members x 48 partitions stays legible); beyond, a bar per stretch of constant
# partition count, labelled with the count
DETAIL_PARTITIONS = 48
REBALANCE_ROWS = 50  # the HTML rebalance log shows this many; rebalances.csv has them all
_SHADE = "#888"
# a span that ends this close to the run's end was still open at it (the engine's clock
# sums floats: 9.99999999999998 is the end of a 10 s run)
_AT_THE_END = 1e-6


# -- tables ------------------------------------------------------------------------------


def groups_in(result: RunResult) -> list[str]:
    """The run's consumer groups that have per-group figures in the summary, in order."""
    figures = "|".join(re.escape(f) for f in (*GROUP_FIGURES, *GROUP_DELIVERY_FIGURES))
    found: dict[str, None] = {}
    for key in result.summary:
        match = re.fullmatch(rf"(?:{figures})\.(.+)", key)
        if match:
            found.setdefault(match[1])
    return list(found)


def rebalanced(result: RunResult) -> bool:
    """Whether any group of the run rebalanced."""
    return len(result.rebalances) > 0


def group_table(result: RunResult) -> pd.DataFrame:
    """One row per group (the index), one column per figure the summary has for it, as
    text: counts whole, seconds to three significant digits."""
    rows = {}
    for group in groups_in(result):
        row = {}
        for figure, (header, count) in _COLUMNS.items():
            value = result.summary.get(f"{figure}.{group}")
            if value is not None:
                row[header] = f"{int(value):,}" if count else significant(float(value))
        rows[group] = row
    headers = [h for h, _ in _COLUMNS.values() if any(h in row for row in rows.values())]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=headers).fillna("-")
    table.index.name = "group"
    return table


def rebalance_log_table(result: RunResult, limit: int = REBALANCE_ROWS) -> tuple[pd.DataFrame, str]:
    """The first ``limit`` rebalances as a readable table, and a note of how many more
    rebalances.csv holds (empty when none was left out)."""
    log = result.rebalances.head(limit)
    table = pd.DataFrame(
        {
            "group": log["group"],
            "generation": log["generation"].map(lambda g: f"{int(g)}"),
            "protocol": log["protocol"] + " / " + log["assignor"],
            # KIP-848: a newer epoch came before every member reconciled; it carries on
            "reason": [f"{r} (superseded)" if sup else r for r, sup in zip(log["reason"], log["superseded"], strict=True)],
            "started (s)": log["started_at"].map(lambda t: f"{t:.3f}"),
            "took (s)": log["duration"].map(lambda v: significant(float(v))),
            "stop-the-world (s)": log["stop_the_world_s"].map(lambda v: significant(float(v))),
            "partition-s without owner": log["paused_partition_s"].map(lambda v: significant(float(v))),
            "members": [f"{int(b)} -> {int(a)}" for b, a in zip(log["members_before"], log["members_after"], strict=True)],
            "partitions moved": log["partitions_moved"].map(lambda n: f"{int(n):,}"),
        }
    ).reset_index(drop=True)
    more = len(result.rebalances) - len(log)
    note = f"{more:,} more rebalance(s) not shown; rebalances.csv has them all" if more > 0 else ""
    return table, note


def not_rebalanced_note(result: RunResult) -> str | None:
    """What to say when the engine kept every group's first assignment (``None`` when it
    rebalances groups, or the run has none)."""
    if result.summary.get("group_rebalances_simulated") is not False:
        return None
    engine = result.summary.get("engine", "?")
    return (
        f"The {engine} engine does not rebalance consumer groups: each member keeps the "
        "partitions it was assigned at the start of the run (no member joins, leaves or "
        "is removed, and no rebalance pauses consumption)"
    )


# -- figures -----------------------------------------------------------------------------


def plot_assignment(result: RunResult, group: str | None = None, ax=None):
    """The assignment over time: one row per member, time across, a bar for each span in
    which it owned a partition, coloured by the generation that gave it; rebalances
    shaded. Up to :data:`DETAIL_PARTITIONS` partitions a group, each member's row holds
    one stripe per partition (the same partition at the same height in every row);
    beyond, one bar per stretch in which the member's partition count held, labelled
    with it. ``group``: one group (default: every group, rows named ``group/member``).
    Returns the Axes."""
    spans = result.assignments
    if group is not None:
        spans = spans[spans["group"] == group]
    rows = _member_rows(spans)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=assignment_figsize(result, group))
    if not rows:
        ax.text(0.5, 0.5, "no assignment recorded", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    generations = sorted({int(g) for g in spans["generation"]})
    colour = _generation_colours(generations)
    several = spans["group"].nunique() > 1
    partitions_of = {g: _partitions_of(s) for g, s in spans.groupby("group")}
    for i, (g, member) in enumerate(rows):
        mine = spans[(spans["group"] == g) & (spans["member"] == member)]
        partitions = partitions_of[g]
        if len(partitions) <= DETAIL_PARTITIONS:
            slot = {tp: k for k, tp in enumerate(partitions)}
            height = 0.9 / len(partitions)
            ax.barh(
                [i - 0.45 + (slot[tp] + 0.5) * height for tp in zip(mine["topic"], mine["partition"], strict=True)],
                (mine["end"] - mine["start"]).to_numpy(dtype=float),
                left=mine["start"].to_numpy(dtype=float),
                # a gap between stripes while they are wide enough to show one
                height=height * (0.8 if len(partitions) <= 16 else 1.0),
                color=[colour[int(gen)] for gen in mine["generation"]],
                linewidth=0,
            )
        else:
            _count_bars(ax, i, mine, colour, result)
    for i in range(len(rows) - 1):
        ax.axhline(i + 0.5, color="#ddd", linewidth=0.5)
    ax.set_yticks(range(len(rows)), [f"{g}/{m}" if several else m for g, m in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first member on top
    duration = float(result.summary.get("duration_s") or (spans["end"].max() if len(spans) else 1.0))
    ax.set_xlim(0, duration)
    shade_rebalances(ax, _rebalances_of(result, group), colour=_SHADE)
    _generation_key(ax, generations, colour)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("member")
    title = "assignment over time" + (f" ({group})" if group else "")
    if rows and max(len(p) for p in partitions_of.values()) <= DETAIL_PARTITIONS:
        title += ": a stripe per partition"
    elif rows:
        title += ": partitions owned (count per bar)"
    ax.set_title(title)
    return ax


def assignment_figsize(result: RunResult, group: str | None = None) -> tuple[float, float]:
    """A figure size in which every member's row, and each partition's stripe in it, shows."""
    spans = result.assignments
    if group is not None:
        spans = spans[spans["group"] == group]
    members = max(1, len(_member_rows(spans)))
    partitions = max((len(_partitions_of(s)) for _, s in spans.groupby("group")), default=1)
    # about 2 px per partition stripe at the report's 100 dpi
    per_member = 0.3 + 0.02 * min(partitions, DETAIL_PARTITIONS)  # inches
    return 10.0, min(18.0, 1.5 + members * per_member)


def plot_lag_with_rebalances(result: RunResult, group: str | None = None, ax=None):
    """Consumer lag over time (``lag.<group>``: messages behind the high watermark), each
    group's rebalances shaded in its line's colour and faults marked. ``group``: one
    group (default: every group), and only the faults of that group's members (with
    every broker fault) are marked. Returns the Axes."""
    ts = result.timeseries
    columns = [c for c in ts.columns if c.startswith("lag.") and (group is None or c == f"lag.{group}")]
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9, 4))
    for column in columns:
        name = column.split(".", 1)[1]
        (line,) = ax.plot(ts.index, ts[column], label=name)
        shade_rebalances(ax, _rebalances_of(result, name), colour=line.get_color(), label=f"rebalance of {name}")
    fault_report.mark_faults(ax, _faults_of(result, group))
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("messages behind the high watermark")
    ax.set_title("consumer lag" + (" (rebalances shaded)" if rebalanced(result) else ""))
    ax.set_ylim(bottom=0)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8)
    ax.grid(alpha=0.3)
    return ax


def revoked_per_rebalance(result: RunResult, group: str | None = None) -> pd.DataFrame:
    """Per rebalance, how many partitions were taken from their owner, against how many
    changed owner: ``group``, ``generation``, ``protocol``, ``assignor``, ``reason``,
    ``started_at``, ``completed_at``, ``revoked``, ``partitions_moved`` and ``partitions``
    (how many the group reads).

    An ownership span that ends before the run does is a revocation (or the owner died);
    it is counted in the first rebalance of its group still going on when it ended -- the
    one whose ``completed_at`` is at or after it -- so a member that revokes at its next
    poll(), after the coordinator started the rebalance, and a cooperative member that
    revokes between the two rounds are counted where the partitions moved. An eager
    rebalance revokes every partition (``revoked == partitions``); an incremental one
    (cooperative, KIP-848) revokes what moves. ``group``: one group (default: all)."""
    log = _rebalances_of(result, group)
    spans = result.assignments if group is None else result.assignments[result.assignments["group"] == group]
    duration = float(result.summary.get("duration_s") or (spans["end"].max() if len(spans) else 0.0))
    revoked = [0] * len(log)
    by_group = {g: rows for g, rows in log.reset_index(drop=True).groupby("group")}
    for g, end in zip(spans["group"], spans["end"], strict=True):
        rows = by_group.get(g)
        if rows is None or float(end) >= duration - _AT_THE_END:
            continue
        still_going = rows[rows["completed_at"] >= float(end)]
        if len(still_going):
            revoked[int(still_going["started_at"].idxmin())] += 1
    partitions = {g: len(_partitions_of(s)) for g, s in spans.groupby("group")}
    frame = log[["group", "generation", "protocol", "assignor", "reason", "started_at", "completed_at"]]
    frame = frame.reset_index(drop=True).assign(
        revoked=revoked,
        partitions_moved=log["partitions_moved"].astype(int).to_numpy(),
        partitions=[partitions.get(g, 0) for g in log["group"]],
    )
    return frame


def assignment_at(result: RunResult, group: str, at: float) -> dict[str, list[TopicPartition]]:
    """Who owned which of ``group``'s partitions at time ``at`` (a span owns from its
    ``start`` up to, not including, its ``end``; at the run's end, the spans still open):
    member -> partitions, sorted, members that owned nothing left out -- the shape of an
    assignor's answer (:mod:`simkafka.model.assignors`)."""
    spans = result.assignments[result.assignments["group"] == group]
    duration = float(result.summary.get("duration_s") or (spans["end"].max() if len(spans) else 0.0))
    owned: dict[str, list[TopicPartition]] = {}
    for member, topic, partition, start, end in zip(spans["member"], spans["topic"], spans["partition"],
                                                    spans["start"], spans["end"], strict=True):
        at_end = at >= duration - _AT_THE_END and float(end) >= duration - _AT_THE_END
        if float(start) <= at and (at < float(end) or at_end):
            owned.setdefault(str(member), []).append(TopicPartition(str(topic), int(partition)))
    return {m: sorted(tps) for m, tps in sorted(owned.items(), key=lambda kv: _natural(kv[0]))}


def owned_partitions(result: RunResult, group: str) -> pd.Series:
    """How many of ``group``'s partitions had an owner, as a step function of time: the
    index is every moment the count changed (from 0), the value the count from then on.
    Stop-the-world is where it reaches 0 while the group has partitions."""
    spans = result.assignments[result.assignments["group"] == group]
    changes: Counter[float] = Counter()
    for start, end in zip(spans["start"], spans["end"], strict=True):
        changes[float(start)] += 1
        changes[float(end)] -= 1
    duration = float(result.summary.get("duration_s") or 0.0)
    times = sorted(t for t in changes if t < duration - _AT_THE_END or not duration)
    counts, owned = [], 0
    for t in times:
        owned += changes[t]
        counts.append(owned)
    if not times or times[0] > 0:
        times, counts = [0.0, *times], [0, *counts]
    return pd.Series(counts, index=pd.Index(times, name="time"), name=f"owned.{group}", dtype=int)


def plot_owned_partitions(result: RunResult, groups: list[str] | None = None, ax=None):
    """Partitions with an owner over time, one step line per group (default: every group
    with an assignment): an eager group drops to nothing in each rebalance, an
    incremental one keeps what does not move. One group: its rebalances shaded; several:
    the first drawn thickest, so a line that runs under a later one still shows.
    Returns the Axes."""
    spans = result.assignments
    names = groups if groups is not None else sorted(set(spans["group"]), key=_natural)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9, 3.5))
    duration = float(result.summary.get("duration_s") or (spans["end"].max() if len(spans) else 1.0))
    top = 0
    for k, name in enumerate(names):
        series = owned_partitions(result, name)
        x = [*series.index, duration]
        y = [*series.to_numpy(), series.iloc[-1]]
        (line,) = ax.step(x, y, where="post", label=name, linewidth=1.5 + 2.0 * (len(names) - 1 - k))
        if len(names) == 1:
            shade_rebalances(ax, _rebalances_of(result, name), colour=line.get_color())
        top = max(top, int(series.max()))
    ax.set_xlim(0, duration)
    ax.set_ylim(-0.3, top + 0.6)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("partitions with an owner")
    ax.set_title("partitions with an owner" + (" (rebalances shaded)" if len(names) == 1 else ""))
    if names:
        ax.legend(frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(alpha=0.3)
    return ax


def figure_assignment(result: RunResult, path: Path, plt, save) -> bool:
    """The report's assignment figure; False when no group rebalanced."""
    if not rebalanced(result) or not len(result.assignments):
        return False
    ax = plot_assignment(result)
    save(ax.figure, path)
    return True


# -- drawing helpers ---------------------------------------------------------------------


def _natural(name: str) -> list[object]:
    """``g-2`` before ``g-10``."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _member_rows(spans: pd.DataFrame) -> list[tuple[str, str]]:
    pairs = {(str(g), str(m)) for g, m in zip(spans["group"], spans["member"], strict=True)}
    return sorted(pairs, key=lambda p: (_natural(p[0]), _natural(p[1])))


def _partitions_of(spans: pd.DataFrame) -> list[tuple[str, int]]:
    return sorted({(str(t), int(p)) for t, p in zip(spans["topic"], spans["partition"], strict=True)})


def _faults_of(result: RunResult, group: str | None) -> tuple[list[tuple[float, str]], object]:
    """The run's fault marks, without the ones that hit a member of a group other than
    ``group`` (a label ending ``<group>[<member>]``); all of them when ``group`` is None."""
    marks, others = fault_report.fault_marks(result)
    if group is None:
        return marks, others
    kept = []
    for at, label in marks:
        parts = [p for p in label.split(", ") if (m := re.search(r"(\S+)\[\d+\]$", p)) is None or m[1] == group]
        if parts:
            kept.append((at, ", ".join(parts)))
    return kept, others


def _rebalances_of(result: RunResult, group: str | None) -> pd.DataFrame:
    log = result.rebalances
    return log if group is None else log[log["group"] == group]


def _generation_colours(generations: list[int]) -> dict[int, object]:
    """A distinct colour per generation (tab10) up to ten, a gradient (viridis) beyond."""
    from matplotlib import colormaps

    if len(generations) <= 10:
        palette = colormaps["tab10"]
        return {g: palette(k) for k, g in enumerate(generations)}
    gradient = colormaps["viridis"]
    span = max(1, generations[-1] - generations[0])
    return {g: gradient((g - generations[0]) / span) for g in generations}


def _generation_key(ax, generations: list[int], colour: dict[int, object]) -> None:
    from matplotlib.patches import Patch

    if not generations:
        return
    if len(generations) <= 10:
        handles = [Patch(color=colour[g], label=f"generation {g}") for g in generations]
    else:
        handles = [Patch(color=colour[g], label=f"generation {g}") for g in (generations[0], generations[-1])]
    handles.append(Patch(color=_SHADE, alpha=0.25, label="rebalance"))
    ax.legend(handles=handles, frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))


def shade_rebalances(ax, rebalances: pd.DataFrame, *, colour, label: str = "rebalance") -> None:
    """Each rebalance as a shaded span from start to completion, with a thin line at its
    start so one shorter than a pixel still shows."""
    for k, (start, end) in enumerate(zip(rebalances["started_at"], rebalances["completed_at"], strict=True)):
        ax.axvspan(float(start), float(end), color=colour, alpha=0.2, linewidth=0, label=label if k == 0 else None)
        ax.axvline(float(start), color=colour, alpha=0.6, linewidth=0.6)


def _count_bars(ax, row: int, spans: pd.DataFrame, colour: dict[int, object], result: RunResult) -> None:
    """One member's row for a group with many partitions: a bar per stretch in which the
    number of partitions it owned and its newest generation held, labelled with the count
    where the bar is wide enough to read it."""
    changes: dict[float, Counter[int]] = {}
    for start, end, generation in zip(spans["start"], spans["end"], spans["generation"], strict=True):
        changes.setdefault(float(start), Counter())[int(generation)] += 1
        changes.setdefault(float(end), Counter())[int(generation)] -= 1
    owned: Counter[int] = Counter()
    stretches: list[list] = []  # [start, end, count, generation]
    times = sorted(changes)
    for t, after in zip(times, times[1:], strict=False):
        owned.update(changes[t])
        count = sum(owned.values())
        if count <= 0:
            continue
        newest = max(g for g, n in owned.items() if n > 0)
        if stretches and stretches[-1][1] == t and stretches[-1][2:] == [count, newest]:
            stretches[-1][1] = after
        else:
            stretches.append([t, after, count, newest])
    if not stretches:
        return
    ax.barh(
        [row] * len(stretches),
        [end - start for start, end, _, _ in stretches],
        left=[start for start, _, _, _ in stretches],
        height=0.8,
        color=[colour[g] for _, _, _, g in stretches],
        linewidth=0,
    )
    duration = float(result.summary.get("duration_s") or times[-1])
    for start, end, count, _ in stretches:
        if end - start >= 0.04 * duration:  # room for the label
            ax.text((start + end) / 2, row, f"{count}", ha="center", va="center", fontsize=7, color="white")

