"""simkafka: a discrete-event simulator and capacity planner for Apache Kafka.

The public API is this module's ``__all__``; everything else may change.
"""

from simkafka.random_streams import RandomStreams
from simkafka.scenario import Problem, Scenario, ScenarioError, load_scenario, parse_scenario

__version__ = "0.1.0"

# The engine (SimPy, pandas) loads on first use, so `import simkafka` stays light for the
# log engine's worker processes and the CLI's validate-only commands.
_LAZY = {"simulate": "simkafka.sim.engine", "RunResult": "simkafka.sim.result"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'simkafka' has no attribute {name!r}")


__all__ = [
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
