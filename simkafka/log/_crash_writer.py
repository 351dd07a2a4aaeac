"""Writer process for ``scripts/crash_stress.py``: append and flush until killed.

Appends leader batches to a :class:`UnifiedLog` with a ``flush.messages`` policy and,
after every flush, appends one line ``F <recovery_point> <segment base> <segment size>``
to a progress file. A line is written only *after* the fsync returned, so every line
names data that is durable; the parent SIGKILLs this process at a random moment and
checks that all of it survives recovery.

Record values are a function of their offset (the offset as 8 big-endian bytes,
repeated), so the checker can verify every byte it reads back without a side channel.

    python -m simkafka.log._crash_writer DIR PROGRESS SEED
"""

from __future__ import annotations

import os
import random
import sys
from dataclasses import dataclass

from simkafka.log.clock import SystemClock
from simkafka.log.log_config import LogConfig
from simkafka.log.records import build_uniform_batch
from simkafka.log.unified_log import UnifiedLog


@dataclass(frozen=True)
class WriterParams:
    """One trial's policy, derived from its seed so the checker can rebuild it."""

    flush_messages: int
    segment_bytes: int
    index_interval_bytes: int
    max_records_per_batch: int
    value_size: int

    @classmethod
    def from_seed(cls, seed: int) -> WriterParams:
        rng = random.Random(seed)
        return cls(
            flush_messages=rng.choice([1, 2, 5, 17, 50, 200]),
            segment_bytes=rng.choice([4096, 16384, 65536, 262144]),
            index_interval_bytes=rng.choice([1, 256, 4096]),
            max_records_per_batch=rng.randint(1, 20),
            value_size=rng.randint(8, 120),
        )

    def config(self) -> LogConfig:
        return LogConfig(
            internal_segment_bytes=self.segment_bytes,  # below segment.bytes' 1 MiB minimum
            index_interval_bytes=self.index_interval_bytes,
            flush_messages=self.flush_messages,
            segment_index_bytes=64 * 1024,
        )


def value_for(offset: int, size: int) -> bytes:
    """The record value the writer stores at ``offset``."""
    unit = offset.to_bytes(8, "big")
    return (unit * (size // 8 + 1))[:size]


def main(argv: list[str]) -> int:
    dir, progress, seed = argv[0], argv[1], int(argv[2])
    params = WriterParams.from_seed(seed)
    rng = random.Random(seed ^ 0x5EED)
    log = UnifiedLog(dir, params.config(), SystemClock())
    fd = os.open(progress, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.write(fd, b"R\n")  # ready: imports done, log open
    last_rp = log.recovery_point
    clock = SystemClock()
    while True:
        count = rng.randint(1, params.max_records_per_batch)
        first = log.log_end_offset
        payload = b"".join(value_for(o, params.value_size) for o in range(first, first + count))
        batch = build_uniform_batch(
            count, params.value_size, base_offset=0, base_timestamp=clock.now_ms(), payload=payload
        )
        log.append_as_leader(batch, 0)
        if log.recovery_point != last_rp:
            last_rp = log.recovery_point
            seg = log.active_segment
            # A flush.messages flush covers everything (rp == LEO). A roll flushes up to
            # the new segment's base before the batch lands in it, so then the durable
            # part of the active segment is empty.
            durable = seg.size if last_rp == log.log_end_offset else 0
            assert durable or last_rp == seg.base_offset
            os.write(fd, f"F {last_rp} {seg.base_offset} {durable}\n".encode())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
