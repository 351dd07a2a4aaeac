"""Which Apache Kafka release simkafka models, and what differs between the releases it knows.

simkafka models **Apache Kafka 4.1** (:data:`MODELLED_RELEASE`). Every docstring that says
"as Kafka does" means "as Kafka 4.1 does", unless it names another release.

Some behaviour that a simulation or a log file can show changed between 4.0.0 and 4.1,
and both are in production. Those differences are not silent choices: each is a field of
:class:`KafkaBehaviour`, and a scenario (``cluster.kafka_version``), a ``LogConfig`` or an
assignor picks the release. Everything else is the same in both.

The older release is 4.0.0 exactly, not the 4.0 line: the 4.0 branch took KAFKA-806
(index entries per batch) after 4.0.0 (apache/kafka#18842), so a 4.0.1+ broker mixes the
two columns below. 4.0.0's ``uniform`` assignor was checked against the JVM.

This module imports nothing of simkafka's, so every layer (the log engine included) can
ask it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "KAFKA_RELEASES",
    "MODELLED_RELEASE",
    "KafkaBehaviour",
    "KafkaRelease",
    "behaviour",
]

# "4.1" stands for the 4.1 line (4.1.0 and its patch releases); "4.0.0" for that release.
KafkaRelease = Literal["4.0.0", "4.1"]

# The release simkafka models when nothing says otherwise (README, `simkafka --version`).
MODELLED_RELEASE: KafkaRelease = "4.1"
KAFKA_RELEASES: tuple[KafkaRelease, ...] = ("4.0.0", "4.1")

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class KafkaBehaviour:
    """The behaviours simkafka reproduces that differ between the Kafka releases it knows."""

    release: KafkaRelease
    # Topic-level `segment.bytes` atLeast: 14 bytes (LegacyRecord.RECORD_OVERHEAD_V0) in
    # 4.0.0, 1 MiB from 4.1 (KAFKA-19080 applied KIP-1030's broker minimum to the topic
    # config too, and added `internal.segment.bytes` for tests that need tiny segments).
    topic_segment_bytes_minimum: int
    has_internal_segment_bytes: bool
    # `LogSegment.append` adds at most one index entry per append in 4.0.0; from 4.1 it
    # walks the appended batches and may add one per batch (KAFKA-806). Visible in the
    # .index/.timeindex files of followers, the cleaner's output and recovered segments.
    index_entry_per_batch: bool
    # The server-side `uniform` assignor's homogeneous builder: in 4.0.0 the extra
    # partitions (total % members) go to the first members in member order, whatever
    # they own; from 4.1 (KAFKA-18688) a member that owns no extra partition gives its
    # extra quota up unless it is among the last that must take one, so a balanced
    # assignment stays where it is.
    uniform_homogeneous_sticky_remainder: bool
    # Eligible leader replicas (KIP-966 part 1): in 4.0 behind eligible.leader.replicas.version
    # (off by default); "enabled by default on new clusters starting 4.1" (Kafka docs,
    # operations/eligible-leader-replicas). The KRaft controller tracks the ELR and elects
    # from it when the ISR is empty.
    eligible_leader_replicas: bool = False


_BEHAVIOURS: dict[str, KafkaBehaviour] = {
    "4.0.0": KafkaBehaviour(
        release="4.0.0",
        topic_segment_bytes_minimum=14,
        has_internal_segment_bytes=False,
        index_entry_per_batch=False,
        uniform_homogeneous_sticky_remainder=False,
    ),
    "4.1": KafkaBehaviour(
        release="4.1",
        topic_segment_bytes_minimum=_MIB,
        has_internal_segment_bytes=True,
        index_entry_per_batch=True,
        uniform_homogeneous_sticky_remainder=True,
        eligible_leader_replicas=True,
    ),
}


def behaviour(release: str = MODELLED_RELEASE) -> KafkaBehaviour:
    """The behaviour of one Kafka release; ``ValueError`` naming the known ones otherwise."""
    try:
        return _BEHAVIOURS[release]
    except KeyError:
        known = ", ".join(KAFKA_RELEASES)
        raise ValueError(f"simkafka models Kafka releases {known}, not {release!r}") from None
