"""Monte Carlo over uncertain inputs: concrete scenarios drawn from them, and how often a target is missed.

A scenario's producer ``rate`` and ``message_size`` may be uncertain
(:mod:`simkafka.scenario.uncertain`: ``{normal: 500MB/s, sd: 10%}``). Here:

* :func:`uncertain_inputs` lists them;
* :func:`draw_scenarios` turns one scenario into ``samples`` concrete ones, each input drawn
  from its distribution and each sample with a run seed of its own;
* :func:`miss_probability` / :class:`MissProbability` say how often a target was missed,
  with a Wilson score interval.

Pure: no running, no plotting. A draw depends only on (``seed``, sample index, input name),
hashed with SHA-256, never Python's ``hash()`` (salted per process): the same draws in every
process and executor, an input added to the scenario never changes another's draws, and
every finalist of a plan sampled with the same ``seed`` meets the same draws (common random
numbers, so finalists differ by their cluster, not by their luck).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from simkafka.scenario import Problem, Scenario, ScenarioError
from simkafka.scenario.checks import find_contradictions
from simkafka.scenario.loader import problems_from_validation
from simkafka.scenario.uncertain import UncertainValue

__all__ = [
    "MAX_SAMPLES", "MissProbability", "UncertainInput", "UncertaintyError", "draw_scenarios", "draw_value",
    "input_rng", "miss_probability", "sample_seed", "uncertain_inputs",
]

#: Most samples :func:`draw_scenarios` builds: each is a whole scenario in memory and a run.
MAX_SAMPLES = 100_000
# INT64_MAX: the largest run.seed a scenario accepts
_SEED_MASK = (1 << 63) - 1
# a normal draw at or below zero is drawn again; each try succeeds with probability > 1/2
# (the mean is positive), so this many failures (probability < 2**-64) never happen in practice
_MAX_REDRAWS = 64
# drawn rates keep this many significant digits: a drawn scenario reads `512.346MB/s`, not
# `512345678.91234B/s`, at a relative cost of 1e-6, far below any sd a person writes
_DIGITS = 6

Field = Literal["rate", "message_size"]


class UncertaintyError(ValueError):
    """A drawn scenario the scenario's own validation refuses (a distribution whose tail
    reaches a value no scenario may have); the message names the sample and its draws."""


@dataclass(frozen=True)
class UncertainInput:
    """One uncertain input: producer ``index`` (named ``producer``, or its index when it has
    no name), its ``field`` and the distribution."""

    producer: str
    index: int
    field: Field
    value: UncertainValue

    @property
    def name(self) -> str:
        """The input's path as ``--param`` writes it (``producers.web.rate``); draws are keyed by it."""
        return f"producers.{self.producer}.{self.field}"

    def __repr__(self) -> str:
        return f"<UncertainInput {self.name}: {self.value}>"


def uncertain_inputs(scenario: Scenario) -> list[UncertainInput]:
    """The uncertain inputs of ``scenario``, producer by producer, rate before message size."""
    out = []
    for index, spec in enumerate(scenario.producers):
        producer = spec.name if spec.name is not None else str(index)
        if spec.rate.uncertainty is not None:
            out.append(UncertainInput(producer, index, "rate", spec.rate.uncertainty))
        if spec.message_size.uncertainty is not None:
            out.append(UncertainInput(producer, index, "message_size", spec.message_size.uncertainty))
    return out


def _stable_seed(*parts: Any) -> int:
    text = json.dumps(parts, separators=(",", ":"))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") & _SEED_MASK


def sample_seed(seed: int, sample: int) -> int:
    """The ``run.seed`` of sample ``sample`` of a Monte Carlo seeded ``seed`` (SHA-256, as
    :func:`simkafka.analysis.grid.point_seed`)."""
    return _stable_seed(seed, sample, "run.seed")


def input_rng(seed: int, sample: int, name: str) -> np.random.Generator:
    """The generator that draws input ``name`` (:attr:`UncertainInput.name`) for ``sample``."""
    return np.random.default_rng(_stable_seed(seed, sample, name))


def draw_value(value: UncertainValue, rng: np.random.Generator) -> float:
    """One draw of ``value`` in base units; always positive.

    * normal: ``N(mean, sd)`` truncated at zero -- a draw at or below zero is drawn again
      (not clipped, which would pile probability on one tiny value). Below an sd of about
      40% of the mean that changes nothing visible; above it the draws' mean rises above the
      nominal one (``simkafka check`` warns, and suggests a lognormal);
    * lognormal: parameterised so that the *value's* mean and sd are the ones written
      (``sigma**2 = ln(1 + (sd/mean)**2)``, ``mu = ln(mean) - sigma**2/2``), not its log's;
    * uniform: between the bounds (both positive).

    A message size is rounded to whole bytes, at least one (a redraw if a normal gives 0).
    """
    whole_bytes = value.unit == "B"
    if value.distribution == "uniform":
        low, high = value.bounds  # type: ignore[misc]
        drawn = float(rng.uniform(low, high))
    elif value.distribution == "lognormal":
        sigma2 = math.log1p((value.std / value.mean) ** 2)
        drawn = float(rng.lognormal(math.log(value.mean) - sigma2 / 2, math.sqrt(sigma2)))
    else:
        floor = 0.5 if whole_bytes else 0.0  # rounds to at least 1 byte
        for _ in range(_MAX_REDRAWS):
            drawn = float(rng.normal(value.mean, value.std))
            if drawn > floor:
                break
        else:  # pragma: no cover - probability below 2**-64
            drawn = value.mean
    if whole_bytes:
        return float(max(1, round(drawn)))
    return float(f"{drawn:.{_DIGITS}g}")


def draw_scenarios(scenario: Scenario, samples: int, seed: int) -> list[Scenario]:
    """``samples`` concrete scenarios: in sample ``i`` each uncertain input is drawn with
    :func:`input_rng` (``seed``, ``i``, its name) by :func:`draw_value` and written into the
    scenario as a fixed value, and ``run.seed`` is :func:`sample_seed` (``seed``, ``i``).

    Each is validated as a loaded file is (models and contradiction checks); a draw the
    scenario refuses (a lognormal tail past ``max.message.bytes``) raises
    :class:`UncertaintyError` naming the sample. A scenario without uncertain inputs gives
    ``samples`` copies differing only in their seed. Pass the same ``seed`` for every
    candidate cluster so that all meet the same draws.
    """
    if isinstance(samples, bool) or not isinstance(samples, int) or not 1 <= samples <= MAX_SAMPLES:
        raise ValueError(f"samples must be an integer from 1 to {MAX_SAMPLES:,}, got {samples!r}")
    inputs = uncertain_inputs(scenario)
    # the scenario as written (defaults left unset), so that what depends on a drawn value is
    # derived again for each sample
    written = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    out = []
    for i in range(samples):
        data = json.loads(json.dumps(written))  # a deep copy of plain JSON data
        drawn: dict[str, str] = {}
        for item in inputs:
            text = item.value.write(draw_value(item.value, input_rng(seed, i, item.name)))
            data["producers"][item.index][item.field] = drawn[item.name] = text
        data.setdefault("run", {})["seed"] = sample_seed(seed, i)
        out.append(_validated(data, i, drawn))
    return out


def _validated(data: dict, sample: int, drawn: dict[str, str]) -> Scenario:
    source = f"sample {sample} (" + (", ".join(f"{k}={v}" for k, v in drawn.items()) or "no uncertain input") + ")"
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise UncertaintyError(str(ScenarioError(problems_from_validation(exc, data, {}, source)))) from None
    errors = [Problem(source, None, None, tuple(path), message, hint)
              for path, message, hint, is_warning in find_contradictions(scenario, data) if not is_warning]
    if errors:
        raise UncertaintyError(str(ScenarioError(errors)))
    return scenario


# ---- how often a target is missed -----------------------------------------------------


def miss_probability(misses: int, samples: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """``(p, low, high)``: the observed miss rate ``misses / samples`` and its Wilson score
    interval at ``confidence``.

    Wilson rather than the normal approximation ``p +- z*sqrt(p(1-p)/n)``: that interval
    collapses to ``[0, 0]`` when no sample missed, claiming certainty from 20 runs; Wilson's
    upper bound for 0 of 20 is 0.16. ``z`` is the standard normal quantile from the
    standard library (scipy is not a dependency).
    """
    for name, count in (("misses", misses), ("samples", samples)):
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {count!r}")
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    if not 0 <= misses <= samples:
        raise ValueError(f"misses must be between 0 and samples ({samples}), got {misses}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    n = int(samples)
    p = int(misses) / n
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # the exact ends: rounding must not put 0 of n above 0 or n of n below 1
    low = 0.0 if misses == 0 else max(0.0, centre - half)
    high = 1.0 if misses == samples else min(1.0, centre + half)
    return p, low, high


@dataclass(frozen=True)
class MissProbability:
    """How often ``target`` was missed: ``misses`` of ``samples``, ``probability`` and its
    Wilson interval ``[low, high]`` at ``confidence``."""

    target: str
    misses: int
    samples: int
    probability: float
    low: float
    high: float
    confidence: float = 0.95

    @classmethod
    def of(cls, target: str, misses: int, samples: int, confidence: float = 0.95) -> MissProbability:
        """Counted ``misses`` of ``samples`` -> the probability and its interval."""
        p, low, high = miss_probability(misses, samples, confidence)
        return cls(target, int(misses), int(samples), p, low, high, confidence)

    def __repr__(self) -> str:
        return (f"<MissProbability {self.target}: missed {self.misses}/{self.samples}, "
                f"p={self.probability:.1%} ({self.confidence:.0%} CI {self.low:.1%}-{self.high:.1%})>")

    __str__ = __repr__
