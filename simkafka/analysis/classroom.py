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
    sample_interval: float = 0.1,
    keep_faults: bool = False,
    plan_duration: float = 0.5,
    plan_warmup: float = 0.1,
    max_simulations: int | None = None,
    plan: dict | None = None,
    max_keys: int | None = None,
    faults: list[dict] | None = None,
) -> Scenario:
    """``scenario`` with every rated producer and the throughput target times ``load`` (at
    a shaped profile's peak, as the planner plans it), a run of ``duration`` simulated
    seconds on ``engine`` sampled every ``sample_interval`` seconds (a figure of a
    short run needs more than its default one point a second), its faults only with ``keep_faults``, and its ``plan:`` block
    (with ``plan`` merged in, Kafka's dotted names as in YAML) searching with
    ``plan_duration``-second runs and at most ``max_simulations`` simulations -- by default
    one probe per topic and a batch of two candidates (the cheapest, and the next in cost
    order: the cheaper one's failure, when it fails, is what the plan explains).

    ``max_keys`` caps each keyed producer's key count: every run hashes every key once to
    weigh the partitions, which for a million keys takes seconds; a zipf's hottest keys
    keep nearly their share with a tenth of the keys.

    ``faults`` (fault mappings as in YAML) replace the scenario's own: the case's faults
    moved into the short run, e.g. a maintenance shutdown at 1 s instead of 45 s."""
    data = grow(scenario, load).model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["run"] = {**data.get("run", {}), "duration": f"{duration:g}s", "warmup": f"{warmup:g}s", "engine": engine,
                   "sample_interval": f"{sample_interval:g}s"}
    if max_keys is not None:
        for producer in data.get("producers", []):
            keys = producer.get("keys")
            if isinstance(keys, dict) and keys.get("count", 0) > max_keys:
                keys["count"] = max_keys
    if faults is not None:
        data["faults"] = list(faults)
    elif not keep_faults:
        data.pop("faults", None)
    if scenario.plan is not None or plan:
        data["plan"] = {**data.get("plan", {}), **(plan or {}), "duration": f"{plan_duration:g}s",
                        "warmup": f"{plan_warmup:g}s", "max_simulations": max_simulations or len(scenario.topics) + 2}
    return Scenario.model_validate(data)
