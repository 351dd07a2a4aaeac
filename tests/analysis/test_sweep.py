"""Sweeps: the same frame on every executor, and a cache that makes a repeated sweep free."""

import json
import math
import threading

import pandas as pd
import pytest

from simkafka.analysis import SweepError, sweep
from simkafka.analysis.cache import HEADER, CacheRefused, ResultCache, point_key
from simkafka.analysis.grid import expand_grid
from simkafka.analysis.sweep import run_point, scalar_summary, sweep_points
from simkafka.sim.engine import simulate

GRID = ["cluster.brokers=1..2", "producers.writers.rate=1MB/s,2MB/s"]


@pytest.fixture(scope="module")
def reference(tiny):
    """The in-process sweep every executor must reproduce exactly."""
    return sweep(tiny, GRID, executor="inprocess")


class Counting:
    """run_point, counting the points it simulates; ``fail_after`` stops a sweep midway."""

    def __init__(self, fail_after=None):
        self.calls = 0
        self.fail_after = fail_after

    def __call__(self, text):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt
        self.calls += 1
        return run_point(text)


def test_frame_has_params_seed_and_the_scalar_summary(tiny, reference):
    points = expand_grid(tiny, GRID)
    assert list(reference.columns[:3]) == ["cluster.brokers", "producers.writers.rate", "seed"]
    assert reference[["cluster.brokers", "producers.writers.rate"]].values.tolist() == [
        [1, "1MB/s"], [1, "2MB/s"], [2, "1MB/s"], [2, "2MB/s"]
    ]
    assert reference["seed"].tolist() == [p.scenario.seed for p in points]
    # each row is that point's own run, with its own seed
    direct = scalar_summary(simulate(points[3].scenario).summary)
    row = reference.iloc[3]
    for key, value in direct.items():
        assert row[key] == value or (isinstance(value, float) and math.isnan(value)), key
    assert "sustainability" not in reference.columns or not isinstance(row.get("sustainability"), dict)
    # offered 1 and 2 MB/s: the produced payload follows the swept rate
    assert reference["produce_payload_MB_per_s"].round(0).tolist() == [1.0, 2.0, 1.0, 2.0]


def test_process_pool_gives_the_identical_frame(tiny, reference):
    pd.testing.assert_frame_equal(sweep(tiny, GRID, executor="pool", workers=2), reference)


def _within(seconds, call):
    """``call()``'s value, or a failure if it takes longer than ``seconds`` (a cluster that
    cannot start must fail the test, not hang the suite)."""
    box = {}

    def target():
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the test below
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"took longer than {seconds}s"
    if "error" in box:
        raise box["error"]
    return box["value"]


def test_dask_local_cluster_gives_the_identical_frame(tiny, reference):
    pytest.importorskip("distributed")
    frame = _within(120, lambda: sweep(tiny, GRID, executor="dask", workers=2))
    pd.testing.assert_frame_equal(frame, reference)


@pytest.mark.filterwarnings("ignore:Port .* is already in use")
def test_dask_scheduler_address(tiny, reference):
    distributed = pytest.importorskip("distributed")
    # workers as threads of this process, reached over TCP on loopback as a remote one is
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, protocol="tcp", host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        frame = _within(
            120, lambda: sweep(tiny, GRID, executor="dask", scheduler=cluster.scheduler_address)
        )
    pd.testing.assert_frame_equal(frame, reference)


def test_a_repeated_sweep_simulates_nothing(tiny, tmp_path, reference):
    cache = tmp_path / "cache.jsonl"
    first = Counting()
    points = expand_grid(tiny, GRID)
    frame = sweep_points(points, executor="inprocess", cache=cache, run=first)
    assert first.calls == 4
    again = Counting()
    seen = []
    second = sweep_points(
        points, executor="inprocess", cache=cache, run=again,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert again.calls == 0
    assert seen == [(4, 4)]
    pd.testing.assert_frame_equal(second, frame)
    pd.testing.assert_frame_equal(second, reference)


def test_an_interrupted_sweep_resumes_with_the_unfinished_points(tiny, tmp_path, reference):
    cache = tmp_path / "cache.jsonl"
    points = expand_grid(tiny, GRID)
    with pytest.raises(KeyboardInterrupt):
        sweep_points(points, executor="inprocess", cache=cache, run=Counting(fail_after=3))
    assert len(ResultCache(cache)) == 3
    # a line cut short by the interruption is skipped, not taken for a result
    with open(cache, "a") as handle:
        handle.write('{"key": "' + point_key(points[3].scenario) + '", "summ')
    rest = Counting()
    frame = sweep_points(points, executor="inprocess", cache=cache, run=rest)
    assert rest.calls == 1
    pd.testing.assert_frame_equal(frame, reference)


def test_a_changed_scenario_is_not_served_from_the_cache(tiny, tmp_path):
    cache = tmp_path / "cache.jsonl"
    sweep_points(expand_grid(tiny, ["cluster.brokers=1"]), executor="inprocess", cache=cache)
    other = Counting()
    sweep_points(
        expand_grid(tiny, ["cluster.brokers=1", "run.duration=0.4s"]),
        executor="inprocess", cache=cache, run=other,
    )
    assert other.calls == 1


def test_a_file_simkafka_did_not_write_is_never_used_or_changed(tiny, tmp_path):
    foreign = tmp_path / "cache.jsonl"
    foreign.write_text("my notes\n")
    with pytest.raises(CacheRefused, match="was not written by simkafka"):
        sweep(tiny, ["cluster.brokers=1"], executor="inprocess", cache=foreign)
    assert foreign.read_text() == "my notes\n"
    new = tmp_path / "new" / "cache.jsonl"
    ResultCache(new)
    assert json.loads(new.read_text().splitlines()[0]) == HEADER


def test_bad_executor_and_points_the_engine_refuses(tiny):
    with pytest.raises(SweepError, match="unknown executor 'threads'"):
        sweep(tiny, ["cluster.brokers=1"], executor="threads")
    with pytest.raises(SweepError, match="for the dask executor only"):
        sweep(tiny, ["cluster.brokers=1"], executor="pool", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(SweepError, match="--param cluster.brokrs=1: cluster has no key"):
        sweep(tiny, ["cluster.brokrs=1"], executor="inprocess")


def test_scalar_summary_keeps_numpy_scalars_as_python_values():
    import numpy as np

    out = scalar_summary(
        {"a": np.int64(3), "b": np.bool_(True), "c": np.float64(0.5), "d": {"x": 1}, "e": None}
    )
    assert out == {"a": 3, "b": True, "c": 0.5, "e": None}
    assert [type(v) for v in out.values()] == [int, bool, float, type(None)]
