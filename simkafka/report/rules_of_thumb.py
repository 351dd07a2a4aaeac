"""The planner's answer beside the rules of thumb operators size Kafka with.

A course (and a sceptical team) wants to see where the simulation agrees with the rules
people quote and where it does not:

- partitions per topic: ``max(T/p, T/c)`` -- the load over what one partition carries on
  the producer side and on the consumer side, measured by the planner's one-partition
  probe -- and about 3x the broker count for a small cluster, 2x for a large one
  (:func:`~simkafka.analysis.partitions.rule_of_thumb_per_broker`);
- brokers: the AWS sizing equation for the planned load on the recommended instance type
  (:meth:`~simkafka.analysis.planner.Plan.rule_of_thumb_brokers`);
- replication factor 3 and ``min.insync.replicas`` 2.

:func:`rules_of_thumb_table` is the table, :func:`plot_plan_vs_rules` the figure; each
topic's :meth:`~simkafka.analysis.partitions.PartitionAdvice.explain` says in words why the
planner's count differs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from simkafka.analysis.partitions import (
    RULE_MIN_INSYNC_REPLICAS,
    RULE_REPLICATION_FACTOR,
    rule_of_thumb_per_broker,
)

if TYPE_CHECKING:  # reads a Plan's fields; nothing of the planner runs here
    from simkafka.analysis.planner import Plan

__all__ = ["THROUGHPUT_RULE", "plot_plan_vs_rules", "rules_of_thumb_table"]

#: The name of the throughput rule's row.
THROUGHPUT_RULE = "max(T/p, T/c)"
_COLUMNS = ["setting", "rule", "rule of thumb", "planner"]


def rules_of_thumb_table(plan: Plan) -> pd.DataFrame:
    """One row per (setting, rule): ``setting`` (``partitions: <topic>``, ``brokers``,
    ``replication.factor``, ``min.insync.replicas``), ``rule`` (the rule of thumb's name),
    ``rule of thumb`` (the count it gives) and ``planner`` (the recommendation's). Every
    topic whose partitions the planner derived gets the throughput rule and the per-broker
    rule, both for the recommended broker count. Raises ``ValueError`` with the planner's
    reason when the plan has no recommendation: there is nothing to compare."""
    rec = plan.recommendation
    if rec is None:
        raise ValueError(f"the plan has no recommendation to set beside the rules of thumb: {plan.reason}")
    chosen = dict(rec.partitions)
    per_broker = rule_of_thumb_per_broker(rec.brokers)
    rows: list[tuple[str, str, int, int]] = []
    for topic, advice in plan.advice.items():
        rows.append((f"partitions: {topic}", THROUGHPUT_RULE, advice.rule_throughput, chosen[topic]))
        rows.append((f"partitions: {topic}", f"{per_broker}x brokers", advice.rule_brokers(rec.brokers),
                     chosen[topic]))
    rows.append(("brokers", f"AWS sizing equation ({rec.instance})", int(plan.rule_of_thumb_brokers() or 0),
                 rec.brokers))
    rows.append(("replication.factor", f"RF {RULE_REPLICATION_FACTOR}", RULE_REPLICATION_FACTOR,
                 rec.replication_factor))
    rows.append(("min.insync.replicas", f"min ISR {RULE_MIN_INSYNC_REPLICAS}", RULE_MIN_INSYNC_REPLICAS,
                 rec.min_insync_replicas))
    return pd.DataFrame(rows, columns=_COLUMNS)


def plot_plan_vs_rules(plan: Plan, ax=None):
    """Bars per topic's partitions and for the brokers: the planner's recommendation (dark)
    beside each rule of thumb of :func:`rules_of_thumb_table` (light), every bar labelled
    with its count. Returns the Axes."""
    import numpy as np

    table = rules_of_thumb_table(plan)
    table = table[table["setting"].str.startswith("partitions: ") | (table["setting"] == "brokers")]
    settings = list(dict.fromkeys(table["setting"]))
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(max(6.0, 1.8 * len(settings)), 3.8))
    rules = list(dict.fromkeys(table["rule"]))
    colours = {rule: colour for rule, colour in zip(rules, ["#9ecae1", "#fdae6b", "#a1d99b", "#bcbddc"] * 4,
                                                          strict=False)}
    x = np.arange(len(settings))
    for i, setting in enumerate(settings):
        mine = table[table["setting"] == setting]
        slots = 1 + len(mine)
        width = 0.8 / slots
        left = i - 0.4 + width / 2
        planner = ax.bar(left, int(mine["planner"].iloc[0]), width=width, color="#08519c",
                         label="planner" if i == 0 else None)
        ax.bar_label(planner, fontsize=8)
        for k, row in enumerate(mine.itertuples(index=False), start=1):
            label = row.rule if row.rule not in ax.get_legend_handles_labels()[1] else None
            bars = ax.bar(left + k * width, int(row[2]), width=width, color=colours[row.rule], label=label)
            ax.bar_label(bars, fontsize=8)
    ax.set_xticks(x, [s.removeprefix("partitions: ") if s != "brokers" else "brokers" for s in settings],
                  fontsize=9)
    ax.set_ylabel("partitions (per topic) / brokers")
    rec = plan.recommendation
    ax.set_title(f"planner ({rec.brokers} x {rec.instance}) beside the rules of thumb" if rec else "")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax
