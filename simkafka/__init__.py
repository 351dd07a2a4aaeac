"""simkafka: a discrete-event simulator and capacity planner for Apache Kafka.

The public API is this module's ``__all__``; everything else may change.
"""

from __future__ import annotations

__version__ = "0.1.0"

# Everything loads on first use, so `import simkafka` stays light: for the log engine's
# worker processes, and for the `simkafka` command, whose entry point must be running
# (to turn Ctrl-C into one line and exit status 130) before pydantic, numpy or SimPy load.
_LAZY = {
    "Problem": "simkafka.scenario",
    "Scenario": "simkafka.scenario",
    "ScenarioError": "simkafka.scenario",
    "load_scenario": "simkafka.scenario",
    "parse_scenario": "simkafka.scenario",
    "RandomStreams": "simkafka.random_streams",
    "simulate": "simkafka.sim.engine",
    "RunResult": "simkafka.sim.result",
}


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
