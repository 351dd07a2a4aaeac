"""Rate profiles: ``factor_at(t)`` multiplies a producer's nominal rate at simulated time ``t``.

Every profile answers three questions the engines and the planner ask:

- :meth:`factor_at` -- the factor at one instant (the events and stepped engines);
- :meth:`integral` -- the exact integral of the factor over ``[t0, t1)`` (closed form), so
  ``nominal rate * integral`` is the volume a producer offers over that span;
- :meth:`pieces` -- a piecewise-constant view of ``[t0, t1)`` for the flow engine, which
  plays hours or days with an event only when a rate changes: ``(start, end, factor)``
  pieces covering the span contiguously. Step, burst, constant and Poisson profiles are
  piecewise constant already and their pieces are exact. Diurnal and growth profiles vary
  continuously: each piece is short enough that the factor moves by at most
  ``tolerance`` within it -- ``max - min <= tolerance * max(1, min)``, that is at most
  ``tolerance`` of the nominal rate, or of the piece's own rate when that is above the
  nominal -- and its factor is the mean of :meth:`factor_at` over the piece (closed form),
  so the pieces carry exactly the volume the profile offers.

:meth:`peak_factor_until` is the largest factor over ``[0, duration)``: what a cluster
must carry at its busiest instant of a run (the planner sizes for it). ``peak_factor`` is
the same over all time, infinite for a growth that never stops.

Simulated time starts at 0: ``pieces`` and ``integral`` refuse a span that starts before.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from simkafka.scenario.base import SpecModel
from simkafka.scenario.quantities import Duration, PositiveDuration

Piece = tuple[float, float, float]


def _check_span(t0: float, t1: float, tolerance: float | None = None) -> None:
    if not (0.0 <= t0 <= t1) or not math.isfinite(t1):
        raise ValueError(f"a span of simulated time is 0 <= t0 <= t1 < inf (got [{t0}, {t1}))")
    if tolerance is not None and not tolerance > 0:
        raise ValueError(f"the tolerance is a relative variation above 0 (got {tolerance})")


def _constant_pieces(profile: object, t0: float, t1: float, cuts: list[float]) -> list[Piece]:
    """Pieces of a piecewise-constant factor between the sorted ``cuts`` inside ``(t0, t1)``;
    each piece's factor read at its midpoint (robust to rounding at a cut), adjacent
    pieces of equal factor merged."""
    if t1 == t0:
        return []
    edges = [t0, *(c for c in cuts if t0 < c < t1), t1]
    pieces: list[Piece] = []
    for start, end in zip(edges, edges[1:], strict=False):
        if end <= start:
            continue
        factor = profile.factor_at(0.5 * (start + end))  # type: ignore[attr-defined]
        if pieces and pieces[-1][2] == factor:
            pieces[-1] = (pieces[-1][0], end, factor)
        else:
            pieces.append((start, end, factor))
    return pieces


class _Flat(SpecModel):
    """A factor of 1 at every instant."""

    def factor_at(self, t: float) -> float:
        return 1.0

    @property
    def peak_factor(self) -> float:
        """The largest factor the profile reaches: what a cluster must carry at its peak."""
        return 1.0

    def peak_factor_until(self, duration: float) -> float:
        """The largest factor over ``[0, duration)``."""
        return 1.0

    def integral(self, t0: float, t1: float) -> float:
        """The exact integral of the factor over ``[t0, t1)``."""
        _check_span(t0, t1)
        return t1 - t0

    def pieces(self, t0: float, t1: float, tolerance: float = 0.01) -> list[Piece]:
        """``(start, end, factor)`` pieces covering ``[t0, t1)``: one piece, factor 1."""
        _check_span(t0, t1, tolerance)
        return [(t0, t1, 1.0)] if t1 > t0 else []


class ConstantProfile(_Flat):
    type: Literal["constant"] = "constant"


class PoissonProfile(_Flat):
    """Mean rate constant; inter-arrival times exponential (the engine draws the counts).

    Its peak factor is the mean's, 1: Poisson bursts are the engine's draws, not the profile's.
    """

    type: Literal["poisson"] = "poisson"


class Step(SpecModel):
    at: Duration
    factor: float = Field(ge=0, allow_inf_nan=False)


class StepProfile(SpecModel):
    """The rate is multiplied by ``factor`` from each step's ``at`` on."""

    type: Literal["step"] = "step"
    steps: tuple[Step, ...] = Field(min_length=1)

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        if any(b.at <= a.at for a, b in zip(steps, steps[1:], strict=False)):
            raise ValueError("steps must be in increasing order of `at`")
        return steps

    def factor_at(self, t: float) -> float:
        factor = 1.0
        for step in self.steps:
            if t >= step.at:
                factor = step.factor
        return factor

    @property
    def peak_factor(self) -> float:
        return max(1.0 if self.steps[0].at > 0 else 0.0, *(step.factor for step in self.steps))

    def peak_factor_until(self, duration: float) -> float:
        reached = [step.factor for step in self.steps if step.at < duration]
        return max([1.0 if self.steps[0].at > 0 else 0.0, *reached])

    def integral(self, t0: float, t1: float) -> float:
        _check_span(t0, t1)
        total, start, factor = 0.0, t0, self.factor_at(t0)
        for step in self.steps:
            if t0 < step.at < t1:
                total += factor * (step.at - start)
                start, factor = step.at, step.factor
        return total + factor * (t1 - start)

    def pieces(self, t0: float, t1: float, tolerance: float = 0.01) -> list[Piece]:
        """Exact: a piece between consecutive steps."""
        _check_span(t0, t1, tolerance)
        return _constant_pieces(self, t0, t1, [step.at for step in self.steps])


class DiurnalProfile(SpecModel):
    """A sinusoid over ``period`` peaking at ``peak_at``: 1 + amplitude * cos(...)."""

    type: Literal["diurnal"] = "diurnal"
    period: PositiveDuration = 86400.0
    amplitude: float = Field(0.5, ge=0, le=1)
    peak_at: Duration = 14 * 3600.0

    @property
    def _omega(self) -> float:
        return 2 * math.pi / self.period

    def factor_at(self, t: float) -> float:
        return 1.0 + self.amplitude * math.cos(2 * math.pi * (t - self.peak_at) / self.period)

    @property
    def peak_factor(self) -> float:
        return 1.0 + self.amplitude

    def peak_factor_until(self, duration: float) -> float:
        # the cosine's maximum if a peak (peak_at + k * period) falls in [0, duration),
        # otherwise the larger end: the cosine is monotone between a trough and a peak
        first_peak = self.peak_at - math.floor(self.peak_at / self.period) * self.period
        if first_peak < duration:
            return self.peak_factor
        return max(self.factor_at(0.0), self.factor_at(duration))

    def _mean(self, start: float, end: float) -> float:
        # (sin(w(e-p)) - sin(w(s-p))) / (w(e-s)) written as cos(mid) * sinc(half width):
        # no cancellation for short pieces
        half = 0.5 * self._omega * (end - start)
        sinc = math.sin(half) / half if half > 1e-8 else 1.0 - half * half / 6.0
        return 1.0 + self.amplitude * math.cos(self._omega * (0.5 * (start + end) - self.peak_at)) * sinc

    def integral(self, t0: float, t1: float) -> float:
        _check_span(t0, t1)
        return self._mean(t0, t1) * (t1 - t0) if t1 > t0 else 0.0

    def pieces(self, t0: float, t1: float, tolerance: float = 0.01) -> list[Piece]:
        """Equal pieces over which the factor moves by at most ``tolerance`` (its slope is at
        most ``amplitude * 2 pi / period``), each at its exact mean."""
        _check_span(t0, t1, tolerance)
        if t1 == t0:
            return []
        if self.amplitude == 0:
            return [(t0, t1, 1.0)]
        count = max(1, math.ceil((t1 - t0) * self.amplitude * self._omega / tolerance))
        edges = [t0 + (t1 - t0) * i / count for i in range(count)] + [t1]
        return [(s, e, self._mean(s, e)) for s, e in zip(edges, edges[1:], strict=False)]


class BurstProfile(SpecModel):
    """Every ``every`` seconds the rate is multiplied by ``factor`` for ``duration``."""

    type: Literal["burst"] = "burst"
    every: PositiveDuration
    duration: PositiveDuration
    factor: float = Field(ge=0, allow_inf_nan=False)
    start: Duration = 0.0

    @model_validator(mode="after")
    def _fits(self) -> BurstProfile:
        if self.duration >= self.every:
            raise ValueError("a burst's duration must be shorter than its period `every`")
        return self

    def factor_at(self, t: float) -> float:
        if t < self.start:
            return 1.0
        return self.factor if (t - self.start) % self.every < self.duration else 1.0

    @property
    def peak_factor(self) -> float:
        return max(1.0, self.factor)

    def peak_factor_until(self, duration: float) -> float:
        if duration <= self.start:
            return 1.0
        # between bursts, or before the first, the factor is 1
        reaches_one = self.start > 0 or duration > self.start + self.duration
        return max(self.factor, 1.0) if reaches_one else self.factor

    def _burst_time(self, t: float) -> float:
        """Seconds of burst in [0, t)."""
        if t <= self.start:
            return 0.0
        cycles, into = divmod(t - self.start, self.every)
        return cycles * self.duration + min(into, self.duration)

    def integral(self, t0: float, t1: float) -> float:
        _check_span(t0, t1)
        return (t1 - t0) + (self.factor - 1.0) * (self._burst_time(t1) - self._burst_time(t0))

    def pieces(self, t0: float, t1: float, tolerance: float = 0.01) -> list[Piece]:
        """Exact: a piece per burst and per gap between bursts."""
        _check_span(t0, t1, tolerance)
        first = max(0, math.floor((t0 - self.start) / self.every))
        last = math.ceil((t1 - self.start) / self.every)
        cuts = []
        for k in range(first, last + 1):
            begin = self.start + k * self.every
            cuts += [begin, begin + self.duration]
        return _constant_pieces(self, t0, t1, cuts)


def _fraction(value: object) -> object:
    """``10%`` -> 0.1; a number is a fraction already (``0.1``)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        number = value.strip()[:-1].strip()
        try:
            percent = float(number)
        except ValueError:
            raise ValueError(f"expected a percentage such as '10%', got {value!r}") from None
        return percent / 100.0
    if isinstance(value, str):
        raise ValueError(f"expected growth as a percentage such as '10%' or a fraction such as 0.1, got {value!r}")
    return value


class GrowthProfile(SpecModel):
    """Traffic that grows (or shrinks) by ``growth`` every ``per``: "10 % a week" is
    ``{type: growth, growth: 10%, per: 7d}``.

    Compound by default, as growth figures are quoted: factor = (1 + growth) ^ (t / per).
    ``compound: false`` is linear: factor = 1 + growth * t / per (at least 0, a declining
    producer stops rather than sends a negative rate). The factor is 1 at t = 0: the
    producer's ``rate`` is its rate at the start of the run.
    """

    type: Literal["growth"] = "growth"
    growth: float = Field(
        gt=-1, allow_inf_nan=False, description="the change per `per`: 10% or 0.1; negative for a decline")
    per: PositiveDuration
    compound: bool = Field(True, description="(1+growth)^(t/per) when true, 1 + growth*t/per when false")

    @field_validator("growth", mode="before")
    @classmethod
    def _percent(cls, value: object) -> object:
        return _fraction(value)

    @property
    def _k(self) -> float:
        """The exponential rate ln(1 + growth) / per (compound) or the slope growth / per (linear)."""
        return math.log1p(self.growth) / self.per if self.compound else self.growth / self.per

    def factor_at(self, t: float) -> float:
        if self.compound:
            return math.exp(self._k * t)
        return max(0.0, 1.0 + self._k * t)

    @property
    def peak_factor(self) -> float:
        """Over all time: unbounded for a growth (ask :meth:`peak_factor_until` for a run's)."""
        return math.inf if self.growth > 0 else 1.0

    def peak_factor_until(self, duration: float) -> float:
        # monotone: the larger end of [0, duration]
        return max(1.0, self.factor_at(duration))

    @property
    def _stops_at(self) -> float:
        """When a linear decline reaches 0 (infinite otherwise)."""
        return -1.0 / self._k if not self.compound and self.growth < 0 else math.inf

    def _integral(self, start: float, end: float) -> float:
        width = end - start
        if width <= 0:
            return 0.0
        k = self._k
        if self.compound:
            x = k * width
            # exp(k s) * (exp(k w) - 1) / k, with expm1 for short pieces and slow growth
            return math.exp(k * start) * (width if x == 0 else math.expm1(x) / k)
        stop = self._stops_at
        end_live = min(end, stop)
        if end_live <= start:
            return 0.0
        return (end_live - start) * (1.0 + k * 0.5 * (start + end_live))

    def integral(self, t0: float, t1: float) -> float:
        _check_span(t0, t1)
        return self._integral(t0, t1)

    def _piece_end(self, start: float, tolerance: float, t1: float) -> float:
        """The end of the longest piece from ``start`` whose factor moves by at most
        ``tolerance * max(1, min)`` (closed form: the factor is monotone)."""
        k, f = self._k, self.factor_at(start)
        if k == 0:
            return t1
        if self.compound:
            if k > 0:  # f >= 1 for t >= 0: max/min = exp(k L) <= 1 + tolerance
                return start + math.log1p(tolerance * max(1.0, f) / f) / k
            if f <= tolerance:  # all that is left moves by less than tolerance
                return t1
            return start + math.log1p(-tolerance / f) / k  # f <= 1: f (1 - exp(k L)) <= tolerance
        if k > 0:  # k L <= tolerance * f, f >= 1
            return start + tolerance * max(1.0, f) / k
        stop = self._stops_at
        if start >= stop:
            return t1
        return min(stop, start + tolerance / -k)

    def pieces(self, t0: float, t1: float, tolerance: float = 0.01) -> list[Piece]:
        """Pieces over which the factor moves by at most ``tolerance`` (relative to the
        larger of 1 and the piece's smallest factor), each at its exact mean."""
        _check_span(t0, t1, tolerance)
        pieces: list[Piece] = []
        start = t0
        while start < t1:
            end = min(t1, self._piece_end(start, tolerance, t1))
            if end <= start:  # rounding at a huge t: take what is left
                end = t1
            pieces.append((start, end, self._integral(start, end) / (end - start)))
            start = end
        return pieces


Profile = Annotated[
    ConstantProfile | PoissonProfile | StepProfile | DiurnalProfile | BurstProfile | GrowthProfile,
    Field(discriminator="type"),
]
