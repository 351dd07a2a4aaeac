"""The stepped engine's numba kernels (loaded through :func:`simkafka.sim.stepped_kernels.load`).

Each kernel stands for a stage of :class:`~simkafka.sim.stepped.SteppedWorld` (or a tool
of :mod:`simkafka.sim.fluid`) and does its arithmetic in the same order, to the same bits
(see :mod:`simkafka.sim.stepped_kernels`). Arrays the numpy code changes in place or
rebinds are changed in place here; what it returns is returned.
"""

from __future__ import annotations

import ctypes

import numpy as np
from numba import njit

from simkafka.sim.fluid import EPSILON


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
def _interpolate(first_step, before, end, n, steps, step):  # noqa: ANN001, ANN202
    # CreationCurve._interpolate, for one message
    span = max(end - before, 1)
    within = min(max((n - before - 0.5) / span, 0.0), 1.0)
    return (first_step + within * steps) * step


@njit(cache=True, error_model="numpy")
def _creation_time(fine, fine_steps, coarse, coarse_len, coarse_every, step, s, n):  # noqa: ANN001, ANN202
    # CreationCurve.times for one message: the first step whose end count reaches n (the
    # newest when none does), found in the fine ring, or in the coarse rows below it
    window = fine.shape[0]
    oldest = max(0, fine_steps - window + 1)
    floor_count = 0 if oldest == 0 else fine[(oldest - 1) % window, s]
    if n > floor_count:
        lo, hi = oldest, fine_steps - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if fine[mid % window, s] >= n:
                hi = mid
            else:
                lo = mid + 1
        end = fine[lo % window, s]
        before = fine[(lo - 1) % window, s] if lo > 0 else 0
        return _interpolate(lo, before, end, n, 1, step)
    lo, hi = 1, coarse_len - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if coarse[mid, s] >= n:
            hi = mid
        else:
            lo = mid + 1
    return _interpolate(
        (lo - 1) * coarse_every, coarse[lo - 1, s], coarse[lo, s], n, coarse_every, step
    )


@njit(cache=True, error_model="numpy")
def creation_pieces(
    fine: np.ndarray,
    fine_steps: int,
    coarse: np.ndarray,
    coarse_len: int,
    coarse_every: int,
    step: float,
    recent: int,
    series: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    counts: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``SteppedWorld._creation_pieces`` over ``CreationCurve.segments``: the pieces come
    out range by range (the segments' stable sort by range), a range's in step order."""
    size = series.size
    window = fine.shape[0]
    oldest = max(0, fine_steps - window + 1)
    recent_steps = min(recent, fine_steps - oldest)
    first = fine_steps - recent_steps
    pieces = size * max(recent_steps, 1)  # at most one a step (or one for a backlog)
    piece = np.empty(pieces, np.int64)
    t_old = np.empty(pieces)
    t_new = np.empty(pieces)
    n = np.empty(pieces, np.int64)
    block = np.empty(recent_steps + 1, np.int64)
    k = 0
    for r in range(size):
        s, low = series[r], lo[r]
        high = max(hi[r], low)
        inside = False
        if recent_steps > 0:
            for j in range(recent_steps + 1):  # ends of steps first-1 .. steps-1
                block[j] = fine[(first - 1 + j) % window, s]
            if first == 0:
                block[0] = 0
            inside = block[0] <= low and high <= block[recent_steps]
        if inside:
            for j in range(recent_steps):
                a = min(max(block[j], low), high)
                b = min(max(block[j + 1], low), high)
                if b == a:
                    continue
                before = block[j]
                span = max(block[j + 1] - before, 1)
                piece[k] = r
                t_old[k] = (first + j + (a - before) / span) * step
                t_new[k] = (first + j + (b - before) / span) * step
                n[k] = b - a
                k += 1
        elif high > low:
            piece[k] = r
            t_old[k] = _creation_time(
                fine, fine_steps, coarse, coarse_len, coarse_every, step, s, low + 1
            )
            t_new[k] = _creation_time(
                fine, fine_steps, coarse, coarse_len, coarse_every, step, s, high
            )
            n[k] = high - low
            k += 1
    # each range's messages scaled to its count, integers by cumulative rounding
    total = np.zeros(size)
    for i in range(k):
        total[piece[i]] += n[i]
    scale = np.zeros(size)
    for r in range(size):
        if total[r] > 0:
            scale[r] = counts[r] / total[r]
    out = np.empty(k, np.int64)
    running = 0.0
    previous = 0
    for i in range(k):
        running += n[i] * scale[piece[i]]
        rounded = np.int64(np.rint(running))
        out[i] = rounded - previous
        previous = rounded
    return piece[:k].copy(), t_old[:k].copy(), t_new[:k].copy(), out


@njit(cache=True, error_model="numpy")
def share_network_unconstrained(
    dt: float,
    n_prod: int,
    net: np.ndarray,
    wire_per_msg: np.ndarray,
    conn_flat: np.ndarray,
    rep_bytes: np.ndarray,
    con_bytes: np.ndarray,
    link_capacity: np.ndarray,
    link_debt: np.ndarray,
    link_overhead: np.ndarray,
    flow_src: np.ndarray,
    flow_dst: np.ndarray,
    f_net: np.ndarray,
    f_recv: np.ndarray,
    stream_response: np.ndarray,
    c_net: np.ndarray,
    buffered: np.ndarray,
    nic_out: np.ndarray,
    nic_in: np.ndarray,
    bytes_out: np.ndarray,
    bytes_in: np.ndarray,
    busy_out: np.ndarray,
    busy_in: np.ndarray,
    client_bytes_out: np.ndarray,
    client_bytes_in: np.ndarray,
) -> tuple[bool, np.ndarray, np.ndarray, np.ndarray]:
    """``SteppedWorld._share_network`` when no link is short: every flow moves what it
    asked for, and no message is rounded (no draw). Returns (False, ...) having changed
    nothing when a link is short -- the numpy code then shares it, drawing its
    roundings -- else (True, messages arrived per (producer, partition), each flow's
    bytes, the replica responses arrived per follower)."""
    NI, P = net.shape
    n_rep = rep_bytes.size
    flows, links = flow_src.size, link_capacity.size
    prod_bytes = np.zeros(n_prod)
    for i in range(NI):
        for p in range(P):
            if net[i, p] != 0:
                prod_bytes[conn_flat[i * P + p]] += net[i, p] * wire_per_msg[i]
    demand = np.empty(flows)
    demand[:n_prod] = prod_bytes
    demand[n_prod : n_prod + n_rep] = rep_bytes
    demand[n_prod + n_rep :] = con_bytes
    available = np.empty(links)
    capacity = np.empty(links)
    for link in range(links):
        available[link] = link_capacity[link] * dt - link_debt[link]
        capacity[link] = max(0.0, available[link] - link_overhead[link])
    alloc = max_min_share(demand, flow_src, flow_dst, capacity, 8)
    for k in range(flows):
        if demand[k] > 0 and alloc[k] / demand[k] < 1.0:
            return False, net, demand, f_net
    moved = np.zeros((NI, P), np.int64)
    for i in range(NI):
        for p in range(P):
            moved[i, p] = net[i, p]
            net[i, p] = 0
    replica_arrived = f_net.copy()
    for f in range(f_net.size):
        f_recv[f] += f_net[f]
        f_net[f] = 0
    for r in range(n_rep):
        stream_response[r] += rep_bytes[r]
    G = c_net.shape[0]
    for g in range(G):
        for p in range(c_net.shape[1]):
            buffered[g, p] += c_net[g, p]
            c_net[g, p] = 0
    # (flow_bytes is the demand: everything moved)
    used_src = np.zeros(links)
    used_dst = np.zeros(links)
    granted_src = np.zeros(links)
    granted_dst = np.zeros(links)
    for k in range(flows):
        used_src[flow_src[k]] += demand[k]
        used_dst[flow_dst[k]] += demand[k]
        granted_src[flow_src[k]] += alloc[k]
        granted_dst[flow_dst[k]] += alloc[k]
    B = nic_out.size
    for link in range(links):
        used = link_overhead[link] + used_src[link] + used_dst[link]
        granted = granted_src[link] + granted_dst[link]
        over = used - available[link]
        if granted >= capacity[link] - EPSILON * max(capacity[link], 1.0):
            link_debt[link] = over
        else:
            link_debt[link] = max(0.0, over)
        if link < 2 * B:
            b = link // 2
            if link % 2 == 0:
                bytes_out[b] += used
                busy_out[b] += used / nic_out[b]
            else:
                bytes_in[b] += used
                busy_in[b] += used / nic_in[b]
        elif link % 2 == 0:
            client_bytes_out[(link - 2 * B) // 2] += used
        else:
            client_bytes_in[(link - 2 * B) // 2] += used
    return True, moved, demand, replica_arrived


# -- numpy's PCG64 inside the kernels ---------------------------------------------------------
# A kernel that rounds at random draws from the engine's own generator: its PCG64 state
# goes in as four words and comes back advanced, so the draws are the ones numpy's
# ``Generator.random`` would have made, in the same order (passing the Generator itself
# costs tens of microseconds a call).

_MULT_HI = np.uint64(0x2360ED051FC65DA4)  # PCG_DEFAULT_MULTIPLIER_128
_MULT_LO = np.uint64(0x4385DF649FCCF645)
_MASK32 = np.uint64(0xFFFFFFFF)
_U32 = np.uint64(32)
_U58 = np.uint64(58)
_U64 = np.uint64(64)
_U63 = np.uint64(63)
_U11 = np.uint64(11)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)
_WORD = (1 << 64) - 1


def rng_words(rng: np.random.Generator) -> np.ndarray:
    """A copy of the PCG64 state of ``rng`` as (state low, state high, increment low,
    high); :func:`set_rng_words` puts it back."""
    state = rng.bit_generator.state["state"]
    s, inc = state["state"], state["inc"]
    return np.array([s & _WORD, s >> 64, inc & _WORD, inc >> 64], dtype=np.uint64)


def set_rng_words(rng: np.random.Generator, words: np.ndarray) -> None:
    """Put the state a kernel advanced (see :func:`rng_words`) back into ``rng``."""
    full = rng.bit_generator.state
    lo, hi, inc_lo, inc_hi = (int(w) for w in words)
    full["state"] = {"state": (hi << 64) | lo, "inc": (inc_hi << 64) | inc_lo}
    rng.bit_generator.state = full


def rng_state_view(rng: np.random.Generator) -> np.ndarray | None:
    """The PCG64 state of ``rng`` itself, as four words a kernel advances in place (no
    copy in and out), or None when its memory is not laid out as :func:`rng_words`
    orders it (numpy built without 128-bit integers): then the state is copied."""
    bit_generator = rng.bit_generator
    if not isinstance(bit_generator, np.random.PCG64):
        return None
    # pcg64_state {pcg64_random_t *pcg_state; ...}; pcg64_random_t {state; inc}
    pointer = ctypes.c_void_p.from_address(bit_generator.ctypes.state_address).value
    if not pointer:
        return None
    view = np.ctypeslib.as_array(ctypes.cast(pointer, ctypes.POINTER(ctypes.c_uint64)), (4,))
    if not np.array_equal(view, rng_words(rng)):
        return None
    return view


@njit(cache=True, error_model="numpy")
def _mulhi64(a, b):  # noqa: ANN001, ANN202
    a_lo, a_hi = a & _MASK32, a >> _U32
    b_lo, b_hi = b & _MASK32, b >> _U32
    p0, p1, p2, p3 = a_lo * b_lo, a_lo * b_hi, a_hi * b_lo, a_hi * b_hi
    mid = (p0 >> _U32) + (p1 & _MASK32) + (p2 & _MASK32)
    return p3 + (p1 >> _U32) + (p2 >> _U32) + (mid >> _U32)


@njit(cache=True, error_model="numpy")
def next_double(words: np.ndarray) -> float:
    """``Generator.random()`` of numpy's PCG64 (XSL-RR output), advancing ``words``."""
    sl, sh, il, ih = words[0], words[1], words[2], words[3]
    lo = sl * _MULT_LO
    hi = _mulhi64(sl, _MULT_LO) + sh * _MULT_LO + sl * _MULT_HI
    new_lo = lo + il
    carry = _ONE if new_lo < lo else _ZERO
    new_hi = hi + ih + carry
    words[0], words[1] = new_lo, new_hi
    x = new_hi ^ new_lo
    rot = new_hi >> _U58
    out = (x >> rot) | (x << ((_U64 - rot) & _U63))
    return np.float64(out >> _U11) * (1.0 / 9007199254740992.0)


@njit(cache=True, error_model="numpy")
def draw_many(words: np.ndarray, n: int) -> np.ndarray:
    """``Generator.random(n)`` (for the tests)."""
    out = np.empty(n)
    for k in range(n):
        out[k] = next_double(words)
    return out


@njit(cache=True, error_model="numpy")
def read_requests(
    t0: float,
    t1: float,
    now: float,
    words: np.ndarray,
    sock: np.ndarray,
    net: np.ndarray,
    cpu_q: np.ndarray,
    conn_flat: np.ndarray,
    conn_broker: np.ndarray,
    inflight: np.ndarray,
    conn_unacked: np.ndarray,
    dirty_waiting: np.ndarray,
    cpu_backlog: np.ndarray,
    threads: np.ndarray,
    network_backlog: np.ndarray,
    network_threads: np.ndarray,
    request_work: np.ndarray,
    queued_max_requests: int,
    mif_conn: np.ndarray,
    turns: np.ndarray,
    wire_per_msg: np.ndarray,
    lock_per_message: np.ndarray,
    per_batch: np.ndarray,
    lock_batch_s: np.ndarray,
    fixed_service: float,
    byte_service: float,
    channel_free_at: np.ndarray,
    request_bytes: np.ndarray,
    request_service: np.ndarray,
    channel_busy: np.ndarray,
    wait_for_hw: bool,
    only_all_acks: bool,
    all_acks: np.ndarray,
    hw_args: tuple,
) -> tuple[np.ndarray, bool]:
    """``SteppedWorld._read_requests`` with ``_service`` (``hw_args``: the follower state
    that ``high_watermark_wait`` takes after its pairs). Returns (messages read per
    (producer, partition), whether it drew from ``words``)."""
    NI, P = sock.shape
    n_conn = conn_broker.size
    read = np.zeros((NI, P), np.int64)
    count = 0
    for i in range(NI):
        for p in range(P):
            if sock[i, p] != 0:
                count += 1
    if count == 0:
        return read, False
    flat = np.empty(count, np.int64)
    sock_v = np.empty(count, np.int64)
    conn_v = np.empty(count, np.int64)
    sock_c = np.zeros(n_conn)
    k = 0
    for i in range(NI):
        for p in range(P):
            if sock[i, p] != 0:
                flat[k] = i * P + p
                sock_v[k] = sock[i, p]
                conn_v[k] = conn_flat[i * P + p]
                sock_c[conn_v[k]] += sock_v[k]
                k += 1
    net_c = np.zeros(n_conn)
    leftover = np.zeros(n_conn, np.bool_)
    any_leftover = False
    for i in range(NI):
        for p in range(P):
            if net[i, p] != 0:
                net_c[conn_flat[i * P + p]] += net[i, p]
            if cpu_q[i, p] > 0:
                leftover[conn_flat[i * P + p]] = True
                any_leftover = True
    stuck = np.empty(n_conn, np.bool_)
    request = np.empty(n_conn)
    queue_wait = np.empty(n_conn)
    free_at = channel_free_at.copy()
    for c in range(n_conn):
        b = conn_broker[c]
        if inflight[c] > 0:
            request[c] = np.ceil(conn_unacked[c] / max(inflight[c], 1))
        else:
            request[c] = sock_c[c]
        queue_wait[c] = cpu_backlog[b] / threads[b] + network_backlog[b] / network_threads[b]
        queued = cpu_backlog[b] / max(request_work[b], 1e-9)
        stuck[c] = (leftover[c] and dirty_waiting[c]) or queued >= queued_max_requests
    wide = lock_per_message.shape[1] > 1
    if any_leftover:
        # a connection with a request still queued reads once its locks worked it off
        queued_lock = np.zeros(P)
        for i in range(NI):
            for p in range(P):
                queued_lock[p] += cpu_q[i, p] * lock_per_message[i, p if wide else 0]
        finish = np.zeros(n_conn)
        for i in range(NI):
            for p in range(P):
                c = conn_flat[i * P + p]
                value = queued_lock[p] if cpu_q[i, p] > 0 else 0.0
                finish[c] = max(finish[c], value)
        for c in range(n_conn):
            if leftover[c]:
                free_at[c] = max(free_at[c], t0 + queue_wait[c] + finish[c])
    loops = 0.0
    for c in range(n_conn):
        loops = max(loops, mif_conn[c] * turns[c])
    drew = False
    take_c = np.empty(n_conn)
    frac = np.empty(n_conn)
    moved_all = np.empty(count, np.int64)
    moved_c = np.empty(n_conn)
    bytes_c = np.empty(n_conn)
    wire = np.zeros((NI, P))
    for _ in range(int(loops) + 1):
        any_can = False
        lowest = np.inf
        for c in range(n_conn):
            whole = sock_c[c] >= request[c] - 1e-9 or net_c[c] <= 0
            can = free_at[c] < t1 - 1e-12 and not stuck[c] and sock_c[c] > 0 and whole
            take_c[c] = min(sock_c[c], max(request[c], 1.0)) if can else 0.0
            frac[c] = take_c[c] / sock_c[c] if sock_c[c] > 0 else 0.0
            lowest = min(lowest, frac[c])
            any_can = any_can or can
        if not any_can:
            break
        # split_fraction(sock_v, clip(frac)[conn_v], clamped=True)
        all_move = lowest >= 1.0
        if not all_move:
            all_move = True
            for k in range(count):
                if min(max(frac[conn_v[k]], 0.0), 1.0) < 1.0:
                    all_move = False
                    break
        any_taken = False
        for k in range(count):
            if all_move:
                moved_all[k] = sock_v[k]
            else:
                want = sock_v[k] * min(max(frac[conn_v[k]], 0.0), 1.0)
                whole_part = np.floor(want)
                rest = want - whole_part
                if rest > EPSILON:
                    drew = True
                    if next_double(words) < rest:
                        whole_part += 1.0
                moved_all[k] = min(np.int64(whole_part), sock_v[k])
            if moved_all[k] > 0:
                any_taken = True
        if not any_taken:
            break
        moved_c[:] = 0.0
        bytes_c[:] = 0.0
        taken = 0
        for k in range(count):
            sock_v[k] -= moved_all[k]
            if moved_all[k] > 0:
                taken += 1
        m_flat = np.empty(taken, np.int64)
        m_rows = np.empty(taken, np.int64)
        m_cols = np.empty(taken, np.int64)
        m_conn = np.empty(taken, np.int64)
        moved_v = np.empty(taken, np.int64)
        wire[:, :] = 0.0
        j = 0
        for k in range(count):
            if moved_all[k] <= 0:
                continue
            f = flat[k]
            i, p = f // P, f % P
            m_flat[j], m_rows[j], m_cols[j], m_conn[j] = f, i, p, conn_v[k]
            moved_v[j] = moved_all[k]
            sock[i, p] = sock_v[k]
            read[i, p] += moved_all[k]
            moved_c[conn_v[k]] += moved_all[k]
            wire_v = moved_all[k] * wire_per_msg[i]
            wire[i, p] = wire_v
            bytes_c[conn_v[k]] += wire_v
            j += 1
        # _service: the channel's hold by the request, queueing excepted
        lock_c = np.zeros(n_conn)
        for j in range(taken):
            i = m_rows[j]
            per_message = lock_per_message[i, m_cols[j] if wide else 0] - (
                lock_batch_s[i] / per_batch[i]
            )
            lock_c[m_conn[j]] += lock_batch_s[i] + moved_v[j] * per_message
        service = np.empty(n_conn)
        for c in range(n_conn):
            service[c] = fixed_service + bytes_c[c] * byte_service + lock_c[c]
        if wait_for_hw:
            if only_all_acks:
                hw = high_watermark_wait(now, n_conn, wire, m_rows, m_cols, m_conn, *hw_args)
            else:
                keep = 0
                for j in range(taken):
                    if all_acks[m_rows[j]]:
                        keep += 1
                k_rows = np.empty(keep, np.int64)
                k_cols = np.empty(keep, np.int64)
                k_conn = np.empty(keep, np.int64)
                keep = 0
                for j in range(taken):
                    if all_acks[m_rows[j]]:
                        k_rows[keep], k_cols[keep], k_conn[keep] = m_rows[j], m_cols[j], m_conn[j]
                        keep += 1
                masked = np.empty((NI, P))
                for i in range(NI):
                    for p in range(P):
                        masked[i, p] = wire[i, p] * all_acks[i]
                hw = high_watermark_wait(now, n_conn, masked, k_rows, k_cols, k_conn, *hw_args)
            for c in range(n_conn):
                service[c] += hw[c]
        for c in range(n_conn):
            if moved_c[c] > 0:
                request_bytes[c] = bytes_c[c]
            sock_c[c] -= moved_c[c]
            start = max(free_at[c], t0)
            held = queue_wait[c] + service[c] if moved_c[c] > 0 else 0.0
            if moved_c[c] > 0:
                request_service[c] = held
                free_at[c] = start + held
            channel_busy[c] += held
    channel_free_at[:] = free_at
    return read, drew


@njit(cache=True, error_model="numpy")
def _split_fraction(words, backlog, fraction, out):  # noqa: ANN001, ANN202
    # fluid.split_fraction (not clamped, no groups) into ``out``: whether it drew
    size = backlog.size
    if size == 0:
        return False
    lowest = np.inf
    for k in range(size):
        lowest = min(lowest, fraction[k])
    if lowest >= 1.0:
        out[:] = backlog
        return False
    drew = False
    for k in range(size):
        want = backlog[k] * min(max(fraction[k], 0.0), 1.0)
        whole = np.floor(want)
        rest = want - whole
        if rest > EPSILON:
            drew = True
            if next_double(words) < rest:
                whole += 1.0
        out[k] = min(np.int64(whole), backlog[k])
    return drew


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
    drew = _split_fraction(words, inflight, share, finished)
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
    drew = _split_fraction(words, waiting, share, total)
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


@njit(cache=True, error_model="numpy")
def handle_requests(
    byte_cpu: float,
    read: np.ndarray,
    cpu_q: np.ndarray,
    wire_per_msg: np.ndarray,
    leader: np.ndarray,
    cpu_backlog: np.ndarray,
    produce_request_cpu: np.ndarray,
    fetch_cpu: np.ndarray,
    broker_requests: np.ndarray,
    requests_before: np.ndarray,
    request_work: np.ndarray,
    thread_seconds: np.ndarray,
    cpu_busy: np.ndarray,
    queue_wait: np.ndarray,
    threads: np.ndarray,
    f_stream: np.ndarray,
    f_recv: np.ndarray,
    bpm_f: np.ndarray,
    conn_flat: np.ndarray,
    conn_broker: np.ndarray,
    request_bytes: np.ndarray,
    dirty_limit: np.ndarray,
    dirty: np.ndarray,
    write_back_room: np.ndarray,
    stream_response: np.ndarray,
    writer_pool: np.ndarray,
) -> tuple[bool, bool, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first half of ``SteppedWorld._handle_and_append``, from the requests read to
    the dirty-page writers' demands: the handler threads' step and each writer's request.
    Returns (whether a handler pool is short, whether every writer's whole turn fits in
    its dirty-page room, the handlers' fraction done per broker, and the writers'
    ``room``, ``demand``, ``turn``, ``produce_bytes``)."""
    NI, P = cpu_q.shape
    B = cpu_backlog.size
    n_conn = conn_broker.size
    R = stream_response.size
    read_bytes = np.zeros(P)  # (read * wire_per_msg[:, None]).sum(axis=0): row by row
    for i in range(NI):
        for p in range(P):
            cpu_q[i, p] += read[i, p]
            read_bytes[p] += read[i, p] * wire_per_msg[i]
    arrived_bytes = np.zeros(B)
    for p in range(P):
        arrived_bytes[leader[p]] += read_bytes[p]
    any_short = False
    cpu_frac = np.ones(B)
    for b in range(B):
        work = cpu_backlog[b] + produce_request_cpu[b] + fetch_cpu[b] + arrived_bytes[b] * byte_cpu
        handled = broker_requests[b] - requests_before[b]
        requests_before[b] = broker_requests[b]
        if handled > 0:
            request_work[b] = (work - cpu_backlog[b]) / max(handled, 1.0)
        done = min(work, thread_seconds[b])
        cpu_busy[b] += done
        cpu_backlog[b] = work - done
        queue_wait[b] += cpu_backlog[b] / threads[b]
        if work > thread_seconds[b]:
            any_short = True
            cpu_frac[b] = done / work
    stream_bytes = np.zeros(R)
    for f in range(f_stream.size):
        stream_bytes[f_stream[f]] += f_recv[f] * bpm_f[f]
    produce_bytes = np.zeros(n_conn)
    for i in range(NI):
        for p in range(P):
            produce_bytes[conn_flat[i * P + p]] += cpu_q[i, p] * wire_per_msg[i]
    for c in range(n_conn):
        if any_short:
            produce_bytes[c] *= cpu_frac[conn_broker[c]]
        if not produce_bytes[c] > 0:
            request_bytes[c] = 0.0
    room = np.empty(B)
    for b in range(B):
        room[b] = max(0.0, dirty_limit[b] - dirty[b] + write_back_room[b])
    demand = np.empty(n_conn + R)
    turn = np.empty(n_conn + R)
    demand[:n_conn] = produce_bytes
    demand[n_conn:] = stream_bytes
    tiny = False
    for c in range(n_conn):
        turn[c] = max(request_bytes[c], produce_bytes[c])
    for r in range(R):
        turn[n_conn + r] = max(stream_response[r], stream_bytes[r])
    turns = np.zeros(B)
    for k in range(n_conn + R):
        turns[writer_pool[k]] += turn[k]
        if demand[k] > 0 and demand[k] <= EPSILON:
            tiny = True
    fits = not tiny
    for b in range(B):
        if not turns[b] <= room[b]:
            fits = False
    return any_short, fits, cpu_frac, room, demand, turn, produce_bytes


@njit(cache=True, error_model="numpy")
def append_locks_unconstrained(
    dt: float,
    index_entry_bytes: int,
    candidates: np.ndarray,
    per_batch: np.ndarray,
    seconds_per_msg: np.ndarray,
    lock_debt: np.ndarray,
    lock_busy: np.ndarray,
    wire_per_msg: np.ndarray,
    index_interval: np.ndarray,
) -> tuple[bool, np.ndarray, np.ndarray]:
    """``SteppedWorld._append_locks`` when no lock is full (and no log flushes by
    messages or time): every candidate is appended. Returns (False, ...) having changed
    nothing when a lock is full, else (True, the locks' seconds used, the index bytes
    per partition). The leader's batch count (a matrix product) stays in numpy."""
    NI, P = candidates.shape
    wide = seconds_per_msg.shape[1] > 1
    demand = np.zeros(P)
    for i in range(NI):
        for p in range(P):
            demand[p] += candidates[i, p] * seconds_per_msg[i, p if wide else 0]
    for p in range(P):
        if demand[p] > dt - lock_debt[p]:
            return False, demand, demand
    for p in range(P):
        over = demand[p] - (dt - lock_debt[p])
        lock_debt[p] = max(0.0, over)
        lock_busy[p] += demand[p]
    index_bytes = np.zeros(P)
    for i in range(NI):
        batch_bytes = max(1, np.int64(per_batch[i] * wire_per_msg[i]))
        for p in range(P):
            every = index_interval[p] // batch_bytes + 1
            index_bytes[p] += candidates[i, p] / per_batch[i] / every * index_entry_bytes
    return True, demand, index_bytes


@njit(cache=True, error_model="numpy")
def appended_to_logs(
    index_entry_bytes: int,
    appended: np.ndarray,
    f_take: np.ndarray,
    f_leo: np.ndarray,
    f_lock_busy: np.ndarray,
    follower_seconds: np.ndarray,
    cpu_q: np.ndarray,
    wire_per_msg: np.ndarray,
    leo: np.ndarray,
    leo_bytes: np.ndarray,
    leo_batches: np.ndarray,
    leader: np.ndarray,
    p_dir: np.ndarray,
    f_dir: np.ndarray,
    f_part: np.ndarray,
    f_broker: np.ndarray,
    bpm_f: np.ndarray,
    index_interval_f: np.ndarray,
    index_bytes_p: np.ndarray,
    dir_dirty: np.ndarray,
    dir_broker: np.ndarray,
    dirty: np.ndarray,
    written_total: np.ndarray,
) -> np.ndarray:
    """The end of ``SteppedWorld._handle_and_append``: the followers append ``f_take``,
    the leaders' logs take the ``appended`` messages, and every log directory the pages
    they dirtied (with their index entries). Returns the leaders' log end offsets before."""
    NI, P = appended.shape
    B, D, F = dirty.size, dir_dirty.size, f_take.size
    per_p = np.zeros(P, np.int64)
    bytes_p = np.zeros(P)
    for i in range(NI):
        for p in range(P):
            cpu_q[i, p] -= appended[i, p]
            per_p[p] += appended[i, p]
            bytes_p[p] += appended[i, p] * wire_per_msg[i]
    old_leo = leo.copy()
    leader_bytes = np.zeros(B)
    for p in range(P):
        leo[p] += per_p[p]
        leo_bytes[p] += bytes_p[p]
        leader_bytes[leader[p]] += bytes_p[p]
    f_bytes = np.zeros(B)
    for f in range(F):
        f_leo[f] += f_take[f]
        f_lock_busy[f] += f_take[f] * follower_seconds[f]
        f_bytes[f_broker[f]] += f_take[f] * bpm_f[f]
    leader_dir = np.zeros(D)
    for p in range(P):
        leader_dir[p_dir[p]] += bytes_p[p]
    follower_dir = np.zeros(D)
    for f in range(F):
        follower_dir[f_dir[f]] += f_take[f] * bpm_f[f]
    # _index_bytes: the followers' appends hold their leader log's mean batches
    index_leader = np.zeros(D)
    for p in range(P):
        index_leader[p_dir[p]] += index_bytes_p[p]
    index_follower = np.zeros(D)
    for f in range(F):
        part = f_part[f]
        r = leo[part] / leo_batches[part] if leo_batches[part] > 0 else 1.0
        batch_bytes = max(1, np.int64(r * bpm_f[f]))
        every = index_interval_f[f] // batch_bytes + 1
        index_follower[f_dir[f]] += f_take[f] / r / every * index_entry_bytes
    for d in range(D):
        dir_dirty[d] += leader_dir[d] + follower_dir[d] + (index_leader[d] + index_follower[d])
    dirty[:] = 0.0
    for d in range(D):
        dirty[dir_broker[d]] += dir_dirty[d]
    for b in range(B):
        written_total[b] += leader_bytes[b] + f_bytes[b]
    return old_leo


@njit(cache=True, error_model="numpy")
def consumer_fetch_demand_uncut(
    now: float,
    byte_cpu: float,
    request_cpu: float,
    any_prefill: bool,
    all_sessions_up: bool,
    bpm: np.ndarray,
    c_stream: np.ndarray,
    c_net: np.ndarray,
    fetchable: np.ndarray,
    owned: np.ndarray,
    buffered: np.ndarray,
    in_batch: np.ndarray,
    hw: np.ndarray,
    position: np.ndarray,
    partition_fetch_max: np.ndarray,
    session_fetch_max: np.ndarray,
    leo: np.ndarray,
    leo_bytes: np.ndarray,
    written_total: np.ndarray,
    leader: np.ndarray,
    leader_page_cache: np.ndarray,
    prefill_p: np.ndarray,
    consumer_wait: np.ndarray,
    session_max_wait: np.ndarray,
    session_fetch_min: np.ndarray,
    session_up: np.ndarray,
    session_broker: np.ndarray,
    session_member: np.ndarray,
    request_size: np.ndarray,
    response_size: np.ndarray,
    member_egress: np.ndarray,
    header_bytes_in: np.ndarray,
    link_overhead: np.ndarray,
    broker_requests: np.ndarray,
    fetch_cpu: np.ndarray,
) -> tuple[int, int, np.ndarray, np.ndarray]:
    """``SteppedWorld._consumer_fetch_demand`` when no response is cut -- by
    ``fetch.max.bytes`` or by the disk reads of data older than the page cache -- so no
    fetch is rounded. Returns (0, ...) having changed nothing when one is cut (the numpy
    code then cuts it, drawing its roundings), else (1, the fetch requests answered, the
    fetches' CPU per broker, the bytes in the network per fetch session)."""
    G, P = c_stream.shape
    n_sessions, B = session_broker.size, broker_requests.size
    M = member_egress.size
    in_net = np.zeros(n_sessions)
    for g in range(G):
        for p in range(P):
            in_net[c_stream[g, p]] += c_net[g, p]
    fetch = np.empty((G, P), np.int64)
    want = np.zeros(n_sessions)
    for g in range(G):
        for p in range(P):
            eligible = fetchable[g, p] and buffered[g, p] == in_batch[g, p]
            eligible = eligible and in_net[c_stream[g, p]] == 0
            available = hw[p] - position[g, p] if eligible else 0
            cap = np.int64(max(1.0, np.floor(partition_fetch_max[g] / max(bpm[p], 1.0))))
            fetch[g, p] = min(available, cap)
            want[c_stream[g, p]] += fetch[g, p] * bpm[p]
    for c in range(n_sessions):
        if want[c] > session_fetch_max[c]:
            return 0, 0, fetch_cpu, want
    wide = leader_page_cache.shape[0] > 1
    for p in range(P):
        ratio = written_total[leader[p]] / max(leo_bytes[p], 1.0)
        for g in range(G):
            if fetch[g, p] > 0:
                lag_bytes = (leo[p] - position[g, p]) * bpm[p]
                if lag_bytes * ratio > leader_page_cache[g if wide else 0, p]:
                    return 0, 0, fetch_cpu, want
                if any_prefill and position[g, p] < prefill_p[p]:
                    return 0, 0, fetch_cpu, want
    answer = np.zeros(n_sessions, np.bool_)
    answered = 0
    for c in range(n_sessions):
        idle = in_net[c] == 0
        if idle and consumer_wait[c] < 0:
            consumer_wait[c] = now
        waited = now - consumer_wait[c] >= session_max_wait[c]
        answer[c] = idle and (want[c] >= session_fetch_min[c] or waited)
        if not all_sessions_up:
            answer[c] = answer[c] and session_up[c]
        if answer[c]:
            answered += 1
    demand = np.zeros(n_sessions)
    if answered == 0:  # nothing is fetched: the network holds what it held
        for g in range(G):
            for p in range(P):
                demand[c_stream[g, p]] += c_net[g, p] * bpm[p]
        return 1, 0, fetch_cpu, demand
    # the fetch requests' headers and their responses' (_fetch_headers)
    into_broker = np.zeros(B)
    out_of_broker = np.zeros(B)
    from_member = np.zeros(M)
    to_member = np.zeros(M)
    requests = np.zeros(B)
    for c in range(n_sessions):
        request = answer[c] * request_size[c]
        response = answer[c] * response_size[c]
        into_broker[session_broker[c]] += request
        out_of_broker[session_broker[c]] += response
        from_member[session_member[c]] += request
        to_member[session_member[c]] += response
        requests[session_broker[c]] += answer[c]
        if answer[c]:
            consumer_wait[c] = -1.0
    for b in range(B):
        header_bytes_in[b] += into_broker[b]
        link_overhead[2 * b + 1] += into_broker[b]
    for b in range(B):
        link_overhead[2 * b] += out_of_broker[b]
    raised = np.empty(M)  # link_overhead[hosts] += ...: numpy's repeated-index semantics
    for m in range(M):
        raised[m] = link_overhead[member_egress[m]] + from_member[m]
    for m in range(M):
        link_overhead[member_egress[m]] = raised[m]
    for m in range(M):
        raised[m] = link_overhead[member_egress[m] + 1] + to_member[m]
    for m in range(M):
        link_overhead[member_egress[m] + 1] = raised[m]
    for b in range(B):
        broker_requests[b] += requests[b]
    fetched = np.zeros(B)
    for g in range(G):
        for p in range(P):
            if not (answer[c_stream[g, p]] and owned[g, p]):
                fetch[g, p] = 0
            position[g, p] += fetch[g, p]
            c_net[g, p] += fetch[g, p]
            fetched[leader[p]] += fetch[g, p] * bpm[p] * byte_cpu
    answer_cpu = np.zeros(B)
    for c in range(n_sessions):
        answer_cpu[session_broker[c]] += answer[c] * request_cpu
    out_cpu = np.empty(B)
    for b in range(B):
        out_cpu[b] = fetch_cpu[b] + fetched[b] + answer_cpu[b]
    for g in range(G):
        for p in range(P):
            demand[c_stream[g, p]] += c_net[g, p] * bpm[p]
    return 1, answered, out_cpu, demand


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
def write_back_and_network(
    network_request_cpu: float,
    network_byte_cpu: float,
    dir_dirty: np.ndarray,
    dir_write_step: np.ndarray,
    dir_write: np.ndarray,
    dir_written: np.ndarray,
    dir_write_busy: np.ndarray,
    dir_broker: np.ndarray,
    dirty: np.ndarray,
    disk_written: np.ndarray,
    disk_write_busy: np.ndarray,
    broker_requests: np.ndarray,
    bytes_in: np.ndarray,
    bytes_out: np.ndarray,
    seen_requests: np.ndarray,
    seen_bytes: np.ndarray,
    network_backlog: np.ndarray,
    network_thread_seconds: np.ndarray,
    network_busy: np.ndarray,
) -> None:
    """``SteppedWorld._write_back`` then ``_network_work``: each log directory's disk
    writes back its dirty pages, and the network threads' step."""
    B, D = dirty.size, dir_dirty.size
    written = np.zeros(B)
    busy = np.zeros(B)
    dirty[:] = 0.0
    for d in range(D):
        flushed = min(dir_dirty[d], dir_write_step[d])
        dir_dirty[d] -= flushed
        dir_written[d] += flushed
        dir_write_busy[d] += flushed / dir_write[d]
        dirty[dir_broker[d]] += dir_dirty[d]
        written[dir_broker[d]] += flushed
        busy[dir_broker[d]] += flushed / dir_write[d]
    for b in range(B):
        disk_written[b] += written[b]
        disk_write_busy[b] += busy[b]
        nbytes = bytes_in[b] + bytes_out[b]
        work = (broker_requests[b] - seen_requests[b]) * network_request_cpu + (
            nbytes - seen_bytes[b]
        ) * network_byte_cpu
        seen_requests[b] = broker_requests[b]
        seen_bytes[b] = nbytes
        total = network_backlog[b] + work
        done = min(total, network_thread_seconds[b])
        network_busy[b] += done
        network_backlog[b] = total - done


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
def process_taken(
    words: np.ndarray,
    budget: np.ndarray,
    held: np.ndarray,
    busy: np.ndarray,
    member_of: np.ndarray,
    owned: np.ndarray,
    buffered: np.ndarray,
    cost: np.ndarray,
    member_busy: np.ndarray,
    budget_carry: np.ndarray,
    consumed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    """``SteppedWorld._process`` when no member has a batch in hand: each member's thread
    takes what its budget of the step allows of its buffered records, in proportion over
    its partitions (rounded at random). Returns (records taken per (group, partition),
    records and seconds per member, whether it drew)."""
    G, P = buffered.shape
    M = held.size
    take = np.ones(M)
    for m in range(M):
        if busy[m]:
            take[m] = budget[m] / held[m]
    backlog = buffered.ravel()
    fraction = np.empty(G * P)
    for g in range(G):
        for p in range(P):
            fraction[g * P + p] = take[member_of[g, p]] * owned[g, p]
    taken_flat = np.empty(G * P, np.int64)
    drew = _split_fraction(words, backlog, fraction, taken_flat)
    taken = taken_flat.reshape((G, P))
    used = np.zeros(M)
    used_s = np.zeros(M)
    for g in range(G):
        for p in range(P):
            used[member_of[g, p]] += taken[g, p]
    for g in range(G):
        for p in range(P):
            used_s[member_of[g, p]] += taken[g, p] * cost[g, p]
    for m in range(M):
        member_busy[m] += used_s[m]
        budget_carry[m] = budget[m] - used_s[m] if busy[m] else 0.0
    for g in range(G):
        for p in range(P):
            buffered[g, p] -= taken[g, p]
            consumed[g, p] += taken[g, p]
    return taken, used, used_s, drew


@njit(cache=True, error_model="numpy")
def step_rates(
    leo: np.ndarray,
    leo_bytes: np.ndarray,
    leo_batches: np.ndarray,
    f_part: np.ndarray,
    follower_lock_batch_s: float,
    follower_lock_byte_s: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a step reads of the logs as they stand at its start (no log flushes by
    messages): each partition's bytes per message, the same at each follower, and the
    followers' lock seconds per message (``_bytes_per_message``,
    ``_follower_seconds_per_message``)."""
    P, F = leo.size, f_part.size
    bpm = np.empty(P)
    records = np.empty(P)
    for p in range(P):
        bpm[p] = leo_bytes[p] / leo[p] if leo[p] > 0 else 1.0
        records[p] = leo[p] / leo_batches[p] if leo_batches[p] > 0 else 1.0
    bpm_f = np.empty(F)
    seconds = np.empty(F)
    for f in range(F):
        bpm_f[f] = bpm[f_part[f]]
        seconds[f] = follower_lock_batch_s / records[f_part[f]] + bpm_f[f] * follower_lock_byte_s
    return bpm, bpm_f, seconds


@njit(cache=True, error_model="numpy")
def lock_costs(
    batch_overhead: int,
    sent_wire: np.ndarray,
    sent_msgs: np.ndarray,
    record_wire: np.ndarray,
    per_batch_configured: np.ndarray,
    lock_batch_s: np.ndarray,
    lock_record_s: np.ndarray,
    wire_per_msg: np.ndarray,
    lock_byte_s: np.ndarray,
    record_bytes: np.ndarray,
    lock_codec_s: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``SteppedWorld._step_lock_costs`` when no log flushes by messages: each producer's
    records per batch sent so far, and its appends' lock seconds per message (one column:
    the same for every partition)."""
    NI = sent_msgs.size
    per_batch = np.empty(NI)
    seconds = np.empty((NI, 1))
    for i in range(NI):
        batches = (sent_wire[i] - sent_msgs[i] * record_wire[i]) / batch_overhead
        if batches > 0.5:
            per_batch[i] = sent_msgs[i] / max(batches, 1.0)
        else:
            per_batch[i] = np.float64(per_batch_configured[i])
        seconds[i, 0] = (
            lock_batch_s[i] / per_batch[i]
            + lock_record_s[i]
            + wire_per_msg[i] * lock_byte_s[i]
            + record_bytes[i] * lock_codec_s[i]
        )
    return per_batch, seconds
