"""The stepped engine's replication: followers' fetches, the high watermark, the ISR.

Followers fetch what their leader has (``replica.fetch.max.bytes`` per partition, one
outstanding fetch per fetcher, sent once the fetcher appended the last response -- which
waits at the follower for dirty-page room once it has crossed the network); a fetcher's
next fetch reaches the leader one loop (round trip, append, read) after its response
crossed, and tells the leader the follower's log end offset; the high watermark is the
minimum of those over the ISR; ``acks=all`` completes when it passes; ISR shrink after
``replica.lag.time.max.ms`` and expansion on catch-up, ``min.insync.replicas``. The
leader's read of an ``acks=all`` request estimates how long the high watermark will take
to pass its batches from the followers' state
(:meth:`ReplicationStages._high_watermark_wait`): the request holds its connection that
long. A replica on an offline broker is not a follower (it neither fetches nor rejoins the
ISR, it only counts as a replica); an offline partition's high watermark stays at zero.
"""

from __future__ import annotations

import numpy as np

from simkafka.model.election import alter_isr
from simkafka.sim.fluid import GOLDEN_RATIO_FRACTION, split_fraction, split_total


class ReplicationStages:
    """The replication stages of :class:`~simkafka.sim.stepped.SteppedWorld`: each fetcher's
    demand and loop, the high watermark's advance (and the ``acks=all`` completions it
    brings), the ISR's changes."""

    def _replica_fetch_demand(self, now: float) -> np.ndarray:
        """Followers whose fetcher has no response in flight fetch what the leader has."""
        B = self.B
        # the followers' append cost, as it stands until this step's appends (reused there)
        self._step_follower_seconds = (
            self._follower_seconds_per_message()
            if self._follower_seconds is None
            else self._follower_seconds  # (kept from the step's start: the same logs)
        )
        if self._kernels is not None:
            answered, self._fetch_cpu, demand = self._kernels.replica_fetch_demand(
                now, 0.5 * self.dt, self.scenario.cluster.config.replica_fetch_wait_max,
                self.replica_fetch_max, self.request_cpu, self.byte_cpu, self.leo,
                self.f_stream, self.f_part, self.f_leader_broker, self.f_net, self.f_recv,
                self.f_leo, self._bpm_f, self._step_follower_seconds, self.f_caught_up,
                self.f_fetch_leo, self.f_fetch_time, self.replica_next_fetch,
                self.stream_up, self._stream_leader, self.replica_wait,
                self.replica_response_bytes, self.replica_response_lock,
                self.replica_in_flight, self.broker_requests,
            )  # fmt: skip
            self.replica_requests += answered
            return demand
        # a fetcher thread sends its next fetch once it appended the last response, and
        # not before its loop (round trip, append, read) has run out
        pending = self.f_net + self.f_recv
        in_flight = np.bincount(self.f_stream, weights=pending, minlength=self.R) > 0
        stream_busy = in_flight | (self.replica_next_fetch - now > 0.5 * self.dt)
        idle = ~stream_busy[self.f_stream]
        leader_leo = self.leo[self.f_part]
        available = np.where(idle, leader_leo - self.f_leo, 0)
        bpm = self._bpm_f
        cap = np.maximum(1, np.floor(self.replica_fetch_max / np.maximum(bpm, 1.0))).astype(
            np.int64
        )
        fetch = np.minimum(available, cap)
        # Replica.updateFetchStateOrThrow at the fetch: caught up if the fetch offset
        # reached the leader's LEO now, or the LEO seen at the previous fetch
        caught_up = self.f_leo >= leader_leo
        caught_now = idle & caught_up
        caught_before = idle & ~caught_up & (self.f_leo >= self.f_fetch_leo)
        self.f_caught_up = np.where(
            caught_now, now, np.where(caught_before, self.f_fetch_time, self.f_caught_up)
        )
        self.f_fetch_leo = np.where(idle, leader_leo, self.f_fetch_leo)
        self.f_fetch_time = np.where(idle, now, self.f_fetch_time)
        fetch_bytes = fetch * bpm
        response_bytes = np.bincount(self.f_stream, weights=fetch_bytes, minlength=self.R)
        responding = response_bytes > 0  # (what has messages to send has bytes)
        idle_streams = ~stream_busy & self.stream_up
        # a parked long poll answers when data arrives or replica.fetch.wait.max.ms passes
        starting = idle_streams & (self.replica_wait < 0)
        self.replica_wait[starting] = now
        answered = idle_streams & responding
        done = answered | (
            idle_streams
            & (now - self.replica_wait >= self.scenario.cluster.config.replica_fetch_wait_max)
        )
        self.replica_requests += int(np.count_nonzero(done))
        self.replica_wait[done] = -1.0
        leaders = self._stream_leader
        work = np.bincount(leaders, weights=done * self.request_cpu, minlength=B)
        self.broker_requests += np.bincount(leaders, weights=done, minlength=B)
        self.f_net += fetch
        self.replica_response_bytes = np.where(
            responding, response_bytes, self.replica_response_bytes
        )
        # the follower appends the response's batches under each log's lock (the loop)
        response_lock = np.bincount(
            self.f_stream, weights=fetch * self._step_follower_seconds, minlength=self.R
        )
        self.replica_response_lock = np.where(responding, response_lock, self.replica_response_lock)
        self.replica_in_flight |= responding  # even if it lands within this step
        self._fetch_cpu = work + np.bincount(
            self.f_leader_broker, weights=fetch_bytes * self.byte_cpu, minlength=B
        )
        return np.bincount(self.f_stream, weights=self.f_net * bpm, minlength=self.R)

    def _fetcher_loops(self, now: float) -> None:
        """Each fetcher thread's loop, at the end of a step: when its next fetch reaches
        the leader, and what that fetch tells the leader.

        A response that finished crossing this step is followed by one loop -- a round
        trip, the follower's append and the leader's read, each a request's CPU plus its
        bytes' (:meth:`_fetch_loop_cpu`) -- in which the leader sends that fetcher nothing; the next fetch, answered
        at the start of a later step, tells the leader the follower's new log end offset,
        so the high watermark moves a loop after the data reached the follower. At
        saturation the loop is the leader NIC's idle time and so sets the throughput. It
        is held as whole steps (the rest goes to the latencies, see
        :meth:`_update_replication_delay`), rounded up or down by one threshold per step,
        spread evenly over [0, 1) along the steps (the golden-ratio sequence): the mean
        loop is exact, and fetchers with equal loops that land in one step stay in step,
        as in the events engine (rounding each fetcher on its own lets them drift apart
        and fill each other's idle steps).
        """
        if self._kernels is not None:
            net = self.scenario.costs.broker
            if self._kernels.fetcher_loops(
                now, self.dt, (self.steps * GOLDEN_RATIO_FRACTION) % 1.0,
                2 * net.network_request_cpu + 3 * self.request_cpu,
                2 * self.byte_cpu + net.network_byte_cpu,
                self.f_stream, self.f_net, self.f_leo, self.f_leo_at_leader,
                self.replica_in_flight, self.replica_round_trip, self.replica_response_bytes,
                self.replica_response_lock, self.replica_loop, self.replica_held,
                self.replica_next_fetch,
            ):  # fmt: skip
                self._loops_changed = True
            return
        in_flight = np.bincount(self.f_stream, weights=self.f_net, minlength=self.R) > 0
        landed = (self.replica_in_flight & ~in_flight).nonzero()[0]
        if landed.size:
            loop = (
                self.replica_round_trip[landed]
                + self._fetch_loop_cpu(self.replica_response_bytes[landed])
                + self.replica_response_lock[landed]
            )
            threshold = (self.steps * GOLDEN_RATIO_FRACTION) % 1.0
            held = np.floor(loop / self.dt + threshold) * self.dt
            self.replica_loop[landed] = loop
            self.replica_held[landed] = held
            self._loops_changed = True
            self.replica_next_fetch[landed] = now + held
        self.replica_in_flight = in_flight
        fetching = ~in_flight & (self.replica_next_fetch - now <= 0.5 * self.dt)
        at_leader = fetching[self.f_stream]
        self.f_leo_at_leader = np.where(at_leader, self.f_leo, self.f_leo_at_leader)

    def _fetch_loop_cpu(self, nbytes: np.ndarray) -> np.ndarray:
        """The CPU of a fetcher's loop around a response of ``nbytes``, outside the locks:
        at the leader the fetch's arrival and its answer (each a network thread's and a
        handler's request, the answer's bytes on both) and at the follower the fetcher
        thread's request and bytes -- the event engine's charges, one by one."""
        net = self.scenario.costs.broker
        return (
            2 * net.network_request_cpu
            + 3 * self.request_cpu
            + nbytes * (2 * self.byte_cpu + net.network_byte_cpu)
        )

    def _update_replication_delay(self) -> None:
        """What the steps do not hold of the slowest follower's fetch loop (see
        :meth:`_fetcher_loops`), less than a step either way: added to latencies."""
        if not self.F or not self._loops_changed:
            return  # (no loop changed since: the same delays)
        self._loops_changed = False
        starts = self.f_segment_start
        loop = np.maximum.reduceat(self.replica_loop[self.f_stream], starts)
        held = np.maximum.reduceat(self.replica_held[self.f_stream], starts)
        self.replication_delay[self.f_segment_part] = loop - held

    def _replica_rates(self) -> np.ndarray:
        """Bytes/s at which a leader sends a response to each follower: its NIC sends each
        byte to every ISR follower and every group at once (kept until the ISR or a
        capacity changes)."""
        if self._replica_rate is None:
            readers = self._isr_size - 1
            if self.G:
                readers = readers + self._group_readers
            rate = self.nic_out[self.f_leader_broker] / np.maximum(readers[self.f_part], 1)
            self._replica_rate = np.minimum(rate, self.nic_in[self.f_broker])
        return self._replica_rate

    def _follower_state(self) -> tuple:
        """What the ``high_watermark_wait`` kernel reads besides a request's pairs."""
        net = self.scenario.costs.broker
        return (
            self._replica_rates(), self._f_round_trip,
            2 * net.network_request_cpu + 3 * self.request_cpu,
            2 * self.byte_cpu + net.network_byte_cpu,
            self.follower_lock_batch_s, self.follower_lock_byte_s, self.leo,
            self.f_part, self.f_stream, self.f_leo, self.f_net, self.f_recv,
            self._bpm_f, self.replica_next_fetch, self.replica_held, self.replica_loop,
            self._all_in_isr, self.f_in_isr, self.f_segment_part,
            self.f_segment_start, self.unacked,
        )  # fmt: skip

    def _high_watermark_wait(
        self, wire: np.ndarray, rows: np.ndarray, cols: np.ndarray, conn_v: np.ndarray
    ) -> np.ndarray:
        """Per connection, the longest wait of its request's partitions for their high
        watermark after the append (``wire`` bytes per (producer, partition), of the
        (producer ``rows``, partition ``cols``) pairs with messages, on connections
        ``conn_v``): the slowest ISR follower's loop from a parked fetch -- the leader's
        handler reads the response, it crosses (the leader's NIC sends each byte to every
        ISR follower and every group at once), the follower appends it and sends its next
        fetch, which the leader reads and which moves the high watermark -- plus, in the
        share of the partition's waiting messages that are other producers', the rest of
        a busy fetcher's loop and the other data its fetch carries."""
        if not rows.size:
            return np.zeros(self.I * self.B)
        bytes_f = wire.sum(axis=0)[self.f_part]  # a partition's bytes, at each follower
        rate = self._replica_rates()
        net = self.scenario.costs.broker
        loop_request_cpu = 2 * net.network_request_cpu + 3 * self.request_cpu
        loop_byte_cpu = 2 * self.byte_cpu + net.network_byte_cpu
        # one batch per partition in a request, appended by the follower as it was
        has_batch = np.bincount(cols, minlength=self.P) > 0
        batch_lock = has_batch[self.f_part] * self.follower_lock_batch_s

        def loop(nbytes: np.ndarray) -> np.ndarray:
            # (the sum of _fetch_loop_cpu, in its order)
            return (
                self._f_round_trip
                + (loop_request_cpu + nbytes * loop_byte_cpu)
                + nbytes / rate
                + batch_lock
                + nbytes * self.follower_lock_byte_s
            )

        # the fetch carries the request's batches of every partition on its fetcher
        stream = self.f_stream
        carried = np.bincount(stream, weights=bytes_f, minlength=self.R)[stream]
        parked = loop(carried)
        # Other producers' data ahead of these bytes: the fetcher is busy with it, so
        # these wait for the rest of its loop (a response crossing, or the loop after
        # it), and the fetch that carries them carries that data too. This connection's
        # own earlier requests are committed already (it was muted until then), so only
        # the others' share of what waits for the high watermark counts.
        bpm = self._bpm_f
        unfetched = (self.leo[self.f_part] - self.f_leo - self.f_net - self.f_recv) * bpm
        others = np.bincount(stream, weights=unfetched, minlength=self.R)[stream]
        # a response on its way (fetched, not yet appended): its whole loop is ahead
        in_fetch = np.bincount(
            stream, weights=(self.f_net + self.f_recv) * bpm, minlength=self.R
        )[stream]
        next_fetch = (self.replica_next_fetch - self.replica_held + self.replica_loop)[stream]
        residual = np.where(
            in_fetch > 0,
            loop(in_fetch),
            np.maximum(0.0, next_fetch - self.now),
        )
        busy = residual + loop(carried + others) - parked
        if not self._all_in_isr:
            parked = np.where(self.f_in_isr, parked, 0.0)
            busy = np.where(self.f_in_isr, busy, 0.0)
        slowest = np.zeros(self.P)
        slowest[self.f_segment_part] = np.maximum.reduceat(parked, self.f_segment_start)
        extra = np.zeros(self.P)
        extra[self.f_segment_part] = np.maximum.reduceat(busy, self.f_segment_start)
        total = self.unacked.sum(axis=0)[cols]
        share = 1.0 - np.divide(
            self.unacked[rows, cols], total, out=np.ones(rows.size), where=total > 0
        )
        wait = slowest[cols] + share * extra[cols]
        # the request waits for its slowest partition (its DelayedProduce completes then)
        out = np.zeros(self.I * self.B)
        np.maximum.at(out, conn_v, wait)
        return out

    def _advance_high_watermark(self, now: float) -> None:
        if self.F:
            self._fetcher_loops(now)
        self._update_replication_delay()
        if self._kernels is not None and self._all_in_isr:  # (no follower to rejoin)
            words = self._rng_words()
            advanced, old, committed, drew = self._kernels.commit(
                words, self._all_led, self._any_under_min_isr, self.has_leader,
                self.under_min_isr, self.leo, self.hw, self.f_leo_at_leader,
                self.f_segment_part, self.f_segment_start, self.unacked,
            )  # fmt: skip
            self._rng_drawn(words, drew)
            if advanced:
                self._acknowledge(committed, old, self.hw, now, "committed")
            return
        # an offline partition's high watermark stays where it is (no leader moves it)
        candidate = self.leo.copy() if self._all_led else np.where(self.has_leader, self.leo, self.hw)
        if self.F:
            # followers are stored in partition order: one reduceat per step
            if self._all_in_isr:
                isr_leo = self.f_leo_at_leader
            else:
                isr_leo = np.where(self.f_in_isr, self.f_leo_at_leader, np.iinfo(np.int64).max)
            lowest = np.minimum.reduceat(isr_leo, self.f_segment_start)
            candidate[self.f_segment_part] = np.minimum(candidate[self.f_segment_part], lowest)
            # ISR expansion: an out-of-sync follower that reached the high watermark rejoins
            if not self.f_in_isr.all():
                hw_f = self.hw[self.f_part]
                rejoin = ~self.f_in_isr & (self.f_leo_at_leader >= hw_f) & (hw_f > 0)
                for f in np.flatnonzero(rejoin):
                    self._set_isr(int(f), True)
        # KAFKA-15583 (Kafka >= 3.7): the high watermark advances only while the ISR holds
        # at least min(min.insync.replicas, replicas) members
        if self._any_under_min_isr:
            candidate = np.where(self.under_min_isr, self.hw, candidate)
        advanced = candidate > self.hw
        if not np.count_nonzero(advanced):
            return
        old = self.hw.copy()
        self.hw = np.maximum(self.hw, candidate)
        # acks=all messages below the new high watermark, oldest first, in proportion
        # among the producers whose messages are uncommitted on each partition
        gained = self.hw - old
        uncommitted = self.leo - old
        waiting = self.unacked.sum(axis=0)
        share = np.where(gained >= uncommitted, 1.0, gained / np.maximum(uncommitted, 1))
        commit = split_fraction(waiting, share, self.rng)
        committed = split_total(commit, self.unacked)
        self.unacked -= committed
        self._acknowledge(committed, old, self.hw, now, "committed")

    def _set_isr(self, f: int, member: bool) -> None:
        p = int(self.f_part[f])
        tp = self.tps[p]
        registration = self.registrations[tp]
        broker = self.broker_ids[int(self.f_broker[f])]
        isr = [r for r in registration.isr if r != broker]
        if member:
            isr = [r for r in registration.replicas if r in set(isr) | {broker}]
        updated = alter_isr(registration, isr)
        if updated is not registration:
            self.registrations[tp] = updated
            self.isr_changes += 1
        self.f_in_isr[f] = member
        self._update_under_min_isr()

    def _update_under_min_isr(self) -> None:
        """Partitions whose ISR is below the effective min ISR (min(min.insync.replicas,
        replicas)), where the high watermark stands still (KAFKA-15583)."""
        isr_size = 1 + np.bincount(self.f_part[self.f_in_isr], minlength=self.P)
        self.under_min_isr = self.has_leader & (isr_size < np.minimum(self.min_isr, self.replica_count))
        # kept for the steps: they change only here
        self._isr_size = isr_size
        self._all_in_isr = bool(self.f_in_isr.all())
        self._replica_rate: np.ndarray | None = None  # see _high_watermark_wait
        self._any_under_min_isr = bool(self.under_min_isr.any())
        self._any_rejected = bool((isr_size < self.min_isr).any())

    def _maybe_shrink_isr(self, now: float) -> None:
        """``Partition.maybeShrinkIsr``: out of sync after ``replica.lag.time.max.ms``
        without catching up (checked every half of it, as the ReplicaManager does)."""
        stale = self.f_in_isr & (now - self.f_caught_up > self.replica_lag_max)
        for f in np.flatnonzero(stale):
            self._set_isr(int(f), False)
