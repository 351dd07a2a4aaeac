"""The stepped engine's producer-side kernels: application threads, the sticky
partitioner, ``buffer.memory``, the Sender's drain, acknowledgements and the commit."""

from __future__ import annotations

import numpy as np
from numba import njit

from simkafka.sim.fluid import EPSILON
from simkafka.sim.stepped_numba.draws import next_double, split_fraction_into


@njit(cache=True, error_model="numpy")
def application_threads(
    t0: float,
    t1: float,
    send_backlog: float,
    offered: np.ndarray,
    send_cpu: np.ndarray,
    app_free_at: np.ndarray,
    cpu_limited: np.ndarray,
    app_busy: np.ndarray,
) -> np.ndarray:
    """``SteppedWorld._application_threads`` when no producer sends at ``rate: max``."""
    NI = offered.size
    counts = np.empty(NI, np.int64)
    for i in range(NI):
        begin = max(app_free_at[i], t0)
        end = t1 + send_backlog
        room = (end - begin) / send_cpu[i] if send_cpu[i] > 0 else 2.0**62
        room_whole = np.int64(np.floor(min(max(room, 0.0), 2.0**62)))
        counts[i] = min(offered[i], room_whole)
        cpu_limited[i] += offered[i] - counts[i]
        app_free_at[i] = begin + counts[i] * send_cpu[i]
        app_busy[i] += counts[i] * send_cpu[i]
    return counts


@njit(cache=True, error_model="numpy")
def sticky_arrivals(
    words: np.ndarray,
    counts: np.ndarray,
    keyed: np.ndarray,
    arrivals: np.ndarray,
    sticky_partition: np.ndarray,
    sticky_left: np.ndarray,
    switch_msgs: np.ndarray,
    sticky_count: np.ndarray,
    sticky_choices: np.ndarray,
    created: np.ndarray,
    created_p: np.ndarray,
) -> bool:
    """``SteppedWorld._sticky`` for the producers without keys that sent this step, then
    the counts created: KIP-794's partitioner stays on a partition for its stint and picks
    the next uniformly (one draw a switch, producer by producer). Whether it drew."""
    NI, P = arrivals.shape
    drew = False
    for i in range(NI):
        n = counts[i]
        if keyed[i] or n <= 0:
            continue
        current = sticky_partition[i]
        left = 0 if current < 0 else sticky_left[i]
        first = min(n, left)
        if first > 0:
            arrivals[i, current] += first
        rest = n - first
        size = switch_msgs[i]
        switches = -(-rest // size)
        left -= first
        for k in range(switches):
            drew = True
            pick = np.int64(np.floor(next_double(words) * sticky_count[i]))
            chosen = sticky_choices[i, pick]
            amount = size if k < switches - 1 else rest - (switches - 1) * size
            arrivals[i, chosen] += amount
            current = chosen
        if switches > 0:
            left = switches * size - rest
        sticky_partition[i] = current
        sticky_left[i] = left
    for i in range(NI):
        created[i] += counts[i]
        for p in range(P):
            created_p[p] += arrivals[i, p]
    return drew


@njit(cache=True, error_model="numpy")
def admit_unblocked(
    now: float,
    dt: float,
    arrivals: np.ndarray,
    counts: np.ndarray,
    held_stages: np.ndarray,
    wire_per_msg: np.ndarray,
    buffer_memory: np.ndarray,
    acc: np.ndarray,
    closed: np.ndarray,
    open_: np.ndarray,
    partial_first: np.ndarray,
    per_batch: np.ndarray,
    close_lag: np.ndarray,
) -> bool:
    """``SteppedWorld._admit_and_expire`` when nothing is blocked and ``buffer.memory``
    has room for every ``send()`` of the step: the records enter the accumulator, whose
    kept batches (``closed``, ``open_``) change where they were sent to. Returns False
    having changed nothing when a producer must block (the numpy code then queues it)."""
    S, NI, P = held_stages.shape
    for i in range(NI):
        held = 0  # acc + net + sock + cpu_q + unacked (integers: any order is exact)
        for s in range(S):
            for p in range(P):
                held += held_stages[s, i, p]
        free = max(0.0, buffer_memory[i] - held * wire_per_msg[i])
        if not np.floor(free / wire_per_msg[i]) >= counts[i]:
            return False
    started_at = now - 0.5 * dt
    for i in range(NI):
        for p in range(P):
            moved = arrivals[i, p]
            if moved == 0:
                continue
            total = acc[i, p] + moved
            acc[i, p] = total
            closed_now = max(total - close_lag[i], 0) // per_batch[i]
            open_now = total - closed_now * per_batch[i]
            if (open_[i, p] == 0 or closed_now > closed[i, p]) and open_now > 0:
                partial_first[i, p] = started_at
            closed[i, p] = closed_now
            open_[i, p] = open_now
            if open_now == 0:
                partial_first[i, p] = np.inf
    return True


@njit(cache=True, error_model="numpy")
def drain(
    now: float,
    dt: float,
    dither: float,
    kept: bool,
    all_led: bool,
    turnaround_base: float,
    request_cpu: float,
    sender_costs: np.ndarray,
    batch_overhead: int,
    request_overhead: int,
    response_partition_bytes: int,
    acc: np.ndarray,
    full: np.ndarray,
    partial: np.ndarray,
    partial_first: np.ndarray,
    net: np.ndarray,
    linger_due: np.ndarray,
    force: np.ndarray,
    has_leader: np.ndarray,
    per_batch: np.ndarray,
    close_lag: np.ndarray,
    conn_flat: np.ndarray,
    conn_broker: np.ndarray,
    conn_nic: np.ndarray,
    mif_conn: np.ndarray,
    sender_free_at: np.ndarray,
    request_bytes: np.ndarray,
    request_service: np.ndarray,
    inflight: np.ndarray,
    conn_unacked: np.ndarray,
    record_wire: np.ndarray,
    sent_msgs: np.ndarray,
    sent_wire: np.ndarray,
    sender_busy: np.ndarray,
    wire_per_msg: np.ndarray,
    sent_p: np.ndarray,
    zero_acks: np.ndarray,
    broker_requests: np.ndarray,
    header_bytes_in: np.ndarray,
    link_overhead: np.ndarray,
    producer_egress: np.ndarray,
    sent_msgs_pair: np.ndarray,
    sent_batches_pair: np.ndarray,
    wire_pair: np.ndarray,
) -> tuple[int, np.ndarray, int, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``SteppedWorld._drain`` from the accumulator's batches (``full``, ``partial``, as
    ``_accumulated`` gave them) to the request headers. Returns (stage reached: 0 nothing
    ready, 1 nothing taken, 2 drained; the connections' turns, requests, batches, the
    produce requests' CPU per broker, ``sent_p`` before, the pairs drained as flat indices
    and their messages). ``sender_costs``: the producer's request, batch, byte and
    acknowledged-record CPU."""
    NI, P = acc.shape
    B = broker_requests.size
    n_conn = NI * B
    empty_i = np.zeros(0, np.int64)
    nothing = (0, np.zeros(0), 0, 0, np.zeros(0), empty_i, empty_i, empty_i)
    # the (producer, partition) pairs with records, in the table's order
    count = 0
    for i in range(NI):
        for p in range(P):
            if acc[i, p] != 0:
                count += 1
    flat = np.empty(count, np.int64)
    ready = np.empty(count, np.int64)
    queued = np.empty(count, np.int64)
    k = 0
    any_ready = False
    for i in range(NI):
        for p in range(P):
            if acc[i, p] == 0:
                continue
            flat[k] = i * P + p
            has_partial = partial[i, p] > 0
            due = now - partial_first[i, p] >= linger_due[i] or force[i]
            ready[k] = full[i, p] + (has_partial and due)
            queued[k] = full[i, p] + has_partial
            if not all_led and not has_leader[p]:
                ready[k] = 0
                queued[k] = 0
            if ready[k] != 0:
                any_ready = True
            k += 1
    if not any_ready:
        return nothing
    turns = np.empty(n_conn)
    slots = np.empty(n_conn, np.int64)
    for c in range(n_conn):
        turnaround = turnaround_base + request_bytes[c] / conn_nic[c] + request_service[c]
        turns[c] = max(1.0, np.floor(dt / max(turnaround, 1e-9) + dither))
        slots[c] = np.int64(max(0.0, mif_conn[c] * turns[c] - inflight[c]))
        if not sender_free_at[c // B] <= now + 1e-12:
            slots[c] = 0
    per_conn = np.zeros(n_conn, np.int64)
    for k in range(count):
        c = conn_flat[flat[k]]
        per_conn[c] = max(per_conn[c], ready[k])
    requests = np.empty(n_conn, np.int64)
    for c in range(n_conn):
        requests[c] = min(per_conn[c], slots[c])
    batches = np.empty(count, np.int64)
    take = np.empty(count, np.int64)
    drained = 0
    for k in range(count):
        i = flat[k] // P
        batches[k] = min(queued[k], requests[conn_flat[flat[k]]])
        take[k] = min(acc[i, flat[k] - i * P], batches[k] * per_batch[i])
        if take[k] > 0:
            drained += 1
    if drained == 0:
        return (1, turns, 0, 0, np.zeros(0), empty_i, empty_i, empty_i)
    t_flat = np.empty(drained, np.int64)
    t_take = np.empty(drained, np.int64)
    k2 = 0
    for k in range(count):
        if take[k] > 0:
            t_flat[k2] = flat[k]
            t_take[k2] = take[k]
            # each pair's own batches: the wire bytes a message of it takes in the log
            i, p = flat[k] // P, flat[k] % P
            sent_msgs_pair[i, p] = sent_msgs_pair[i, p] + take[k]
            sent_batches_pair[i, p] = sent_batches_pair[i, p] + batches[k]
            wire_pair[i, p] = record_wire[i] + batch_overhead * sent_batches_pair[i, p] / sent_msgs_pair[i, p]
            k2 += 1
    for k in range(drained):
        f = t_flat[k]
        i, p = f // P, f % P
        left = acc[i, p] - t_take[k]
        acc[i, p] = left
        if kept:  # only the pairs drained change
            closed_now = max(left - close_lag[i], 0) // per_batch[i]
            open_now = left - closed_now * per_batch[i]
            full[i, p] = closed_now
            partial[i, p] = open_now
            if open_now == 0:
                partial_first[i, p] = np.inf
        net[i, p] += t_take[k]
    if not kept:  # the whole table's batches, from the drained accumulator
        for i in range(NI):
            for p in range(P):
                closed_now = max(acc[i, p] - close_lag[i], 0) // per_batch[i]
                full[i, p] = closed_now
                partial[i, p] = acc[i, p] - closed_now * per_batch[i]
                if partial[i, p] == 0:
                    partial_first[i, p] = np.inf
    total_requests = 0
    for c in range(n_conn):
        inflight[c] += requests[c]
        total_requests += requests[c]
    sent_i = np.zeros(NI, np.int64)
    batches_i = np.zeros(NI, np.int64)
    total_batches = 0
    for k in range(count):
        conn_unacked[conn_flat[flat[k]]] += take[k]
        total_batches += batches[k]
        sent_i[flat[k] // P] += take[k]
        batches_i[flat[k] // P] += batches[k]
    requests_i = np.zeros(NI, np.int64)
    for c in range(n_conn):
        requests_i[c // B] += requests[c]
    for i in range(NI):
        wire = sent_i[i] * record_wire[i] + batches_i[i] * batch_overhead
        sent_msgs[i] += sent_i[i]
        sent_wire[i] += wire
        # the Sender's pass (client_costs.sender_cpu, in its order)
        cost = (
            requests_i[i] * sender_costs[0]
            + batches_i[i] * sender_costs[1]
            + wire * sender_costs[2]
            + sent_i[i] * sender_costs[3]
        )
        if requests_i[i] > 0:
            sender_free_at[i] = max(sender_free_at[i], now - dt) + cost
        sender_busy[i] += cost
        if sent_msgs[i] > 0:
            wire_per_msg[i] = sent_wire[i] / max(sent_msgs[i], 1.0)
    old_sent = sent_p.copy()
    for k in range(drained):
        sent_p[t_flat[k] % P] += t_take[k]
    req_per_broker = np.zeros(B)
    for c in range(n_conn):
        req_per_broker[conn_broker[c]] += requests[c]
    produce_request_cpu = np.empty(B)
    for b in range(B):
        broker_requests[b] += req_per_broker[b]
        produce_request_cpu[b] = req_per_broker[b] * request_cpu
        header = req_per_broker[b] * request_overhead
        header_bytes_in[b] += header
        link_overhead[2 * b + 1] += header
    # link_overhead[producer_egress] += ...: with numpy's semantics of a repeated index
    raised = np.empty(NI)
    for i in range(NI):
        raised[i] = link_overhead[producer_egress[i]] + requests_i[i] * request_overhead
    for i in range(NI):
        link_overhead[producer_egress[i]] = raised[i]
    # the responses' headers (acks=0 has none), one per request and a partition entry per batch
    response_conn = np.zeros(n_conn)
    for k in range(count):
        i = flat[k] // P
        replied = 0 if zero_acks[i] else 1
        response_conn[conn_flat[flat[k]]] += batches[k] * replied * response_partition_bytes
    for c in range(n_conn):
        replied = 0 if zero_acks[c // B] else 1
        response_conn[c] = response_conn[c] + requests[c] * replied * request_overhead
    response_b = np.zeros(B)
    for c in range(n_conn):
        response_b[conn_broker[c]] += response_conn[c]
    for b in range(B):
        link_overhead[2 * b] += response_b[b]
    response_i = np.zeros(NI)  # integer bytes: exact in any order
    for c in range(n_conn):
        response_i[c // B] += response_conn[c]
    for i in range(NI):
        raised[i] = link_overhead[producer_egress[i] + 1] + response_i[i]
    for i in range(NI):
        link_overhead[producer_egress[i] + 1] = raised[i]
    return (2, turns, total_requests, total_batches, produce_request_cpu, old_sent, t_flat, t_take)


@njit(cache=True, error_model="numpy")
def acknowledge_counts(
    words: np.ndarray,
    counts: np.ndarray,
    acked: np.ndarray,
    acked_bytes: np.ndarray,
    wire_per_msg: np.ndarray,
    conn_flat: np.ndarray,
    conn_unacked: np.ndarray,
    inflight: np.ndarray,
) -> bool:
    """The counting half of ``SteppedWorld._acknowledge`` (``counts`` has a message):
    acknowledged messages and bytes, and the requests in flight they finish. Whether it
    drew from ``words``."""
    NI, P = counts.shape
    n_conn = inflight.size
    done_conn = np.zeros(n_conn, np.int64)
    for i in range(NI):
        per_i = 0
        for p in range(P):
            per_i += counts[i, p]
            done_conn[conn_flat[i * P + p]] += counts[i, p]
        acked[i] += per_i
        acked_bytes[i] += per_i * wire_per_msg[i]
    share = np.zeros(n_conn)
    for c in range(n_conn):
        if conn_unacked[c] > 0:
            share[c] = done_conn[c] / conn_unacked[c]
    finished = np.empty(n_conn, np.int64)
    drew = split_fraction_into(words, inflight, share, finished)
    for c in range(n_conn):
        conn_unacked[c] -= done_conn[c]
        inflight[c] -= inflight[c] if conn_unacked[c] <= 0 else finished[c]
    return drew


@njit(cache=True, error_model="numpy")
def commit(
    words: np.ndarray,
    all_led: bool,
    any_under_min_isr: bool,
    has_leader: np.ndarray,
    under_min_isr: np.ndarray,
    leo: np.ndarray,
    hw: np.ndarray,
    f_leo_at_leader: np.ndarray,
    segment_part: np.ndarray,
    segment_start: np.ndarray,
    unacked: np.ndarray,
) -> tuple[bool, np.ndarray, np.ndarray, bool]:
    """``SteppedWorld._advance_high_watermark`` after the fetcher loops, when every
    follower is in the ISR: the high watermark (changed in place) and the ``acks=all``
    messages it commits, taken off ``unacked``. Returns (whether it advanced, the high
    watermark before, the messages committed per (producer, partition), whether it drew)."""
    NI, P = unacked.shape
    F = f_leo_at_leader.size
    candidate = np.empty(P, np.int64)
    for p in range(P):
        candidate[p] = leo[p] if all_led or has_leader[p] else hw[p]
    segments = segment_start.size
    for s in range(segments):  # np.minimum.reduceat over the followers of each partition
        start = segment_start[s]
        end = segment_start[s + 1] if s + 1 < segments else F
        if end <= start:
            end = start + 1
        lowest = f_leo_at_leader[start]
        for f in range(start + 1, end):
            lowest = min(lowest, f_leo_at_leader[f])
        part = segment_part[s]
        candidate[part] = min(candidate[part], lowest)
    advanced = False
    for p in range(P):
        if any_under_min_isr and under_min_isr[p]:
            candidate[p] = hw[p]
        if candidate[p] > hw[p]:
            advanced = True
    if not advanced:
        return False, hw, unacked, False
    old = hw.copy()
    share = np.empty(P)
    waiting = np.zeros(P, np.int64)
    for p in range(P):
        hw[p] = max(hw[p], candidate[p])
        gained, uncommitted = hw[p] - old[p], leo[p] - old[p]
        share[p] = 1.0 if gained >= uncommitted else gained / max(uncommitted, 1)
    for i in range(NI):
        for p in range(P):
            waiting[p] += unacked[i, p]
    total = np.empty(P, np.int64)
    drew = split_fraction_into(words, waiting, share, total)
    # split_total(total, unacked): cumulative flooring down the producers
    committed = np.zeros((NI, P), np.int64)
    for p in range(P):
        whole = waiting[p]  # the cumulative sum's last row
        scale = total[p] / whole if whole > 0 else 0.0
        cumulative = 0
        before = 0
        for i in range(NI):
            cumulative += unacked[i, p]
            if i == NI - 1:
                floored = total[p] if whole > 0 else 0
            else:
                floored = np.int64(np.floor(cumulative * scale + EPSILON))
            committed[i, p] = floored - before
            before = floored
    for i in range(NI):
        for p in range(P):
            unacked[i, p] -= committed[i, p]
    return True, old, committed, drew
