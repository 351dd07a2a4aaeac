"""Run settings that would mislead: a step too coarse for the latencies, a step shorter than
the clients' round trip, a name that is a path."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from simkafka.cli.main import main
from simkafka.scenario import ScenarioError, parse_scenario, parse_scenario_with_warnings
from simkafka.scenario.checks import check_step_resolution, check_step_round_trip

BASE = """\
name: t
cluster:
  brokers: 3
  racks: [a, b, c]
  network: {rack_latency: 0.1ms, cross_rack_latency: 0.5ms, client_latency: 0.25ms}
topics:
  - {name: orders, partitions: 3, replication.factor: 3, min.insync.replicas: 2}
producers:
  - topic: orders
    rate: 1000 msg/s
    message_size: 1KiB
    linger.ms: 5
run:
  duration: 2s
  engine: stepped
  step: 1ms
"""
# shortest produce latency: 5 ms linger + 0.5 ms client round trip + 1 ms replication round trip


def test_a_step_that_resolves_the_latencies_is_quiet():
    _, warnings = parse_scenario_with_warnings(BASE, "s.yaml")
    assert warnings == []


def test_a_coarse_step_is_warned_at_its_line():
    _, warnings = parse_scenario_with_warnings(BASE.replace("step: 1ms", "step: 100ms"), "s.yaml")
    (w,) = warnings
    assert (w.path, w.line, w.warning) == (("run", "step"), 16, True)
    assert "cannot resolve the shortest produce latency" in w.message and "6.500 ms" in w.message
    assert w.hint == "use run.step <= 3.250 ms, or the events engine for latencies"


def test_linger_zero_tightens_the_bound():
    text = BASE.replace("linger.ms: 5", "linger.ms: 0").replace("step: 1ms", "step: 2ms")
    assert [w.path for w in parse_scenario_with_warnings(text, "s.yaml")[1]] == [("run", "step")]


def test_the_events_engine_has_no_step_to_warn_about():
    assert parse_scenario_with_warnings(BASE.replace("step: 1ms", "step: 100ms").replace(
        "engine: stepped", "engine: events"), "s.yaml")[1] == []


def test_the_check_works_on_a_scenario_overridden_after_loading():
    scenario = parse_scenario(BASE.replace("engine: stepped", "engine: events"))
    overridden = scenario.with_run(engine="stepped", step=0.1)
    (finding,) = check_step_resolution(overridden)
    assert finding[0] == ("run", "step") and finding[3] is True


def test_run_warns_about_a_coarse_step_given_on_the_command_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE.replace("engine: stepped", "engine: events"))
    result = CliRunner().invoke(main, ["run", str(path), "--engine", "stepped", "--step", "100ms",
                                       "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"{path}: warning: run.step: a step of 100.000 ms cannot resolve" in result.output


# ---- a round trip longer than a step -----------------------------------------------------
# The stepped engine holds a client request one step and only adds the rest of the round
# trip to the latencies: throughput bounded by requests in flight x round trip comes out
# round trip / step times too high (see check_step_round_trip for the measurements).

FAR = BASE.replace("client_latency: 0.25ms", "client_latency: 5ms")


def test_a_client_round_trip_longer_than_the_step_is_warned_at_the_latency():
    _, warnings = parse_scenario_with_warnings(FAR, "s.yaml")
    (w,) = warnings
    assert (w.path, w.line, w.warning) == (("cluster", "network", "client_latency"), 5, True)
    assert "2 x client_latency = 10.000 ms" in w.message and "1.000 ms" in w.message
    assert "10.0 times too high" in w.message
    assert w.hint == "use run.engine: events (a shorter step makes this worse, not better)"


def test_a_round_trip_within_one_step_is_quiet():
    # 2 x 0.5 ms = 1 ms: the one step the engine holds the request is the round trip
    text = BASE.replace("client_latency: 0.25ms", "client_latency: 0.5ms")
    assert parse_scenario_with_warnings(text, "s.yaml")[1] == []


def test_the_events_engine_holds_every_round_trip():
    text = FAR.replace("engine: stepped", "engine: events")
    assert parse_scenario_with_warnings(text, "s.yaml")[1] == []


def test_replication_latency_longer_than_the_step_is_not_this_warning():
    # a follower's fetch loop is held in whole steps, so only the client latency counts
    text = BASE.replace("cross_rack_latency: 0.5ms", "cross_rack_latency: 5ms").replace(
        "rack_latency: 0.1ms", "rack_latency: 2ms")
    assert check_step_round_trip(parse_scenario(text)) == []


def test_the_round_trip_check_works_on_a_scenario_overridden_after_loading():
    scenario = parse_scenario(BASE.replace("engine: stepped", "engine: events"))
    assert check_step_round_trip(scenario) == []
    # 0.25 ms each way: 0.5 ms round trip, five 0.1 ms steps
    (finding,) = check_step_round_trip(scenario.with_run(engine="stepped", step=0.0001))
    assert finding[0] == ("cluster", "network", "client_latency") and finding[3] is True
    assert "5.0 times too high" in finding[1]


def test_run_warns_about_a_round_trip_longer_than_the_step_given_on_the_command_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(BASE.replace("engine: stepped", "engine: events"))
    result = CliRunner().invoke(main, ["run", str(path), "--engine", "stepped", "--step", "0.1ms",
                                       "--duration", "0.2s", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"{path}: warning: cluster.network.client_latency: the clients' round trip" in result.output


# ---- names ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".", "a b", "x" * 250, "naïve", "C:\\\\x"])
def test_names_that_are_not_file_names_are_refused(check_text, tmp_path, name):
    status, output = check_text(BASE.replace("name: t", f"name: '{name}'"))
    assert status == 2
    assert f"{tmp_path / 's.yaml'}:1:1: error: name: a scenario name uses only ASCII letters" in output
    assert "hint: e.g. '" in output


def test_the_hint_suggests_a_usable_name():
    with pytest.raises(ScenarioError) as info:
        parse_scenario(BASE.replace("name: t", "name: my scenario/v2"))
    assert info.value.problems[0].hint == "e.g. 'my-scenario-v2'"


@pytest.mark.parametrize("name", ["quickstart", "bank-cdc.v2", "A_b-9", "x" * 249])
def test_file_names_are_accepted(name):
    assert parse_scenario(BASE.replace("name: t", f"name: {name}")).name == name
