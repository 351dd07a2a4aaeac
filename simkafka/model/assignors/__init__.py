"""Consumer partition assignors: Kafka's classic client-side ones and the KIP-848 server-side ones."""

from simkafka.model.assignors.base import Assignment, Assignor, GroupSpec, MemberSubscription

__all__ = ["Assignment", "Assignor", "GroupSpec", "MemberSubscription"]
