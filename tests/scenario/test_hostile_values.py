"""Every field of the quickstart, given every kind of wrong value: it loads or it is one clear error.

A value-level sweep (the text-level fuzzer lives with the engines' tests): each value in
the file, and each section, is replaced in turn by values of the wrong type or beyond any
range. Before the bounds and shape checks this found OverflowErrors, TypeErrors in the
broker-count shorthand, serialisation errors in ``--resolved`` and a hang building 2^31
brokers.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest
import yaml

from simkafka.scenario import ScenarioError, parse_scenario
from simkafka.scenario.reading import read_yaml_with_positions

QUICKSTART = Path(__file__).resolve().parents[2] / "scenarios" / "quickstart.yaml"
# one of each kind: null, bool, list, mapping, empty text, negative, beyond int32 and any
# range, fractional, NaN, infinite, a negative and a zero quantity, a path
HOSTILE = [None, True, [1, 2], {"a": 1}, "", -1, 2**31, 10**30, 1.5, float("nan"), float("-inf"), "-500MB/s",
           "0Gbps", "a/b"]


def paths(data, path=()):
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from paths(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from paths(value, (*path, i))


def replaced(data, path, value):
    data = copy.deepcopy(data)
    target = data
    for element in path[:-1]:
        target = target[element]
    target[path[-1]] = value
    return data


def test_every_field_with_every_wrong_value():
    data, _ = read_yaml_with_positions(QUICKSTART.read_text(), str(QUICKSTART))
    cases = accepted = 0
    for path in list(paths(data))[1:]:
        for value in HOSTILE:
            text = yaml.safe_dump(replaced(data, path, value), sort_keys=False)
            started = time.process_time()  # CPU: a busy machine's waits are not the value's
            try:
                scenario = parse_scenario(text, "m.yaml")
            except ScenarioError as exc:
                assert all(p.line is not None for p in exc.problems), (path, value, str(exc))
            else:
                accepted += 1
                resolved = yaml.safe_dump(scenario.model_dump(mode="json"), allow_unicode=True)
                assert parse_scenario(resolved) == scenario, (path, value)
            assert time.process_time() - started < 1.0, (path, value)
            cases += 1
    assert cases > 800 and 0 < accepted < cases / 4


@pytest.mark.parametrize("value", [None, 0, "x"])
def test_whole_sections_of_the_wrong_shape(value):
    data, _ = read_yaml_with_positions(QUICKSTART.read_text(), str(QUICKSTART))
    for section in ("cluster", "topics", "producers", "consumer_groups", "run", "targets"):
        with pytest.raises(ScenarioError) as info:
            parse_scenario(yaml.safe_dump(replaced(data, (section,), value)), "m.yaml")
        assert info.value.problems[0].path[0] == section
