"""Numbers as wide as what measured them: no digit finer than a histogram's buckets."""

from __future__ import annotations

import math

from simkafka.sim.histogram import LatencyHistogram


def resolved_digits(relative_error: float) -> int:
    """Significant digits a histogram with this worst-case relative error resolves.

    A bucket is ``2 * relative_error`` wide; the last digit printed is the first whose
    step at the bottom of a decade (1.00 -> 1.01: 1 %) is within one bucket. Printing
    more digits shows where inside its bucket the engine happened to put a value.
    """
    return max(1, math.ceil(1 - math.log10(2 * relative_error)))


# the engines' latency histograms: 200 buckets per decade, ~1.2 % wide -> 3 digits (the
# log engine's, 32 per power of two, ~2.2 % wide, resolve the same 3)
LATENCY_DIGITS = resolved_digits(LatencyHistogram().relative_error)


def significant(value: float, digits: int = LATENCY_DIGITS) -> str:
    """``value`` rounded to ``digits`` significant digits, in fixed notation (6.72, 12.3, 1,230)."""
    if value is None or not math.isfinite(value):
        return "-"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = digits - 1 - magnitude
    rounded = round(value, decimals)
    if abs(rounded) >= 10 ** (magnitude + 1):  # 9.996 -> 10.0, not 10.00
        decimals -= 1
    return f"{rounded:,.{max(0, decimals)}f}"
