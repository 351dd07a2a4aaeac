"""What a user sees of a run's faults: the delivery verdict and table, availability,
the timeline, recovery figures, fault markers on the time-series figures and the
figures of leaders, partition health and produce errors.

Everything here reads a :class:`~simkafka.sim.result.RunResult` (its ``delivery``,
``availability`` and ``timeline`` frames, its summary and time series); nothing here
runs an engine.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from simkafka.report.numbers import significant
from simkafka.sim.result import RunResult

# Timeline events that are faults the scenario injected (and their ends); every other
# event is a consequence the control plane decided (fencing, elections, ISR changes).
FAULT_EVENTS = (
    "broker_crash",
    "broker_shutdown",
    "broker_restart",
    "rack_failure",
    "rack_restart",
    "controller_failover",
    "network_partition",
    "network_healed",
    "consumer_crash",
    "consumer_restart",
    "consumer_leave",
    "consumer_join",
    "consumer_slow",
    "consumer_recovered",
)
# consequences drawn (discreetly) on the figures: leadership and membership changes a
# user looks for beside a dip; ISR shrink/expand are in the table only (one per partition)
MARKED_CONSEQUENCES = (
    "fenced",
    "unfenced",
    "leader_elected",
    "offline",
    "leaders_moved",
    "shutdown_completed",
    "controller_activated",
    "rejoined_isr",
    "truncated",
    "consumer_poll_timeout",
)
# how a fault is labelled on a figure
_SHORT = {
    "broker_crash": "crash",
    "broker_shutdown": "shutdown",
    "broker_restart": "restart",
    "rack_failure": "rack down",
    "rack_restart": "rack up",
    "controller_failover": "controller failover",
    "network_partition": "partition",
    "network_healed": "healed",
    "consumer_crash": "consumer crash",
    "consumer_restart": "consumer restart",
    "consumer_leave": "consumer leave",
    "consumer_join": "consumer join",
    "consumer_slow": "consumer slow",
    "consumer_recovered": "consumer recovered",
}
TIMELINE_ROWS = 100  # the HTML timeline shows this many events; timeline.csv has them all
WORST_PARTITIONS = 10
# delivery columns always shown, even at zero: what a reader checks first
_DELIVERY_KEPT = ("sent", "acknowledged", "lost")
_HEADLINE = (
    ("faults_not_simulated", "faults not simulated", "count"),
    ("acknowledged_lost", "acknowledged messages lost", "count"),
    ("written_twice", "messages written twice", "count"),
    ("reordered", "messages reordered", "count"),
    ("consumed_twice", "messages consumed twice", "count"),
    ("failed_messages", "messages failed (error returned to send())", "count"),
    ("leader_elections", "leader elections", "count"),
    ("isr_changes", "ISR changes", "count"),
    ("failover_s", "failover (fault to last leader reachable again, s)", "seconds"),
    ("log_recovery_s", "log recovery after restart (s)", "seconds"),
    ("catch_up_s", "catch-up to rejoin the ISR (s)", "seconds"),
    ("max_partition_no_leader_s", "longest a partition had no reachable leader (s)", "seconds"),
    ("no_leader_partition_s", "partition-seconds without a reachable leader", "seconds"),
    ("under_min_isr_partition_s", "partition-seconds under min.insync.replicas", "seconds"),
)


def had_faults(result: RunResult) -> bool:
    """Whether the run has a fault story to tell: the scenario injected faults, the control
    plane did something, a message failed, or the delivery checker found a problem. A run
    without any of these gets the report it always had."""
    s = result.summary
    return bool(
        result.resolved_scenario.get("faults")
        or len(result.timeline)
        or s.get("faults_not_simulated", 0)
        or s.get("failed_messages", 0)
        or s.get("delivery_ok") is False
        or any(c.startswith("produce_errors_per_s.") for c in result.timeseries.columns)
    )


def delivery_verdict(result: RunResult) -> str | None:
    """One line on what the delivery checker found; ``None`` if the engine checks none."""
    s = result.summary
    if not s.get("delivery_checked"):
        return None
    lost = int(s.get("acknowledged_lost", 0))
    words = "every acknowledged message is in the log" if lost == 0 else (
        f"{lost:,} acknowledged message{'s' if lost != 1 else ''} lost"
    )
    others = [
        f"{int(s[key]):,} {what}"
        for key, what in (
            ("written_twice", "written twice"),
            ("reordered", "reordered"),
            ("consumed_twice", "consumed twice"),
        )
        if s.get(key, 0)
    ]
    return "; ".join([words, *others])


def delivery_table(result: RunResult, *, compact: bool = False) -> pd.DataFrame:
    """The delivery checker's table, one row per topic. ``compact`` drops the columns
    that are zero for every topic (except sent, acknowledged and lost), for a terminal."""
    table = result.delivery
    if compact and len(table):
        keep = [c for c in table.columns if c in _DELIVERY_KEPT or (table[c] != 0).any()]
        table = table[keep]
    return table


def headline_table(result: RunResult) -> pd.DataFrame:
    """The fault headline figures of the summary that the run has, as text."""
    rows = []
    for key, label, kind in _HEADLINE:
        value = result.summary.get(key)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if key == "faults_not_simulated" and not value:
            continue
        text = f"{int(value):,}" if kind == "count" else significant(float(value))
        rows.append((label, text))
    return pd.DataFrame(rows, columns=["figure", "value"]).set_index("figure")


def availability_tables(
    result: RunResult, worst: int = WORST_PARTITIONS
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(totals, the ``worst`` partitions by time without a reachable leader then under
    min ISR, how many more partitions were unavailable at some point)."""
    frame = result.availability
    hit = frame[(frame["no_leader_s"] > 0) | (frame["under_min_isr_s"] > 0)]
    totals = pd.DataFrame(
        {
            "partitions": [len(frame)],
            "ever without a reachable leader": [int((frame["no_leader_s"] > 0).sum())],
            "ever under min ISR": [int((frame["under_min_isr_s"] > 0).sum())],
            "partition-s without leader": [significant(float(frame["no_leader_s"].sum()))],
            "partition-s under min ISR": [significant(float(frame["under_min_isr_s"].sum()))],
        },
        index=pd.Index(["all topics"], name=""),
    )
    ranked = hit.sort_values(["no_leader_s", "under_min_isr_s"], ascending=False, kind="stable")
    shown = ranked.head(worst).map(lambda v: significant(float(v)))
    shown.index = pd.Index([f"{t}-{p}" for t, p in shown.index], name="partition")
    shown = shown.rename(
        columns={"no_leader_s": "without a reachable leader (s)", "under_min_isr_s": "under min ISR (s)"}
    )
    return totals, shown, max(0, len(ranked) - worst)


def timeline_table(result: RunResult, limit: int = TIMELINE_ROWS) -> tuple[pd.DataFrame, str]:
    """The timeline as a readable table (time in s, broker, partition as ``topic-p``),
    and, when it had more than ``limit`` events, a note of what was left out. Every
    fault is kept; consequences fill the rest in time order."""
    timeline = result.timeline
    is_fault = timeline["event"].isin(FAULT_EVENTS)
    budget = max(0, limit - int(is_fault.sum()))
    keep = is_fault | (~is_fault).cumsum().le(budget) & ~is_fault
    shown, left = timeline[keep], timeline[~keep]
    table = pd.DataFrame(
        {
            "time (s)": shown["time"].map(lambda t: f"{t:.3f}"),
            "event": shown["event"],
            "broker": shown["broker"].map(lambda b: "" if b < 0 else str(int(b))),
            "partition": [
                f"{t}-{int(p)}" if p >= 0 else "" for t, p in zip(shown["topic"], shown["partition"], strict=True)
            ],
            "detail": shown["detail"],
        }
    ).reset_index(drop=True)
    note = ""
    if len(left):
        counts = left["event"].value_counts()
        note = f"{len(left):,} more events not shown (" + ", ".join(
            f"{n:,} {event}" for event, n in counts.items()
        ) + "); timeline.csv has them all"
    return table, note


def not_simulated_warning(result: RunResult) -> str | None:
    """What to say, prominently, when the engine did not play some of the scenario's faults."""
    count = int(result.summary.get("faults_not_simulated", 0) or 0)
    if count <= 0:
        return None
    faults = result.resolved_scenario.get("faults") or []
    engine = result.summary.get("engine", "?")
    which = ""
    if count == len(faults):
        which = " (" + ", ".join(f"{f['type']} at {_seconds(f['at'])}" for f in faults) + ")"
    return (
        f"{count} of the {len(faults)} fault(s) of this scenario were not simulated by the "
        f"{engine} engine{which}: the figures show the cluster as if they never happened"
    )


def _seconds(at: object) -> str:
    return f"{at:g}s" if isinstance(at, (int, float)) else str(at)


# -- figures -------------------------------------------------------------------------------


def _fault_label(row: pd.Series, faults: list[dict]) -> str:
    """``crash b1``, ``rack down eu-1a``, ``consumer crash g[0]``: the fault's event and
    what it hit (from the scenario's ``faults[i]`` the event names, else its detail)."""
    event, detail = row["event"], str(row["detail"])
    short = _SHORT.get(event, event)
    index = re.fullmatch(r"faults\[(\d+)\]", detail)
    fault = faults[int(index[1])] if index and int(index[1]) < len(faults) else {}
    if row["broker"] >= 0:
        return f"{short} b{int(row['broker'])}"
    if "rack" in fault:
        return f"{short} {fault['rack']}"
    if "group" in fault:
        return f"{short} {fault['group']}[{fault.get('member', 0)}]"
    if event == "rack_restart":
        return f"{short} {detail.removeprefix('rack ')}"
    if event == "consumer_restart":
        return f"{short} {detail}"
    return short


def fault_marks(result: RunResult) -> tuple[list[tuple[float, str]], np.ndarray]:
    """(one (time, label) per distinct fault time, labels of simultaneous faults joined;
    the distinct times of the marked consequences, merged to a thousandth of the run so
    hundreds of elections at one instant are one line)."""
    timeline = result.timeline
    if not len(timeline):
        return [], np.zeros(0)
    scenario_faults = result.resolved_scenario.get("faults") or []
    faults: dict[float, list[str]] = {}
    for _, row in timeline[timeline["event"].isin(FAULT_EVENTS)].iterrows():
        labels = faults.setdefault(float(row["time"]), [])
        label = _fault_label(row, scenario_faults)
        if label not in labels:
            labels.append(label)
    duration = float(result.summary.get("duration_s") or timeline["time"].max() or 1.0)
    resolution = max(duration / 1000, 1e-9)
    others = timeline.loc[timeline["event"].isin(MARKED_CONSEQUENCES), "time"].to_numpy(dtype=float)
    merged = np.unique(np.round(others / resolution)) * resolution
    marks = [(t, ", ".join(labels)) for t, labels in sorted(faults.items())]
    return marks, merged


def mark_faults(ax, marks: tuple[list[tuple[float, str]], np.ndarray], *, labels: bool = True) -> None:
    """Vertical lines on a time axis: faults dashed red with a short label at the top,
    elections and fencing thin and grey, one line per distinct time."""
    faults, others = marks
    transform = ax.get_xaxis_transform()  # x in data, y in axes fraction
    if others.size:
        ax.vlines(others, 0, 1, transform=transform, color="#666", linewidth=0.7, alpha=0.5, linestyle=":",
                  label="elections, fencing")
    for k, (t, label) in enumerate(faults):
        ax.axvline(t, color="#b00", linewidth=1, linestyle="--", alpha=0.8, label="fault" if k == 0 else None)
        if labels:
            # clipped to the axes: a long label (several faults at one instant) is cut at
            # the axis, never drawn over the tick labels or a neighbouring panel
            ax.text(t, 0.98, f" {_fit(label)}", transform=transform, rotation=90, va="top", ha="left",
                    fontsize=7, color="#b00", clip_on=True)


# a fault label longer than this shows its first fault and how many more there are
LABEL_CHARS = 28


def _fit(label: str) -> str:
    """``consumer restart eager[0] +2`` for three faults at one instant."""
    parts = label.split(", ")
    if len(label) <= LABEL_CHARS or len(parts) == 1:
        return label
    return f"{parts[0]} +{len(parts) - 1}"


def _broker_columns(ts: pd.DataFrame, suffix: str) -> list[str]:
    found = [c for c in ts.columns if re.fullmatch(rf"b\d+\.{re.escape(suffix)}", c)]
    return sorted(found, key=lambda c: int(c[1:].split(".")[0]))


def _finish(ax, marks, ylabel: str, title: str, *, counts: bool = False) -> None:
    mark_faults(ax, marks)
    if counts:  # partitions: whole numbers on the axis
        from matplotlib.ticker import MaxNLocator

        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))


def figure_leaders(result: RunResult, path: Path, plt, save) -> bool:
    """Leaders per broker over time (steps at each sample). False if there is nothing to draw."""
    ts = result.timeseries
    columns = _broker_columns(ts, "leaders")
    if not columns:
        return False
    fig, ax = plt.subplots(figsize=(9, 4))
    for column in columns:
        ax.step(ts.index, ts[column], where="post", label=f"broker {column[1:].split('.')[0]}")
    _finish(ax, fault_marks(result), "partitions led", "leaders per broker", counts=True)
    save(fig, path)
    return True


PARTITION_HEALTH = {
    "offline_partitions": "offline (no leader)",
    "unreachable_leader_partitions": "leader unreachable",
    "under_min_isr_partitions": "under min ISR",
    "under_replicated_partitions": "under-replicated",
}


def figure_partitions(result: RunResult, path: Path, plt, save) -> bool:
    """Partitions offline, with an unreachable leader, under min ISR and under-replicated."""
    ts = result.timeseries
    present = {c: label for c, label in PARTITION_HEALTH.items() if c in ts}
    if not present:
        return False
    fig, ax = plt.subplots(figsize=(9, 4))
    for column, label in present.items():
        ax.step(ts.index, ts[column], where="post", label=label)
    _finish(ax, fault_marks(result), "partitions", "partition health", counts=True)
    save(fig, path)
    return True


def figure_produce_errors(result: RunResult, path: Path, plt, save) -> bool:
    """Produce errors per second by error code, and retries per second."""
    ts = result.timeseries
    errors = sorted(c for c in ts.columns if c.startswith("produce_errors_per_s."))
    if not errors and "produce_retries_per_s" not in ts:
        return False
    fig, ax = plt.subplots(figsize=(9, 4))
    for column in errors:
        ax.plot(ts.index, ts[column], label=column.split(".", 1)[1])
    if "produce_retries_per_s" in ts:
        ax.plot(ts.index, ts["produce_retries_per_s"], label="retries", color="black", linestyle="--")
    _finish(ax, fault_marks(result), "per second", "produce errors (by code) and retries")
    save(fig, path)
    return True
