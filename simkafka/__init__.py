"""simkafka: a discrete-event simulator and capacity planner for Apache Kafka.

The public API is this module's ``__all__``; everything else may change.
"""

from simkafka.random_streams import RandomStreams
from simkafka.scenario import Problem, Scenario, ScenarioError, load_scenario, parse_scenario

__version__ = "0.1.0"

__all__ = [
    "Problem",
    "RandomStreams",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "parse_scenario",
]
