"""Kafka's per-topic ``LogConfig`` and the pure roll / retention / flush / compaction rules.

``LogConfig`` mirrors ``org.apache.kafka.storage.internals.log.LogConfig``: the same
topic-level settings (``segment.bytes``, ``retention.ms``, ``cleanup.policy`` ...), the
same defaults and the same range checks, those of the Kafka release it is given
(``kafka_release``, :mod:`simkafka.kafka_version`; 4.1 unless told otherwise). The two
releases differ on segment sizes: from 4.1 (KAFKA-19080) ``segment.bytes`` must be at
least 1 MiB and tests use the internal ``internal.segment.bytes`` to get tiny segments;
in 4.0 ``segment.bytes`` may go down to 14 bytes and ``internal.segment.bytes`` is an
unknown name.

The decision functions below are the rules the broker applies, written as pure functions
of plain numbers and a ``now_ms`` (design.md, "Time is passed in"), so that the real log
engine and the simulator make the *same* decision from the same state:

* :func:`should_roll` -- ``LogSegment.shouldRoll`` with ``UnifiedLog.maybeRoll``'s
  ``RollParams``;
* :func:`segments_to_delete_by_time`, :func:`segments_to_delete_by_size`,
  :func:`segments_to_delete_by_log_start_offset` and :func:`delete_old_segments` --
  ``UnifiedLog.deleteOldSegments`` and its ``deletableSegments`` walk;
* :func:`should_flush` -- ``flush.messages`` (checked on append) and ``flush.ms``
  (checked by ``LogManager.flushDirtyLogs``);
* :func:`cleanable_offsets`, :func:`log_to_clean`, :func:`needs_compaction` and
  :func:`grab_filthiest_compacted_log` -- ``LogCleanerManager``.

Segments are described by :class:`SegmentStats` (oldest first, the last one is the
active segment), so callers need not hand over real ``LogSegment`` objects.

Not modelled: tiered storage (``remote.storage.enable``, ``local.retention.*`` are parsed
and validated but retention always uses the local values as if tiering were off), and the
transaction index (callers pass the last stable offset themselves).
"""

from __future__ import annotations

import difflib
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

from simkafka.kafka_version import MODELLED_RELEASE, KafkaBehaviour, KafkaRelease, behaviour

__all__ = [
    "LONG_MAX",
    "INT_MAX",
    "LogConfig",
    "SegmentStats",
    "RollReason",
    "roll_reason",
    "should_roll",
    "time_waited_for_roll",
    "can_convert_to_relative_offset",
    "random_segment_jitter",
    "retention_ms_breached",
    "deletable_segments",
    "segments_to_delete_by_time",
    "segments_to_delete_by_size",
    "segments_to_delete_by_log_start_offset",
    "RetentionResult",
    "delete_old_segments",
    "should_flush_on_append",
    "should_flush_on_schedule",
    "should_flush",
    "OffsetsToClean",
    "LogToClean",
    "cleanable_ratio",
    "cleanable_offsets",
    "calculate_cleanable_bytes",
    "max_compaction_delay",
    "log_to_clean",
    "needs_compaction",
    "grab_filthiest_compacted_log",
]

LONG_MAX = 2**63 - 1  # java.lang.Long.MAX_VALUE: Kafka's "never" for flush and lag settings
INT_MAX = 2**31 - 1
_INT_MIN = -(2**31)
_LONG_MIN = -(2**63)
NO_TIMESTAMP = -1  # RecordBatch.NO_TIMESTAMP

_DAY_MS = 24 * 60 * 60 * 1000


# -- the config --------------------------------------------------------------------

# dotted name -> (field, ConfigDef type, lower bound, upper bound); None = unbounded.
# segment.bytes' lower bound depends on the release (_spec_for); the 1 MiB here is 4.1's.
_SPEC: dict[str, tuple[str, str, float | None, float | None]] = {
    "segment.bytes": ("segment_bytes", "int", 1024 * 1024, None),
    "segment.ms": ("segment_ms", "long", 1, None),
    "segment.jitter.ms": ("segment_jitter_ms", "long", 0, None),
    "segment.index.bytes": ("segment_index_bytes", "int", 4, None),
    "flush.messages": ("flush_messages", "long", 1, None),
    "flush.ms": ("flush_ms", "long", 0, None),
    "retention.bytes": ("retention_bytes", "long", None, None),
    "retention.ms": ("retention_ms", "long", -1, None),
    "max.message.bytes": ("max_message_bytes", "int", 0, None),
    "index.interval.bytes": ("index_interval_bytes", "int", 0, None),
    "delete.retention.ms": ("delete_retention_ms", "long", 0, None),
    "min.compaction.lag.ms": ("min_compaction_lag_ms", "long", 0, None),
    "max.compaction.lag.ms": ("max_compaction_lag_ms", "long", 1, None),
    "file.delete.delay.ms": ("file_delete_delay_ms", "long", 0, None),
    "min.cleanable.dirty.ratio": ("min_cleanable_dirty_ratio", "double", 0, 1),
    "cleanup.policy": ("cleanup_policy", "list", None, None),
    "unclean.leader.election.enable": ("unclean_leader_election_enable", "boolean", None, None),
    "min.insync.replicas": ("min_insync_replicas", "int", 1, None),
    "compression.type": ("compression_type", "string", None, None),
    "compression.gzip.level": ("compression_gzip_level", "int", None, None),
    "compression.lz4.level": ("compression_lz4_level", "int", 1, 17),
    "compression.zstd.level": ("compression_zstd_level", "int", -131072, 22),
    "preallocate": ("preallocate", "boolean", None, None),
    "message.timestamp.type": ("message_timestamp_type", "string", None, None),
    "message.timestamp.before.max.ms": ("message_timestamp_before_max_ms", "long", 0, None),
    "message.timestamp.after.max.ms": ("message_timestamp_after_max_ms", "long", 0, None),
    "leader.replication.throttled.replicas": (
        "leader_replication_throttled_replicas",
        "list",
        None,
        None,
    ),
    "follower.replication.throttled.replicas": (
        "follower_replication_throttled_replicas",
        "list",
        None,
        None,
    ),
    "remote.storage.enable": ("remote_storage_enable", "boolean", None, None),
    "local.retention.ms": ("local_retention_ms", "long", -2, None),
    "local.retention.bytes": ("local_retention_bytes", "long", -2, None),
    "remote.log.copy.disable": ("remote_log_copy_disable", "boolean", None, None),
    "remote.log.delete.on.disable": ("remote_log_delete_on_disable", "boolean", None, None),
    "internal.segment.bytes": ("internal_segment_bytes", "int", None, None),
}
_FIELD_TO_NAME = {spec[0]: name for name, spec in _SPEC.items()}
_INTERNAL_SEGMENT_BYTES = "internal.segment.bytes"  # from Kafka 4.1 (KAFKA-19080)
_CHOICES = {
    "cleanup_policy": ("compact", "delete"),
    "compression_type": ("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"),
    "message_timestamp_type": ("CreateTime", "LogAppendTime"),
}


@dataclass(frozen=True)
class LogConfig:
    """A topic's log settings (Kafka's ``LogConfig``), field names = dotted names with ``_``.

    Constructing one validates every value the way Kafka's ``ConfigDef`` does, so an
    impossible config fails here with the Kafka name of the setting in the message.

    ``kafka_release`` (keyword only) picks whose rules apply -- ``segment.bytes``'
    minimum, whether ``internal.segment.bytes`` exists, and how the log engine's
    segments add index entries (:attr:`kafka_behaviour`). It is not a topic config:
    :meth:`to_topic_configs` leaves it out and :meth:`from_topic_configs` takes it apart
    from the names.
    """

    segment_bytes: int = 1024 * 1024 * 1024
    segment_ms: int = 7 * _DAY_MS
    segment_jitter_ms: int = 0
    segment_index_bytes: int = 10 * 1024 * 1024
    flush_messages: int = LONG_MAX
    flush_ms: int = LONG_MAX
    retention_bytes: int = -1
    retention_ms: int = 7 * _DAY_MS
    max_message_bytes: int = 1024 * 1024 + 12  # 1 MiB + Records.LOG_OVERHEAD
    index_interval_bytes: int = 4096
    delete_retention_ms: int = _DAY_MS
    min_compaction_lag_ms: int = 0
    max_compaction_lag_ms: int = LONG_MAX
    file_delete_delay_ms: int = 60_000
    min_cleanable_dirty_ratio: float = 0.5
    cleanup_policy: tuple[str, ...] = ("delete",)
    unclean_leader_election_enable: bool = False
    min_insync_replicas: int = 1
    compression_type: str = "producer"
    compression_gzip_level: int = -1
    compression_lz4_level: int = 9
    compression_zstd_level: int = 3
    preallocate: bool = False
    message_timestamp_type: str = "CreateTime"
    message_timestamp_before_max_ms: int = LONG_MAX
    message_timestamp_after_max_ms: int = LONG_MAX
    leader_replication_throttled_replicas: tuple[str, ...] = ()
    follower_replication_throttled_replicas: tuple[str, ...] = ()
    remote_storage_enable: bool = False
    local_retention_ms: int = -2
    local_retention_bytes: int = -2
    remote_log_copy_disable: bool = False
    remote_log_delete_on_disable: bool = False
    #: ``internal.segment.bytes``: overrides ``segment.bytes`` without its 1 MiB minimum
    #: (Kafka 4.1 uses it in tests; so can we, for small segments). Unknown in 4.0.
    internal_segment_bytes: int | None = field(default=None)
    #: The Kafka release whose rules apply (not a topic config; see the class docstring).
    kafka_release: KafkaRelease = field(default=MODELLED_RELEASE, kw_only=True)

    def __post_init__(self) -> None:
        rules = behaviour(self.kafka_release)  # ValueError naming the releases we know
        for f in fields(self):
            if f.name == "kafka_release":
                continue
            name = _FIELD_TO_NAME[f.name]
            value = getattr(self, f.name)
            if f.name == "internal_segment_bytes":
                if value is None:
                    continue
                if not rules.has_internal_segment_bytes:
                    raise _unknown_name(name, rules)
            object.__setattr__(self, f.name, _validate(name, _spec_for(name, rules), value))
        # LogConfig.validateValues
        if self.min_compaction_lag_ms > self.max_compaction_lag_ms:
            raise ValueError(
                f"conflict topic config setting min.compaction.lag.ms "
                f"({self.min_compaction_lag_ms}) > max.compaction.lag.ms "
                f"({self.max_compaction_lag_ms})"
            )

    # -- Kafka's derived values --------------------------------------------------------
    @property
    def kafka_behaviour(self) -> KafkaBehaviour:
        """What :attr:`kafka_release` does where the releases differ."""
        return behaviour(self.kafka_release)

    @property
    def compact(self) -> bool:
        """``cleanup.policy`` contains ``compact``."""
        return "compact" in self.cleanup_policy

    @property
    def delete(self) -> bool:
        """``cleanup.policy`` contains ``delete``."""
        return "delete" in self.cleanup_policy

    @property
    def segment_size(self) -> int:
        """``segmentSize()``: ``internal.segment.bytes`` when set, else ``segment.bytes``."""
        return (
            self.segment_bytes
            if self.internal_segment_bytes is None
            else self.internal_segment_bytes
        )

    @property
    def max_index_size(self) -> int:
        """``maxIndexSize`` (``segment.index.bytes``)."""
        return self.segment_index_bytes

    @property
    def max_segment_ms(self) -> int:
        """``maxSegmentMs()``: a compacted topic also rolls by ``max.compaction.lag.ms``."""
        if self.compact and self.max_compaction_lag_ms > 0:
            return min(self.max_compaction_lag_ms, self.segment_ms)
        return self.segment_ms

    @property
    def init_file_size(self) -> int:
        """``initFileSize()``: a ``preallocate``d segment file starts at ``segment.bytes``."""
        return self.segment_size if self.preallocate else 0

    @property
    def effective_local_retention_ms(self) -> int:
        """``localRetentionMs()``: ``-2`` means "same as ``retention.ms``"."""
        return self.retention_ms if self.local_retention_ms == -2 else self.local_retention_ms

    @property
    def effective_local_retention_bytes(self) -> int:
        """``localRetentionBytes()``: ``-2`` means "same as ``retention.bytes``"."""
        return (
            self.retention_bytes if self.local_retention_bytes == -2 else self.local_retention_bytes
        )

    # -- dotted names ----------------------------------------------------------------
    @classmethod
    def from_topic_configs(
        cls, configs: Mapping[str, Any], *, kafka_release: KafkaRelease = MODELLED_RELEASE
    ) -> LogConfig:
        """Build from Kafka's dotted topic-config names (``{"retention.ms": "3600000"}``).

        Values may be Python values or the strings ``kafka-configs.sh`` takes; they are
        parsed as Kafka's ``ConfigDef`` would (``"compact,delete"`` is a list, booleans
        are ``true``/``false`` in any case). An unknown name raises ``ValueError`` naming
        it (``LogConfig.validateNames``) with the closest valid name as a hint; which
        names exist depends on ``kafka_release`` (``internal.segment.bytes`` from 4.1).
        """
        rules = behaviour(kafka_release)
        known = _names_of(rules)
        kwargs: dict[str, Any] = {}
        for name, raw in configs.items():
            if name not in known:
                raise _unknown_name(name, rules)
            spec = _SPEC[name]
            kwargs[spec[0]] = _parse(name, spec[1], raw)
        return cls(**kwargs, kafka_release=kafka_release)

    def to_topic_configs(self) -> dict[str, Any]:
        """Every setting under its dotted Kafka name (lists joined with commas)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "kafka_release":
                continue  # which rules apply, not a setting of the topic
            if f.name == "internal_segment_bytes" and value is None:
                continue
            out[_FIELD_TO_NAME[f.name]] = ",".join(value) if isinstance(value, tuple) else value
        return out


def _names_of(rules: KafkaBehaviour) -> list[str]:
    """The topic config names the release knows (``LogConfig.configNames``)."""
    return [n for n in _SPEC if n != _INTERNAL_SEGMENT_BYTES or rules.has_internal_segment_bytes]


def _unknown_name(name: str, rules: KafkaBehaviour) -> ValueError:
    """``LogConfig.validateNames``' error, with the closest name the release knows as a hint."""
    hint = difflib.get_close_matches(name, _names_of(rules), n=1)
    extra = f" (did you mean {hint[0]!r}?)" if hint else ""
    return ValueError(f"Unknown topic config name: {name}{extra}")


def _spec_for(name: str, rules: KafkaBehaviour) -> tuple[str, str, float | None, float | None]:
    """The ``ConfigDef`` entry of ``name`` in the release (``segment.bytes``' minimum varies)."""
    spec = _SPEC[name]
    if name == "segment.bytes":
        return (spec[0], spec[1], rules.topic_segment_bytes_minimum, spec[3])
    return spec


def _parse(name: str, kind: str, raw: Any) -> Any:
    """``ConfigDef.parseType``: turn a string (or a Python value) into the setting's type."""
    if not isinstance(raw, str):
        if kind == "list" and isinstance(raw, list | tuple):
            return tuple(raw)
        return raw
    text = raw.strip()
    try:
        if kind in ("int", "long"):
            return int(text)
        if kind == "double":
            return float(text)
    except ValueError:
        raise ValueError(
            f"Invalid value {raw} for configuration {name}: Not a number of type {kind.upper()}"
        ) from None
    if kind == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise ValueError(
            f"Invalid value {raw} for configuration {name}: Expected value to be either true or false"
        )
    if kind == "list":
        return tuple(p.strip() for p in text.split(",")) if text else ()
    return text


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _validate(name: str, spec: tuple[str, str, float | None, float | None], value: Any) -> Any:
    """Type and range checks of ``ConfigDef`` (``Range.atLeast`` / ``between`` / ``ValidList.in``)."""
    field_name, kind, lo, hi = spec
    if kind in ("int", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(
                f"Invalid value {value!r} for configuration {name}: expected an integer"
            )
        bits_lo, bits_hi = (_INT_MIN, INT_MAX) if kind == "int" else (_LONG_MIN, LONG_MAX)
        if not bits_lo <= value <= bits_hi:
            raise ValueError(
                f"Invalid value {value} for configuration {name}: out of range for a {kind}"
            )
    elif kind == "double":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"Invalid value {value!r} for configuration {name}: expected a number")
        value = float(value)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(
                f"Invalid value {value!r} for configuration {name}: expected true or false"
            )
    elif kind == "list":
        if isinstance(value, str):
            value = _parse(name, kind, value)
        value = tuple(value)
        allowed = _CHOICES.get(field_name)
        for item in value:
            if allowed is not None and item not in allowed:
                raise ValueError(
                    f"Invalid value {item} for configuration {name}: String must be one of: "
                    f"{', '.join(allowed)}"
                )
    elif kind == "string":
        allowed = _CHOICES.get(field_name)
        if allowed is not None and value not in allowed:
            raise ValueError(
                f"Invalid value {value} for configuration {name}: String must be one of: "
                f"{', '.join(allowed)}"
            )
    if lo is not None and value < lo:
        raise ValueError(
            f"Invalid value {value} for configuration {name}: Value must be at least {_num(lo)}"
        )
    if hi is not None and value > hi:
        raise ValueError(
            f"Invalid value {value} for configuration {name}: Value must be no more than {_num(hi)}"
        )
    if field_name == "compression_gzip_level" and not (value == -1 or 1 <= value <= 9):
        raise ValueError(
            f"Invalid value {value} for configuration {name}: Value must be between 1 and 9 or -1"
        )
    return value


# -- segments ----------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentStats:
    """What the rules need to know about one segment.

    ``max_timestamp`` is ``maxTimestampSoFar`` (-1 if no batch had a timestamp);
    ``first_batch_timestamp`` is the first batch's max timestamp (``getFirstBatchTimestamp``,
    -1 if none); ``last_modified_ms`` is the ``.log`` file's mtime, the fallback time
    retention uses when there are no timestamps.
    """

    base_offset: int
    size: int
    max_timestamp: int = NO_TIMESTAMP
    last_modified_ms: int = 0
    first_batch_timestamp: int = NO_TIMESTAMP

    @property
    def largest_timestamp(self) -> int:
        """``LogSegment.largestTimestamp``: ``max_timestamp`` if known, else the file mtime."""
        return self.max_timestamp if self.max_timestamp >= 0 else self.last_modified_ms


# -- rolling -----------------------------------------------------------------------


class RollReason:
    """Which ``LogSegment.shouldRoll`` clause fired (values are log-friendly labels)."""

    SIZE = "segment.bytes"
    TIME = "segment.ms"
    OFFSET_INDEX_FULL = "offset index full"
    TIME_INDEX_FULL = "time index full"
    OFFSET_OVERFLOW = "relative offset overflow"


def can_convert_to_relative_offset(base_offset: int, offset: int) -> bool:
    """``LogSegment.canConvertToRelativeOffset``: ``0 <= offset - base <= Integer.MAX_VALUE``."""
    return 0 <= offset - base_offset <= INT_MAX


def time_waited_for_roll(
    now_ms: int, message_timestamp: int, *, rolling_based_timestamp: int | None, created_ms: int
) -> int:
    """``LogSegment.timeWaitedForRoll``.

    If the segment's first batch carried a timestamp (``rollingBasedTimestamp >= 0``) the
    wait is measured in *record* time: incoming ``message_timestamp`` minus that first
    timestamp -- so replaying old data rolls by its own clock. Otherwise it is wall-clock
    time since the segment was created.
    """
    ts = -1 if rolling_based_timestamp is None else rolling_based_timestamp
    if ts >= 0:
        return message_timestamp - ts
    return now_ms - created_ms


def roll_reason(
    config: LogConfig,
    *,
    segment_size: int,
    segment_base_offset: int,
    now_ms: int,
    created_ms: int,
    rolling_based_timestamp: int | None,
    max_timestamp_in_messages: int,
    max_offset_in_messages: int,
    messages_size: int,
    offset_index_full: bool = False,
    time_index_full: bool = False,
    roll_jitter_ms: int = 0,
) -> str | None:
    """The first ``LogSegment.shouldRoll`` clause that holds, or ``None``.

    ``UnifiedLog.maybeRoll`` builds ``RollParams(config.maxSegmentMs(), config.segmentSize(),
    appendInfo.maxTimestamp, appendInfo.lastOffset, messagesSize, now)``, so the time limit
    is :attr:`LogConfig.max_segment_ms` and the offset checked is the *last* offset of the
    incoming batches. ``rolling_based_timestamp`` is the max timestamp of the segment's
    first batch (``None`` for an empty segment); ``roll_jitter_ms`` the segment's
    ``rollJitterMs`` drawn at creation (:func:`random_segment_jitter`).
    """
    if segment_size > config.segment_size - messages_size:
        return RollReason.SIZE
    waited = time_waited_for_roll(
        now_ms,
        max_timestamp_in_messages,
        rolling_based_timestamp=rolling_based_timestamp,
        created_ms=created_ms,
    )
    if segment_size > 0 and waited > config.max_segment_ms - roll_jitter_ms:
        return RollReason.TIME
    if offset_index_full:
        return RollReason.OFFSET_INDEX_FULL
    if time_index_full:
        return RollReason.TIME_INDEX_FULL
    if not can_convert_to_relative_offset(segment_base_offset, max_offset_in_messages):
        return RollReason.OFFSET_OVERFLOW
    return None


def should_roll(
    config: LogConfig,
    *,
    segment_size: int,
    segment_base_offset: int,
    now_ms: int,
    created_ms: int,
    rolling_based_timestamp: int | None,
    max_timestamp_in_messages: int,
    max_offset_in_messages: int,
    messages_size: int,
    offset_index_full: bool = False,
    time_index_full: bool = False,
    roll_jitter_ms: int = 0,
) -> bool:
    """``LogSegment.shouldRoll`` (arguments as for :func:`roll_reason`).

    Rolls when the segment would pass ``segment.bytes`` with the incoming bytes, when a
    non-empty segment has waited longer than ``segment.ms`` minus its jitter, when either
    index is full, or when the incoming last offset cannot be stored relative to the
    segment's base offset.
    """
    reason = roll_reason(
        config,
        segment_size=segment_size,
        segment_base_offset=segment_base_offset,
        now_ms=now_ms,
        created_ms=created_ms,
        rolling_based_timestamp=rolling_based_timestamp,
        max_timestamp_in_messages=max_timestamp_in_messages,
        max_offset_in_messages=max_offset_in_messages,
        messages_size=messages_size,
        offset_index_full=offset_index_full,
        time_index_full=time_index_full,
        roll_jitter_ms=roll_jitter_ms,
    )
    return reason is not None


def random_segment_jitter(config: LogConfig, rng: random.Random) -> int:
    """``LogConfig.randomSegmentJitter``: ``abs(nextInt()) % min(segment.jitter.ms, segment.ms)``.

    Kafka draws from ``ThreadLocalRandom``; we draw a signed 32-bit int from ``rng`` (a
    named stream, for determinism) and apply Kafka's ``Utils.abs``, which maps
    ``Integer.MIN_VALUE`` to 0.
    """
    if config.segment_jitter_ms == 0:
        return 0
    n = rng.getrandbits(32)
    if n >= 2**31:
        n -= 2**32
    magnitude = 0 if n == _INT_MIN else abs(n)
    return magnitude % min(config.segment_jitter_ms, config.segment_ms)


# -- retention ---------------------------------------------------------------------

DeletionCondition = Callable[[SegmentStats, SegmentStats | None], bool]


def retention_ms_breached(segment: SegmentStats, now_ms: int, retention_ms: int) -> bool:
    """``deleteRetentionMsBreachedSegments``'s predicate: ``now - largestTimestamp > retention.ms``.

    A segment with a timestamp in the future is never breached; ``retention.ms < 0``
    (``-1``) disables time retention.
    """
    if retention_ms < 0:
        return False
    return now_ms - segment.largest_timestamp > retention_ms


def deletable_segments(
    segments: Sequence[SegmentStats],
    predicate: DeletionCondition,
    *,
    high_watermark: int | None = None,
    log_end_offset: int | None = None,
) -> int:
    """``UnifiedLog.deletableSegments``: how many segments, oldest first, may go.

    Walks from the oldest segment and stops at the first one that (a) is not entirely
    below the high watermark -- its upper bound, the next segment's base offset or the
    log end offset for the last one, must be ``<= high_watermark`` --, (b) fails the
    predicate, or (c) is the last segment and empty. The active segment *can* be
    deletable (non-empty, fully replicated, breached); :func:`delete_old_segments` then
    rolls first, as ``UnifiedLog.deleteSegments`` does. ``high_watermark=None`` means
    everything is replicated; then ``log_end_offset`` may be omitted.
    """
    count = 0
    n = len(segments)
    for i, segment in enumerate(segments):
        nxt = segments[i + 1] if i + 1 < n else None
        if high_watermark is not None:
            if nxt is not None:
                upper = nxt.base_offset
            elif log_end_offset is not None:
                upper = log_end_offset
            else:
                raise ValueError("log_end_offset is needed when high_watermark is given")
            if high_watermark < upper:
                break
        if not predicate(segment, nxt):  # evaluated after the HW check, as in Kafka
            break
        if nxt is None and segment.size == 0:
            break
        count += 1
    return count


def segments_to_delete_by_time(
    segments: Sequence[SegmentStats],
    now_ms: int,
    retention_ms: int,
    *,
    high_watermark: int | None = None,
    log_end_offset: int | None = None,
) -> int:
    """``deleteRetentionMsBreachedSegments``: count of oldest segments past ``retention.ms``."""
    if retention_ms < 0:
        return 0
    return deletable_segments(
        segments,
        lambda seg, _next: retention_ms_breached(seg, now_ms, retention_ms),
        high_watermark=high_watermark,
        log_end_offset=log_end_offset,
    )


def segments_to_delete_by_size(
    segments: Sequence[SegmentStats],
    retention_bytes: int,
    *,
    high_watermark: int | None = None,
    log_end_offset: int | None = None,
) -> int:
    """``deleteRetentionSizeBreachedSegments``: drop oldest segments while the excess allows.

    Nothing happens when ``retention.bytes < 0`` or the log is smaller than it. Otherwise
    ``diff = size - retention.bytes`` and each oldest segment is deleted while
    ``diff - segment.size >= 0`` -- whole segments only, so a log may stay above
    ``retention.bytes`` by up to one segment.
    """
    log_size = sum(s.size for s in segments)
    if retention_bytes < 0 or log_size < retention_bytes:
        return 0
    diff = log_size - retention_bytes

    def predicate(segment: SegmentStats, _next: SegmentStats | None) -> bool:
        nonlocal diff
        if diff - segment.size >= 0:
            diff -= segment.size
            return True
        return False

    return deletable_segments(
        segments, predicate, high_watermark=high_watermark, log_end_offset=log_end_offset
    )


def segments_to_delete_by_log_start_offset(
    segments: Sequence[SegmentStats],
    log_start_offset: int,
    *,
    high_watermark: int | None = None,
    log_end_offset: int | None = None,
) -> int:
    """``deleteLogStartOffsetBreachedSegments``: segments whose successor starts ``<= logStartOffset``."""
    return deletable_segments(
        segments,
        lambda _seg, nxt: nxt is not None and nxt.base_offset <= log_start_offset,
        high_watermark=high_watermark,
        log_end_offset=log_end_offset,
    )


class RetentionResult(NamedTuple):
    """Outcome of :func:`delete_old_segments`."""

    #: Segments deleted for ``logStartOffset``, ``retention.bytes``, ``retention.ms``.
    by_log_start_offset: int
    by_size: int
    by_time: int
    #: Whether the active segment was rolled first (every segment was deletable).
    rolled: bool
    #: The segments left, oldest first (a new empty active segment if ``rolled``).
    remaining: tuple[SegmentStats, ...]
    #: The log start offset afterwards (``maybeIncrementLogStartOffset``).
    log_start_offset: int

    @property
    def deleted(self) -> int:
        return self.by_log_start_offset + self.by_size + self.by_time


def delete_old_segments(
    config: LogConfig,
    segments: Sequence[SegmentStats],
    *,
    now_ms: int,
    log_start_offset: int,
    log_end_offset: int,
    high_watermark: int | None = None,
    roll_created_ms: int | None = None,
) -> RetentionResult:
    """``UnifiedLog.deleteOldSegments``: log-start-offset, then size, then time retention.

    With ``cleanup.policy`` containing ``delete`` all three rules run in that order, each
    on what the previous left; otherwise only the log-start-offset rule runs (a compacted
    topic still drops segments below ``logStartOffset`` after ``DeleteRecords``). When every
    segment is deletable the log first rolls a new empty active segment at the log end
    offset (``deleteSegments``: "we must always have at least one segment"). After each
    deletion the log start offset moves up to the first remaining segment's base offset.
    """
    hw = log_end_offset if high_watermark is None else high_watermark
    segs = list(segments)
    lso = log_start_offset
    rolled = False
    counts = []

    def apply(count: int) -> None:
        nonlocal segs, lso, rolled
        counts.append(count)
        if count == 0:
            return
        if count == len(segs):
            created = now_ms if roll_created_ms is None else roll_created_ms
            segs.append(SegmentStats(log_end_offset, 0, last_modified_ms=created))
            rolled = True
        segs = segs[count:]
        lso = max(lso, segs[0].base_offset)

    kw = {"high_watermark": hw, "log_end_offset": log_end_offset}
    apply(segments_to_delete_by_log_start_offset(segs, lso, **kw))
    if config.delete:
        apply(segments_to_delete_by_size(segs, config.retention_bytes, **kw))
        apply(segments_to_delete_by_time(segs, now_ms, config.retention_ms, **kw))
    else:
        counts += [0, 0]
    return RetentionResult(counts[0], counts[1], counts[2], rolled, tuple(segs), lso)


# -- flushing ----------------------------------------------------------------------


def should_flush_on_append(config: LogConfig, unflushed_messages: int) -> bool:
    """``UnifiedLog.append``: ``unflushedMessages >= flush.messages`` forces a flush.

    ``unflushedMessages`` is ``logEndOffset - recoveryPoint`` -- offsets, not batches.
    """
    return unflushed_messages >= config.flush_messages


def should_flush_on_schedule(config: LogConfig, last_flush_ms: int, now_ms: int) -> bool:
    """``LogManager.flushDirtyLogs``: ``now - lastFlushTime >= flush.ms``.

    The check only runs every ``log.flush.scheduler.interval.ms``, whose default is
    ``Long.MAX_VALUE``: with Kafka's defaults neither flush rule ever fires and durability
    comes from replication, not fsync.
    """
    return now_ms - last_flush_ms >= config.flush_ms


def should_flush(
    config: LogConfig, unflushed_messages: int, last_flush_ms: int, now_ms: int
) -> bool:
    """Either flush rule holds and there is something to flush.

    (``UnifiedLog.flush`` is a no-op when the log end offset does not pass the recovery
    point, so a due ``flush.ms`` with nothing unflushed flushes nothing.)
    """
    if unflushed_messages <= 0:
        return False
    return should_flush_on_append(config, unflushed_messages) or should_flush_on_schedule(
        config, last_flush_ms, now_ms
    )


# -- compaction ------------------------------------------------------------------


class OffsetsToClean(NamedTuple):
    """``LogCleanerManager.OffsetsToClean``."""

    first_dirty_offset: int
    first_uncleanable_dirty_offset: int
    force_update_checkpoint: bool


class LogToClean(NamedTuple):
    """``LogToClean``: the byte counts the cleaner ranks logs by."""

    first_dirty_offset: int
    first_uncleanable_offset: int
    clean_bytes: int
    cleanable_bytes: int
    total_bytes: int
    cleanable_ratio: float
    need_compaction_now: bool


def _segments_in_range(
    segments: Sequence[SegmentStats], start: int, end: int
) -> list[SegmentStats]:
    """``LogSegments.values(from, to)``: the segment holding ``start`` up to base ``< end``."""
    if start == end:
        return []
    if end < start:
        raise ValueError(f"Invalid range [{start}, {end})")
    floor_index = None
    for i, seg in enumerate(segments):
        if seg.base_offset <= start:
            floor_index = i
        else:
            break
    begin = 0 if floor_index is None else floor_index
    return [s for s in segments[begin:] if s.base_offset < end]


def _non_active_segments_from(segments: Sequence[SegmentStats], start: int) -> list[SegmentStats]:
    """``nonActiveLogSegmentsFrom``: segments from the one holding ``start``, active excluded."""
    active = segments[-1]
    if start > active.base_offset:
        return []
    return _segments_in_range(segments, start, active.base_offset)


def cleanable_ratio(dirty_bytes: int, clean_bytes: int) -> float:
    """``LogToClean.cleanableRatio``: dirty / (clean + dirty); 0.0 for an empty log.

    (Kafka never computes it for an empty log: ``grabFilthiestCompactedLog`` skips logs
    with ``totalBytes == 0`` first.)
    """
    total = dirty_bytes + clean_bytes
    return dirty_bytes / total if total > 0 else 0.0


def cleanable_offsets(
    segments: Sequence[SegmentStats],
    *,
    log_start_offset: int,
    log_end_offset: int,
    last_stable_offset: int,
    last_clean_offset: int | None,
    now_ms: int,
    min_compaction_lag_ms: int,
) -> OffsetsToClean:
    """``LogCleanerManager.cleanableOffsets``: the dirty range ``[firstDirty, firstUncleanable)``.

    The checkpointed offset is reset to the log start offset when it lies below it or
    beyond the log end offset. Cleaning never passes the last stable offset, the active
    segment, or (with ``min.compaction.lag.ms > 0``) the first non-active dirty segment
    whose largest timestamp is newer than ``now - min.compaction.lag.ms``.
    """
    checkpoint = log_start_offset if last_clean_offset is None else last_clean_offset
    if checkpoint < log_start_offset or checkpoint > log_end_offset:
        first_dirty, force = log_start_offset, True
    else:
        first_dirty, force = checkpoint, False
    lag = max(min_compaction_lag_ms, 0)
    candidates = [last_stable_offset, segments[-1].base_offset]
    if lag > 0:
        for seg in _non_active_segments_from(segments, first_dirty):
            if seg.largest_timestamp > now_ms - lag:
                candidates.append(seg.base_offset)
                break
    return OffsetsToClean(first_dirty, max(first_dirty, min(candidates)), force)


def calculate_cleanable_bytes(
    segments: Sequence[SegmentStats], first_dirty_offset: int, uncleanable_offset: int
) -> tuple[int, int]:
    """``calculateCleanableBytes``: (base of the first uncleanable segment, dirty bytes before it)."""
    non_active = _non_active_segments_from(segments, uncleanable_offset)
    first_uncleanable = (non_active[0] if non_active else segments[-1]).base_offset
    dirty = _segments_in_range(
        segments, min(first_dirty_offset, first_uncleanable), first_uncleanable
    )
    return first_uncleanable, sum(s.size for s in dirty)


def max_compaction_delay(
    segments: Sequence[SegmentStats],
    first_dirty_offset: int,
    now_ms: int,
    max_compaction_lag_ms: int,
) -> int:
    """``maxCompactionDelay``: how far the oldest dirty segment is past ``max.compaction.lag.ms``.

    Uses the first-batch timestamps (only those ``> 0``) of the non-active dirty segments;
    ``> 0`` means the log must be compacted now, whatever its dirty ratio.
    """
    stamps = [
        s.first_batch_timestamp
        for s in _non_active_segments_from(segments, first_dirty_offset)
        if s.first_batch_timestamp > 0
    ]
    earliest = min(stamps) if stamps else LONG_MAX
    clean_until = now_ms - max(max_compaction_lag_ms, 0)
    return clean_until - earliest if earliest < clean_until else 0


def log_to_clean(
    config: LogConfig,
    segments: Sequence[SegmentStats],
    *,
    log_start_offset: int,
    log_end_offset: int,
    last_stable_offset: int,
    last_clean_offset: int | None,
    now_ms: int,
) -> LogToClean:
    """The cleaner's view of one log (``grabFilthiestCompactedLog`` building a ``LogToClean``).

    ``clean_bytes`` counts every segment with a base offset below the first dirty offset,
    so the segment *holding* the first dirty offset is counted as clean and, when the
    range starts inside it, as dirty too -- Kafka's approximation, kept.
    """
    offsets = cleanable_offsets(
        segments,
        log_start_offset=log_start_offset,
        log_end_offset=log_end_offset,
        last_stable_offset=last_stable_offset,
        last_clean_offset=last_clean_offset,
        now_ms=now_ms,
        min_compaction_lag_ms=config.min_compaction_lag_ms,
    )
    delay = max_compaction_delay(
        segments, offsets.first_dirty_offset, now_ms, config.max_compaction_lag_ms
    )
    clean = sum(s.size for s in segments if s.base_offset < offsets.first_dirty_offset)
    first_uncleanable, cleanable = calculate_cleanable_bytes(
        segments, offsets.first_dirty_offset, offsets.first_uncleanable_dirty_offset
    )
    total = clean + cleanable
    ratio = cleanable / total if total > 0 else math.nan
    return LogToClean(
        offsets.first_dirty_offset, first_uncleanable, clean, cleanable, total, ratio, delay > 0
    )


def needs_compaction(config: LogConfig, candidate: LogToClean) -> bool:
    """Would ``grabFilthiestCompactedLog`` consider this log at all?

    Only compacted, non-empty logs; then either ``max.compaction.lag.ms`` is exceeded
    and there are cleanable bytes, or the dirty ratio is *strictly* above
    ``min.cleanable.dirty.ratio``.
    """
    if not config.compact or candidate.total_bytes <= 0:
        return False
    return (
        candidate.need_compaction_now and candidate.cleanable_bytes > 0
    ) or candidate.cleanable_ratio > config.min_cleanable_dirty_ratio


def grab_filthiest_compacted_log(
    candidates: Sequence[tuple[Any, LogConfig, LogToClean]],
) -> tuple[Any, LogToClean] | None:
    """``grabFilthiestCompactedLog``: the cleanable log with the highest dirty ratio.

    ``candidates`` are ``(key, config, log_to_clean)`` for logs not in progress and not
    marked uncleanable. Ties go to the earliest candidate (Java's ``Stream.max`` keeps
    the first of equal elements; Kafka's order is its log map's).
    """
    best: tuple[Any, LogToClean] | None = None
    for key, config, ltc in candidates:
        if not needs_compaction(config, ltc):
            continue
        if best is None or ltc.cleanable_ratio > best[1].cleanable_ratio:
            best = (key, ltc)
    return best
