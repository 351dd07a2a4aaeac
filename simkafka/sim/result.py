"""What a run returns: a summary, the time series, latency histograms and the accounting."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from simkafka.sim.histogram import LatencyHistogram

PERCENTILES = (50, 95, 99, 99.9)


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
            + (self.latency * 1000).round(3).to_html()
        )


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
