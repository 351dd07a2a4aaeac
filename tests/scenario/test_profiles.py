"""Rate profiles (issue 16): the growth profile, a diurnal rate written on the rate, and the
piecewise-constant view the flow engine plays (pieces cover the span, carry its exact
volume and keep within the tolerance)."""

import math
import textwrap

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.analysis.candidates import grow, planned_peak
from simkafka.scenario import ScenarioError, parse_scenario
from simkafka.scenario.profiles import (
    BurstProfile,
    ConstantProfile,
    DiurnalProfile,
    GrowthProfile,
    PoissonProfile,
    StepProfile,
)

BASE = """\
name: t
cluster: {brokers: 3}
topics:
  - {name: orders, partitions: 6, replication.factor: 3}
producers:
  - topic: orders
    rate: RATE
    message_size: 1KiB
PROFILE
"""


def load(rate: str = "1000 msg/s", profile: str = ""):
    text = BASE.replace("RATE", rate).replace("PROFILE", f"    profile: {profile}" if profile else "")
    return parse_scenario(text, "s.yaml")


def problem(rate: str = "1000 msg/s", profile: str = ""):
    with pytest.raises(ScenarioError) as info:
        load(rate, profile)
    assert len(info.value.problems) == 1, [str(p) for p in info.value.problems]
    return info.value.problems[0]


def round_trips(scenario) -> bool:
    return parse_scenario(yaml.safe_dump(scenario.model_dump(mode="json"))) == scenario


# ---- a diurnal rate written on the rate ---------------------------------------------------


def test_a_diurnal_rate_is_its_mean_under_a_diurnal_profile():
    producer = load("{profile: diurnal, peak: 500MB/s, trough: 50MB/s}").producers[0]
    assert producer.rate.bytes_per_second == 275e6
    assert isinstance(producer.profile, DiurnalProfile)
    assert producer.profile.amplitude == pytest.approx(450 / 550)
    # the defaults of a diurnal profile: a day, peaking at 14:00
    assert (producer.profile.period, producer.profile.peak_at) == (86400.0, 14 * 3600.0)
    rate = producer.rate.bytes_per_second
    assert rate * producer.profile.factor_at(14 * 3600.0) == pytest.approx(500e6)
    assert rate * producer.profile.factor_at(2 * 3600.0) == pytest.approx(50e6)


def test_a_diurnal_rate_in_messages_with_its_period_and_peak():
    producer = load("{profile: diurnal, peak: 3000 msg/s, trough: 1000 msg/s, period: 1h, peak_at: 15min}").producers[0]
    assert producer.rate.messages_per_second == 2000.0 and producer.rate.bytes_per_second is None
    assert producer.profile == DiurnalProfile(period=3600.0, amplitude=0.5, peak_at=900.0)


@pytest.mark.parametrize("rate", [
    "{profile: diurnal, peak: 500MB/s, trough: 50MB/s}",
    "{profile: diurnal, peak: 3000 msg/s, trough: 1000 msg/s, period: 1h, peak_at: 15min}",
])
def test_a_diurnal_rate_is_written_back_as_written_and_loads_to_the_same(rate):
    scenario = load(rate)
    written = scenario.model_dump(mode="json")["producers"][0]
    assert written["rate"]["profile"] == "diurnal" and "profile" not in written
    assert round_trips(scenario)


def test_the_planner_sizes_a_diurnal_rate_for_its_peak():
    grown = grow(load("{profile: diurnal, peak: 500MB/s, trough: 50MB/s}"), 1.0).producers[0]
    assert grown.rate.bytes_per_second == pytest.approx(500e6)
    assert isinstance(grown.profile, ConstantProfile)


def test_a_diurnal_rate_and_a_profile_contradict_each_other():
    p = problem("{profile: diurnal, peak: 500MB/s, trough: 50MB/s}", "{type: step, steps: [{at: 1s, factor: 2}]}")
    assert p.path == ("producers", 0, "profile") and p.line == 9
    assert "one profile" in p.message


@pytest.mark.parametrize(("rate", "says"), [
    ("{profile: diurnal, peak: 50MB/s, trough: 500MB/s}", "below the trough"),
    ("{profile: diurnal, peak: 500MB/s, trough: 1000 msg/s}", "same unit"),
    ("{profile: diurnal, peak: max, trough: 10MB/s}", "not 'max'"),
    ("{profile: diurnal, peak: 500MB/s}", "required"),
    ("{profile: growth, peak: 500MB/s, trough: 50MB/s}", "producer's `profile:`"),
    ("{profile: diurnal, peak: 500MB/s, trough: 50MB/s, amplitude: 0.5}", "amplitude"),
    ("{profile: diurnal, peak: {normal: 500MB/s, sd: 10%}, trough: 50MB/s}", "fixed rate"),
])
def test_a_bad_diurnal_rate_names_the_rate(rate, says):
    p = problem(rate)
    assert p.path[:3] == ("producers", 0, "rate") and p.line == 7
    assert says in str(p)


def test_a_bad_diurnal_rate_exits_2_with_the_file_and_line(check_text):
    status, output = check_text(BASE.replace("RATE", "{profile: diurnal, peak: 5MB/s, trough: 50MB/s}")
                                .replace("PROFILE", ""))
    assert status == 2
    assert ":7" in output and "producers[0].rate" in output and "Traceback" not in output


# ---- the growth profile ---------------------------------------------------------------------


def test_growth_compounds_by_default():
    profile = load(profile="{type: growth, growth: 10%, per: 7d}").producers[0].profile
    assert isinstance(profile, GrowthProfile) and profile.growth == pytest.approx(0.1) and profile.compound
    week = 7 * 86400.0
    assert profile.factor_at(0.0) == 1.0
    assert profile.factor_at(week) == pytest.approx(1.1)
    assert profile.factor_at(4 * week) == pytest.approx(1.1**4)


def test_linear_growth_and_a_decline_that_stops_at_zero():
    linear = GrowthProfile(growth=0.1, per=86400.0, compound=False)
    assert linear.factor_at(4 * 86400.0) == pytest.approx(1.4)
    decline = GrowthProfile(growth=-0.5, per=86400.0, compound=False)
    assert decline.factor_at(86400.0) == pytest.approx(0.5)
    assert decline.factor_at(3 * 86400.0) == 0.0
    assert decline.integral(0.0, 3 * 86400.0) == pytest.approx(86400.0)  # the triangle up to 2 d


def test_growth_peaks_at_the_end_of_the_run_and_the_planner_sizes_for_that():
    profile = GrowthProfile(growth=1.0, per=3600.0)
    assert profile.peak_factor == math.inf
    assert profile.peak_factor_until(7200.0) == pytest.approx(4.0)
    assert GrowthProfile(growth=-0.2, per=60.0).peak_factor_until(600.0) == 1.0
    scenario = load(profile="{type: growth, growth: 100%, per: 5min}")  # run.duration: 10 min by default
    assert planned_peak(scenario.producers[0].profile, scenario.run.duration) == pytest.approx(4.0)
    assert grow(scenario, 1.0).producers[0].rate.messages_per_second == pytest.approx(4000.0)


def test_growth_round_trips():
    for profile in ("{type: growth, growth: 10%, per: 1d}", "{type: growth, growth: 0.035, per: 7d, compound: false}",
                    "{type: growth, growth: -12.5%, per: 1h}"):
        assert round_trips(load(profile=profile))


@pytest.mark.parametrize(("profile", "field", "says"), [
    ("{type: growth, growth: -100%, per: 1d}", "growth", "greater than -1"),
    ("{type: growth, growth: ten, per: 1d}", "growth", "percentage"),
    ("{type: growth, growth: 10%}", "per", "required"),
    ("{type: growth, growth: 10%, per: 0s}", "per", "greater than 0"),
    ("{type: growht, growth: 10%, per: 1d}", None, "growth"),
])
def test_a_bad_growth_profile_names_the_field(profile, field, says):
    p = problem(profile=profile)
    assert p.path[:3] == ("producers", 0, "profile") and p.line == 9
    if field is not None:
        assert p.path[-1] == field
    assert says in str(p)


def test_steps_and_bursts_peak_over_a_run_only_where_they_reach():
    steps = StepProfile.model_validate({"steps": [{"at": 10, "factor": 3}, {"at": 20, "factor": 0.5}]})
    assert steps.peak_factor_until(10.0) == 1.0 and steps.peak_factor_until(10.5) == 3.0
    burst = BurstProfile(every=60.0, duration=5.0, factor=0.2, start=0.0)
    assert burst.peak_factor_until(4.0) == 0.2 and burst.peak_factor_until(6.0) == 1.0
    assert BurstProfile(every=60.0, duration=5.0, factor=4.0, start=100.0).peak_factor_until(100.0) == 1.0
    diurnal = DiurnalProfile(period=3600.0, amplitude=0.5, peak_at=1800.0)
    assert diurnal.peak_factor_until(600.0) == pytest.approx(diurnal.factor_at(600.0))
    assert diurnal.peak_factor_until(1801.0) == 1.5


# ---- the flow engine's pieces: property tests -------------------------------------------------

durations = st.floats(1.0, 20 * 86400.0)
profiles = st.one_of(
    st.just(ConstantProfile()),
    st.just(PoissonProfile()),
    st.builds(lambda ats, factors: StepProfile.model_validate(
        {"steps": [{"at": a, "factor": f} for a, f in zip(sorted(set(ats)), factors, strict=False)]}),
        st.lists(st.floats(0.0, 1e6), min_size=1, max_size=6), st.lists(st.floats(0.0, 10.0), min_size=6, max_size=6)),
    st.builds(lambda period, amplitude, peak: DiurnalProfile(period=period, amplitude=amplitude, peak_at=peak * period),
              st.floats(60.0, 7 * 86400.0), st.floats(0.0, 1.0), st.floats(0.0, 1.0)),
    st.builds(lambda every, share, factor, start: BurstProfile(every=every, duration=every * share, factor=factor,
                                                               start=start),
              st.floats(10.0, 86400.0), st.floats(0.01, 0.99), st.floats(0.0, 20.0), st.floats(0.0, 1e5)),
    st.builds(lambda growth, per, compound: GrowthProfile(growth=growth, per=per, compound=compound),
              st.floats(-0.9, 2.0), st.floats(3600.0, 30 * 86400.0), st.booleans()),
)


def _midpoint_integral(profile, t0: float, t1: float, n: int = 4000) -> float:
    width = (t1 - t0) / n
    return sum(profile.factor_at(t0 + (i + 0.5) * width) for i in range(n)) * width


@settings(max_examples=150, deadline=None)
@given(profile=profiles, t0=st.floats(0.0, 10 * 86400.0), span=durations,
       tolerance=st.sampled_from([0.005, 0.01, 0.05, 0.2]))
def test_pieces_cover_the_span_carry_its_exact_volume_and_keep_the_tolerance(profile, t0, span, tolerance):
    t1 = t0 + span
    pieces = profile.pieces(t0, t1, tolerance)
    # contiguous, non-empty, covering [t0, t1)
    assert pieces[0][0] == t0 and pieces[-1][1] == t1
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    assert all(end > start for start, end, _ in pieces)
    # the exact volume: the pieces integrate to the closed-form integral
    volume = sum(factor * (end - start) for start, end, factor in pieces)
    assert volume == pytest.approx(profile.integral(t0, t1), rel=1e-9, abs=1e-9 * span)
    # within each piece the factor moves by at most the tolerance (exactly constant for a
    # piecewise-constant profile), and the piece's factor lies within its range
    for start, end, factor in pieces[:400]:
        samples = [profile.factor_at(start + (end - start) * f) for f in (1e-9, 0.25, 0.5, 0.75, 1 - 1e-9)]
        low, high = min(samples), max(samples)
        if isinstance(profile, (DiurnalProfile, GrowthProfile)):
            assert high - low <= tolerance * max(1.0, low) * (1 + 1e-6) + 1e-12
            assert low - 1e-9 <= factor <= high + 1e-9
        else:
            assert samples[2] == factor


@settings(max_examples=40, deadline=None)
@given(profile=profiles, t0=st.floats(0.0, 86400.0), span=st.floats(1.0, 86400.0))
def test_the_closed_form_integral_is_the_integral_of_factor_at(profile, t0, span):
    t1 = t0 + span
    if isinstance(profile, (DiurnalProfile, GrowthProfile)):
        assert profile.integral(t0, t1) == pytest.approx(_midpoint_integral(profile, t0, t1), rel=1e-4)
    else:  # piecewise constant: the sum over its exact pieces, each checked at its middle above
        assert profile.integral(t0, t1) == pytest.approx(
            sum(profile.factor_at(0.5 * (s + e)) * (e - s) for s, e, _ in profile.pieces(t0, t1)), rel=1e-12)


def test_a_week_of_growth_and_of_a_day_is_few_pieces():
    week = 7 * 86400.0
    assert len(GrowthProfile(growth=0.1, per=86400.0).pieces(0.0, week)) < 100
    assert len(DiurnalProfile().pieces(0.0, week)) < 7 * 400


def test_pieces_refuse_a_span_before_time_zero_or_no_tolerance():
    with pytest.raises(ValueError):
        DiurnalProfile().pieces(-1.0, 10.0)
    with pytest.raises(ValueError):
        GrowthProfile(growth=0.1, per=60.0).pieces(0.0, 10.0, tolerance=0.0)


def test_the_written_form_in_a_file_reads_as_documented():
    text = textwrap.dedent(BASE).replace("RATE", "1000 msg/s").replace(
        "PROFILE", "    profile: {type: growth, growth: 10%, per: 1w}")
    assert parse_scenario(text).producers[0].profile.per == 604800.0
