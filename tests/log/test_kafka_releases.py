"""What the log engine does differently under Kafka 4.0 and 4.1 (``LogConfig.kafka_release``).

* ``segment.bytes``' minimum (14 bytes in 4.0, 1 MiB in 4.1) and ``internal.segment.bytes``
  (4.1 only: an unknown topic config name in 4.0) -- KAFKA-19080.
"""

from __future__ import annotations

import pytest

from simkafka.kafka_version import MODELLED_RELEASE
from simkafka.log.log_config import LogConfig
from simkafka.log.records import Record, build_batch

NOW = 1_700_000_000_000
MIB = 1024 * 1024


def _batch(base_offset: int, timestamp: int, value: bytes = b"v" * 100) -> bytes:
    """One v2 batch of two records at ``base_offset`` (max timestamp ``timestamp + 1``)."""
    return build_batch(
        [
            Record(0, 0, b"k%d" % base_offset, value),
            Record(1, 1, b"k%d" % (base_offset + 1), value),
        ],
        base_offset=base_offset,
        base_timestamp=timestamp,
    )


def _small_segments(release: str, size: int, **kw) -> LogConfig:
    """``size``-byte segments the way the release allows: ``segment.bytes`` in 4.0 (no
    1 MiB minimum there), ``internal.segment.bytes`` in 4.1."""
    if release == "4.0":
        return LogConfig(segment_bytes=size, kafka_release="4.0", **kw)
    return LogConfig(internal_segment_bytes=size, kafka_release="4.1", **kw)


# -- LogConfig ---------------------------------------------------------------------------


def test_the_modelled_release_is_the_default() -> None:
    assert LogConfig().kafka_release == MODELLED_RELEASE == "4.1"
    assert LogConfig().kafka_behaviour.index_entry_per_batch


def test_segment_bytes_minimum_follows_the_release() -> None:
    # 4.0: atLeast(LegacyRecord.RECORD_OVERHEAD_V0) = 14; 4.1: atLeast(1 MiB) (KAFKA-19080)
    assert LogConfig(segment_bytes=14, kafka_release="4.0").segment_size == 14
    with pytest.raises(ValueError, match="segment.bytes: Value must be at least 14$"):
        LogConfig(segment_bytes=13, kafka_release="4.0")
    with pytest.raises(ValueError, match="segment.bytes: Value must be at least 1048576$"):
        LogConfig(segment_bytes=MIB - 1, kafka_release="4.1")
    assert LogConfig(segment_bytes=MIB, kafka_release="4.1").segment_size == MIB
    c = LogConfig.from_topic_configs({"segment.bytes": "1000"}, kafka_release="4.0")
    assert (c.segment_bytes, c.kafka_release) == (1000, "4.0")
    with pytest.raises(ValueError, match="at least 1048576"):
        LogConfig.from_topic_configs({"segment.bytes": "1000"})


def test_internal_segment_bytes_is_an_unknown_name_in_4_0() -> None:
    # Kafka 4.0's LogConfig.validateNames: "Unknown topic config name"; 4.1 knows it.
    unknown = (
        r"Unknown topic config name: internal.segment.bytes \(did you mean 'segment.bytes'\?\)"
    )
    with pytest.raises(ValueError, match=unknown):
        LogConfig.from_topic_configs({"internal.segment.bytes": "1024"}, kafka_release="4.0")
    with pytest.raises(ValueError, match=unknown):
        LogConfig(internal_segment_bytes=1024, kafka_release="4.0")
    assert LogConfig(internal_segment_bytes=1024, kafka_release="4.1").segment_size == 1024
    assert LogConfig.from_topic_configs({"internal.segment.bytes": "1024"}).segment_size == 1024


def test_the_release_is_not_a_topic_config() -> None:
    c = LogConfig(segment_bytes=1000, kafka_release="4.0")
    assert "kafka_release" not in c.to_topic_configs()
    assert not any("release" in name for name in c.to_topic_configs())
    with pytest.raises(ValueError, match="Unknown topic config name: kafka.release"):
        LogConfig.from_topic_configs({"kafka.release": "4.0"})
    with pytest.raises(ValueError, match="simkafka models Kafka releases 4.0, 4.1, not '3.9'"):
        LogConfig(kafka_release="3.9")  # type: ignore[arg-type]
    # the same settings under the other release round-trip through the names
    again = LogConfig.from_topic_configs(c.to_topic_configs(), kafka_release="4.0")
    assert again == c
