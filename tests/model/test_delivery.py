"""The delivery checker: exact small cases of Kafka's failure modes, and a per-message oracle."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.model.delivery import DeliveryHistory, IntervalSet, check
from simkafka.model.types import TopicPartition

TP = TopicPartition("orders", 0)


def test_acks_1_leader_truncated_by_unclean_election_loses_what_only_it_held():
    h = DeliveryHistory()
    # producer 1 wrote offsets 0..99 (replicated); producer 7's batch of 50, sequences
    # 1000..1049, landed at offsets 100..149 and was acknowledged with acks=1
    h.appended(TP, 1, 0, 100, base_offset=0, leader_epoch=0, at=0.0)
    h.acknowledged(TP, 1, 0, 100, base_offset=0, at=0.0)
    h.sent(TP, 7, 1000, 50, at=1.0)
    h.appended(TP, 7, 1000, 50, base_offset=100, leader_epoch=0, at=1.0)
    h.acknowledged(TP, 7, 1000, 50, base_offset=100, at=1.0)
    # the only follower had offsets up to 120 when it was elected uncleanly
    h.truncated(TP, 120, at=2.0)
    # the new leader appends producer 8's records over the lost offsets
    h.appended(TP, 8, 0, 40, base_offset=120, leader_epoch=1, at=3.0)
    h.acknowledged(TP, 8, 0, 40, base_offset=120, at=3.0)

    p = check(h).partition(TP)
    assert p.lost == {7: IntervalSet([(1020, 1050)])}
    assert p.lost_offsets == IntervalSet([(120, 150)])
    assert p.lost_count == 30
    assert p.truncated == 30
    assert p.acknowledged == 190
    assert p.log_records == 160 and p.log_end_offset == 160
    assert not p.ok
    assert check(h).frame().loc["orders", "lost"] == 30


def test_non_idempotent_retry_appended_twice_is_written_twice():
    h = DeliveryHistory()
    h.sent(TP, 3, 0, 10, at=0.0)
    h.appended(TP, 3, 0, 10, base_offset=0, leader_epoch=0, at=0.0)
    # the response was lost; the producer retries and the leader writes the batch again
    h.sent(TP, 3, 0, 10, at=1.0)
    h.appended(TP, 3, 0, 10, base_offset=10, leader_epoch=0, at=1.0)
    h.acknowledged(TP, 3, 0, 10, base_offset=10, at=1.0)

    report = check(h)
    p = report.partition(TP)
    assert p.written_twice == 10
    assert p.written_twice_seqs == {3: IntervalSet([(0, 10)])}
    assert p.lost == {} and p.reordered == {}
    assert p.sent == 10  # distinct records, not attempts
    assert not report.ok
    assert report.frame().loc["orders", "written_twice"] == 10


def test_idempotent_retry_duplicates_nothing():
    h = DeliveryHistory()
    h.sent(TP, 3, 0, 10, at=0.0)
    h.appended(TP, 3, 0, 10, base_offset=0, leader_epoch=0, at=0.0)
    # the retry carries the same sequences: the leader recognises it and answers with the
    # first attempt's offset, so it is not appended again
    h.sent(TP, 3, 0, 10, at=1.0)
    h.acknowledged(TP, 3, 0, 10, base_offset=0, at=1.0)

    report = check(h)
    assert report.partition(TP).written_twice == 0
    assert report.ok
    assert report.frame().loc["orders"].to_dict() == {
        "sent": 10,
        "acknowledged": 10,
        "log_records": 10,
        "truncated": 0,
        "lost": 0,
        "written_twice": 0,
        "reordered": 0,
        "consumed_twice": 0,
        "consumed_never": 0,
        "skipped": 0,
        "consumed_then_truncated": 0,
        "failed": 0,
        "failed_but_written": 0,
    }


def test_consumer_rereads_after_rebalance():
    h = DeliveryHistory()
    h.appended(TP, 1, 0, 150, base_offset=0, leader_epoch=0, at=0.0)
    h.consumed(TP, "billing", 0, 100, at=1.0)
    # committed 50 before the member died; its successor resumes from the commit
    h.consumed(TP, "billing", 50, 100, at=2.0)

    p = check(h).partition(TP)
    assert p.consumed_twice == {"billing": 50}
    assert p.consumed_twice_offsets == {"billing": IntervalSet([(50, 100)])}
    assert p.consumed_never == {}
    assert check(h).ok  # reading twice is at-least-once, not a broken log


def test_retried_batch_lands_after_a_later_one_without_idempotence():
    h = DeliveryHistory()
    # max.in.flight.requests.per.connection=5, enable.idempotence=false: batch A (0..9)
    # fails with NOT_LEADER_OR_FOLLOWER, batch B (10..19) is written, A's retry after it
    h.sent(TP, 5, 0, 10, at=0.0)
    h.sent(TP, 5, 10, 10, at=0.0)
    h.appended(TP, 5, 10, 10, base_offset=0, leader_epoch=0, at=0.1)
    h.appended(TP, 5, 0, 10, base_offset=10, leader_epoch=0, at=0.2)
    h.acknowledged(TP, 5, 10, 10, base_offset=0, at=0.1)
    h.acknowledged(TP, 5, 0, 10, base_offset=10, at=0.2)

    report = check(h)
    p = report.partition(TP)
    assert p.reordered == {5: IntervalSet([(0, 10)])}
    assert p.written_twice == 0 and p.lost == {}
    assert not report.ok
    assert report.frame().loc["orders", "reordered"] == 10


def test_in_order_producers_interleaved_are_not_reordered():
    h = DeliveryHistory()
    h.appended(TP, 1, 0, 5, base_offset=0, leader_epoch=0, at=0.0)
    h.appended(TP, 2, 0, 5, base_offset=5, leader_epoch=0, at=0.0)
    h.appended(TP, 1, 5, 5, base_offset=10, leader_epoch=0, at=0.0)
    assert check(h).partition(TP).reordered == {}


def test_consumed_never_is_per_group_and_covers_partitions_a_group_never_read():
    h = DeliveryHistory()
    tp1 = TopicPartition("orders", 1)
    h.appended(TP, 1, 0, 100, base_offset=0, leader_epoch=0, at=0.0)
    h.appended(tp1, 1, 0, 30, base_offset=0, leader_epoch=0, at=0.0)
    h.consumed(TP, "a", 0, 100, at=1.0)
    h.consumed(tp1, "a", 0, 30, at=1.0)
    # group b skipped 40..59 (an offset reset) and stopped at 80; it never read partition 1
    h.consumed(TP, "b", 0, 40, at=1.0)
    h.consumed(TP, "b", 60, 20, at=1.0)

    report = check(h)
    p0, p1 = report.partition(TP), report.partition(tp1)
    assert p0.consumed_never == {"b": IntervalSet([(40, 60), (80, 100)])}
    assert p0.skipped == {"b": IntervalSet([(40, 60)])}
    assert p1.consumed_never == {"b": IntervalSet([(0, 30)])}
    assert p1.skipped == {}
    assert report.frame().loc["orders", "consumed_never"] == 70
    assert report.frame().loc["orders", "skipped"] == 20


def test_failed_counted_by_error_and_failed_but_written():
    h = DeliveryHistory()
    h.failed(TP, 2, 0, 10, "NOT_ENOUGH_REPLICAS", at=1.0)
    # a delivery timeout whose request had in fact reached the leader
    h.appended(TP, 2, 10, 5, base_offset=0, leader_epoch=0, at=1.5)
    h.failed(TP, 2, 10, 5, "DELIVERY_TIMEOUT", at=2.0)
    h.appended(TopicPartition("audit", 0), 1, 0, 1, base_offset=0, leader_epoch=0, at=0.0)

    report = check(h)
    assert report.partition(TP).failed == {"NOT_ENOUGH_REPLICAS": 10, "DELIVERY_TIMEOUT": 5}
    frame = report.frame()
    assert list(frame.index) == ["audit", "orders"]
    assert frame.loc["orders", "failed"] == 15
    assert frame.loc["orders", "failed_NOT_ENOUGH_REPLICAS"] == 10
    assert frame.loc["orders", "failed_DELIVERY_TIMEOUT"] == 5
    assert frame.loc["orders", "failed_but_written"] == 5
    assert frame.loc["audit", "failed_DELIVERY_TIMEOUT"] == 0
    assert report.ok  # failures the producer was told about are not losses
    assert "orders" in repr(report) and "failed_DELIVERY_TIMEOUT" in repr(report)


def test_truncation_cuts_inside_a_batch_and_at_or_past_the_end_is_a_no_op():
    h = DeliveryHistory()
    h.appended(TP, 1, 0, 10, base_offset=0, leader_epoch=0, at=0.0)
    h.appended(TP, 1, 10, 10, base_offset=10, leader_epoch=0, at=0.0)
    h.truncated(TP, 25, at=1.0)
    h.truncated(TP, 20, at=1.0)
    assert h.log_end_offset(TP) == 20
    h.truncated(TP, 5, at=2.0)
    assert [(e.base_offset, e.stop_offset, e.first_seq) for e in h.log(TP)] == [(0, 5, 0)]
    assert h.log_end_offset(TP) == 5
    assert check(h).partition(TP).truncated == 15
    assert h.truncations(TP) == [(5, 15, 2.0)]  # the no-ops are not truncations


def test_report_is_a_snapshot():
    h = DeliveryHistory()
    h.appended(TP, 1, 0, 10, base_offset=0, leader_epoch=0, at=0.0)
    h.consumed(TP, "g", 0, 10, at=1.0)
    h.consumed(TP, "g", 0, 5, at=2.0)
    report = check(h)
    h.consumed(TP, "g", 5, 5, at=3.0)
    assert report.partition(TP).consumed_twice_offsets == {"g": IntervalSet([(0, 5)])}
    assert check(h).partition(TP).consumed_twice_offsets == {"g": IntervalSet([(0, 10)])}


def test_bad_input_names_the_partition_and_field():
    h = DeliveryHistory()
    h.appended(TP, 1, 0, 10, base_offset=0, leader_epoch=0, at=0.0)
    with pytest.raises(
        ValueError, match=r"appended\(orders-0\): base_offset 5 is below the log end offset 10"
    ):
        h.appended(TP, 1, 10, 10, base_offset=5, leader_epoch=0, at=0.0)
    with pytest.raises(ValueError, match=r"sent\(orders-0\): count must be > 0"):
        h.sent(TP, 1, 0, 0, at=0.0)
    with pytest.raises(ValueError, match=r"consumed\(orders-0\): first_offset must be >= 0"):
        h.consumed(TP, "g", -1, 3, at=0.0)
    with pytest.raises(ValueError, match=r"failed\(orders-0\): error must name"):
        h.failed(TP, 1, 0, 3, "", at=0.0)
    with pytest.raises(ValueError, match="finite"):
        h.truncated(TP, 0, at=float("nan"))
    with pytest.raises(KeyError, match="nope"):
        check(h).topic("nope")


def test_empty_history():
    report = check(DeliveryHistory())
    assert report.ok
    assert report.frame().empty
    assert "no partitions" in repr(report)


# --- property: the range checker equals a set-of-messages checker --------------------

PARTS = [TopicPartition("t", 0), TopicPartition("t", 1)]
seq = st.integers(0, 30)
count = st.integers(1, 8)
op = st.one_of(
    st.tuples(st.just("sent"), st.sampled_from(PARTS), st.integers(1, 2), seq, count),
    st.tuples(
        st.just("append"), st.sampled_from(PARTS), st.integers(1, 2), seq, count, st.integers(0, 2)
    ),
    st.tuples(
        st.just("ack"), st.sampled_from(PARTS), st.integers(1, 2), seq, count, st.integers(0, 40)
    ),
    st.tuples(
        st.just("fail"),
        st.sampled_from(PARTS),
        st.integers(1, 2),
        seq,
        count,
        st.sampled_from(["DELIVERY_TIMEOUT", "NOT_ENOUGH_REPLICAS"]),
    ),
    st.tuples(st.just("truncate"), st.sampled_from(PARTS), st.integers(0, 60)),
    st.tuples(
        st.just("consume"), st.sampled_from(PARTS), st.sampled_from("ab"), st.integers(0, 40), count
    ),
)


class MessageOracle:
    """The same history kept one message at a time."""

    def __init__(self) -> None:
        self.log: dict[TopicPartition, dict[int, tuple[int, int]]] = {tp: {} for tp in PARTS}
        self.end = dict.fromkeys(PARTS, 0)
        self.sent = {tp: set() for tp in PARTS}
        self.acks: dict[TopicPartition, list[tuple[int, int, int]]] = {tp: [] for tp in PARTS}
        self.failed = {tp: Counter() for tp in PARTS}
        self.failed_msgs = {tp: set() for tp in PARTS}
        # reads of the records still at their offsets, extra reads as they happened, and
        # offsets read before a truncation took them
        self.reads = {tp: {"a": Counter(), "b": Counter()} for tp in PARTS}
        self.extra = {tp: Counter() for tp in PARTS}
        self.read_gone = {tp: Counter() for tp in PARTS}
        self.truncated = Counter()


def play(ops) -> tuple[DeliveryHistory, MessageOracle]:
    h, o = DeliveryHistory(), MessageOracle()
    for t, (kind, tp, *args) in enumerate(ops):
        if kind == "sent":
            pid, s, n = args
            h.sent(tp, pid, s, n, at=t)
            o.sent[tp] |= {(pid, s + i) for i in range(n)}
        elif kind == "append":
            pid, s, n, gap = args
            base = o.end[tp] + gap
            h.appended(tp, pid, s, n, base_offset=base, leader_epoch=0, at=t)
            for i in range(n):
                o.log[tp][base + i] = (pid, s + i)
            o.end[tp] = base + n
        elif kind == "ack":
            pid, s, n, base = args
            h.acknowledged(tp, pid, s, n, base_offset=base, at=t)
            o.acks[tp] += [(pid, s + i, base + i) for i in range(n)]
        elif kind == "fail":
            pid, s, n, error = args
            h.failed(tp, pid, s, n, error, at=t)
            o.failed[tp][error] += n
            o.failed_msgs[tp] |= {(pid, s + i) for i in range(n)}
        elif kind == "truncate":
            (frm,) = args
            h.truncated(tp, frm, at=t)
            gone = [off for off in o.log[tp] if off >= frm]
            for off in gone:
                del o.log[tp][off]
            o.truncated[tp] += len(gone)
            if frm < o.end[tp]:  # a truncation at or past the log end changes nothing
                for g, reads in o.reads[tp].items():
                    lost_reads = [x for x in reads if x >= frm]
                    o.read_gone[tp][g] += len(lost_reads)
                    for x in lost_reads:
                        del reads[x]
            o.end[tp] = min(o.end[tp], frm)
        else:
            group, first, n = args
            h.consumed(tp, group, first, n, at=t)
            o.extra[tp][group] += sum(1 for x in range(first, first + n) if o.reads[tp][group][x])
            o.reads[tp][group].update(range(first, first + n))
    return h, o


def spread(pairs) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for pid, s in pairs:
        out.setdefault(pid, set()).add(s)
    return out


def as_sets(ranges: dict) -> dict:
    return {k: {i for a, b in v for i in range(a, b)} for k, v in ranges.items()}


@settings(max_examples=300, deadline=None)
@given(st.lists(op, max_size=25))
def test_range_checker_equals_per_message_oracle(ops):
    h, o = play(ops)
    report = check(h)
    # a group that read the topic is its reader even if every record it read was later
    # truncated away: what was written after that and it never read is consumed never
    groups = {g for tp in PARTS for g, c in o.reads[tp].items() if c or o.read_gone[tp][g]}
    for tp in PARTS:
        if tp not in h.partitions:
            continue
        p = report.partition(tp)
        log = o.log[tp]
        held = set(log.values())
        acked = {(pid, s) for pid, s, _ in o.acks[tp]}
        lost = acked - held
        assert p.sent == len(o.sent[tp])
        assert p.acknowledged == len(acked)
        assert p.log_records == len(log)
        assert p.log_end_offset == o.end[tp]
        assert p.truncated == o.truncated[tp]
        assert as_sets(p.lost) == spread(lost)
        assert {i for a, b in p.lost_offsets for i in range(a, b)} == {
            off for pid, s, off in o.acks[tp] if (pid, s) in lost
        }
        assert p.written_twice == len(log) - len(held)
        copies = Counter(log.values())
        assert as_sets(p.written_twice_seqs) == spread(m for m, c in copies.items() if c > 1)
        # reordered: a first copy that comes after a higher sequence of its producer
        seen: set[tuple[int, int]] = set()
        highest: dict[int, int] = {}
        late = []
        for off in sorted(log):
            pid, s = log[off]
            if (pid, s) not in seen and s < highest.get(pid, -1):
                late.append((pid, s))
            seen.add((pid, s))
            highest[pid] = max(highest.get(pid, -1), s + 1)
        assert as_sets(p.reordered) == spread(late)
        for g in "ab":
            reads = o.reads[tp][g]
            assert p.consumed_twice.get(g, 0) == o.extra[tp][g]
            assert p.consumed_then_truncated.get(g, 0) == o.read_gone[tp][g]
            assert as_sets(p.consumed_twice_offsets).get(g, set()) == {
                x for x, c in reads.items() if c > 1
            }
            never = set(log) - set(reads) if g in groups else set()
            assert as_sets(p.consumed_never).get(g, set()) == never
            position = max(reads) + 1 if reads else 0
            assert as_sets(p.skipped).get(g, set()) == {x for x in never if x < position}
        assert p.failed == {e: n for e, n in o.failed[tp].items() if n}
        assert p.failed_but_written == len(o.failed_msgs[tp] & held)
        assert p.ok == (not lost and len(log) == len(held) and not late)


def test_offsets_read_then_truncated_are_not_read_twice_when_new_records_take_them():
    h = DeliveryHistory()
    h.appended(TP, 1, 0, 100, base_offset=0, leader_epoch=0, at=0.0)
    h.consumed(TP, "billing", 0, 100, at=1.0)
    # a leader with only 60 of them took over; the producer's next records land at 60..
    h.truncated(TP, 60, at=2.0)
    h.appended(TP, 1, 100, 30, base_offset=60, leader_epoch=1, at=3.0)
    h.consumed(TP, "billing", 60, 30, at=4.0)
    p = check(h).partition(TP)
    assert p.consumed_then_truncated == {"billing": 40}
    assert p.consumed_twice == {}
    assert p.consumed_never == {}
