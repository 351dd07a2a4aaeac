"""The planner's candidates: one cluster configuration each, as a scenario, with its bounds
and its monthly cost.

A candidate is an instance type, a broker count, a partition count per topic, a
replication factor and a ``min.insync.replicas``. :func:`candidate_scenario` writes it into
the user's scenario (as the sweep writes a point: into the scenario as written, so what
depends on it -- brokers dealt over the racks, defaults -- is derived again) and validates
it. :func:`grow` applies the plan's growth factor to the load and to the throughput target
first, so every bound, run and cost is for the load the plan is for.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from simkafka.analysis.bounds import Bounds, capacity_bounds, produced_by_topic
from simkafka.analysis.catalogue import BlockStorage, LocalNvme, Offer
from simkafka.analysis.cost import MonthlyCost, Traffic, monthly_cost
from simkafka.analysis.grid import point_seed
from simkafka.analysis.hardware import hardware_fields
from simkafka.model.topology import balanced_topology
from simkafka.scenario import Scenario
from simkafka.scenario.plan import PlanSpec
from simkafka.units import write_byte_rate, write_message_rate

__all__ = [
    "Candidate", "CandidateError", "candidate", "candidate_scenario", "grow", "planned_run", "retained_by_topic",
    "validated_scenario",
]


class CandidateError(ValueError):
    """A candidate the scenario's own checks refuse (the message says which rule)."""


@dataclass(frozen=True)
class Candidate:
    """One configuration the planner may recommend, with what the bounds and the price say."""

    instance: str
    provider: str
    brokers: int
    partitions: tuple[tuple[str, int], ...]  # (topic, partitions) in the scenario's topic order
    replication_factor: int
    min_insync_replicas: int
    cost: MonthlyCost
    bounds: Bounds = field(repr=False)  # on the layout the topic is created with (what the simulator runs)
    required: float  # bytes/s of produced batches the load needs (after growth)
    ideal: Bounds = field(repr=False)  # on a balanced layout (what pruning uses)

    @property
    def key(self) -> str:
        """A readable identity: ``6 x m7g.xlarge, events=12, RF 3, min ISR 2``."""
        parts = ", ".join(f"{t}={p}" for t, p in self.partitions)
        return (f"{self.brokers} x {self.instance}, {parts}, RF {self.replication_factor}, "
                f"min ISR {self.min_insync_replicas}")

    def __repr__(self) -> str:
        bound = "unbounded" if math.isinf(self.ideal.bound) else f"{self.ideal.bound / 1e6:,.1f} MB/s"
        verdict = "" if self.bound_ok else f"; pruned: {self.pruned_because}"
        return (f"<Candidate {self.key}: ${self.cost.total:,.0f}/month, bound {bound} for "
                f"{self.required / 1e6:,.1f} MB/s needed{verdict}>")

    @property
    def monthly_usd(self) -> float:
        return self.cost.total

    @property
    def bound_ok(self) -> bool:
        """The bounds do not prove it infeasible: even on a balanced replica layout
        (:func:`~simkafka.model.topology.balanced_topology`) -- so a cluster is never ruled
        out for the luck of its placement, which a reassignment can change."""
        return self.ideal.bound >= self.required

    @property
    def bound_headroom(self) -> float:
        """The bound (on the layout as created) over what the load needs (> 1: room to spare)."""
        if self.required <= 0:
            return math.inf
        return self.bounds.bound / self.required

    @property
    def placement_costs(self) -> float:
        """The fraction of the balanced layout's capacity the created layout loses (0 when
        the placer balanced the leaders; KAFKA-15354 for KRaft)."""
        if not math.isfinite(self.ideal.bound) or self.ideal.bound <= 0:
            return 0.0
        return max(0.0, 1.0 - self.bounds.bound / self.ideal.bound)

    @property
    def pruned_because(self) -> str:
        """Why the bounds reject it ('' when they do not)."""
        if self.bound_ok:
            return ""
        binding = self.ideal.binding[0]
        if binding.capacity and binding.load_per_byte == 0.0:
            return f"{binding.resource}: {binding.note} (limit {binding.capacity:,.0f})"
        return (f"{binding.resource} caps the cluster at {binding.max_throughput / 1e6:,.1f} MB/s; "
                f"the load needs {self.required / 1e6:,.1f} MB/s")

    def row(self) -> dict[str, Any]:
        """A flat row for the candidates table."""
        row: dict[str, Any] = {
            "candidate": self.key,
            "provider": self.provider,
            "instance": self.instance,
            "brokers": self.brokers,
            "replication_factor": self.replication_factor,
            "min_insync_replicas": self.min_insync_replicas,
            "monthly_usd": round(self.cost.total, 2),
            "instances_usd": round(self.cost.instances, 2),
            "storage_usd": round(self.cost.storage, 2),
            "transfer_usd": round(self.cost.transfer, 2),
            "bound_MB_per_s": self.bounds.bound / 1e6 if math.isfinite(self.bounds.bound) else math.inf,
            "balanced_bound_MB_per_s": self.ideal.bound / 1e6 if math.isfinite(self.ideal.bound) else math.inf,
            "required_MB_per_s": self.required / 1e6,
            "bound_binding": ", ".join(r.resource for r in self.bounds.binding),
            "pruned_because": self.pruned_because,
        }
        for topic, partitions in self.partitions:
            row[f"partitions.{topic}"] = partitions
        return row


def planned_peak(profile: Any, duration: float) -> float:
    """The factor a plan sizes a producer for: its profile's peak over all time when that
    is bounded (the busiest hour of any day, a burst, the highest step: a run is a sample
    of a workload that goes on), its peak over the run's ``duration`` for a growth, whose
    peak over all time is unbounded."""
    peak = profile.peak_factor
    return peak if math.isfinite(peak) else profile.peak_factor_until(duration)


def grow(scenario: Scenario, growth: float) -> Scenario:
    """``scenario`` at the load a plan is for: every rated producer at its profile's peak
    (:func:`planned_peak`: a diurnal or burst profile's highest factor, a growth's factor
    at the end of ``run.duration``, as a constant rate -- a cluster is sized
    for its busiest hour, and a short planning run would otherwise see whatever hour it
    starts in) times ``growth``, and the throughput target times ``growth``. ``rate: max``
    producers are unthrottled already; Poisson profiles keep their draws."""
    peaks = [planned_peak(p.profile, scenario.run.duration) for p in scenario.producers]
    shaped = any(p.profile.type not in ("constant", "poisson") for p in scenario.producers)
    if growth == 1.0 and not shaped:
        return scenario
    data = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    for written, spec, peak in zip(data.get("producers", []), scenario.producers, peaks, strict=True):
        if spec.profile.type not in ("constant", "poisson"):
            written.pop("profile", None)
        else:
            peak = 1.0
        if not spec.rate.is_max:
            written["rate"] = _scaled_rate(spec.rate, growth * peak)
    target = scenario.targets.produce_throughput
    if target is not None:
        data["targets"]["produce_throughput"] = _scaled_rate(target, growth)
    return Scenario.model_validate(data)


def _scaled_rate(rate: Any, factor: float) -> str:
    if rate.messages_per_second is not None:
        return write_message_rate(rate.messages_per_second * factor)
    return write_byte_rate(rate.bytes_per_second * factor)


def retained_by_topic(
    scenario: Scenario, retention: float | None = None, by_topic: dict[str, float] | None = None
) -> dict[str, float]:
    """Bytes each topic keeps before replication: its produced bytes/s (``by_topic``, from
    :func:`~simkafka.analysis.bounds.produced_by_topic` when not given) times its retention
    (``retention`` for all when given), capped by ``retention.bytes`` per partition. Batch
    bytes as the producers compress them (the log stores batches)."""
    rates = produced_by_topic(scenario) if by_topic is None else by_topic
    held: dict[str, float] = {}
    for topic in scenario.topics:
        rate = rates.get(topic.name, 0.0)
        keep = retention if retention is not None else topic.retention
        kept = rate * keep if rate > 0 else 0.0
        if math.isfinite(topic.retention_bytes):
            kept = min(kept, topic.retention_bytes * topic.partitions)
        held[topic.name] = kept
    return held


def candidate_scenario(
    base: Scenario,
    spec: PlanSpec,
    offer: Offer,
    brokers: int,
    partitions: dict[str, int],
    replication_factor: int | None,
    min_insync_replicas: int | None,
    *,
    offline_brokers: tuple[int, ...] = (),
    engine: str = "stepped",
) -> Scenario:
    """``base`` (already grown) as the candidate cluster: ``brokers`` brokers of ``offer``'s
    instance type (racks kept, brokers dealt over them), the partition counts, the
    replication settings (``None``: the topic's own), the plan's retention and run length.
    ``offline_brokers`` are down for the whole run (the survive and what-if cases)."""
    data = base.model_dump(mode="json", by_alias=True, exclude_unset=True)
    data.pop("plan", None)
    data.pop("faults", None)  # timed faults are not the planner's question
    cluster = data["cluster"]
    cluster["brokers"] = brokers
    racks = base.cluster.rack_names
    if racks:
        cluster["racks"] = list(racks)
    else:
        cluster.pop("racks", None)
    cluster["hardware"] = hardware_fields(offer.instance)
    if offline_brokers:
        cluster["offline_brokers"] = list(offline_brokers)
    for written in data["topics"]:
        written.pop("replica.assignment", None)
        written["partitions"] = partitions[written["name"]]
        if replication_factor is not None:
            written["replication.factor"] = replication_factor
        if min_insync_replicas is not None:
            written["min.insync.replicas"] = min_insync_replicas
        if spec.retention is not None:
            written["retention.ms"] = f"{spec.retention:g}s"
    params = {"instance": offer.instance.name, "brokers": brokers, "partitions": partitions,
              "rf": replication_factor, "min_isr": min_insync_replicas}
    data["run"] = {**data.get("run", {}), **planned_run(spec), "engine": engine, "seed": point_seed(base.seed, params)}
    return validated_scenario(data)


#: The time-series resolution of a planner's run, about: fine enough that a short run has
#: several samples after its warm-up.
SAMPLE_INTERVAL = 0.25


def planned_run(spec: PlanSpec) -> dict[str, str]:
    """The ``run`` settings of every planner run: the plan's duration and warm-up, sampled
    at an interval that divides the warm-up, so that the measured window starts on a
    sample boundary (a sample straddling the warm-up would carry the clients' start-up
    into the steady-state means and read a few percent low)."""
    steps = max(1, round(spec.warmup / SAMPLE_INTERVAL))
    interval = spec.warmup / steps if spec.warmup > 0 else SAMPLE_INTERVAL
    return {"duration": f"{spec.duration:g}s", "warmup": f"{spec.warmup:g}s", "sample_interval": f"{interval:g}s"}


def validated_scenario(data: dict) -> Scenario:
    from pydantic import ValidationError

    from simkafka.scenario.checks import find_contradictions

    try:
        scenario = Scenario.model_validate(json.loads(json.dumps(data)))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(x) for x in first["loc"])
        raise CandidateError(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None
    errors = [f"{'.'.join(map(str, path))}: {message}"
              for path, message, _, warning in find_contradictions(scenario) if not warning]
    if errors:
        raise CandidateError("; ".join(errors))
    return scenario


def candidate(
    scenario: Scenario,
    spec: PlanSpec,
    offer: Offer,
    *,
    required: float,
    zones: int,
) -> Candidate:
    """The :class:`Candidate` of a candidate scenario: its bounds at the plan's ceiling,
    local disks checked for the retention, and its monthly cost."""
    instance = offer.instance
    storage = instance.storage
    disk_bytes = storage.size * storage.count if isinstance(storage, LocalNvme) else None
    bounds = capacity_bounds(scenario, spec.ceiling, disk_bytes=disk_bytes)
    ideal = capacity_bounds(scenario, spec.ceiling, disk_bytes=disk_bytes, topology=balanced_topology(scenario))
    by_topic = produced_by_topic(scenario)
    ingress = sum(by_topic.values())
    # the topic carrying the most bytes sets the replication and fan-out the traffic
    # figure uses; storage is summed topic by topic at each one's own RF
    main = max(scenario.topics, key=lambda t: by_topic.get(t.name, 0.0))
    rf = main.replication_factor
    groups = sum(1 for g in scenario.consumer_groups if main.name in g.topics)
    held = retained_by_topic(scenario, spec.retention, by_topic)
    at_rf = sum(held[t.name] * t.replication_factor for t in scenario.topics)
    cost = monthly_cost(
        offer,
        len(scenario.cluster.brokers),
        retained_bytes=at_rf if isinstance(storage, BlockStorage) else 0.0,
        replication_factor=1,
        storage_headroom=spec.headroom,
        traffic=Traffic.spread(ingress, zones=max(1, zones), replication_factor=rf, consumer_groups=groups),
    )
    topic = main
    return Candidate(
        instance=instance.name,
        provider=offer.provider.provider,
        brokers=len(scenario.cluster.brokers),
        partitions=tuple((t.name, t.partitions) for t in scenario.topics),
        replication_factor=rf,
        min_insync_replicas=topic.min_insync_replicas,
        cost=cost,
        bounds=bounds,
        required=required,
        ideal=ideal,
    )

