"""The curated public API: changing it is a decision, so this list must change with it."""

import simkafka

EXPECTED = [
    "Problem",
    "RandomStreams",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "parse_scenario",
]


def test_public_api_is_exactly_the_curated_list():
    assert sorted(simkafka.__all__) == sorted(EXPECTED)
    for name in simkafka.__all__:
        assert hasattr(simkafka, name), name
