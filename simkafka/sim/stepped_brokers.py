"""The stepped engine's brokers: request reads, handler threads, log appends, the page cache.

A producer connection is muted from the read of a request until its response is sent, so
the broker serves it one request at a time: each connection's channel is a timeline of its
own (``channel_free_at``), a request holding it for its service -- network and handler
threads, its batches under their locks, and with ``acks=all`` the high watermark's wait,
estimated at the read from the followers' state (:meth:`BrokerStages._read_requests`,
:meth:`~simkafka.sim.stepped_replication.ReplicationStages._high_watermark_wait`);
requests that arrived wait in the socket meanwhile. Network threads
(``num.network.threads``) as CPU seconds per step per request and byte through the NIC,
their backlog delaying the reads; a handler backlog of ``queued.max.requests`` requests
stops the reads. Handler threads as a capacity of CPU seconds per step (per request and
per byte); appends wait for it.

Each partition's log lock has a step's time per step: a leader's append holds it per
batch, record and byte, and for codec work when the leader decompresses or recompresses
(``log_append``), plus, with ``flush.messages``, an fsync every ``ceil(flush.messages /
records per batch)`` appends and the bytes at the disk's write bandwidth (``flush.ms``: a
due log's fsync and unflushed bytes take lock time); what does not fit stays queued for
the next step, and the lock time is charged to the handler threads the step after (the
events engine also holds a thread while it *waits* for a lock; this engine does not).
Followers' appends (per batch and byte, and their fsyncs) lengthen their fetcher's loop.
Index entries (8 + 12 bytes every ``index.interval.bytes // batch bytes + 1`` batches) are
dirtied with the log. With several ``log.dirs`` (JBOD) each directory's disk writes back
its own dirty bytes at its bandwidth (replicas placed as ``LogManager.nextLogDirs``); the
dirty limit and the page cache stay per broker, and reads from disk use the broker's
summed bandwidth.

Page cache with dirty-page throttling and write-back at the disk's bandwidth: past
``vm.dirty_ratio`` the produce requests and the replica fetchers' responses wait, and are
let through in turn -- the room goes in proportion to each one's whole request or
response -- so the leader's appends, and through them the handler threads, the in-flight
requests and ``send()``, are held back while the followers get their share. With
``acks=1`` the followers may still fall behind (the producers wait for the leader's append
only); nothing is acknowledged beyond what the leaders' disks take. A consumer further
behind than the page cache reads from disk.
"""

from __future__ import annotations

import numpy as np

from simkafka.sim.broker import INDEX_ENTRY_BYTES
from simkafka.sim.fluid import EPSILON, share_by_turns, split_fraction
from simkafka.sim.storage import RECORD_BATCH_OVERHEAD


class BrokerStages:
    """The brokers' stages of :class:`~simkafka.sim.stepped.SteppedWorld`: reading requests
    off muted connections, handling them, appending under the logs' locks, the page cache's
    dirty pages and their write-back, the network threads."""

    def _read_requests(self, t0: float, t1: float) -> np.ndarray:
        """What the leaders' network threads read this step: messages per (producer,
        partition) moved from the socket to the request queue.

        Kafka mutes a connection from the read of a request until its response is sent,
        so each producer connection is served one request at a time. A connection's
        channel is free again at ``channel_free_at``: a request read at ``r`` holds it for
        its service -- a network thread's read and the response's write, the handler
        queue's wait and the handler's work, its batches under their logs' locks, and with
        ``acks=all`` the high watermark's wait (:meth:`_high_watermark_wait`). Several
        requests may be read in one step, one after the other, so a connection's rate is
        its requests' size over their service whatever the step. A request is read once
        all of it crossed the network; its size is the connection's mean request in
        flight (with ``acks=0`` nothing is in flight: what arrived is read as one
        request). A connection whose last request still waits for a handler or a lock
        waits for its leftover's locks first, and one short of dirty-page room last step
        reads nothing. The ``acks=all`` wait is an estimate made at the read, from the
        followers' state then, not the engine's own commit, which lands in whole steps
        (a muted connection re-reads within a step; the commit cannot): within 2 % of
        the event engine for one producer connection per partition in batches of 128 KiB
        and up (13 % below at 16 KiB), 2-7 % below it for 2-4 producers on one partition,
        and 4 % above it on the uneven-leaders scenario (14 % at 1 ms cross-rack), where
        busy fetchers carry several producers' batches.
        """
        if self._kernels is not None:
            return self._read_requests_kernel(t0, t1)
        sock = self.sock
        read = np.zeros_like(sock)
        # The few (producer, partition) pairs with messages in the socket, in the table's
        # order: the sums per connection and the split of a request run over those (the
        # same sums, less the zeros, and the same draws: a zero is never split).
        flat, rows, cols = self._pairs(sock)
        if not flat.size:
            return read
        n_conn = self.I * self.B
        sock_v, conn_v = sock.take(flat), self._conn_flat[flat]
        sock_c = np.bincount(conn_v, weights=sock_v, minlength=n_conn)
        net_flat = self.net.ravel().nonzero()[0]
        net_c = np.bincount(
            self._conn_flat[net_flat], weights=self.net.take(net_flat), minlength=n_conn
        )
        # a connection whose last request is still queued reads the next once it is
        # appended: after the locks of its partitions have worked off what is queued for
        # them (and the handlers theirs); one that was short of dirty-page room last step
        # reads nothing this step
        left = self.cpu_q > 0
        leftover = np.bincount(self._conn_flat[left.ravel().nonzero()[0]], minlength=n_conn) > 0
        stuck = leftover & self._dirty_waiting
        request = np.where(
            self.inflight > 0,
            np.ceil(self.conn_unacked / np.maximum(self.inflight, 1)),
            sock_c,
        )
        broker = self._conn_broker
        queue_wait = (
            self.cpu_backlog / self.threads + self.network_backlog / self.network_threads
        )[broker]
        # queued.max.requests: a full request queue blocks the network threads' reads
        # (the queue's length as the handler backlog over a request's handler time)
        queued = self.cpu_backlog / np.maximum(self._request_work, 1e-9)
        stuck |= (queued >= self.queued_max_requests)[broker]
        free_at = self.channel_free_at
        if np.count_nonzero(leftover):
            queued_lock = (self.cpu_q * self._step_lock_costs()[1]).sum(axis=0)
            finish = self._connection_maximum(np.where(left, queued_lock[None, :], 0.0))
            free_at = np.where(leftover, np.maximum(free_at, t0 + queue_wait + finish), free_at)
        for _ in range(int((self._mif_conn * self._turns).max()) + 1):
            whole = (sock_c >= request - 1e-9) | (net_c <= 0)
            can = (free_at < t1 - 1e-12) & ~stuck & (sock_c > 0) & whole
            if not np.count_nonzero(can):
                break
            take_c = np.where(can, np.minimum(sock_c, np.maximum(request, 1.0)), 0.0)
            frac = np.divide(take_c, sock_c, out=np.zeros(n_conn), where=sock_c > 0)
            if frac.min() >= 1.0:
                moved_all = sock_v.copy()
            else:  # (as _split_gathered, over the pairs with messages)
                fraction = np.minimum(np.maximum(frac, 0.0), 1.0)[conn_v]
                moved_all = split_fraction(sock_v, fraction, self.rng, clamped=True)
            taken = moved_all > 0
            if not np.count_nonzero(taken):
                break
            sock_v -= moved_all
            m_flat, m_rows, m_cols = flat[taken], rows[taken], cols[taken]
            moved_v, m_conn = moved_all[taken], conn_v[taken]
            sock.put(m_flat, sock_v[taken])
            read.put(m_flat, read.take(m_flat) + moved_v)
            moved_c = np.bincount(m_conn, weights=moved_v, minlength=n_conn)
            wire_v = moved_v * self.wire_per_msg[m_rows]
            wire = np.zeros(sock.shape)
            wire.put(m_flat, wire_v)
            bytes_c = np.bincount(m_conn, weights=wire_v, minlength=n_conn)
            # the request as read: its turn at the dirty-page room (see _handle_and_append)
            self.request_bytes = np.where(moved_c > 0, bytes_c, self.request_bytes)
            sock_c -= moved_c
            start = np.maximum(free_at, t0)
            service = self._service(wire, bytes_c, m_rows, m_cols, moved_v, m_conn)
            held = np.where(moved_c > 0, queue_wait + service, 0.0)
            self.request_service = np.where(moved_c > 0, held, self.request_service)
            self.channel_busy += held
            free_at = np.where(moved_c > 0, start + held, free_at)
        self.channel_free_at = free_at
        return read

    def _read_requests_kernel(self, t0: float, t1: float) -> np.ndarray:
        """:meth:`_read_requests` (and :meth:`_service`) as one kernel, rounding with
        draws from ``self.rng`` in the same order."""
        per_batch, lock_per_message = self._step_lock_costs()
        costs = self.scenario.costs.broker
        words = self._rng_words()
        read, drew = self._kernels.read_requests(
            t0, t1, self.now, words, self.sock, self.net, self.cpu_q, self._conn_flat,
            self._conn_broker, self.inflight, self.conn_unacked, self._dirty_waiting,
            self.cpu_backlog, self.threads, self.network_backlog, self.network_threads,
            self._request_work, self.queued_max_requests, self._mif_conn, self._turns,
            self.wire_per_msg, lock_per_message, per_batch, self.lock_batch_s,
            costs.network_request_cpu + self.request_cpu,
            costs.network_byte_cpu + self.byte_cpu,
            self.channel_free_at, self.request_bytes, self.request_service,
            self.channel_busy, bool(self.F and self._any_all_acks), self._only_all_acks,
            self.all_acks, self._follower_state(),
        )  # fmt: skip
        self._rng_drawn(words, drew)
        return read

    def _service(
        self,
        wire: np.ndarray,
        bytes_c: np.ndarray,
        rows: np.ndarray,
        cols: np.ndarray,
        moved_v: np.ndarray,
        conn_v: np.ndarray,
    ) -> np.ndarray:
        """Seconds each connection's channel is held by the request of ``moved_v``
        messages of the (producer ``rows``, partition ``cols``) pairs on connections
        ``conn_v`` (``wire`` bytes per (producer, partition)), ``bytes_c`` per connection
        (see :meth:`_read_requests`), queueing excepted."""
        n_conn = self.I * self.B
        per_batch, lock_per_message = self._step_lock_costs()
        # the appends' lock time, but a request carries one batch per partition
        # (drainBatchesForOneNode), not the producer's mean share of one per message
        # (one column when no topic flushes by flush.messages: the same for every partition)
        at = cols if lock_per_message.shape[1] > 1 else 0
        per_message = lock_per_message[rows, at] - (self.lock_batch_s / per_batch)[rows]
        lock = self.lock_batch_s[rows] + moved_v * per_message
        costs = self.scenario.costs.broker
        service = (
            (costs.network_request_cpu + self.request_cpu)
            + bytes_c * (costs.network_byte_cpu + self.byte_cpu)
            + np.bincount(conn_v, weights=lock, minlength=n_conn)
        )
        if self.F and self._any_all_acks:
            if self._only_all_acks:  # the mask would keep every message
                service += self._high_watermark_wait(wire, rows, cols, conn_v)
            else:
                keep = self.all_acks[rows]
                service += self._high_watermark_wait(
                    wire * self.all_acks[:, None], rows[keep], cols[keep], conn_v[keep]
                )
        return service

    def _connection_maximum(self, values: np.ndarray) -> np.ndarray:
        """The largest of ``values`` per (producer, partition) over each connection's
        partitions (those its broker leads), and at least zero."""
        out = np.zeros(self.I * self.B, dtype=values.dtype)
        np.maximum.at(out, self._conn_flat, values.ravel())
        return out

    def _handle_and_append(self, now: float) -> None:
        """Request handler threads, then the page cache: what arrived is appended when a
        thread and dirty-page room are free; the rest queues."""
        B = self.B
        self.sock += self._arrived
        read = self._read_requests(now - self.dt, now)
        if self._kernels is not None:
            any_cpu_short, fits, cpu_frac, room, demand, turn, _ = (
                self._kernels.handle_requests(
                    self.byte_cpu, read, self.cpu_q, self.wire_per_msg, self.leader,
                    self.cpu_backlog, self._produce_request_cpu, self._fetch_cpu,
                    self.broker_requests, self._requests_before, self._request_work,
                    self._thread_seconds, self.cpu_busy, self.queue_wait, self.threads,
                    self.f_stream, self.f_recv, self._bpm_f, self._conn_flat,
                    self._conn_broker, self.request_bytes, self._dirty_limit, self.dirty,
                    self._write_back_room, self.stream_response, self._writer_pool,
                )
            )  # fmt: skip
        else:
            any_cpu_short, fits, cpu_frac, room, demand, turn = self._handle_requests(read)
        dirty_frac, f_take = self._dirty_room(fits, room, demand, turn)
        # leaders append produce requests, unless the ISR is below min.insync.replicas
        if not any_cpu_short and (dirty_frac is None or dirty_frac.min() >= 1.0):
            appended = self.cpu_q.copy()  # nothing is short (what split_fraction returns)
        else:
            if dirty_frac is None:
                dirty_frac = np.ones(self.I * B)
            frac = cpu_frac[self.leader][None, :] * dirty_frac[self.conn]
            appended = split_fraction(self.cpu_q, frac, self.rng)
        # each partition's appends are serial: its log's lock takes what fits in the step
        appended = self._append_locks(appended)
        # the handler threads held the locks: that time is theirs, charged next step
        self.cpu_backlog += np.bincount(self.leader, weights=self._lock_used, minlength=B)
        if self._any_rejected:
            rejected_p = self._isr_size < self.min_isr
            reject = appended * (rejected_p[None, :] & self.all_acks[:, None])
            appended = appended - reject
            self.cpu_q -= reject
            self.acc += reject  # NOT_ENOUGH_REPLICAS is retriable: the batches go back
            self._acc_batches = None
            self.conn_unacked -= np.bincount(
                self._conn_flat, weights=reject.ravel(), minlength=self.I * B
            ).astype(np.int64)
        if self._kernels is not None:
            old_leo = self._kernels.appended_to_logs(
                INDEX_ENTRY_BYTES, appended, f_take, self.f_leo, self.f_lock_busy,
                self._step_follower_seconds, self.cpu_q, self.wire_pair, self.leo,
                self.leo_bytes, self.leo_batches, self.leader, self.p_dir, self.f_dir,
                self.f_part, self.f_broker, self._bpm_f, self._index_interval_f,
                self._index_bytes_p, self.dir_dirty, self.dir_broker, self.dirty,
                self.written_total,
            )  # fmt: skip
        else:
            old_leo = self._appended_to_logs(appended, f_take)
        # acks=1: the leader's append completes the request
        if self._any_one_acks:
            ones = appended * self.one_acks[:, None]
            self._acknowledge(ones, old_leo, self.leo, now, "appended")
        if self._only_all_acks:
            self.unacked += appended
        else:
            self.unacked += appended * self.all_acks[:, None]

    def _handle_requests(
        self, read: np.ndarray
    ) -> tuple[bool, bool, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The requests ``read`` join the request queue; the handler threads' step; each
        dirty-page writer's demand and turn. Returns (whether a handler pool is short,
        whether every writer's whole turn fits in its room, the handlers' fraction done
        per broker, the room per broker, the writers' demands and turns)."""
        B = self.B
        self.cpu_q += read
        arrived_bytes = np.bincount(
            self.leader,
            weights=(read * self.wire_per_msg[:, None]).sum(axis=0),
            minlength=B,
        )
        # each request costs its handler time once, when it arrives; what the threads
        # cannot do this step waits (RequestQueueTimeMs)
        work = (
            self.cpu_backlog
            + self._produce_request_cpu
            + self._fetch_cpu
            + arrived_bytes * self.byte_cpu
        )
        # a request's mean handler time, for the request queue's length
        handled = self.broker_requests - self._requests_before
        self._requests_before = self.broker_requests.copy()
        self._request_work = np.where(
            handled > 0, (work - self.cpu_backlog) / np.maximum(handled, 1), self._request_work
        )
        capacity = self._thread_seconds
        done = np.minimum(work, capacity)
        self.cpu_busy += done
        self.cpu_backlog = work - done
        self.queue_wait += self.cpu_backlog / self.threads
        cpu_short = work > capacity
        any_cpu_short = bool(np.count_nonzero(cpu_short))
        cpu_frac = np.divide(done, work, out=np.ones(B), where=cpu_short)
        # dirty-page room: appends beyond vm.dirty_ratio wait for write-back. The writers
        # waiting for it -- produce requests on handler threads, replica fetchers with a
        # response -- are let through in turn, each appending its whole request (the
        # event engine's dirty-page waiters): the room goes in proportion to each
        # writer's request or response as it arrived, not to what is left of it, or a
        # response's share shrinks as it is appended while the produce queue refills
        stream_bytes = np.bincount(
            self.f_stream, weights=self.f_recv * self._bpm_f, minlength=self.R
        )
        # each connection's request is one writer (it holds its muted connection)
        produce_bytes = np.bincount(
            self._conn_flat,
            weights=(self.cpu_q * self.wire_per_msg[:, None]).ravel(),
            minlength=self.I * B,
        )
        if any_cpu_short:
            produce_bytes *= cpu_frac[self._conn_broker]
        self.request_bytes = np.where(produce_bytes > 0, self.request_bytes, 0.0)
        room = np.maximum(
            0.0, self._dirty_limit - self.dirty + self._write_back_room
        )
        demand = np.concatenate([produce_bytes, stream_bytes])
        turn = np.concatenate(
            [
                np.maximum(self.request_bytes, produce_bytes),
                np.maximum(self.stream_response, stream_bytes),
            ]
        )
        fits = bool(
            (np.bincount(self._writer_pool, weights=turn, minlength=B) <= room).all()
        ) and not np.count_nonzero((demand > 0) & (demand <= EPSILON))
        return any_cpu_short, fits, cpu_frac, room, demand, turn

    def _dirty_room(
        self, fits: bool, room: np.ndarray, demand: np.ndarray, turn: np.ndarray
    ) -> tuple[np.ndarray | None, np.ndarray]:
        """The dirty-page room shared among its writers (see :meth:`_handle_requests`):
        (each connection's fraction of its request let through, or None when every
        writer's whole turn ``fits``; the messages each follower appends)."""
        if fits:
            # room for every writer's whole turn: each gets what it asks (share_by_turns's
            # first round grants every demand, which is at most its turn)
            self._dirty_waiting = self._no_connection
            f_take = self.f_recv.copy()
            self.f_recv[:] = 0
            self.stream_response[:] = 0.0
            return None, f_take
        n_conn = self.I * self.B
        granted = share_by_turns(room, demand, turn, self._writer_pool)
        share = np.divide(granted, demand, out=np.ones(demand.size), where=demand > 0)
        dirty_frac, stream_frac = share[:n_conn], share[n_conn:]
        self._dirty_waiting = dirty_frac < 1.0 - 1e-9
        # followers append what arrived (or keep it in the fetcher until room frees)
        f_take = self._split_gathered(self.f_recv, stream_frac, self.f_stream)
        self.f_recv -= f_take
        appended_all = np.bincount(self.f_stream, weights=self.f_recv, minlength=self.R) == 0
        self.stream_response[appended_all] = 0.0
        return dirty_frac, f_take

    def _appended_to_logs(self, appended: np.ndarray, f_take: np.ndarray) -> np.ndarray:
        """The followers append ``f_take`` and the leaders ``appended``; the pages they
        dirty (and their index entries) per log directory. Returns the leaders' log end
        offsets before."""
        B = self.B
        self.f_leo += f_take
        self.f_lock_busy += f_take * self._step_follower_seconds
        f_take_bytes = f_take * self._bpm_f
        f_bytes = np.bincount(self.f_broker, weights=f_take_bytes, minlength=B)
        self.cpu_q -= appended
        per_p = appended.sum(axis=0)
        # each pair's own batches: what the log of the partition takes
        bytes_p = (appended * self.wire_pair).sum(axis=0)
        old_leo = self.leo.copy()
        self.leo += per_p
        self.leo_bytes += bytes_p
        leader_bytes = np.bincount(self.leader, weights=bytes_p, minlength=B)
        D = self.dir_broker.size
        self.dir_dirty += (
            np.bincount(self.p_dir, weights=bytes_p, minlength=D)
            + np.bincount(self.f_dir, weights=f_take_bytes, minlength=D)
            + self._index_bytes(f_take)
        )
        self.dirty = np.bincount(self.dir_broker, weights=self.dir_dirty, minlength=B)
        self.written_total += leader_bytes + f_bytes
        return old_leo

    def _records_per_batch(self) -> np.ndarray:
        """Each producer's mean records per batch sent so far (``_drain`` counts each
        batch's header in ``sent_wire``), full batches before the first is sent."""
        headers = self.sent_wire - self.sent_msgs * self.record_wire
        batches = headers / RECORD_BATCH_OVERHEAD
        return np.where(
            batches > 0.5, self.sent_msgs / np.maximum(batches, 1.0), self.per_batch.astype(float)
        )

    def _leader_records_per_batch(self) -> np.ndarray:
        """Each partition's mean records per batch in its leader's log (what a fetch of n
        messages holds in batches)."""
        return np.divide(
            self.leo, self.leo_batches, out=np.ones(self.P), where=self.leo_batches > 0
        )

    def _flush_seconds_per_message(self, per_batch: np.ndarray) -> np.ndarray | float:
        """flush.messages: an append of r records flushes when the log's unflushed
        messages reach the setting, so one append in ``ceil(flush.messages / r)`` pays
        an fsync, and every byte is written at the disk's bandwidth on the lock -- per
        message, per (producer, partition)."""
        if not self._any_flushing:
            return 0.0
        r = per_batch[:, None]
        appends_per_flush = np.ceil(self.flush_messages[None, :] / r)
        disk = self.dir_write[self.p_dir][None, :]
        seconds = self.fsync_s / (r * appends_per_flush) + self.wire_per_msg[:, None] / disk
        self.fsyncs_per_message = np.where(self.flushing[None, :], 1.0 / (r * appends_per_flush), 0.0)
        return np.where(self.flushing[None, :], seconds, 0.0)

    def _timed_flush(self, appended: np.ndarray) -> np.ndarray:
        """flush.ms: a log whose last flush is older than the setting is flushed (its
        unflushed bytes at the disk's bandwidth and an fsync) under its lock, which the
        appends of the step wait for; a log flushed by flush.messages has nothing left."""
        if self._any_flushing:
            self.fsyncs += float((appended * self.fsyncs_per_message).sum())
        if not self._any_timed_flush:
            return np.zeros(self.P)
        bytes_p = (appended * self.wire_per_msg[:, None]).sum(axis=0)
        self.unflushed_bytes = np.where(self.flushing, 0.0, self.unflushed_bytes + bytes_p)
        self.last_flush = np.where(self.flushing & (bytes_p > 0), self.now, self.last_flush)
        due = self.timed_flush & (self.unflushed_bytes > 0) & (
            self.now + self.dt - self.last_flush >= self.flush_ms - 1e-12
        )
        seconds = np.where(
            due, self.fsync_s + self.unflushed_bytes / self.dir_write[self.p_dir], 0.0
        )
        self.fsyncs += float(due.sum())
        self.unflushed_bytes[due] = 0.0
        self.last_flush[due] = self.now + self.dt
        return seconds

    def _follower_seconds_per_message(self) -> np.ndarray:
        """Lock time per message of each follower's appends: per batch (the leader log's
        records per batch) and per byte, and the fsyncs of flush.messages."""
        r = self._leader_records_per_batch()[self.f_part]
        bpm = self._bpm_f
        seconds = self.follower_lock_batch_s / r + bpm * self.follower_lock_byte_s
        if self._any_flushing:
            k = self.flush_messages[self.f_part]
            flush = self.fsync_s / (r * np.ceil(k / r)) + bpm / self.dir_write[self.f_dir]
            seconds = seconds + np.where(self.flushing[self.f_part], flush, 0.0)
        return seconds

    def _index_bytes(self, f_take: np.ndarray) -> np.ndarray:
        """Index entries written per log directory this step: the leaders' (see _append_locks)
        and the followers', whose appends hold the leader log's mean batches."""
        r = self._leader_records_per_batch()[self.f_part]
        batch_bytes = np.maximum(1, (r * self._bpm_f).astype(np.int64))
        every = self._index_interval_f // batch_bytes + 1
        follower = f_take / r / every * INDEX_ENTRY_BYTES
        D = self.dir_broker.size
        return np.bincount(self.p_dir, weights=self._index_bytes_p, minlength=D) + np.bincount(
            self.f_dir, weights=follower, minlength=D
        )

    def _step_lock_costs(self) -> tuple[np.ndarray, np.ndarray]:
        """``(records per batch, lock seconds per message)`` for the rest of the step: what
        they depend on (the batches sent, the disks) changes only in ``_drain`` and at the
        step's start, so they are computed once per step after the drain."""
        if self._lock_costs is None and self._kernels is not None and not self._any_flushing:
            self._lock_costs = self._kernels.lock_costs(
                RECORD_BATCH_OVERHEAD, self.sent_wire, self.sent_msgs, self.record_wire,
                self.per_batch, self.lock_batch_s, self.lock_record_s, self.wire_per_msg,
                self.lock_byte_s, self.record_bytes, self.lock_codec_s,
            )  # fmt: skip
        if self._lock_costs is None:
            per_batch = self._records_per_batch()
            self._lock_costs = (per_batch, self._lock_seconds_per_message(per_batch))
        return self._lock_costs

    def _lock_seconds_per_message(self, per_batch: np.ndarray | None = None) -> np.ndarray:
        """Seconds a leader's append holds the log's lock per message, per (producer,
        partition): per batch, record and byte, codec work and flush.messages' fsyncs."""
        if per_batch is None:
            per_batch = self._records_per_batch()
        return (
            self.lock_batch_s / per_batch
            + self.lock_record_s
            + self.wire_per_msg * self.lock_byte_s
            + self.record_bytes * self.lock_codec_s
        )[:, None] + self._flush_seconds_per_message(per_batch)

    def _append_locks(self, candidates: np.ndarray) -> np.ndarray:
        """Of ``candidates`` (messages per (producer, partition) with a handler thread and
        dirty-page room), those each partition's lock appends this step; the lock's time
        (batches, records, bytes, codec work) goes to the handler threads' next step."""
        if not np.count_nonzero(candidates):
            self._lock_used = np.zeros(self.P)
            self._index_bytes_p = np.zeros(self.P)
            return candidates
        per_batch, seconds_per_msg = self._step_lock_costs()
        if self._kernels is not None and not (self._any_flushing or self._any_timed_flush):
            # most steps every lock takes all it is asked: one kernel, no rounding
            unconstrained, used, index_bytes = self._kernels.append_locks_unconstrained(
                self.dt, INDEX_ENTRY_BYTES, candidates, per_batch, seconds_per_msg,
                self.lock_debt, self.lock_busy, self.wire_per_msg, self.index_interval,
            )  # fmt: skip
            if unconstrained:
                self.leo_batches += candidates.T @ (1.0 / per_batch)
                self._index_bytes_p = index_bytes
                self._lock_used = used
                return candidates
        demand = (candidates * seconds_per_msg).sum(axis=0)  # per partition
        available = self.dt - self.lock_debt
        full = demand > available
        if np.count_nonzero(full):
            frac = np.divide(np.maximum(available, 0.0), demand, out=np.ones(self.P), where=full)
            appended = self._split_gathered(candidates, frac, slice(None))
            used = (appended * seconds_per_msg).sum(axis=0)
        else:  # every lock takes all (what the split returns), in the time asked for
            appended, used = candidates.copy(), demand
        if self._any_flushing or self._any_timed_flush:
            used = used + self._timed_flush(appended)
        # a lock that rounded past its step pays it back next step; a full one that
        # rounded short may use the rest
        over = used - available
        self.lock_debt = np.where(full, over, np.maximum(0.0, over))
        self.lock_busy += used
        self.leo_batches += appended.T @ (1.0 / per_batch)
        # index entries: one offset- and one time-index entry every
        # index.interval.bytes // batch bytes + 1 batches (LogSegment.append)
        batch_bytes = np.maximum(1, (per_batch * self.wire_per_msg).astype(np.int64))
        every = self.index_interval[None, :] // batch_bytes[:, None] + 1
        self._index_bytes_p = (
            appended / per_batch[:, None] / every * INDEX_ENTRY_BYTES
        ).sum(axis=0)
        self._lock_used = used
        return appended

    def _network_work(self) -> None:
        """The network threads' step: a request read and its response written for every
        request the broker handled (fetches twice: read, and answered later), and every
        byte in or out of its NIC; what exceeds their time waits into the next step."""
        net = self.scenario.costs.broker
        requests, nbytes = self.broker_requests, self.bytes_in + self.bytes_out
        seen_requests, seen_bytes = self._network_seen
        work = (requests - seen_requests) * net.network_request_cpu + (
            nbytes - seen_bytes
        ) * net.network_byte_cpu
        self._network_seen = (requests.copy(), nbytes.copy())
        total = self.network_backlog + work
        done = np.minimum(total, self._network_thread_seconds)
        self.network_busy += done
        self.network_backlog = total - done

    def _write_back(self) -> None:
        # each log directory's disk writes back its own dirty pages
        flushed = np.minimum(self.dir_dirty, self._dir_write_step)
        self.dir_dirty -= flushed
        self.dir_written += flushed
        self.dir_write_busy += flushed / self.dir_write
        self.dirty = np.bincount(self.dir_broker, weights=self.dir_dirty, minlength=self.B)
        self.disk_written += np.bincount(self.dir_broker, weights=flushed, minlength=self.B)
        self.disk_write_busy += np.bincount(
            self.dir_broker, weights=flushed / self.dir_write, minlength=self.B
        )
