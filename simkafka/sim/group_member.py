"""A consumer's side of group membership in the events engine: the client of
:mod:`simkafka.sim.group_client` (its rules are there, shared with the stepped engine) with
its heartbeat thread as a SimPy process.

* **Classic.** The heartbeat thread wakes every ``heartbeat.interval.ms`` (members started
  together are phased by index) and beats (:meth:`ClassicClient.beat`); a second process
  watches ``max.poll.interval.ms`` (:func:`poll_timer`).
* **KIP-848.** The heartbeat manager sends one ConsumerGroupHeartbeat every interval, or
  at once when the client asks for it (a join, an acknowledgement after reconciling).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from simkafka.sim.group_client import (
    ClassicClient,
    ConsumerClient,
    ConsumerMember,
    first_heartbeat_after,
    run_poll_timer,
)

if TYPE_CHECKING:
    from simkafka.sim.group_driver import GroupDriver

__all__ = ["ClassicMembership", "ConsumerMember", "ConsumerMembership", "Membership"]


class ClassicMembership(ClassicClient):
    """One member's classic-protocol client with its heartbeat thread."""

    def __init__(self, member: ConsumerMember, driver: GroupDriver, member_id: str) -> None:
        super().__init__(member, driver, member_id)
        self.env: simpy.Environment = driver.env

    def start(self) -> None:
        self.env.process(self._heartbeat_thread())
        self.env.process(poll_timer(self))

    def _heartbeat_thread(self) -> Generator[simpy.Event, Any, None]:
        interval = self.spec.heartbeat_interval
        yield self.env.timeout(first_heartbeat_after(self.spec, self.member.index))
        while self.alive:
            self.beat()
            yield self.env.timeout(interval)


class ConsumerMembership(ConsumerClient):
    """One member's KIP-848 client with its heartbeat manager."""

    def __init__(self, member: ConsumerMember, driver: GroupDriver, member_id: str) -> None:
        self.env: simpy.Environment = driver.env
        self._ack = self.env.event()
        super().__init__(member, driver, member_id)

    def start(self) -> None:
        self.env.process(self._heartbeat_thread())
        self.env.process(poll_timer(self))

    def _wake_heartbeat(self) -> None:
        if not self._ack.triggered:
            self._ack.succeed()

    def _heartbeat_thread(self) -> Generator[simpy.Event, Any, None]:
        env = self.env
        if self.state == "JOINING":
            self._kick()
        else:  # members formed together do not heartbeat in lockstep: phase by index
            yield env.timeout(first_heartbeat_after(self.spec, self.member.index, self.heartbeat_interval))
            self._kick()
        while self.alive:
            yield self._ack | env.timeout(self.heartbeat_interval)
            self._ack = env.event()
            if not self.alive:
                return
            self.beat()


def poll_timer(client: ClassicMembership | ConsumerMembership) -> Generator[simpy.Event, Any, None]:
    """``max.poll.interval.ms``, watched at its deadline (:func:`run_poll_timer`)."""
    env = client.env
    while client.alive:
        yield env.timeout(max(0.0, run_poll_timer(client) - env.now))


Membership = ClassicMembership | ConsumerMembership
