"""The figures a notebook (or a user's own notebook) draws from a run, in one place.

Every ``plot_*`` function here draws on a given matplotlib ``Axes`` -- or on a new figure
when none is given -- and returns the Axes; none chooses a backend or writes a file, so a
notebook composes them freely (``fig, (a, b) = plt.subplots(1, 2)``). The run reports
(``simkafka run``) draw with the same functions.

- :func:`plot_timeline`: what the control plane and the groups did, one lane per broker
  and per consumer group -- a broker down, fenced, the partitions it was elected leader
  of, and each group's rebalances;
- :func:`plot_series`: time-series columns of a run with its faults marked and its
  rebalances shaded;
- :func:`plot_latency_percentiles`: latency percentiles of several runs side by side
  (one run per setting, e.g. ``acks`` 0 / 1 / all);
- :func:`plot_broker_load`: what each broker carries (disk writes, NIC in and out) in
  several runs side by side, from :func:`broker_load`;
- :func:`plot_partition_offsets` and :func:`plot_log_segments`: partitions as strips of
  offsets and one partition's segments on disk, read from the real log engine by
  :func:`records_frame` and :func:`segment_table` (from :mod:`simkafka.report.log_figures`);
- :func:`plot_key_partitions`, :func:`plot_key_spread`, :func:`plot_sticky_batches`,
  :func:`plot_throughput_knee` and :func:`plot_member_ownership`: where keys land, how
  keyless records are batched, what partitions buy, who owns them (from
  :mod:`simkafka.report.partition_figures`);
- :func:`plot_assignment`, :func:`plot_lag_with_rebalances` and
  :func:`plot_owned_partitions`: a group's assignment over time, its lag, and how many
  of its partitions had an owner -- stop-the-world or incremental (from
  :mod:`simkafka.report.groups`);
- :func:`plot_group_positions` and :func:`plot_delivery_outcomes`: where each group is
  at the end (read, in hand, lag) and what a consumer crash cost it (read twice,
  skipped; from :mod:`simkafka.report.consumption`);
- :func:`plot_durability_matrix`: one measure of a durability matrix as a heat map over
  ``acks`` x idempotence and ``min.insync.replicas`` x unclean election (from
  :mod:`simkafka.report.durability`);
- :func:`plot_topology`: brokers, partitions and every replica -- who leads, who is in
  the ISR, which broker is down -- of a topology, e.g. :func:`topology_at` a moment of a
  run (from :mod:`simkafka.report.topology`);
- :func:`plot_plan_vs_rules` (and its table :func:`rules_of_thumb_table`): a plan's
  recommendation beside the rules of thumb (from :mod:`simkafka.report.rules_of_thumb`).

:func:`broker_down_spans` and :func:`fenced_spans` are the tables behind the timeline;
:func:`brokers_down_at` reads the first at one moment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from simkafka.report import faults as fault_report
from simkafka.report.consumption import plot_delivery_outcomes, plot_group_positions
from simkafka.report.durability import plot_durability_matrix
from simkafka.report.groups import (
    plot_assignment,
    plot_lag_with_rebalances,
    plot_owned_partitions,
    shade_rebalances,
)
from simkafka.report.log_figures import (
    plot_log_segments,
    plot_partition_offsets,
    records_frame,
    segment_table,
)
from simkafka.report.partition_figures import (
    plot_key_partitions,
    plot_key_spread,
    plot_member_ownership,
    plot_partition_advice,
    plot_sticky_batches,
    plot_throughput_knee,
)
from simkafka.report.rules_of_thumb import plot_plan_vs_rules, rules_of_thumb_table
from simkafka.report.topology import plot_topology, topology_at
from simkafka.sim.result import RunResult

__all__ = [
    "broker_down_spans",
    "broker_load",
    "brokers_down_at",
    "fenced_spans",
    "plot_assignment",
    "plot_broker_load",
    "plot_delivery_outcomes",
    "plot_durability_matrix",
    "plot_group_positions",
    "plot_key_partitions",
    "plot_key_spread",
    "plot_lag_with_rebalances",
    "plot_latency_percentiles",
    "plot_log_segments",
    "plot_member_ownership",
    "plot_owned_partitions",
    "plot_partition_advice",
    "plot_partition_offsets",
    "plot_plan_vs_rules",
    "plot_series",
    "plot_sticky_batches",
    "plot_throughput_knee",
    "plot_timeline",
    "plot_topology",
    "records_frame",
    "rules_of_thumb_table",
    "segment_table",
    "topology_at",
]

# the faults that stop a broker's process, and the one that starts it again
_STOPS = ("broker_crash", "broker_shutdown")
_DOWN_COLOUR = "#c0392b"
_FENCED_COLOUR = "#f5b7b1"
_LEADER_COLOUR = "#1f77b4"
_REBALANCE_COLOUR = "#8e44ad"


def _brokers_of(result: RunResult) -> list[int]:
    brokers = (result.resolved_scenario.get("cluster") or {}).get("brokers") or []
    if isinstance(brokers, int):
        return list(range(brokers))
    return sorted(int(b["id"]) for b in brokers)


def _rack_members(result: RunResult, rack: str) -> list[int]:
    brokers = (result.resolved_scenario.get("cluster") or {}).get("brokers") or []
    if isinstance(brokers, int):
        return []
    return sorted(int(b["id"]) for b in brokers if b.get("rack") == rack)


def _fault_rack(result: RunResult, detail: str) -> str | None:
    """The rack a ``rack_failure`` row hit: its ``faults[i]`` names the scenario's fault."""
    index = re.fullmatch(r"faults\[(\d+)\]", str(detail))
    faults = result.resolved_scenario.get("faults") or []
    if index and int(index[1]) < len(faults):
        return faults[int(index[1])].get("rack")
    return None


def _close_spans(opened: dict[int, tuple[float, str]], end: float, rows: list[dict]) -> None:
    for broker, (start, how) in sorted(opened.items()):
        rows.append({"broker": broker, "start": start, "end": end, "how": how, "ended": False})


def broker_down_spans(result: RunResult) -> pd.DataFrame:
    """One row per stretch in which a broker's process was not running: ``broker``,
    ``start``, ``end`` (the run's end if it never came back, then ``ended`` is False) and
    ``how`` (crash, shutdown, rack failure). Read from the run's timeline: the fault rows
    the events engine writes when it plays a crash, a shutdown, a rack failure and the
    restarts. A controlled shutdown's process stops when the controller completes it
    (``shutdown_completed``), not at the fault. A broker the scenario starts offline is
    down from 0."""
    timeline = result.timeline
    duration = float(result.summary.get("duration_s") or 0.0)
    opened: dict[int, tuple[float, str]] = {}
    offline = (result.resolved_scenario.get("cluster") or {}).get("offline_brokers") or []
    for broker in offline:
        opened[int(broker)] = (0.0, "offline")
    rows: list[dict] = []

    def close(broker: int, at: float) -> None:
        if broker in opened:
            start, how = opened.pop(broker)
            rows.append({"broker": broker, "start": start, "end": at, "how": how, "ended": True})

    for row in timeline.itertuples(index=False):
        at = float(row.time)
        if row.event in _STOPS and row.broker >= 0:
            opened.setdefault(int(row.broker), (at, row.event.removeprefix("broker_")))
        elif row.event == "rack_failure":
            rack = _fault_rack(result, row.detail)
            for broker in _rack_members(result, rack) if rack else []:
                opened.setdefault(broker, (at, f"rack {rack} down"))
        elif row.event == "shutdown_completed" and opened.get(int(row.broker), (0.0, ""))[1] == "shutdown":
            # a controlled shutdown: the process runs until its leaders have moved
            opened[int(row.broker)] = (at, "shutdown")
        elif row.event == "broker_restart" and row.broker >= 0:
            close(int(row.broker), at)
        elif row.event == "rack_restart":
            for broker in _rack_members(result, str(row.detail).removeprefix("rack ")):
                close(broker, at)
    _close_spans(opened, max(duration, float(timeline["time"].max()) if len(timeline) else 0.0), rows)
    frame = pd.DataFrame(rows, columns=["broker", "start", "end", "how", "ended"])
    return frame.sort_values(["start", "broker"], kind="stable").reset_index(drop=True)


def brokers_down_at(result: RunResult, t: float) -> tuple[int, ...]:
    """The brokers whose process was not running at simulated time ``t`` (crashed, shut
    down, in a failed rack, or offline from the start), in id order; read from the run's
    timeline (:func:`broker_down_spans`). A broker is down from the moment it stops
    until (not including) the moment it restarts."""
    spans = broker_down_spans(result)
    down = spans[(spans["start"] <= t) & ((spans["end"] > t) | ~spans["ended"].astype(bool))]
    return tuple(sorted({int(b) for b in down["broker"]}))


def fenced_spans(result: RunResult) -> pd.DataFrame:
    """One row per stretch in which the controller held a broker fenced (from ``fenced``
    to ``unfenced``, or to the run's end): ``broker``, ``start``, ``end``, ``ended``. A
    fenced broker leads nothing and is in no ISR."""
    timeline = result.timeline
    duration = float(result.summary.get("duration_s") or 0.0)
    opened: dict[int, float] = {}
    rows: list[dict] = []
    for row in timeline.itertuples(index=False):
        if row.event == "fenced" and row.broker >= 0:
            opened.setdefault(int(row.broker), float(row.time))
        elif row.event == "unfenced" and int(row.broker) in opened:
            rows.append({"broker": int(row.broker), "start": opened.pop(int(row.broker)),
                         "end": float(row.time), "ended": True})
    end = max(duration, float(timeline["time"].max()) if len(timeline) else 0.0)
    rows += [{"broker": b, "start": t, "end": end, "ended": False} for b, t in sorted(opened.items())]
    return pd.DataFrame(rows, columns=["broker", "start", "end", "ended"])


def plot_timeline(result: RunResult, ax=None, *, groups: bool = True):
    """What happened, lane by lane: a row per broker -- red while its process is down,
    pink while the controller holds it fenced, a blue tick for every partition it was
    elected leader of (the count above a cluster of them) -- and, with ``groups``, a row
    per consumer group with each rebalance shaded from its start to its completion. The
    faults the scenario injected are marked and labelled. Returns the Axes."""
    brokers = _brokers_of(result)
    group_names = sorted(set(result.rebalances["group"])) if groups and len(result.rebalances) else []
    lanes = [f"broker {b}" for b in brokers] + [f"group {g}" for g in group_names]
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(10, 1.0 + 0.45 * max(1, len(lanes))))
    row_of = {b: i for i, b in enumerate(brokers)}
    for span in broker_down_spans(result).itertuples(index=False):
        if span.broker in row_of:
            ax.barh(row_of[span.broker], span.end - span.start, left=span.start, height=0.6,
                    color=_DOWN_COLOUR, label="down")
    for span in fenced_spans(result).itertuples(index=False):
        if span.broker in row_of:
            ax.barh(row_of[span.broker], span.end - span.start, left=span.start, height=0.3,
                    color=_FENCED_COLOUR, label="fenced")
    timeline = result.timeline
    elected = timeline[timeline["event"] == "leader_elected"]
    for (broker, at), rows in elected.groupby(["broker", "time"]):
        if int(broker) not in row_of:
            continue
        y = row_of[int(broker)]
        ax.plot([at], [y], marker="|", markersize=14, color=_LEADER_COLOUR, linestyle="", label="elected leader")
        ax.annotate(str(len(rows)), (at, y), xytext=(3, 5), textcoords="offset points", fontsize=7,
                    color=_LEADER_COLOUR)
    for k, group in enumerate(group_names):
        y = len(brokers) + k
        log = result.rebalances[result.rebalances["group"] == group]
        for start, end in zip(log["started_at"], log["completed_at"], strict=True):
            ax.barh(y, max(float(end) - float(start), 1e-9), left=float(start), height=0.6,
                    color=_REBALANCE_COLOUR, alpha=0.6, label="rebalance")
            ax.plot([float(start)], [y], marker="|", markersize=12, color=_REBALANCE_COLOUR, linestyle="")
    fault_report.mark_faults(ax, (fault_report.fault_marks(result)[0], np.zeros(0)))
    ax.set_yticks(range(len(lanes)), lanes)
    ax.set_ylim(len(lanes) - 0.5, -0.5)
    duration = float(result.summary.get("duration_s") or (timeline["time"].max() if len(timeline) else 1.0))
    ax.set_xlim(0, duration)
    ax.set_xlabel("simulated time (s)")
    ax.set_title("timeline: brokers and groups")
    ax.grid(axis="x", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    if unique:
        ax.legend(unique.values(), unique.keys(), frameon=False, fontsize=8,
                  loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def plot_series(
    result: RunResult,
    columns: str | Sequence[str],
    ax=None,
    *,
    title: str | None = None,
    ylabel: str | None = None,
    scale: float = 1.0,
    time_unit: str = "s",
):
    """Time-series ``columns`` of the run (a name, a list of names, or a regular
    expression matched against every column, e.g. ``r"b\\d+\\.leaders"``), each multiplied
    by ``scale``, with the faults marked and every group's rebalances shaded; the time
    axis labelled in ``time_unit`` (``s``, ``min``, ``h`` or ``d``: a flow-engine run of
    days reads in hours). Raises ``KeyError`` naming the columns there are when nothing
    matches. Returns the Axes."""
    if time_unit not in TIME_UNITS:
        raise ValueError(f"time_unit must be one of {', '.join(TIME_UNITS)}, not {time_unit!r}")
    ts = result.timeseries
    if isinstance(columns, str):
        chosen = [columns] if columns in ts.columns else [c for c in ts.columns if re.fullmatch(columns, c)]
    else:
        chosen = list(columns)
    missing = [c for c in chosen if c not in ts.columns]
    if not chosen or missing:
        raise KeyError(f"no time-series column {missing or columns!r}; the run has: {', '.join(ts.columns)}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9, 3.5))
    for column in chosen:
        ax.plot(ts.index, ts[column] * scale, label=column)
    shade_rebalances(ax, result.rebalances, colour=_REBALANCE_COLOUR)
    fault_report.mark_faults(ax, fault_report.fault_marks(result))
    _label_time_axis(ax, time_unit)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.set_title(title or ", ".join(chosen))
    ax.grid(alpha=0.3)
    if len(chosen) > 1 or len(result.rebalances) or len(result.timeline):
        ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


# seconds per unit, and the tick spacing (in units) that reads well for a run of days
TIME_UNITS = {"s": (1.0, None), "min": (60.0, None), "h": (3600.0, 6.0), "d": (86400.0, 1.0)}


def _label_time_axis(ax, time_unit: str) -> None:
    """Tick labels in ``time_unit``; the data stay in seconds (faults and rebalances are
    drawn in seconds too)."""
    seconds, every = TIME_UNITS[time_unit]
    ax.set_xlabel(f"simulated time ({time_unit})")
    if seconds == 1.0:
        return
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    if every is not None:
        ax.xaxis.set_major_locator(MultipleLocator(every * seconds))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / seconds:g}"))


def plot_latency_percentiles(
    results: Mapping[str, RunResult],
    ax=None,
    *,
    kind: str = "produce",
    percentiles: Sequence[str] = ("p50", "p99"),
    title: str | None = None,
):
    """Latency percentiles of several runs side by side, in milliseconds: a group of bars
    per run (``results``: label -> run, e.g. ``{"acks=0": ..., "acks=1": ...}``), a bar per
    percentile of the run's ``latency`` row ``kind`` (``produce`` or ``end_to_end``), each
    labelled with its value. Returns the Axes."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(2.5 + 1.5 * len(results), 3.5))
    labels = list(results)
    width = 0.8 / max(1, len(percentiles))
    for k, percentile in enumerate(percentiles):
        values = [float(results[label].latency.loc[kind, percentile]) * 1000 for label in labels]
        xs = [i + (k - (len(percentiles) - 1) / 2) * width for i in range(len(labels))]
        bars = ax.bar(xs, values, width=width, label=percentile)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel(f"{kind.replace('_', '-')} latency (ms)")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(title or f"{kind.replace('_', '-')} latency percentiles")
    return ax


def _warmup(result: RunResult) -> float:
    from simkafka.units import parse_duration

    return parse_duration((result.resolved_scenario.get("run") or {}).get("warmup") or 0.0)


def broker_load(result: RunResult, metric: str) -> pd.Series:
    """Each broker's mean of the time-series column ``b<id>.<metric>`` (e.g.
    ``disk_write_MB_per_s``, ``nic_in_MB_per_s``, ``nic_out_MB_per_s``) after the run's
    warm-up, indexed by broker id. Raises ``KeyError`` when the run has no such column."""
    ts = result.timeseries
    columns = {int(m[1]): c for c in ts.columns if (m := re.fullmatch(rf"b(\d+)\.{re.escape(metric)}", c))}
    if not columns:
        raise KeyError(f"no per-broker column {metric!r}; the run has: {', '.join(ts.columns)}")
    steady = ts[ts.index > _warmup(result)]
    if steady.empty:
        steady = ts
    return pd.Series({b: float(steady[c].mean()) for b, c in sorted(columns.items())}, name=metric)


def plot_broker_load(
    results: Mapping[str, RunResult],
    metrics: Sequence[str] = ("disk_write_MB_per_s", "nic_in_MB_per_s", "nic_out_MB_per_s"),
    ax=None,
    *,
    title: str | None = None,
):
    """What a broker carries in each of several runs (``results``: label -> run): a group of
    bars per run, one bar per ``metric`` (:func:`broker_load`, averaged over the brokers,
    the range across brokers as an error bar), each labelled with its value. Returns the
    Axes."""
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(2.5 + 2.0 * len(results), 3.5))
    labels = list(results)
    width = 0.8 / max(1, len(metrics))
    for k, metric in enumerate(metrics):
        loads = [broker_load(results[label], metric) for label in labels]
        means = [float(load.mean()) for load in loads]
        spread = [[m - float(load.min()) for m, load in zip(means, loads, strict=True)],
                  [float(load.max()) - m for m, load in zip(means, loads, strict=True)]]
        xs = [i + (k - (len(metrics) - 1) / 2) * width for i in range(len(labels))]
        bars = ax.bar(xs, means, width=width, yerr=spread, capsize=2, label=metric.replace("_MB_per_s", " MB/s").replace("_", " "))
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel("per broker (mean over the run)")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(title or "what each broker carries")
    return ax
