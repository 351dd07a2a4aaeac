"""Flow-level network: max-min fair rates, exact completion times, partitions, counters.

Two independent oracles, both in exact rational arithmetic:
* ``reference_maxmin`` -- progressive filling as Bertsekas & Gallager (*Data Networks*,
  section 6.5.2) define it: raise every unfrozen flow's rate by the same amount until a
  link saturates, freeze the flows crossing it, repeat. No heap, no components.
* ``reference_run`` -- a global fluid simulation that recomputes every rate from scratch
  at every arrival, drain and capacity change, and jumps to the next such instant.

The network under test must agree with them to 1e-9 relative, on random instances.
"""

from __future__ import annotations

from fractions import Fraction
from unittest import mock

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.sim.network import Network, TransferAborted

# ----------------------------------------------------------------------------- oracles


def reference_maxmin(caps: list[Fraction], flow_links: list[list[int]]) -> list[Fraction]:
    """Textbook progressive filling, exact."""
    n = len(flow_links)
    rates = [Fraction(0)] * n
    frozen = [False] * n
    while not all(frozen):
        best = None
        for link, cap in enumerate(caps):
            users = [f for f in range(n) if link in flow_links[f]]
            unfrozen = [f for f in users if not frozen[f]]
            if not unfrozen:
                continue
            slack = cap - sum(rates[f] for f in users)
            inc = slack / len(unfrozen)
            best = inc if best is None or inc < best else best
        assert best is not None
        for f in range(n):
            if not frozen[f]:
                rates[f] += best
        for link, cap in enumerate(caps):
            users = [f for f in range(n) if link in flow_links[f]]
            if users and sum(rates[f] for f in users) == cap:
                for f in users:
                    frozen[f] = True
    return rates


def links_of(src: int, dst: int, nhosts: int) -> list[int]:
    """Link numbering of the oracle: host h's egress is h, its ingress nhosts + h."""
    return [src, nhosts + dst]


# Aborts and partition edges happen at k + 1/p for primes p > 100: a drain time is a
# rational whose denominator has only factors <= 100 (capacities <= 100, <= 9 flows), so
# they never coincide with a drain and the order of same-instant events cannot matter.
ABORT_OFFSET = Fraction(1, 997)
CUT_OFFSET = Fraction(1, 991)
HEAL_OFFSET = Fraction(1, 983)


def reference_run(
    egress: list[int],
    ingress: list[int],
    flows: list[tuple[int, int, int, int]],
    changes: list[tuple[int, int, int, int]],
    aborts: list[tuple[int, int]] = (),
    cut: tuple[int, int, frozenset[int]] | None = None,
) -> list[Fraction | None]:
    """Drain time of each (start, src, dst, nbytes) flow, recomputing everything globally.

    ``changes`` are (time, host, new egress, new ingress) capacity changes; ``aborts``
    (time, flow) abort a flow at ``time + ABORT_OFFSET`` (None: aborted before draining);
    ``cut`` = (start, end, side) partitions ``side`` from the other hosts between
    ``start + CUT_OFFSET`` and ``end + HEAL_OFFSET``.
    """
    nh = len(egress)
    caps = [Fraction(c) for c in egress] + [Fraction(c) for c in ingress]
    pending = sorted(
        [(Fraction(t), 0, i) for i, (t, *_rest) in enumerate(changes)]
        + [(Fraction(f[0]), 1, i) for i, f in enumerate(flows)]
        + [(t + ABORT_OFFSET, 2, i) for t, i in aborts]
        + ([(cut[0] + CUT_OFFSET, 3, 0), (cut[1] + HEAL_OFFSET, 4, 0)] if cut else [])
    )
    remaining: dict[int, Fraction] = {}
    stalled: dict[int, Fraction] = {}
    blocked = False

    def across(i: int) -> bool:
        return blocked and ((flows[i][1] in cut[2]) != (flows[i][2] in cut[2]))

    drained: list[Fraction | None] = [None] * len(flows)
    now = Fraction(0)
    while pending or remaining:
        ids = list(remaining)
        rates = reference_maxmin(caps, [links_of(flows[i][1], flows[i][2], nh) for i in ids])
        candidates = [now + remaining[i] / r for i, r in zip(ids, rates, strict=True) if r > 0]
        if pending:
            candidates.append(pending[0][0])
        if not candidates:
            break  # only stalled flows left
        nxt = min(candidates)
        for i, r in zip(ids, rates, strict=True):
            remaining[i] -= r * (nxt - now)
        now = nxt
        for i in ids:
            if remaining[i] == 0:
                drained[i] = now
                del remaining[i]
        while pending and pending[0][0] == now:
            _, kind, i = pending.pop(0)
            if kind == 0:
                _, host, eg, ing = changes[i]
                caps[host], caps[nh + host] = Fraction(eg), Fraction(ing)
            elif kind == 1:
                if across(i):
                    stalled[i] = Fraction(flows[i][3])
                elif flows[i][3] == 0:
                    drained[i] = now
                else:
                    remaining[i] = Fraction(flows[i][3])
            elif kind == 2:
                remaining.pop(i, None)
                stalled.pop(i, None)
            elif kind == 3:
                blocked = True
                for j in [j for j in remaining if across(j)]:
                    stalled[j] = remaining.pop(j)
            else:
                blocked = False
                for j, rem in stalled.items():
                    if rem == 0:
                        drained[j] = now
                    else:
                        remaining[j] = rem
                stalled.clear()
    return drained


def close(a: float, b: float | Fraction, rel: float = 1e-9) -> bool:
    return abs(a - float(b)) <= rel * max(1.0, abs(float(b)))


# ----------------------------------------------------------------------------- helpers


def make(hosts: dict[str, tuple[str | None, float, float]], **latency: float):
    env = simpy.Environment()
    net = Network(env, **latency)
    for name, (rack, eg, ing) in hosts.items():
        net.add_host(name, rack, eg, ing)
    return env, net


def start_at(env, net, t, src, dst, nbytes, log, key):
    def proc():
        if t > env.now:
            yield env.timeout(t - env.now)
        tr = net.transfer(src, dst, nbytes)
        log[key] = tr
        try:
            yield tr
            log[(key, "arrived")] = env.now
        except TransferAborted:
            log[(key, "aborted")] = env.now

    return env.process(proc())


# ----------------------------------------------------------------------------- hand-computed


def test_two_flows_into_one_ingress_share_it_then_the_survivor_speeds_up():
    # A->C 100 B and B->C 300 B into C's 100 B/s ingress: 50 B/s each; A's drains at
    # t=2, then B's 200 remaining bytes go at the full 100 B/s and drain at t=4.
    env, net = make({h: ("r1", 100, 100) for h in "ABC"}, rack_latency=0.001)
    log: dict = {}
    start_at(env, net, 0, "A", "C", 100, log, "a")
    start_at(env, net, 0, "B", "C", 300, log, "b")
    env.run(until=1)
    assert log["a"].rate == 50 and log["b"].rate == 50
    assert net.active_flows == 2
    env.run()
    assert log["a"].drained_at == pytest.approx(2.0, rel=1e-12)
    assert log[("a", "arrived")] == pytest.approx(2.001, rel=1e-12)
    assert log["b"].drained_at == pytest.approx(4.0, rel=1e-12)
    assert log[("b", "arrived")] == pytest.approx(4.001, rel=1e-12)
    assert net.active_flows == 0
    c = net.host_counters("C")
    assert c.bytes_received == pytest.approx(400)
    assert c.ingress_busy_time == pytest.approx(4.0)
    assert net.host_counters("A").bytes_sent == pytest.approx(100)
    assert net.host_counters("A").egress_busy_time == pytest.approx(1.0)  # 50% for 2 s


def test_sender_limited_flow_leaves_the_rest_of_the_ingress_to_others():
    # A's egress is 20 B/s: its flow is bottlenecked there, so B->C gets 100 - 20 = 80.
    env, net = make({"A": ("r", 20, 100), "B": ("r", 100, 100), "C": ("r", 100, 100)})
    a = net.transfer("A", "C", 10_000)
    b = net.transfer("B", "C", 10_000)
    assert a.rate == 20 and b.rate == 80
    assert net.rates("C") == (0.0, 100.0)


def test_tcp_window_bounds_one_connection_and_leaves_the_rest_to_others():
    # A follower in another region fetching with Kafka's default
    # replica.socket.receive.buffer.bytes = 64 KiB over a 50 ms one-way link (100 ms RTT)
    # moves at most 65536 / 0.1 = 655,360 B/s, whatever its 10 Gb/s NIC could do
    # (SimGrid bounds every flow by TCP-gamma / (2 * latency) the same way).
    env = simpy.Environment()
    net = Network(env, rack_latency=0.0001, cross_rack_latency=0.05)
    gbps10 = 10e9 / 8
    net.add_host("leader", "eu", gbps10, gbps10)
    net.add_host("remote", "us", gbps10, gbps10)
    net.add_host("local", "eu", gbps10, gbps10)
    window = net.window_rate("leader", "remote", 64 * 1024)
    assert window == pytest.approx(655_360)
    assert net.window_rate("leader", "local", 64 * 1024) == pytest.approx(327_680_000)
    slow = net.transfer("leader", "remote", 655_360, max_rate=window)
    fast = net.transfer("leader", "local", 10**12)
    assert slow.rate == pytest.approx(655_360)
    assert fast.rate == pytest.approx(gbps10 - 655_360)
    env.run(until=2)
    assert slow.drained_at == pytest.approx(1.0) and slow.processed  # 1 s + 50 ms
    with pytest.raises(ValueError):
        net.transfer("leader", "local", 1, max_rate=0)
    # No latency, no window bound; an infinite max_rate is no bound either.
    net.set_latency(cross_rack_latency=0.0)
    assert net.window_rate("leader", "remote", 64 * 1024) == float("inf")
    unbounded = net.transfer("leader", "remote", 10**12, max_rate=float("inf"))
    assert len(unbounded.links) == 2


def test_zero_byte_transfer_completes_after_latency_only():
    env, net = make(
        {"A": ("r1", 100, 100), "B": ("r2", 100, 100)}, rack_latency=0.5, cross_rack_latency=2.0
    )
    log: dict = {}
    start_at(env, net, 1, "A", "B", 0, log, "z")
    env.run()
    assert log[("z", "arrived")] == 3.0
    assert log["z"].drained_at == 1.0


def test_capacity_change_mid_flow():
    # 1000 B at 100 B/s; at t=4 the sender's NIC degrades to 50 B/s: 600 B left take
    # 12 s more, so the last byte leaves at t=16; restoring it later changes nothing.
    env, net = make({"A": ("r", 100, 100), "B": ("r", 100, 100)})
    log: dict = {}
    start_at(env, net, 0, "A", "B", 1000, log, "x")
    env.run(until=4)
    net.set_capacity("A", egress=50)
    assert log["x"].rate == 50
    assert log["x"].bytes_remaining == pytest.approx(600)
    env.run()
    assert log[("x", "arrived")] == pytest.approx(16.0, rel=1e-12)
    eg = net.host_counters("A")
    assert eg.bytes_sent == pytest.approx(1000)
    assert eg.egress_busy_time == pytest.approx(16.0)


def test_zero_capacity_stalls_until_restored():
    env, net = make({"A": ("r", 100, 100), "B": ("r", 100, 100)})
    log: dict = {}
    start_at(env, net, 0, "A", "B", 500, log, "x")
    env.run(until=2)
    net.set_capacity("B", ingress=0)
    env.run(until=10)
    assert log["x"].rate == 0 and log["x"].bytes_remaining == pytest.approx(300)
    assert net.host_counters("B").ingress_busy_time == pytest.approx(10.0)  # saturated
    net.set_capacity("B", ingress=100)
    env.run()
    assert log[("x", "arrived")] == pytest.approx(13.0, rel=1e-12)


def test_utilisation_over_an_interval_from_two_readings():
    # A->B at 100 B/s alone for [0, 2), then C->B joins and A gets 50 B/s.
    env, net = make({h: ("r", 100, 100) for h in "ABC"})
    net.transfer("A", "B", 10_000)
    env.run(until=2)
    t2 = net.host_counters("A")
    net.transfer("C", "B", 10_000)
    env.run(until=6)
    t6 = net.host_counters("A")
    assert t6.utilisation_since(t2) == pytest.approx((0.5, 0.0))
    assert net.host_counters("B").ingress_busy_time == pytest.approx(6.0)
    with pytest.raises(ValueError):
        t2.utilisation_since(t6)


def test_a_flow_cut_by_rounding_a_hair_before_its_end_still_completes():
    # Drains at t = 1/3 exactly in reals; the NIC dies at that instant (before the drain
    # timer fires) -- the few ulps of bytes left must not strand it at rate 0.
    env, net = make({"A": ("r", 3, 3), "B": ("r", 3, 3)})
    log: dict = {}
    start_at(env, net, 0, "A", "B", 1, log, "x")

    def kill():
        yield env.timeout(1 / 3)
        net.set_capacity("A", egress=0)

    env.process(kill())
    env.run(until=1)
    assert (("x", "arrived") in log) and log[("x", "arrived")] == pytest.approx(1 / 3)


def test_partition_stalls_flows_and_heal_resumes_them():
    env, net = make({h: ("r", 100, 100) for h in "ABCD"})
    log: dict = {}
    start_at(env, net, 0, "A", "B", 1000, log, "ab")
    start_at(env, net, 0, "C", "B", 1000, log, "cb")
    env.run(until=2)  # both at 50 B/s: 900 B left each
    net.partition(["A"], ["B", "D"])
    assert net.stalled_flows == 1 and log["ab"].stalled
    assert log["cb"].rate == 100  # the survivor takes all of B's ingress
    start_at(env, net, 3, "D", "A", 0, log, "da")  # a zero-byte request across the cut
    env.run(until=5)
    assert log["ab"].bytes_remaining == pytest.approx(900)
    assert ("da", "arrived") not in log
    net.heal()
    # cb drained 300 B alone in [2, 5]: 600 left; now both share again at 50 B/s until cb
    # drains at t=17, then ab (900 - 600 = 300 left) at 100 B/s until t=20.
    env.run()
    assert log[("da", "arrived")] == 5.0
    assert log[("cb", "arrived")] == pytest.approx(17.0, rel=1e-12)
    assert log[("ab", "arrived")] == pytest.approx(20.0, rel=1e-12)
    assert net.stalled_flows == 0 and net.active_flows == 0


def test_partial_heal_only_mends_the_named_cut():
    env, net = make({h: ("r", 100, 100) for h in "ABCD"})
    net.partition(["A"], ["B"])
    net.partition(["C"], ["D"])
    ab = net.transfer("A", "B", 100)
    dc = net.transfer("D", "C", 100)
    net.heal(["B"], ["A"])  # either order of the sides
    env.run(until=5)
    assert ab.processed and env.now == 5
    assert dc.stalled and not dc.triggered
    with pytest.raises(ValueError):
        net.heal(["C"])
    net.heal()
    env.run()
    assert dc.processed and net.stalled_flows == 0


def test_abort_fails_the_waiter_and_gives_capacity_back():
    env, net = make({h: ("r", 100, 100) for h in "ABC"})
    log: dict = {}
    start_at(env, net, 0, "A", "C", 1000, log, "a")
    start_at(env, net, 0, "B", "C", 400, log, "b")
    env.run(until=2)
    assert net.abort(log["a"]) is True
    assert net.abort(log["a"]) is False
    env.run()
    assert log[("a", "aborted")] == 2.0
    assert log[("b", "arrived")] == pytest.approx(5.0)  # 300 left at 100 B/s
    assert net.host_counters("A").bytes_sent == pytest.approx(100)
    # Aborting a transfer nobody waits for does not crash the environment.
    t = net.transfer("A", "B", 100)
    net.abort(t)
    env.run()
    assert net.active_flows == 0


def test_latencies_and_cross_rack_bytes():
    env = simpy.Environment()
    net = Network(env, rack_latency=0.0001, cross_rack_latency=0.002, client_latency=0.01)
    net.add_host("b1", "a", 1000, 1000)
    net.add_host("b2", "a", 1000, 1000)
    net.add_host("b3", "b", 1000, 1000)
    net.add_host("p", "b", 1000, 1000, client=True)
    assert net.latency("b1", "b2") == 0.0001
    assert net.latency("b1", "b3") == 0.002
    assert net.latency("p", "b1") == 0.01
    net.transfer("b1", "b2", 500)
    net.transfer("b1", "b3", 300)
    net.transfer("p", "b1", 700)  # client in rack b to a broker in rack a: cross-rack
    env.run(until=0.1)
    # b1's egress is shared 500/500 by its two flows: 50 B of b1->b3 by t=0.1, plus
    # 100 B of p->b1 at its full 1000 B/s.
    assert net.cross_rack_bytes == pytest.approx(150, rel=1e-12)
    env.run()
    assert net.cross_rack_bytes == pytest.approx(1000)


def test_rack_uplink_is_shared_by_cross_rack_flows():
    env, net = make({"a1": ("a", 100, 100), "a2": ("a", 100, 100), "b1": ("b", 100, 100)})
    net.add_host("b2", "b", 100, 100)
    net.set_rack_uplink("a", 60)
    x = net.transfer("a1", "b1", 10_000)
    y = net.transfer("a2", "b2", 10_000)
    z = net.transfer("a2", "a1", 10_000)  # intra-rack: does not cross the uplink
    assert x.rate == 30 and y.rate == 30 and z.rate == 70
    net.set_rack_uplink("a", 200)  # capacity change at any time
    assert x.rate == 100 and y.rate == 50 and z.rate == 50
    with pytest.raises(RuntimeError):
        net.set_rack_uplink("b", 10)


def test_only_the_changed_component_is_reshared():
    env, net = make({h: ("r", 100, 100) for h in "ABCDEF"})
    net.transfer("A", "B", 10_000)
    net.transfer("C", "B", 10_000)
    before = net.reshared_flows
    net.transfer("D", "E", 10_000)  # shares no NIC with the A/C->B component
    assert net.reshared_flows - before == 1
    before = net.reshared_flows
    net.transfer("E", "B", 10_000)  # E's egress is not E's ingress: D->E stays apart
    assert net.reshared_flows - before == 3
    before = net.reshared_flows
    net.transfer("D", "B", 10_000)  # joins them through D's egress and B's ingress
    assert net.reshared_flows - before == 5


def test_a_burst_of_transfers_at_one_instant_is_reshared_once():
    # A leader answering 11 followers' fetches at the same instant: the first starts
    # alone on its links and is settled at once, the ten that join it are re-shared
    # together, once -- not a re-share per transfer.
    env = simpy.Environment()
    net = Network(env)
    for i in range(12):
        net.add_host(f"b{i}", f"r{i % 3}", 1000, 1000)

    def leader():
        yield env.timeout(1)
        sent = [net.transfer("b0", f"b{i}", 1100) for i in range(1, 12)]
        assert net.reshares == 2  # reading a counter flushes the pending re-share
        yield env.all_of(sent)

    env.process(leader())
    env.run()
    assert env.now == pytest.approx(1 + 11 * 1100 / 1000)
    # Start (the lone first one, then the rest), and one drain for all of them.
    assert net.reshares == 3


def test_one_pending_timer_not_one_event_per_flow():
    # 200 flows of distinct sizes into one ingress drain one after another; the engine
    # must not process an event per flow per re-share (which would be ~200^2 / 2).
    env = simpy.Environment()
    net = Network(env)
    net.add_host("sink", None, 1e9, 1000)
    for i in range(200):
        net.add_host(f"h{i}", None, 1e9, 1e9)
        net.transfer(f"h{i}", "sink", 100 * (i + 1))
    steps = 0
    while env.peek() != float("inf"):
        env.step()
        steps += 1
    assert net.transfers_completed == 200
    assert steps <= 2 * 200 + 2
    # The sink's ingress is busy throughout, so the last byte leaves when all have.
    assert env.now == pytest.approx(sum(100 * (i + 1) for i in range(200)) / 1000)


def test_superseded_completion_entries_do_not_pile_up():
    # A long transfer whose NIC speeds up step by step: each re-share projects an earlier
    # drain, so the superseded, later entries never reach the top of the heap by
    # themselves -- they must be compacted away, not kept one per re-share.
    env, net = make({"A": ("r", 1000, 10**9), "B": ("r", 10**9, 10**9)})
    net.transfer("A", "B", 10**12)

    def speed_up():
        for i in range(6000):
            yield env.timeout(0.01)
            net.set_capacity("A", egress=1000 + i)

    env.process(speed_up())
    env.run(until=100)
    assert net.reshares == 6001
    assert len(net._heap) <= 4096  # internal: bounded, not one entry per re-share


def test_rejects_bad_input():
    env, net = make({"A": ("r", 100, 100)})
    with pytest.raises(ValueError):
        net.add_host("A", "r", 1, 1)
    with pytest.raises(ValueError):
        net.add_host("B", "r", -1, 1)
    with pytest.raises(ValueError):
        net.transfer("A", "A", 10)
    with pytest.raises(KeyError):
        net.transfer("A", "nope", 10)
    net.add_host("B", "r", 1, 1)
    with pytest.raises(ValueError):
        net.transfer("A", "B", float("nan"))
    with pytest.raises(ValueError):
        net.partition(["A", "B"], ["B"])
    net.transfer("A", "B", 0)  # the rejected partition left no half-made cut behind
    env.run()
    assert net.stalled_flows == 0 and net.transfers_completed == 1


def run_schedule(egress, ingress, flows, changes, latency=0.0, aborts=(), cut=None):
    env = simpy.Environment()
    net = Network(env, rack_latency=latency)
    for h in range(len(egress)):
        net.add_host(f"h{h}", "r", egress[h], ingress[h])
    log: dict = {}
    for i, (t, s, d, n) in enumerate(flows):
        start_at(env, net, t, f"h{s}", f"h{d}", n, log, i)

    def at(t, action, *args):
        yield env.timeout(float(t))
        action(*args)

    for t, h, eg, ing in changes:
        env.process(at(t, net.set_capacity, f"h{h}", eg, ing))
    for t, i in aborts:
        env.process(at(t + ABORT_OFFSET, lambda i: i in log and net.abort(log[i]), i))
    if cut:
        side = [f"h{h}" for h in sorted(cut[2])]
        rest = [f"h{h}" for h in range(len(egress)) if h not in cut[2]]
        env.process(at(cut[0] + CUT_OFFSET, net.partition, side, rest))
        env.process(at(cut[1] + HEAL_OFFSET, net.heal))
    env.run()
    return net, log


def test_same_schedule_same_result():
    flows = [(i % 3, i % 4, (i + 1) % 4, 37 * i + 5) for i in range(40)]
    a = run_schedule([100, 70, 50, 90], [80, 100, 60, 40], flows, [(1, 2, 10, 10)])[1]
    b = run_schedule([100, 70, 50, 90], [80, 100, 60, 40], flows, [(1, 2, 10, 10)])[1]
    assert [a[(i, "arrived")] for i in range(40)] == [b[(i, "arrived")] for i in range(40)]


# ----------------------------------------------------------------------------- properties

caps_st = st.integers(min_value=0, max_value=100)


@st.composite
def instances(draw, min_cap=0):
    nh = draw(st.integers(2, 5))
    egress = draw(st.lists(st.integers(min_cap, 100), min_size=nh, max_size=nh))
    ingress = draw(st.lists(st.integers(min_cap, 100), min_size=nh, max_size=nh))
    pairs = st.tuples(st.integers(0, nh - 1), st.integers(0, nh - 1)).filter(lambda p: p[0] != p[1])
    return egress, ingress, draw(st.lists(pairs, min_size=1, max_size=9))


@settings(max_examples=200, deadline=None)
@given(
    instances(),
    st.data(),
)
def test_rates_are_the_max_min_fair_allocation(inst, data):
    egress, ingress, pairs = inst
    nh = len(egress)
    racks = data.draw(st.lists(st.sampled_from([None, "a", "b"]), min_size=nh, max_size=nh))
    uplinks = data.draw(st.tuples(st.none() | caps_st, st.none() | caps_st))
    env = simpy.Environment()
    net = Network(env)
    for h in range(nh):
        net.add_host(f"h{h}", racks[h], egress[h], ingress[h])
    # Oracle links: egress h, ingress nh + h, then rack a's uplink / downlink, rack b's.
    caps = [Fraction(c) for c in egress + ingress] + [Fraction(0)] * 4
    for i, (rack, cap) in enumerate(zip("ab", uplinks, strict=True)):
        if cap is not None:
            net.set_rack_uplink(rack, cap)
            caps[2 * nh + 2 * i] = caps[2 * nh + 2 * i + 1] = Fraction(cap)
    flow_links = []
    for s, d in pairs:
        links = links_of(s, d, nh)
        if racks[s] and racks[d] and racks[s] != racks[d]:
            if uplinks["ab".index(racks[s])] is not None:
                links.append(2 * nh + 2 * "ab".index(racks[s]))
            if uplinks["ab".index(racks[d])] is not None:
                links.append(2 * nh + 2 * "ab".index(racks[d]) + 1)
        flow_links.append(links)
    # A TCP window bound is a private link of the flow's own in the oracle.
    bounds = data.draw(
        st.lists(st.none() | st.integers(1, 100), min_size=len(pairs), max_size=len(pairs))
    )
    for links, bound in zip(flow_links, bounds, strict=True):
        if bound is not None:
            caps.append(Fraction(bound))
            links.append(len(caps) - 1)
    transfers = [
        net.transfer(f"h{s}", f"h{d}", 10**12, max_rate=b)
        for (s, d), b in zip(pairs, bounds, strict=True)
    ]
    expected = reference_maxmin(caps, flow_links)
    for t, r in zip(transfers, expected, strict=True):
        assert close(t.rate, r, 1e-9)
    # Bertsekas & Gallager's characterisation: every flow has a bottleneck link, one that
    # is saturated and on which no flow gets a higher rate.
    for f, links in enumerate(flow_links):
        ok = False
        for link in links:
            users = [g for g in range(len(pairs)) if link in flow_links[g]]
            load = sum(transfers[g].rate for g in users)
            if load >= float(caps[link]) * (1 - 1e-9) and all(
                transfers[g].rate <= transfers[f].rate * (1 + 1e-9) + 1e-12 for g in users
            ):
                ok = True
        assert ok


@settings(max_examples=150, deadline=None)
@given(instances(min_cap=1), st.data())
def test_drain_times_match_a_global_fluid_simulation(inst, data):
    egress, ingress, pairs = inst
    nh = len(egress)
    flows = [(data.draw(st.integers(0, 6)), s, d, data.draw(st.integers(0, 400))) for s, d in pairs]
    changes = data.draw(
        st.lists(
            st.tuples(st.integers(1, 8), st.integers(0, nh - 1), caps_st, caps_st).map(
                lambda c: (c[0], c[1], max(1, c[2]), max(1, c[3]))
            ),
            max_size=2,
            unique_by=lambda c: (c[0], c[1]),
        )
    )
    aborts = data.draw(
        st.lists(st.tuples(st.integers(0, 8), st.integers(0, len(flows) - 1)), max_size=2)
    )
    cut = data.draw(
        st.none()
        | st.tuples(
            st.integers(0, 6),
            st.integers(0, 6),
            st.frozensets(st.integers(0, nh - 1), min_size=1, max_size=nh - 1),
        ).map(lambda c: (c[0], c[0] + c[1], c[2]))
    )
    expected = reference_run(egress, ingress, flows, changes, aborts, cut)
    net, log = run_schedule(egress, ingress, flows, changes, 0.25, aborts, cut)
    for i, drain in enumerate(expected):
        if drain is None:
            assert (i, "arrived") not in log and (i, "aborted") in log
            continue
        assert close(log[i].drained_at, drain), (i, log[i].drained_at, drain)
        assert close(log[(i, "arrived")], drain + Fraction(1, 4))
    assert net.active_flows == 0
    # Determinism: the same schedule gives bit-identical times.
    _, again = run_schedule(egress, ingress, flows, changes, 0.25, aborts, cut)
    assert [log[i].drained_at for i in range(len(flows))] == [
        again[i].drained_at for i in range(len(flows))
    ]
    # Conservation: every byte sent was received, and counted once.
    sent = sum(net.host_counters(f"h{h}").bytes_sent for h in range(nh))
    received = sum(net.host_counters(f"h{h}").bytes_received for h in range(nh))
    assert sent == pytest.approx(received, rel=1e-9, abs=1e-6)
    if not aborts:
        total = sum(f[3] for f in flows)
        assert sent == pytest.approx(total, rel=1e-9, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(instances(), st.data())
def test_lone_flow_shortcut_is_bit_identical_to_progressive_filling(inst, data):
    """A re-share of a flow alone on its links (or of links left empty) skips the general
    search and filling; drain and arrival times and every NIC counter must be exactly
    those of the general path."""
    egress, ingress, pairs = inst
    nh = len(egress)
    flows = [(data.draw(st.integers(0, 6)), s, d, data.draw(st.integers(0, 400))) for s, d in pairs]
    changes = data.draw(
        st.lists(
            st.tuples(st.integers(1, 8), st.integers(0, nh - 1), caps_st, caps_st),
            max_size=2,
            unique_by=lambda c: (c[0], c[1]),
        )
    )
    aborts = data.draw(
        st.lists(st.tuples(st.integers(0, 8), st.integers(0, len(flows) - 1)), max_size=2)
    )

    def observed():
        net, log = run_schedule(egress, ingress, flows, changes, 0.25, aborts)
        times = {k: v if isinstance(k, tuple) else v.drained_at for k, v in log.items()}
        counters = [net.host_counters(f"h{h}") for h in range(nh)]
        return times, counters, net.reshares, net.reshared_flows

    shortcut = observed()
    with mock.patch.object(Network, "_recompute", Network._recompute_general):
        general = observed()
    assert shortcut == general


def test_a_transfer_alone_on_its_links_is_settled_without_a_reshare_event():
    # Nothing else runs on b0's egress or b1's ingress: the flow gets the smaller
    # capacity at once, and the only event scheduled is its drain (no re-share event at
    # the current instant); a second flow on the same links is re-shared as before.
    env = simpy.Environment()
    net = Network(env)
    net.add_host("b0", None, 1000, 1000)
    net.add_host("b1", None, 400, 400)
    net.add_host("b2", None, 1000, 1000)
    first = net.transfer("b0", "b1", 800)
    assert env.peek() == pytest.approx(2.0)  # its drain at 400 B/s; nothing at t=0
    assert first.rate == 400
    second = net.transfer("b2", "b1", 800)  # shares b1's ingress: a deferred re-share
    assert env.peek() == 0.0
    assert first.rate == second.rate == 200
