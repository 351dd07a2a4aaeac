"""Scenario YAML -> validated, immutable :class:`Scenario` (pydantic), with Kafka's config names."""

from simkafka.scenario.cluster import (
    BrokerConfig,
    BrokerHardware,
    BrokerSpec,
    ClientHosts,
    Cluster,
    Network,
)
from simkafka.scenario.errors import Problem, ScenarioError
from simkafka.scenario.faults import Fault
from simkafka.scenario.loader import (
    load_scenario,
    load_scenario_with_warnings,
    parse_scenario,
    parse_scenario_with_warnings,
)
from simkafka.scenario.model import Durability, RunSpec, Scenario, Targets
from simkafka.scenario.topic import Topic
from simkafka.scenario.workload import (
    ConsumerGroupSpec,
    KeySpec,
    ProducerSpec,
    Rate,
    SizeDistribution,
)

__all__ = [
    "BrokerConfig", "BrokerHardware", "BrokerSpec", "ClientHosts", "Cluster", "ConsumerGroupSpec",
    "Durability", "Fault", "KeySpec", "Network", "Problem", "ProducerSpec", "Rate", "RunSpec",
    "Scenario", "ScenarioError", "SizeDistribution", "Targets", "Topic",
    "load_scenario", "load_scenario_with_warnings", "parse_scenario", "parse_scenario_with_warnings",
]
