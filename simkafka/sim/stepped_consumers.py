"""The stepped engine's consumers: group membership in the steps, fetch sessions, processing.

Each member fetches and processes only the partitions it owns, one fetch session per
leader broker, ``fetch.min.bytes``/``fetch.max.wait.ms``, ``max.partition.fetch.bytes``
and ``fetch.max.bytes`` per response (shared over its partitions in proportion),
partitions with buffered records skipped; each member's thread has a budget of seconds
per step for its processing time per record plus what ``poll()`` costs (per record, per
byte, decompression per uncompressed byte). A topic's ``prefill`` is on every replica at
t=0 and never in the page cache: a group from ``earliest`` reads it from disk, one from
``latest`` starts past it. A record's end-to-end latency runs from its creation to the end
of the processing of its poll (the records the member took that step, at most
``max.poll.records``), through the produce request's trip and handling, replication, the
fetch's handling and the response's trip to the member.

The consumer groups' coordinator is :mod:`~simkafka.sim.stepped_groups`' (the same pure
group coordinator as the events engine, classic and KIP-848, and the same client rules,
:mod:`~simkafka.sim.group_client`, on a clock of requests: a request arrives one
``client_latency`` after it was sent and is handled then, its answer comes back one
latency later, heartbeats and the coordinator's timers run at their own times). Here are
its hands in the arrays: a member polls in every step in which its thread is not busy
with a batch longer than the step (a poll takes up to ``max.poll.records`` of its
buffered records, which leave the fetch buffer); an answer reaches a member waiting in
``poll()`` at once, a busy one when its thread is free. Rebalance callbacks run there: a
revoked partition's fetched records are dropped and the group's position goes back to its
committed offset, where the next owner starts -- what was processed since the last commit
is processed again (:meth:`ConsumerStages.release_partitions`). Arrays are sized for
every member that will ever exist (a group's members and its ``consumer_join`` joiners),
inactive until their process runs. The consumer faults (crash, leave, join, slow, rolling
restart) are played at their exact times; commits take no simulated time (the events
engine pays an OffsetCommit round trip).
"""

from __future__ import annotations

import numpy as np

from simkafka.sim.client_costs import consumer_poll_cpu
from simkafka.sim.consumer import (
    FETCH_PARTITION_BYTES,
    FETCH_REQUEST_OVERHEAD,
    FETCH_RESPONSE_PARTITION_BYTES,
)
from simkafka.sim.fluid import split_fraction


class ConsumerStages:
    """The consumers' stages of :class:`~simkafka.sim.stepped.SteppedWorld`: the group plane's
    polls and ownership changes, the fetch sessions' demand, the members' processing."""

    def _group_step(self, t0: float) -> None:
        """The group control plane up to the step's start, then the polls of this step: a
        live member polls unless the batch its last ``poll()`` returned is still being
        processed; a poll takes up to ``max.poll.records`` of what is buffered, and the
        member's thread is busy with it for their processing time."""
        if not self.G:
            return
        plane = self.group_plane
        plane.run_until(t0)
        self.step_start = t0
        self.step_busy[:] = 0.0
        self.batch_left = np.maximum(0.0, self.batch_left - self.dt)
        self._polls = polls = self.member_alive & (self.batch_left <= 0.0)
        self.last_poll[polls] = t0
        if self._batch_held:  # a batch that is done leaves nothing in hand
            self.in_batch *= ~(self.owned & polls[self._member_of])
            self._batch_held = bool(np.count_nonzero(self.in_batch))
        plane.poll(polls)

    def _batches_taken(self, held: np.ndarray, busy: np.ndarray, member_of: np.ndarray) -> None:
        """The batch each member that polled this step took: up to ``max.poll.records``
        of its buffered records, whose processing keeps its thread from polling again
        until it is done (a member that processes all it holds within the step polls
        again next step). ``held``: seconds of buffered work per member."""
        took = self._polls & busy
        if not np.count_nonzero(took):
            return
        records = np.bincount(self._member_of_flat, weights=self.buffered.ravel() * self.owned.ravel(), minlength=self.M)
        share = np.minimum(
            1.0, np.divide(self.max_poll_records, records, out=np.ones(self.M), where=records > 0)
        )
        self.batch_left = np.where(took, held * share, self.batch_left)
        in_batch = np.floor(self.buffered * share[member_of] * self.owned).astype(np.int64)
        self.in_batch = np.where(took[member_of] & self.owned, in_batch, self.in_batch)
        self._batch_held = bool(np.count_nonzero(self.in_batch))

    def take_partitions(self, g: int, parts: list[int], slot: int) -> None:
        """Member ``slot`` owns ``parts`` of group ``g`` from now: it fetches them from the
        group's position, which is its committed offset (see :meth:`release_partitions`)."""
        self.owner[g, parts] = slot
        self._ownership_changed()

    def release_partitions(self, g: int, parts: list[int]) -> None:
        """Nobody owns ``parts`` of group ``g`` now: what was fetched and not processed is
        dropped, and the group's position goes back to its committed offset -- records
        processed since are processed again by the next owner."""
        committed = self.committed[g, parts]
        self.reprocessed[g] += int(np.maximum(0, self.consumed[g, parts] - committed).sum())
        self.owner[g, parts] = -1
        self.buffered[g, parts] = 0
        self.in_batch[g, parts] = 0
        self.c_net[g, parts] = 0
        self.position[g, parts] = committed
        self.consumed[g, parts] = committed
        self._ownership_changed()

    def commit(self, g: int, parts: list[int]) -> None:
        """OffsetCommit: group ``g``'s committed offsets of ``parts`` are what it processed."""
        self.committed[g, parts] = self.consumed[g, parts]

    def _ownership_changed(self) -> None:
        self.owned = self.owner >= 0
        # each (group, partition)'s member (0 where nobody owns it: masked by ``owned``)
        self._member_of = np.where(self.owned, self.owner, 0)
        self._member_of_flat = self._member_of.ravel()
        self.fetchable = self.owned & self.has_leader[None, :]  # an offline one is not read
        self.c_stream = np.where(self.owned, self.owner * self.B + self.leader[None, :], 0)
        self._c_stream_flat = self.c_stream.ravel()
        # each fetch session's request and response headers: a partition entry per
        # partition it fetches (see _fetch_headers)
        partitions = np.bincount(
            self._c_stream_flat, weights=self.fetchable.ravel(), minlength=self.M * self.B
        )
        self._fetch_header_bytes = (
            FETCH_REQUEST_OVERHEAD + FETCH_PARTITION_BYTES * partitions,
            FETCH_REQUEST_OVERHEAD + FETCH_RESPONSE_PARTITION_BYTES * partitions,
        )

    def _consumer_fetch_demand(self, now: float) -> np.ndarray:
        B, M = self.B, self.M
        if not self.G:
            return np.zeros(0)
        if self._kernels is not None:
            # most steps no response is cut (nothing rounds): one kernel
            request_size, response_size = self._fetch_header_bytes
            uncut, answered, fetch_cpu, demand = self._kernels.consumer_fetch_demand_uncut(
                now, self.byte_cpu, self.request_cpu, self._any_prefill,
                self._all_sessions_up, self._bpm, self.c_stream, self.c_net,
                self.fetchable, self.owned, self.buffered, self.in_batch, self.hw,
                self.position, self.partition_fetch_max, self._session_fetch_max,
                self.leo, self.leo_bytes, self.written_total, self.leader,
                self._leader_page_cache, self.prefill_p, self.consumer_wait,
                self._session_max_wait, self._session_fetch_min, self._session_up,
                self._session_broker, self._session_member, request_size, response_size,
                self._member_egress, self.header_bytes_in, self._link_overhead,
                self.broker_requests, self._fetch_cpu,
            )  # fmt: skip
            if uncut:
                self.consumer_requests += answered
                self._fetch_cpu = fetch_cpu
                return demand
        bpm = self._bpm
        in_net = np.bincount(self._c_stream_flat, weights=self.c_net.ravel(), minlength=M * B)
        idle_stream = in_net == 0
        # (an owned partition of an idle fetch session has nothing in the network)
        eligible = (
            self.fetchable & (self.buffered == self.in_batch) & idle_stream[self.c_stream]
        )
        available = np.where(eligible, self.hw[None, :] - self.position, 0)
        cap = np.maximum(
            1, np.floor(self.partition_fetch_max[:, None] / np.maximum(bpm, 1.0)[None, :])
        )
        fetch = np.minimum(available, cap.astype(np.int64))
        fetch_bytes = fetch * bpm[None, :]
        # fetch.max.bytes: one response carries at most that over all its partitions
        # (shared in proportion here; Kafka fills them in an order it rotates per fetch)
        want = np.bincount(self._c_stream_flat, weights=fetch_bytes.ravel(), minlength=M * B)
        stream_bytes = want
        limit = self._session_fetch_max
        over = want > limit
        if np.count_nonzero(over):
            frac = np.divide(limit, want, out=np.ones(M * B), where=over)
            fetch = split_fraction(fetch, frac[self.c_stream] * self.owned, self.rng)
            fetch_bytes = fetch * bpm[None, :]
            stream_bytes = None
        # data older than the broker's page cache is read from disk first
        lag_bytes = (self.leo[None, :] - self.position) * bpm[None, :]
        written_p = np.maximum(self.leo_bytes, 1.0)
        ratio = self.written_total[self.leader] / written_p
        fetching = fetch > 0
        cold = fetching & (lag_bytes * ratio[None, :] > self._leader_page_cache)
        if self._any_prefill:  # prefill: never cached
            cold |= fetching & (self.position < self.prefill_p[None, :])
        if np.count_nonzero(cold):
            cold_bytes = np.where(cold, fetch_bytes, 0.0)
            demand = np.bincount(
                self._gp_leader_flat,
                weights=cold_bytes.ravel(),
                minlength=B,
            )
            served = np.minimum(demand, self.disk_read * self.dt)
            frac = np.divide(served, demand, out=np.ones(B), where=demand > 0)
            share = np.broadcast_to(frac[self.leader][None, :], fetch.shape)
            fetch = np.where(cold, split_fraction(fetch, share, self.rng), fetch)
            self.disk_read_bytes += served
            self.disk_read_busy += served / self.disk_read
            stream_bytes = None
        if stream_bytes is None:  # the fetches were cut above
            stream_bytes = np.bincount(
                self._c_stream_flat, weights=(fetch * bpm[None, :]).ravel(), minlength=M * B
            )
        starting = idle_stream & (self.consumer_wait < 0)
        self.consumer_wait[starting] = now
        waited = now - self.consumer_wait >= self._session_max_wait
        answer = idle_stream & (
            (stream_bytes >= self._session_fetch_min) | waited
        )
        if not self._all_sessions_up:
            answer &= self._session_up  # no fetch session with a broker that is down
        if not np.count_nonzero(answer):  # nothing is fetched: the network holds what it held
            return np.bincount(
                self._c_stream_flat, weights=(self.c_net * bpm[None, :]).ravel(), minlength=M * B
            )
        go = answer[self.c_stream] & self.owned
        fetch = np.where(go, fetch, 0)
        self.consumer_requests += int(answer.sum())
        self._fetch_headers(answer)
        self.consumer_wait[answer] = -1.0
        self.broker_requests += np.bincount(self._session_broker, weights=answer, minlength=B)
        self.position += fetch
        self.c_net += fetch
        fetched_bytes = fetch * bpm[None, :]
        self._fetch_cpu = (
            self._fetch_cpu
            + np.bincount(
                self._gp_leader_flat,
                weights=fetched_bytes.ravel() * self.byte_cpu,
                minlength=B,
            )
            + np.bincount(self._session_broker, weights=answer * self.request_cpu, minlength=B)
        )
        return np.bincount(
            self._c_stream_flat, weights=(self.c_net * bpm[None, :]).ravel(), minlength=M * B
        )

    def _fetch_headers(self, answer: np.ndarray) -> None:
        """Consumer fetch requests (header and a partition entry each) cross the member's
        egress and the broker's ingress; their responses' headers the other way."""
        B = self.B
        request_size, response_size = self._fetch_header_bytes
        request = answer * request_size
        response = answer * response_size
        broker = self._session_broker
        member = self._session_member
        into_broker = np.bincount(broker, weights=request, minlength=B)
        self.header_bytes_in += into_broker
        self._link_overhead[1 : 2 * B : 2] += into_broker
        self._link_overhead[0 : 2 * B : 2] += np.bincount(broker, weights=response, minlength=B)
        hosts = self._member_egress
        self._link_overhead[hosts] += np.bincount(member, weights=request, minlength=self.M)
        self._link_overhead[hosts + 1] += np.bincount(member, weights=response, minlength=self.M)

    def _poll_seconds_per_record(self) -> np.ndarray:
        """(group, partition): seconds of a member's thread per record -- its processing
        time plus what ``poll()`` spends on it (parse, CRC per byte, decompression per
        uncompressed byte; :func:`~simkafka.sim.client_costs.consumer_poll_cpu`)."""
        bpm = self._bpm
        poll = consumer_poll_cpu(self.scenario.costs, "none", 1.0, bpm, 0.0)
        poll = poll + self.p_decompress * bpm / self.p_ratio
        per_record = np.maximum(self.member_per_record, 0.0) * self.slow_factor
        return (per_record[self._member_of] + poll[None, :]) * self.owned

    def _process(self, now: float) -> None:
        """Each member's thread polls and processes buffered records: a budget of seconds
        per step, ``processing_time_per_record`` plus the poll's own cost per record."""
        if not self.G or not np.count_nonzero(self.buffered):
            return
        old = self.consumed.copy()
        cost = self._poll_seconds_per_record()
        budget = self.dt + self.budget_carry
        member_of = self._member_of
        held = np.bincount(self._member_of_flat, weights=(self.buffered * cost).ravel(), minlength=self.M)
        busy = held > budget
        self._batches_taken(held, busy, member_of)
        if self._batch_held:
            # the batch in hand first, then what was fetched since (poll() returns
            # records in fetch order)
            in_hand = np.bincount(self._member_of_flat, weights=(self.in_batch * cost).ravel(), minlength=self.M)
            first = np.minimum(1.0, np.divide(budget, in_hand, out=np.ones(self.M), where=in_hand > 0))
            taken = split_fraction(self.in_batch, first[member_of] * self.owned, self.rng)
            left = budget - np.bincount(self._member_of_flat, weights=(taken * cost).ravel(), minlength=self.M)
            rest = self.buffered - self.in_batch
            rest_held = held - in_hand
            then = np.minimum(
                np.maximum(np.divide(left, rest_held, out=np.ones(self.M), where=rest_held > 0), 0.0),
                1.0,
            )
            taken = taken + split_fraction(rest, then[member_of] * self.owned, self.rng)
        elif self._kernels is not None:
            words = self._rng_words()
            taken, used, used_s, drew = self._kernels.process_taken(
                words, budget, held, busy, member_of, self.owned, self.buffered, cost,
                self.member_busy, self.budget_carry, self.consumed,
            )  # fmt: skip
            self._rng_drawn(words, drew)
            self.step_busy = used_s
            self.consumed_bytes += (taken * self._bpm[None, :]).sum(axis=1)  # (numpy's sum)
        else:
            take_frac = np.divide(budget, held, out=np.ones(self.M), where=busy & (held > 0))
            taken = split_fraction(self.buffered, take_frac[member_of] * self.owned, self.rng)
        if self._batch_held or self._kernels is None:
            used = np.bincount(self._member_of_flat, weights=taken.ravel(), minlength=self.M)
            used_s = np.bincount(
                self._member_of_flat, weights=(taken * cost).ravel(), minlength=self.M
            )
            self.member_busy += used_s
            self.step_busy = used_s
            # a member busy all step carries its unused fraction of a record to the next
            self.budget_carry = np.where(busy, budget - used_s, 0.0)
            self.consumed_bytes += (taken * self._bpm[None, :]).sum(axis=1)
            self.buffered -= taken
            self.consumed += taken
        if self._batch_held:
            self.in_batch = np.minimum(np.maximum(0, self.in_batch - taken), self.buffered)
        if now <= self.measure_from:
            return
        slots = taken.ravel().nonzero()[0]  # (group, partition) pairs, all groups at once
        if not slots.size:
            return
        part = slots % self.P
        # records of the prefill were created at the start of the run
        prefill = self.prefill_p[part]
        old_s, new_s = old.ravel()[slots], self.consumed.ravel()[slots]
        from_prefill = np.maximum(np.minimum(new_s, prefill) - old_s, 0)
        if np.count_nonzero(from_prefill):
            waited = np.full(int((from_prefill > 0).sum()), now)
            self._record_latency("e2e", waited, waited, from_prefill[from_prefill > 0])
        shift = self.failed_p[part] - prefill
        piece, created_lo, created_hi, n = self._creation_pieces(
            part,
            np.maximum(old_s, prefill) + shift,
            np.maximum(new_s, prefill) + shift,
            taken.ravel()[slots] - from_prefill,
        )
        # the produce request's trip to the leader and its handling, replication to the
        # ISR, the fetch's handling and its response's trip to the member, then the poll:
        # a record counts as consumed when the application processed the whole poll
        per_record = np.divide(used_s, used, out=np.zeros(self.M), where=used > 0)
        poll = np.minimum(used, self.max_poll_records) * per_record
        member = self.owner.ravel()[slots]
        extra = (
            self.request_trip + self.request_cpu + self.replication_delay[part] + poll[member]
        )[piece]
        low, high = self._waited(now, created_hi, created_lo, 2)
        self._record_latency("e2e", np.maximum(0.0, low + extra), np.maximum(0.0, high + extra), n)
