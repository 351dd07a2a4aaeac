"""Analysis over many runs: sweeps now; bounds and the planner to come (issue 12).

``simkafka.analysis.sweep(scenario, params)`` is the function; its module is
:mod:`simkafka.analysis.sweep` (the function shadows the module's name here, as the issue
names the call).
"""

from simkafka.analysis.grid import GridError, Point, expand_grid, point_seed
from simkafka.analysis.sweep import SweepError, sweep

__all__ = ["GridError", "Point", "SweepError", "expand_grid", "point_seed", "sweep"]
