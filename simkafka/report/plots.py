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
- :func:`plot_assignment` and :func:`plot_lag_with_rebalances`: a group's assignment over
  time and its lag (from :mod:`simkafka.report.groups`);
- :func:`plot_plan_vs_rules` (and its table :func:`rules_of_thumb_table`): a plan's
  recommendation beside the rules of thumb (from :mod:`simkafka.report.rules_of_thumb`).

:func:`broker_down_spans` and :func:`fenced_spans` are the tables behind the timeline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from simkafka.report import faults as fault_report
from simkafka.report.groups import plot_assignment, plot_lag_with_rebalances
from simkafka.report.rules_of_thumb import plot_plan_vs_rules, rules_of_thumb_table
from simkafka.sim.result import RunResult

__all__ = [
    "broker_down_spans",
    "fenced_spans",
    "plot_assignment",
    "plot_lag_with_rebalances",
    "plot_plan_vs_rules",
    "plot_series",
    "plot_timeline",
    "rules_of_thumb_table",
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
    restarts. A broker the scenario starts offline is down from 0."""
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
        elif row.event == "broker_restart" and row.broker >= 0:
            close(int(row.broker), at)
        elif row.event == "rack_restart":
            for broker in _rack_members(result, str(row.detail).removeprefix("rack ")):
                close(broker, at)
    _close_spans(opened, max(duration, float(timeline["time"].max()) if len(timeline) else 0.0), rows)
    frame = pd.DataFrame(rows, columns=["broker", "start", "end", "how", "ended"])
    return frame.sort_values(["start", "broker"], kind="stable").reset_index(drop=True)


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
    fault_report.mark_faults(ax, (fault_report.fault_marks(result)[0], _no_marks()))
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


def _no_marks():
    import numpy as np

    return np.zeros(0)


def plot_series(
    result: RunResult,
    columns: str | Sequence[str],
    ax=None,
    *,
    title: str | None = None,
    ylabel: str | None = None,
    scale: float = 1.0,
):
    """Time-series ``columns`` of the run (a name, a list of names, or a regular
    expression matched against every column, e.g. ``r"b\\d+\\.leaders"``), each multiplied
    by ``scale``, with the faults marked and every group's rebalances shaded. Raises
    ``KeyError`` naming the columns there are when nothing matches. Returns the Axes."""
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
    for k, (start, end) in enumerate(zip(result.rebalances["started_at"], result.rebalances["completed_at"],
                                         strict=True)):
        ax.axvspan(float(start), float(end), color=_REBALANCE_COLOUR, alpha=0.15, linewidth=0,
                   label="rebalance" if k == 0 else None)
    fault_report.mark_faults(ax, fault_report.fault_marks(result))
    ax.set_xlabel("simulated time (s)")
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.set_title(title or ", ".join(chosen))
    ax.grid(alpha=0.3)
    if len(chosen) > 1 or len(result.rebalances) or len(result.timeline):
        ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax
