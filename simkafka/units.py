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

__all__ = [
    "UnitError",
    "parse_bytes",
    "parse_duration",
    "parse_byte_rate",
    "parse_message_rate",
    "format_bytes",
    "format_rate",
    "format_duration",
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
_SECONDS = {
    "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "sec": 1.0,
    "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0,
}


def _bits_unit(unit: str) -> bool:
    return unit in ("b", "bit", "bits")


def parse_bytes(value: object) -> int:
    """``64KiB`` -> 65536, ``1GB`` -> 10**9, ``4096`` -> 4096 (plain numbers are bytes)."""
    if isinstance(value, bool):
        raise UnitError(f"expected a size such as 64KiB or 1GB, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise UnitError(f"expected a whole number of bytes, got {value!r}")
        return int(value)
    if not isinstance(value, str):
        raise UnitError(f"expected a size such as 64KiB or 1GB, got {value!r}")
    m = _BYTES_RE.match(value.strip())
    if not m:
        raise UnitError(f"expected a size such as 64KiB, 1.5GB or 4096, got {value!r}")
    amount = float(m["num"]) * _PREFIX[m["prefix"]]
    if _bits_unit(m["unit"]):
        amount /= 8
    return int(round(amount))


def parse_byte_rate(value: object) -> float:
    """``100MB/s`` -> 1e8, ``10Gbps`` -> 1.25e9, ``1.5GiB/s``; plain numbers are bytes/s."""
    if isinstance(value, bool):
        raise UnitError(f"expected a rate such as 100MB/s or 10Gbps, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise UnitError(f"expected a rate such as 100MB/s or 10Gbps, got {value!r}")
    m = _RATE_RE.match(value.strip())
    if not m:
        raise UnitError(f"expected a rate such as 100MB/s, 1.5GiB/s or 10Gbps, got {value!r}")
    amount = float(m["num"]) * _PREFIX[m["prefix"]]
    return amount / 8 if _bits_unit(m["unit"]) else amount


def parse_message_rate(value: object) -> float:
    """``10000 msg/s``, ``2k msgs/s`` -> messages per second; plain numbers are msgs/s."""
    if isinstance(value, bool):
        raise UnitError(f"expected a message rate such as 10000 msg/s, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise UnitError(f"expected a message rate such as 10000 msg/s, got {value!r}")
    m = _MSG_RATE_RE.match(value.strip())
    if not m:
        raise UnitError(f"expected a message rate such as 10000 msg/s or 2k msg/s, got {value!r}")
    return float(m["num"]) * _PREFIX[m["prefix"]]


def parse_duration(value: object, *, bare_unit: str = "s") -> float:
    """``250ms`` -> 0.25, ``7d`` -> 604800.0; a bare number is in ``bare_unit`` (seconds)."""
    if isinstance(value, bool):
        raise UnitError(f"expected a duration such as 250ms or 7d, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value) * _SECONDS[bare_unit]
    if not isinstance(value, str):
        raise UnitError(f"expected a duration such as 250ms or 7d, got {value!r}")
    text = value.strip()
    m = _DURATION_RE.match(text)
    if m:
        return float(m["num"]) * _SECONDS[m["unit"]]
    try:  # "30" in a string is still a number in the bare unit
        return float(text) * _SECONDS[bare_unit]
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
