"""Analysis over many runs: sweeps, analytic bounds and the capacity planner.

``simkafka.analysis.sweep(scenario, params)`` and ``simkafka.analysis.plan(scenario)`` are
the functions; their modules are :mod:`simkafka.analysis.sweep` and
:mod:`simkafka.analysis.planner` (the sweep function shadows its module's name here, as
the issue names the call).
"""

from simkafka.analysis.grid import GridError, Point, expand_grid, point_seed
from simkafka.analysis.planner import Plan, PlanError, plan
from simkafka.analysis.sweep import SweepError, sweep

__all__ = ["GridError", "Plan", "PlanError", "Point", "SweepError", "expand_grid", "plan", "point_seed", "sweep"]
