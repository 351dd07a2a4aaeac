"""Kafka's own algorithms as pure functions and small classes (no SimPy, no I/O)."""

from simkafka.model.types import BrokerInfo, TopicPartition

__all__ = ["BrokerInfo", "TopicPartition"]
