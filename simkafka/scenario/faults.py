"""Timed faults: what breaks, when, and for how long. The engine plays them; here they are data."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from simkafka.scenario.base import SpecModel
from simkafka.scenario.limits import MAX_CLIENTS
from simkafka.scenario.quantities import Duration, PositiveDuration


class _Fault(SpecModel):
    at: Duration = Field(description="simulated time the fault starts")


class BrokerCrash(_Fault):
    """The broker process dies (no controlled shutdown); its session times out at the controller."""

    type: Literal["broker_crash"]
    broker: int


class BrokerRestart(_Fault):
    """A crashed or stopped broker starts again, recovers its log and rejoins the ISRs."""

    type: Literal["broker_restart"]
    broker: int


class BrokerShutdown(_Fault):
    """Controlled shutdown: leaders move away first (``controlled.shutdown.enable``)."""

    type: Literal["broker_shutdown"]
    broker: int


class NetworkPartition(_Fault):
    """No traffic between the two sides. Each side lists broker ids and/or rack names."""

    type: Literal["network_partition"]
    between: tuple[tuple[int | str, ...], tuple[int | str, ...]]
    duration: PositiveDuration | None = Field(None, description="None: until the end of the run")


class SlowDisk(_Fault):
    """The broker's disk bandwidth is multiplied by ``factor`` (0 < factor <= 1)."""

    type: Literal["slow_disk"]
    broker: int
    factor: float = Field(gt=0, le=1, allow_inf_nan=False)
    duration: PositiveDuration | None = None


class NicDegradation(_Fault):
    """The broker's NIC bandwidth (both directions) is multiplied by ``factor``."""

    type: Literal["nic_degradation"]
    broker: int
    factor: float = Field(gt=0, le=1, allow_inf_nan=False)
    duration: PositiveDuration | None = None


class ConsumerCrash(_Fault):
    """Member ``member`` (0-based) of group ``group`` dies without leaving the group: the
    coordinator notices when its session times out; with ``restart_after`` a new process
    joins (under the same ``group.instance.id`` for a static member)."""

    type: Literal["consumer_crash"]
    group: str
    member: int = Field(ge=0)
    restart_after: PositiveDuration | None = None


class ConsumerJoin(_Fault):
    """``count`` new members start and join group ``group`` (a scale-out). They are
    numbered after the members that exist by then: a 3-member group's first joiner is
    member 3. Each sends a JoinGroup (classic: the group rebalances; KIP-848: a
    ConsumerGroupHeartbeat with epoch 0, and the coordinator moves partitions to it)."""

    type: Literal["consumer_join"]
    group: str
    count: int = Field(1, ge=1, le=MAX_CLIENTS, description="members that join")


class ConsumerLeave(_Fault):
    """Member ``member`` of group ``group`` closes gracefully (``KafkaConsumer.close()``):
    it commits as its delivery setting says and stops. A dynamic member sends LeaveGroup,
    so the group rebalances at once; a static member (``group.instance.id``) does not
    (KIP-345): the coordinator keeps its partitions until its session times out."""

    type: Literal["consumer_leave"]
    group: str
    member: int = Field(ge=0)


class ConsumerSlow(_Fault):
    """Member ``member`` of group ``group`` processes each record ``factor`` times slower
    (``processing_time_per_record`` multiplied: a slow dependency, a GC storm) for
    ``duration``. Its heartbeat thread keeps the session alive, but once its poll loop
    has not called ``poll()`` for ``max.poll.interval.ms`` the member is taken out of the
    group and its partitions are reassigned; it rejoins at its next ``poll()``."""

    type: Literal["consumer_slow"]
    group: str
    member: int = Field(ge=0)
    factor: float = Field(gt=1, allow_inf_nan=False, description="processing time per record multiplied by this")
    duration: PositiveDuration | None = Field(None, description="None: until the end of the run")


class RollingRestart(_Fault):
    """Every member of group ``group`` is restarted, one at a time in index order, as a
    deploy does: each closes (as ``consumer_leave``) and its new process joins
    ``downtime`` later; the next member's restart begins ``pace`` after the previous
    one's. The members restarted are those that exist at ``at``."""

    type: Literal["rolling_restart"]
    group: str
    pace: PositiveDuration = Field(description="from one member's restart to the next one's")
    downtime: Duration = Field(5.0, description="from a member's close to its new process joining")


class RackFailure(_Fault):
    """Every broker of ``rack`` crashes at once (a zone outage: power, network, the zone's
    storage); with ``duration`` they all restart after it."""

    type: Literal["rack_failure"]
    rack: str
    duration: PositiveDuration | None = Field(None, description="None: down until the end of the run")


class ControllerFailover(_Fault):
    """The active controller is lost and another takes over: in KRaft a standby of the
    controller quorum is active at once; in ZooKeeper mode the new controller first reloads
    every partition's state from ZooKeeper."""

    type: Literal["controller_failover"]


Fault = Annotated[
    BrokerCrash
    | BrokerRestart
    | BrokerShutdown
    | RackFailure
    | ControllerFailover
    | NetworkPartition
    | SlowDisk
    | NicDegradation
    | ConsumerCrash
    | ConsumerJoin
    | ConsumerLeave
    | ConsumerSlow
    | RollingRestart,
    Field(discriminator="type"),
]
