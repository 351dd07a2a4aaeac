"""What a run returns -- a summary, the time series, latency histograms and the accounting --
and :func:`build_result`, which both engines call to summarise a run into one."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd

from simkafka.scenario import Scenario
from simkafka.sim.histogram import LatencyHistogram

PERCENTILES = (50, 95, 99, 99.9)
SATURATED = 0.9  # a resource busier than this on average limits the run


def group_accounting(
    consumed: int, fetched: int, processing: int, unfetched: int, below_hw: int, in_transit: int = 0
) -> dict[str, object]:
    """Where a group's messages below the high watermark are: they must add up."""
    return {
        "consumed": consumed,
        "fetched_not_polled": fetched,
        "fetch_in_transit": in_transit,
        "being_processed": processing,
        "lag_not_fetched": unfetched,
        "below_high_watermark": below_hw,
        "balanced": consumed + processing + fetched + in_transit + unfetched == below_hw,
    }


def run_accounting(
    *,
    created: int,
    acked: int,
    blocked: int,
    buffered: int,
    in_flight: int,
    failed: dict[str, int],
    appended: int,
    below_hw: int,
    groups: dict[str, dict[str, object]],
) -> dict[str, object]:
    """Where every created message is, and whether it all adds up (both engines)."""
    producer_balanced = created == acked + blocked + buffered + in_flight + sum(failed.values())
    return {
        "created": created,
        "acknowledged": acked,
        "blocked_in_send": blocked,
        "in_accumulator": buffered,
        "in_flight": in_flight,
        "failed": dict(sorted(failed.items())),
        "appended_to_leaders": appended,
        "below_high_watermark": below_hw,
        "producers_balanced": producer_balanced,
        "groups": groups,
        "ok": producer_balanced and all(g["balanced"] for g in groups.values()),
    }


@dataclass
class RunResult:
    """One simulated run of a scenario.

    ``summary`` -- headline figures (steady state, after the warm-up) as a dict;
    ``timeseries`` -- one row per sample interval; ``latency`` -- percentiles (seconds) of
    produce and end-to-end latency; ``conservation`` -- where every created message is;
    ``histograms`` -- the underlying latency histograms.
    """

    scenario_name: str
    seed: int
    summary: dict[str, Any]
    timeseries: pd.DataFrame
    latency: pd.DataFrame
    conservation: dict[str, Any]
    histograms: dict[str, LatencyHistogram] = field(repr=False, default_factory=dict)
    resolved_scenario: dict[str, Any] = field(repr=False, default_factory=dict)
    versions: dict[str, str] = field(repr=False, default_factory=dict)

    def summary_table(self) -> pd.DataFrame:
        rows = [
            {"metric": k, "value": _fmt(v)}
            for k, v in self.summary.items()
            if not isinstance(v, dict)
        ]
        return pd.DataFrame(rows).set_index("metric")

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"<RunResult {self.scenario_name} seed={self.seed}: "
            f"{s.get('produce_msgs_per_s', 0):,.0f} msg/s produced, "
            f"p99 produce {1000 * s.get('p99_produce_latency_s', math.nan):.2f} ms, "
            f"p99 e2e {1000 * s.get('p99_e2e_latency_s', math.nan):.2f} ms, "
            f"bottleneck {s.get('bottleneck', '?')}>"
        )

    def _repr_html_(self) -> str:
        return (
            f"<b>{self.scenario_name}</b> (seed {self.seed})"
            + self.summary_table().to_html()
            + "<b>latency (ms)</b>"
            # 3 significant digits: what histogram buckets ~1.2 % wide resolve
            + (self.latency * 1000).map(lambda v: f"{v:.3g}").to_html()
        )


def build_result(
    scenario: Scenario,
    ts: pd.DataFrame,
    produce: LatencyHistogram,
    e2e: LatencyHistogram,
    broker_ids: list[int],
    processing: dict[str, tuple[int, float]],
    accounting: dict[str, object],
) -> RunResult:
    """The summary both engines report: steady-state means, percentiles, the bottleneck.
    ``processing`` is (members with partitions, processing time per record) per group."""
    steady = ts[ts.index > scenario.run.warmup] if not ts.empty else ts
    latency = pd.DataFrame(
        {
            name: {f"p{q:g}": h.percentile(q) for q in PERCENTILES} | {"mean": h.mean, "max": h.max}
            for name, h in (("produce", produce), ("end_to_end", e2e))
        }
    ).T
    summary: dict[str, object] = {}

    def mean(column: str) -> float:
        return float(steady[column].mean()) if column in steady and len(steady) else math.nan

    summary["duration_s"] = scenario.run.duration
    summary["engine"] = scenario.run.engine
    summary["faults_not_simulated"] = len(scenario.faults)  # the fault engine is a later step
    summary["produce_msgs_per_s"] = mean("produce_msgs_per_s")
    summary["produce_MB_per_s"] = mean("produce_MB_per_s")
    summary["produce_payload_MB_per_s"] = mean("produce_payload_MB_per_s")
    summary["created_msgs_per_s"] = mean("created_msgs_per_s")
    summary["produce_requests_per_s"] = mean("produce_requests_per_s")
    summary["batches_per_request"] = mean("batches_per_request")
    summary["p50_produce_latency_s"] = produce.percentile(50)
    summary["p99_produce_latency_s"] = produce.percentile(99)
    summary["p99_e2e_latency_s"] = e2e.percentile(99)
    for group in processing:
        summary[f"consume_msgs_per_s.{group}"] = mean(f"consume_msgs_per_s.{group}")
        summary[f"max_lag.{group}"] = (
            float(steady[f"lag.{group}"].max()) if len(steady) else math.nan
        )
        summary[f"final_lag.{group}"] = float(ts[f"lag.{group}"].iloc[-1]) if len(ts) else math.nan
    utilisation = {}
    for b in broker_ids:
        for resource in ("nic_in", "nic_out", "disk_write", "disk_read", "cpu"):
            column = f"b{b}.{resource}_util"
            utilisation[f"broker {b} {resource.replace('_', ' ')}"] = mean(column)
    for group_id, (active, per_record) in processing.items():
        # the application's own processing time is a resource too (a slow consumer)
        if active and per_record > 0:
            rate = mean(f"consume_msgs_per_s.{group_id}")
            utilisation[f"consumer group {group_id} processing"] = rate * per_record / active
    if utilisation:
        name, value = max(utilisation.items(), key=lambda kv: -1 if math.isnan(kv[1]) else kv[1])
        if value >= SATURATED:
            summary["bottleneck"] = f"{name} ({100 * value:.0f}% busy)"
        else:
            summary["bottleneck"] = f"none saturated; busiest is {name} ({100 * value:.0f}% busy)"
        summary["bottleneck_utilisation"] = value
    summary["max_under_replicated_partitions"] = (
        float(ts["under_replicated_partitions"].max()) if len(ts) else 0.0
    )
    summary["cross_rack_MB_per_s"] = mean("cross_rack_MB_per_s")
    summary["failed_messages"] = sum(accounting["failed"].values())  # type: ignore[union-attr]
    summary["conservation_ok"] = accounting["ok"]
    return RunResult(
        scenario_name=scenario.name,
        seed=scenario.seed,
        summary=summary,
        timeseries=ts,
        latency=latency,
        conservation=accounting,
        histograms={"produce": produce, "end_to_end": e2e},
        resolved_scenario=scenario.model_dump(mode="json", by_alias=True),
        # the Kafka release whose behaviour the run reproduced, beside the software versions
        versions={**_versions(), "kafka": scenario.cluster.kafka_version},
    )


def _versions() -> dict[str, str]:
    out = {}
    for package in ("simkafka", "simpy", "numpy", "pandas"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "unknown"
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
