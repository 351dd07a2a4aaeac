"""The stepped engine's producers: arrivals, the accumulator, the drain and the acknowledgements.

* Arrivals per step (fluid or Poisson), the sticky partitioner's stint as Kafka's
  accumulator allows it (:func:`~simkafka.model.partitioner.sticky_stint_records`;
  uniform choice of the next partition, KIP-794 without the adaptive weighting) or the
  keyed split by murmur2 weights; ``buffer.memory`` with blocked ``send()`` calls failing
  after ``max.block.ms``; a batch becomes sendable when the next record closes it or after
  ``linger.ms``; one request per connection carries at most one batch per partition, at
  most ``max.in.flight.requests.per.connection`` outstanding. Each instance's application
  thread sends at most ``1 / send_cpu`` records/s (``record_cpu`` plus compression per
  uncompressed byte; the excess offered is counted as ``cpu_limited``, not created;
  ``rate: max`` sends as many as the thread and ``buffer.memory`` allow), and its Sender
  thread drains only when it has finished its last pass, which cost it ``request_cpu``,
  ``batch_cpu`` and ``byte_cpu`` per request, batch and byte
  (:mod:`~simkafka.sim.client_costs`, the same arithmetic as the event engine).
* Records for an offline partition (no leader) wait in the accumulator, never drained,
  until ``delivery.timeout.ms`` has passed since they entered it, and then fail with
  ``DELIVERY_TIMEOUT`` (:meth:`ProducerStages._expire_leaderless`).
* Acknowledgements: ``acks=0`` when a request is sent, ``acks=1`` at the leader's append,
  ``acks=all`` when the high watermark passes (:mod:`~simkafka.sim.stepped_replication`);
  each finishes the requests in flight it answers and records the produce latency.
"""

from __future__ import annotations

import numpy as np

from simkafka.sim.client_costs import SEND_BACKLOG, sender_cpu
from simkafka.sim.fluid import GOLDEN_RATIO_FRACTION, apportion, split_fraction, split_total
from simkafka.sim.producer import RESPONSE_PARTITION_BYTES
from simkafka.sim.storage import RECORD_BATCH_OVERHEAD

REQUEST_OVERHEAD = 100  # produce request header (as the event engine's producer)


class ProducerStages:
    """The producers' stages of :class:`~simkafka.sim.stepped.SteppedWorld`: what enters
    the accumulators each step, what the Senders drain into requests, what is acknowledged."""

    def _arrivals(self, t0: float, t1: float) -> None:
        dt = t1 - t0
        if self._constant_rate:  # every factor is 1.0: rate x 1.0 x dt is rate x dt
            expected = self.rate * dt
        else:
            factor = np.array([s.profile.factor_at(0.5 * (t0 + t1)) for s in self.producer_specs])
            expected = self.rate * factor * dt
        total = expected + self.fraction
        counts = np.floor(total).astype(np.int64)
        self.fraction = total - counts
        if self._any_poisson:
            counts[self.poisson] = self.rng.poisson(expected[self.poisson])
            self.fraction[self.poisson] = 0.0
        counts = self._application_threads(counts, t0, t1)
        arrivals = np.zeros((self.I, self.P), dtype=np.int64)
        if self._any_keyed:
            arrivals[self.keyed] = self._keyed_split(counts[self.keyed])
        if self._kernels is not None:
            words = self._rng_words()
            drew = self._kernels.sticky_arrivals(
                words, counts, self.keyed, arrivals, self.sticky_partition,
                self.sticky_left, self.switch_msgs, self.sticky_count,
                self.sticky_choices, self.created, self.created_p,
            )  # fmt: skip
            self._rng_drawn(words, drew)
        else:
            sticky = ~self.keyed & (counts > 0)
            if np.count_nonzero(sticky):
                self._sticky(sticky.nonzero()[0], counts[sticky], arrivals)
            self.created += counts
            self.created_p += arrivals.sum(axis=0)
        self.curve.push(self.created_p)
        self._admit_and_expire(arrivals, counts, t0 + 0.5 * dt, t1)

    def _application_threads(self, offered: np.ndarray, t0: float, t1: float) -> np.ndarray:
        """What each producer's application thread hands ``send()`` this step: what it
        offers, at most what the thread can do (``send_cpu`` a record; it may fall
        ``SEND_BACKLOG`` behind, the rest is ``cpu_limited`` and never created) -- or, for
        ``rate: max``, as many as the thread can do while ``buffer.memory`` has room
        (then it waits in ``send()`` for the rest of the step)."""
        if self._kernels is not None and not self._any_max_rate:
            return self._kernels.application_threads(
                t0, t1, SEND_BACKLOG, offered, self.send_cpu, self.app_free_at,
                self.cpu_limited, self.app_busy,
            )  # fmt: skip
        cpu = self.send_cpu
        busy = cpu > 0
        if self._any_max_rate:
            begin = np.where(self.max_rate, self.app_free_at, np.maximum(self.app_free_at, t0))
            end = np.where(self.max_rate, t1, t1 + SEND_BACKLOG)
        else:  # (the same values)
            begin = np.maximum(self.app_free_at, t0)
            end = t1 + SEND_BACKLOG
        room = np.divide(end - begin, cpu, out=np.full(self.I, 2.0**62), where=busy)
        room = np.floor(np.minimum(np.maximum(room, 0.0), 2.0**62)).astype(np.int64)
        counts = np.minimum(offered, room)
        self.cpu_limited += offered - counts
        if self._any_max_rate:
            free = np.maximum(0.0, self.buffer_memory - self._used_memory())
            memory = np.floor(free / self.wire_per_msg).astype(np.int64)
            wait = self.max_rate & (room >= memory)
            counts = np.where(self.max_rate, np.minimum(room, memory), counts)
            self.memory_wait = wait
            self.app_free_at = np.where(wait, t1, begin + counts * cpu)
        else:  # nothing waits for memory
            self.app_free_at = begin + counts * cpu
        self.app_busy += counts * cpu
        return counts

    def _keyed_split(self, counts: np.ndarray) -> np.ndarray:
        """Keyed messages split by each partition's key share: multinomial for Poisson
        arrivals, else largest-remainder with a running carry (every partition within one
        message of its share, forever)."""
        weights = self.weights[self.keyed]
        poisson = self.poisson[self.keyed]
        want = self.key_carry[self.keyed] + counts[:, None] * weights
        whole = apportion(want, counts)
        self.key_carry[self.keyed] = want - whole
        out = whole.astype(np.int64)
        if np.count_nonzero(poisson):
            out[poisson] = self.rng.multinomial(
                counts[poisson], weights[poisson] / weights[poisson].sum(axis=1, keepdims=True)
            )
        return out

    def _sticky(self, rows: np.ndarray, n: np.ndarray, arrivals: np.ndarray) -> None:
        """KIP-794 ``BuiltInPartitioner``: stay on a partition until ``batch.size`` bytes
        went to it, then pick the next one uniformly among the topic's partitions (the
        adaptive weighting by queue sizes is not modelled here)."""
        current = self.sticky_partition[rows]
        left = np.where(current < 0, 0, self.sticky_left[rows])
        first = np.minimum(n, left)
        keep = first > 0
        np.add.at(arrivals, (rows[keep], current[keep]), first[keep])
        rest = n - first
        size = self.switch_msgs[rows]
        switches = -(-rest // size)  # ceil
        if np.count_nonzero(switches):
            who = np.repeat(np.arange(rows.size), switches)
            count = self.sticky_count[rows]
            pick = np.floor(self.rng.random(who.size) * count[who]).astype(np.int64)
            chosen = self.sticky_choices[rows[who], pick]
            amount = np.repeat(size, switches)
            last = switches.cumsum() - 1
            has = switches > 0
            amount[last[has]] = rest[has] - (switches[has] - 1) * size[has]
            np.add.at(arrivals, (rows[who], chosen), amount)
            current = current.copy()
            current[has] = chosen[last[has]]
            left = left - first
            left[has] = switches[has] * size[has] - rest[has]
        else:
            left = left - first
        self.sticky_partition[rows] = current
        self.sticky_left[rows] = left

    def _used_memory(self) -> np.ndarray:
        # acc + net + sock + cpu_q + unacked per producer (integers: any order is exact)
        return self._held_stages.sum(axis=(0, 2)) * self.wire_per_msg

    def _admit_and_expire(
        self, arrivals: np.ndarray, counts: np.ndarray, born: float, now: float
    ) -> None:
        """``buffer.memory``: ``send()`` calls enter the accumulator oldest first while there
        is room; the rest block, and those blocked longer than ``max.block.ms`` fail."""
        if self._kernels is not None and self._nothing_blocked and self._acc_batches is not None:
            closed, open_ = self._acc_batches
            if self._kernels.admit_unblocked(
                now, self.dt, arrivals, counts, self._held_stages, self.wire_per_msg,
                self.buffer_memory, self.acc, closed, open_, self.partial_first,
                self.per_batch, self.close_lag,
            ):  # fmt: skip
                if self.offline_cols.size:
                    self._strand(arrivals[:, self.offline_cols], now)
                return
        free = np.maximum(0.0, self.buffer_memory - self._used_memory())
        room = np.floor(free / self.wire_per_msg).astype(np.int64)
        if self._nothing_blocked and (room >= counts).all():
            self._enter_accumulator(arrivals, now)  # the common case: nothing blocks
            return
        blocked_before = self.blocked.sum(axis=1)
        waiting = blocked_before + counts
        self.blocked += arrivals
        for i in np.flatnonzero(counts):
            self.blocked_fifo[i].append([float(counts[i]), born])
        admit = np.minimum(waiting, room)
        moved = split_total(admit, self.blocked.T).T
        self.blocked -= moved
        self._enter_accumulator(moved, now)
        for i in np.flatnonzero(waiting):
            fifo, taken = self.blocked_fifo[i], int(admit[i])
            while taken > 0 and fifo:
                use = min(taken, int(fifo[0][0]))
                fifo[0][0] -= use
                taken -= use
                if fifo[0][0] <= 0:
                    fifo.popleft()
            expired = 0
            while fifo and now - fifo[0][1] > self.max_block[i]:
                expired += int(fifo.popleft()[0])
            if expired:
                lost = split_total(np.array([expired]), self.blocked[i][:, None])[:, 0]
                self.blocked[i] -= lost
                self.failed["MAX_BLOCK_MS_EXCEEDED"] += expired
                self.failed_p += lost
        self._nothing_blocked = not np.count_nonzero(self.blocked)

    def _batches(self, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(closed batches, records in the open one) of accumulator counts ``acc``: a batch
        closes when the record after the last that fits arrives (``tryAppend`` fails),
        or at once when its records fill ``batch.size`` exactly."""
        pb = self.per_batch[:, None]
        closed = np.maximum(acc - self.close_lag[:, None], 0) // pb
        return closed, acc - closed * pb

    def _accumulated(self) -> tuple[np.ndarray, np.ndarray]:
        """``_batches(self.acc)``, kept from where ``acc`` last changed: it is read again
        by the next stage (the drain, the next step's arrivals) far more often than
        ``acc`` changes in between. Whoever changes ``acc`` sets ``_acc_batches``."""
        if self._acc_batches is None:
            self._acc_batches = self._batches(self.acc)
        return self._acc_batches

    def _enter_accumulator(self, moved: np.ndarray, now: float) -> None:
        if self._acc_batches is None:  # acc changed outside the drain: the whole table
            closed_before, before = self._accumulated()
            self.acc += moved
            self._acc_batches = closed_after, after = self._batches(self.acc)
            # a new open batch started this step: its first record arrived within the step
            started = (moved > 0) & ((before == 0) | (closed_after > closed_before)) & (after > 0)
            self.partial_first[started] = now - 0.5 * self.dt
            self.partial_first[after == 0] = np.inf
        else:
            # Only the (producer, partition) pairs that were sent to change: the batches
            # kept by the drain or the last arrivals are updated there, in place. (Both
            # left no open batch with a first-record time, so the pairs not sent to need
            # no look.) A step's records go to one or two partitions per producer.
            closed, open_ = self._acc_batches
            flat, rows, _ = self._pairs(moved)
            acc = self.acc.take(flat) + moved.take(flat)
            self.acc.put(flat, acc)
            pb = self.per_batch[rows]
            closed_now = np.maximum(acc - self.close_lag[rows], 0) // pb
            open_now = acc - closed_now * pb
            started = ((open_.take(flat) == 0) | (closed_now > closed.take(flat))) & (open_now > 0)
            closed.put(flat, closed_now)
            open_.put(flat, open_now)
            self.partial_first.put(flat[started], now - 0.5 * self.dt)
            self.partial_first.put(flat[open_now == 0], np.inf)
        if self.offline_cols.size:
            self._strand(moved[:, self.offline_cols], now)

    def _strand(self, counts: np.ndarray, now: float) -> None:
        """Note when records for offline partitions (``counts`` per producer and offline
        partition) entered the accumulator, in buckets of ``_stranded_bucket`` seconds
        (a bucket's records are aged from its first)."""
        for i in np.flatnonzero(counts.any(axis=1)):
            fifo = self.stranded[i]
            if fifo and now - fifo[-1][0] < self._stranded_bucket:
                fifo[-1][1] += counts[i]
                continue
            if not fifo:
                self._next_expiry = min(self._next_expiry, now + self.delivery_timeout[i])
            fifo.append([now, counts[i].copy()])

    def _expire_leaderless(self, now: float) -> None:
        """``RecordAccumulator.expiredBatches`` for offline partitions: their records (never
        drained) fail with ``DELIVERY_TIMEOUT`` once ``delivery.timeout.ms`` has passed
        since they entered the accumulator. Partitions with a leader send theirs long
        before that, and are not checked (the event engine does the same)."""
        if now < self._next_expiry:
            return
        cols = self.offline_cols
        heads = []
        for i, fifo in enumerate(self.stranded):
            while fifo and now - fifo[0][0] >= self.delivery_timeout[i] - 1e-12:
                _, counts = fifo.popleft()
                self.acc[i, cols] -= counts
                self._acc_batches = None
                self.failed_p[cols] += counts
                self.failed["DELIVERY_TIMEOUT"] += int(counts.sum())
            if fifo:
                heads.append(fifo[0][0] + self.delivery_timeout[i])
        self._next_expiry = min(heads, default=np.inf)

    def _drain(self, now: float) -> None:
        """``Sender.sendProducerData``: a connection is ready when one of its partitions has
        a sendable batch (full, or lingered); then, while requests may be in flight, each
        request takes the first batch of *every* partition the broker leads that has one --
        ``RecordAccumulator.drainBatchesForOneNode`` does not wait for the others' linger."""
        kept = self._acc_batches is not None  # by the arrivals (see _enter_accumulator)
        full, partial = self._accumulated()
        if self._kernels is not None:
            self._drain_kernel(now, kept, full, partial)
            return
        # Only the (producer, partition) pairs with records have a batch to send: the
        # stage runs over those (a few percent of the table at full load), in the
        # table's order, so that its sums are the same as over the whole table.
        flat, rows, cols = self._pairs(self.acc)
        full_v, partial_v = full.take(flat), partial.take(flat)
        has_partial = partial_v > 0
        due = now - self.partial_first.take(flat) >= self._linger_due[rows]
        # a full buffer sends at once
        if not self._nothing_blocked:
            due |= ((self.blocked.sum(axis=1) > 0) | self.memory_wait)[rows]
        elif self._any_max_rate:
            due |= self.memory_wait[rows]
        ready = full_v + (has_partial & due)
        queued = full_v + has_partial
        if not self._all_led:  # an offline partition's batches wait: no leader to send them to
            ready *= self.has_leader[cols]
            queued *= self.has_leader[cols]
        if not np.count_nonzero(ready):
            return
        n_conn = self.I * self.B
        # the Sender thread drains only once it finished its last pass (the batches wait)
        sender_free = (self.sender_free_at <= now + 1e-12).repeat(self.B)
        # A request's slot comes back a turnaround after it was sent (the Sender's work,
        # the crossing, the round trip and its service at the broker): a step longer than that sees each of the
        # max.in.flight slots used several times, one after the other
        crossing = self.request_bytes / self._conn_nic
        # the round trip, and the Sender building the next one
        turnaround = self._turnaround_base + crossing + self.request_service
        dither = (self.steps * GOLDEN_RATIO_FRACTION) % 1.0
        self._turns = np.maximum(1, np.floor(self.dt / np.maximum(turnaround, 1e-9) + dither))
        slots = np.maximum(0, self._mif_conn * self._turns - self.inflight).astype(np.int64)
        slots *= sender_free
        # the most batches any partition of the connection has ready: one request per
        # level (thousands when an unthrottled producer's buffer is full)
        conn = self._conn_flat[flat]
        per_conn = np.zeros(n_conn, dtype=np.int64)
        np.maximum.at(per_conn, conn, ready)
        requests = np.minimum(per_conn, slots)
        batches = np.minimum(queued, requests[conn])
        acc_v = self.acc.take(flat)
        take = np.minimum(acc_v, batches * self.per_batch[rows])
        taken = take > 0
        if not np.count_nonzero(taken):
            return
        t_flat, t_rows, t_cols, t_take = flat[taken], rows[taken], cols[taken], take[taken]
        acc = acc_v[taken] - t_take
        self.acc.put(t_flat, acc)
        if kept:  # only the pairs drained change (as in _enter_accumulator)
            pb_taken = self.per_batch[t_rows]
            closed_now = np.maximum(acc - self.close_lag[t_rows], 0) // pb_taken
            open_now = acc - closed_now * pb_taken
            full.put(t_flat, closed_now)
            partial.put(t_flat, open_now)
            self.partial_first.put(t_flat[open_now == 0], np.inf)
        else:
            self._acc_batches = self._batches(self.acc)
            self.partial_first[self._acc_batches[1] == 0] = np.inf
        self.net.put(t_flat, self.net.take(t_flat) + t_take)
        self.inflight += requests
        self.conn_unacked += np.bincount(conn, weights=take, minlength=n_conn).astype(np.int64)
        self.requests += int(requests.sum())
        self.batches_sent += int(batches.sum())
        # wire bytes per message from the batches actually sent: a linger-bound batch
        # carries its 61-byte header over fewer records than a full one
        sent_i = np.bincount(rows, weights=take, minlength=self.I).astype(np.int64)
        batches_i = np.bincount(rows, weights=batches, minlength=self.I).astype(np.int64)
        wire_i = sent_i * self.record_wire + batches_i * RECORD_BATCH_OVERHEAD
        self.sent_msgs += sent_i
        self.sent_wire += wire_i
        t_msgs = self.sent_msgs_pair.take(t_flat) + t_take
        t_batches = self.sent_batches_pair.take(t_flat) + batches[taken]
        self.sent_msgs_pair.put(t_flat, t_msgs)
        self.sent_batches_pair.put(t_flat, t_batches)
        self.wire_pair.put(t_flat, self.record_wire[t_rows] + RECORD_BATCH_OVERHEAD * t_batches / t_msgs)
        # the Sender's pass: its requests, batches and bytes, from when it was free
        requests_i = requests.reshape(self.I, self.B).sum(axis=1)
        cost = sender_cpu(self.scenario.costs, requests_i, batches_i, wire_i, sent_i)
        self.sender_free_at = np.where(
            requests_i > 0, np.maximum(self.sender_free_at, now - self.dt) + cost, self.sender_free_at
        )
        self.sender_busy += cost
        self.wire_per_msg = np.where(
            self.sent_msgs > 0, self.sent_wire / np.maximum(self.sent_msgs, 1), self.wire_per_msg
        )
        old_sent = self.sent_p.copy()
        self.sent_p += np.bincount(t_cols, weights=t_take, minlength=self.P).astype(np.int64)
        # acks=0: complete once written to the socket -- no response, no broker time
        if self._any_zero_acks:
            zeros = np.zeros_like(self.acc)
            zeros.put(t_flat, t_take * self.zero_acks[t_rows])
            if np.count_nonzero(zeros):
                self._acknowledge(zeros, old_sent, self.sent_p, now, "sent")
        req_per_broker = np.bincount(self._conn_broker, weights=requests, minlength=self.B)
        self.broker_requests += req_per_broker
        self._produce_request_cpu = req_per_broker * self.request_cpu
        # request headers cross the producer's and the broker's NIC: they take their
        # room in the step's sharing first (see _share_network)
        header = req_per_broker * REQUEST_OVERHEAD
        self.header_bytes_in += header
        self._link_overhead[1 : 2 * self.B : 2] += header
        self._link_overhead[self._producer_egress] += requests_i * REQUEST_OVERHEAD
        # ... and their responses' headers come back (acks=0 has none): one per request
        # and a partition entry per batch, from the broker's egress to the producer
        if self._any_zero_acks:
            replied = ~self.zero_acks
            batches, requests = batches * replied[rows], requests * replied.repeat(self.B)
        response_conn = np.bincount(
            conn, weights=batches * RESPONSE_PARTITION_BYTES, minlength=n_conn
        ) + requests * REQUEST_OVERHEAD
        self._link_overhead[0 : 2 * self.B : 2] += np.bincount(
            self._conn_broker, weights=response_conn, minlength=self.B
        )
        self._link_overhead[self._producer_egress + 1] += response_conn.reshape(self.I, self.B).sum(
            axis=1
        )

    def _drain_kernel(self, now: float, kept: bool, full: np.ndarray, partial: np.ndarray) -> None:
        """:meth:`_drain` as one compiled kernel; the ``acks=0`` completions after it."""
        if not self._nothing_blocked:
            force = (self.blocked.sum(axis=1) > 0) | self.memory_wait
        elif self._any_max_rate:
            force = self.memory_wait
        else:
            force = self._nobody
        reached, turns, requests, batches, request_cpu, old_sent, t_flat, t_take = (
            self._kernels.drain(
                now, self.dt, (self.steps * GOLDEN_RATIO_FRACTION) % 1.0, kept, self._all_led,
                self._turnaround_base, self.request_cpu,
                self._sender_costs,
                RECORD_BATCH_OVERHEAD, REQUEST_OVERHEAD, RESPONSE_PARTITION_BYTES,
                self.acc, full, partial, self.partial_first, self.net, self._linger_due, force,
                self.has_leader, self.per_batch, self.close_lag, self._conn_flat,
                self._conn_broker, self._conn_nic, self._mif_conn, self.sender_free_at,
                self.request_bytes, self.request_service, self.inflight, self.conn_unacked,
                self.record_wire, self.sent_msgs, self.sent_wire, self.sender_busy,
                self.wire_per_msg, self.sent_p, self.zero_acks, self.broker_requests,
                self.header_bytes_in, self._link_overhead, self._producer_egress,
                self.sent_msgs_pair, self.sent_batches_pair, self.wire_pair,
            )
        )  # fmt: skip
        if reached == 0:
            return
        self._turns = turns
        if reached == 1:
            return
        if not kept:
            self._acc_batches = (full, partial)
        self.requests += requests
        self.batches_sent += batches
        self._produce_request_cpu = request_cpu
        # acks=0: complete once written to the socket -- no response, no broker time
        if self._any_zero_acks:
            zeros = np.zeros_like(self.acc)
            zeros.put(t_flat, t_take * self.zero_acks[t_flat // self.P])
            if np.count_nonzero(zeros):
                self._acknowledge(zeros, old_sent, self.sent_p, now, "sent")

    def _acknowledge(
        self,
        counts: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        now: float,
        stage: str,
    ) -> None:
        """Complete ``counts`` messages per (producer, partition); their partition offsets
        ``lo..hi`` passed ``stage`` this step: ``sent`` (acks=0: written to the socket),
        ``appended`` (acks=1) or ``committed`` (acks=all: below the high watermark)."""
        if not np.count_nonzero(counts):
            return
        if self._kernels is not None:
            words = self._rng_words()
            drew = self._kernels.acknowledge_counts(
                words, counts, self.acked, self.acked_bytes, self.wire_per_msg,
                self._conn_flat, self.conn_unacked, self.inflight,
            )  # fmt: skip
            self._rng_drawn(words, drew)
        else:
            self._acknowledge_counts(counts)
        if now <= self.measure_from:
            return
        per_p = counts.sum(axis=0)
        touched = per_p.nonzero()[0]
        # log offsets -> creation order: less the prefill, plus the created that failed
        shift = self.failed_p[touched] - self.prefill_p[touched]
        piece, created_lo, created_hi, n = self._creation_pieces(
            touched,
            lo[touched] + shift,
            np.maximum(hi[touched], lo[touched] + 1) + shift,
            per_p[touched],
        )
        if stage == "sent":
            low, high = self._waited(now, created_hi, created_lo, 0)
        elif stage == "appended":
            low, high = self._waited(now, created_hi, created_lo, 0)
            low, high = low + self.request_trip, high + self.request_trip
        else:
            low, high = self._waited(now, created_hi, created_lo, 1)
            # (the rest of the fetch loop may be up to a step below what was held)
            extra = self.request_trip + self.replication_delay[touched[piece]]
            low, high = np.maximum(0.0, low + extra), np.maximum(0.0, high + extra)
        self._record_latency("produce", low, high, n)

    def _acknowledge_counts(self, counts: np.ndarray) -> None:
        """``counts`` messages per (producer, partition) acknowledged: the producers'
        counts, and the requests in flight they finish (the whole rest of a connection's
        requests once nothing it sent is unacknowledged)."""
        per_i = counts.sum(axis=1)
        self.acked += per_i
        self.acked_bytes += per_i * self.wire_per_msg
        done_conn = np.bincount(
            self._conn_flat, weights=counts.ravel(), minlength=self.I * self.B
        ).astype(np.int64)
        share = np.divide(
            done_conn, self.conn_unacked, out=np.zeros(done_conn.size), where=self.conn_unacked > 0
        )
        finished = split_fraction(self.inflight, share, self.rng)
        self.conn_unacked -= done_conn
        finished = np.where(self.conn_unacked <= 0, self.inflight, finished)
        self.inflight -= finished
