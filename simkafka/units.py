"""Parse the quantities people write in scenarios: ``100MB/s``, ``10Gbps``, ``64KiB``, ``7d``.

Inside simkafka every quantity is in base units -- seconds (float), bytes (int) and
bytes per second (float) -- and this module is the only place that converts. Decimal
prefixes are powers of 1000 and binary prefixes powers of 1024 (``MB`` vs ``MiB``), as
in IEC 80000-13; a lower-case ``b`` means bits and an upper-case ``B`` bytes, as network
and storage vendors write them (``10Gbps`` is 1.25 GB/s).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

__all__ = [
    "UnitError",
    "parse_bytes",
    "parse_duration",
    "parse_byte_rate",
    "parse_message_rate",
    "format_bytes",
    "format_rate",
    "format_duration",
    "write_bytes",
    "write_byte_rate",
    "write_duration",
    "write_message_rate",
]


class UnitError(ValueError):
    """A quantity could not be parsed; the message says what was expected."""


_PREFIX = {
    "": 1,
    "k": 1000, "K": 1000, "M": 1000**2, "G": 1000**3, "T": 1000**4, "P": 1000**5,
    "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "Pi": 1024**5,
}

_NUMBER = r"(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
_BYTES_RE = re.compile(_NUMBER + r"\s*(?P<prefix>[kKMGTP]i?|)(?P<unit>B|b|bytes?|bits?|)$")
_RATE_RE = re.compile(
    _NUMBER + r"\s*(?P<prefix>[kKMGTP]i?|)(?P<unit>B|b|bytes?|bits?)\s*(?:/\s*s(?:ec)?|ps)$"
)
_MSG_RATE_RE = re.compile(_NUMBER + r"\s*(?P<prefix>[kKM]?)\s*(?:msgs?|messages?|records?)\s*/\s*s(?:ec)?$")
_DURATION_RE = re.compile(_NUMBER + r"\s*(?P<unit>ns|us|µs|ms|s|sec|m|min|h|d|w)$")
_SECONDS = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
# sub-second units divide (100 / 1e6 is exactly the float 0.0001; 100 * 1e-6 is not)
_PER_SECOND = {"ns": 1e9, "us": 1e6, "µs": 1e6, "ms": 1e3}


def _in_seconds(amount: float, unit: str) -> float:
    return amount / _PER_SECOND[unit] if unit in _PER_SECOND else amount * _SECONDS[unit]


def _bits_unit(unit: str) -> bool:
    return unit in ("b", "bit", "bits")


def _shown(value: object) -> str:
    """``repr(value)``, shortened: a message must not quote 400 digits back."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _finite(amount: float, value: object, example: str) -> float:
    """Refuse NaN and infinities (``.nan``, ``.inf``, ``1e400MB``): no quantity is either."""
    if not math.isfinite(amount):
        raise UnitError(f"expected a finite quantity such as {example}, got {_shown(value)}")
    return amount


def _number(value: int | float, example: str) -> float:
    """A YAML number as a float; an integer beyond a float's range is refused, not an OverflowError."""
    try:
        amount = float(value)
    except OverflowError:
        raise UnitError(f"{_shown(value)} is far beyond any quantity (expected something such as {example})") from None
    return _finite(amount, value, example)


def parse_bytes(value: object) -> int:
    """``64KiB`` -> 65536, ``1GB`` -> 10**9, ``4096`` -> 4096 (plain numbers are bytes)."""
    if isinstance(value, bool):
        raise UnitError(f"expected a size such as 64KiB or 1GB, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        _finite(value, value, "64KiB or 1GB")
        if not value.is_integer():
            raise UnitError(f"expected a whole number of bytes, got {value!r}")
        return int(value)
    if not isinstance(value, str):
        raise UnitError(f"expected a size such as 64KiB or 1GB, got {value!r}")
    m = _BYTES_RE.match(value.strip())
    if not m:
        raise UnitError(f"expected a size such as 64KiB, 1.5GB or 4096, got {value!r}")
    if m["num"].lstrip("+-").isdigit():  # whole numbers exactly, beyond a float's 53 bits
        whole = int(m["num"]) * _PREFIX[m["prefix"]]
        if not _bits_unit(m["unit"]):
            return whole
        return whole // 8 if whole % 8 == 0 else int(round(whole / 8))
    amount = _finite(float(m["num"]) * _PREFIX[m["prefix"]], value, "64KiB or 1GB")
    if _bits_unit(m["unit"]):
        amount /= 8
    return int(round(amount))


def parse_byte_rate(value: object) -> float:
    """``100MB/s`` -> 1e8, ``10Gbps`` -> 1.25e9, ``1.5GiB/s``; plain numbers are bytes/s."""
    if isinstance(value, bool):
        raise UnitError(f"expected a rate such as 100MB/s or 10Gbps, got {value!r}")
    if isinstance(value, (int, float)):
        return _number(value, "100MB/s or 10Gbps")
    if not isinstance(value, str):
        raise UnitError(f"expected a rate such as 100MB/s or 10Gbps, got {value!r}")
    m = _RATE_RE.match(value.strip())
    if not m:
        raise UnitError(f"expected a rate such as 100MB/s, 1.5GiB/s or 10Gbps, got {value!r}")
    amount = _finite(float(m["num"]) * _PREFIX[m["prefix"]], value, "100MB/s or 10Gbps")
    return amount / 8 if _bits_unit(m["unit"]) else amount


def parse_message_rate(value: object) -> float:
    """``10000 msg/s``, ``2k msgs/s`` -> messages per second; plain numbers are msgs/s."""
    if isinstance(value, bool):
        raise UnitError(f"expected a message rate such as 10000 msg/s, got {value!r}")
    if isinstance(value, (int, float)):
        return _number(value, "10000 msg/s")
    if not isinstance(value, str):
        raise UnitError(f"expected a message rate such as 10000 msg/s, got {value!r}")
    m = _MSG_RATE_RE.match(value.strip())
    if not m:
        raise UnitError(f"expected a message rate such as 10000 msg/s or 2k msg/s, got {value!r}")
    return _finite(float(m["num"]) * _PREFIX[m["prefix"]], value, "10000 msg/s")


def parse_duration(value: object, *, bare_unit: str = "s") -> float:
    """``250ms`` -> 0.25, ``7d`` -> 604800.0; a bare number is in ``bare_unit`` (seconds)."""
    if isinstance(value, bool):
        raise UnitError(f"expected a duration such as 250ms or 7d, got {value!r}")
    if isinstance(value, (int, float)):
        return _finite(_in_seconds(_number(value, "250ms or 7d"), bare_unit), value, "250ms or 7d")
    if not isinstance(value, str):
        raise UnitError(f"expected a duration such as 250ms or 7d, got {value!r}")
    text = value.strip()
    m = _DURATION_RE.match(text)
    if m:
        return _finite(_in_seconds(float(m["num"]), m["unit"]), value, "250ms or 7d")
    try:  # "30" in a string is still a number in the bare unit
        return _finite(_in_seconds(float(text), bare_unit), value, "250ms or 7d")
    except ValueError:
        raise UnitError(
            f"expected a duration such as 250ms, 30s, 10m, 2h or 7d, got {value!r}"
        ) from None


def _scaled(amount: float, units: list[tuple[float, str]], precision: int) -> str:
    """Print ``amount`` in the largest unit it reaches; the last unit is the fallback."""
    for factor, name in units[:-1]:
        if abs(amount) >= factor:
            return f"{amount / factor:.{precision}f}{name}"
    factor, name = units[-1]
    return f"{amount / factor:.{precision}f}{name}"


def format_bytes(n: float) -> str:
    """Human form using binary prefixes, as Kafka's own tooling prints sizes."""
    if math.isinf(n):
        return "unlimited"
    return _scaled(
        n, [(1024**4, " TiB"), (1024**3, " GiB"), (1024**2, " MiB"), (1024, " KiB"), (1, " B")], 1
    )


def format_rate(bytes_per_second: float) -> str:
    """Decimal MB/s, as throughput is quoted in Kafka benchmarks."""
    return _scaled(
        bytes_per_second, [(1e9, " GB/s"), (1e6, " MB/s"), (1e3, " kB/s"), (1, " B/s")], 1
    )


def format_duration(seconds: float) -> str:
    if math.isinf(seconds):
        return "unlimited"
    return _scaled(
        seconds,
        [(86400, " d"), (3600, " h"), (60, " min"), (1, " s"), (1e-3, " ms"), (1e-6, " µs")],
        3 if seconds < 60 else 1,
    )


# ---- writing quantities back the way a person writes them -------------------------------
# ``simkafka check --resolved`` prints a scenario that must load to the same values, so
# each writer picks the shortest text that its parser reads back to exactly ``value``.


def _exact_text(value: float, forms: list[tuple[Callable[[float], float], str]], parse) -> str | None:
    """The shortest ``<number><suffix>`` that reads back to ``value``, preferring a number >= 1
    (``500MB/s`` rather than ``0.5GB/s``); ``None`` when no form is exact."""
    whole: list[str] = []
    fractional: list[str] = []
    for to_amount, suffix in forms:
        amount = to_amount(value)
        for number in (f"{amount:.15g}", repr(amount)):
            if "e" in number or "inf" in number or "nan" in number:
                continue
            if "." in number:
                number = number.rstrip("0").rstrip(".")
            text = number + suffix
            try:
                exact = parse(text) == value
            except UnitError:
                exact = False
            if exact:
                (whole if abs(amount) >= 1 else fractional).append(text)
                break
    candidates = whole or fractional
    return min(candidates, key=len) if candidates else None


def _per(factor: float) -> Callable[[float], float]:
    return lambda value: value / factor


def _times(factor: float) -> Callable[[float], float]:
    return lambda value: value * factor


_BYTE_FORMS = [(_per(1024**p), f"{pre}iB") for p, pre in ((5, "P"), (4, "T"), (3, "G"), (2, "M"), (1, "K"))] + [
    (_per(1000**p), f"{pre}B") for p, pre in ((5, "P"), (4, "T"), (3, "G"), (2, "M"), (1, "k"))
] + [(_per(1), "B")]
_BIT_FORMS = [(_times(8 / 1000**p), f"{pre}b") for p, pre in ((4, "T"), (3, "G"), (2, "M"), (1, "k"))]
_DURATION_FORMS = [(_per(_SECONDS[u]), u) for u in ("w", "d", "h", "min", "s")] + [
    (_times(_PER_SECOND[u]), u) for u in ("ms", "us", "ns")
]


def write_bytes(n: int) -> str:
    """``17179869184`` -> ``16GiB``, ``1000`` -> ``1kB``; reads back exactly with :func:`parse_bytes`."""
    return _exact_text(n, _BYTE_FORMS, parse_bytes) or f"{int(n)}B"


def write_byte_rate(bytes_per_second: float, *, bits: bool = False) -> str:
    """``1.25e9`` -> ``1.25GB/s`` (``10Gbps`` with ``bits``), exact for :func:`parse_byte_rate`."""
    forms = [(f, s + "ps") for f, s in _BIT_FORMS] if bits else []
    forms += [(f, s + "/s") for f, s in _BYTE_FORMS]
    return _exact_text(bytes_per_second, forms, parse_byte_rate) or f"{bytes_per_second!r}B/s"


def write_duration(seconds: float) -> str:
    """``0.25`` -> ``250ms``, ``604800`` -> ``1w``; reads back exactly with :func:`parse_duration`."""
    if seconds == 0:
        return "0s"
    return _exact_text(seconds, _DURATION_FORMS, parse_duration) or f"{seconds!r}s"


def write_message_rate(messages_per_second: float) -> str:
    """``20000.0`` -> ``20000 msg/s``; reads back exactly with :func:`parse_message_rate`."""
    return _exact_text(messages_per_second, [(_per(1), " msg/s")], parse_message_rate) or (
        f"{messages_per_second!r} msg/s"
    )
