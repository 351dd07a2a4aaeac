"""Timed faults: what breaks, when, and for how long. The engine plays them; here they are data."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from simkafka.scenario.base import SpecModel
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
    """Member ``member`` (0-based) of group ``group`` dies without leaving the group."""

    type: Literal["consumer_crash"]
    group: str
    member: int = Field(ge=0)
    restart_after: PositiveDuration | None = None


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
    | ConsumerCrash,
    Field(discriminator="type"),
]
