"""Pydantic field types for quantities with units.

Each type accepts what a person writes (``250ms``, ``64KiB``, ``10Gbps``) or a bare number
in the unit the Kafka config name implies (``linger.ms: 5`` is five milliseconds), stores
base units (seconds, bytes, bytes/s) and serialises back to what Kafka would accept, so
``simkafka check --resolved`` prints a scenario that loads to the same object.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from simkafka.units import (
    UnitError,
    parse_byte_rate,
    parse_bytes,
    parse_duration,
    parse_message_rate,
)

_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "pattern": r"^\s*[0-9.eE+-]+\s*(ns|us|µs|ms|s|sec|m|min|h|d|w)?\s*$"},
    ]
}
_SIZE_SCHEMA = {
    "anyOf": [
        {"type": "integer", "minimum": 0},
        {"type": "string", "pattern": r"^\s*[0-9.eE+-]+\s*([kKMGTP]i?)?(B|b|bytes?|bits?)?\s*$"},
    ]
}
_RATE_SCHEMA = {
    "anyOf": [
        {"type": "number", "minimum": 0},
        {"type": "string", "description": "e.g. 100MB/s, 1.5GiB/s, 10Gbps"},
    ]
}


def _unit_validator(parse):
    """Wrap a units parser so pydantic reports a UnitError as a plain value error."""

    def validate(value: object):
        try:
            return parse(value)
        except UnitError as exc:
            raise ValueError(str(exc)) from None

    return validate


def _millis(value: object) -> float:
    return parse_duration(value, bare_unit="ms")


def _millis_or_unlimited(value: object) -> float:
    # Kafka uses -1 for "no limit" (retention.ms, retention.bytes)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        if value != -1:
            raise UnitError(f"expected a duration or -1 for unlimited, got {value!r}")
        return math.inf
    return parse_duration(value, bare_unit="ms")


def _bytes_or_unlimited(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
        if value != -1:
            raise UnitError(f"expected a size or -1 for unlimited, got {value!r}")
        return math.inf
    return float(parse_bytes(value))


def _as_ms(seconds: float) -> int | float:
    ms = seconds * 1000.0
    return int(round(ms)) if abs(ms - round(ms)) < 1e-6 else ms


def _unlimited_as_ms(seconds: float) -> int | float:
    return -1 if math.isinf(seconds) else _as_ms(seconds)


def _unlimited_as_bytes(n: float) -> int:
    return -1 if math.isinf(n) else int(n)


#: A duration written in seconds when bare (``warmup: 30``) -> float seconds.
Duration = Annotated[
    float,
    BeforeValidator(_unit_validator(parse_duration)),
    WithJsonSchema(_DURATION_SCHEMA),
]

#: A Kafka ``*.ms`` setting: bare numbers are milliseconds -> float seconds; dumps as ms.
Millis = Annotated[
    float,
    BeforeValidator(_unit_validator(_millis)),
    PlainSerializer(_as_ms, return_type=float),
    WithJsonSchema(_DURATION_SCHEMA),
]

#: Like :data:`Millis` but ``-1`` means unlimited (``math.inf``).
MillisOrUnlimited = Annotated[
    float,
    BeforeValidator(_unit_validator(_millis_or_unlimited)),
    PlainSerializer(_unlimited_as_ms, return_type=float),
    WithJsonSchema({"anyOf": [{"const": -1}, *_DURATION_SCHEMA["anyOf"]]}),
]

#: A size: ``64KiB``, ``1GB`` or a bare number of bytes -> int bytes.
ByteSize = Annotated[
    int,
    BeforeValidator(_unit_validator(parse_bytes)),
    WithJsonSchema(_SIZE_SCHEMA),
]

#: A size where ``-1`` means unlimited (``math.inf``), as ``retention.bytes``.
ByteSizeOrUnlimited = Annotated[
    float,
    BeforeValidator(_unit_validator(_bytes_or_unlimited)),
    PlainSerializer(_unlimited_as_bytes, return_type=int),
    WithJsonSchema({"anyOf": [{"const": -1}, *_SIZE_SCHEMA["anyOf"]]}),
]

#: A bandwidth: ``100MB/s``, ``10Gbps`` or bare bytes/s -> float bytes/s.
ByteRate = Annotated[
    float,
    BeforeValidator(_unit_validator(parse_byte_rate)),
    WithJsonSchema(_RATE_SCHEMA),
]

#: A message rate: ``10000 msg/s`` or a bare number of messages/s.
MessageRate = Annotated[
    float,
    BeforeValidator(_unit_validator(parse_message_rate)),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}]}),
]
