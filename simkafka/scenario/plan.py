"""The ``plan:`` block: the capacity planner's search space and rules.

Every field has a default, so ``plan: {}`` asks "the cheapest cluster of any catalogue
instance type, 3 to 24 brokers, partitions derived, each topic's own replication factor
and ``min.insync.replicas``, 30 % headroom on every resource". The instance type names are
checked against the catalogue by the planner (the catalogue lives in ``simkafka.analysis``,
which this layer must not import).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from simkafka.scenario.base import SpecModel, split_csv
from simkafka.scenario.limits import MAX_BROKERS
from simkafka.scenario.quantities import Duration, PositiveDuration, out_of_range

__all__ = ["AUTO", "PlanSpec", "parse_int_choices"]

AUTO = "auto"
_RANGE = re.compile(r"^\s*(\d+)\s*\.\.\s*(\d+)\s*$")
# a candidate list longer than this is a typo (1..100000), not a search space
MAX_CHOICES = 10_000


def parse_int_choices(value: object, what: str, *, least: int = 1, most: int | None = None) -> tuple[int, ...]:
    """``3``, ``"3..24"`` (inclusive), ``[3, 6, 12]`` or ``"3, 6, 12"`` -> the integers, in
    increasing order without repeats; a clear error for an empty range or a bad value."""
    if isinstance(value, bool):
        raise ValueError(f"{what}: expected a number, a range a..b or a list, got {value!r}")
    if isinstance(value, int):
        values: list[int] = [value]
    elif isinstance(value, str) and _RANGE.match(value):
        match = _RANGE.match(value)
        assert match is not None
        low, high = int(match.group(1)), int(match.group(2))
        if low > high:
            raise out_of_range(f"{what}: the range {low}..{high} is empty", "a..b needs a <= b")
        if high - low + 1 > MAX_CHOICES:
            raise out_of_range(f"{what}: the range has {high - low + 1:,} values", f"at most {MAX_CHOICES:,}")
        values = list(range(low, high + 1))
    elif isinstance(value, str) and ".." in value:
        raise ValueError(f"{what}: a range is a..b with two whole numbers, e.g. 3..24 (got {value!r})")
    else:
        items = split_csv(value) if isinstance(value, str) else value
        if not isinstance(items, (list, tuple)) or not items:
            raise ValueError(f"{what}: expected a number, a range a..b or a non-empty list, got {value!r}")
        values = []
        for item in items:
            if isinstance(item, str) and item.strip().isdigit():
                item = int(item.strip())
            if isinstance(item, bool) or not isinstance(item, int):
                raise ValueError(f"{what}: {item!r} is not a whole number")
            values.append(item)
    for v in values:
        if v < least or (most is not None and v > most):
            allowed = f"{least}..{most}" if most is not None else f">= {least}"
            raise out_of_range(f"{what}: {v} is out of range", f"allowed: {allowed}")
    return tuple(sorted(set(values)))


def _choices(what: str, *, least: int = 1, most: int | None = None):
    def parse(value: object) -> object:
        if value is None:
            return None
        return parse_int_choices(value, what, least=least, most=most)

    return parse


def _write_choices(values: tuple[int, ...] | None) -> object:
    if values is None:
        return None
    if len(values) > 2 and values == tuple(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return list(values)


def _fraction(value: object) -> object:
    """``30%`` or ``0.3``."""
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(f"expected a percentage such as 30% or a fraction such as 0.3, got {value!r}") from None
    return value


def _multiple(value: object) -> object:
    """``2x``, ``1.5x`` or a bare number."""
    if isinstance(value, str):
        text = value.strip().lower()
        try:
            return float(text[:-1]) if text.endswith(("x", "×")) else float(text)
        except ValueError:
            raise ValueError(f"expected a multiple of today's load such as 2x, got {value!r}") from None
    return value


_CHOICES_SCHEMA = {"anyOf": [
    {"type": "integer", "minimum": 1},
    {"type": "string", "description": "a range a..b, or a comma list"},
    {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1},
]}
_Brokers = Annotated[
    tuple[int, ...],
    BeforeValidator(_choices("brokers", least=1, most=MAX_BROKERS)),
    PlainSerializer(_write_choices),
    WithJsonSchema(_CHOICES_SCHEMA),
]
_Ints = Annotated[
    tuple[int, ...] | None,
    BeforeValidator(_choices("value", least=1, most=32767)),
    PlainSerializer(_write_choices),
    WithJsonSchema({"anyOf": [*_CHOICES_SCHEMA["anyOf"], {"type": "null"}]}),
]
def _headroom_range(value: float) -> float:
    if not 0.0 <= value < 1.0:
        raise out_of_range(f"headroom is the share of every resource kept free, got {value:.0%}",
                           "allowed range: 0% <= headroom < 100%, e.g. 30%")
    return value


def _growth_range(value: float) -> float:
    if not 0.0 < value <= 1000.0:
        raise out_of_range(f"growth is a multiple of today's load, got {value:g}", "allowed range: > 0x, <= 1000x")
    return value


# bounds checked in validators, not Field(ge=...): the JSON Schema states them as scenario
# quantities do (test_schema), and a message can say "30%"
_Headroom = Annotated[float, BeforeValidator(_fraction), Field(allow_inf_nan=False), AfterValidator(_headroom_range),
                      WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "exclusiveMaximum": 1},
                                                {"type": "string", "description": "a percentage, e.g. 30%"}]})]
_Growth = Annotated[float, BeforeValidator(_multiple), Field(allow_inf_nan=False), AfterValidator(_growth_range),
                    WithJsonSchema({"anyOf": [{"type": "number", "exclusiveMinimum": 0},
                                              {"type": "string", "description": "a multiple, e.g. 2x"}]})]


def _partition_choice(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return AUTO
    return parse_int_choices(value, "partitions", least=1, most=200_000)


_PartitionChoice = Annotated[
    Literal["auto"] | tuple[int, ...],
    BeforeValidator(_partition_choice),
    PlainSerializer(lambda v: v if v == AUTO else _write_choices(v)),
    WithJsonSchema(_CHOICES_SCHEMA),  # "auto" is a string too
]


class PlanSpec(SpecModel):
    """What ``simkafka plan`` may choose and the rules a choice must meet."""

    brokers: _Brokers = Field((*range(3, 25),), description="broker counts to consider: 3..24, a list or one count")
    instance_types: tuple[str, ...] | None = Field(
        None, description="catalogue instance types to consider (default: every one in the catalogue)"
    )
    partitions: dict[str, _PartitionChoice] = Field(
        default_factory=dict,
        description="per topic: auto (derived from per-partition throughput), a count, a list or a..b; "
        "topics not named are auto",
    )
    replication_factor: _Ints = Field(
        None, alias="replication.factor", description="replication factors to consider (default: each topic's own)"
    )
    min_insync_replicas: _Ints = Field(
        None, alias="min.insync.replicas", description="min.insync.replicas to consider (default: each topic's own)"
    )
    headroom: _Headroom = Field(0.3, description="capacity kept free on every resource: 30% means at most 70% busy")
    survive: Literal["none", "broker", "rack"] | None = Field(
        None, description="also meet the targets after losing a broker or a rack (default: targets.durability's domain)"
    )
    retention: Duration | None = Field(
        None, description="how long the data is kept at RF (default: each topic's retention.ms)"
    )
    growth: _Growth = Field(1.0, description="plan for this multiple of today's load, e.g. 2x")
    duration: PositiveDuration = Field(6.0, description="simulated time of each candidate's run")
    warmup: Duration = Field(1.5, description="left out of each candidate's measurements")
    max_simulations: int = Field(48, ge=1, le=10_000, description="simulations the search may run at most")

    @field_validator("instance_types", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        value = split_csv(value)
        if isinstance(value, (list, tuple)) and not value:
            raise ValueError("instance_types is empty: name at least one, or leave it out for the whole catalogue")
        return value

    @model_validator(mode="after")
    def _warmup_inside(self) -> PlanSpec:
        if self.warmup >= self.duration:
            raise ValueError(f"plan warmup ({self.warmup:g}s) must be shorter than its duration ({self.duration:g}s)")
        return self

    @property
    def ceiling(self) -> float:
        """The utilisation a resource may reach: 1 - headroom."""
        return 1.0 - self.headroom
