"""The whole scenario: cluster, topics, workload, faults, run settings and targets."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from simkafka.scenario.base import SpecModel
from simkafka.scenario.cluster import Cluster
from simkafka.scenario.costs import CostProfile, default_costs
from simkafka.scenario.faults import Fault
from simkafka.scenario.limits import INT64_MAX, MAX_BROKERS
from simkafka.scenario.plan import PlanSpec
from simkafka.scenario.quantities import Duration, PositiveDuration, out_of_range
from simkafka.scenario.topic import Topic
from simkafka.scenario.workload import ConsumerGroupSpec, ProducerSpec, RateField
from simkafka.units import format_duration

MAX_NAME_LENGTH = 249  # as Kafka's topic names
SCENARIO_NAME = re.compile(rf"^[A-Za-z0-9._-]{{1,{MAX_NAME_LENGTH}}}$")


def _suggest_name(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:MAX_NAME_LENGTH]
    return slug or "my-scenario"


MAX_STEP = 1.0  # seconds: a coarser step no longer resolves a produce round trip


def _at_most_a_second(step: float) -> float:
    if step > MAX_STEP:
        raise out_of_range(f"the stepped engine's step is at most {format_duration(MAX_STEP)}",
                           "allowed range: > 0 s, <= 1 s; a step near the produce latency blurs it (see check's warning)")
    return step


_Step = Annotated[PositiveDuration, AfterValidator(_at_most_a_second)]


class RunSpec(SpecModel):
    duration: PositiveDuration = 600.0
    warmup: Duration = Field(0.0, description="excluded from the summary statistics")
    seed: int = Field(1, ge=0, le=INT64_MAX, description="drives every random choice through named streams")
    sample_interval: PositiveDuration = Field(1.0, description="time-series resolution")
    engine: Literal["events", "stepped", "flow"] = Field(
        "events",
        description="events: every request is an event (the reference); stepped: message counts "
        "advance over arrays once per `step` (fast, for sizing); flow: rates solved at every "
        "change, queues linear in between (hours and days in seconds)",
    )
    step: _Step = Field(0.001, description="time step of the stepped engine (at most 1s)")

    @model_validator(mode="after")
    def _warmup_inside(self) -> RunSpec:
        if self.warmup >= self.duration:
            raise ValueError(
                f"warmup ({format_duration(self.warmup)}) must be shorter than the duration "
                f"({format_duration(self.duration)})"
            )
        return self


class Durability(SpecModel):
    """Survive ``failures`` simultaneous losses of a ``domain`` with no acknowledged data lost."""

    failures: int = Field(1, ge=0, le=MAX_BROKERS)
    domain: Literal["broker", "rack"] = "broker"


class Targets(SpecModel):
    """What the cluster must deliver; every field is optional."""

    produce_throughput: RateField | None = None
    p99_produce_latency: PositiveDuration | None = None
    p99_e2e_latency: PositiveDuration | None = None
    max_consumer_lag: int | None = Field(None, ge=0, le=INT64_MAX, description="messages")
    durability: Durability | None = None


class Scenario(SpecModel):
    """A validated, immutable scenario. Load it with :func:`simkafka.load_scenario`."""

    name: str = Field(description="letters, digits, '.', '_' and '-' (it names the report directory)")
    description: str = ""
    cluster: Cluster
    topics: tuple[Topic, ...] = Field(min_length=1)
    producers: tuple[ProducerSpec, ...] = ()
    consumer_groups: tuple[ConsumerGroupSpec, ...] = ()
    faults: tuple[Fault, ...] = ()
    run: RunSpec = RunSpec()
    targets: Targets = Targets()
    plan: PlanSpec | None = Field(None, description="the capacity planner's search space (simkafka plan)")
    costs: CostProfile = Field(
        default_factory=default_costs,
        description="CPU and time costs (simkafka calibrate); only the changed ones need writing",
    )

    @field_validator("name")
    @classmethod
    def _name_is_a_file_name(cls, name: str) -> str:
        # the report writer uses the name as a directory: `../x` or `a/b` must not escape
        # reports/ or nest folders, so names follow Kafka's topic-name rule
        if name in (".", "..") or not SCENARIO_NAME.match(name):
            raise out_of_range(
                "a scenario name uses only ASCII letters, digits, '.', '_' and '-' (at most "
                f"{MAX_NAME_LENGTH} characters, not '.' or '..'): it names the report directory",
                f"e.g. {_suggest_name(name)!r}",
            )
        return name

    @property
    def seed(self) -> int:
        return self.run.seed

    def topic(self, name: str) -> Topic:
        for t in self.topics:
            if t.name == name:
                return t
        raise KeyError(f"no topic named {name!r}")

    def with_run(self, **changes: object) -> Scenario:
        """This scenario with some ``run`` settings replaced (by field name), unvalidated:
        for code that sets them itself (benchmarks, tests); a person's overrides go through
        validation (``simkafka run``'s options)."""
        return self.model_copy(update={"run": self.run.model_copy(update=changes)})

    def __repr__(self) -> str:
        racks = self.cluster.rack_names
        where = f" in {len(racks)} racks" if racks else ""
        parts = sum(t.partitions for t in self.topics)
        return (
            f"<Scenario {self.name!r}: {len(self.cluster.brokers)} brokers{where} ({self.cluster.controller}), "
            f"{len(self.topics)} topic(s) / {parts} partitions, {len(self.producers)} producer group(s), "
            f"{len(self.consumer_groups)} consumer group(s), {len(self.faults)} fault(s), "
            f"{format_duration(self.run.duration)} seed={self.seed}>"
        )

    __str__ = __repr__
