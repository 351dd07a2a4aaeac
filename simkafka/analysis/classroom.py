"""A case study cut down to classroom size: the same cluster, topics, clients and targets
at a fraction of the load, with a run of a few simulated seconds and a planner budget
that answers in seconds.

The case studies' scenarios describe production loads (hundreds of thousands of messages
a second for minutes); a notebook that runs on every push cannot simulate that. Scaling
every producer's rate and the throughput target by the same factor (:func:`grow`, the
planner's own growth rule) keeps each topic's share of the load, the keys, the batching
settings and the latency targets, so the plan's reasoning -- and the rules of thumb beside
it -- is the case's, for a smaller business.
"""

from __future__ import annotations

from simkafka.analysis.candidates import grow
from simkafka.scenario import Scenario

__all__ = ["scaled_down"]


def scaled_down(
    scenario: Scenario,
    *,
    load: float,
    duration: float,
    warmup: float,
    engine: str = "stepped",
    keep_faults: bool = False,
    plan_duration: float = 0.5,
    plan_warmup: float = 0.1,
    max_simulations: int = 6,
    plan: dict | None = None,
) -> Scenario:
    """``scenario`` with every rated producer and the throughput target times ``load`` (at
    a shaped profile's peak, as the planner plans it), a run of ``duration`` simulated
    seconds on ``engine``, its faults only with ``keep_faults``, and its ``plan:`` block
    (with ``plan`` merged in, Kafka's dotted names as in YAML) searching with
    ``plan_duration``-second runs and at most ``max_simulations`` simulations."""
    data = grow(scenario, load).model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["run"] = {**data.get("run", {}), "duration": f"{duration:g}s", "warmup": f"{warmup:g}s", "engine": engine}
    if not keep_faults:
        data.pop("faults", None)
    if scenario.plan is not None or plan:
        data["plan"] = {**data.get("plan", {}), **(plan or {}), "duration": f"{plan_duration:g}s",
                        "warmup": f"{plan_warmup:g}s", "max_simulations": max_simulations}
    return Scenario.model_validate(data)
