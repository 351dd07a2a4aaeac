"""The cluster: brokers, their racks and hardware, the network between them, broker configs."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from simkafka.kafka_version import MODELLED_RELEASE, KafkaRelease
from simkafka.scenario.base import SpecModel, split_csv
from simkafka.scenario.limits import INT32_MAX, MAX_BROKERS, MAX_CORES, MAX_THREADS
from simkafka.scenario.quantities import (
    DiskBandwidth,
    Duration,
    IntByteSize,
    IntMillis,
    NicBandwidth,
    PositiveDataSize,
    PositiveDuration,
    PositiveIntMillis,
    PositiveMillis,
    out_of_range,
)

MAX_LOG_DIRS = 256  # directories in one broker's log.dirs


class LogDir(SpecModel):
    """One directory of ``log.dirs``: a disk of its own (JBOD)."""

    disk_write: DiskBandwidth = Field(description="sequential write bandwidth of this dir's disk")
    disk_read: DiskBandwidth = Field(description="sequential read bandwidth of this dir's disk")


class BrokerHardware(SpecModel):
    """What one broker machine has. Defaults are a modest cloud instance (8 vCPU, 10 Gbps)."""

    nic: NicBandwidth = Field(1.25e9, description="NIC bandwidth in each direction (full duplex), e.g. 10Gbps")
    nic_in: NicBandwidth | None = Field(None, description="ingress override when it differs from `nic`")
    nic_out: NicBandwidth | None = Field(None, description="egress override when it differs from `nic`")
    disk_write: DiskBandwidth = Field(500e6, description="sequential write bandwidth of the log disk(s)")
    disk_read: DiskBandwidth = Field(1e9, description="sequential read bandwidth of the log disk(s)")
    cpu_cores: int = Field(8, ge=1, le=MAX_CORES)
    page_cache: PositiveDataSize = Field(16 * 1024**3, description="memory the OS can use to cache log data")
    log_dirs: int | tuple[LogDir, ...] = Field(
        1,
        description="log.dirs: a number of identical disks sharing disk_write / disk_read "
        "equally, or one {disk_write, disk_read} per directory (JBOD, in log.dirs order)",
    )

    @field_validator("log_dirs")
    @classmethod
    def _some_dirs(cls, value: int | tuple[LogDir, ...]) -> int | tuple[LogDir, ...]:
        count = value if isinstance(value, int) else len(value)
        if not 1 <= count <= MAX_LOG_DIRS:
            raise ValueError(f"log.dirs needs 1 to {MAX_LOG_DIRS} directories (got {count})")
        return value

    @property
    def dirs(self) -> tuple[tuple[float, float], ...]:
        """(write, read) bandwidth of each log directory's disk, in log.dirs order."""
        if isinstance(self.log_dirs, int):
            n = self.log_dirs
            return tuple((self.disk_write / n, self.disk_read / n) for _ in range(n))
        return tuple((d.disk_write, d.disk_read) for d in self.log_dirs)

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

    id: int = Field(ge=0, le=INT32_MAX, description="node.id is a Java int")
    rack: str | None = None
    nic: NicBandwidth | None = None
    nic_in: NicBandwidth | None = None
    nic_out: NicBandwidth | None = None
    disk_write: DiskBandwidth | None = None
    disk_read: DiskBandwidth | None = None
    cpu_cores: int | None = Field(None, ge=1, le=MAX_CORES)
    page_cache: PositiveDataSize | None = None
    log_dirs: int | tuple[LogDir, ...] | None = None


class Network(SpecModel):
    """Propagation latencies (one way). Bandwidth lives on the NICs."""

    rack_latency: Duration = Field(0.0001, description="one-way latency between hosts in one rack")
    cross_rack_latency: Duration = Field(0.0005, description="one-way latency across racks / zones")
    client_latency: Duration = Field(0.0002, description="one-way latency between clients and brokers")
    mtu: int = Field(
        1500,
        ge=576,
        le=65535,
        description="IP MTU of every link: TCP/IP and Ethernet framing per packet take "
        "line time (1500: 94 % of a NIC's bandwidth carries payload; jumbo frames 9000)",
    )


class ClientHosts(SpecModel):
    """Every producer and consumer instance runs on a host of its own with this NIC."""

    nic: NicBandwidth = Field(1.25e9)
    rack: str | None = Field(None, description="rack of the client hosts (None: no rack, no cross-rack accounting)")


class BrokerConfig(SpecModel):
    """Broker-level Kafka configs that the simulator uses, with Kafka's documented defaults."""

    num_network_threads: int = Field(3, ge=1, le=MAX_THREADS, alias="num.network.threads")
    num_io_threads: int = Field(8, ge=1, le=MAX_THREADS, alias="num.io.threads")
    queued_max_requests: int = Field(500, ge=1, le=INT32_MAX, alias="queued.max.requests")
    num_replica_fetchers: int = Field(1, ge=1, le=MAX_THREADS, alias="num.replica.fetchers")
    replica_fetch_max_bytes: IntByteSize = Field(1048576, alias="replica.fetch.max.bytes")
    replica_fetch_min_bytes: IntByteSize = Field(1, alias="replica.fetch.min.bytes")
    replica_fetch_response_max_bytes: IntByteSize = Field(10485760, alias="replica.fetch.response.max.bytes")
    replica_fetch_wait_max: IntMillis = Field(0.5, alias="replica.fetch.wait.max.ms")
    replica_lag_time_max: PositiveMillis = Field(30.0, alias="replica.lag.time.max.ms")
    message_max_bytes: IntByteSize = Field(1048588, alias="message.max.bytes")
    log_retention_check_interval: PositiveMillis = Field(
        300.0, alias="log.retention.check.interval.ms",
        description="how often LogManager.cleanupLogs applies retention.ms and retention.bytes (default 5 min)",
    )
    # threads per log dir that load (and, after a crash, recover) the logs at start and
    # flush them at shutdown: 2 since Kafka 4.0 (KIP-1030; 1 before), ServerLogConfigs
    num_recovery_threads_per_data_dir: int = Field(
        2, ge=1, le=MAX_THREADS, alias="num.recovery.threads.per.data.dir"
    )
    # KRaft: the controller fences a broker whose last heartbeat is older than the session
    # timeout (BrokerHeartbeatManager); brokers heartbeat every interval (KafkaConfig defaults)
    broker_session_timeout: PositiveIntMillis = Field(9.0, alias="broker.session.timeout.ms")
    broker_heartbeat_interval: PositiveIntMillis = Field(2.0, alias="broker.heartbeat.interval.ms")
    zookeeper_session_timeout: PositiveIntMillis = Field(18.0, alias="zookeeper.session.timeout.ms")
    controlled_shutdown_enable: bool = Field(
        True,
        alias="controlled.shutdown.enable",
        description="a stopping broker first asks the controller to move its leaders away "
        "(Kafka's default true); false: it just stops and is fenced at the session timeout",
    )
    # replication quotas (KIP-73): bytes/s a broker sends as leader / fetches as follower
    # for the replicas its topics list as throttled; Kafka's default is Long.MAX_VALUE
    # (None: unlimited), written with a unit, e.g. 50MB/s
    leader_replication_throttled_rate: DiskBandwidth | None = Field(
        None, alias="leader.replication.throttled.rate"
    )
    follower_replication_throttled_rate: DiskBandwidth | None = Field(
        None, alias="follower.replication.throttled.rate"
    )
    auto_leader_rebalance_enable: bool = Field(True, alias="auto.leader.rebalance.enable")
    leader_imbalance_per_broker_percentage: int = Field(
        10, ge=0, le=INT32_MAX, alias="leader.imbalance.per.broker.percentage"
    )
    leader_imbalance_check_interval: PositiveDuration = Field(300.0, alias="leader.imbalance.check.interval.seconds")
    group_min_session_timeout: IntMillis = Field(6.0, alias="group.min.session.timeout.ms")
    group_max_session_timeout: IntMillis = Field(1800.0, alias="group.max.session.timeout.ms")
    group_initial_rebalance_delay: IntMillis = Field(3.0, alias="group.initial.rebalance.delay.ms")
    # the KIP-848 coordinator (group.protocol=consumer) decides its members' session timeout
    # and heartbeat interval; Kafka 4.x GroupCoordinatorConfig: 45 s in 45..60 s, 5 s in 5..15 s
    # (type int, at least 1), and the broker refuses to start unless min <= value <= max and
    # the interval is below the session timeout (scenario.group_checks)
    group_consumer_session_timeout: PositiveIntMillis = Field(
        45.0, alias="group.consumer.session.timeout.ms",
        description="the timeout to detect a failed member of a group.protocol=consumer group",
    )
    group_consumer_min_session_timeout: PositiveIntMillis = Field(45.0, alias="group.consumer.min.session.timeout.ms")
    group_consumer_max_session_timeout: PositiveIntMillis = Field(60.0, alias="group.consumer.max.session.timeout.ms")
    group_consumer_heartbeat_interval: PositiveIntMillis = Field(
        5.0, alias="group.consumer.heartbeat.interval.ms",
        description="the heartbeat interval the coordinator gives the members of a group.protocol=consumer group",
    )
    group_consumer_min_heartbeat_interval: PositiveIntMillis = Field(
        5.0, alias="group.consumer.min.heartbeat.interval.ms"
    )
    group_consumer_max_heartbeat_interval: PositiveIntMillis = Field(
        15.0, alias="group.consumer.max.heartbeat.interval.ms"
    )

    @model_validator(mode="before")
    @classmethod
    def _costs_moved(cls, data: object) -> object:
        # simkafka's own cost knobs lived here before the cost profile existed
        if isinstance(data, dict):
            for old, new in (("request_cpu_cost", "request_cpu"), ("byte_cpu_cost", "byte_cpu")):
                if old in data:
                    raise ValueError(f"{old} moved to the cost profile: write `costs: {{broker: {{{new}: ...}}}}`")
        return data


class Cluster(SpecModel):
    """``brokers`` is a count (ids 0..n-1, racks dealt round-robin from ``racks``) or a list."""

    brokers: tuple[BrokerSpec, ...] = Field(min_length=1, max_length=MAX_BROKERS)
    racks: tuple[str, ...] | None = Field(
        None, max_length=MAX_BROKERS, description="with a broker count: racks dealt round-robin"
    )
    hardware: BrokerHardware = BrokerHardware()
    network: Network = Network()
    clients: ClientHosts = ClientHosts()
    controller: Literal["kraft", "zookeeper"] = "kraft"
    follower_truncation: Literal["leader_epoch", "high_watermark"] = Field(
        "leader_epoch",
        description="how a follower truncates its log when it starts following a new leader: "
        "leader_epoch (KIP-101/279, every Kafka since 0.11/2.0) or high_watermark (before "
        "KIP-101: to the high watermark it last heard of, which can lose acknowledged "
        "records and let replicas diverge -- for teaching)",
    )
    kafka_version: KafkaRelease = Field(
        MODELLED_RELEASE,
        description="the Kafka release whose behaviour to reproduce where 4.0 and 4.1 differ "
        "(segment.bytes minimum, index entries per batch, the uniform assignor's extra partitions)",
    )
    config: BrokerConfig = BrokerConfig()
    offline_brokers: tuple[int, ...] = Field(
        (),
        max_length=MAX_BROKERS,
        description="ids of brokers that are down for the whole run: the controller fenced "
        "them before it starts, so the run is the steady state after losing them -- Kafka's "
        "elections (ISR shrunk, leaders moved to the first surviving in-sync replica, "
        "partitions with no surviving replica offline), no reassignment",
    )

    @model_validator(mode="before")
    @classmethod
    def _expand_broker_count(cls, data: object) -> object:
        # `brokers: 6` with `racks: [a, b, c]` puts broker i in rack i % 3, the usual layout.
        # A count out of range is left for _broker_count_in_range (refused before any list
        # is built); malformed racks are left for the racks field to report.
        if not isinstance(data, dict):
            return data
        count = data.get("brokers")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_BROKERS:
            return data
        racks = split_csv(data.get("racks"))
        if not isinstance(racks, (list, tuple)) or not racks or not all(isinstance(r, str) for r in racks):
            racks = [None]
        data = dict(data)
        data["brokers"] = [{"id": i, "rack": racks[i % len(racks)]} for i in range(count)]
        return data

    @field_validator("brokers", mode="before")
    @classmethod
    def _broker_count_in_range(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            raise out_of_range(f"a cluster has between 1 and {MAX_BROKERS} brokers (the simulator's limit)",
                               f"allowed range: 1 .. {MAX_BROKERS}")
        return value

    @field_validator("racks", mode="before")
    @classmethod
    def _rack_list(cls, value: object) -> object:
        return split_csv(value)

    @field_validator("racks")
    @classmethod
    def _racks_distinct(cls, racks: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if racks is not None and len(set(racks)) != len(racks):
            raise ValueError("rack names must be distinct")
        return racks

    @field_validator("offline_brokers", mode="before")
    @classmethod
    def _offline_list(cls, value: object) -> object:
        return split_csv(value)

    @field_validator("offline_brokers")
    @classmethod
    def _offline_distinct(cls, ids: tuple[int, ...]) -> tuple[int, ...]:
        # whether they are brokers of the cluster is checked with the other contradictions
        # (scenario.checks), where the message can point at the one entry that is wrong
        repeated = sorted({b for b in ids if ids.count(b) > 1})
        if repeated:
            raise ValueError(f"broker(s) {repeated} listed more than once")
        return ids

    @property
    def up_broker_ids(self) -> tuple[int, ...]:
        """Brokers running in the run: all but ``offline_brokers``, in broker order."""
        offline = set(self.offline_brokers)
        return tuple(b.id for b in self.brokers if b.id not in offline)

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
            for name in (
                "nic", "nic_in", "nic_out", "disk_write", "disk_read", "cpu_cores", "page_cache", "log_dirs"
            )
            if getattr(spec, name) is not None
        }
        return self.hardware.model_copy(update=overrides) if overrides else self.hardware
