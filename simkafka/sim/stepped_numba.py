"""The stepped engine's numba kernels (loaded through :func:`simkafka.sim.stepped_kernels.load`).

Each kernel stands for a stage of :class:`~simkafka.sim.stepped.SteppedWorld` (or a tool
of :mod:`simkafka.sim.fluid`) and does its arithmetic in the same order, to the same bits
(see :mod:`simkafka.sim.stepped_kernels`). Arrays the numpy code changes in place or
rebinds are changed in place here; what it returns is returned.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simkafka.sim.fluid import EPSILON


@njit(cache=True)
def max_min_share(
    demand: np.ndarray, src: np.ndarray, dst: np.ndarray, capacity: np.ndarray, rounds: int
) -> np.ndarray:
    """:func:`simkafka.sim.fluid.max_min_share`, in one loop per round."""
    n, links = demand.size, capacity.size
    alloc = np.zeros(n)
    remaining = capacity.astype(np.float64)
    nearly_empty = np.empty(links)
    for link in range(links):
        nearly_empty[link] = EPSILON * max(capacity[link], 1.0)
    active = np.empty(n, np.int64)
    count = 0
    for k in range(n):
        if demand[k] > EPSILON:
            active[count] = k
            count += 1
    users = np.empty(links, np.int64)
    fair = np.empty(links)
    summed = np.empty(links)
    grant = np.empty(n)
    for _ in range(rounds):
        if count == 0:
            break
        users[:] = 0
        for a in range(count):
            users[src[active[a]]] += 1
        for a in range(count):
            users[dst[active[a]]] += 1
        for link in range(links):
            fair[link] = remaining[link] / users[link] if users[link] > 0 else np.inf
        for a in range(count):
            k = active[a]
            g = min(demand[k] - alloc[k], min(fair[src[k]], fair[dst[k]]))
            grant[a] = g
            alloc[k] += g
        # remaining -= bincount(src, grant); remaining -= bincount(dst, grant)
        summed[:] = 0.0
        for a in range(count):
            summed[src[active[a]]] += grant[a]
        for link in range(links):
            remaining[link] -= summed[link]
        summed[:] = 0.0
        for a in range(count):
            summed[dst[active[a]]] += grant[a]
        for link in range(links):
            remaining[link] -= summed[link]
        kept = 0
        for a in range(count):
            k = active[a]
            full = remaining[src[k]] <= nearly_empty[src[k]] or (
                remaining[dst[k]] <= nearly_empty[dst[k]]
            )
            if demand[k] - alloc[k] > EPSILON and not full:
                active[kept] = k
                kept += 1
        count = kept
    return alloc


@njit(cache=True)
def replica_fetch_demand(
    now: float,
    half_step: float,
    wait_max: float,
    fetch_max: float,
    request_cpu: float,
    byte_cpu: float,
    leo: np.ndarray,
    f_stream: np.ndarray,
    f_part: np.ndarray,
    f_leader_broker: np.ndarray,
    f_net: np.ndarray,
    f_recv: np.ndarray,
    f_leo: np.ndarray,
    bpm: np.ndarray,
    follower_seconds: np.ndarray,
    f_caught_up: np.ndarray,
    f_fetch_leo: np.ndarray,
    f_fetch_time: np.ndarray,
    next_fetch: np.ndarray,
    stream_up: np.ndarray,
    stream_leader: np.ndarray,
    replica_wait: np.ndarray,
    response_bytes_kept: np.ndarray,
    response_lock_kept: np.ndarray,
    in_flight_kept: np.ndarray,
    broker_requests: np.ndarray,
) -> tuple[int, np.ndarray, np.ndarray]:
    """``SteppedWorld._replica_fetch_demand``: (fetch requests answered, the fetches' CPU
    per broker, bytes in the network per fetcher stream)."""
    F, R, B = f_stream.size, next_fetch.size, broker_requests.size
    pending = np.zeros(R)
    for f in range(F):
        pending[f_stream[f]] += f_net[f] + f_recv[f]
    busy = np.empty(R, np.bool_)
    for r in range(R):
        busy[r] = pending[r] > 0 or next_fetch[r] - now > half_step
    fetch = np.empty(F, np.int64)
    fetch_bytes = np.empty(F)
    response_bytes = np.zeros(R)
    response_lock = np.zeros(R)
    for f in range(F):
        idle = not busy[f_stream[f]]
        leader_leo = leo[f_part[f]]
        available = leader_leo - f_leo[f] if idle else 0
        cap = np.int64(max(1.0, np.floor(fetch_max / max(bpm[f], 1.0))))
        fetch[f] = min(available, cap)
        # Replica.updateFetchStateOrThrow at the fetch
        if idle:
            if f_leo[f] >= leader_leo:
                f_caught_up[f] = now
            elif f_leo[f] >= f_fetch_leo[f]:
                f_caught_up[f] = f_fetch_time[f]
            f_fetch_leo[f] = leader_leo
            f_fetch_time[f] = now
        fetch_bytes[f] = fetch[f] * bpm[f]
        response_bytes[f_stream[f]] += fetch_bytes[f]
    for f in range(F):
        response_lock[f_stream[f]] += fetch[f] * follower_seconds[f]
    answered = 0
    work = np.zeros(B)
    requests = np.zeros(B)
    for r in range(R):
        idle_stream = not busy[r] and stream_up[r]
        if idle_stream and replica_wait[r] < 0:
            replica_wait[r] = now
        responding = response_bytes[r] > 0
        done = idle_stream and (responding or now - replica_wait[r] >= wait_max)
        if done:
            answered += 1
            replica_wait[r] = -1.0
        work[stream_leader[r]] += done * request_cpu
        requests[stream_leader[r]] += done
        if responding:
            response_bytes_kept[r] = response_bytes[r]
            response_lock_kept[r] = response_lock[r]
            in_flight_kept[r] = True
    for b in range(B):
        broker_requests[b] += requests[b]
    fetch_cpu = np.zeros(B)
    for f in range(F):
        fetch_cpu[f_leader_broker[f]] += fetch_bytes[f] * byte_cpu
    for b in range(B):
        fetch_cpu[b] = work[b] + fetch_cpu[b]
    demand = np.zeros(R)
    for f in range(F):
        f_net[f] += fetch[f]
        demand[f_stream[f]] += f_net[f] * bpm[f]
    return answered, fetch_cpu, demand


@njit(cache=True)
def fetcher_loops(
    now: float,
    dt: float,
    threshold: float,
    loop_request_cpu: float,
    loop_byte_cpu: float,
    f_stream: np.ndarray,
    f_net: np.ndarray,
    f_leo: np.ndarray,
    f_leo_at_leader: np.ndarray,
    in_flight_kept: np.ndarray,
    round_trip: np.ndarray,
    response_bytes: np.ndarray,
    response_lock: np.ndarray,
    replica_loop: np.ndarray,
    replica_held: np.ndarray,
    next_fetch: np.ndarray,
) -> bool:
    """``SteppedWorld._fetcher_loops``: whether a response landed (a loop changed)."""
    F, R = f_stream.size, next_fetch.size
    in_net = np.zeros(R)
    for f in range(F):
        in_net[f_stream[f]] += f_net[f]
    changed = False
    fetching = np.empty(R, np.bool_)
    for r in range(R):
        in_flight = in_net[r] > 0
        if in_flight_kept[r] and not in_flight:
            loop = (
                round_trip[r]
                + (loop_request_cpu + response_bytes[r] * loop_byte_cpu)
                + response_lock[r]
            )
            held = np.floor(loop / dt + threshold) * dt
            replica_loop[r] = loop
            replica_held[r] = held
            next_fetch[r] = now + held
            changed = True
        in_flight_kept[r] = in_flight
        fetching[r] = not in_flight and next_fetch[r] - now <= 0.5 * dt
    for f in range(F):
        if fetching[f_stream[f]]:
            f_leo_at_leader[f] = f_leo[f]
    return changed


@njit(cache=True)
def high_watermark_wait(
    now: float,
    n_conn: int,
    wire: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    conn_v: np.ndarray,
    rate: np.ndarray,
    round_trip: np.ndarray,
    loop_request_cpu: float,
    loop_byte_cpu: float,
    lock_batch_s: float,
    lock_byte_s: float,
    leo: np.ndarray,
    f_part: np.ndarray,
    f_stream: np.ndarray,
    f_leo: np.ndarray,
    f_net: np.ndarray,
    f_recv: np.ndarray,
    bpm: np.ndarray,
    next_fetch: np.ndarray,
    replica_held: np.ndarray,
    replica_loop: np.ndarray,
    all_in_isr: bool,
    f_in_isr: np.ndarray,
    segment_part: np.ndarray,
    segment_start: np.ndarray,
    unacked: np.ndarray,
) -> np.ndarray:
    """``SteppedWorld._high_watermark_wait`` (its pairs ``rows``, ``cols``, ``conn_v``;
    ``wire`` bytes per (producer, partition), masked to ``acks=all`` already)."""
    out = np.zeros(n_conn)
    if rows.size == 0:
        return out
    NI, P = wire.shape
    F, R = f_stream.size, next_fetch.size
    wire_p = wire[0].copy()  # wire.sum(axis=0): the rows one by one
    for i in range(1, NI):
        for p in range(P):
            wire_p[p] += wire[i, p]
    has_batch = np.zeros(P, np.bool_)
    for k in range(cols.size):
        has_batch[cols[k]] = True
    carried = np.zeros(R)
    others = np.zeros(R)
    in_fetch = np.zeros(R)
    for f in range(F):
        carried[f_stream[f]] += wire_p[f_part[f]]
    for f in range(F):
        others[f_stream[f]] += (leo[f_part[f]] - f_leo[f] - f_net[f] - f_recv[f]) * bpm[f]
    for f in range(F):
        in_fetch[f_stream[f]] += (f_net[f] + f_recv[f]) * bpm[f]
    parked = np.empty(F)
    busy = np.empty(F)
    for f in range(F):
        r = f_stream[f]
        batch_lock = has_batch[f_part[f]] * lock_batch_s
        nbytes = carried[r]
        parked[f] = (
            round_trip[f]
            + (loop_request_cpu + nbytes * loop_byte_cpu)
            + nbytes / rate[f]
            + batch_lock
            + nbytes * lock_byte_s
        )
        if in_fetch[r] > 0:
            nbytes = in_fetch[r]
            residual = (
                round_trip[f]
                + (loop_request_cpu + nbytes * loop_byte_cpu)
                + nbytes / rate[f]
                + batch_lock
                + nbytes * lock_byte_s
            )
        else:
            residual = max(0.0, (next_fetch[r] - replica_held[r] + replica_loop[r]) - now)
        nbytes = carried[r] + others[r]
        loop = (
            round_trip[f]
            + (loop_request_cpu + nbytes * loop_byte_cpu)
            + nbytes / rate[f]
            + batch_lock
            + nbytes * lock_byte_s
        )
        busy[f] = residual + loop - parked[f]
        if not all_in_isr and not f_in_isr[f]:
            parked[f] = 0.0
            busy[f] = 0.0
    slowest = np.zeros(P)
    extra = np.zeros(P)
    segments = segment_start.size
    for s in range(segments):  # np.maximum.reduceat over the followers of each partition
        start = segment_start[s]
        end = segment_start[s + 1] if s + 1 < segments else F
        if end <= start:
            end = start + 1
        top_parked, top_busy = parked[start], busy[start]
        for f in range(start + 1, end):
            top_parked = max(top_parked, parked[f])
            top_busy = max(top_busy, busy[f])
        slowest[segment_part[s]] = top_parked
        extra[segment_part[s]] = top_busy
    total = np.zeros(P, np.int64)
    for i in range(unacked.shape[0]):
        for p in range(P):
            total[p] += unacked[i, p]
    for k in range(rows.size):
        c = cols[k]
        share = 1.0 - (unacked[rows[k], c] / total[c] if total[c] > 0 else 1.0)
        wait = slowest[c] + share * extra[c]
        if wait > out[conn_v[k]]:
            out[conn_v[k]] = wait
    return out


@njit(cache=True)
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
