"""One replica's log inside the simulator: offsets, byte positions and ages, no records.

The simulator needs from a log what a broker needs to answer requests: the log end
offset, the byte position of any offset (to size a fetch), when that data was written
(to decide whether a reader hits the page cache or the disk) and when its messages were
created (for end-to-end latency). Like Kafka's sparse ``OffsetIndex``, an entry is kept
only every ``index_interval`` bytes; positions between two entries are interpolated,
which is exact for offsets and within one index span for bytes. Memory therefore grows
with bytes written / ``index_interval``, never with message count.

The most recent appends (``TAIL_APPENDS``) are also kept one entry per append: readers
that keep up read there, and their end-to-end latency needs each batch's own creation
times -- the built-in partitioner sends bursts, which a linear interpolation over a
64 KiB span would smear into tens of milliseconds of false latency. An append keeps the
creation times of its first and last message, not their mean: a batch closed by
``linger.ms`` holds messages that waited anywhere from the whole linger to none of it,
and the end-to-end latency must show that spread as the produce latency does.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

TAIL_APPENDS = 2048  # dense per-append entries kept for the newest appends (amortised)


@dataclass(frozen=True, slots=True)
class LogRead:
    """A read of ``[start_offset, end_offset)`` -- whole messages, ``bytes`` on the wire."""

    start_offset: int
    end_offset: int
    bytes: int
    # broker-wide bytes written when the *first* byte read was appended (page-cache age)
    written_mark: int
    first_created: float  # creation time of the first message read
    last_created: float  # ... and of the last

    @property
    def messages(self) -> int:
        return self.end_offset - self.start_offset


class ReplicaLog:
    """Offsets and positions of one partition replica's log on one broker."""

    __slots__ = (
        "index_interval",
        "log_start_offset",
        "log_end_offset",
        "end_position",
        "_offsets",
        "_positions",
        "_marks",
        "_created",
        "_last_created",
        "_last_mark",
        "_tail_start",
        "_tail_position",
        "_tail_mark",
        "_tail_created",
        "_tail_created_last",
        "_empty",
    )

    def __init__(self, index_interval: int = 65536) -> None:
        self.index_interval = index_interval
        self.log_start_offset = 0
        self.log_end_offset = 0
        self.end_position = 0
        self._offsets = array("q", [0])
        self._positions = array("q", [0])
        self._marks = array("q", [0])
        self._created = array("d", [0.0])
        self._last_created = 0.0
        self._last_mark = 0
        # one entry per recent append: start offset, start position, mark, creation times
        # of its first and last message
        self._tail_start = array("q")
        self._tail_position = array("q")
        self._tail_mark = array("q")
        self._tail_created = array("d")
        self._tail_created_last = array("d")
        # the last empty read returned (a caught-up reader asks for the log end over and
        # over): handed out again while nothing it says has changed
        self._empty = LogRead(0, 0, 0, 0, 0.0, 0.0)

    def append(
        self,
        messages: int,
        nbytes: int,
        *,
        written_mark: int,
        first_created: float,
        last_created: float,
    ) -> None:
        """Append ``messages`` messages taking ``nbytes``; ``written_mark`` is the broker's
        cumulative bytes written *before* this append; the messages were created at the
        producer evenly from ``first_created`` to ``last_created``."""
        if messages <= 0:
            return
        if self.end_position - self._positions[-1] >= self.index_interval:
            # close the current span with an entry at the current end
            self._offsets.append(self.log_end_offset)
            self._positions.append(self.end_position)
            self._marks.append(self._last_mark)
            self._created.append(self._last_created)
        if len(self._tail_start) >= 2 * TAIL_APPENDS:
            del (
                self._tail_start[:TAIL_APPENDS],
                self._tail_position[:TAIL_APPENDS],
                self._tail_mark[:TAIL_APPENDS],
                self._tail_created[:TAIL_APPENDS],
                self._tail_created_last[:TAIL_APPENDS],
            )
        self._tail_start.append(self.log_end_offset)
        self._tail_position.append(self.end_position)
        self._tail_mark.append(written_mark)
        self._tail_created.append(first_created)
        self._tail_created_last.append(last_created)
        self.log_end_offset += messages
        self.end_position += nbytes
        self._last_mark = written_mark + nbytes
        self._last_created = last_created

    def _locate(self, offset: int) -> tuple[int, float]:
        """(byte position, creation time) of ``offset``: exact per append in the dense
        tail, interpolated within its index span before it."""
        tail = self._tail_start
        if tail and offset >= tail[0]:
            j = bisect_right(tail, offset) - 1
            start, position = tail[j], self._tail_position[j]
            if j + 1 < len(tail):
                end, end_position = tail[j + 1], self._tail_position[j + 1]
            else:
                end, end_position = self.log_end_offset, self.end_position
            first = self._tail_created[j]
            if end <= start:
                return position, first
            # messages of one append were created evenly over [first, last]
            step = (self._tail_created_last[j] - first) / max(1, end - start - 1)
            return position + (offset - start) * (end_position - position) // (
                end - start
            ), first + step * min(offset - start, end - start - 1)
        i = bisect_right(self._offsets, offset) - 1
        lo_off, lo_pos = self._offsets[i], self._positions[i]
        if i + 1 < len(self._offsets):
            hi_off, hi_pos, hi_created = (
                self._offsets[i + 1],
                self._positions[i + 1],
                self._created[i + 1],
            )
        else:
            hi_off, hi_pos, hi_created = self.log_end_offset, self.end_position, self._last_created
        if hi_off == lo_off:
            return lo_pos, hi_created
        frac = (offset - lo_off) / (hi_off - lo_off)
        created = self._created[i] + frac * (hi_created - self._created[i])
        return int(lo_pos + frac * (hi_pos - lo_pos)), created

    def position_of(self, offset: int) -> int:
        if offset >= self.log_end_offset:
            return self.end_position
        return self._locate(offset)[0]

    def written_mark_of(self, offset: int) -> int:
        """Broker-wide bytes written when ``offset`` was appended (approximate in its span)."""
        tail = self._tail_start
        if tail and offset >= tail[0]:
            return self._tail_mark[bisect_right(tail, offset) - 1]
        i = bisect_right(self._offsets, offset) - 1
        return self._marks[i]

    def read(self, offset: int, max_bytes: int, upto: int | None = None) -> LogRead:
        """Messages from ``offset`` up to ``upto`` (default: the log end) within ``max_bytes``.

        As in Kafka, at least one message is returned when any is available, even if it is
        larger than ``max_bytes`` (KIP-74), so a consumer can always make progress.
        """
        end = self.log_end_offset if upto is None else min(upto, self.log_end_offset)
        offset = max(offset, self.log_start_offset)
        if offset >= end:
            empty = self._empty
            if (
                empty.start_offset != offset
                or empty.written_mark != self._last_mark
                or empty.first_created != self._last_created
            ):
                empty = self._empty = LogRead(
                    offset, offset, 0, self._last_mark, self._last_created, self._last_created
                )
            return empty
        start_pos, start_created = self._locate(offset)
        end_pos, _ = (
            self._locate(end)
            if end < self.log_end_offset
            else (self.end_position, self._last_created)
        )
        if end_pos - start_pos > max_bytes:
            per_message = (end_pos - start_pos) / (end - offset)
            take = max(1, int(max_bytes / per_message))
            end = offset + take
            end_pos, _ = self._locate(end)
        return LogRead(
            offset,
            end,
            end_pos - start_pos,
            self.written_mark_of(offset),
            start_created,
            self._locate(end - 1)[1],
        )

    def truncate_to(self, offset: int) -> None:
        """Drop everything at and after ``offset`` (a follower after a leader change)."""
        if offset >= self.log_end_offset:
            return
        position, _ = self._locate(offset)
        last_kept = self._locate(offset - 1)[1] if offset > self.log_start_offset else 0.0
        keep = bisect_right(self._offsets, offset)
        del self._offsets[keep:], self._positions[keep:], self._marks[keep:], self._created[keep:]
        # appends that started before the cut survive (in part), later ones go
        cut = bisect_left(self._tail_start, offset)
        del (
            self._tail_start[cut:],
            self._tail_position[cut:],
            self._tail_mark[cut:],
            self._tail_created[cut:],
            self._tail_created_last[cut:],
        )
        if cut:  # an append cut in two keeps its survivors' spread of creation times
            self._tail_created_last[-1] = last_kept
        self.log_end_offset = offset
        self.end_position = position
        self._last_created = last_kept

    def delete_before(self, offset: int) -> None:
        """Advance the log start offset (retention); index entries before it are dropped."""
        offset = min(offset, self.log_end_offset)
        if offset <= self.log_start_offset:
            return
        self.log_start_offset = offset
        first = bisect_right(self._offsets, offset) - 1
        if first > 0:
            del (
                self._offsets[:first],
                self._positions[:first],
                self._marks[:first],
                self._created[:first],
            )

    @property
    def size_bytes(self) -> int:
        return self.end_position - self.position_of(self.log_start_offset)

    def __repr__(self) -> str:
        return (
            f"<ReplicaLog offsets [{self.log_start_offset}, {self.log_end_offset}) "
            f"{self.end_position} bytes, {len(self._offsets)} index entries>"
        )
