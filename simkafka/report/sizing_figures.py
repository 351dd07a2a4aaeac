"""The sizing report's figures: cost against headroom, the throughput bound against the
broker count, the recommendation's utilisation, and the partition counts beside the rules
of thumb.

Each figure has a function computing what it draws (a DataFrame a test can check) and one
drawing it. Every PNG carries simkafka's ``Software`` tag, as ``describe``'s figures do.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simkafka.report.output_dir import software_tag

if TYPE_CHECKING:  # the figures read a Plan's fields; nothing of the planner runs here
    from simkafka.analysis.candidates import Candidate
    from simkafka.analysis.planner import Case, Plan

__all__ = [
    "HEADROOM_CAP",
    "STATUS_COLOURS",
    "figure_bound_by_brokers",
    "figure_cost_headroom",
    "figure_partitions",
    "figure_utilisation",
    "pareto_front",
    "partition_counts",
    "peak_utilisation",
    "shown_case_candidate",
    "utilisation_by_case",
]

#: Bound headroom (bound / required) is drawn up to this multiple; beyond it (and an
#: unbounded cluster) sits on the edge, so that one idle candidate does not flatten the rest.
HEADROOM_CAP = 10.0

STATUS_COLOURS = {
    "recommended": "#d94701",
    "met": "#31a354",
    "failed": "#de2d26",
    "pruned": "#969696",
    "not simulated": "#6baed6",
}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    # the Software tag says which simkafka command wrote the file
    fig.savefig(path, dpi=100, format="png", metadata={"Software": software_tag("plan")})
    _plt().close(fig)


def pareto_front(points: list[tuple[float, float]], *, larger_is_better: bool) -> list[tuple[float, float]]:
    """The (cost, value) points no other point beats on both: cheaper or as cheap, and a
    value as good or better. In increasing cost."""
    front: list[tuple[float, float]] = []
    best = -math.inf if larger_is_better else math.inf
    for cost, value in sorted(points, key=lambda p: (p[0], -p[1] if larger_is_better else p[1])):
        if (value > best) if larger_is_better else (value < best):
            front.append((cost, value))
            best = value
    return front


def peak_utilisation(case: Case) -> float | None:
    """The busiest broker resource of a run (the largest ``util.<resource>``), as a fraction."""
    values = [float(v) for k, v in case.row.items()
              if k.startswith("util.") and isinstance(v, (int, float)) and math.isfinite(v)]
    return max(values) if values else None


def _normal_case(plan: Plan, c: Candidate) -> Case | None:
    return next((k for k in plan.cases.get(c.key, []) if k.name == "as planned"), None)


def figure_cost_headroom(plan: Plan, path: Path) -> None:
    """Monthly cost against the bound's headroom (every candidate) and against the simulated
    peak utilisation (the simulated ones), coloured by status, with each Pareto front."""
    plt = _plt()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    rec = plan.recommendation
    bound_points: list[tuple[float, float]] = []
    run_points: list[tuple[float, float]] = []
    for c in plan.candidates:
        status = plan.status(c)
        x = min(c.bound_headroom, HEADROOM_CAP)
        bound_points.append((c.monthly_usd, x))
        left.scatter(x, c.monthly_usd, color=STATUS_COLOURS[status], s=30, zorder=3)
        normal = _normal_case(plan, c)
        peak = peak_utilisation(normal) if normal is not None else None
        if peak is not None:
            run_points.append((c.monthly_usd, peak))
            right.scatter(100 * peak, c.monthly_usd, color=STATUS_COLOURS[status], s=30, zorder=3)
    front = pareto_front(bound_points, larger_is_better=True)
    if front:
        left.plot([x for _, x in front], [cost for cost, _ in front], color="#444", lw=1, marker="s",
                  markersize=9, markerfacecolor="none", label="Pareto front", zorder=2)
    front = pareto_front(run_points, larger_is_better=False)
    if front:
        right.plot([100 * x for _, x in front], [cost for cost, _ in front], color="#444", lw=1, marker="s",
                   markersize=9, markerfacecolor="none", label="Pareto front", zorder=2)
    if rec is not None:
        left.scatter(min(rec.bound_headroom, HEADROOM_CAP), rec.monthly_usd, marker="*", s=300,
                     facecolor="none", edgecolor="black", lw=1.5, zorder=4, label="recommended")
        normal = _normal_case(plan, rec)
        peak = peak_utilisation(normal) if normal is not None else None
        if peak is not None:
            right.scatter(100 * peak, rec.monthly_usd, marker="*", s=300, facecolor="none",
                          edgecolor="black", lw=1.5, zorder=4, label="recommended")
    left.axvline(1.0, color="grey", ls=":", label="bound = required")
    left.set_xlabel(f"bound headroom: bound / required throughput (capped at {HEADROOM_CAP:g}x)")
    right.axvline(100 * plan.spec.ceiling, color="#d94701", ls="--",
                  label=f"ceiling {plan.spec.ceiling:.0%}")
    right.set_xlabel("simulated peak broker utilisation (%)")
    if not run_points:
        right.text(0.5, 0.5, "no candidate was simulated", transform=right.transAxes, ha="center")
    for status, colour in STATUS_COLOURS.items():
        # the recommendation's star has its own legend entry
        if status != "recommended" and any(plan.status(c) == status for c in plan.candidates):
            left.scatter([], [], color=colour, s=30, label=status)
    for ax in (left, right):
        ax.set_ylabel("monthly cost (USD)")
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=8)
    left.set_title("analytic bound: every candidate")
    right.set_title("simulation: candidates run as planned")
    _save(fig, path)


def bound_by_brokers(plan: Plan) -> pd.DataFrame:
    """Per instance type and broker count, the highest throughput bound (MB/s) of the
    brokers' own resources among its candidates (replication settings and partition counts
    differ in what they allow); the clients' own limits are the same for every cluster and
    would hide the brokers' differences."""
    rows = [(c.instance, c.brokers, c.bounds.cluster_bound / 1e6) for c in plan.candidates
            if math.isfinite(c.bounds.cluster_bound)]
    frame = pd.DataFrame(rows, columns=["instance", "brokers", "bound_MB_per_s"])
    return frame.groupby(["instance", "brokers"], as_index=False)["bound_MB_per_s"].max()


def figure_bound_by_brokers(plan: Plan, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    table = bound_by_brokers(plan)
    # markers and dashes differ, so that instance types with the same bound stay visible
    styles = [("o", "-"), ("s", "--"), ("^", ":"), ("D", "-."), ("v", "-")]
    for i, (instance, rows) in enumerate(table.groupby("instance", sort=True)):
        marker, dash = styles[i % len(styles)]
        ax.plot(rows["brokers"], rows["bound_MB_per_s"], marker=marker, ls=dash, label=str(instance))
    ax.axhline(plan.required / 1e6, color="#d94701", ls="--",
               label=f"required {plan.required / 1e6:,.1f} MB/s")
    rec = plan.recommendation
    if rec is not None and math.isfinite(rec.bounds.cluster_bound):
        ax.scatter([rec.brokers], [rec.bounds.cluster_bound / 1e6], marker="*", s=300, facecolor="none",
                   edgecolor="black", lw=1.5, zorder=4, label="recommended")
    if table.empty:
        ax.text(0.5, 0.5, "no candidate has a finite bound", transform=ax.transAxes, ha="center")
    ax.set_xlabel("brokers")
    ax.set_ylabel("throughput bound (MB/s of produced batches)")
    ax.set_title(f"what each cluster's brokers can take with {plan.spec.headroom:.0%} headroom on every resource")
    ax.set_ylim(bottom=0)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    _save(fig, path)


def shown_case_candidate(plan: Plan) -> Candidate | None:
    """Whose runs the utilisation figure shows: the recommendation, else the cheapest
    candidate that was simulated (``None`` when nothing was)."""
    if plan.recommendation is not None:
        return plan.recommendation
    return next((c for c in plan.candidates if plan.cases.get(c.key)), None)


def utilisation_by_case(plan: Plan, c: Candidate) -> pd.DataFrame:
    """Broker resources as rows, ``c``'s runs as columns (``as planned``, then a survive
    case and the events engine's confirmation when there are): the busiest broker's
    utilisation as a fraction."""
    columns: dict[str, dict[str, float]] = {}
    for case in plan.cases.get(c.key, []):
        name = case.name if case.engine == "stepped" else f"{case.name} ({case.engine})"
        columns[name] = {k.removeprefix("util."): float(v) for k, v in case.row.items()
                         if k.startswith("util.") and isinstance(v, (int, float)) and math.isfinite(v)}
    return pd.DataFrame(columns)


def figure_utilisation(plan: Plan, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    c = shown_case_candidate(plan)
    table = utilisation_by_case(plan, c) if c is not None else pd.DataFrame()
    if table.empty:
        ax.text(0.5, 0.5, "no candidate was simulated", transform=ax.transAxes, ha="center")
    else:
        x = np.arange(len(table.index))
        width = 0.8 / len(table.columns)
        for i, name in enumerate(table.columns):
            ax.bar(x + (i - (len(table.columns) - 1) / 2) * width, 100 * table[name].fillna(0).to_numpy(),
                   width=width, label=name)
        ax.set_xticks(x, [r.replace("_", " ") for r in table.index])
    ax.axhline(100 * plan.spec.ceiling, color="#d94701", ls="--",
               label=f"ceiling {plan.spec.ceiling:.0%} (headroom {plan.spec.headroom:.0%})")
    ax.set_ylabel("utilisation of the busiest broker (%)")
    ax.set_ylim(0, max(100.0, 105 * float(np.nanmax(table.to_numpy()))) if not table.empty else 100.0)
    whose = "recommended" if c is not None and c is plan.recommendation else "cheapest simulated, NOT recommended"
    ax.set_title(f"{c.key} ({whose})" if c is not None else "utilisation", fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(frameon=False, fontsize=8)
    _save(fig, path)


def _advice_brokers(plan: Plan) -> int | None:
    """The broker count the partition advice is given for: the recommendation's, else the
    cheapest candidate's."""
    if plan.recommendation is not None:
        return plan.recommendation.brokers
    return plan.candidates[0].brokers if plan.candidates else None


def partition_counts(plan: Plan) -> pd.DataFrame:
    """Per topic whose partitions were derived: the derived count, the recommended one, and
    the rules of thumb, for the broker count of :func:`_advice_brokers`."""
    brokers = _advice_brokers(plan)
    rows = {}
    for topic, a in plan.advice.items():
        row = {"derived": a.derived}
        if brokers is not None:
            row["recommended"] = a.for_brokers(brokers)
        row["max(T/p, T/c)"] = a.rule_throughput
        if brokers is not None:
            row[f"{a.rule_brokers(brokers) // brokers}x brokers"] = a.rule_brokers(brokers)
        rows[topic] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def figure_partitions(plan: Plan, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.5))
    table = partition_counts(plan)
    if table.empty:
        ax.text(0.5, 0.5, "no topic's partitions were derived (plan.partitions names them)",
                transform=ax.transAxes, ha="center")
    else:
        x = np.arange(len(table.index))
        width = 0.8 / len(table.columns)
        for i, name in enumerate(table.columns):
            bars = ax.bar(x + (i - (len(table.columns) - 1) / 2) * width, table[name].to_numpy(),
                          width=width, label=name)
            ax.bar_label(bars, fontsize=8)
        ax.set_xticks(x, list(table.index))
        ax.set_ylim(0, 1.1 * float(table.to_numpy().max()))
        ax.set_ylabel("partitions")
        ax.legend(frameon=False, fontsize=8)
    brokers = _advice_brokers(plan)
    ax.set_title(f"partitions per topic for {brokers} brokers" if brokers else "partitions per topic")
    ax.grid(alpha=0.3, axis="y")
    _save(fig, path)
