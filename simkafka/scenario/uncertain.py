"""Uncertain inputs: a distribution over what a producer's rate or message size truly is.

``rate: {normal: 500MB/s, sd: 10%}`` says the rate is not known better than that: in
production it will be *one* value, somewhere in that distribution. This is uncertainty
about a value, not variability from message to message (``message_size: {distribution:
lognormal, mean: 1KiB, stddev: 200}`` is the latter and keeps its meaning). A run uses the
*nominal* value (the mean of a normal or lognormal, the midpoint of a uniform); Monte Carlo
(:mod:`simkafka.analysis.uncertainty`) draws concrete scenarios from the distributions.

The forms, with the distribution's name as the key::

    rate: {normal: 500MB/s, sd: 10%}          # sd: a percentage of the mean ...
    rate: {lognormal: 20000 msg/s, sd: 4000}  # ... or an amount in the mean's unit
    rate: {uniform: [400MB/s, 600MB/s]}       # [low, high]
    message_size: {lognormal: 1KiB, sd: 25%}  # the uncertain mean of a fixed size

A lognormal's ``lognormal:`` and ``sd`` are the mean and standard deviation *of the value*
(not of its logarithm), so that both distributions read the same way.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import ValidationInfo, field_validator, model_serializer, model_validator
from pydantic_core import PydanticCustomError

from simkafka.scenario.base import SpecModel
from simkafka.scenario.limits import INT32_MAX
from simkafka.scenario.quantities import out_of_range
from simkafka.units import (
    UnitError,
    parse_byte_rate,
    parse_bytes,
    parse_message_rate,
    write_byte_rate,
    write_bytes,
    write_message_rate,
)

__all__ = [
    "DISTRIBUTIONS", "Amount", "Spread", "UncertainRate", "UncertainSize", "UncertainValue",
    "check_uncertain_form", "uncertain_json_schema", "written_as_uncertain",
]

DISTRIBUTIONS = ("normal", "lognormal", "uniform")
Distribution = Literal["normal", "lognormal", "uniform"]
#: The unit an amount was written in: messages/s, bytes/s or bytes.
Unit = Literal["msg/s", "B/s", "B"]

_FORM_HINT = ("an uncertain value names its distribution as the key -- normal, lognormal or uniform -- "
              "with an sd for normal and lognormal, e.g. {example}")


@dataclass(frozen=True)
class Amount:
    """A value in base units (``value``) and the kind of unit it was written in."""

    value: float
    unit: Unit

    def __str__(self) -> str:
        return write_amount(self.value, self.unit)


def write_amount(value: float, unit: Unit) -> str:
    """``value`` (base units) as a person writes it in ``unit``, exact enough to read back."""
    if unit == "msg/s":
        return write_message_rate(value)
    if unit == "B/s":
        return write_byte_rate(value)
    return write_bytes(int(value))


@dataclass(frozen=True)
class Spread:
    """A standard deviation as written: a percentage of the mean, or an amount in its unit."""

    percent: float | None = None
    amount: Amount | None = None

    def of(self, mean: float) -> float:
        """The standard deviation in base units for a distribution of this ``mean``."""
        if self.percent is not None:
            return mean * self.percent / 100.0
        return self.amount.value  # type: ignore[union-attr]

    def __str__(self) -> str:
        if self.percent is not None:
            # repr reads back exactly; an integral percentage without its '.0'
            return f"{int(self.percent)}%" if self.percent.is_integer() else f"{self.percent!r}%"
        return str(self.amount)


# ---- the written form -------------------------------------------------------------------


def written_as_uncertain(value: object, own_keys: frozenset[str]) -> bool:
    """Whether ``value`` is written as an uncertain value rather than in a model's own form
    (whose keys are ``own_keys``): a mapping naming a distribution or an ``sd``, or one with
    none of the model's keys (``{gaussian: ...}``, a misspelt distribution)."""
    if not isinstance(value, Mapping) or not value:
        return False
    keys = set(value)
    return bool(keys & {*DISTRIBUTIONS, "sd"}) or not keys & own_keys


def check_uncertain_form(value: Mapping[str, Any], quantity: str, example: str) -> Distribution:
    """The distribution ``value`` names, or the error a person needs: an unknown or a second
    distribution, an unknown key, an ``sd`` missing (normal, lognormal) or given (uniform).
    ``quantity`` (``rate``) and ``example`` word the messages."""
    hint = _FORM_HINT.format(example=example)
    keys = [str(k) for k in value]
    named = [k for k in keys if k in DISTRIBUTIONS]
    if not named:
        others = [k for k in keys if k != "sd"]
        if not others:
            raise out_of_range(f"an uncertain {quantity} names its distribution", hint)
        close = difflib.get_close_matches(others[0], DISTRIBUTIONS, n=1, cutoff=0.5)
        raise out_of_range(f"unknown distribution {others[0]!r} for an uncertain {quantity}",
                           f"did you mean '{close[0]}'? " + hint if close else hint)
    if len(named) > 1:
        raise out_of_range(f"an uncertain {quantity} has one distribution, not {' and '.join(named)}", hint)
    distribution = named[0]
    unknown = [k for k in keys if k not in (distribution, "sd")]
    if unknown:
        raise out_of_range(f"unknown key {unknown[0]!r} in an uncertain {quantity}", hint)
    if distribution == "uniform" and "sd" in value:
        raise out_of_range(f"a uniform {quantity} has no sd: its range [low, high] is its spread",
                           "remove sd, or use normal or lognormal with an sd")
    if distribution != "uniform" and "sd" not in value:
        raise out_of_range(f"a {distribution} {quantity} needs its sd (standard deviation)",
                           "give sd as a percentage of the mean (sd: 10%) or in the mean's unit")
    return distribution  # type: ignore[return-value]


def _positive(amount: float, what: str) -> None:
    if amount <= 0:
        raise out_of_range(f"{what} must be greater than 0", "allowed range: > 0")


def _parse_percent(text: str) -> float:
    number = text.strip()[:-1].strip()
    try:
        percent = float(number)
    except ValueError:
        raise ValueError(f"expected a percentage such as '10%', got {text!r}") from None
    if not math.isfinite(percent):
        raise ValueError(f"expected a finite percentage such as '10%', got {text!r}")
    return percent


# ---- the model --------------------------------------------------------------------------


class UncertainValue(SpecModel):
    """One uncertain value, as written: exactly one of ``normal``, ``lognormal`` (each with
    ``sd``) or ``uniform``. Subclasses say what the amounts are (:meth:`parse_amount`).

    Amounts are held in base units (bytes/s, messages/s, bytes) with the unit they were
    written in, and print back as written, so a dumped scenario validates to the same value.
    """

    quantity: ClassVar[str] = "value"
    example: ClassVar[str] = "{normal: 100, sd: 10%}"

    # the YAML keys themselves, so that errors name the key that is wrong
    normal: Amount | None = None
    lognormal: Amount | None = None
    uniform: tuple[Amount, Amount] | None = None
    sd: Spread | None = None

    @classmethod
    def parse_amount(cls, value: object) -> Amount:
        """One amount as written (``500MB/s``) -> :class:`Amount`; ``ValueError`` if it is not one.
        Each kind of quantity (:class:`UncertainRate`, :class:`UncertainSize`) reads its own."""
        raise TypeError(f"{cls.__name__} is the common base of the uncertain quantities; use UncertainRate "
                        "or UncertainSize, which know how their amounts are written")

    @model_validator(mode="before")
    @classmethod
    def _form(cls, value: object) -> object:
        if isinstance(value, Mapping):
            check_uncertain_form(value, cls.quantity, cls.example)
        return value

    @field_validator("normal", "lognormal", mode="plain")
    @classmethod
    def _mean(cls, value: object) -> Amount:
        amount = cls.parse_amount(value)
        _positive(amount.value, "the mean")
        return amount

    @field_validator("uniform", mode="plain")
    @classmethod
    def _range(cls, value: object) -> tuple[Amount, Amount]:
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ValueError(f"a uniform range is a list of two values, [low, high], got {value!r}")
        low, high = (cls.parse_amount(v) for v in value)
        _positive(low.value, "the low end of the range")
        if low.unit != high.unit:
            raise ValueError(f"both ends of the range in one unit: {low} is in {low.unit}, {high} in {high.unit}")
        if low.value >= high.value:
            raise out_of_range(f"the range [{low}, {high}] is empty: low must be below high",
                               "write [low, high]; for a value known exactly write the value itself")
        return low, high

    @field_validator("sd", mode="plain")
    @classmethod
    def _spread(cls, value: object, info: ValidationInfo) -> Spread:
        if isinstance(value, str) and value.strip().endswith("%"):
            percent = _parse_percent(value)
            _positive(percent, "sd")
            return Spread(percent=percent)
        try:
            amount = cls.parse_amount(value)
        except PydanticCustomError:
            raise
        except ValueError:
            raise ValueError(f"expected sd as a percentage of the mean such as '10%', or an amount in "
                             f"the mean's unit, got {value!r}") from None
        _positive(amount.value, "sd")
        mean = info.data.get("normal") or info.data.get("lognormal")
        if mean is not None and amount.unit != mean.unit:
            raise out_of_range(f"sd is in {amount.unit} but the mean ({mean}) in {mean.unit}",
                               f"write sd in {mean.unit} or as a percentage of the mean, e.g. sd: 10%")
        return Spread(amount=amount)

    @model_serializer(mode="plain")
    def _written(self) -> dict[str, Any]:
        return self.written()

    def written(self) -> dict[str, Any]:
        """The value as a person writes it (``{"normal": "500MB/s", "sd": "10%"}``)."""
        if self.uniform is not None:
            return {"uniform": [str(self.uniform[0]), str(self.uniform[1])]}
        return {self.distribution: str(self._mean_amount), "sd": str(self.sd)}

    # ---- what the value is ---------------------------------------------------------------

    @property
    def distribution(self) -> Distribution:
        if self.uniform is not None:
            return "uniform"
        return "normal" if self.normal is not None else "lognormal"

    @property
    def _mean_amount(self) -> Amount:
        return self.normal or self.lognormal  # type: ignore[return-value]

    @property
    def unit(self) -> Unit:
        """The unit the value is written in (``msg/s``, ``B/s``, ``B``)."""
        return self.uniform[0].unit if self.uniform is not None else self._mean_amount.unit

    @property
    def nominal(self) -> float:
        """The value a plain run uses, in base units: the mean, or a uniform's midpoint."""
        if self.uniform is not None:
            return (self.uniform[0].value + self.uniform[1].value) / 2
        return self._mean_amount.value

    @property
    def mean(self) -> float:
        """The distribution's mean in base units (:attr:`nominal`: the same for all three)."""
        return self.nominal

    @property
    def std(self) -> float:
        """The distribution's standard deviation in base units (a uniform's (high-low)/sqrt(12))."""
        if self.uniform is not None:
            return (self.uniform[1].value - self.uniform[0].value) / math.sqrt(12)
        return self.sd.of(self._mean_amount.value)  # type: ignore[union-attr]

    @property
    def bounds(self) -> tuple[float, float] | None:
        """A uniform's (low, high) in base units; ``None`` for normal and lognormal."""
        return None if self.uniform is None else (self.uniform[0].value, self.uniform[1].value)

    def write(self, value: float) -> str:
        """A concrete ``value`` (base units) written in this value's unit, e.g. for a drawn scenario."""
        return write_amount(value, self.unit)

    def __str__(self) -> str:
        if self.uniform is not None:
            return f"uniform({self.uniform[0]}, {self.uniform[1]})"
        return f"{self.distribution}(mean {self._mean_amount}, sd {self.sd})"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"


class UncertainRate(UncertainValue):
    """An uncertain producer rate, in messages/s (``20000 msg/s``, a bare number) or bytes/s
    (``500MB/s``) -- one of the two throughout."""

    quantity: ClassVar[str] = "rate"
    example: ClassVar[str] = "{normal: 500MB/s, sd: 10%}"

    @classmethod
    def parse_amount(cls, value: object) -> Amount:
        if isinstance(value, str) and value.strip().lower() == "max":
            raise ValueError("'max' is not a value a distribution can take; give a rate such as 500MB/s")
        try:
            return Amount(parse_message_rate(value), "msg/s")
        except UnitError:
            pass
        try:
            return Amount(parse_byte_rate(value), "B/s")
        except UnitError:
            raise ValueError(f"expected a rate such as '10000 msg/s' or '50MB/s', got {value!r}") from None


class UncertainSize(UncertainValue):
    """The uncertain mean of a fixed message size, in bytes (``1KiB``, a bare number)."""

    quantity: ClassVar[str] = "message size"
    example: ClassVar[str] = "{lognormal: 1KiB, sd: 25%}"

    @classmethod
    def parse_amount(cls, value: object) -> Amount:
        try:
            n = parse_bytes(value)
        except UnitError as exc:
            raise ValueError(str(exc)) from None
        if n > INT32_MAX:
            raise out_of_range("a record is at most a 32-bit int of bytes in Kafka's protocol",
                               f"allowed range: <= {INT32_MAX} bytes")
        return Amount(n, "B")


def uncertain_json_schema(amount: dict[str, Any], example: str) -> dict[str, Any]:
    """The JSON Schema of the uncertain form whose amounts follow the schema ``amount``."""
    spread = {"anyOf": [{"type": "string", "pattern": r"^\s*[0-9.eE+]+\s*%\s*$"}, amount],
              "description": "standard deviation: a percentage of the mean (10%) or in the mean's unit"}

    def one(distribution: str, schema: dict[str, Any], with_sd: bool) -> dict[str, Any]:
        properties = {distribution: schema, **({"sd": spread} if with_sd else {})}
        return {"type": "object", "properties": properties, "required": list(properties),
                "additionalProperties": False}

    return {
        "description": f"uncertain, e.g. {example}: a distribution over the true value; a run uses its mean",
        "anyOf": [one("normal", amount, True), one("lognormal", amount, True),
                  one("uniform", {"type": "array", "items": amount, "minItems": 2, "maxItems": 2}, False)],
    }
