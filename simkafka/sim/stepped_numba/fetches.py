"""The stepped engine's kernels for the network and the fetches: the step's rates,
max-min sharing, replica and consumer fetches, processing, creation-time pieces."""

from __future__ import annotations

import numpy as np
from numba import njit

from simkafka.sim.fluid import EPSILON
from simkafka.sim.stepped_numba.draws import split_fraction_into


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
    drew = split_fraction_into(words, backlog, fraction, taken_flat)
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
