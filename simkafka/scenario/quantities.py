"""Pydantic field types for quantities with units, each with its bounds.

Each type accepts what a person writes (``250ms``, ``64KiB``, ``10Gbps``) or a bare number
in the unit the Kafka config name implies (``linger.ms: 5`` is five milliseconds), stores
base units (seconds, bytes, bytes/s), refuses what no such quantity can be (negative,
NaN, infinite, beyond the 32- or 64-bit integer Kafka stores the setting in) and
serialises back to what a person would write, so ``simkafka check --resolved`` prints a
scenario that loads to the same object. Bounds live here rather than in ``Field(gt=...)``
so that messages and the JSON Schema state them in the unit the key takes (``linger.ms``
in milliseconds), not in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

from simkafka.scenario.limits import INT32_MAX, INT64_MAX
from simkafka.units import (
    UnitError,
    format_duration,
    parse_byte_rate,
    parse_bytes,
    parse_duration,
    write_byte_rate,
    write_bytes,
    write_duration,
)

IntKind = Literal["int", "long"]
_UNIT_NAME = {"ms": "milliseconds", "s": "seconds"}
_KAFKA_MAX = {"int": INT32_MAX, "long": INT64_MAX}
_KAFKA_TYPE = {"int": "a 32-bit int", "long": "a 64-bit long"}

_DURATION_PATTERN = r"^\s*[0-9.eE+]+\s*(ns|us|µs|ms|s|sec|m|min|h|d|w)?\s*$"
_SIZE_PATTERN = r"^\s*[0-9.eE+]+\s*([kKMGTP]i?)?(B|b|bytes?|bits?)?\s*$"
_RATE_PATTERN = r"^\s*[0-9.eE+]+\s*([kKMGTP]i?)?(B|b|bytes?|bits?)\s*(/\s*s(ec)?|ps)\s*$"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parsed(parse: Callable[[object], Any], value: object) -> Any:
    try:
        return parse(value)
    except UnitError as exc:
        raise ValueError(str(exc)) from None


def _number_schema(kind: str, positive: bool, maximum: float | None) -> dict:
    schema: dict[str, Any] = {"type": kind}
    schema["exclusiveMinimum" if positive else "minimum"] = 0
    if maximum is not None:
        schema["maximum"] = maximum
    return schema


def out_of_range(message: str, hint: str) -> PydanticCustomError:
    """A validation error whose hint (the allowed range, in the key's unit) the loader shows."""
    return PydanticCustomError("out_of_range", message, {"hint": hint})


def _check_low(amount: float, positive: bool, unit: str) -> None:
    if amount < 0:
        raise out_of_range("must not be negative", f"allowed range: {'>' if positive else '>='} 0 {unit}".rstrip())
    if positive and amount == 0:
        raise out_of_range("must be greater than 0", f"allowed range: > 0 {unit}".rstrip())


# ---- durations -------------------------------------------------------------------------


def duration_type(*, bare_unit: Literal["s", "ms"] = "s", positive: bool = False,
                  kafka: IntKind | None = None, unlimited: bool = False) -> Any:
    """A duration stored in seconds.

    ``bare_unit``: what a bare number means (Kafka's ``*.ms`` keys: ms). ``kafka``: the
    Java type Kafka stores it in, bounding it in ``bare_unit``. ``unlimited``: ``-1``
    means no limit (stored as ``math.inf``), as ``retention.ms``. ``*.ms`` settings print
    back as a number of milliseconds, others as text (``250ms``).
    """
    per_second = 1000.0 if bare_unit == "ms" else 1.0
    most = None if kafka is None else _KAFKA_MAX[kafka] / per_second

    def validate(value: object) -> float:
        if unlimited and _is_number(value) and value < 0:
            if value != -1:
                raise ValueError(f"expected a duration, or -1 for unlimited, got {value!r}")
            return math.inf
        seconds = _parsed(lambda v: parse_duration(v, bare_unit=bare_unit), value)
        _check_low(seconds, positive, bare_unit)
        if kafka is not None and seconds > most:  # type: ignore[operator]
            raise out_of_range(f"Kafka stores this setting as {_KAFKA_TYPE[kafka]} of {_UNIT_NAME[bare_unit]}",
                               f"allowed range: <= {_KAFKA_MAX[kafka]} {bare_unit} ({format_duration(most)})")  # type: ignore[arg-type]
        return seconds

    def serialise(seconds: float) -> int | float | str:
        if math.isinf(seconds):
            return -1
        if bare_unit == "s":
            return write_duration(seconds)
        ms = seconds * 1000.0
        if kafka == "long" and ms >= INT64_MAX:
            return INT64_MAX  # Long.MAX_VALUE, Kafka's "never" (flush.ms): not 9.2e+18
        if ms / 1000.0 != seconds:  # not exact as a number of ms: write it with a unit
            return write_duration(seconds)
        return int(ms) if ms.is_integer() and abs(ms) < 2**53 else ms

    number = _number_schema("number", positive, None if kafka is None else _KAFKA_MAX[kafka])
    schema: dict[str, Any] = {"anyOf": [number, {"type": "string", "pattern": _DURATION_PATTERN}]}
    if unlimited:
        schema["anyOf"].insert(0, {"const": -1})
    return Annotated[
        float,
        Field(allow_inf_nan=unlimited),  # on the float itself, before the validator wraps it
        BeforeValidator(validate),
        PlainSerializer(serialise, when_used="json"),
        WithJsonSchema(schema),
    ]


#: A duration written in seconds when bare (``warmup: 30``) -> float seconds.
Duration = duration_type()
#: A duration that must be above zero.
PositiveDuration = duration_type(positive=True)
#: A Kafka ``*.ms`` setting of Java type long: bare numbers are milliseconds.
Millis = duration_type(bare_unit="ms", kafka="long")
PositiveMillis = duration_type(bare_unit="ms", kafka="long", positive=True)
#: A Kafka ``*.ms`` setting of Java type int (at most 2147483647 ms).
IntMillis = duration_type(bare_unit="ms", kafka="int")
PositiveIntMillis = duration_type(bare_unit="ms", kafka="int", positive=True)
#: Like :data:`Millis` but ``-1`` means unlimited (``math.inf``).
MillisOrUnlimited = duration_type(bare_unit="ms", kafka="long", unlimited=True)


# ---- sizes -----------------------------------------------------------------------------


def size_type(*, kafka: IntKind = "long", positive: bool = False, least: int = 0,
              unlimited: bool = False, as_text: bool = False) -> Any:
    """A size stored in bytes: ``64KiB``, ``1GB`` or a bare number of bytes.

    ``kafka``: the Java type bounding it. ``least``: Kafka's ``atLeast``. ``unlimited``:
    ``-1`` means no limit (``math.inf``), as ``retention.bytes``. Kafka's byte settings
    print back as a number of bytes (as in a .properties file); others as text (``16GiB``).
    """
    most = _KAFKA_MAX[kafka]

    def validate(value: object) -> int | float:
        if unlimited and _is_number(value) and value < 0:
            if value != -1:
                raise ValueError(f"expected a size, or -1 for unlimited, got {value!r}")
            return math.inf
        n = _parsed(parse_bytes, value)
        _check_low(n, positive, "bytes")
        if n < least:
            raise out_of_range(f"must be at least {least} bytes", f"allowed range: >= {least} bytes")
        if n > most:
            raise out_of_range(f"Kafka stores this setting as {_KAFKA_TYPE[kafka]} of bytes",
                               f"allowed range: <= {most} bytes ({write_bytes(most + 1)} - 1)")
        return n

    def serialise(n: int | float) -> int | str:
        if math.isinf(n):
            return -1
        return write_bytes(int(n)) if as_text else int(n)

    number = _number_schema("integer", positive, most)
    if least:
        number = {"type": "integer", "minimum": least, "maximum": most}
    schema: dict[str, Any] = {"anyOf": [number, {"type": "string", "pattern": _SIZE_PATTERN}]}
    if unlimited:
        schema["anyOf"].insert(0, {"const": -1})
    if not unlimited:
        return Annotated[int, BeforeValidator(validate), PlainSerializer(serialise, when_used="json"), WithJsonSchema(schema)]
    return Annotated[
        float,
        Field(allow_inf_nan=True),  # math.inf stands for -1, unlimited
        BeforeValidator(validate),
        PlainSerializer(serialise, when_used="json"),
        WithJsonSchema(schema),
    ]


#: A Kafka byte setting of Java type long (``buffer.memory``).
ByteSize = size_type()
#: A Kafka byte setting of Java type int (``batch.size``, ``message.max.bytes`` ...).
IntByteSize = size_type(kafka="int")
#: ``retention.bytes``: ``-1`` means unlimited (``math.inf``).
ByteSizeOrUnlimited = size_type(unlimited=True)
#: A size that is not a Kafka setting (page cache, message sizes), printed with a unit.
DataSize = size_type(as_text=True)
PositiveDataSize = size_type(as_text=True, positive=True)


# ---- bandwidths ------------------------------------------------------------------------


def bandwidth_type(*, bits: bool = False) -> Any:
    """A hardware bandwidth in bytes/s, written with its unit: ``10Gbps``, ``500MB/s``.

    A bare number is refused: ``nic: 100`` would be 100 bytes/s, a thousandth of a dial-up
    line, and is far more likely a forgotten ``Gbps``. Must be above zero. NIC speeds
    (``bits``) print back in bits per second, as vendors quote them.
    """

    def validate(value: object) -> float:
        if _is_number(value):
            raise out_of_range("a bandwidth needs a unit (a bare number would be bytes/s)",
                               f"write {value!r}MB/s, or {value!r}Gbps for a NIC")
        rate = _parsed(parse_byte_rate, value)
        _check_low(rate, True, "")
        return rate

    return Annotated[
        float,
        Field(allow_inf_nan=False),
        BeforeValidator(validate),
        PlainSerializer(lambda rate: write_byte_rate(rate, bits=bits), when_used="json"),
        WithJsonSchema({"type": "string", "pattern": _RATE_PATTERN,
                        "description": "with a unit, e.g. 10Gbps, 100MB/s, 1.5GiB/s"}),
    ]


#: A NIC's bandwidth (per direction), e.g. ``10Gbps``.
NicBandwidth = bandwidth_type(bits=True)
#: A disk's bandwidth, e.g. ``500MB/s``.
DiskBandwidth = bandwidth_type()
