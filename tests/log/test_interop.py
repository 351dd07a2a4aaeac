"""Interoperability with an independent Kafka implementation: kafka-python's v2 codec.

A produce request built by a real client is appended by our ``UnifiedLog`` and the
segment file it writes is decoded, CRC-checked and read back by kafka-python's
``MemoryRecords`` -- the way ``kafka-dump-log.sh`` walks a ``.log`` file batch by batch.
The other way round, a ``.log`` file laid down batch by batch by kafka-python's builder
(as a broker's segment is: batches with assigned offsets, no index files) is opened by
our log, which recovers it, rebuilds its indexes and serves it.
"""

from __future__ import annotations

import os

import pytest

kafka_records = pytest.importorskip("kafka.record.default_records")
from kafka.record.memory_records import MemoryRecords  # noqa: E402

from simkafka.log.log_config import LogConfig  # noqa: E402
from simkafka.log.records import CompressionType, Record, build_batch  # noqa: E402
from simkafka.log.unified_log import UnifiedLog  # noqa: E402

Builder = kafka_records.DefaultRecordBatchBuilder
CODECS = {  # kafka-python's codec ids are Kafka's attribute bits
    "none": 0,
    "gzip": Builder.CODEC_GZIP if hasattr(Builder, "CODEC_GZIP") else 1,
    "lz4": 3,
    "zstd": 4,
}


def client_batch(codec: int, base: int, n: int, ts: int = 1_700_000_000_000) -> bytes:
    """One batch as kafka-python's producer builds it (offsets from 0, as on the wire)."""
    builder = Builder(
        magic=2,
        compression_type=codec,
        is_transactional=False,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=1 << 20,
    )
    for i in range(n):
        key = f"key-{base + i}".encode()
        builder.append(
            i, timestamp=ts + i, key=key, value=b"v" * (i % 50) + key, headers=[("h", b"1")]
        )
    return bytes(builder.build())


def decode_file(path: str) -> list[tuple[int, bytes, bytes, int]]:
    """Every record of a segment file via kafka-python, CRCs checked: (offset, key, value, ts)."""
    with open(path, "rb") as f:
        records = MemoryRecords(f.read())
    out = []
    while records.has_next():
        batch = records.next_batch()
        assert batch.validate_crc(), (
            f"kafka-python rejects the CRC of the batch at {batch.base_offset}"
        )
        out.extend((r.offset, r.key, r.value, r.timestamp) for r in batch)
    return out


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_a_segment_we_write_from_client_batches_is_read_by_kafka_python(tmp_path, codec):
    log = UnifiedLog(str(tmp_path / "orders-0"), LogConfig())
    counts = [7, 1, 30, 12]
    for k, n in enumerate(counts):
        info = log.append_as_leader(client_batch(CODECS[codec], sum(counts[:k]), n), leader_epoch=3)
        assert info.first_offset == sum(counts[:k]) and info.last_offset == sum(counts[: k + 1]) - 1
    log.flush()
    segment = tmp_path / "orders-0" / "00000000000000000000.log"
    records = decode_file(str(segment))
    total = sum(counts)
    assert [r[0] for r in records] == list(range(total))  # offsets assigned by our leader
    for offset, key, value, ts in records:
        assert key == f"key-{offset}".encode()
        first = max(b for b in (0, 7, 8, 38) if b <= offset)
        assert value == b"v" * ((offset - first) % 50) + key
        assert ts == 1_700_000_000_000 + (offset - first)
    log.close()


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_a_segment_laid_down_by_kafka_python_is_recovered_and_served(tmp_path, codec):
    # a broker-written segment: batches with assigned base offsets, no .index/.timeindex
    directory = tmp_path / "events-2"
    directory.mkdir()
    batches, base = [], 0
    for n in (5, 9, 1, 20):
        raw = bytearray(client_batch(CODECS[codec], base, n))
        raw[0:8] = base.to_bytes(8, "big")  # baseOffset lies outside the CRC
        batches.append(bytes(raw))
        base += n
    with open(directory / "00000000000000000000.log", "wb") as f:
        f.write(b"".join(batches))
    log = UnifiedLog.load(str(directory), LogConfig(index_interval_bytes=1))
    assert log.log_end_offset == 35
    assert os.path.exists(directory / "00000000000000000000.index")
    log.high_watermark = log.log_end_offset
    got = []
    offset = 0
    while offset < 35:
        fetched = log.read(offset, 1 << 20)
        for batch in fetched.batches():
            got.extend((batch.base_offset + r.offset_delta, r.key) for r in batch.records())
            offset = batch.last_offset + 1
    assert got == [(i, f"key-{i}".encode()) for i in range(35)]
    # the index we rebuilt finds the batch holding an offset, as the broker's would
    assert log.read(16, 1).records[:8] == (15).to_bytes(8, "big")
    assert log.read(14, 1).records[:8] == (14).to_bytes(8, "big")
    log.close()


def test_kafka_python_reads_batches_we_build_with_every_codec():
    for name, codec in CODECS.items():
        records = [
            Record(offset_delta=i, timestamp_delta=i, key=b"k%d" % i, value=b"x" * i)
            for i in range(40)
        ]
        raw = build_batch(
            records,
            base_offset=100,
            base_timestamp=5_000,
            compression=CompressionType.for_id(codec),
        )
        batch = MemoryRecords(raw).next_batch()
        assert batch.validate_crc(), name
        got = [(r.offset, r.timestamp, r.key, r.value) for r in batch]
        assert got == [(100 + i, 5_000 + i, b"k%d" % i, b"x" * i) for i in range(40)], name
