"""Does a simulated run meet the scenario's targets, with the headroom the plan asks for?

:func:`evaluate_point` is what a planner's worker runs: the simulation's scalar summary plus
the steady-state utilisation of every broker resource on its busiest broker
(``util.<resource>``). :func:`check_targets` turns that row into one :class:`TargetCheck`
per rule: every target the scenario names, the offered load sustained (a cluster that
falls behind meets no throughput, whatever the targets say), the conservation check, the
durability target (a property of the configuration, see
:func:`simkafka.scenario.durability.durability_gaps`) and the utilisation ceiling on each
broker resource. Client hosts are the user's own machines, so their utilisation is not a
cluster's headroom; a producer that cannot keep up shows as missed throughput.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from simkafka.scenario import Scenario

__all__ = ["THROUGHPUT_SLACK", "TargetCheck", "check_targets", "evaluate_point", "utilisation_columns"]

#: A run's measured rate is a mean over sampled intervals: a target met to within 1 % is met.
THROUGHPUT_SLACK = 0.01


@dataclass(frozen=True)
class TargetCheck:
    """One rule: what it asks, what the run did, whether it holds."""

    target: str
    goal: float | str
    achieved: float | str
    met: bool
    unit: str = ""

    def __repr__(self) -> str:
        mark = "met" if self.met else "MISSED"
        return f"<{self.target}: {_show(self.achieved)} vs {_show(self.goal)} {self.unit} {mark}>".replace("  ", " ")


def _show(value: float | str) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def utilisation_columns(result: Any, warmup: float) -> dict[str, Any]:
    """``util.<resource>``: the steady-state mean utilisation of each broker resource on the
    busiest broker, and ``util_broker.<resource>`` naming that broker."""
    from simkafka.sim.result import BROKER_RESOURCES

    ts = result.timeseries
    steady = ts[ts.index > warmup] if len(ts) else ts
    out: dict[str, Any] = {}
    for resource in BROKER_RESOURCES:
        columns = [c for c in steady.columns if c.startswith("b") and c.endswith(f".{resource}_util")
                   and c.count(".") == 1]
        if not columns or not len(steady):
            continue
        means = steady[columns].mean()
        busiest = str(means.idxmax())
        out[f"util.{resource}"] = float(means.max())
        out[f"util_broker.{resource}"] = busiest.split(".", 1)[0]
    return out


def evaluate_point(scenario_json: str) -> dict[str, Any]:
    """Simulate one candidate (its scenario as JSON text, validated again here); the
    summary's scalar fields and :func:`utilisation_columns`."""
    from simkafka.analysis.sweep import scalar_summary
    from simkafka.sim.engine import simulate

    scenario = Scenario.model_validate_json(scenario_json)
    result = simulate(scenario)
    row = scalar_summary(result.summary)
    row |= utilisation_columns(result, scenario.run.warmup)
    return row


def check_targets(row: dict[str, Any], scenario: Scenario, ceiling: float | None) -> tuple[TargetCheck, ...]:
    """Every rule ``row`` (an :func:`evaluate_point` result of ``scenario``) is judged by."""
    from simkafka.scenario.durability import durability_gaps, durability_goal

    checks: list[TargetCheck] = []
    targets = scenario.targets
    offered = sum(
        p.rate.messages(p.message_size.mean) for p in scenario.producers if not p.rate.is_max
    )
    produced = float(row.get("produce_msgs_per_s", math.nan))
    if offered > 0 and not any(p.rate.is_max for p in scenario.producers):
        checks.append(TargetCheck("offered load sustained", offered, produced,
                                  produced >= offered * (1 - THROUGHPUT_SLACK), "msgs/s"))
    sustainable = row.get("sustainable")
    if sustainable is not None:
        checks.append(TargetCheck("no queue grows", "sustainable",
                                  "sustainable" if sustainable else str(row.get("sustainability", "not sustainable")),
                                  bool(sustainable)))
    if row.get("conservation_ok") is False:
        checks.append(TargetCheck("conservation", "every message accounted", "not", False))
    throughput = targets.produce_throughput
    if throughput is not None:
        if throughput.messages_per_second is not None:
            goal = throughput.messages_per_second
            checks.append(TargetCheck("produce throughput", goal, produced,
                                      produced >= goal * (1 - THROUGHPUT_SLACK), "msgs/s"))
        elif throughput.bytes_per_second is not None:
            goal = throughput.bytes_per_second / 1e6
            got = float(row.get("produce_payload_MB_per_s", math.nan))
            checks.append(TargetCheck("produce throughput", goal, got, got >= goal * (1 - THROUGHPUT_SLACK),
                                      "payload MB/s"))
    if targets.p99_produce_latency is not None:
        got = float(row.get("p99_produce_latency_s", math.nan))
        checks.append(TargetCheck("p99 produce latency", 1000 * targets.p99_produce_latency, 1000 * got,
                                  got <= targets.p99_produce_latency, "ms"))
    if targets.p99_e2e_latency is not None:
        got = float(row.get("p99_e2e_latency_s", math.nan))
        checks.append(TargetCheck("p99 end-to-end latency", 1000 * targets.p99_e2e_latency, 1000 * got,
                                  got <= targets.p99_e2e_latency, "ms"))
    if targets.max_consumer_lag is not None:
        lags = [float(v) for k, v in row.items() if k.startswith("max_lag.") and v is not None]
        got = max(lags, default=0.0)
        checks.append(TargetCheck("max consumer lag", float(targets.max_consumer_lag), got,
                                  got <= targets.max_consumer_lag, "messages"))
    if targets.durability is not None:
        gaps = durability_gaps(scenario)
        checks.append(TargetCheck("durability", durability_goal(targets.durability.failures, targets.durability.domain),
                                  "yes" if not gaps else "no: " + gaps[0].reason, not gaps))
    if ceiling is not None:
        for key, value in row.items():
            if key.startswith("util.") and value is not None and math.isfinite(value):
                resource = key.removeprefix("util.")
                where = row.get(f"util_broker.{resource}", "")
                checks.append(TargetCheck(f"{resource.replace('_', ' ')} utilisation ({where})",
                                          100 * ceiling, 100 * float(value), float(value) <= ceiling, "%"))
    return tuple(checks)
