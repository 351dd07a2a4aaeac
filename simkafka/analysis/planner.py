"""``plan(scenario)``: the cheapest cluster that meets the targets, and why.

The search, in the order a person sizing Kafka would work:

1. **Growth.** The load and the throughput target are multiplied by ``plan.growth``
   (:func:`~simkafka.analysis.candidates.grow`); everything below is for that load.
2. **Partitions.** For each topic whose partitions are ``auto``, a one-partition probe run
   measures what a partition carries (:mod:`simkafka.analysis.partitions`); a candidate
   with ``n`` brokers gets the derived count rounded up to a multiple of ``n``.
3. **Candidates.** Every instance type x broker count x replication factor x
   ``min.insync.replicas`` x partition choice, each as a validated scenario; the scenario's
   own checks drop the impossible ones (RF above the broker count, ...).
4. **Bounds prune** (:func:`~simkafka.analysis.bounds.capacity_bounds` at the utilisation
   ceiling ``1 - headroom``): a candidate whose analytic capacity is below the load cannot
   meet it in the simulator either. Bounds never accept.
5. **Simulate in cost order**, :data:`BATCH` candidates at a time (the stepped engine by
   default): a candidate is accepted when its run meets every target, keeps every broker
   resource under the ceiling, sustains the offered load -- and, with ``survive: broker`` or
   ``rack``, does all that again with the busiest broker (or rack) offline, on the topology
   Kafka's elections leave (the failure cases :data:`SURVIVE_BATCH` at a time, cheapest
   first, until one survives). The first accepted candidate in cost order, every cheaper
   one having failed, is the recommendation. ``engine="events"`` confirms it with the
   request-level engine; a candidate the events engine fails is rejected and the search
   goes on. ``engine="flow"`` ranks every candidate (and runs the partition probes, the
   failure cases, the what-ifs and the Monte Carlo) on the flow engine, tens of times
   faster, and confirms the recommendation on the stepped engine, whose latency is
   simulated step by step rather than approximated from rates.
6. **What-ifs** for the recommendation (lose a broker, lose a rack, load x 1.5 and x 2), and
   with ``samples`` > 0 a Monte Carlo over the scenario's uncertain inputs for the finalists.

Batches have a fixed size whatever the executor, and each run its own seed, so the same
scenario gives the same plan -- the same simulations, the same rows -- on every executor.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simkafka.analysis.bounds import CLIENT_RESOURCES, aws_sizing_brokers, offered_throughput
from simkafka.analysis.cache import ResultCache, point_key
from simkafka.analysis.candidates import (
    Candidate,
    CandidateError,
    candidate,
    candidate_scenario,
    grow,
    planned_peak,
)
from simkafka.analysis.catalogue import Catalogue, Offer, shipped_catalogue
from simkafka.analysis.executors import open_executor
from simkafka.analysis.hardware import broker_hardware, hardware_fields
from simkafka.analysis.partitions import PartitionAdvice, advise, probe_scenario
from simkafka.analysis.targets import TargetCheck, check_targets, evaluate_point
from simkafka.model.topology import initial_topology
from simkafka.scenario import Scenario
from simkafka.scenario.plan import AUTO, PlanSpec

__all__ = ["BATCH", "WHAT_IF_LOADS", "Case", "Plan", "PlanError", "plan"]

#: Candidates simulated together: fixed, so that every executor runs the same simulations.
BATCH = 4
#: Failure cases simulated together: fixed, as :data:`BATCH` is.
SURVIVE_BATCH = 2
#: Load multiples the report's what-ifs try on the recommendation.
WHAT_IF_LOADS = (1.5, 2.0)
#: Finalists the Monte Carlo runs on: the recommendation and the next pricier candidates.
FINALISTS = 3
#: The engines a plan can rank with (see the module's step 5).
ENGINES = ("stepped", "events", "flow")
#: Rows of the "next cheaper" table.
NEXT_CHEAPER = 5

ProgressCallback = Callable[[str, int, int], None]  # (stage, done, total)


class PlanError(ValueError):
    """A plan that cannot be searched (no usable instance type, bad executor)."""


@dataclass(frozen=True)
class Case:
    """One simulation of a candidate: which case, which engine, its row and its checks."""

    name: str
    engine: str
    row: dict[str, Any] = field(repr=False)
    checks: tuple[TargetCheck, ...]

    @property
    def met(self) -> bool:
        return all(c.met for c in self.checks)

    @property
    def missed(self) -> tuple[TargetCheck, ...]:
        return tuple(c for c in self.checks if not c.met)

    def why_not(self) -> str:
        """The missed rules in words ('' when met)."""
        return "; ".join(f"{c.target}: {_value(c.achieved)} vs {_value(c.goal)} {c.unit}".rstrip()
                         for c in self.missed)

    def __repr__(self) -> str:
        return f"<Case {self.name!r} ({self.engine}): {'met' if self.met else 'MISSED ' + self.why_not()}>"


def _value(v: float | str) -> str:
    return f"{v:,.4g}" if isinstance(v, float) else str(v)


@dataclass
class Plan:
    """The planner's answer: the recommendation (or why there is none), every candidate with
    its bounds and cost, every simulation run, the partition advice and the what-ifs."""

    scenario: Scenario  # the scenario at the planned load (after growth)
    spec: PlanSpec
    engine: str
    survive: str
    required: float  # bytes/s of produced batches
    candidates: tuple[Candidate, ...]  # in cost order
    cases: dict[str, list[Case]]  # candidate key -> its simulations
    recommendation: Candidate | None
    reason: str
    advice: dict[str, PartitionAdvice]
    what_ifs: tuple[Case, ...] = ()
    uncertainty: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    samples: int = 0
    simulations: int = 0
    notes: list[str] = field(default_factory=list)
    offers: dict[str, Offer] = field(default_factory=dict, repr=False)

    @property
    def ranking_engine(self) -> str:
        """The engine every candidate, failure case, what-if and sample runs on."""
        return "flow" if self.engine == "flow" else "stepped"

    @property
    def confirming_engine(self) -> str | None:
        """The engine that confirms the recommendation before it is accepted (None: none)."""
        return {"events": "events", "flow": "stepped"}.get(self.engine)

    def status(self, c: Candidate) -> str:
        """``recommended``, ``pruned``, ``met``, ``failed`` or ``not simulated``."""
        if self.recommendation is not None and c.key == self.recommendation.key:
            return "recommended"
        if not c.bound_ok:
            return "pruned"
        cases = self.cases.get(c.key)
        if not cases:
            return "not simulated"
        return "met" if all(k.met for k in cases) else "failed"

    def why_not(self, c: Candidate) -> str:
        """What a candidate violates: the bound that pruned it, or the missed targets."""
        if not c.bound_ok:
            return "bounds: " + c.pruned_because
        cases = self.cases.get(c.key, [])
        return "; ".join(f"{k.name} ({k.engine}): {k.why_not()}" for k in cases if not k.met)

    def next_cheaper(self, count: int = NEXT_CHEAPER) -> list[Candidate]:
        """The candidates just cheaper than the recommendation (nearest first); each one fails
        something (:meth:`why_not`). Without a recommendation: the cheapest candidates."""
        if self.recommendation is None:
            return list(self.candidates[:count])
        # ranked before it: cheaper, or as cheap with fewer brokers (the search's order)
        ranked = [c.key for c in self.candidates].index(self.recommendation.key)
        return list(reversed(self.candidates[max(0, ranked - count):ranked]))

    def rule_of_thumb_brokers(self) -> int | None:
        """The broker count the AWS sizing equation (:func:`~simkafka.analysis.bounds.aws_sizing_brokers`)
        gives for the planned load on the recommendation's instance type, replication factor
        and the scenario's consumer groups, at the plan's utilisation ceiling -- what an
        operator would have bought before simulating. None without a recommendation."""
        rec = self.recommendation
        if rec is None:
            return None
        hardware = broker_hardware(self.offers[rec.instance].instance)
        return aws_sizing_brokers(self.required, hardware.disk_write, hardware.egress, rec.replication_factor,
                                  len(self.scenario.consumer_groups), self.spec.ceiling)

    def candidates_frame(self) -> pd.DataFrame:
        """One row per candidate, in cost order: the configuration, cost, bound, status and
        the main figures of its normal run when it had one."""
        rows = []
        for c in self.candidates:
            row = c.row() | {"status": self.status(c), "why_not": self.why_not(c)}
            normal = next((k for k in self.cases.get(c.key, []) if k.name == "as planned"), None)
            if normal is not None:
                for key in ("produce_msgs_per_s", "p99_produce_latency_s", "p99_e2e_latency_s",
                            "bottleneck_utilisation"):
                    row[key] = normal.row.get(key)
                for key, value in normal.row.items():
                    if key.startswith("util.") and isinstance(value, float):
                        row[key] = value
            rows.append(row)
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Everything a person or a program reads from plan.json."""
        rec = self.recommendation
        out: dict[str, Any] = {
            "scenario": self.scenario.name,
            "seed": self.scenario.seed,
            "plan": self.spec.model_dump(mode="json", by_alias=True),
            "engine": self.engine,
            "survive": self.survive,
            "required_MB_per_s": self.required / 1e6,
            "candidates": len(self.candidates),
            "pruned_by_bounds": sum(1 for c in self.candidates if not c.bound_ok),
            "simulations": self.simulations,
            "recommendation": None,
            "reason": self.reason,
            "notes": list(self.notes),
        }
        if rec is not None:
            out["recommendation"] = {
                "instance": rec.instance,
                "provider": rec.provider,
                "brokers": rec.brokers,
                "partitions": dict(rec.partitions),
                "replication.factor": rec.replication_factor,
                "min.insync.replicas": rec.min_insync_replicas,
                "monthly_usd": round(rec.monthly_usd, 2),
                "cost": {"instances": round(rec.cost.instances, 2), "storage": round(rec.cost.storage, 2),
                         "transfer": round(rec.cost.transfer, 2)},
                "binding_bound": [r.resource for r in rec.bounds.binding],
                "cases": [_case_dict(k) for k in self.cases.get(rec.key, [])],
            }
            out["next_cheaper"] = [{"candidate": c.key, "monthly_usd": round(c.monthly_usd, 2),
                                    "violates": self.why_not(c)} for c in self.next_cheaper()]
            out["what_ifs"] = [_case_dict(k) for k in self.what_ifs]
        out["partitions"] = {t: _advice_dict(a, rec.brokers if rec else None) for t, a in self.advice.items()}
        if self.uncertainty:
            out["uncertainty"] = {
                key: [{"target": m.target, "misses": m.misses, "samples": m.samples,
                       "probability": m.probability, "low": m.low, "high": m.high} for m in misses]
                for key, misses in self.uncertainty.items()
            }
        return out

    def __repr__(self) -> str:
        lines = [f"<Plan for {self.scenario.name!r}: {len(self.candidates)} candidates, "
                 f"{sum(1 for c in self.candidates if not c.bound_ok)} pruned by bounds, "
                 f"{self.simulations} simulations"]
        rec = self.recommendation
        if rec is None:
            lines.append(f"no recommendation: {self.reason}")
        else:
            lines.append(f"recommended: {rec.key} -- ${rec.monthly_usd:,.0f}/month")
            for k in self.cases.get(rec.key, []):
                lines.append(f"  {k.name} ({k.engine}): met")
            for c in self.next_cheaper(3):
                lines.append(f"  cheaper {c.key} (${c.monthly_usd:,.0f}): {self.why_not(c)}")
        return "\n".join(lines) + ">"


def _case_dict(k: Case) -> dict[str, Any]:
    return {"case": k.name, "engine": k.engine, "met": k.met,
            "checks": [{"target": c.target, "goal": c.goal, "achieved": c.achieved, "met": c.met, "unit": c.unit}
                       for c in k.checks]}


def _advice_dict(a: PartitionAdvice, brokers: int | None) -> dict[str, Any]:
    out = {"load_msgs_per_s": a.load, "per_partition_msgs_per_s": a.per_partition,
           "producer_per_partition_msgs_per_s": a.producer_per_partition,
           "consumer_per_partition_msgs_per_s": a.consumer_per_partition, "members": a.members,
           "derived": a.derived, "rule_max_T_over_p_c": a.rule_throughput}
    if brokers is not None:
        out |= {"recommended": a.for_brokers(brokers), "rule_brokers": a.rule_brokers(brokers),
                "explanation": a.explain(brokers)}
    return out


class _Runs:
    """Simulations through one executor, cached, counted and bounded."""

    def __init__(self, executor: Any, cache: ResultCache | None, limit: int,
                 progress: ProgressCallback | None) -> None:
        self.executor = executor
        self.cache = cache
        self.limit = limit
        self.done = 0  # runs asked for (a repeated scenario -- a what-if equal to a survive case -- runs once)
        self.progress = progress
        self.seen: dict[str, dict[str, Any]] = {}

    @property
    def left(self) -> int:
        return self.limit - self.done

    def run(self, scenarios: Mapping[str, Scenario], stage: str) -> dict[str, dict[str, Any]]:
        """Every scenario's :func:`evaluate_point` row, by its name."""
        keys = {name: "plan:" + point_key(s) for name, s in scenarios.items()}
        rows: dict[str, dict[str, Any]] = {}
        todo: dict[int, str] = {}
        names = list(scenarios)
        for i, name in enumerate(names):
            found = self.seen.get(keys[name])
            if found is None and self.cache is not None:
                found = self.cache.get(keys[name])
            if found is not None:
                rows[name] = found
            else:
                todo[i] = scenarios[name].model_dump_json(by_alias=True)
        # the budget counts runs asked for, found or not: a resumed plan decides as the first did
        self.done += len(scenarios)
        if self.progress is not None:
            self.progress(stage, len(rows), len(scenarios))
        for i, row in self.executor.map(evaluate_point, todo):
            rows[names[i]] = row
            self.seen[keys[names[i]]] = row
            if self.cache is not None:
                self.cache.put(keys[names[i]], row)
            if self.progress is not None:
                self.progress(stage, len(rows), len(scenarios))
        return rows


def _offers(catalogue: Catalogue, spec: PlanSpec, notes: list[str]) -> list[Offer]:
    offers = []
    for name in spec.instance_types or catalogue.names:
        offer = catalogue.offer(name)  # CatalogueError naming close names
        try:
            hardware_fields(offer.instance)
        except ValueError as exc:
            notes.append(f"{name} left out: {exc}")
            continue
        offers.append(offer)
    if not offers:
        raise PlanError("no instance type can run a broker: " + "; ".join(notes))
    return offers


def _failure(scenario: Scenario, domain: str) -> tuple[str, tuple[int, ...]]:
    """The broker (or rack) whose loss hurts most -- the one leading the most partitions,
    the lowest id (first rack) on a tie -- as (case name, offline broker ids)."""
    leaders = initial_topology(scenario).leader_counts()
    if domain == "rack" and scenario.cluster.rack_names:
        racks = scenario.cluster.rack_names
        by_rack = {r: [b.id for b in scenario.cluster.brokers if b.rack == r] for r in racks}
        rack = max(racks, key=lambda r: (sum(leaders.get(b, 0) for b in by_rack[r]), -racks.index(r)))
        return f"lose rack {rack}", tuple(by_rack[rack])
    ids = [b.id for b in scenario.cluster.brokers]
    broker = max(ids, key=lambda b: (leaders.get(b, 0), -b))
    return f"lose broker {broker}", (broker,)


def _supports_offline() -> bool:
    from simkafka.scenario.cluster import Cluster

    return "offline_brokers" in Cluster.model_fields


def plan(
    scenario: Scenario,
    *,
    catalogue: Catalogue | None = None,
    engine: str = "stepped",
    samples: int = 0,
    executor: str = "inprocess",
    workers: int | None = None,
    scheduler: str | None = None,
    cache: Path | str | None = None,
    progress: ProgressCallback | None = None,
    what_ifs: bool = True,
) -> Plan:
    """Search ``scenario.plan`` (``plan: {}`` when absent) for the cheapest cluster that meets
    ``scenario.targets``. Raises :class:`PlanError` or a ``CatalogueError`` for input no
    search can use; a search that finds nothing returns a :class:`Plan` whose ``reason``
    says why. ``what_ifs=False`` leaves out the recommendation's what-ifs (four more runs
    that the search does not need): a classroom's plan that must answer in seconds."""
    if engine not in ENGINES:
        raise PlanError(f"engine is one of {', '.join(ENGINES)} (got {engine!r})")
    spec = scenario.plan or PlanSpec()
    notes: list[str] = []
    offers = _offers(catalogue or shipped_catalogue(), spec, notes)
    base = grow(scenario, spec.growth)
    for i, p in enumerate(scenario.producers):
        if p.profile.type not in ("constant", "poisson") and not p.rate.is_max:
            notes.append(f"producer {p.name or f'{p.topic}[{i}]'} planned at its {p.profile.type} profile's peak, "
                         f"{planned_peak(p.profile, scenario.run.duration):g}x its rate {p.rate}, held constant")
    required = offered_throughput(base)
    survive = spec.survive or (scenario.targets.durability.domain if scenario.targets.durability else "none")
    if survive != "none" and not _supports_offline():
        notes.append(f"survive: {survive} is not simulated: this build cannot start a run with brokers offline")
        survive = "none"
    if survive == "rack" and not scenario.cluster.rack_names:
        notes.append("survive: rack on a cluster without racks: each broker is its own failure domain")
        survive = "broker"
    zones = max(1, len(scenario.cluster.rack_names))
    store = ResultCache(cache) if cache is not None else None
    with open_executor(executor, workers, scheduler) as running:
        runs = _Runs(running, store, spec.max_simulations, progress)
        advice = _partition_advice(base, spec, offers, runs, "flow" if engine == "flow" else "stepped")
        candidates, skipped = _enumerate(base, spec, offers, advice, required, zones)
        if skipped:
            notes.append(f"{skipped} combination(s) the scenario's checks refuse (e.g. RF above the broker count) "
                         "were not candidates")
        result = Plan(base, spec, engine, survive, required, tuple(candidates), {}, None, "", advice,
                      samples=samples, notes=notes, offers={o.instance.name: o for o in offers})
        _search(result, runs)
        if result.recommendation is not None:
            if what_ifs:
                _what_ifs(result, runs)
            if samples > 0:
                _monte_carlo(result, scenario, runs, samples)
        result.simulations = runs.done
    return result


def _partition_advice(base: Scenario, spec: PlanSpec, offers: list[Offer], runs: _Runs,
                      engine: str) -> dict[str, PartitionAdvice]:
    auto = [t.name for t in base.topics if spec.partitions.get(t.name, AUTO) == AUTO]
    if not auto:
        return {}
    # the largest network: the partition's own limits show, not the machine's
    offer = max(offers, key=lambda o: (o.instance.network.baseline, o.instance.vcpu, o.instance.name))
    probes = {t: probe_scenario(base, t, spec, offer, engine=engine) for t in auto}
    rows = runs.run(probes, "measuring one partition")
    load = {t.name: 0.0 for t in base.topics}
    for p in base.producers:
        if not p.rate.is_max:
            load[p.topic] += p.rate.messages(p.message_size.mean)
    target = base.targets.produce_throughput
    if target is not None and target.messages_per_second is not None and len(base.topics) == 1:
        load[base.topics[0].name] = max(load[base.topics[0].name], target.messages_per_second)
    return {t: advise(base, t, spec, rows[t], load=load[t]) for t in auto}


def _enumerate(base: Scenario, spec: PlanSpec, offers: list[Offer], advice: dict[str, PartitionAdvice],
               required: float, zones: int) -> tuple[list[Candidate], int]:
    rfs: tuple[int | None, ...] = spec.replication_factor or (None,)
    isrs: tuple[int | None, ...] = spec.min_insync_replicas or (None,)
    out: list[Candidate] = []
    skipped = 0
    for offer in offers:
        for brokers in spec.brokers:
            choices = []
            for t in base.topics:
                chosen = spec.partitions.get(t.name, AUTO)
                choices.append((advice[t.name].for_brokers(brokers),) if chosen == AUTO else chosen)
            for rf, isr in itertools.product(rfs, isrs):
                if rf is not None and isr is not None and isr > rf:
                    continue
                for counts in itertools.product(*choices):
                    partitions = {t.name: n for t, n in zip(base.topics, counts, strict=True)}
                    try:
                        sc = candidate_scenario(base, spec, offer, brokers, partitions, rf, isr)
                    except CandidateError:
                        skipped += 1
                        continue
                    out.append(candidate(sc, spec, offer, required=required, zones=zones))
    out.sort(key=lambda c: (round(c.monthly_usd, 6), c.brokers, c.key))
    return out, skipped


def _scenario_of(result: Plan, c: Candidate, *, base: Scenario | None = None, engine: str | None = None,
                 offline: tuple[int, ...] = ()) -> Scenario:
    """The candidate's scenario: at the planned load, or on ``base`` (a what-if load, a
    Monte Carlo draw), on ``engine`` (the plan's ranking engine unless told), with
    ``offline`` brokers down."""
    offer = result.offers[c.instance]
    return candidate_scenario(base or result.scenario, result.spec, offer, c.brokers, dict(c.partitions),
                              c.replication_factor, c.min_insync_replicas, offline_brokers=offline,
                              engine=engine or result.ranking_engine)


def _search(result: Plan, runs: _Runs) -> None:
    spec = result.spec
    feasible = [c for c in result.candidates if c.bound_ok]
    if not result.candidates:
        result.reason = "no candidate: every combination of the plan was refused by the scenario's checks"
        return
    if not feasible:
        cheapest = result.candidates[0]
        clients = [r.resource for r in cheapest.ideal.binding if r.resource.startswith(CLIENT_RESOURCES)]
        if clients and all(
            any(r.resource.startswith(CLIENT_RESOURCES) for r in c.ideal.binding) for c in result.candidates
        ):
            # a client's own threads cap the load whatever the cluster: no broker count helps
            result.reason = (f"the clients, not the cluster, cannot carry the load: {cheapest.pruned_because}; "
                             "add producer instances or consumer group members (or cut their per-record cost)")
        else:
            result.reason = ("the bounds rule out every candidate: even the largest cannot take the load "
                             f"with {spec.headroom:.0%} headroom (e.g. {cheapest.key}: {cheapest.pruned_because})")
        return
    position = 0
    while position < len(feasible):
        if runs.left <= 0:
            result.reason = (f"no candidate met the targets within {spec.max_simulations} simulations "
                             "(plan.max_simulations); the cheapest ones tried are listed with what they missed")
            return
        batch = feasible[position:position + min(BATCH, runs.left)]
        position += len(batch)
        planned = {c.key: _scenario_of(result, c) for c in batch}
        rows = runs.run(planned, "simulating candidates")
        for c in batch:
            sc = planned[c.key]
            result.cases[c.key] = [Case("as planned", result.ranking_engine, rows[c.key],
                                        check_targets(rows[c.key], sc, spec.ceiling))]
        if result.survive != "none":
            # the failure case of the passing ones, cheapest first, a few at a time: the
            # first that survives is the answer, so the dearer ones need not run
            passing = [c for c in batch if result.cases[c.key][0].met]
            for start in range(0, len(passing), SURVIVE_BATCH):
                chunk = passing[start:start + SURVIVE_BATCH]
                failures = {c.key: _failure(planned[c.key], result.survive) for c in chunk}
                survive_scenarios = {c.key: _scenario_of(result, c, offline=failures[c.key][1]) for c in chunk}
                rows = runs.run(survive_scenarios, f"simulating the loss of a {result.survive}")
                for c in chunk:
                    sc = survive_scenarios[c.key]
                    result.cases[c.key].append(Case(failures[c.key][0], result.ranking_engine, rows[c.key],
                                                    check_targets(rows[c.key], sc, spec.ceiling)))
                if any(all(k.met for k in result.cases[c.key]) for c in chunk):
                    break
        for c in batch:
            if not all(k.met for k in result.cases[c.key]):
                continue
            confirming = result.confirming_engine
            if confirming is not None:
                sc = _scenario_of(result, c, engine=confirming)
                row = runs.run({c.key: sc}, f"confirming with the {confirming} engine")[c.key]
                case = Case("as planned", confirming, row, check_targets(row, sc, spec.ceiling))
                result.cases[c.key].append(case)
                if not case.met:
                    continue
            result.recommendation = c
            result.reason = "the cheapest candidate whose simulation meets every target with the headroom"
            return
    result.reason = "every candidate the bounds allow was simulated and each missed a target"


def _what_ifs(result: Plan, runs: _Runs) -> None:
    rec = result.recommendation
    assert rec is not None
    spec = result.spec
    sc = _scenario_of(result, rec)
    scenarios: dict[str, Scenario] = {}
    if _supports_offline():
        name, offline = _failure(sc, "broker")
        scenarios[name] = _scenario_of(result, rec, offline=offline)
        if len(sc.cluster.rack_names) > 1:
            name, offline = _failure(sc, "rack")
            if len(offline) < len(sc.cluster.brokers):
                scenarios[name] = _scenario_of(result, rec, offline=offline)
    else:
        result.notes.append("what-ifs losing a broker or a rack need runs with brokers offline; not in this build")
    for factor in WHAT_IF_LOADS:
        scenarios[f"load x{factor:g}"] = _scenario_of(result, rec, base=grow(result.scenario, factor))
    runs.limit = runs.done + len(scenarios)  # what-ifs are not part of the search budget
    rows = runs.run(scenarios, "what-ifs")
    result.what_ifs = tuple(Case(name, result.ranking_engine, rows[name], check_targets(rows[name], s, spec.ceiling))
                            for name, s in scenarios.items())


def _monte_carlo(result: Plan, scenario: Scenario, runs: _Runs, samples: int) -> None:
    from simkafka.analysis.uncertainty import MissProbability, draw_scenarios

    rec = result.recommendation
    assert rec is not None
    spec = result.spec
    pricier = [c for c in result.candidates if c.bound_ok and c.monthly_usd > rec.monthly_usd]
    finalists = [rec, *pricier[:FINALISTS - 1]]
    draws = [grow(s, spec.growth) for s in draw_scenarios(scenario, samples, scenario.seed)]
    for c in finalists:
        scenarios = {f"sample {i}": _scenario_of(result, c, base=d) for i, d in enumerate(draws)}
        runs.limit = runs.done + len(scenarios)
        rows = runs.run(scenarios, f"Monte Carlo: {c.key}")
        misses: dict[str, int] = {}
        missed_any = 0
        for name, s in scenarios.items():
            checks = check_targets(rows[name], s, spec.ceiling)
            for check in checks:
                target = check.target.split(" (")[0]
                misses[target] = misses.get(target, 0) + (0 if check.met else 1)
            missed_any += not all(k.met for k in checks)
        misses["any target"] = missed_any
        result.uncertainty[c.key] = tuple(MissProbability.of(target, n, samples) for target, n in misses.items())

