"""Groups as they stand when a run starts, and a member's group client.

Each consumer group starts formed: its members joined before time zero, so it is stable
at generation 1 (classic) or group epoch 1 with every member reconciled (KIP-848), with
the assignment the group's own assignor gives. A run's rebalance log therefore holds
only the rebalances the run causes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from simkafka.model.classic_group import ClassicGroup
from simkafka.model.group_protocol import (
    JOIN_GROUP_MEMBER_EPOCH,
    NONE,
    UNKNOWN_MEMBER_ID,
    ConsumerGroupHeartbeatResponse,
)
from simkafka.sim.group_client import ClassicClient, ConsumerClient
from simkafka.sim.group_member import ClassicMembership, ConsumerMembership, Membership

if TYPE_CHECKING:
    from simkafka.scenario import ConsumerGroupSpec
    from simkafka.sim.consumer import ConsumerMember
    from simkafka.sim.group_driver import GroupDriver


def new_membership(driver: GroupDriver, member: ConsumerMember) -> Membership:
    """A new process's group client, with a fresh member id."""
    member_id = member.next_member_id()
    if member.group.group_protocol == "consumer":
        return ConsumerMembership(member, driver, member_id)
    return ClassicMembership(member, driver, member_id)


def form_group(
    driver: Any,
    spec: ConsumerGroupSpec,
    members: Sequence[Any],
    new_client: Callable[[Any, Any], ClassicClient | ConsumerClient] = new_membership,
) -> None:
    """Bring ``members`` into a stable group before the run starts. ``driver`` is the
    engine's group driver (it holds the coordinator), ``new_client`` makes a member's
    group client (default: the events engine's)."""
    clients = [new_client(driver, m) for m in members]
    machine = driver.coordinator.groups[spec.group_id]
    if isinstance(machine, ClassicGroup):
        machine.form([c.join_request(0.0) for c in clients if isinstance(c, ClassicClient)])
        for member, client in zip(members, clients, strict=True):
            member.start(client)
            client.formed(machine.generation, machine.assignment(client.member_id))
        return
    # KIP-848: heartbeats until every member is reconciled (joins, then acknowledgements)
    state = {c.member_id: (JOIN_GROUP_MEMBER_EPOCH, ()) for c in clients}
    for _ in range(2 * len(clients) + 4):
        for client in clients:
            assert isinstance(client, ConsumerClient)
            epoch, owned = state[client.member_id]
            request = replace(client.heartbeat_request(0.0, epoch), owned=tuple(owned))
            for decision in machine.handle(request):
                if isinstance(decision, ConsumerGroupHeartbeatResponse) and decision.member == client.member_id:
                    assignment = decision.assignment if decision.assignment is not None else owned
                    state[client.member_id] = (decision.member_epoch, assignment)
        if all(machine.state(m) == "STABLE" for m in machine.members()) and all(
            epoch == machine.group_epoch and set(owned) == set(machine.target(m))
            for m, (epoch, owned) in state.items()
        ):
            break
    else:  # pragma: no cover - the coordinator reconciles a fresh group in a few rounds
        raise RuntimeError(f"group {spec.group_id} did not form")
    for member, client in zip(members, clients, strict=True):
        assert isinstance(client, ConsumerClient)
        epoch, owned = state[client.member_id]
        member.start(client)
        client.formed(epoch, tuple(sorted(owned)))
    machine.records.clear()


def commit_error(driver: Any, group_id: str, member_id: str, generation: int) -> str:
    """Whether an OffsetCommit from ``member_id`` at ``generation`` is accepted now."""
    machine = driver.coordinator.groups[group_id]
    if isinstance(machine, ClassicGroup):
        return machine.commit_error(member_id, generation)
    # KIP-848: a member the coordinator no longer knows is refused (its epoch is not
    # checked here: the coordinator accepts a commit at the member's current epoch)
    return NONE if member_id in machine.members() else UNKNOWN_MEMBER_ID
