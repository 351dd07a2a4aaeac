"""Delivery history and checker: what was acknowledged, what the log holds, what was read.

The engines record batch-level events here (one call per batch, never per message) and
:func:`check` answers, at the end of a run, Jepsen's Kafka questions on ranges:

* **acknowledged but lost** -- a producer was told its records were written, and the final
  log does not hold them (``acks=1`` leader lost, unclean election, ...);
* **written twice** -- one (producer, sequence) at two offsets of the final log (a
  non-idempotent producer's retry whose first attempt had in fact landed);
* **consumed twice** -- an offset a consumer group read more than once (a rebalance that
  resumed from an older committed offset);
* **consumed then truncated** -- records a group read that the log later lost (a leader
  elected with a shorter log); the records written at those offsets afterwards are new,
  and reading them is a first read;
* **consumed never** -- an offset of the final log a group never read (``skipped`` is the
  part of it below the last offset the group read: a hole, not lag);
* **reordered** -- a record whose first copy in the log comes after a record of the same
  producer with a higher sequence number. Kafka orders a key within a partition, so when
  one producer writes a key this is "out of order per key" (``max.in.flight.requests.
  per.connection`` > 1 with idempotence off and a retried batch);
* **failed** -- batches the producer gave up on, by error name (``DELIVERY_TIMEOUT``,
  ``NOT_ENOUGH_REPLICAS`` ...), and how many of those records are nonetheless in the log.

Identity of a record: ``(producer_id, sequence)``. ``producer_id`` names one producer
instance; ``sequence`` is Kafka's idempotent sequence when ``enable.idempotence`` is on,
and otherwise the engine's own numbering of that producer's records per partition in send
order (Kafka has no sequence then, but the engine knows which record a retry carries).

The log of a partition is one sequence of offset ranges, each holding a run of one
producer's sequences. It is the log of whichever replica leads: when a replica with a
shorter log takes over, the engine calls :meth:`DeliveryHistory.truncated` with that
replica's log end offset and everything above it is gone (leader-epoch truncation, unclean
election). Appends must come at or past the log end, as a leader's do.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from simkafka.model.intervals import IntervalSet
from simkafka.model.types import TopicPartition

if TYPE_CHECKING:  # pandas is imported only when a frame is asked for
    import pandas as pd

__all__ = [
    "DeliveryHistory",
    "DeliveryReport",
    "IntervalSet",
    "LogEntry",
    "PartitionDelivery",
    "check",
]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """Offsets ``[base_offset, stop_offset)`` hold ``producer_id``'s sequences from ``first_seq``."""

    base_offset: int
    stop_offset: int
    producer_id: int
    first_seq: int
    leader_epoch: int

    @property
    def count(self) -> int:
        return self.stop_offset - self.base_offset


@dataclass(frozen=True, slots=True)
class _Ack:
    first_seq: int
    count: int
    base_offset: int
    at: float


@dataclass(slots=True)
class _PartitionHistory:
    sent: dict[int, IntervalSet] = field(default_factory=dict)
    acked: dict[int, list[_Ack]] = field(default_factory=dict)
    failed: dict[int, IntervalSet] = field(default_factory=dict)
    failed_by_error: Counter[str] = field(default_factory=Counter)
    # the log, sorted by offset: parallel list of base offsets for bisect
    log: list[LogEntry] = field(default_factory=list)
    log_bases: list[int] = field(default_factory=list)
    log_end: int = 0
    truncations: list[tuple[int, int, float]] = field(default_factory=list)
    # per producer: one past the highest sequence the log holds (its producer state)
    seq_end: dict[int, int] = field(default_factory=dict)
    # per group: offsets read at least once, at least twice, and the extra reads
    read_once: dict[str, IntervalSet] = field(default_factory=dict)
    read_twice: dict[str, IntervalSet] = field(default_factory=dict)
    extra_reads: Counter[str] = field(default_factory=Counter)
    read_then_truncated: Counter[str] = field(default_factory=Counter)


def _check_range(tp: TopicPartition, what: str, name: str, first: int, count: int) -> None:
    if first < 0:
        raise ValueError(f"{what}({tp}): {name} must be >= 0, got {first}")
    if count <= 0:
        raise ValueError(f"{what}({tp}): count must be > 0, got {count}")


def _check_time(tp: TopicPartition, what: str, at: float) -> None:
    if not math.isfinite(at):
        raise ValueError(f"{what}({tp}): at must be a finite time in seconds, got {at}")


class DeliveryHistory:
    """Batch-level record of a run's produce, append, truncate and fetch events.

    Pure bookkeeping with no clock of its own: every call carries its time ``at``
    (seconds, checked finite); truncations keep it (:meth:`truncations`). The cost of a call is O(log n) in the number of
    ranges of that partition, not in the number of records.
    """

    def __init__(self) -> None:
        self._partitions: dict[TopicPartition, _PartitionHistory] = {}

    def _p(self, tp: TopicPartition) -> _PartitionHistory:
        p = self._partitions.get(tp)
        if p is None:
            p = self._partitions[tp] = _PartitionHistory()
        return p

    @property
    def partitions(self) -> list[TopicPartition]:
        return sorted(self._partitions)

    # --- producer side ---------------------------------------------------------------

    def sent(
        self, tp: TopicPartition, producer_id: int, first_seq: int, count: int, at: float
    ) -> None:
        """A producer sent a batch of ``count`` records (first attempt or retry)."""
        _check_range(tp, "sent", "first_seq", first_seq, count)
        _check_time(tp, "sent", at)
        p = self._p(tp)
        s = p.sent.get(producer_id)
        if s is None:
            s = p.sent[producer_id] = IntervalSet()
        s.add(first_seq, first_seq + count)

    def appended(
        self,
        tp: TopicPartition,
        producer_id: int,
        first_seq: int,
        count: int,
        base_offset: int,
        leader_epoch: int,
        at: float,
    ) -> None:
        """The leader wrote the batch at ``[base_offset, base_offset + count)``.

        A retried non-idempotent batch is appended again at new offsets; an idempotent
        duplicate is recognised by the leader and not appended (do not call this for it).
        """
        _check_range(tp, "appended", "first_seq", first_seq, count)
        _check_time(tp, "appended", at)
        if base_offset < 0:
            raise ValueError(f"appended({tp}): base_offset must be >= 0, got {base_offset}")
        p = self._p(tp)
        if base_offset < p.log_end:
            raise ValueError(
                f"appended({tp}): base_offset {base_offset} is below the log end offset "
                f"{p.log_end}; a leader appends at its log end (call truncated() first when "
                f"a replica with a shorter log took over)"
            )
        p.log.append(
            LogEntry(base_offset, base_offset + count, producer_id, first_seq, leader_epoch)
        )
        p.log_bases.append(base_offset)
        p.log_end = base_offset + count
        if first_seq + count > p.seq_end.get(producer_id, 0):
            p.seq_end[producer_id] = first_seq + count

    def acknowledged(
        self,
        tp: TopicPartition,
        producer_id: int,
        first_seq: int,
        count: int,
        base_offset: int,
        at: float,
    ) -> None:
        """The producer got a success response saying the batch starts at ``base_offset``;
        -1 when the producer is not told (``acks=0``: Kafka's ``RecordMetadata.offset()``
        is -1 then), so a lost record of it has no offset in ``lost_offsets``."""
        _check_range(tp, "acknowledged", "first_seq", first_seq, count)
        _check_time(tp, "acknowledged", at)
        if base_offset < -1:
            raise ValueError(f"acknowledged({tp}): base_offset must be >= 0 (or -1: unknown), got {base_offset}")
        p = self._p(tp)
        p.acked.setdefault(producer_id, []).append(_Ack(first_seq, count, base_offset, at))

    def failed(
        self,
        tp: TopicPartition,
        producer_id: int,
        first_seq: int,
        count: int,
        error: str,
        at: float,
    ) -> None:
        """The producer gave up on the batch with Kafka error ``error`` (e.g. DELIVERY_TIMEOUT)."""
        _check_range(tp, "failed", "first_seq", first_seq, count)
        _check_time(tp, "failed", at)
        if not error:
            raise ValueError(f"failed({tp}): error must name the Kafka error, got {error!r}")
        p = self._p(tp)
        s = p.failed.get(producer_id)
        if s is None:
            s = p.failed[producer_id] = IntervalSet()
        s.add(first_seq, first_seq + count)
        p.failed_by_error[error] += count

    # --- log side ----------------------------------------------------------------------

    def truncated(self, tp: TopicPartition, from_offset: int, at: float) -> None:
        """The log now ends at ``from_offset``: every record at or above it is gone.

        Truncating at or above the log end changes nothing (Kafka's ``truncateTo`` too).
        """
        _check_time(tp, "truncated", at)
        if from_offset < 0:
            raise ValueError(f"truncated({tp}): from_offset must be >= 0, got {from_offset}")
        p = self._p(tp)
        if from_offset >= p.log_end:
            return
        i = bisect_right(p.log_bases, from_offset)  # entries from i start above from_offset
        removed = sum(e.count for e in p.log[i:])
        del p.log[i:]
        del p.log_bases[i:]
        if p.log and p.log[-1].stop_offset > from_offset:
            last = p.log[-1]
            removed += last.stop_offset - from_offset
            if last.base_offset == from_offset:
                p.log.pop()
                p.log_bases.pop()
            else:
                p.log[-1] = LogEntry(
                    last.base_offset,
                    from_offset,
                    last.producer_id,
                    last.first_seq,
                    last.leader_epoch,
                )
        p.log_end = from_offset
        p.truncations.append((from_offset, removed, at))
        # offsets a group read that are gone: reading the new records the next leader
        # writes there is a first read, not a second one
        for group, once in p.read_once.items():
            beyond = max(once.stop or 0, from_offset)
            gone = len(once.clip(from_offset, beyond))
            if gone:
                once.discard(from_offset, beyond)
                p.read_twice[group].discard(from_offset, beyond)
                p.read_then_truncated[group] += gone
        p.seq_end = {}
        for entry in p.log:  # rebuilt as a leader rebuilds producer state from its log
            if entry.first_seq + entry.count > p.seq_end.get(entry.producer_id, 0):
                p.seq_end[entry.producer_id] = entry.first_seq + entry.count

    def next_sequence(self, tp: TopicPartition, producer_id: int) -> int:
        """One past the highest sequence of ``producer_id`` the log holds (0: none) -- the
        sequence an idempotent leader expects next from it."""
        p = self._partitions.get(tp)
        return p.seq_end.get(producer_id, 0) if p else 0

    def find_appended(self, tp: TopicPartition, producer_id: int, first_seq: int) -> int | None:
        """The offset the log holds ``producer_id``'s record ``first_seq`` at, or None --
        what an idempotent leader's producer state answers for a retried batch (Kafka
        keeps the last five batches per producer; a retry is one of the latest, so the
        log is searched from its end)."""
        p = self._partitions.get(tp)
        if p is None:
            return None
        for entry in reversed(p.log):
            if entry.producer_id == producer_id and entry.first_seq <= first_seq < entry.first_seq + entry.count:
                return entry.base_offset + first_seq - entry.first_seq
            if entry.producer_id == producer_id and entry.first_seq + entry.count <= first_seq:
                return None  # sequences grow along the log: nothing earlier holds it
        return None

    def log(self, tp: TopicPartition) -> list[LogEntry]:
        """The partition's final log: offset ranges and the sequences they hold."""
        p = self._partitions.get(tp)
        return list(p.log) if p else []

    def truncations(self, tp: TopicPartition) -> list[tuple[int, int, float]]:
        """Each truncation that removed records: ``(from_offset, records_removed, at)``."""
        p = self._partitions.get(tp)
        return list(p.truncations) if p else []

    def log_end_offset(self, tp: TopicPartition) -> int:
        p = self._partitions.get(tp)
        return p.log_end if p else 0

    # --- consumer side -----------------------------------------------------------------

    def read_by(self, tp: TopicPartition, group: str) -> IntervalSet:
        """The offsets of ``tp`` group ``group`` read at least once (a copy)."""
        p = self._partitions.get(tp)
        once = p.read_once.get(group) if p else None
        return once.copy() if once is not None else IntervalSet()

    def extra_reads(self, tp: TopicPartition, group: str) -> tuple[int, int]:
        """(reads of offsets already read, reads of offsets later truncated) by ``group``."""
        p = self._partitions.get(tp)
        if p is None:
            return 0, 0
        return p.extra_reads.get(group, 0), p.read_then_truncated.get(group, 0)

    def consumed(
        self, tp: TopicPartition, group: str, first_offset: int, count: int, at: float
    ) -> None:
        """Consumer group ``group`` was handed offsets ``[first_offset, first_offset + count)``."""
        _check_range(tp, "consumed", "first_offset", first_offset, count)
        _check_time(tp, "consumed", at)
        p = self._p(tp)
        once = p.read_once.get(group)
        if once is None:
            once = p.read_once[group] = IntervalSet()
            p.read_twice[group] = IntervalSet()
        stop = first_offset + count
        again = once.clip(first_offset, stop)
        if again:
            twice = p.read_twice[group]
            for a, b in again:
                twice.add(a, b)
            p.extra_reads[group] += len(again)
        once.add(first_offset, stop)


# --- the checker -----------------------------------------------------------------------


def _total(sets: Mapping[object, IntervalSet]) -> int:
    return sum(len(s) for s in sets.values())


@dataclass(frozen=True, slots=True)
class PartitionDelivery:
    """The checker's findings for one partition; ranges are kept for inspection.

    Sequence ranges are per producer id; offset ranges are offsets of the final log
    (``lost_offsets``: the offsets the producers were told their lost records had).
    """

    tp: TopicPartition
    sent: int
    acknowledged: int
    log_records: int
    log_end_offset: int
    truncated: int
    lost: Mapping[int, IntervalSet]
    lost_offsets: IntervalSet
    written_twice: int
    written_twice_seqs: Mapping[int, IntervalSet]
    reordered: Mapping[int, IntervalSet]
    consumed_twice: Mapping[str, int]
    consumed_twice_offsets: Mapping[str, IntervalSet]
    consumed_never: Mapping[str, IntervalSet]
    skipped: Mapping[str, IntervalSet]
    consumed_then_truncated: Mapping[str, int]
    failed: Mapping[str, int]
    failed_but_written: int

    def counts(self) -> dict[str, int]:
        """Every outcome as a number (what one row of :meth:`DeliveryReport.frame` sums)."""
        row = {
            "sent": self.sent,
            "acknowledged": self.acknowledged,
            "log_records": self.log_records,
            "truncated": self.truncated,
            "lost": _total(self.lost),
            "written_twice": self.written_twice,
            "reordered": _total(self.reordered),
            "consumed_twice": sum(self.consumed_twice.values()),
            "consumed_never": _total(self.consumed_never),
            "skipped": _total(self.skipped),
            "consumed_then_truncated": sum(self.consumed_then_truncated.values()),
            "failed": sum(self.failed.values()),
            "failed_but_written": self.failed_but_written,
        }
        for error, n in sorted(self.failed.items()):
            row[f"failed_{error}"] = n
        return row

    @property
    def ok(self) -> bool:
        return not (self.lost_count or self.written_twice or _total(self.reordered))

    @property
    def lost_count(self) -> int:
        return _total(self.lost)


_ORDER = [
    "sent",
    "acknowledged",
    "log_records",
    "truncated",
    "lost",
    "written_twice",
    "reordered",
    "consumed_twice",
    "consumed_never",
    "skipped",
    "consumed_then_truncated",
    "failed",
    "failed_but_written",
]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """The checker's findings, per partition; :meth:`frame` sums them per topic."""

    partitions: tuple[PartitionDelivery, ...]

    def partition(self, tp: TopicPartition) -> PartitionDelivery:
        for p in self.partitions:
            if p.tp == tp:
                return p
        raise KeyError(f"no delivery history for partition {tp}")

    def topic(self, topic: str) -> dict[str, int]:
        """The counts of one topic, summed over its partitions."""
        rows = [p.counts() for p in self.partitions if p.tp.topic == topic]
        if not rows:
            raise KeyError(f"no delivery history for topic {topic!r}")
        total: Counter[str] = Counter()
        for row in rows:
            total.update(row)
        return {k: total.get(k, 0) for k in self._columns(rows)}

    @staticmethod
    def _columns(rows: Iterable[Mapping[str, int]]) -> list[str]:
        errors = sorted(
            {
                k
                for row in rows
                for k in row
                if k.startswith("failed_") and k != "failed_but_written"
            }
        )
        return _ORDER + errors

    @property
    def ok(self) -> bool:
        """Nothing acknowledged was lost, nothing written twice, nothing reordered."""
        return all(p.ok for p in self.partitions)

    def frame(self) -> pd.DataFrame:
        """One row per topic (the index), one column per outcome."""
        import pandas as pd

        rows = [p.counts() for p in self.partitions]
        columns = self._columns(rows)
        topics = sorted({p.tp.topic for p in self.partitions})
        data = [self.topic(t) for t in topics]
        frame = pd.DataFrame(data, index=pd.Index(topics, name="topic"), columns=columns)
        return frame.fillna(0).astype("int64")

    def partition_frame(self) -> pd.DataFrame:
        """One row per partition (topic, partition index), one column per outcome."""
        import pandas as pd

        rows = [p.counts() for p in self.partitions]
        index = pd.MultiIndex.from_tuples(
            [(p.tp.topic, p.tp.partition) for p in self.partitions], names=["topic", "partition"]
        )
        frame = pd.DataFrame(rows, index=index, columns=self._columns(rows))
        return frame.fillna(0).astype("int64")

    def __repr__(self) -> str:
        if not self.partitions:
            return "DeliveryReport(no partitions recorded)"
        verdict = "ok" if self.ok else "NOT OK"
        return f"DeliveryReport ({verdict})\n{self.frame().to_string()}"


def _written_twice(entries: list[tuple[int, int]]) -> tuple[int, IntervalSet]:
    """Extra copies and the sequences held more than once, from ``(first, stop)`` runs."""
    events: list[tuple[int, int]] = []
    for a, b in entries:
        events.append((a, 1))
        events.append((b, -1))
    events.sort()
    extra = 0
    twice = IntervalSet()
    depth = 0
    prev = 0
    for pos, delta in events:
        if depth >= 2 and pos > prev:
            twice.add(prev, pos)
        if depth >= 1 and pos > prev:
            extra += (depth - 1) * (pos - prev)
        depth += delta
        prev = pos
    return extra, twice


def _check_partition(
    tp: TopicPartition, p: _PartitionHistory, groups: Iterable[str]
) -> PartitionDelivery:
    # Sequences each producer has in the final log, in offset order.
    runs: dict[int, list[tuple[int, int]]] = {}
    log_offsets = IntervalSet()
    for e in p.log:
        runs.setdefault(e.producer_id, []).append((e.first_seq, e.first_seq + e.count))
        log_offsets.add(e.base_offset, e.stop_offset)

    in_log: dict[int, IntervalSet] = {}
    written_twice = 0
    written_twice_seqs: dict[int, IntervalSet] = {}
    reordered: dict[int, IntervalSet] = {}
    for producer, producer_runs in runs.items():
        seen = IntervalSet()
        late = IntervalSet()
        highest = -1  # one past the highest sequence seen so far
        for a, b in producer_runs:
            if a >= highest:  # the usual case: past everything seen, so in order and new
                seen.add(a, b)
                highest = b
                continue
            first_copies = IntervalSet.span(a, b) - seen.clip(a, b)
            for x, y in first_copies.clip(a, min(b, highest)):
                late.add(x, y)
            seen.add(a, b)
            highest = max(highest, b)
        in_log[producer] = seen
        if late:
            reordered[producer] = late
        extra, twice = _written_twice(producer_runs)
        if extra:
            written_twice += extra
            written_twice_seqs[producer] = twice

    acknowledged = 0
    lost: dict[int, IntervalSet] = {}
    lost_offsets = IntervalSet()
    for producer, acks in p.acked.items():
        acked = IntervalSet()
        for ack in acks:
            acked.add(ack.first_seq, ack.first_seq + ack.count)
        acknowledged += len(acked)
        missing = acked - in_log.get(producer, IntervalSet())
        if not missing:
            continue
        lost[producer] = missing
        for ack in acks:
            if ack.base_offset < 0:
                continue  # acks=0: the producer was never told an offset
            for a, b in missing.clip(ack.first_seq, ack.first_seq + ack.count):
                shift = ack.base_offset - ack.first_seq
                lost_offsets.add(a + shift, b + shift)

    failed_but_written = sum(
        len(seqs & in_log[producer]) for producer, seqs in p.failed.items() if producer in in_log
    )

    consumed_never: dict[str, IntervalSet] = {}
    skipped: dict[str, IntervalSet] = {}
    for group in groups:
        once = p.read_once.get(group, IntervalSet())
        never = log_offsets - once
        if never:
            consumed_never[group] = never
            position = once.stop or 0
            hole = never.clip(0, position)
            if hole:
                skipped[group] = hole

    return PartitionDelivery(
        tp=tp,
        sent=_total(p.sent),
        acknowledged=acknowledged,
        log_records=len(log_offsets),
        log_end_offset=p.log_end,
        truncated=sum(n for _, n, _ in p.truncations),
        lost=lost,
        lost_offsets=lost_offsets,
        written_twice=written_twice,
        written_twice_seqs=written_twice_seqs,
        reordered=reordered,
        consumed_twice={g: n for g, n in p.extra_reads.items() if n},
        # copies: the report must not change if the history goes on recording
        consumed_twice_offsets={g: s.copy() for g, s in p.read_twice.items() if s},
        consumed_never=consumed_never,
        skipped=skipped,
        consumed_then_truncated={g: n for g, n in p.read_then_truncated.items() if n},
        failed=dict(p.failed_by_error),
        failed_but_written=failed_but_written,
    )


def check(history: DeliveryHistory) -> DeliveryReport:
    """Jepsen's Kafka checks on ranges, per partition (:meth:`DeliveryReport.frame`: per topic).

    A group is checked for ``consumed_never`` on every partition of each topic it read
    from: a partition it never fetched counts in full.
    """
    groups_by_topic: dict[str, set[str]] = {}
    for tp, p in history._partitions.items():
        groups_by_topic.setdefault(tp.topic, set()).update(p.read_once)
    return DeliveryReport(
        tuple(
            _check_partition(tp, history._partitions[tp], sorted(groups_by_topic[tp.topic]))
            for tp in history.partitions
        )
    )
