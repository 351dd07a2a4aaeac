"""Analysis over many runs: sweeps, analytic bounds, the capacity planner and the
durability matrix.

``simkafka.analysis.sweep(scenario, params)`` and ``simkafka.analysis.plan(scenario)`` are
the functions; their modules are :mod:`simkafka.analysis.sweep` and
:mod:`simkafka.analysis.planner` (the sweep function shadows its module's name here, as
the issue names the call).
"""

from simkafka.analysis.durability import DurabilityMatrix, durability_matrix
from simkafka.analysis.grid import GridError, Point, expand_grid, point_seed
from simkafka.analysis.planner import Plan, PlanError, plan
from simkafka.analysis.sweep import SweepError, sweep

__all__ = [
    "DurabilityMatrix", "GridError", "Plan", "PlanError", "Point", "SweepError", "durability_matrix", "expand_grid",
    "plan", "point_seed", "sweep",
]
