"""The whole scenario: cluster, topics, workload, faults, run settings and targets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from simkafka.scenario.base import SpecModel
from simkafka.scenario.cluster import Cluster
from simkafka.scenario.faults import Fault
from simkafka.scenario.quantities import Duration
from simkafka.scenario.topic import Topic
from simkafka.scenario.workload import ConsumerGroupSpec, ProducerSpec, RateField
from simkafka.units import format_duration


class RunSpec(SpecModel):
    duration: Duration = Field(600.0, gt=0)
    warmup: Duration = Field(0.0, ge=0, description="excluded from the summary statistics")
    seed: int = Field(1, ge=0, description="drives every random choice through named streams")
    sample_interval: Duration = Field(1.0, gt=0, description="time-series resolution")
    engine: Literal["events", "stepped"] = Field(
        "events",
        description="events: every request is an event (the reference); stepped: message counts "
        "advance over arrays once per `step` (fast, for sizing)",
    )
    step: Duration = Field(0.001, gt=0, le=1.0, description="time step of the stepped engine")

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

    failures: int = Field(1, ge=0)
    domain: Literal["broker", "rack"] = "broker"


class Targets(SpecModel):
    """What the cluster must deliver; every field is optional."""

    produce_throughput: RateField | None = None
    p99_produce_latency: Duration | None = Field(None, gt=0)
    p99_e2e_latency: Duration | None = Field(None, gt=0)
    max_consumer_lag: int | None = Field(None, ge=0, description="messages")
    durability: Durability | None = None


class Scenario(SpecModel):
    """A validated, immutable scenario. Load it with :func:`simkafka.load_scenario`."""

    name: str = Field(min_length=1)
    description: str = ""
    cluster: Cluster
    topics: tuple[Topic, ...] = Field(min_length=1)
    producers: tuple[ProducerSpec, ...] = ()
    consumer_groups: tuple[ConsumerGroupSpec, ...] = ()
    faults: tuple[Fault, ...] = ()
    run: RunSpec = RunSpec()
    targets: Targets = Targets()

    @property
    def seed(self) -> int:
        return self.run.seed

    def topic(self, name: str) -> Topic:
        for t in self.topics:
            if t.name == name:
                return t
        raise KeyError(f"no topic named {name!r}")

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
