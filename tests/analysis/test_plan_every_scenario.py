"""Every scenario in scenarios/ gets a plan (issue 12): its own plan block searched, each
candidate run short so that the suite stays quick."""

import json
from pathlib import Path

import pytest

from simkafka import load_scenario
from simkafka.analysis.planner import plan

SCENARIOS = sorted((Path(__file__).parents[2] / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_scenario_gets_a_plan(path):
    scenario = load_scenario(path)
    assert scenario.plan is not None, f"{path.name} has no plan: block"
    data = scenario.model_dump(mode="json", by_alias=True, exclude_unset=True)
    # short runs and a small budget: the search itself is what is tested here
    data["plan"] |= {"duration": "1s", "warmup": "0.25s", "max_simulations": 6}
    result = plan(type(scenario).model_validate(data), executor="pool", workers=2)
    costs = [c.monthly_usd for c in result.candidates]
    assert costs == sorted(costs) and costs and costs[0] > 0
    assert set(result.advice) == {t.name for t in scenario.topics}  # every topic auto
    if result.recommendation is not None:
        cases = result.cases[result.recommendation.key]
        assert cases and all(case.met for case in cases)
        assert all(c.monthly_usd <= result.recommendation.monthly_usd for c in result.next_cheaper())
    else:
        assert result.reason
        assert any(result.why_not(c) for c in result.candidates)
    json.dumps(result.to_dict(), allow_nan=True)  # plan.json is plain data
