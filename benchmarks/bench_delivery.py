"""Cost of the delivery history: record a run's batches, then check them.

Records ``--batches`` batches (default 100,000) of ``--records`` records (default 1,000)
spread round-robin over ``--partitions`` partitions (default 100) by ``--producers``
producers: each batch is sent, appended, acknowledged and consumed by one group; one
batch in ``--retry-every`` (at random, seeded) is a non-idempotent retry appended twice,
and every partition is truncated once by 2.5 batches (an unclean election). Prints the time
to record, the time to check, and the per-batch cost. Not a pass/fail test.

    python benchmarks/bench_delivery.py [--batches 100000] [--records 1000] [--partitions 100]
"""

from __future__ import annotations

import argparse
import random
import time

from simkafka.model.delivery import DeliveryHistory, check
from simkafka.model.types import TopicPartition


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000)
    parser.add_argument("--partitions", type=int, default=100)
    parser.add_argument("--producers", type=int, default=10)
    parser.add_argument("--retry-every", type=int, default=1_000)
    args = parser.parse_args()

    tps = [TopicPartition(f"topic-{i % 4}", i // 4) for i in range(args.partitions)]
    next_seq: dict[tuple[int, int], int] = {}
    log_end = dict.fromkeys(range(args.partitions), 0)
    history = DeliveryHistory()
    n = args.records
    rng = random.Random(1)  # which batches are retried: the same ones every run

    start = time.perf_counter()
    for b in range(args.batches):
        part = b % args.partitions
        tp = tps[part]
        producer = b % args.producers
        seq = next_seq.get((producer, part), 0)
        next_seq[producer, part] = seq + n
        at = b * 1e-3
        history.sent(tp, producer, seq, n, at)
        base = log_end[part]
        history.appended(tp, producer, seq, n, base, 0, at)
        if args.retry_every and rng.random() < 1 / args.retry_every:
            history.appended(tp, producer, seq, n, base + n, 0, at)  # the retry lands too
        log_end[part] = history.log_end_offset(tp)
        history.acknowledged(tp, producer, seq, n, log_end[part] - n, at)
        history.consumed(tp, "group", base, log_end[part] - base, at)
    # one unclean election per partition: the new leader lacks the last 2.5 batches
    for part, tp in enumerate(tps):
        history.truncated(tp, max(0, log_end[part] - n * 5 // 2), args.batches * 1e-3)
    recorded = time.perf_counter() - start

    start = time.perf_counter()
    report = check(history)
    frame = report.frame()
    checked = time.perf_counter() - start

    total = args.batches * n
    print(
        f"{args.batches:,} batches x {n:,} records ({total:,} records) over "
        f"{args.partitions} partitions"
    )
    print(
        f"record: {recorded:.3f} s ({recorded / args.batches * 1e6:.2f} us/batch, "
        f"4-5 calls per batch)"
    )
    print(f"check:  {checked:.3f} s ({checked / args.batches * 1e6:.2f} us/batch)")
    print(frame[["acknowledged", "log_records", "lost", "written_twice", "consumed_never"]])


if __name__ == "__main__":
    main()
