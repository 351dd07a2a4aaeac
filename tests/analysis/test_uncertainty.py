"""Monte Carlo over uncertain inputs: deterministic draws with the written mean and sd, and
Wilson intervals for how often a target is missed."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simkafka.analysis.uncertainty import (
    MissProbability,
    UncertaintyError,
    draw_scenarios,
    draw_value,
    input_rng,
    miss_probability,
    sample_seed,
    uncertain_inputs,
)
from simkafka.scenario import parse_scenario
from simkafka.sim.engine import simulate

from .conftest import TINY


def uncertain(rate: str = "2000 msg/s", size: str = "1KiB", extra_producer: str = "") -> object:
    text = TINY.replace("rate: 2000 msg/s", f"rate: {rate}").replace("message_size: 1KiB", f"message_size: {size}")
    if extra_producer:
        text = text.replace("consumer_groups:", extra_producer + "consumer_groups:")
    return parse_scenario(text, "u.yaml")


SECOND = """\
  - topic: events
    rate: {normal: 1MB/s, sd: 30%}
    message_size: 512
"""


def rates(scenarios) -> np.ndarray:
    return np.array([s.producers[0].rate.messages(s.producers[0].message_size.mean) for s in scenarios])


def sizes(scenarios) -> np.ndarray:
    return np.array([s.producers[0].message_size.mean for s in scenarios])


# ---- what is uncertain ------------------------------------------------------------------


def test_uncertain_inputs_name_producer_field_and_distribution():
    scenario = uncertain("{normal: 2000 msg/s, sd: 10%}", "{lognormal: 1KiB, sd: 25%}", SECOND)
    found = uncertain_inputs(scenario)
    assert [(i.producer, i.index, i.field, i.value.distribution) for i in found] == [
        ("writers", 0, "rate", "normal"), ("writers", 0, "message_size", "lognormal"), ("1", 1, "rate", "normal"),
    ]
    assert [i.name for i in found] == ["producers.writers.rate", "producers.writers.message_size", "producers.1.rate"]
    assert repr(found[0]) == "<UncertainInput producers.writers.rate: normal(mean 2000 msg/s, sd 10%)>"
    assert repr(found[1]) == "<UncertainInput producers.writers.message_size: lognormal(mean 1KiB, sd 25%)>"


def test_a_scenario_without_uncertain_inputs_has_none(tiny):
    assert uncertain_inputs(tiny) == []


# ---- drawing ----------------------------------------------------------------------------


def test_draws_are_fixed_by_the_seed():
    scenario = uncertain("{normal: 2000 msg/s, sd: 10%}", "{lognormal: 1KiB, sd: 25%}")
    first = draw_scenarios(scenario, 20, seed=7)
    assert draw_scenarios(scenario, 20, seed=7) == first
    other = draw_scenarios(scenario, 20, seed=8)
    assert not np.array_equal(rates(first), rates(other))
    assert not np.array_equal(sizes(first), sizes(other))
    # sample i is the same whatever the number of samples
    assert draw_scenarios(scenario, 5, seed=7) == first[:5]
    # samples differ from each other, inputs from each other
    assert len(set(rates(first))) == 20 and len(set(sizes(first))) > 15


def test_each_sample_is_a_concrete_validated_scenario_with_its_own_seed():
    scenario = uncertain("{uniform: [1000 msg/s, 3000 msg/s]}", "{normal: 1KiB, sd: 10%}")
    drawn = draw_scenarios(scenario, 10, seed=3)
    assert [s.seed for s in drawn] == [sample_seed(3, i) for i in range(10)]
    assert len({s.seed for s in drawn}) == 10
    for s in drawn:
        assert uncertain_inputs(s) == []
        assert not s.producers[0].rate.uncertain
        assert 1000 <= s.producers[0].rate.messages_per_second <= 3000
        # everything else is the scenario's own
        assert s.topics == scenario.topics and s.cluster == scenario.cluster
        assert s.run.duration == scenario.run.duration and s.run.engine == scenario.run.engine


def test_a_scenario_without_uncertainty_gives_copies_differing_only_in_seed(tiny):
    drawn = draw_scenarios(tiny, 4, seed=11)
    assert [s.seed for s in drawn] == [sample_seed(11, i) for i in range(4)]
    for s in drawn:
        assert s.with_run(seed=tiny.seed) == tiny


def test_an_input_draws_from_a_stream_of_its_own():
    # adding an uncertain producer does not change the first producer's draws
    alone = draw_scenarios(uncertain("{normal: 2000 msg/s, sd: 10%}"), 30, seed=5)
    with_another = draw_scenarios(uncertain("{normal: 2000 msg/s, sd: 10%}", extra_producer=SECOND), 30, seed=5)
    assert np.array_equal(rates(alone), rates(with_another))
    assert len({s.producers[1].rate.bytes_per_second for s in with_another}) == 30
    # and the seeds do not depend on which inputs there are
    assert [s.seed for s in alone] == [s.seed for s in with_another]


def test_the_sample_mean_and_sd_of_2000_normal_draws_are_the_written_ones():
    drawn = rates(draw_scenarios(uncertain("{normal: 2000 msg/s, sd: 10%}"), 2000, seed=1))
    # standard error of the mean: 200 / sqrt(2000) ~ 4.5 msg/s, about 0.2%
    assert drawn.mean() == pytest.approx(2000, rel=0.02)
    assert drawn.std(ddof=1) == pytest.approx(200, rel=0.08)
    # normal, not lognormal: symmetric about the mean
    assert np.median(drawn) == pytest.approx(2000, rel=0.02)


def test_an_absolute_sd_is_honoured_in_bytes_per_second():
    drawn = draw_scenarios(uncertain("{normal: 50MB/s, sd: 5MB/s}"), 2000, seed=2)
    values = np.array([s.producers[0].rate.bytes_per_second for s in drawn])
    assert values.mean() == pytest.approx(50e6, rel=0.02)
    assert values.std(ddof=1) == pytest.approx(5e6, rel=0.08)


def test_a_lognormal_has_the_written_mean_and_sd_not_its_logs():
    scenario = uncertain("{lognormal: 2000 msg/s, sd: 50%}")
    value = uncertain_inputs(scenario)[0].value
    draws = np.array([draw_value(value, input_rng(9, i, "x")) for i in range(20_000)])
    assert draws.mean() == pytest.approx(2000, rel=0.03)
    assert draws.std(ddof=1) == pytest.approx(1000, rel=0.08)
    assert np.all(draws > 0)
    # skewed right: the median below the mean, at mean / sqrt(1 + cv^2) for a lognormal
    assert np.median(draws) == pytest.approx(2000 / math.sqrt(1.25), rel=0.03)


def test_a_uniform_stays_within_its_bounds_and_centres_on_the_midpoint():
    drawn = rates(draw_scenarios(uncertain("{uniform: [1000 msg/s, 3000 msg/s]}"), 2000, seed=4))
    assert drawn.min() >= 1000 and drawn.max() <= 3000
    assert drawn.mean() == pytest.approx(2000, rel=0.02)
    assert drawn.std(ddof=1) == pytest.approx(2000 / math.sqrt(12), rel=0.08)


def test_a_wide_normal_is_redrawn_below_zero_never_clipped():
    scenario = uncertain("{normal: 2000 msg/s, sd: 100%}")
    value = uncertain_inputs(scenario)[0].value
    draws = np.array([draw_value(value, input_rng(1, i, "x")) for i in range(4000)])
    assert np.all(draws > 0)
    # redrawn, not clipped: no pile of identical values at a floor, yet near zero is reached
    assert np.count_nonzero(draws == draws.min()) == 1 and draws.min() < 50
    # the mean of N(2000, 2000) truncated at 0: mu + sigma * phi(1) / Phi(1)
    phi = math.exp(-0.5) / math.sqrt(2 * math.pi)
    truncated_mean = 2000 + 2000 * phi / 0.8413447
    assert draws.mean() == pytest.approx(truncated_mean, rel=0.04)


def test_drawn_message_sizes_are_whole_positive_bytes():
    drawn = sizes(draw_scenarios(uncertain(size="{normal: 100, sd: 20%}"), 1000, seed=6))
    assert drawn.dtype.kind == "i" and drawn.min() >= 1
    assert drawn.mean() == pytest.approx(100, rel=0.03)
    assert drawn.std(ddof=1) == pytest.approx(20, rel=0.1)
    # a wide one is redrawn at or below half a byte, so every size is at least 1 byte
    value = uncertain_inputs(uncertain(size="{normal: 3, sd: 200%}"))[0].value
    assert min(draw_value(value, input_rng(1, i, "x")) for i in range(2000)) == 1


def test_a_draw_the_scenario_refuses_is_reported_with_its_sample():
    # a lognormal tail past max.request.size (1 MiB): every message would be refused
    scenario = uncertain(size="{lognormal: 900KiB, sd: 200%}")
    with pytest.raises(UncertaintyError) as info:
        draw_scenarios(scenario, 200, seed=1)
    message = str(info.value)
    assert "sample " in message and "producers.writers.message_size=" in message
    assert "larger than the limit" in message


@pytest.mark.parametrize("samples", [0, -1, 1.5, True, 10**6])
def test_samples_must_be_a_sensible_count(tiny, samples):
    with pytest.raises(ValueError, match="samples must be an integer"):
        draw_scenarios(tiny, samples, seed=1)


@pytest.mark.parametrize("engine", ["stepped", "events"])
def test_a_plain_run_of_an_uncertain_scenario_is_a_run_of_its_nominal_values(engine):
    def run(rate: str, size: str):
        scenario = uncertain(rate, size)
        return simulate(scenario.with_run(engine=engine, duration=0.3, warmup=0.1))

    nominal = run("2000 msg/s", "1KiB")
    fuzzy = run("{normal: 2000 msg/s, sd: 10%}", "{lognormal: 1KiB, sd: 25%}")
    assert fuzzy.summary == nominal.summary
    assert fuzzy.timeseries.equals(nominal.timeseries)


# ---- how often a target is missed -------------------------------------------------------


@pytest.mark.parametrize(("misses", "samples", "expected"), [
    # reference values: Wilson score interval, 95% (e.g. Newcombe 1998, Table I; R binom.confint)
    (0, 20, (0.0, 0.0, 0.1611)),
    (5, 10, (0.5, 0.2366, 0.7634)),
    (1, 10, (0.1, 0.0179, 0.4042)),
    (20, 20, (1.0, 0.8389, 1.0)),
    (81, 263, (0.3080, 0.2553, 0.3662)),
])
def test_wilson_interval_against_known_values(misses, samples, expected):
    assert miss_probability(misses, samples) == pytest.approx(expected, abs=1e-4)


def test_wilson_interval_properties():
    for n in (1, 7, 50):
        for k in range(n + 1):
            p, low, high = miss_probability(k, n)
            assert 0 <= low <= p <= high <= 1
            # symmetric: missing k of n is meeting n-k of n
            _, low2, high2 = miss_probability(n - k, n)
            assert low == pytest.approx(1 - high2) and high == pytest.approx(1 - low2)
    # narrower with more samples and with less confidence
    assert miss_probability(50, 1000)[2] - miss_probability(50, 1000)[1] < miss_probability(5, 100)[2] - miss_probability(5, 100)[1]
    assert miss_probability(5, 100, 0.9)[2] < miss_probability(5, 100, 0.99)[2]


@pytest.mark.parametrize(("misses", "samples", "confidence", "error"), [
    (1, 0, 0.95, ValueError), (5, 4, 0.95, ValueError), (-1, 4, 0.95, ValueError),
    (1, 4, 1.0, ValueError), (1, 4, 0.0, ValueError), (1.0, 4, 0.95, TypeError),
])
def test_miss_probability_refuses_nonsense(misses, samples, confidence, error):
    with pytest.raises(error):
        miss_probability(misses, samples, confidence)


def test_miss_probability_record():
    record = MissProbability.of("p99_produce_latency", 3, 200)
    assert (record.target, record.misses, record.samples) == ("p99_produce_latency", 3, 200)
    assert (record.probability, record.low, record.high) == miss_probability(3, 200)
    assert repr(record) == "<MissProbability p99_produce_latency: missed 3/200, p=1.5% (95% CI 0.5%-4.3%)>"
    with pytest.raises(AttributeError):
        record.misses = 4  # frozen
