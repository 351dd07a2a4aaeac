"""The curated public API: changing it is a decision, so this list must change with it."""

import simkafka

EXPECTED = [
    "Problem",
    "RandomStreams",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "parse_scenario",
    "simulate",
]


def test_public_api_is_exactly_the_curated_list():
    assert sorted(simkafka.__all__) == sorted(EXPECTED)
    for name in simkafka.__all__:
        assert hasattr(simkafka, name), name


def test_importing_simkafka_does_not_load_the_engine():
    import subprocess
    import sys

    code = (
        "import sys, simkafka; print('simpy' in sys.modules); print(simkafka.simulate.__module__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "simkafka.sim.engine"]
