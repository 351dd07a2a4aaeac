"""Uncertain producer inputs (issue 12): ``rate: {normal: 500MB/s, sd: 10%}`` and friends.

The forms load, a plain run sees the nominal value through the same ``Rate`` and
``SizeDistribution`` API as before, the dump validates back to the same scenario (workers
receive it as JSON), and bad input gets the scenario's usual file/line/field messages.
"""

from __future__ import annotations

import json
import math

import jsonschema
import pytest
import yaml

from simkafka.scenario import Scenario, ScenarioError, parse_scenario, parse_scenario_with_warnings
from simkafka.scenario.schema import scenario_json_schema
from simkafka.scenario.uncertain import UncertainRate, UncertainSize

BASE = """\
name: t
cluster:
  brokers: 3
topics:
  - name: orders
    partitions: 6
    replication.factor: 3
producers:
  - name: web
    topic: orders
    rate: {rate}
    message_size: {size}
targets:
  produce_throughput: {target}
"""
RATE_LINE, SIZE_LINE, TARGET_LINE = 11, 12, 14


def load(rate: str = "100MB/s", size: str = "1KiB", target: str = "1MB/s") -> Scenario:
    return parse_scenario(BASE.format(rate=rate, size=size, target=target), "s.yaml")


def only_error(**written: str):
    with pytest.raises(ScenarioError) as info:
        load(**written)
    problems = info.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# ---- the forms and their nominal values ------------------------------------------------


@pytest.mark.parametrize(("written", "distribution", "unit", "nominal", "std"), [
    ("{normal: 500MB/s, sd: 10%}", "normal", "B/s", 500e6, 50e6),
    ("{normal: 500MB/s, sd: 50MB/s}", "normal", "B/s", 500e6, 50e6),
    ("{lognormal: 20000 msg/s, sd: 20%}", "lognormal", "msg/s", 20000.0, 4000.0),
    ("{lognormal: 20000, sd: 4000}", "lognormal", "msg/s", 20000.0, 4000.0),  # bare numbers: msg/s
    ("{uniform: [400MB/s, 600MB/s]}", "uniform", "B/s", 500e6, 200e6 / math.sqrt(12)),
    ("{uniform: [1k msg/s, 3k msg/s]}", "uniform", "msg/s", 2000.0, 2000 / math.sqrt(12)),
    ("{normal: 1Gbps, sd: 12.5%}", "normal", "B/s", 125e6, 15.625e6),
])
def test_an_uncertain_rate_loads_and_a_run_sees_its_nominal_value(written, distribution, unit, nominal, std):
    spec = load(rate=written).producers[0]
    rate = spec.rate
    assert rate.uncertain and isinstance(rate.uncertainty, UncertainRate)
    assert rate.uncertainty.distribution == distribution
    assert rate.uncertainty.unit == unit
    assert rate.uncertainty.nominal == pytest.approx(nominal)
    assert rate.uncertainty.std == pytest.approx(std)
    # the API the engines read is unchanged and gives the nominal value
    assert not rate.is_max
    if unit == "B/s":
        assert rate.bytes(1024) == pytest.approx(nominal)
        assert rate.messages(1000) == pytest.approx(nominal / 1000)
    else:
        assert rate.messages(1024) == pytest.approx(nominal)
        assert rate.bytes(1000) == pytest.approx(nominal * 1000)


def test_a_uniform_range_keeps_its_bounds():
    value = load(rate="{uniform: [400MB/s, 600MB/s]}").producers[0].rate.uncertainty
    assert value.bounds == (400e6, 600e6)
    assert str(value) == "uniform(400MB/s, 600MB/s)"
    assert str(load(rate="{normal: 500MB/s, sd: 10%}").producers[0].rate.uncertainty) == "normal(mean 500MB/s, sd 10%)"


@pytest.mark.parametrize(("written", "distribution", "mean", "std"), [
    ("{lognormal: 1KiB, sd: 25%}", "lognormal", 1024, 256.0),
    ("{normal: 1KiB, sd: 100}", "normal", 1024, 100.0),  # a bare sd is bytes, as the mean
    ("{normal: 2000, sd: 1kB}", "normal", 2000, 1000.0),
    ("{uniform: [1000, 1001]}", "uniform", 1000, 1 / math.sqrt(12)),  # 1000.5 rounds to whole bytes
    ("{uniform: [1KiB, 3KiB]}", "uniform", 2048, 2048 / math.sqrt(12)),
])
def test_an_uncertain_message_size_is_a_fixed_size_at_its_nominal_mean(written, distribution, mean, std):
    size = load(size=written).producers[0].message_size
    assert isinstance(size.uncertainty, UncertainSize)
    assert size.uncertainty.distribution == distribution
    assert size.uncertainty.std == pytest.approx(std)
    assert size.distribution == "fixed" and size.stddev == 0
    assert size.mean == mean and isinstance(size.mean, int)


def test_per_message_size_variability_keeps_its_meaning():
    size = load(size="{distribution: lognormal, mean: 1KiB, stddev: 200}").producers[0].message_size
    assert size.uncertainty is None
    assert (size.distribution, size.mean, size.stddev) == ("lognormal", 1024, 200)


def test_plain_values_are_not_uncertain():
    spec = load().producers[0]
    assert not spec.rate.uncertain and spec.rate.uncertainty is None
    assert spec.message_size.uncertainty is None
    # and the dump is what it always was
    dumped = load().model_dump(mode="json", by_alias=True, exclude_unset=True)["producers"][0]
    assert dumped["rate"] == "100MB/s"
    assert dumped["message_size"] == {"distribution": "fixed", "mean": "1KiB"}


def test_a_fixed_nominal_scenario_equals_the_uncertain_one_in_what_the_engines_read():
    uncertain = load(rate="{normal: 500MB/s, sd: 10%}", size="{lognormal: 1KiB, sd: 25%}").producers[0]
    fixed = load(rate="500MB/s", size="1KiB").producers[0]
    assert uncertain.rate.bytes_per_second == fixed.rate.bytes_per_second
    assert uncertain.rate.messages_per_second is fixed.rate.messages_per_second is None
    assert str(uncertain.rate) == str(fixed.rate) == "500MB/s"
    assert uncertain.message_size.mean == fixed.message_size.mean


# ---- round trips ------------------------------------------------------------------------


ROUND_TRIPS = [
    ("{normal: 500MB/s, sd: 10%}", "{lognormal: 1KiB, sd: 25%}"),
    ("{lognormal: 20000 msg/s, sd: 4000}", "{normal: 1000, sd: 12.5%}"),
    ("{uniform: [400MB/s, 600MB/s]}", "{uniform: [100, 1001]}"),
    ("{normal: 333 msg/s, sd: 7.3%}", "{normal: 1000, sd: 333}"),
    ("{normal: 1.25GB/s, sd: 0.1%}", "512"),
]


@pytest.mark.parametrize(("rate", "size"), ROUND_TRIPS)
def test_the_json_dump_validates_back_to_the_same_scenario(rate, size):
    scenario = load(rate=rate, size=size)
    for options in ({}, {"exclude_unset": True}):
        text = json.dumps(scenario.model_dump(mode="json", by_alias=True, **options))
        again = Scenario.model_validate(json.loads(text))
        assert again == scenario
        assert again.producers[0].rate.uncertainty == scenario.producers[0].rate.uncertainty
    # and as YAML, as `simkafka check --resolved` prints it
    printed = yaml.safe_dump(scenario.model_dump(mode="json", by_alias=True, exclude_unset=True))
    assert parse_scenario(printed, "resolved.yaml") == scenario


def test_the_dump_is_the_form_as_written():
    scenario = load(rate="{normal: 500MB/s, sd: 10%}", size="{uniform: [1KiB, 3KiB]}")
    producer = scenario.model_dump(mode="json", by_alias=True)["producers"][0]
    assert producer["rate"] == {"normal": "500MB/s", "sd": "10%"}
    assert producer["message_size"] == {"uniform": ["1KiB", "3KiB"]}
    # the python-mode dump too (nothing internal, such as `uncertainty`, leaks out)
    assert scenario.model_dump(by_alias=True)["producers"][0]["rate"] == {"normal": "500MB/s", "sd": "10%"}


def test_the_json_schema_describes_the_uncertain_forms():
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    for rate, size in ROUND_TRIPS:
        assert validator.is_valid(yaml.safe_load(BASE.format(rate=rate, size=size, target="1MB/s")))
    for rate in ("{normal: 500MB/s}", "{uniform: [1MB/s]}", "{normal: 1MB/s, sd: 1%, skew: 1}"):
        assert not validator.is_valid(yaml.safe_load(BASE.format(rate=rate, size="1KiB", target="1MB/s")))


# ---- errors ----------------------------------------------------------------------------


RATE = ("producers", 0, "rate")
SIZE = ("producers", 0, "message_size")


@pytest.mark.parametrize(("rate", "path", "words", "hint"), [
    ("{normal: 500MB/s, sd: -10%}", (*RATE, "sd"), "sd must be greater than 0", "> 0"),
    ("{normal: 500MB/s, sd: 0%}", (*RATE, "sd"), "sd must be greater than 0", "> 0"),
    ("{normal: 500MB/s, sd: -5MB/s}", (*RATE, "sd"), "sd must be greater than 0", "> 0"),
    ("{normal: 500MB/s, sd: ten percent}", (*RATE, "sd"), "expected sd as a percentage", None),
    ("{normal: 500MB/s, sd: abc%}", (*RATE, "sd"), "expected a percentage", None),
    ("{normal: 500MB/s, sd: 10 msg/s}", (*RATE, "sd"), "sd is in msg/s but the mean (500MB/s) in B/s",
     "or as a percentage"),
    ("{normal: 500MB/s, sd: 2000}", (*RATE, "sd"), "sd is in msg/s", "write sd in B/s"),
    ("{uniform: [600MB/s, 400MB/s]}", (*RATE, "uniform"), "low must be below high", "[low, high]"),
    ("{uniform: [400MB/s, 400MB/s]}", (*RATE, "uniform"), "low must be below high", None),
    ("{uniform: [0MB/s, 400MB/s]}", (*RATE, "uniform"), "must be greater than 0", "> 0"),
    ("{uniform: [4 msg/s, 400MB/s]}", (*RATE, "uniform"), "both ends of the range in one unit", None),
    ("{uniform: 400MB/s}", (*RATE, "uniform"), "a list of two values", None),
    ("{normal: -500MB/s, sd: 10%}", (*RATE, "normal"), "the mean must be greater than 0", "> 0"),
    ("{lognormal: max, sd: 10%}", (*RATE, "lognormal"), "'max' is not a value", None),
    ("{lognormal: fast, sd: 10%}", (*RATE, "lognormal"), "expected a rate", None),
    ("{gaussian: 500MB/s, sd: 10%}", RATE, "unknown distribution 'gaussian'", "normal, lognormal or uniform"),
    ("{lognormel: 500MB/s, sd: 10%}", RATE, "unknown distribution 'lognormel'", "did you mean 'lognormal'?"),
    ("{sd: 10%}", RATE, "names its distribution", "normal, lognormal or uniform"),
    ("{normal: 500MB/s}", RATE, "a normal rate needs its sd", "percentage of the mean"),
    ("{uniform: [1MB/s, 2MB/s], sd: 1%}", RATE, "a uniform rate has no sd", "remove sd"),
    ("{normal: 1MB/s, lognormal: 1MB/s, sd: 1%}", RATE, "one distribution, not normal and lognormal", None),
    ("{normal: 1MB/s, sd: 1%, skew: 2}", RATE, "unknown key 'skew'", "normal, lognormal or uniform"),
])
def test_a_bad_uncertain_rate_is_refused_with_its_field(rate, path, words, hint):
    problem = only_error(rate=rate)
    assert problem.path == path
    assert problem.line == RATE_LINE and problem.source == "s.yaml"
    assert words in problem.message
    if hint is not None:
        assert problem.hint is not None and hint in problem.hint


@pytest.mark.parametrize(("size", "path", "words", "hint"), [
    ("{lognormal: 1KiB, sd: -25%}", (*SIZE, "sd"), "sd must be greater than 0", "> 0"),
    ("{lognormal: 1KiB, sd: 10 msg/s}", (*SIZE, "sd"), "expected sd as a percentage", None),
    ("{lognormal: 10GiB, sd: 1%}", (*SIZE, "lognormal"), "32-bit int", "2147483647"),
    ("{uniform: [2KiB, 1KiB]}", (*SIZE, "uniform"), "low must be below high", None),
    ("{logormal: 1KiB, sd: 1%}", SIZE, "unknown distribution 'logormal'", "did you mean 'lognormal'?"),
    ("{lognormal: 1KiB}", SIZE, "a lognormal message size needs its sd", None),
    # the uncertain form is the mean of a fixed size: it does not combine with per-message variability
    ("{lognormal: 1KiB, sd: 25%, stddev: 100}", SIZE, "does not combine with distribution, mean, stddev", None),
    ("{distribution: lognormal, mean: {normal: 1KiB, sd: 1%}, stddev: 100}", SIZE, "uncertain mean of a fixed size",
     None),
])
def test_a_bad_uncertain_message_size_is_refused_with_its_field(size, path, words, hint):
    problem = only_error(size=size)
    assert problem.path == path
    assert problem.line == SIZE_LINE
    assert words in problem.message
    if hint is not None:
        assert problem.hint is not None and hint in problem.hint


def test_a_target_is_never_uncertain():
    problem = only_error(target="{normal: 1MB/s, sd: 10%}")
    assert problem.path == ("targets", "produce_throughput")
    assert problem.line == TARGET_LINE
    assert "only a producer's rate and message_size can be uncertain" in problem.message


def test_the_parsed_form_is_not_a_key_a_person_writes():
    problem = only_error(size="{distribution: lognormal, mean: 1KiB, stddev: 100, colour: red}")
    assert problem.message == "unknown key"
    assert problem.hint is not None and "uncertainty" not in problem.hint
    assert "stddev" in problem.hint
    for written in ("{uncertainty: {normal: 1MB/s, sd: 1%}}",):
        assert "write an uncertain rate as" in only_error(rate=written).message


def test_a_wide_normal_gets_a_warning_naming_its_truncation():
    def warnings(rate: str) -> list:
        _, found = parse_scenario_with_warnings(BASE.format(rate=rate, size="1KiB", target="1MB/s"), "s.yaml")
        return [w for w in found if w.path[:3] == RATE]

    (warning,) = warnings("{normal: 100MB/s, sd: 50%}")
    assert warning.warning and warning.path == (*RATE, "sd") and warning.line == RATE_LINE
    # P(N(1, 0.5) < 0) = 2.28%; the mean truncated at 0 is 1 + 0.5 * pdf(2) / cdf(2) = 1.0276
    assert "2.3% of this normal lies below zero" in warning.message and "2.8% above the mean" in warning.message
    assert "lognormal" in warning.hint
    assert warnings("{normal: 100MB/s, sd: 30%}") == []  # 0.04% below zero
    assert warnings("{lognormal: 100MB/s, sd: 200%}") == []  # never below zero
