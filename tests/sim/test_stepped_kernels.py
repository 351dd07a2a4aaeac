"""The stepped engine's compiled kernels give the numpy code's results, to the bit (issue 16).

``SIMKAFKA_KERNELS=numpy`` (or a missing numba) runs the engine's numpy code; by default
its busiest stages run as numba kernels (:mod:`simkafka.sim.stepped_numba`). Both paths
play the same scenarios here -- the reference cluster, a fault scenario with acks 0, 1
and all, an offline broker, blocked and max-rate producers, and consumer groups through
a rebalance -- and must give the same time series, histograms, summary and rebalances.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from simkafka.scenario import load_scenario, parse_scenario
from simkafka.sim import stepped_kernels
from simkafka.sim.fluid import max_min_share
from simkafka.sim.stepped import SteppedWorld
from simkafka.sim.stepped_run import simulate_stepped

from .stepped_scenarios import mixed_scenario

ROOT = Path(__file__).resolve().parents[2]


def _scenarios():
    reference = load_scenario(ROOT / "benchmarks" / "scenarios" / "reference.yaml")
    # a member slows down and another leaves: a cooperative rebalance while one is busy
    # (the group forms at once, not after group.initial.rebalance.delay.ms)
    groups = yaml.safe_load((ROOT / "scenarios" / "slow-consumer-kicked-out.yaml").read_text())
    groups["cluster"]["config"] = {"group.initial.rebalance.delay.ms": 0}
    groups["faults"] = [
        {"type": "consumer_slow", "at": "3.5s", "group": "risk-scoring", "member": 0,
         "factor": 50, "duration": "1s"},
        {"type": "consumer_leave", "at": "4s", "group": "risk-scoring", "member": 2},
    ]  # fmt: skip
    return {
        "reference": reference.with_run(duration=0.2, warmup=0.05, engine="stepped", step=0.001),
        "mixed faults": mixed_scenario(group_faults=True),
        "group rebalance": parse_scenario(yaml.safe_dump(groups), "groups.yaml").with_run(
            duration=6.0, warmup=0.5, engine="stepped", step=0.002
        ),
    }


def _run(scenario, monkeypatch, kernels: str):
    monkeypatch.setenv(stepped_kernels.KERNELS_VARIABLE, kernels)
    return simulate_stepped(scenario)


@pytest.mark.parametrize("name", ["reference", "mixed faults", "group rebalance"])
def test_kernels_and_numpy_give_identical_runs(name, monkeypatch):
    scenario = _scenarios()[name]
    compiled = _run(scenario, monkeypatch, "numba")
    plain = _run(scenario, monkeypatch, "numpy")
    pd.testing.assert_frame_equal(compiled.timeseries, plain.timeseries, check_exact=True)
    assert compiled.summary == plain.summary
    assert compiled.conservation == plain.conservation
    assert list(compiled.histograms) == list(plain.histograms)
    for key, histogram in compiled.histograms.items():
        np.testing.assert_array_equal(histogram.counts, plain.histograms[key].counts)
    pd.testing.assert_frame_equal(compiled.rebalances, plain.rebalances, check_exact=True)
    # the runs moved data (and the group one rebalanced): the comparison is not of nothing
    assert compiled.summary["produce_msgs_per_s"] > 0
    if name == "group rebalance":
        assert len(compiled.rebalances) >= 1


def test_the_switch_picks_the_path(monkeypatch):
    monkeypatch.setenv(stepped_kernels.KERNELS_VARIABLE, "numpy")
    assert stepped_kernels.load() is None
    assert not SteppedWorld(_scenarios()["mixed faults"]).compiled
    monkeypatch.delenv(stepped_kernels.KERNELS_VARIABLE)
    assert stepped_kernels.load() is not None  # numba is a dependency: the default is compiled
    assert SteppedWorld(_scenarios()["mixed faults"]).compiled
    monkeypatch.setenv(stepped_kernels.KERNELS_VARIABLE, "fortran")
    with pytest.raises(ValueError, match="SIMKAFKA_KERNELS"):
        stepped_kernels.load()


def test_max_min_share_kernel_matches_progressive_filling_on_random_networks():
    kernels = stepped_kernels.load()
    rng = np.random.default_rng(5)
    for _ in range(200):
        links, flows = int(rng.integers(2, 12)), int(rng.integers(0, 40))
        src = rng.integers(0, links, flows)
        dst = rng.integers(0, links, flows)
        # some flows ask for nothing, some links are nearly full
        demand = rng.exponential(1e6, flows) * (rng.random(flows) > 0.2)
        capacity = rng.exponential(2e6, links) * (rng.random(links) > 0.1)
        expected = max_min_share(demand, src, dst, capacity)
        np.testing.assert_array_equal(
            kernels.max_min_share(demand, src, dst, capacity, 8), expected
        )


def test_kernels_draw_what_numpy_draws():
    """The kernels' PCG64 gives ``Generator.random``'s numbers and leaves the generator
    where numpy would, both on the generator's own memory and on a copy of its state."""
    kernels = stepped_kernels.load()
    for seed in range(5):
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        ours.random(seed)  # not at the start
        theirs.random(seed)
        view = kernels.rng_state_view(ours)
        assert view is not None  # numpy's PCG64 keeps a 128-bit state
        np.testing.assert_array_equal(kernels.draw_many(view, 500), theirs.random(500))
        words = kernels.rng_words(ours)
        np.testing.assert_array_equal(kernels.draw_many(words, 300), theirs.random(300))
        kernels.set_rng_words(ours, words)
        # the generator goes on from there, for every distribution
        np.testing.assert_array_equal(ours.random(10), theirs.random(10))
        np.testing.assert_array_equal(ours.poisson(4.0, 10), theirs.poisson(4.0, 10))


def test_copied_generator_state_gives_the_same_run(monkeypatch):
    """Where the generator's memory cannot be used in place, its state is copied in and
    out of the kernels: the run is the same."""
    scenario = _scenarios()["mixed faults"]
    monkeypatch.setattr(stepped_kernels.load(), "rng_state_view", lambda rng: None)
    copied = _run(scenario, monkeypatch, "numba")
    plain = _run(scenario, monkeypatch, "numpy")
    pd.testing.assert_frame_equal(copied.timeseries, plain.timeseries, check_exact=True)
    assert copied.summary == plain.summary
