"""Where a consumer group is, and what a crash cost it: two figures for the course.

- :func:`group_positions` / :func:`plot_group_positions`: at the run's end, each group's
  records below the high watermark split into read, in the consumer's hands (fetched
  and not yet polled, in transit, being processed) and not fetched yet -- the lag --
  from the run's conservation ledger; the parts add up to the high watermark.
- :func:`delivery_outcomes` / :func:`plot_delivery_outcomes`: per group, the records the
  delivery checker saw read twice and skipped, beside what its members had processed
  and not committed, or committed and not processed, when they crashed.

The figures draw on a given matplotlib ``Axes`` (or a new figure), return the Axes and
never choose a backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from simkafka.sim.result import RunResult

__all__ = ["delivery_outcomes", "group_positions", "plot_delivery_outcomes", "plot_group_positions"]

# (column, the ledger's keys it sums, colour)
_POSITION_PARTS = (
    ("read", ("consumed",), "#2e86c1"),
    ("in the consumer", ("fetched_not_polled", "fetch_in_transit", "being_processed"), "#f5b041"),
    ("not fetched (lag)", ("lag_not_fetched",), "#cb4335"),
    ("skipped at start", ("skipped_at_start",), "#aab7b8"),
)
# (column, summary figure, colour)
_DELIVERY_PARTS = (
    ("read twice", "consumed_twice", "#e67e22"),
    ("skipped", "skipped", "#8e44ad"),
    ("processed, not committed, at the crash", "uncommitted_at_crash", "#f8c471"),
    ("committed, not processed, at the crash", "unprocessed_at_crash", "#c39bd3"),
)


def group_positions(result: RunResult) -> pd.DataFrame:
    """One row per consumer group (the index): its records below the high watermark at
    the run's end split into ``read``, ``in the consumer``, ``not fetched (lag)`` and
    ``skipped at start``, and ``below high watermark``, which they add up to (the run's
    conservation ledger checks it: ``balanced``)."""
    ledgers = result.conservation.get("groups") or {}
    rows = {}
    for group, ledger in ledgers.items():
        row = {column: int(sum(int(ledger.get(k, 0)) for k in keys)) for column, keys, _ in _POSITION_PARTS}
        row["below high watermark"] = int(ledger["below_high_watermark"])
        row["balanced"] = bool(ledger["balanced"])
        rows[group] = row
    columns = [c for c, _, _ in _POSITION_PARTS] + ["below high watermark", "balanced"]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    frame.index.name = "group"
    return frame


def plot_group_positions(result: RunResult, ax=None):
    """Where each group is at the run's end: a horizontal bar per group as long as its
    records below the high watermark, split into read, in the consumer and not fetched
    (the lag). Returns the Axes."""
    frame = group_positions(result)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(9, 0.8 + 0.5 * max(1, len(frame))))
    if frame.empty:
        ax.text(0.5, 0.5, "no consumer group", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    y = np.arange(len(frame))
    left = np.zeros(len(frame))
    for column, _, colour in _POSITION_PARTS:
        values = frame[column].to_numpy(dtype=float)
        if column == "skipped at start" and not values.any():
            continue
        ax.barh(y, values, left=left, height=0.6, color=colour, label=column)
        left += values
    for k, (lag, total) in enumerate(zip(frame["not fetched (lag)"], frame["below high watermark"], strict=True)):
        ax.annotate(f"lag {int(lag):,} of {int(total):,}", (float(total), k), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=7)
    ax.set_yticks(y, list(frame.index))
    ax.set_ylim(len(frame) - 0.5, -0.5)
    ax.set_xlim(0, float(frame["below high watermark"].max()) * 1.25 or 1.0)
    ax.set_xlabel("records below the high watermark")
    ax.set_title("where each group is at the end of the run")
    ax.legend(frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def delivery_outcomes(result: RunResult, groups: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per group (the index; default: every group the summary has
    ``consumed_twice`` for): ``read twice`` and ``skipped`` (the delivery checker's count
    over the whole run), and what its members' crashes left behind --
    ``processed, not committed, at the crash`` and ``committed, not processed, at the
    crash`` (0 where the summary has none: no member crashed, or an engine that does not
    count them)."""
    if groups is None:
        groups = [k.split(".", 1)[1] for k in result.summary if k.startswith("consumed_twice.")]
    rows = {
        group: {column: int(result.summary.get(f"{figure}.{group}", 0) or 0) for column, figure, _ in _DELIVERY_PARTS}
        for group in groups
    }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[c for c, _, _ in _DELIVERY_PARTS])
    frame.index.name = "group"
    return frame


def plot_delivery_outcomes(result: RunResult, groups: Sequence[str] | None = None, ax=None):
    """Per group, bars side by side: records read twice and skipped over the run, beside
    what a crash left processed-not-committed and committed-not-processed -- the records
    that, by the group's commit order, are read again or never. Returns the Axes."""
    frame = delivery_outcomes(result, groups)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 3.5))
    x = np.arange(len(frame))
    width = 0.8 / len(_DELIVERY_PARTS)
    for k, (column, _, colour) in enumerate(_DELIVERY_PARTS):
        values = frame[column].to_numpy(dtype=float)
        hatch = "//" if "crash" in column else None
        bars = ax.bar(x - 0.4 + (k + 0.5) * width, values, width=width * 0.95, color=colour, hatch=hatch,
                      edgecolor="white" if hatch else None, label=column)
        ax.bar_label(bars, labels=[f"{int(v):,}" for v in values], fontsize=7, padding=2)
    ax.set_xticks(x, list(frame.index))
    ax.set_ylabel("records")
    ax.set_title("what a consumer crash cost each group")
    ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.grid(axis="y", alpha=0.3)
    return ax
