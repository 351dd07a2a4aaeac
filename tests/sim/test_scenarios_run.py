"""Every scenario in scenarios/ runs through both engines and conserves its messages.

Each is shortened to half a simulated second (a full run is `simkafka run`); what is
checked is that the engine builds the whole cluster, moves data end to end and can
account for every message it created.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simkafka.scenario import load_scenario
from simkafka.sim.engine import simulate

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml")) + [
    ROOT / "benchmarks" / "scenarios" / "reference.yaml"
]


@pytest.mark.parametrize("engine", ["events", "stepped", "flow"])
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario_runs_and_conserves_messages(path, engine):
    scenario = load_scenario(path)
    # the stepped engine is fast enough to run each scenario for longer
    duration = {"events": 0.5, "stepped": 1.0, "flow": 1.0}[engine] if path.stem != "reference" else 0.05
    # a group that waits for fetch.min.bytes may sit out fetch.max.wait.ms first
    waits = [g.fetch_max_wait for g in scenario.consumer_groups if g.fetch_min_bytes > 1]
    duration = max([duration, *(1.5 * w for w in waits)])
    scenario = scenario.model_copy(
        update={
            "run": scenario.run.model_copy(
                update={"duration": duration, "warmup": duration / 2, "engine": engine}
            )
        }
    )
    result = simulate(scenario)
    c = result.conservation
    assert c["ok"], c
    assert c["created"] > 0 and c["acknowledged"] > 0
    for group in c["groups"].values():
        assert group["consumed"] > 0
