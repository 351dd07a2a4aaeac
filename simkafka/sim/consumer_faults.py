"""The consumer-side faults: members that crash, leave, join, slow down or roll.

* ``consumer_crash`` -- the member's process dies: no LeaveGroup, its heartbeats stop,
  and the coordinator notices after ``session.timeout.ms``. Records it had processed
  since its group's last commit are processed again by whoever takes its partitions.
  With ``restart_after`` a new process joins: a new member id, the same
  ``group.instance.id`` (a static member back within the session timeout takes its old
  place and assignment without a rebalance).
* ``consumer_leave`` -- ``close()``: commit, revoke, and a dynamic member sends
  LeaveGroup (a static member does not: its session must expire, KIP-345).
* ``consumer_join`` -- new member processes start and join (a scale-out).
* ``consumer_slow`` -- the member's processing time per record is multiplied for a while;
  a poll loop slower than ``max.poll.interval.ms`` gets it removed from the group.
* ``rolling_restart`` -- a deploy: each member in turn closes and, ``downtime`` later, a
  new process of it joins; the next member follows ``pace`` after the previous one.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, Protocol

import simpy

from simkafka.scenario.faults import (
    ConsumerCrash,
    ConsumerJoin,
    ConsumerLeave,
    ConsumerSlow,
    RollingRestart,
)
from simkafka.sim.group_formation import new_membership

if TYPE_CHECKING:
    from simkafka.scenario import ConsumerGroupSpec, Scenario
    from simkafka.sim.consumer import ConsumerMember
    from simkafka.sim.group_driver import GroupDriver


class World(Protocol):
    """What the consumer faults use of the world."""

    env: simpy.Environment
    scenario: Scenario
    groups: dict[str, list[ConsumerMember]]
    group_specs: dict[str, ConsumerGroupSpec]
    group_driver: GroupDriver

    def note(self, event: str, detail: str) -> None: ...

    def new_member(self, group: ConsumerGroupSpec) -> ConsumerMember: ...

CONSUMER_FAULT_TYPES = frozenset(
    {"consumer_crash", "consumer_leave", "consumer_join", "consumer_slow", "rolling_restart"}
)


def play_consumer_faults(world: World) -> None:
    """Schedule the scenario's consumer faults (the events engine's)."""
    for index, fault in enumerate(world.scenario.faults):
        if fault.type in CONSUMER_FAULT_TYPES:
            world.env.process(_play(world, index, fault))


def _play(world: World, index: int, fault: Any) -> Generator[simpy.Event, Any, None]:
    env = world.env
    if fault.at > env.now:
        yield env.timeout(fault.at - env.now)
    group = fault.group
    members = world.groups[group]
    if isinstance(fault, ConsumerCrash):
        member = members[fault.member]
        world.note("consumer_crash", f"{group}[{fault.member}]")
        member.crash()
        if fault.restart_after is not None:
            yield env.timeout(fault.restart_after)
            _restart(world, member)
    elif isinstance(fault, ConsumerLeave):
        world.note("consumer_leave", f"{group}[{fault.member}]")
        yield members[fault.member].close()
    elif isinstance(fault, ConsumerJoin):
        spec = world.group_specs[group]
        for _ in range(fault.count):
            member = world.new_member(spec)
            world.note("consumer_join", f"{group}[{member.index}]")
            _start(world, member)
    elif isinstance(fault, ConsumerSlow):
        member = members[fault.member]
        world.note("consumer_slow", f"{group}[{fault.member}] x{fault.factor:g}")
        member.slow_factor = fault.factor
        if fault.duration is not None:
            yield env.timeout(fault.duration)
            member.slow_factor = 1.0
            world.note("consumer_recovered", f"{group}[{fault.member}]")
    elif isinstance(fault, RollingRestart):
        for member in list(members):
            if not member.alive:
                continue
            env.process(_roll(world, member, fault.downtime))
            yield env.timeout(fault.pace)


def _roll(world: World, member: ConsumerMember, downtime: float) -> Generator[simpy.Event, Any, None]:
    world.note("consumer_leave", f"{member.group.group_id}[{member.index}] (deploy)")
    yield member.close()
    yield world.env.timeout(downtime)
    _restart(world, member)


def _start(world: World, member: ConsumerMember) -> None:
    membership = new_membership(world.group_driver, member)
    member.start(membership)
    membership.start()


def _restart(world: World, member: ConsumerMember) -> None:
    world.note("consumer_restart", f"{member.group.group_id}[{member.index}]")
    member.restart(new_membership(world.group_driver, member))
