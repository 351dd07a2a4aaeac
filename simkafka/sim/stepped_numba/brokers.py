"""The stepped engine's broker-side kernels: reading produce requests off muted
connections, the handler threads, the logs' locks and appends, write-back."""

from __future__ import annotations

import numpy as np
from numba import njit

from simkafka.sim.fluid import EPSILON
from simkafka.sim.stepped_numba.draws import round_by_draw


@njit(cache=True, error_model="numpy")
def _fetcher_loop(
    round_trip: float, request_cpu: float, byte_cpu: float, rate: float, batch_lock: float,
    lock_byte_s: float, nbytes: float,
) -> float:
    """One fetcher loop carrying ``nbytes``: the round trip, the leader's handling, the
    transfer and the follower's append under its log's lock (in the numpy code's order)."""
    return round_trip + (request_cpu + nbytes * byte_cpu) + nbytes / rate + batch_lock + nbytes * lock_byte_s


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
        parked[f] = _fetcher_loop(round_trip[f], loop_request_cpu, loop_byte_cpu, rate[f], batch_lock, lock_byte_s, nbytes)
        if in_fetch[r] > 0:
            nbytes = in_fetch[r]
            residual = _fetcher_loop(round_trip[f], loop_request_cpu, loop_byte_cpu, rate[f], batch_lock, lock_byte_s, nbytes)
        else:
            residual = max(0.0, (next_fetch[r] - replica_held[r] + replica_loop[r]) - now)
        nbytes = carried[r] + others[r]
        loop = _fetcher_loop(round_trip[f], loop_request_cpu, loop_byte_cpu, rate[f], batch_lock, lock_byte_s, nbytes)
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
                whole_part, drawn = round_by_draw(sock_v[k] * min(max(frac[conn_v[k]], 0.0), 1.0), words)
                drew = drew or drawn
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
    wire_pair: np.ndarray,
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
    they dirtied (with their index entries), each (producer, partition)'s messages at
    its own wire bytes (``wire_pair``). Returns the leaders' log end offsets before."""
    NI, P = appended.shape
    B, D, F = dirty.size, dir_dirty.size, f_take.size
    per_p = np.zeros(P, np.int64)
    bytes_p = np.zeros(P)
    for i in range(NI):
        for p in range(P):
            cpu_q[i, p] -= appended[i, p]
            per_p[p] += appended[i, p]
            bytes_p[p] += appended[i, p] * wire_pair[i, p]
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
