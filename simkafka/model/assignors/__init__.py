"""Consumer partition assignors: Kafka's classic client-side ones and the KIP-848 server-side ones.

``classic_assignor(name)`` gives the assignor a classic-protocol group leader runs for a
``partition.assignment.strategy`` name; ``server_assignor(name)`` the one the group
coordinator runs for ``group.remote.assignor`` (``group.protocol=consumer``).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module

from simkafka.kafka_version import MODELLED_RELEASE, KafkaRelease
from simkafka.model.assignors.base import (
    Assignment,
    Assignor,
    GroupSpec,
    MemberSubscription,
    assign_until_stable,
)

# protocol name -> (module, class); imported on first use
CLASSIC_ASSIGNORS: dict[str, tuple[str, str]] = {
    "range": ("simkafka.model.assignors.classic", "RangeAssignor"),
    "roundrobin": ("simkafka.model.assignors.classic", "RoundRobinAssignor"),
    "sticky": ("simkafka.model.assignors.sticky", "StickyAssignor"),
    "cooperative-sticky": ("simkafka.model.assignors.sticky", "CooperativeStickyAssignor"),
}
SERVER_ASSIGNORS: dict[str, tuple[str, str]] = {
    "uniform": ("simkafka.model.assignors.server", "UniformAssignor"),
    "range": ("simkafka.model.assignors.server", "RangeAssignor"),
}


def _load(table: dict[str, tuple[str, str]], name: str, kind: str, **options: object) -> Assignor:
    try:
        module, cls = table[name]
    except KeyError:
        raise ValueError(f"unknown {kind} assignor {name!r}; known: {', '.join(table)}") from None
    return getattr(import_module(module), cls)(**options)


def classic_assignor(name: str) -> Assignor:
    """The client-side assignor for a ``partition.assignment.strategy`` protocol name."""
    return _load(CLASSIC_ASSIGNORS, name, "classic")


def server_assignor(
    name: str, topic_ids: Mapping[str, str] | None = None, release: KafkaRelease = MODELLED_RELEASE
) -> Assignor:
    """The KIP-848 group coordinator's assignor for a ``group.remote.assignor`` name.

    ``topic_ids`` (name -> base64 ``Uuid``) lets ``uniform`` walk topics in Kafka's order;
    ``release`` picks the Kafka release where the assignors' behaviour differs.
    """
    if name == "uniform":
        return _load(SERVER_ASSIGNORS, name, "server-side", topic_ids=topic_ids, release=release)
    return _load(SERVER_ASSIGNORS, name, "server-side")


__all__ = [
    "CLASSIC_ASSIGNORS",
    "SERVER_ASSIGNORS",
    "Assignment",
    "Assignor",
    "GroupSpec",
    "MemberSubscription",
    "assign_until_stable",
    "classic_assignor",
    "server_assignor",
]
