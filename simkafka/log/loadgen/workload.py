"""The workload: the pool of pre-built v2 batches every producer appends over and over.

Batches are built (and, with ``compression``, compressed) once before the timed loop,
so what is timed is the log engine, not the producer. Payloads are
``ProducerPerformance``'s: random upper-case letters, so codecs see realistic input.
"""

from __future__ import annotations

import hashlib
import random

from simkafka.log.compression import CompressionType
from simkafka.log.loadgen.config import LoadgenConfig
from simkafka.log.records import build_uniform_batch

__all__ = ["build_batch_pool", "derive_seed"]


def derive_seed(seed: int, name: str) -> int:
    """A stable 64-bit seed per name (hashlib, never ``hash()``)."""
    digest = hashlib.blake2b(f"{seed}\x00{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _letters_fast(rng: random.Random, n: int) -> bytes:
    # randbytes then a 256-entry translation table: uniform over 26 letters except a
    # slight bias (256 % 26 != 0) that does not matter for compressibility.
    table = bytes(65 + (i % 26) for i in range(256))
    return rng.randbytes(n).translate(table)


def build_batch_pool(config: LoadgenConfig) -> list[bytes]:
    """``pool_batches`` distinct v2 batches, compressed as asked, built once per run.

    Deterministic for a seed: batch ``i``'s payload comes from its own named stream.
    """
    count = config.records_per_batch
    codec = CompressionType.for_name(config.compression)
    pool = []
    for i in range(config.pool_batches):
        rng = random.Random(derive_seed(config.seed, f"loadgen.pool.{i}"))
        payload = _letters_fast(rng, count * config.message_size)
        pool.append(
            build_uniform_batch(
                count,
                config.message_size,
                base_offset=0,
                base_timestamp=0,
                payload=payload,
                compression=codec,
            )
        )
    return pool
