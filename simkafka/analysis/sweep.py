"""``sweep(scenario, params)``: simulate every point of a grid, on one of three executors,
and return one DataFrame row per point.

Executors: ``inprocess`` (a loop, for debugging and tiny grids), ``pool`` (a local process
pool, one worker per core by default) and ``dask`` (a ``distributed`` cluster at
``scheduler``, or a ``LocalCluster`` on 127.0.0.1 when none is given). A worker receives the
point's validated scenario as JSON text -- never a pickled object read from disk -- and
validates it again before :func:`simkafka.sim.engine.simulate` runs it; it returns the
summary's scalar fields. Each point carries its own seed (:func:`~simkafka.analysis.grid.point_seed`),
so the frame is the same on every executor and in every completion order. With a cache
(:class:`~simkafka.analysis.cache.ResultCache`) finished points are kept on disk and a
repeated or resumed sweep simulates only the points it has not finished.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from simkafka.analysis.cache import ResultCache, point_key
from simkafka.analysis.executors import EXECUTORS, ExecutorError, check_executor, open_executor
from simkafka.analysis.grid import GridError, Param, Point, expand_grid
from simkafka.scenario import Scenario

__all__ = ["EXECUTORS", "SweepError", "run_point", "scalar_summary", "sweep", "sweep_points"]

Executor = Literal["inprocess", "pool", "dask"]
ProgressCallback = Callable[[int, int], None]  # (points finished, points in the grid)


class SweepError(ValueError):
    """A sweep that cannot run: a bad grid, a point the engine refuses, a bad executor."""


def scalar_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary's scalar fields (numbers, text, flags), the nested ones left out; NumPy
    scalars as the Python ones they hold, so a cached point (JSON) reads back the same."""
    out = {}
    for key, value in summary.items():
        if isinstance(value, np.generic):
            value = value.item()
        if value is None or isinstance(value, (bool, int, float, str)):
            out[key] = value
    return out


def run_point(scenario_json: str) -> dict[str, Any]:
    """Simulate one point given as its scenario's JSON text; the summary's scalar fields.

    What every executor's worker runs. The text is validated again here, so a worker
    accepts exactly what a scenario file could say.
    """
    from simkafka.sim.engine import simulate

    scenario = Scenario.model_validate_json(scenario_json)
    return scalar_summary(simulate(scenario).summary)


def sweep(
    scenario: Scenario,
    params: Sequence[str | Param],
    *,
    executor: Executor = "pool",
    workers: int | None = None,
    scheduler: str | None = None,
    cache: Path | str | None = None,
    progress: ProgressCallback | None = None,
) -> pd.DataFrame:
    """Simulate every point of the grid ``params`` (``PATH=VALUES`` texts, see
    :func:`~simkafka.analysis.grid.expand_grid`) of ``scenario``.

    Returns a DataFrame, one row per point in grid order: the parameters, the point's
    ``seed``, then the summary's scalar fields. ``cache`` is a cache file
    (:class:`~simkafka.analysis.cache.ResultCache`) to read finished points from and
    record new ones in. Raises :class:`SweepError` for a bad grid or executor, or a point
    the engine would refuse (before anything runs).
    """
    try:
        points = expand_grid(scenario, params)
    except GridError as exc:
        raise SweepError(str(exc)) from None
    return sweep_points(
        points,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        cache=cache,
        progress=progress,
    )


def sweep_points(
    points: Sequence[Point],
    *,
    executor: Executor = "pool",
    workers: int | None = None,
    scheduler: str | None = None,
    cache: Path | str | None = None,
    progress: ProgressCallback | None = None,
    run: Callable[[str], dict[str, Any]] = run_point,
) -> pd.DataFrame:
    """:func:`sweep` over points already expanded; ``run`` is what simulates one point."""
    try:
        check_executor(executor, workers, scheduler)
    except ExecutorError as exc:
        raise SweepError(str(exc)) from None
    _check_points(points)
    store = ResultCache(cache) if cache is not None else None
    keys = [point_key(p.scenario) for p in points]
    summaries: dict[int, dict[str, Any]] = {}
    for index, key in enumerate(keys):
        found = store.get(key) if store is not None else None
        if found is not None:
            summaries[index] = found
    todo = {i: points[i].scenario.model_dump_json(by_alias=True) for i in range(len(points)) if i not in summaries}
    total = len(points)
    if progress is not None:
        progress(len(summaries), total)
    if todo:
        try:
            # never more workers than points: a pool of idle processes costs start-up time
            opened = open_executor(executor, min(workers or os.cpu_count() or 1, len(todo)), scheduler)
        except ExecutorError as exc:
            raise SweepError(str(exc)) from None
        with opened as running:
            for index, summary in running.map(run, todo):
                summaries[index] = summary
                if store is not None:
                    store.put(keys[index], summary)
                if progress is not None:
                    progress(len(summaries), total)
    return _frame(points, [summaries[i] for i in range(total)])


def _check_points(points: Sequence[Point]) -> None:
    """Refuse, before any run, a point an engine cannot run or that would not fit memory."""
    from simkafka.sim.budget import refuse_if_too_big
    from simkafka.sim.guards import RunRefused, check_engine_inputs

    for point in points:
        try:
            check_engine_inputs(point.scenario)
            refuse_if_too_big(point.scenario)
        except RunRefused as exc:
            where = " ".join(f"{k}={v}" for k, v in point.params.items()) or "the scenario"
            raise SweepError(f"point {where}: {exc}") from None


def _frame(points: Sequence[Point], summaries: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {**p.params, "seed": p.scenario.seed, **summary}
        for p, summary in zip(points, summaries, strict=True)
    ]
    return pd.DataFrame(rows)
