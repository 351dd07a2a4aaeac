"""What a run returns: a summary, the time series, latency histograms and the accounting."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from simkafka.sim.histogram import LatencyHistogram

PERCENTILES = (50, 95, 99, 99.9)


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


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
