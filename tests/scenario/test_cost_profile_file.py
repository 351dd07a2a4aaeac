"""`costs: FILE`: a scenario names a cost profile file; its problems name that file."""

import textwrap

import pytest

from simkafka.scenario import (
    ScenarioError,
    load_scenario,
    parse_scenario,
    parse_scenario_with_warnings,
)
from simkafka.scenario.costs import default_costs

SCENARIO = """\
name: t
cluster:
  brokers: 3
topics:
  - name: orders
    partitions: 3
producers:
  - topic: orders
    rate: 1000 msg/s
    message_size: 1KiB
costs: {costs}
"""
COSTS_LINE = 11  # the line of `costs:` in SCENARIO


def write(directory, costs_value: str, profile: str | None, name: str = "laptop.costs.yaml"):
    directory.mkdir(parents=True, exist_ok=True)
    scenario = directory / "s.yaml"
    scenario.write_text(SCENARIO.format(costs=costs_value))
    if profile is not None:
        (directory / name).write_text(textwrap.dedent(profile))
    return scenario


def problems_of(path):
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def test_a_partial_profile_file_changes_only_what_it_names(tmp_path):
    scenario = write(tmp_path, "laptop.costs.yaml", "broker:\n  append_record_cpu: 40ns\n")
    costs = load_scenario(scenario).costs
    assert costs.broker.append_record_cpu == pytest.approx(40e-9)
    assert costs.broker.fsync == default_costs().broker.fsync
    assert costs.codecs == default_costs().codecs
    assert "laptop.costs.yaml" in costs.source


def test_the_file_is_found_beside_the_scenario_not_in_the_working_directory(tmp_path, monkeypatch):
    scenario = write(tmp_path / "deep" / "er", "profiles/p.yaml", None)
    (tmp_path / "deep" / "er" / "profiles").mkdir()
    (tmp_path / "deep" / "er" / "profiles" / "p.yaml").write_text("consumer: {record_cpu: 1us}\n")
    monkeypatch.chdir(tmp_path)
    assert load_scenario(scenario).costs.consumer.record_cpu == pytest.approx(1e-6)


def test_parse_scenario_takes_the_directory_to_look_in(tmp_path):
    (tmp_path / "p.yaml").write_text("consumer: {record_cpu: 2us}\n")
    text = SCENARIO.format(costs="p.yaml")
    parsed, _ = parse_scenario_with_warnings(text, "<text>", base_dir=tmp_path)
    assert parsed.costs.consumer.record_cpu == pytest.approx(2e-6)
    with pytest.raises(ScenarioError, match="no such cost profile file"):
        parse_scenario(text, "<text>")  # without base_dir: the working directory


def test_a_bad_value_in_the_profile_names_the_profile_file_line_and_field(tmp_path):
    scenario = write(tmp_path, "laptop.costs.yaml", """\
        # my laptop
        broker:
          append_record_cpu: 40ns
          fsync: -3ms
        """)
    (problem,) = problems_of(scenario)
    assert problem.source == str(tmp_path / "laptop.costs.yaml")
    assert (problem.line, problem.path) == (4, ("broker", "fsync"))
    assert "negative" in problem.message
    assert str(problem).startswith(f"{tmp_path / 'laptop.costs.yaml'}:4:3: error: broker.fsync:")


def test_an_unknown_key_in_the_profile_is_named_there_with_a_hint(tmp_path):
    scenario = write(tmp_path, "laptop.costs.yaml", "consumer:\n  recordcpu: 1us\n")
    (problem,) = problems_of(scenario)
    assert problem.source.endswith("laptop.costs.yaml")
    assert (problem.line, problem.path) == (2, ("consumer", "recordcpu"))
    assert problem.hint == "did you mean 'record_cpu'?"


def test_a_missing_profile_file_is_the_scenarios_problem_at_its_costs_line(tmp_path):
    scenario = write(tmp_path, "nowhere.yaml", None)
    (problem,) = problems_of(scenario)
    assert problem.source == str(scenario)
    assert (problem.line, problem.path) == (COSTS_LINE, ("costs",))
    assert "nowhere.yaml: no such cost profile file" in problem.message


def test_a_directory_named_as_profile_is_the_scenarios_problem(tmp_path):
    (tmp_path / "adir").mkdir()
    scenario = write(tmp_path, "adir", None)
    (problem,) = problems_of(scenario)
    assert (problem.source, problem.line) == (str(scenario), COSTS_LINE)
    assert "is a directory" in problem.message


def test_a_profile_that_is_not_a_mapping_is_named_at_its_first_line(tmp_path):
    scenario = write(tmp_path, "p.yaml", "- 1\n- 2\n", name="p.yaml")
    (problem,) = problems_of(scenario)
    assert (problem.source, problem.line) == (str(tmp_path / "p.yaml"), 1)
    assert "mapping" in problem.message


def test_invalid_yaml_in_the_profile_names_the_profile(tmp_path):
    scenario = write(tmp_path, "p.yaml", "broker: {fsync: 1ms\n", name="p.yaml")
    (problem,) = problems_of(scenario)
    assert problem.source == str(tmp_path / "p.yaml")
    assert "not valid YAML" in problem.message


def test_scenario_problems_stay_in_the_scenario_and_come_first(tmp_path):
    scenario = write(tmp_path, "p.yaml", "broker: {fsync: -1ms}\n", name="p.yaml")
    scenario.write_text(scenario.read_text().replace("brokers: 3", "brokers: -1"))
    found = problems_of(scenario)
    assert [p.source for p in found] == [str(scenario), str(tmp_path / "p.yaml")]
    assert found[0].path == ("cluster", "brokers")
