"""What the control plane, the replica manager and the fault player use of the cluster.

``World`` provides it; the three modules name it here rather than importing ``world``
(which builds them), so that none of them imports the module that imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import simpy

    from simkafka.model.delivery import DeliveryHistory
    from simkafka.model.election import PartitionRegistration
    from simkafka.model.topology import Topology
    from simkafka.model.types import TopicPartition
    from simkafka.scenario import Scenario, Topic
    from simkafka.sim.broker import Broker
    from simkafka.sim.replication import FetcherCluster
else:
    FetcherCluster = Protocol


class FaultCluster(FetcherCluster, Protocol):
    """The world as the fault machinery sees it (it is also the replica fetchers' cluster)."""

    env: simpy.Environment
    scenario: Scenario
    topology: Topology
    brokers: dict[int, Broker]
    topics: dict[str, Topic]
    partitions: dict[TopicPartition, PartitionRegistration]
    history: DeliveryHistory
    fetchers: dict[tuple[int, int, int], Any]
    groups: dict[str, Sequence[Any]]  # consumer group members (crash / restart)
    control: Any  # the ControlPlane
    replica_manager: Any  # the ReplicaManager
    fault_player: Any  # the FaultPlayer

    def apply_partition_change(self, tp: TopicPartition, registration: PartitionRegistration, reason: str) -> None: ...

    def broker_unfenced(self, broker_id: int) -> None: ...

    def stop_broker(self, broker_id: int, *, clean: bool) -> None: ...

    def reaches_controller(self, broker_id: int) -> bool: ...

    def set_leader(self, tp: TopicPartition, leader: int) -> None: ...

    def leaders_changed(self) -> None: ...

    def invalidate_metadata(self) -> None: ...

    def high_watermark(self, tp: TopicPartition) -> int: ...

    def network_changed(self) -> None: ...

    def log_recovery_seconds(self, broker_id: int, *, clean: bool) -> float: ...

    def hosts_in_rack(self, rack: str) -> list[str]: ...
