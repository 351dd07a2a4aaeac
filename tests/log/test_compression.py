"""Kafka's compression framings and bounded decompression."""

from __future__ import annotations

import struct

import cramjam
import lz4.frame
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.log.compression import (
    SNAPPY_BLOCK_SIZE,
    SNAPPY_MAGIC,
    CompressionType,
    compress,
    decompress,
)
from simkafka.log.errors import CorruptRecordError, LogError, UnsupportedCompressionTypeError

CODECS = list(CompressionType)
COMPRESSED = [c for c in CODECS if c is not CompressionType.NONE]


@settings(max_examples=50, deadline=None)
@given(data=st.binary(max_size=5000), codec=st.sampled_from(CODECS))
def test_round_trip(data: bytes, codec: CompressionType) -> None:
    assert decompress(compress(data, codec), codec) == data


@pytest.mark.parametrize("codec", CODECS)
def test_round_trip_larger_than_every_block_size(codec: CompressionType) -> None:
    # 200 KiB crosses snappy's 32 KiB and lz4's 64 KiB block boundaries.
    data = b"".join(b"record-%08d|" % i for i in range(200 * 1024 // 16))
    assert decompress(compress(data, codec), codec) == data


def test_codec_ids_and_names() -> None:
    # CompressionType ids 0..4 and the compression.type config names.
    assert [(c.value, c.config_name) for c in CODECS] == [
        (0, "none"),
        (1, "gzip"),
        (2, "snappy"),
        (3, "lz4"),
        (4, "zstd"),
    ]
    assert CompressionType.for_name("zstd") is CompressionType.ZSTD
    for bad in (5, 6, 7):
        with pytest.raises(UnsupportedCompressionTypeError):
            decompress(b"", bad)


# --- gzip -------------------------------------------------------------------------------

# Produced on OpenJDK 17.0.15 by throw-away Java mirroring Kafka's GzipCompression:
#   new BufferedOutputStream(new GZIPOutputStream(bos, 8 * 1024), 16 * 1024)
# writing "value-0value-1...value-199" (US-ASCII), then close(); printed as hex.
JAVA_GZIP_VALUES_0_199 = (
    "1f8b08000000000000ff45d53b4e25301404d11521b9fdf77208269b14d68f84ab4c74238e1ebc2ef3"
    "fdf9ffebdf47f9fe3db9a7ded3eee9f78c7be63deb9e7dcfe1c765700214a440052b60410b5cf02a5e"
    "f573e155bc8a57f12a5ec5ab7815afe135bce62f8ad7f01a5ec36b780dafe175bc8ed7f1ba7f39bc8e"
    "d7f13a5ec7eb78036fe00dbc8137fc2af006dec01b78036fe24dbc8937f126def4bbc59b78136fe22d"
    "bc85b7f016dec25b78cbb1e02dbc85b7f136dec6db781b6fe36dbcedfaf036dec13b7807efe01dbc83"
    "77f00ede71ce6fcf0ebab8e8e2a48b9b2e8ebab8eae2ac8bbb2e0ebb28ffa5a2fc6279b5bc5c5e2f2f"
    "9857cc4bc6666234a9af4265bb89e1c472623ab19d184fac27e613fb497b812b9b506c2846142b8a19"
    "c58e6248b1a49852fa7b3b94ad29e6147b8a41c5a26252b1a91855ac2ae33d4bca8615cb8a69c5b662"
    "5cb1ae9857ec2b0696f95e3c651b8b91c5ca6266b1b3185a2c2da6165bcb7a8fa9b2b9c5de6270b1b8"
    "985c6c2e4617ab8bd965bf775ad9f2627ab1bd185fac2fe617fb8b01c60273debf80f303cae9f2479a"
    "060000"
)
VALUES_0_199 = b"".join(b"value-%d" % i for i in range(200))


def test_gzip_is_byte_identical_to_java_gzip_output_stream() -> None:
    assert compress(VALUES_0_199, CompressionType.GZIP).hex() == JAVA_GZIP_VALUES_0_199
    assert decompress(bytes.fromhex(JAVA_GZIP_VALUES_0_199), CompressionType.GZIP) == VALUES_0_199


def test_gzip_reads_concatenated_members_and_ignores_trailing_junk() -> None:
    # java.util.zip.GZIPInputStream semantics (readTrailer): members are concatenated,
    # bytes after the last member that are not a gzip header are ignored.
    a = compress(b"first ", CompressionType.GZIP)
    b = compress(b"second", CompressionType.GZIP)
    assert decompress(a + b, CompressionType.GZIP) == b"first second"
    assert decompress(a + b"\x00junk", CompressionType.GZIP) == b"first "


def test_gzip_corrupt_checksum_is_detected() -> None:
    z = bytearray(compress(VALUES_0_199, CompressionType.GZIP))
    z[-6] ^= 0xFF  # inside the CRC-32 trailer
    with pytest.raises(CorruptRecordError, match="gzip"):
        decompress(bytes(z), CompressionType.GZIP)


# --- snappy (xerial) ---------------------------------------------------------------------


def test_snappy_uses_xerial_header_and_32k_blocks() -> None:
    data = bytes(range(256)) * 400  # 100 KiB -> blocks of 32, 32, 32, 4 KiB
    z = compress(data, CompressionType.SNAPPY)
    # SnappyCodec: MAGIC_HEADER, DEFAULT_VERSION = 1, MINIMUM_COMPATIBLE_VERSION = 1
    assert z[:16] == b"\x82SNAPPY\x00" + b"\x00\x00\x00\x01" * 2
    pos, sizes = 16, []
    while pos < len(z):
        (n,) = struct.unpack_from(">i", z, pos)
        block = z[pos + 4 : pos + 4 + n]
        sizes.append(len(cramjam.snappy.decompress_raw(block)))
        pos += 4 + n
    assert pos == len(z)
    assert sizes == [SNAPPY_BLOCK_SIZE] * 3 + [len(data) - 3 * SNAPPY_BLOCK_SIZE]


def test_snappy_decodes_hand_built_xerial_stream() -> None:
    # kafka-python test_codec.test_snappy_decode_xerial: header + two length-prefixed blocks.
    header = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01"
    b1 = bytes(cramjam.snappy.compress_raw(b"SNAPPY" * 50))
    b2 = bytes(cramjam.snappy.compress_raw(b"XERIAL" * 50))
    stream = header + struct.pack(">i", len(b1)) + b1 + struct.pack(">i", len(b2)) + b2
    assert decompress(stream, CompressionType.SNAPPY) == b"SNAPPY" * 50 + b"XERIAL" * 50
    # SnappyInputStream also accepts a concatenated stream (the magic where a length was due).
    assert (
        decompress(stream + stream, CompressionType.SNAPPY) == (b"SNAPPY" * 50 + b"XERIAL" * 50) * 2
    )


def test_snappy_accepts_a_raw_block_without_xerial_header() -> None:
    # Snappy format: preamble varint(3), literal tag ((3-1) << 2) = 0x08, then "abc".
    assert decompress(b"\x03\x08abc", CompressionType.SNAPPY) == b"abc"


def test_snappy_truncated_block_is_corrupt() -> None:
    z = compress(b"hello world" * 100, CompressionType.SNAPPY)
    with pytest.raises(CorruptRecordError, match="snappy"):
        decompress(z[:-3], CompressionType.SNAPPY)


def test_snappy_stops_silently_where_xerial_does() -> None:
    # SnappyInputStream.hasNextChunk: fewer than 4 bytes where a block length is due,
    # or a concatenated header with the wrong magic, end the stream without error.
    z = compress(b"hello world" * 100, CompressionType.SNAPPY)
    assert decompress(z + b"\x00\x00\x01", CompressionType.SNAPPY) == b"hello world" * 100
    not_magic = SNAPPY_MAGIC[:4] + b"XXXX" + b"\x00\x00\x00\x01" * 2
    assert decompress(z + not_magic, CompressionType.SNAPPY) == b"hello world" * 100
    # ... but a negative block length is an error (SnappyErrorCode.INVALID_CHUNK_SIZE),
    # and so is a version 0 header.
    with pytest.raises(CorruptRecordError, match="negative"):
        decompress(z + b"\xff\xff\xff\xfe", CompressionType.SNAPPY)
    with pytest.raises(CorruptRecordError, match="version"):
        decompress(SNAPPY_MAGIC + b"\x00" * 8, CompressionType.SNAPPY)


def test_snappy_huge_claimed_length_is_refused_before_allocation() -> None:
    # A raw block whose preamble claims ~4 GiB.
    with pytest.raises(CorruptRecordError, match="claims"):
        decompress(b"\xff\xff\xff\xff\x0f\x00", CompressionType.SNAPPY, max_output=1 << 20)


# --- lz4 --------------------------------------------------------------------------------


def test_lz4_frame_header_is_kafkas() -> None:
    # Lz4BlockOutputStream: magic 0x184D2204 (LE), FLG = version 01 | blockIndependence,
    # BD = 64 KiB (4 << 4), header checksum = (xxhash32(FLG, BD) >> 8) & 0xff; end mark 0.
    z = compress(b"kafka" * 100, CompressionType.LZ4)
    assert z[:7] == bytes.fromhex("04224d18604082")
    assert z[-4:] == b"\x00\x00\x00\x00"


def test_lz4_accepts_standard_frames_with_content_size() -> None:
    # Other clients (librdkafka, python-lz4) may set the content-size flag; still valid.
    frame = lz4.frame.compress(b"x" * 1000, store_size=True)
    assert frame[4] & 0x08
    assert decompress(frame, CompressionType.LZ4) == b"x" * 1000


def test_lz4_decodes_hand_built_frame_with_uncompressed_block() -> None:
    # An incompressible block is stored raw with the high bit of its size set.
    payload = b"not compressed"
    frame = (
        bytes.fromhex("04224d18604082")
        + struct.pack("<I", len(payload) | 0x80000000)
        + payload
        + b"\x00\x00\x00\x00"
    )
    assert decompress(frame, CompressionType.LZ4) == payload


def test_lz4_rejects_what_kafka_rejects() -> None:
    # Lz4BlockOutputStream.FLG.validate: "Dependent block stream is unsupported".
    good = compress(b"kafka" * 100, CompressionType.LZ4)
    # Bytes after the end mark are never read by Lz4BlockInputStream.
    assert decompress(good + b"trailing", CompressionType.LZ4) == b"kafka" * 100
    linked = bytearray(good)
    linked[4] &= ~0x20  # clear FLG.blockIndependence
    with pytest.raises(CorruptRecordError, match="dependent"):
        decompress(bytes(linked), CompressionType.LZ4)
    version2 = bytearray(good)
    version2[4] = (version2[4] & 0x3F) | 0x80
    with pytest.raises(CorruptRecordError, match="version"):
        decompress(bytes(version2), CompressionType.LZ4)
    with pytest.raises(CorruptRecordError):
        decompress(good[:-4], CompressionType.LZ4)  # no end mark: truncated
    bad_hc = bytearray(good)
    bad_hc[6] ^= 0xFF  # frame descriptor checksum
    with pytest.raises(CorruptRecordError):
        decompress(bytes(bad_hc), CompressionType.LZ4)


# --- zstd -------------------------------------------------------------------------------


def test_zstd_frames_have_unknown_content_size_like_a_stream() -> None:
    z = compress(b"kafka" * 100, CompressionType.ZSTD)
    assert z[:4] == bytes.fromhex("28b52ffd")
    assert zstandard.frame_content_size(z) == -1


def test_zstd_accepts_concatenated_frames_and_sized_frames() -> None:
    a = compress(b"one ", CompressionType.ZSTD)
    b = zstandard.ZstdCompressor(write_content_size=True).compress(b"two")
    assert decompress(a + b, CompressionType.ZSTD) == b"one two"


def test_zstd_truncated_frame_is_corrupt() -> None:
    z = compress(bytes(range(256)) * 40, CompressionType.ZSTD)
    with pytest.raises(CorruptRecordError, match="zstd"):
        decompress(z[:-5], CompressionType.ZSTD)


# --- bounded decompression ------------------------------------------------------------


@pytest.mark.parametrize("codec", COMPRESSED)
def test_bomb_is_refused_at_the_cap(codec: CompressionType) -> None:
    bomb = compress(bytes(8 * 1024 * 1024), codec)
    assert len(bomb) < 512 * 1024
    with pytest.raises(CorruptRecordError, match="more than"):
        decompress(bomb, codec, max_output=1024 * 1024)


@pytest.mark.parametrize("codec", CODECS)
def test_output_exactly_at_the_cap_is_allowed(codec: CompressionType) -> None:
    data = b"abcdefgh" * 1000
    assert decompress(compress(data, codec), codec, max_output=len(data)) == data
    with pytest.raises(CorruptRecordError):
        decompress(compress(data, codec), codec, max_output=len(data) - 1)


@settings(max_examples=150, deadline=None)
@given(blob=st.binary(max_size=300), codec=st.sampled_from(COMPRESSED))
def test_garbage_raises_only_corrupt_record_error(blob: bytes, codec: CompressionType) -> None:
    try:
        out = decompress(blob, codec, max_output=1 << 16)
    except CorruptRecordError:
        return
    assert len(out) <= 1 << 16


@settings(max_examples=60, deadline=None)
@given(data=st.binary(min_size=1, max_size=3000), codec=st.sampled_from(COMPRESSED), cut=st.data())
def test_truncation_never_passes_silently(
    data: bytes, codec: CompressionType, cut: st.DataObject
) -> None:
    z = compress(data, codec)
    n = cut.draw(st.integers(0, len(z) - 1))
    try:
        out = decompress(z[:n], codec)
    except LogError:
        return
    # The only truncations that can decode are those that end on a boundary Kafka's
    # readers also accept (e.g. xerial snappy between blocks); they yield a prefix.
    assert data.startswith(out) and codec is CompressionType.SNAPPY


def test_snappy_magic_constant() -> None:
    assert SNAPPY_MAGIC == b"\x82SNAPPY\x00"
