"""Capacity faults: a slow disk and a degraded NIC, played by both engines.

``slow_disk`` multiplies a broker's disk bandwidth -- every log directory's write *and*
read bandwidth -- by its ``factor`` from ``at`` on; ``nic_degradation`` does the same to
the broker NIC's ingress and egress. After ``duration`` (None: never, to the run's end)
the capacity is restored. Faults of one kind that overlap on one broker multiply: a disk
at 0.5 with another fault at 0.2 on top runs at 0.1 while both hold.

:func:`capacity_changes` turns the scenario's faults into one schedule of the factors in
force per broker, which both engines apply: the events engine at the exact instant
(:func:`play_capacity_faults`, the hosts' capacities re-shared in the flow network), the
stepped engine from the step in which the instant falls. A factor is always recomputed
as the product of the faults holding at that instant, never by dividing a restored one
out, so a broker whose faults have all ended is back at exactly its built capacity.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from simkafka.scenario import Scenario
from simkafka.scenario.faults import NicDegradation, SlowDisk

__all__ = [
    "CAPACITY_FAULT_TYPES",
    "CapacityChange",
    "CapacityCluster",
    "Clock",
    "DegradableBroker",
    "capacity_changes",
    "play_capacity_faults",
]

#: Fault types the engines play; the others are counted in ``faults_not_simulated``.
CAPACITY_FAULT_TYPES = frozenset({"slow_disk", "nic_degradation"})


@dataclass(frozen=True, slots=True)
class CapacityChange:
    """From ``at`` on, ``broker``'s disks run at ``disk`` and its NIC at ``nic`` times
    their built capacities (1.0: whole)."""

    at: float
    broker: int
    disk: float
    nic: float


def capacity_changes(faults: Sequence[Any], until: float = math.inf) -> list[CapacityChange]:
    """The factors in force per broker each time a capacity fault starts or ends before
    ``until`` (the run's end), in time order and, at one instant, by broker id. A change
    that leaves both factors as they were is left out."""
    # (time, broker, kind, +1 start / -1 end, factor)
    edges: list[tuple[float, int, str, int, float]] = []
    for fault in faults:
        if not isinstance(fault, SlowDisk | NicDegradation):
            continue
        edges.append((fault.at, fault.broker, fault.type, 1, fault.factor))
        if fault.duration is not None:
            edges.append((fault.at + fault.duration, fault.broker, fault.type, -1, fault.factor))
    edges.sort(key=lambda e: (e[0], e[1]))
    holding: dict[tuple[int, str], list[float]] = {}
    current: dict[int, tuple[float, float]] = {}
    changes: list[CapacityChange] = []
    i = 0
    while i < len(edges):
        at, broker = edges[i][0], edges[i][1]
        while i < len(edges) and edges[i][0] == at and edges[i][1] == broker:
            _, _, kind, sign, factor = edges[i]
            active = holding.setdefault((broker, kind), [])
            if sign > 0:
                active.append(factor)
            else:
                active.remove(factor)
            i += 1
        if at >= until:
            continue
        factors = (
            math.prod(holding.get((broker, "slow_disk"), ())),
            math.prod(holding.get((broker, "nic_degradation"), ())),
        )
        if factors != current.get(broker, (1.0, 1.0)):
            current[broker] = factors
            changes.append(CapacityChange(at, broker, *factors))
    return changes


class DegradableBroker(Protocol):
    """What a capacity fault changes on a broker of the events engine."""

    host: str  # its NIC
    disk_hosts: list[str]  # one disk per log directory; egress = read, ingress = write
    # (write, read) per directory, read by the broker itself (an fsync's write time)
    dir_bandwidth: tuple[tuple[float, float], ...]


class HostCapacities(Protocol):
    """The flow network's hosts' (egress, ingress) capacities."""

    def capacity(self, host: str) -> tuple[float, float]: ...


class Clock(Protocol):
    """What the process uses of the SimPy environment. (This module imports no SimPy:
    ``result`` reads :data:`CAPACITY_FAULT_TYPES` from it, and the report reads
    ``result``, which must not reach the engine's SimPy.)"""

    @property
    def now(self) -> float: ...

    def timeout(self, delay: float) -> Any: ...

    def process(self, generator: Generator[Any, Any, None]) -> Any: ...


class CapacityCluster(Protocol):
    """What :func:`play_capacity_faults` uses of the events engine's ``World``."""

    @property
    def env(self) -> Clock: ...

    @property
    def scenario(self) -> Scenario: ...

    @property
    def brokers(self) -> Mapping[int, DegradableBroker]: ...

    @property
    def network(self) -> HostCapacities: ...

    def set_host_capacity(self, name: str, egress: float, ingress: float) -> None: ...


# per broker, as built: [(host, egress, ingress)] for its NIC then its disks, and its
# (write, read) per log directory
_Built = dict[int, tuple[list[tuple[str, float, float]], tuple[tuple[float, float], ...]]]


def play_capacity_faults(world: CapacityCluster) -> None:
    """Start the SimPy process that applies the scenario's capacity faults to ``world``'s
    hosts (none when it has no such fault). The capacities the hosts have now are the
    ones scaled and restored, so call it once the world is built and before it runs."""
    changes = capacity_changes(world.scenario.faults, world.scenario.run.duration)
    if not changes:
        return
    built: _Built = {}
    for broker_id in sorted({change.broker for change in changes}):
        broker = world.brokers[broker_id]
        hosts = [broker.host, *broker.disk_hosts]
        built[broker_id] = (
            [(host, *world.network.capacity(host)) for host in hosts],
            tuple(broker.dir_bandwidth),
        )
    world.env.process(_play(world, changes, built))


def _play(
    world: CapacityCluster,
    changes: list[CapacityChange],
    built: _Built,
) -> Generator[Any, Any, None]:
    env = world.env
    for change in changes:
        if change.at > env.now:
            yield env.timeout(change.at - env.now)
        hosts, dirs = built[change.broker]
        (nic, nic_out, nic_in), *disks = hosts
        world.set_host_capacity(nic, nic_out * change.nic, nic_in * change.nic)
        for disk, read, write in disks:
            world.set_host_capacity(disk, read * change.disk, write * change.disk)
        broker = world.brokers[change.broker]
        broker.dir_bandwidth = tuple((w * change.disk, r * change.disk) for w, r in dirs)
