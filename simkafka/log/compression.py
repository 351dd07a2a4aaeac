"""Compression of a record batch's records section, in the framing Kafka writes.

In a v2 batch (``DefaultRecordBatch``) only the bytes after ``recordsCount`` are
compressed, as one stream, and the codec id sits in attribute bits 0-2. Each codec
has a specific *framing* chosen by Kafka's ``Compression`` classes, and other clients
must match it byte for byte to interoperate:

* **gzip** (``GzipCompression``): a standard gzip member, written by
  ``java.util.zip.GZIPOutputStream`` -- 10-byte header with mtime 0, no name, raw
  deflate, then CRC-32 and ISIZE. Java's ``GZIPInputStream`` also reads concatenated
  members and ignores trailing bytes that are not a gzip header; so do we.
* **snappy** (``SnappyCompression``): *not* the snappy framing format but xerial
  snappy-java's ``SnappyOutputStream`` stream: an 8-byte magic ``\\x82SNAPPY\\x00``,
  big-endian int32 version (1) and minimum compatible version (1), then blocks of at
  most 32 KiB input, each written as a big-endian int32 compressed length and a raw
  snappy block. ``SnappyInputStream`` falls back to a single raw snappy block when the
  magic is missing, accepts concatenated streams (the magic reappearing where a block
  length is expected), and quietly stops at a tail too short for a block length; so
  do we. Snappy output bytes may differ from snappy-java's (a different compressor
  implementation), but the framing is identical and either side decodes the other.
* **lz4** (``Lz4Compression`` / ``Lz4BlockOutputStream``): the standard LZ4 frame
  (v1.5.1) with independent 64 KiB blocks, no block checksums, no content size and no
  content checksum. The descriptor checksum is the standard xxhash32 of FLG and BD for
  magic >= 1; Kafka's historic bug (hashing the magic number too) only applies to magic
  0 batches, which this engine does not write. Kafka's reader (``Lz4BlockInputStream``)
  rejects frames with linked blocks or a non-1 version and ignores anything after the
  end mark; so do we. One difference: Kafka skips the optional content checksum
  unverified, python-lz4 verifies it, so a frame with a wrong one is rejected here.
* **zstd** (``ZstdCompression``): zstd frames written by zstd-jni's streaming API, so
  the content size is normally absent; several concatenated frames are accepted.

Decompression is always bounded: a batch of a few bytes can claim gigabytes, so every
decoder stops at ``max_output`` bytes and raises :class:`CorruptRecordError` rather
than allocate without limit. The default cap is twice Kafka's default
``max.message.bytes`` (1048588); callers pass a limit derived from their topic's
``max.message.bytes`` where they know it.
"""

from __future__ import annotations

import struct
import zlib
from enum import IntEnum

import cramjam
import lz4.frame
import zstandard

from simkafka.log.errors import CorruptRecordError, UnsupportedCompressionTypeError

__all__ = [
    "CompressionType",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "compress",
    "decompress",
]

#: Kafka's default ``max.message.bytes`` (``TopicConfig.MAX_MESSAGE_BYTES_CONFIG``):
#: 1 MiB plus the 12-byte log overhead.
DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024 + 12

#: Default cap on the size of a decompressed records section.
DEFAULT_MAX_DECOMPRESSED_BYTES = 2 * DEFAULT_MAX_MESSAGE_BYTES


class CompressionType(IntEnum):
    """Codec ids of attribute bits 0-2 (Kafka's ``CompressionType``)."""

    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4

    @property
    def config_name(self) -> str:
        """The name used by ``compression.type`` (``"none"``, ``"gzip"``, ...)."""
        return self.name.lower()

    @classmethod
    def for_id(cls, codec_id: int) -> CompressionType:
        """Kafka's ``CompressionType.forId``: unknown ids are an error, not a guess."""
        try:
            return cls(codec_id)
        except ValueError:
            raise UnsupportedCompressionTypeError(
                f"Unknown compression type id: {codec_id}"
            ) from None

    @classmethod
    def for_name(cls, name: str) -> CompressionType:
        """Parse a ``compression.type`` value (``"producer"`` is a broker-side alias, not a codec)."""
        try:
            return cls[name.upper()]
        except KeyError:
            raise UnsupportedCompressionTypeError(f"Unknown compression name: {name}") from None


# --- gzip ------------------------------------------------------------------------------

#: Header written by ``java.util.zip.GZIPOutputStream`` as of OpenJDK 17: mtime 0, no
#: flags, OS = 255 ("unknown"; older JDKs wrote 0). Readers ignore the OS byte.
_JAVA_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
#: ``GzipConfig``'s default level is ``Deflater.DEFAULT_COMPRESSION`` (zlib level 6).
_GZIP_DEFAULT_LEVEL = 6


def _gzip_compress(data: bytes, level: int | None) -> bytes:
    level = _GZIP_DEFAULT_LEVEL if level is None or level == -1 else level
    deflater = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, 8, zlib.Z_DEFAULT_STRATEGY)
    body = deflater.compress(data) + deflater.flush()
    trailer = struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF, len(data) & 0xFFFFFFFF)
    return _JAVA_GZIP_HEADER + body + trailer


def _gzip_decompress(data: bytes, max_output: int) -> bytes:
    out = bytearray()
    remaining = bytes(data)
    first = True
    while first or remaining[:2] == b"\x1f\x8b":
        first = False
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk = remaining
        try:
            while chunk:
                out += inflater.decompress(chunk, max_output - len(out) + 1)
                if len(out) > max_output:
                    raise _too_large(CompressionType.GZIP, max_output)
                chunk = inflater.unconsumed_tail
                if inflater.eof:
                    break
        except zlib.error as e:
            raise CorruptRecordError(f"invalid gzip data: {e}") from None
        if not inflater.eof:
            raise CorruptRecordError("truncated gzip stream (no end of member)")
        remaining = inflater.unused_data
    # GZIPInputStream.readTrailer: bytes after a member that are not another gzip
    # header are silently ignored.
    return bytes(out)


# --- snappy (xerial framing) -------------------------------------------------------------

SNAPPY_MAGIC = b"\x82SNAPPY\x00"
_SNAPPY_VERSION = 1
_SNAPPY_MIN_COMPATIBLE_VERSION = 1
_SNAPPY_HEADER = SNAPPY_MAGIC + struct.pack(">ii", _SNAPPY_VERSION, _SNAPPY_MIN_COMPATIBLE_VERSION)
#: ``SnappyOutputStream.DEFAULT_BLOCK_SIZE``: input is cut into 32 KiB blocks.
SNAPPY_BLOCK_SIZE = 32 * 1024
#: The first 4 bytes of the magic read as a big-endian int (``MAGIC_HEADER_HEAD``): seen
#: where a block length is expected, it starts a concatenated stream.
_SNAPPY_MAGIC_HEAD = struct.unpack(">i", SNAPPY_MAGIC[:4])[0]


def _snappy_compress(data: bytes) -> bytes:
    parts = [_SNAPPY_HEADER]
    view = memoryview(data)
    for start in range(0, len(data), SNAPPY_BLOCK_SIZE):
        block = bytes(cramjam.snappy.compress_raw(view[start : start + SNAPPY_BLOCK_SIZE]))
        parts.append(struct.pack(">i", len(block)))
        parts.append(block)
    return b"".join(parts)


def _snappy_raw_block(block: bytes | memoryview, budget: int) -> bytes:
    try:
        size = cramjam.snappy.decompress_raw_len(block)
    except Exception as e:  # cramjam raises its own DecompressionError
        raise CorruptRecordError(f"invalid snappy block: {e}") from None
    if size > budget:
        raise CorruptRecordError(
            f"snappy block claims {size} uncompressed bytes, more than the {budget} bytes allowed"
        )
    try:
        return bytes(cramjam.snappy.decompress_raw(block))
    except Exception as e:
        raise CorruptRecordError(f"invalid snappy block: {e}") from None


def _snappy_header_version(buf: memoryview, pos: int) -> int:
    """``SnappyInputStream.isValidHeader``: a version below 1 is an incompatible stream."""
    (version,) = struct.unpack_from(">i", buf, pos + 8)
    if version < _SNAPPY_MIN_COMPATIBLE_VERSION:
        raise CorruptRecordError(f"incompatible xerial snappy stream version {version}")
    return version


def _snappy_decompress(data: bytes, max_output: int) -> bytes:
    """xerial ``SnappyInputStream`` semantics, including where it stops *silently*.

    ``hasNextChunk`` treats fewer than 4 bytes where a block length is due, or a
    concatenated header whose magic does not match, as the end of the stream -- Kafka
    then sees the records end there, and its record count check decides.
    """
    buf = memoryview(data)
    if len(buf) < len(_SNAPPY_HEADER) or bytes(buf[:8]) != SNAPPY_MAGIC:
        # SnappyInputStream.readHeader: no xerial magic -> the whole input is one raw block.
        return _snappy_raw_block(buf, max_output)
    _snappy_header_version(buf, 0)
    out = bytearray()
    pos = len(_SNAPPY_HEADER)
    end = len(buf)
    while end - pos >= 4:
        (length,) = struct.unpack_from(">i", buf, pos)
        if length == _SNAPPY_MAGIC_HEAD:
            # A concatenated stream: its full 16-byte header must be there.
            if end - pos < len(_SNAPPY_HEADER):
                raise CorruptRecordError("Insufficient header size in a concatenated block")
            if bytes(buf[pos : pos + 8]) != SNAPPY_MAGIC:
                break
            _snappy_header_version(buf, pos)
            pos += len(_SNAPPY_HEADER)
            continue
        if length < 0:
            raise CorruptRecordError(f"snappy chunkSize is too big or negative: {length}")
        pos += 4
        if end - pos < length:
            raise CorruptRecordError(
                f"snappy block of {length} bytes but only {end - pos} bytes remain"
            )
        out += _snappy_raw_block(buf[pos : pos + length], max_output - len(out))
        pos += length
    return bytes(out)


# --- lz4 frame ---------------------------------------------------------------------------

LZ4_MAGIC = 0x184D2204
#: ``Lz4BlockOutputStream.BLOCKSIZE_64KB``.
_LZ4_BD_64KB = 4 << 4
#: Kafka's default LZ4 level (``CompressionType.LZ4.defaultLevel()`` == 9) selects lz4-java's
#: *fast* compressor; any other level selects the high-compression one.
_LZ4_KAFKA_DEFAULT_LEVEL = 9


def _lz4_compress(data: bytes, level: int | None) -> bytes:
    if level is None or level == _LZ4_KAFKA_DEFAULT_LEVEL:
        lz4_level = 0  # LZ4_compress_default, as lz4-java's fastCompressor
    else:
        lz4_level = max(level, lz4.frame.COMPRESSIONLEVEL_MINHC)
    return lz4.frame.compress(
        data,
        compression_level=lz4_level,
        block_size=lz4.frame.BLOCKSIZE_MAX64KB,
        block_linked=False,
        content_checksum=False,
        block_checksum=False,
        store_size=False,
        return_bytearray=False,
    )


def _lz4_check_descriptor(data: bytes) -> None:
    """The checks of Kafka's ``Lz4BlockInputStream.readHeader`` / ``FLG.validate``."""
    if len(data) < 7:
        raise CorruptRecordError("truncated lz4 frame header")
    (magic,) = struct.unpack_from("<I", data, 0)
    if magic != LZ4_MAGIC:
        raise CorruptRecordError(f"invalid lz4 frame magic 0x{magic:08x}")
    flg, bd = data[4], data[5]
    if flg & 0x03:
        raise CorruptRecordError("lz4 FLG reserved bits must be 0")
    if not flg & 0x20:
        raise CorruptRecordError("lz4 dependent block stream is unsupported")
    if flg >> 6 != 1:
        raise CorruptRecordError(f"lz4 frame version {flg >> 6} is unsupported")
    if bd & 0x8F or not 4 <= (bd >> 4) & 7 <= 7:
        raise CorruptRecordError(f"invalid lz4 BD byte 0x{bd:02x}")


def _lz4_decompress(data: bytes, max_output: int) -> bytes:
    data = bytes(data)
    _lz4_check_descriptor(data)
    inflater = lz4.frame.LZ4FrameDecompressor()
    try:
        out = inflater.decompress(data, max_length=max_output + 1)
    except RuntimeError as e:  # python-lz4 reports LZ4F errors as RuntimeError
        raise CorruptRecordError(f"invalid lz4 frame: {e}") from None
    if len(out) > max_output:
        raise _too_large(CompressionType.LZ4, max_output)
    if not inflater.eof:
        raise CorruptRecordError("truncated lz4 frame (no end mark)")
    # Lz4BlockInputStream stops at the end mark: whatever follows it is never read.
    return out


# --- zstd ---------------------------------------------------------------------------------

#: ``ZstdConfig``'s default level (``CompressionType.ZSTD.defaultLevel()``).
_ZSTD_DEFAULT_LEVEL = 3
_ZSTD_READ_CHUNK = 64 * 1024


def _zstd_compress(data: bytes, level: int | None) -> bytes:
    # A streaming compressor, as zstd-jni's ZstdOutputStreamNoFinalizer: no content size.
    compressor = zstandard.ZstdCompressor(
        level=_ZSTD_DEFAULT_LEVEL if level is None else level,
        write_content_size=False,
        write_checksum=False,
    )
    cobj = compressor.compressobj()
    return cobj.compress(data) + cobj.flush()


def _zstd_decompress(data: bytes, max_output: int) -> bytes:
    data = bytes(data)
    if not data:
        raise CorruptRecordError("empty zstd stream (no frame)")
    dctx = zstandard.ZstdDecompressor()
    try:
        # Pass 1, bounded: a stream reader never produces more than we ask for.
        reader = dctx.stream_reader(data, read_across_frames=True)
        produced = 0
        while True:
            piece = reader.read(_ZSTD_READ_CHUNK)
            if not piece:
                break
            produced += len(piece)
            if produced > max_output:
                raise _too_large(CompressionType.ZSTD, max_output)
        # Pass 2: the output is now known to be small, so decode frame by frame to detect
        # a truncated last frame (the stream reader reports a torn frame as a clean EOF).
        out = bytearray()
        remaining = data
        while remaining:
            dobj = dctx.decompressobj()
            out += dobj.decompress(remaining)
            if not dobj.eof:
                raise CorruptRecordError("truncated zstd frame")
            remaining = dobj.unused_data
    except zstandard.ZstdError as e:
        raise CorruptRecordError(f"invalid zstd data: {e}") from None
    return bytes(out)


# --- public API -------------------------------------------------------------------------


def _too_large(codec: CompressionType, max_output: int) -> CorruptRecordError:
    return CorruptRecordError(
        f"{codec.config_name} data decompresses to more than the {max_output}-byte limit"
    )


def compress(
    data: bytes | bytearray | memoryview,
    codec: CompressionType | int,
    level: int | None = None,
) -> bytes:
    """Compress a records section the way Kafka's producer does for ``codec``.

    ``level`` uses Kafka's ``compression.<codec>.level`` scale (KIP-390); ``None``
    means Kafka's default for the codec. Snappy has no levels.
    """
    codec = CompressionType.for_id(int(codec))
    raw = bytes(data)
    if codec is CompressionType.NONE:
        return raw
    if codec is CompressionType.GZIP:
        return _gzip_compress(raw, level)
    if codec is CompressionType.SNAPPY:
        return _snappy_compress(raw)
    if codec is CompressionType.LZ4:
        return _lz4_compress(raw, level)
    return _zstd_compress(raw, level)


def decompress(
    data: bytes | bytearray | memoryview,
    codec: CompressionType | int,
    max_output: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
) -> bytes:
    """Decompress a records section; never returns (or allocates) more than ``max_output`` bytes.

    Raises :class:`CorruptRecordError` for data that is not valid for the codec, is
    truncated, or would exceed ``max_output``.
    """
    if max_output < 0:
        raise ValueError("max_output must be >= 0")
    codec = CompressionType.for_id(int(codec))
    if codec is CompressionType.NONE:
        if len(data) > max_output:
            raise _too_large(codec, max_output)
        return bytes(data)
    if codec is CompressionType.GZIP:
        return _gzip_decompress(bytes(data), max_output)
    if codec is CompressionType.SNAPPY:
        return _snappy_decompress(bytes(data), max_output)
    if codec is CompressionType.LZ4:
        return _lz4_decompress(bytes(data), max_output)
    return _zstd_decompress(bytes(data), max_output)
