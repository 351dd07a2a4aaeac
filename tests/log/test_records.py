"""Record batch v2 codec: Kafka's vectors, real broker bytes, and property tests."""

from __future__ import annotations

import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkafka.log.compression import CompressionType
from simkafka.log.errors import CorruptRecordError, InvalidRecordError, LogError
from simkafka.log.records import (
    ATTRIBUTES_OFFSET,
    CRC_OFFSET,
    LAST_OFFSET_DELTA_OFFSET,
    LENGTH_OFFSET,
    RECORD_BATCH_OVERHEAD,
    RECORDS_COUNT_OFFSET,
    ControlRecordType,
    Record,
    RecordBatch,
    TimestampType,
    _increment_sequence,
    build_batch,
    build_uniform_batch,
    crc32c,
    decode_all,
    end_txn_marker_record,
    iter_batches,
    parse_control_record,
    read_varint,
    read_varlong,
    write_unsigned_varint,
    write_varint,
    write_varlong,
)

INT_MAX = 2**31 - 1
INT_MIN = -(2**31)
LONG_MAX = 2**63 - 1
LONG_MIN = -(2**63)

# --- ByteUtilsTest vectors ------------------------------------------------------------

# ByteUtilsTest.testUnsignedVarintSerde
UNSIGNED_VARINTS = [
    (0, "00"),
    (-1, "ffffffff0f"),
    (1, "01"),
    (63, "3f"),
    (-64, "c0ffffff0f"),
    (64, "40"),
    (8191, "ff3f"),
    (-8192, "80c0ffff0f"),
    (8192, "8040"),
    (-8193, "ffbfffff0f"),
    (1048575, "ffff3f"),
    (1048576, "808040"),
    (INT_MAX, "ffffffff07"),
    (INT_MIN, "8080808008"),
]

# ByteUtilsTest.testVarintSerde
VARINTS = [
    (0, "00"),
    (-1, "01"),
    (1, "02"),
    (63, "7e"),
    (-64, "7f"),
    (64, "8001"),
    (-65, "8101"),
    (8191, "fe7f"),
    (-8192, "ff7f"),
    (8192, "808001"),
    (-8193, "818001"),
    (1048575, "feff7f"),
    (-1048576, "ffff7f"),
    (1048576, "80808001"),
    (-1048577, "81808001"),
    (134217727, "feffff7f"),
    (-134217728, "ffffff7f"),
    (134217728, "8080808001"),
    (-134217729, "8180808001"),
    (INT_MAX, "feffffff0f"),
    (INT_MIN, "ffffffff0f"),
]

# ByteUtilsTest.testVarlongSerde (beyond the int range)
VARLONGS = VARINTS + [
    (17179869183, "feffffff7f"),
    (-17179869184, "ffffffff7f"),
    (17179869184, "808080808001"),
    (-17179869185, "818080808001"),
    (2199023255551, "feffffffff7f"),
    (-2199023255552, "ffffffffff7f"),
    (2199023255552, "80808080808001"),
    (-2199023255553, "81808080808001"),
    (281474976710655, "feffffffffff7f"),
    (-281474976710656, "ffffffffffff7f"),
    (281474976710656, "8080808080808001"),
    (-281474976710657, "8180808080808001"),
    (36028797018963967, "feffffffffffff7f"),
    (-36028797018963968, "ffffffffffffff7f"),
    (36028797018963968, "808080808080808001"),
    (-36028797018963969, "818080808080808001"),
    (4611686018427387903, "feffffffffffffff7f"),
    (-4611686018427387904, "ffffffffffffffff7f"),
    (4611686018427387904, "80808080808080808001"),
    (-4611686018427387905, "81808080808080808001"),
    (LONG_MAX, "feffffffffffffffff01"),
    (LONG_MIN, "ffffffffffffffffff01"),
]


@pytest.mark.parametrize(("value", "hexed"), UNSIGNED_VARINTS)
def test_unsigned_varint_vectors(value: int, hexed: str) -> None:
    assert write_unsigned_varint(value).hex() == hexed


@pytest.mark.parametrize(("value", "hexed"), VARINTS)
def test_varint_vectors(value: int, hexed: str) -> None:
    assert write_varint(value).hex() == hexed
    assert read_varint(bytes.fromhex(hexed), 0) == (value, len(hexed) // 2)


@pytest.mark.parametrize(("value", "hexed"), VARLONGS)
def test_varlong_vectors(value: int, hexed: str) -> None:
    assert write_varlong(value).hex() == hexed
    assert read_varlong(bytes.fromhex(hexed), 0) == (value, len(hexed) // 2)


def test_crc32c_vectors() -> None:
    # The CRC-32C check value of "123456789" (RFC 3720 / Castagnoli), and a vector from
    # java.util.zip.CRC32C (OpenJDK 17, throw-away Java in /tmp) -- the class Kafka's
    # Crc32C delegates to -- over "value-0value-1...value-199".
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"".join(b"value-%d" % i for i in range(200))) == 4267747974


def test_overlong_varint_and_varlong_are_rejected() -> None:
    # ByteUtilsTest.testInvalidVarint / testInvalidVarlong: one overflow byte each.
    with pytest.raises(InvalidRecordError):
        read_varint(bytes.fromhex("ffffffffff01"), 0)
    with pytest.raises(InvalidRecordError):
        read_varlong(bytes.fromhex("ffffffffffffffffffff01"), 0)


def test_fifth_varint_byte_is_truncated_like_a_java_int_shift() -> None:
    # readVarint ORs the 5th byte shifted by 28 into an int: bits above 31 are lost,
    # so 0x7f in the 5th byte decodes like 0x0f.
    assert read_varint(bytes.fromhex("ffffffff7f"), 0) == read_varint(
        bytes.fromhex("ffffffff0f"), 0
    )


@given(st.integers(INT_MIN, INT_MAX))
def test_varint_round_trip(value: int) -> None:
    encoded = write_varint(value)
    assert read_varint(encoded, 0) == (value, len(encoded))


@given(st.integers(LONG_MIN, LONG_MAX))
def test_varlong_round_trip(value: int) -> None:
    encoded = write_varlong(value)
    assert read_varlong(encoded, 0) == (value, len(encoded))


# --- real bytes written by a Kafka 0.11 broker ---------------------------------------
# From kafka-python's test/record/test_records.py ("real live data from Kafka 11
# broker"): three v2 batches, the first with value "123", the second with two empty
# values, the third with "123".
KAFKA_011_BATCHES = [
    b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00;\x00\x00\x00\x01\x02\x03"
    b"\x18\xa2p\x00\x00\x00\x00\x00\x00\x00\x00\x01]\xff{\x06<\x00\x00\x01]"
    b"\xff{\x06<\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00"
    b"\x00\x00\x01\x12\x00\x00\x00\x01\x06123\x00",
    b"\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00@\x00\x00\x00\x02\x02\xc8"
    b"\\\xbd#\x00\x00\x00\x00\x00\x01\x00\x00\x01]\xff|\xddl\x00\x00\x01]\xff"
    b"|\xde\x14\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00"
    b"\x00\x00\x02\x0c\x00\x00\x00\x01\x00\x00\x0e\x00\xd0\x02\x02\x01\x00"
    b"\x00",
    b"\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00;\x00\x00\x00\x02\x02.\x0b"
    b"\x85\xb7\x00\x00\x00\x00\x00\x00\x00\x00\x01]\xff|\xe7\x9d\x00\x00\x01]"
    b"\xff|\xe7\x9d\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
    b"\x00\x00\x00\x01\x12\x00\x00\x00\x01\x06123\x00",
]


def test_decodes_real_kafka_broker_batches() -> None:
    log = b"".join(KAFKA_011_BATCHES) + b"\x00" * 4
    walker = iter_batches(log)
    batches = list(walker)
    assert [pos for pos, _ in batches] == [0, 71, 147]
    # kafka-python's test_memory_records_v2: 218 valid bytes, 4 trailing bytes.
    assert walker.position == 218
    assert walker.tail is not None and walker.tail.remaining_bytes == 4
    first = batches[0][1]
    h = first.header()
    assert (h.base_offset, h.batch_length, h.partition_leader_epoch, h.magic) == (0, 59, 1, 2)
    assert first.crc == 51946096
    assert (first.base_timestamp, first.max_timestamp) == (1503229838908, 1503229838908)
    assert (first.producer_id, first.producer_epoch, first.base_sequence) == (-1, -1, -1)
    assert first.compression_type is CompressionType.NONE
    assert first.timestamp_type is TimestampType.CREATE_TIME
    for _, batch in batches:
        assert batch.is_valid()
        batch.ensure_valid()
    decoded = decode_all(b for _, b in batches)
    assert [(o, t, r.key, r.value) for o, t, r in decoded] == [
        (0, 1503229838908, None, b"123"),
        (1, 1503229959532, None, b""),
        (2, 1503229959700, None, b""),
        (3, 1503229962141, None, b"123"),
    ]


@pytest.mark.parametrize("raw", KAFKA_011_BATCHES)
def test_rebuilding_real_batches_reproduces_their_bytes(raw: bytes) -> None:
    # The independent check of the encoder: our builder, fed the decoded fields,
    # must write exactly what the broker wrote (CRC included).
    batch = RecordBatch(raw)
    rebuilt = build_batch(
        list(batch.records()),
        base_offset=batch.base_offset,
        base_timestamp=batch.base_timestamp,
        partition_leader_epoch=batch.partition_leader_epoch,
    )
    assert rebuilt == raw


# --- Sarama's record batch vectors (IBM/sarama record_test.go, recordBatchTestCases) ---
# Batches produced by an independent (Go) encoder that interoperates with Kafka: every
# codec's framing must decode, and every CRC must check. Header fields after the CRC:
# firstTimestamp 1479847795000, maxTimestamp 0, producerId 0, epoch 0, sequence 0.
_SARAMA_AFTER_ATTRIBUTES = (
    "00000000"  # lastOffsetDelta
    "000001588dcd5938"  # firstTimestamp 1479847795000
    "0000000000000000"  # maxTimestamp
    "0000000000000000"  # producerId
    "0000"  # producerEpoch
    "00000000"  # baseSequence
    "00000001"  # recordsCount
)
# length 20 | attrs | tsDelta 5 | offsetDelta 0 | key 01020304 | value 050607 |
# 1 header: key 08090a, value 0b0c
_SARAMA_RECORD = "28000a00080102030406050607020608090a040b0c"
_SARAMA_GZIP = bytes(
    [31, 139, 8, 0, 0, 9, 110, 136, 0, 255, 0, 21, 0, 234, 255, 40, 0, 10, 0, 8, 1, 2]
    + [3, 4, 6, 5, 6, 7, 2, 6, 8, 9, 10, 4, 11, 12, 3, 0, 173, 201, 88, 103, 21, 0, 0, 0]
).hex()


def _sarama(length: str, crc: str, attributes: str, records: str) -> str:
    # baseOffset 0 | batchLength | partitionLeaderEpoch 0 | magic 2 | crc | attributes | ...
    return (
        "0" * 16 + length + "0" * 8 + "02" + crc + attributes + _SARAMA_AFTER_ATTRIBUTES + records
    )


SARAMA_BATCHES = {
    "uncompressed": _sarama("00000046", "547961fd", "0000", _SARAMA_RECORD),
    "gzip": _sarama("0000005f", "e74acea5", "0001", _SARAMA_GZIP),
    # A raw snappy block (preamble 21, literal tag 0x50), without xerial's header:
    # Kafka's SnappyInputStream accepts it.
    "snappy": _sarama("00000048", "15009f61", "0002", "1550" + _SARAMA_RECORD),
    # An LZ4 frame with a content checksum and 4 MiB blocks (FLG 0x64, BD 0x70), the
    # block stored uncompressed (size 21 | 0x80000000), end mark, content checksum.
    "lz4": _sarama(
        "00000059",
        "a94a77c5",
        "0003",
        "04224d186470b9" + "15000080" + _SARAMA_RECORD + "00000000" + "0c3bef92",
    ),
}


@pytest.mark.parametrize("name", sorted(SARAMA_BATCHES))
def test_decodes_sarama_batches_of_every_codec(name: str) -> None:
    raw = bytes.fromhex(SARAMA_BATCHES[name])
    batch = RecordBatch(raw)
    assert batch.size_in_bytes == len(raw)
    batch.ensure_valid()
    assert batch.compression_type.config_name == ("none" if name == "uncompressed" else name)
    assert batch.base_timestamp == 1479847795000
    (record,) = batch.records()
    assert record == Record(
        0, 5, b"\x01\x02\x03\x04", b"\x05\x06\x07", (("\x08\t\n", b"\x0b\x0c"),)
    )


def test_sarama_empty_and_control_batches() -> None:
    empty = bytes.fromhex("0000000000000000000000310000000002595fb7dd0000" + "00" * 40)
    control = bytes.fromhex("0000000000000000000000310000000002512e43d90020" + "00" * 40)
    for raw, is_control in ((empty, False), (control, True)):
        batch = RecordBatch(raw)
        batch.ensure_valid()
        assert batch.is_control_batch is is_control
        assert batch.records_count == 0 and list(batch.records()) == []


# --- DefaultRecordBatchTest ------------------------------------------------------------


def _abc_batch(**kwargs: object) -> bytearray:
    # MemoryRecords.withRecords(MAGIC_VALUE_V2, 0L, NONE, CREATE_TIME,
    #   SimpleRecord(1L, "a", "1"), SimpleRecord(2L, "b", "2"), SimpleRecord(3L, "c", "3"))
    records = [
        Record(i, i, k, v) for i, (k, v) in enumerate([(b"a", b"1"), (b"b", b"2"), (b"c", b"3")])
    ]
    return bytearray(build_batch(records, base_offset=0, base_timestamp=1, **kwargs))  # type: ignore[arg-type]


def test_build_default_record_batch() -> None:
    # DefaultRecordBatchTest.buildDefaultRecordBatch
    raw = build_batch(
        [Record(0, 0, b"a", b"v"), Record(1, 1, b"b", b"v")],
        base_offset=1234567,
        base_timestamp=1,
    )
    batch = RecordBatch(raw)
    assert batch.is_valid()
    assert (batch.base_offset, batch.last_offset, batch.max_timestamp) == (1234567, 1234568, 2)
    assert (batch.producer_id, batch.producer_epoch) == (-1, -1)
    assert (batch.base_sequence, batch.last_sequence) == (-1, -1)


def test_build_with_producer_id_and_sequence_wrap_around() -> None:
    # DefaultRecordBatchTest.buildDefaultRecordBatchWithSequenceWrapAround
    raw = build_batch(
        [Record(0, 0, b"a", b"v"), Record(1, 1, b"b", b"v"), Record(2, 2, b"c", b"v")],
        base_offset=1234567,
        base_timestamp=1,
        producer_id=23423,
        producer_epoch=145,
        base_sequence=INT_MAX - 1,
    )
    batch = RecordBatch(raw)
    assert (batch.producer_id, batch.producer_epoch) == (23423, 145)
    assert batch.base_sequence == INT_MAX - 1
    assert batch.last_sequence == 0


def test_increment_sequence() -> None:
    # DefaultRecordBatchTest.testIncrementSequence
    assert _increment_sequence(5, 5) == 10
    assert _increment_sequence(INT_MAX, 1) == 0
    assert _increment_sequence(INT_MAX - 5, 10) == 4


def test_invalid_record_size_is_corrupt() -> None:
    # DefaultRecordBatchTest.testInvalidRecordSize
    buf = _abc_batch()
    struct.pack_into(">i", buf, LENGTH_OFFSET, 10)
    batch = RecordBatch(buf)
    assert not batch.is_valid()
    with pytest.raises(CorruptRecordError, match="smaller than the minimum allowed overhead 61"):
        batch.ensure_valid()


def test_invalid_crc_is_corrupt() -> None:
    # DefaultRecordBatchTest.testInvalidCrc: change lastOffsetDelta, which the CRC covers.
    buf = _abc_batch()
    struct.pack_into(">i", buf, LAST_OFFSET_DELTA_OFFSET, 23)
    batch = RecordBatch(buf)
    assert not batch.is_valid()
    with pytest.raises(CorruptRecordError, match="stored crc = .* computed crc ="):
        batch.ensure_valid(file="00000000000000000000.log")


@pytest.mark.parametrize("codec", [CompressionType.NONE, CompressionType.GZIP])
@pytest.mark.parametrize("count", [2, 5])
def test_invalid_record_count(codec: CompressionType, count: int) -> None:
    # DefaultRecordBatchTest.testInvalidRecordCountToo{Many,Little}{Non,}CompressedV2:
    # a header whose recordsCount disagrees with the records is InvalidRecordException
    # while iterating (the CRC is recomputed so the batch itself is "valid").
    buf = _abc_batch(compression=codec)
    struct.pack_into(">i", buf, RECORDS_COUNT_OFFSET, count)
    struct.pack_into(">I", buf, CRC_OFFSET, crc32c(bytes(buf[ATTRIBUTES_OFFSET:])))
    batch = RecordBatch(buf)
    batch.ensure_valid()
    with pytest.raises(InvalidRecordError, match="Incorrect declared batch size"):
        list(batch.records())


def test_negative_record_count_is_invalid() -> None:
    buf = _abc_batch()
    struct.pack_into(">i", buf, RECORDS_COUNT_OFFSET, -1)
    with pytest.raises(InvalidRecordError, match="invalid record count -1"):
        list(RecordBatch(buf).records())


def test_set_last_offset_keeps_crc() -> None:
    # DefaultRecordBatchTest.testSetLastOffset
    buf = _abc_batch()
    batch = RecordBatch(buf)
    crc_before = batch.crc
    batch.set_last_offset(500)
    assert (batch.last_offset, batch.base_offset) == (500, 498)
    assert batch.is_valid() and batch.crc == crc_before
    assert [batch.offset_of(r) for r in batch.records()] == [498, 499, 500]


def test_with_base_offset_copies_without_touching_crc() -> None:
    raw = bytes(_abc_batch())
    moved = RecordBatch(raw).with_base_offset(10_000_000_000)
    assert moved[8:] == raw[8:]
    assert RecordBatch(moved).base_offset == 10_000_000_000
    assert RecordBatch(moved).is_valid()


def test_set_partition_leader_epoch_keeps_crc() -> None:
    # DefaultRecordBatchTest.testSetPartitionLeaderEpoch
    buf = _abc_batch()
    batch = RecordBatch(buf)
    batch.set_partition_leader_epoch(500)
    assert batch.partition_leader_epoch == 500
    assert batch.is_valid()


def test_set_log_append_time_recomputes_crc() -> None:
    # DefaultRecordBatchTest.testSetLogAppendTime
    buf = _abc_batch()
    batch = RecordBatch(buf)
    batch.set_max_timestamp(TimestampType.LOG_APPEND_TIME, 15)
    assert batch.timestamp_type is TimestampType.LOG_APPEND_TIME
    assert batch.max_timestamp == 15
    assert batch.is_valid()
    assert [batch.timestamp_of(r) for r in batch.records()] == [15, 15, 15]


def test_attribute_bits() -> None:
    # Attribute layout from the protocol guide ("Record Batch"): codec bits 0-2,
    # timestampType bit 3, isTransactional bit 4, isControlBatch bit 5, delete horizon bit 6.
    raw = build_batch(
        [Record(0, 0, None, b"x")],
        base_offset=0,
        base_timestamp=1000,
        compression=CompressionType.ZSTD,
        timestamp_type=TimestampType.LOG_APPEND_TIME,
        log_append_time=2000,
        is_transactional=True,
        is_control=True,
        has_delete_horizon=True,
    )
    batch = RecordBatch(raw)
    assert batch.attributes == 0b111_1100
    assert batch.compression_type is CompressionType.ZSTD
    assert batch.is_transactional and batch.is_control_batch and batch.has_delete_horizon
    assert batch.delete_horizon_ms == 1000
    assert batch.max_timestamp == 2000


def test_read_and_write_control_batch() -> None:
    # DefaultRecordBatchTest.testReadAndWriteControlBatch: a COMMIT marker with
    # coordinator epoch 15 in a transactional control batch round-trips.
    raw = build_batch(
        [end_txn_marker_record(ControlRecordType.COMMIT, 15)],
        base_offset=0,
        base_timestamp=0,
        producer_id=1,
        producer_epoch=0,
        is_transactional=True,
        is_control=True,
    )
    batch = RecordBatch(raw)
    assert batch.is_control_batch and batch.is_transactional
    (record,) = batch.records()
    assert record.key == b"\x00\x00\x00\x01"
    assert record.value == b"\x00\x00\x00\x00\x00\x0f"
    assert parse_control_record(record) == (ControlRecordType.COMMIT, 15)
    with pytest.raises(InvalidRecordError):
        parse_control_record(Record(0, 0, b"\x00", None))


def test_header_is_61_bytes_and_empty_batch_has_no_timestamp() -> None:
    # DefaultRecordBatchTest.testWriteEmptyHeader: baseTimestamp NO_TIMESTAMP for empty.
    raw = build_batch([], base_offset=15, base_timestamp=-1)
    assert len(raw) == RECORD_BATCH_OVERHEAD == 61
    batch = RecordBatch(raw)
    assert batch.is_valid()
    assert (batch.records_count, batch.base_timestamp, batch.max_timestamp) == (0, -1, -1)
    assert list(batch.records()) == []


@pytest.mark.parametrize("timestamp_type", list(TimestampType))
def test_max_timestamp_like_memory_records_builder(timestamp_type: TimestampType) -> None:
    # MemoryRecordsBuilderTest.buildUsingCreateTime / buildUsingLogAppendTime: records
    # appended with timestamps 0, 2, 1 -> maxTimestamp 2 under CREATE_TIME; under
    # LOG_APPEND_TIME every record reads back as the log append time.
    records = [Record(0, 0, None, b"a"), Record(1, 2, None, b"b"), Record(2, 1, None, b"c")]
    raw = build_batch(
        records,
        base_offset=0,
        base_timestamp=0,
        timestamp_type=timestamp_type,
        log_append_time=12345,
    )
    batch = RecordBatch(raw)
    expected = [0, 2, 1] if timestamp_type is TimestampType.CREATE_TIME else [12345] * 3
    assert [batch.timestamp_of(r) for r in batch.records()] == expected
    assert batch.max_timestamp == max(expected)
    assert batch.timestamp_type is timestamp_type


def test_builder_rejects_negative_first_timestamp() -> None:
    # DefaultRecordBatch.writeHeader: "Invalid message timestamp" unless -1 (NO_TIMESTAMP).
    with pytest.raises(ValueError, match="Invalid message timestamp"):
        build_batch([Record(0)], base_offset=0, base_timestamp=-2)


def test_builder_rejects_out_of_order_offsets() -> None:
    with pytest.raises(ValueError, match="Illegal offset delta"):
        build_batch([Record(1), Record(1)], base_offset=0, base_timestamp=0)


def test_record_with_headers_and_nulls_round_trips() -> None:
    # DefaultRecordBatchTest.testSizeInBytes' record set: keys, null key, null value,
    # and headers ("foo" -> "value", "bar" -> null).
    records = [
        Record(0, 0, b"key", b"value"),
        Record(1, 30000, None, b"value"),
        Record(2, 60000, b"key", None),
        Record(3, 60000, b"key", b"value", (("foo", b"value"), ("bar", None))),
    ]
    raw = build_batch(records, base_offset=0, base_timestamp=1_700_000_000_000)
    batch = RecordBatch(raw)
    assert list(batch.records()) == records
    assert batch.max_timestamp == 1_700_000_060_000
    # The header record: length 33 (zig-zag 0x42) | attrs 0 | tsDelta 60000 | delta 3 | ...
    assert raw.endswith(b"\x04\x06foo\x0avalue\x06bar\x01")


# --- walking a log buffer -------------------------------------------------------------


def test_iter_batches_stops_at_torn_tail() -> None:
    one = bytes(_abc_batch())
    log = one + one[:-5]
    walker = iter_batches(log)
    assert [p for p, _ in walker] == [0]
    assert walker.tail is not None
    assert walker.tail.position == len(one)
    assert walker.tail.remaining_bytes == len(one) - 5
    assert "declares" in walker.tail.reason


def test_iter_batches_clean_end_has_no_tail() -> None:
    one = bytes(_abc_batch())
    walker = iter_batches(one * 3, start_position=len(one))
    assert [p for p, _ in walker] == [len(one), 2 * len(one)]
    assert walker.tail is None


def test_iter_batches_rejects_too_small_size_with_position() -> None:
    # FileLogInputStream.nextBatch: "Found record size ... smaller than minimum record overhead (14)"
    one = bytes(_abc_batch())
    bad = bytearray(one * 2)
    struct.pack_into(">i", bad, len(one) + LENGTH_OFFSET, 3)
    walker = iter_batches(bad, file="x.log")
    next(walker)
    with pytest.raises(CorruptRecordError) as err:
        next(walker)
    assert err.value.position == len(one)
    assert err.value.file == "x.log"
    assert "x.log" in str(err.value) and str(len(one)) in str(err.value)


def test_iter_batches_enforces_max_batch_size() -> None:
    # ByteBufferLogInputStream.nextBatch: "Record size %d exceeds the largest allowable
    # message size (%d)" -- corruption, not a torn tail.
    one = bytes(_abc_batch())
    with pytest.raises(CorruptRecordError, match="largest allowable"):
        list(iter_batches(one, max_batch_size=len(one) - 13))
    assert len(list(iter_batches(one, max_batch_size=len(one) - 12))) == 1


def test_iter_batches_rejects_legacy_magic() -> None:
    bad = bytearray(_abc_batch())
    bad[16] = 1
    with pytest.raises(CorruptRecordError, match="magic 1"):
        list(iter_batches(bad))


# --- properties -------------------------------------------------------------------------

_headers = st.lists(
    st.tuples(st.text(max_size=8), st.none() | st.binary(max_size=8)), max_size=3
).map(tuple)


@st.composite
def _records(draw: st.DrawFn) -> list[Record]:
    n = draw(st.integers(1, 8))
    deltas = sorted(draw(st.sets(st.integers(0, 10_000), min_size=n, max_size=n)))
    return [
        Record(
            d,
            draw(st.integers(-(2**40), 2**40)),
            draw(st.none() | st.binary(max_size=40)),
            draw(st.none() | st.binary(max_size=200)),
            draw(_headers),
            0,
        )
        for d in deltas
    ]


@settings(max_examples=60, deadline=None)
@given(
    records=_records(),
    codec=st.sampled_from(list(CompressionType)),
    base_offset=st.integers(0, 2**62),
    base_timestamp=st.integers(0, 2**50),
)
def test_random_batches_round_trip(
    records: list[Record], codec: CompressionType, base_offset: int, base_timestamp: int
) -> None:
    raw = build_batch(
        records,
        base_offset=base_offset,
        base_timestamp=base_timestamp,
        compression=codec,
        producer_id=7,
        producer_epoch=3,
        base_sequence=11,
    )
    batch = RecordBatch(raw)
    batch.ensure_valid()
    assert batch.size_in_bytes == len(raw)
    assert batch.last_offset == base_offset + records[-1].offset_delta
    assert batch.max_timestamp == base_timestamp + max(r.timestamp_delta for r in records)
    assert list(batch.records()) == records


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=_records(), codec=st.sampled_from(list(CompressionType)), data=st.data())
def test_any_flipped_byte_after_crc_field_is_detected(
    records: list[Record], codec: CompressionType, data: st.DataObject
) -> None:
    raw = bytearray(build_batch(records, base_offset=0, base_timestamp=0, compression=codec))
    index = data.draw(st.integers(ATTRIBUTES_OFFSET, len(raw) - 1))
    flip = data.draw(st.integers(1, 255))
    raw[index] ^= flip
    batch = RecordBatch(raw)
    assert not batch.is_valid()
    with pytest.raises(CorruptRecordError):
        batch.ensure_valid()


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=400))
def test_random_bytes_raise_only_log_errors(blob: bytes) -> None:
    try:
        walker = iter_batches(blob)
        for _, batch in walker:
            batch.is_valid()
            repr(batch)
            list(batch.records(max_decompressed_bytes=1 << 16))
    except LogError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=0, max_size=300), st.sampled_from(list(CompressionType)))
def test_random_records_section_raises_only_log_errors(body: bytes, codec: CompressionType) -> None:
    # A batch with a *valid* CRC over garbage records: the decoder must still only
    # raise LogError subclasses.
    raw = bytearray(build_batch([], base_offset=0, base_timestamp=0))
    raw += body
    struct.pack_into(">i", raw, LENGTH_OFFSET, len(raw) - 12)
    struct.pack_into(">h", raw, ATTRIBUTES_OFFSET, int(codec))
    struct.pack_into(">i", raw, RECORDS_COUNT_OFFSET, 3)
    struct.pack_into(">I", raw, CRC_OFFSET, crc32c(bytes(raw[ATTRIBUTES_OFFSET:])))
    batch = RecordBatch(raw)
    assert batch.is_valid()
    try:
        list(batch.records(max_decompressed_bytes=1 << 16))
    except LogError:
        pass


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=_records(), data=st.data())
def test_mutated_records_with_valid_crc_raise_only_log_errors(
    records: list[Record], data: st.DataObject
) -> None:
    # Flip bytes inside real records, then fix the CRC so the decoder (not the CRC check)
    # has to cope: it may decode different records, or raise a LogError, nothing else.
    raw = bytearray(build_batch(records, base_offset=0, base_timestamp=0))
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(RECORDS_COUNT_OFFSET + 4, len(raw) - 1))
        raw[index] = data.draw(st.integers(0, 255))
    struct.pack_into(">I", raw, CRC_OFFSET, crc32c(bytes(raw[ATTRIBUTES_OFFSET:])))
    try:
        decoded = list(RecordBatch(raw).records())
    except LogError:
        return
    assert len(decoded) == len(records)


# --- the uniform fast path ----------------------------------------------------------------


@pytest.mark.parametrize("codec", list(CompressionType))
@pytest.mark.parametrize("key", [None, b"k-1"])
def test_uniform_batch_matches_general_builder(codec: CompressionType, key: bytes | None) -> None:
    count, size = 150, 37  # offset deltas cross the 1- to 2-byte varint boundary at 64
    payload = bytes(range(256)) * (count * size // 256 + 1)
    fast = build_uniform_batch(
        count,
        size,
        base_offset=42,
        base_timestamp=1_700_000_000_000,
        payload=payload,
        key=key,
        compression=codec,
    )
    records = [Record(i, 0, key, payload[i * size : (i + 1) * size]) for i in range(count)]
    slow = build_batch(records, base_offset=42, base_timestamp=1_700_000_000_000, compression=codec)
    assert fast == slow


def test_one_mib_of_1kib_records_builds_and_validates_quickly() -> None:
    # The load generator's budget: 1 MiB of 1 KiB records, uncompressed.
    payload = bytes(1024 * 1024)
    start = time.perf_counter()
    raw = build_uniform_batch(1024, 1024, base_offset=0, base_timestamp=0, payload=payload)
    RecordBatch(raw).ensure_valid()
    elapsed = time.perf_counter() - start
    assert len(raw) > 1024 * 1024
    assert elapsed < 0.5
