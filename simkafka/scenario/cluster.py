"""The cluster: brokers, their racks and hardware, the network between them, broker configs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from simkafka.scenario.base import SpecModel
from simkafka.scenario.quantities import ByteRate, ByteSize, Duration, Millis


class BrokerHardware(SpecModel):
    """What one broker machine has. Defaults are a modest cloud instance (8 vCPU, 10 Gbps)."""

    nic: ByteRate = Field(1.25e9, description="NIC bandwidth in each direction (full duplex), e.g. 10Gbps")
    nic_in: ByteRate | None = Field(None, description="ingress override when it differs from `nic`")
    nic_out: ByteRate | None = Field(None, description="egress override when it differs from `nic`")
    disk_write: ByteRate = Field(500e6, description="sequential write bandwidth of the log disk(s)")
    disk_read: ByteRate = Field(1e9, description="sequential read bandwidth of the log disk(s)")
    cpu_cores: int = Field(8, ge=1)
    page_cache: ByteSize = Field(16 * 1024**3, description="memory the OS can use to cache log data")

    @property
    def ingress(self) -> float:
        """Bytes/s the NIC can receive."""
        return self.nic if self.nic_in is None else self.nic_in

    @property
    def egress(self) -> float:
        """Bytes/s the NIC can send."""
        return self.nic if self.nic_out is None else self.nic_out


class BrokerSpec(SpecModel):
    """One broker: its ``broker.id`` / ``node.id``, ``broker.rack`` and hardware overrides."""

    id: int = Field(ge=0)
    rack: str | None = None
    nic: ByteRate | None = None
    nic_in: ByteRate | None = None
    nic_out: ByteRate | None = None
    disk_write: ByteRate | None = None
    disk_read: ByteRate | None = None
    cpu_cores: int | None = Field(None, ge=1)
    page_cache: ByteSize | None = None


class Network(SpecModel):
    """Propagation latencies (one way). Bandwidth lives on the NICs."""

    rack_latency: Duration = Field(0.0001, description="one-way latency between hosts in one rack")
    cross_rack_latency: Duration = Field(0.0005, description="one-way latency across racks / zones")
    client_latency: Duration = Field(0.0002, description="one-way latency between clients and brokers")


class ClientHosts(SpecModel):
    """Every producer and consumer instance runs on a host of its own with this NIC."""

    nic: ByteRate = Field(1.25e9)
    rack: str | None = Field(None, description="rack of the client hosts (None: no rack, no cross-rack accounting)")


class BrokerConfig(SpecModel):
    """Broker-level Kafka configs that the simulator uses, with Kafka's documented defaults."""

    num_network_threads: int = Field(3, ge=1, alias="num.network.threads")
    num_io_threads: int = Field(8, ge=1, alias="num.io.threads")
    queued_max_requests: int = Field(500, ge=1, alias="queued.max.requests")
    num_replica_fetchers: int = Field(1, ge=1, alias="num.replica.fetchers")
    replica_fetch_max_bytes: ByteSize = Field(1048576, ge=0, alias="replica.fetch.max.bytes")
    replica_fetch_min_bytes: ByteSize = Field(1, ge=0, alias="replica.fetch.min.bytes")
    replica_fetch_response_max_bytes: ByteSize = Field(10485760, ge=0, alias="replica.fetch.response.max.bytes")
    replica_fetch_wait_max: Millis = Field(0.5, ge=0, alias="replica.fetch.wait.max.ms")
    replica_lag_time_max: Millis = Field(30.0, gt=0, alias="replica.lag.time.max.ms")
    message_max_bytes: ByteSize = Field(1048588, ge=0, alias="message.max.bytes")
    broker_session_timeout: Millis = Field(9.0, gt=0, alias="broker.session.timeout.ms")
    broker_heartbeat_interval: Millis = Field(2.0, gt=0, alias="broker.heartbeat.interval.ms")
    zookeeper_session_timeout: Millis = Field(18.0, gt=0, alias="zookeeper.session.timeout.ms")
    auto_leader_rebalance_enable: bool = Field(True, alias="auto.leader.rebalance.enable")
    leader_imbalance_per_broker_percentage: int = Field(10, ge=0, alias="leader.imbalance.per.broker.percentage")
    leader_imbalance_check_interval: Duration = Field(300.0, gt=0, alias="leader.imbalance.check.interval.seconds")
    group_min_session_timeout: Millis = Field(6.0, ge=0, alias="group.min.session.timeout.ms")
    group_max_session_timeout: Millis = Field(1800.0, ge=0, alias="group.max.session.timeout.ms")
    group_initial_rebalance_delay: Millis = Field(3.0, ge=0, alias="group.initial.rebalance.delay.ms")
    request_cpu_cost: Duration = Field(
        50e-6, ge=0, description="CPU seconds a broker spends per request (parse, dispatch, respond)"
    )
    byte_cpu_cost: Duration = Field(
        0.25e-9, ge=0, description="CPU seconds a broker spends per byte handled (copy, CRC validation)"
    )


class Cluster(SpecModel):
    """``brokers`` is a count (ids 0..n-1, racks dealt round-robin from ``racks``) or a list."""

    brokers: tuple[BrokerSpec, ...] = Field(min_length=1)
    racks: tuple[str, ...] | None = Field(None, description="with a broker count: racks dealt round-robin")
    hardware: BrokerHardware = BrokerHardware()
    network: Network = Network()
    clients: ClientHosts = ClientHosts()
    controller: Literal["kraft", "zookeeper"] = "kraft"
    config: BrokerConfig = BrokerConfig()

    @model_validator(mode="before")
    @classmethod
    def _expand_broker_count(cls, data: object) -> object:
        # `brokers: 6` with `racks: [a, b, c]` puts broker i in rack i % 3, the usual layout
        if isinstance(data, dict) and isinstance(data.get("brokers"), int) and not isinstance(data.get("brokers"), bool):
            count = data["brokers"]
            if count < 1:
                raise ValueError(f"cluster.brokers must be at least 1, got {count}")
            racks = data.get("racks") or [None]
            if isinstance(racks, str):
                racks = [racks]
            data = dict(data)
            data["brokers"] = [{"id": i, "rack": racks[i % len(racks)]} for i in range(count)]
        return data

    @field_validator("racks")
    @classmethod
    def _racks_distinct(cls, racks: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if racks is not None and len(set(racks)) != len(racks):
            raise ValueError("rack names must be distinct")
        return racks

    @property
    def broker_ids(self) -> tuple[int, ...]:
        return tuple(b.id for b in self.brokers)

    @property
    def rack_names(self) -> tuple[str, ...]:
        """Distinct racks in broker order (deterministic, never set order)."""
        seen: dict[str, None] = {}
        for b in self.brokers:
            if b.rack is not None:
                seen.setdefault(b.rack)
        return tuple(seen)

    def broker(self, broker_id: int) -> BrokerSpec:
        for b in self.brokers:
            if b.id == broker_id:
                return b
        raise KeyError(f"no broker with id {broker_id}")

    def hardware_of(self, broker_id: int) -> BrokerHardware:
        """The cluster's hardware with this broker's overrides applied."""
        spec = self.broker(broker_id)
        overrides = {
            name: getattr(spec, name)
            for name in ("nic", "nic_in", "nic_out", "disk_write", "disk_read", "cpu_cores", "page_cache")
            if getattr(spec, name) is not None
        }
        return self.hardware.model_copy(update=overrides) if overrides else self.hardware
