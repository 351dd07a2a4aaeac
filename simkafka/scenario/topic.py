"""A topic and its topic-level configs, with Kafka's documented defaults."""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from simkafka.scenario.base import SpecModel, split_csv
from simkafka.scenario.limits import INT16_MAX, INT32_MAX, MAX_PARTITIONS
from simkafka.scenario.quantities import (
    ByteSizeOrUnlimited,
    DataSize,
    IntByteSize,
    Millis,
    MillisOrUnlimited,
    PositiveMillis,
    size_type,
)

LONG_MAX = 2**63 - 1  # java.lang.Long.MAX_VALUE: Kafka's "never" for flush.messages / flush.ms
# LegacyRecord.RECORD_OVERHEAD_V0: TopicConfig's atLeast for segment.bytes
_SEGMENT_BYTES = size_type(kafka="int", least=14)

# Kafka's Topic.validate: legal characters and at most 249 of them
_LEGAL_TOPIC = re.compile(r"^[a-zA-Z0-9._-]{1,249}$")

Codec = Literal["none", "gzip", "snappy", "lz4", "zstd"]


_PARTITION_BROKER = re.compile(r"\d+:\d+")


def parse_replica_assignment(value: object) -> object:
    """Accept ``kafka-topics.sh --replica-assignment`` text ("0:1:2,1:2:0") or a list of lists."""
    if isinstance(value, str):
        try:
            return tuple(
                tuple(int(b) for b in part.split(":")) for part in value.split(",") if part.strip()
            )
        except ValueError:
            raise ValueError(
                f"expected broker ids like '0:1:2,1:2:0' (partition lists separated by commas), got {value!r}"
            ) from None
    return value


class Topic(SpecModel):
    """A topic. ``partitions`` and ``replication.factor`` follow from ``replica.assignment`` when given."""

    name: str
    partitions: int = Field(1, ge=1, le=MAX_PARTITIONS, description="num.partitions default is 1")
    replication_factor: int = Field(
        1, ge=1, le=INT16_MAX, alias="replication.factor", description="default.replication.factor default is 1"
    )
    min_insync_replicas: int = Field(1, ge=1, le=INT32_MAX, alias="min.insync.replicas")
    retention: MillisOrUnlimited = Field(7 * 86400.0, alias="retention.ms")
    retention_bytes: ByteSizeOrUnlimited = Field(math.inf, alias="retention.bytes")
    segment_bytes: _SEGMENT_BYTES = Field(1024**3, alias="segment.bytes")
    segment: PositiveMillis = Field(7 * 86400.0, alias="segment.ms")
    index_interval_bytes: IntByteSize = Field(4096, alias="index.interval.bytes")
    flush_messages: int = Field(
        LONG_MAX,
        ge=1,
        le=LONG_MAX,
        alias="flush.messages",
        description="fsync the log once this many messages are unflushed (default Long.MAX: never)",
    )
    flush_ms: Millis = Field(
        LONG_MAX / 1000,
        alias="flush.ms",
        description="fsync the log when its last flush is this old (default Long.MAX: never)",
    )
    cleanup_policy: tuple[Literal["delete", "compact"], ...] = Field(
        ("delete",), min_length=1, alias="cleanup.policy"
    )
    delete_retention: Millis = Field(86400.0, alias="delete.retention.ms")
    min_cleanable_dirty_ratio: float = Field(0.5, ge=0, le=1, alias="min.cleanable.dirty.ratio")
    compression_type: Literal["producer", "uncompressed", "none", "gzip", "snappy", "lz4", "zstd"] = Field(
        "producer", alias="compression.type"
    )
    max_message_bytes: IntByteSize = Field(1048588, alias="max.message.bytes")
    # not a Kafka setting, so not bound to a Java int: a backlog is often well over 2 GiB
    # (OMB's consumerBacklogSizeGB imports as one)
    prefill: DataSize = Field(
        0,
        description="bytes already in the topic when the run starts (spread evenly over its "
        "partitions, in sync on every replica, older than anything in the page cache): a "
        "group with auto.offset.reset=earliest catches up on them from disk",
    )
    unclean_leader_election_enable: bool = Field(False, alias="unclean.leader.election.enable")
    # which replicas the brokers' replication quotas throttle: "*" (all of the topic's) or
    # "partition:broker" pairs, as kafka-configs sets them for a reassignment
    leader_replication_throttled_replicas: tuple[str, ...] = Field(
        (), alias="leader.replication.throttled.replicas",
        description="'*' or partition:broker pairs whose replication the leaders' "
        "leader.replication.throttled.rate limits",
    )
    follower_replication_throttled_replicas: tuple[str, ...] = Field(
        (), alias="follower.replication.throttled.replicas",
        description="'*' or partition:broker pairs whose fetches the followers' "
        "follower.replication.throttled.rate limits",
    )
    replica_assignment: tuple[tuple[int, ...], ...] | None = Field(
        None,
        max_length=MAX_PARTITIONS,
        alias="replica.assignment",
        description="explicit replicas per partition, preferred leader first (as --replica-assignment)",
    )

    @model_validator(mode="before")
    @classmethod
    def _sizes_from_assignment(cls, data: object) -> object:
        # kafka-topics.sh takes either --partitions/--replication-factor or an explicit
        # assignment; when only the assignment is written, the sizes follow from it
        if isinstance(data, dict) and data.get("replica.assignment") is not None:
            parsed = parse_replica_assignment(data["replica.assignment"])
            if isinstance(parsed, (list, tuple)) and parsed:
                data = dict(data)
                data["replica.assignment"] = parsed
                data.setdefault("partitions", len(parsed))
                first = parsed[0]
                if isinstance(first, (list, tuple)):
                    data.setdefault("replication.factor", len(first))
        return data

    @field_validator(
        "leader_replication_throttled_replicas", "follower_replication_throttled_replicas", mode="before"
    )
    @classmethod
    def _throttled_replicas(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if isinstance(value, (list, tuple)):
            for item in value:
                if item != "*" and not (isinstance(item, str) and _PARTITION_BROKER.fullmatch(item)):
                    raise ValueError(f"{item!r} is neither '*' nor partition:broker (e.g. 0:1)")
        return value

    def throttles(self, which: str, partition: int, broker: int) -> bool:
        """Whether the ``which`` ("leader" / "follower") replication quota covers the
        replica of ``partition`` on ``broker``."""
        listed = (
            self.leader_replication_throttled_replicas
            if which == "leader"
            else self.follower_replication_throttled_replicas
        )
        return "*" in listed or f"{partition}:{broker}" in listed

    @field_validator("name")
    @classmethod
    def _legal_name(cls, name: str) -> str:
        if name in (".", "..") or not _LEGAL_TOPIC.match(name):
            raise ValueError(
                "topic names use only ASCII letters, digits, '.', '_' and '-', at most 249 characters"
            )
        return name

    @field_validator("cleanup_policy", mode="before")
    @classmethod
    def _policy_list(cls, value: object) -> object:
        return split_csv(value)

    @property
    def compacted(self) -> bool:
        return "compact" in self.cleanup_policy

    @property
    def deletes(self) -> bool:
        return "delete" in self.cleanup_policy
