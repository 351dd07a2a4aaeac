"""Batching, request shapes and latency in the flow engine: an approximation from the mechanisms.

The flow engine has rates, not requests; the shape of the requests and the latency of a
record follow from the rates through the mechanisms the other engines play:

* **Batching.** A batch is opened by a record and sent when it is full (``batch.size``:
  ``full_batch`` records) or when ``linger.ms`` has run out. The rate filling it is the
  instance's rate into the partition for keyed records, and the instance's whole rate
  for unkeyed ones (the sticky partitioner gives one partition everything until
  ``batch.size`` bytes went there). So a batch holds ``min(full, 1 + rate * linger)``
  records and its first record waits ``min(linger, (full - 1) / rate)``; the records of a
  batch wait evenly between that and nothing. A keyed instance's batches to one leader
  go together: the Sender drains every partition of a node once one of its batches is
  ready, so each holds what its partition received in the connection's cycle
  (:meth:`FlowLatency._drained_together`).
* **Requests.** A producer connection is muted while the broker serves a request
  (``service``: the handler's work, the records under their logs' locks, and with
  ``acks=all`` the high watermark's wait -- the slowest follower's round trip and its
  next fetch), so it carries at most one request per ``service``; a request drains every
  batch ready for the broker. Requests a second are the batches a second as long as they
  fit (one batch each; a keyed connection's: one per drain, holding its partitions'
  batches), and ``1 / service`` beyond, with proportionally more batches per request --
  up to one per partition the connection leads and ``max.request.size``.
  Waiting for the channel is an M/D/1 queue at the channel's utilisation.
* **Fetches.** A replica fetcher or a consumer's fetch session has one fetch out at a
  time and the leader answers as soon as data arrives (``fetch.min.bytes`` 1), so a
  session fetches at the rate its partitions' batches arrive, at most once per round
  trip: the CPU per request is spread over the records each fetch carries. A session
  with ``fetch.min.bytes`` gathers them at its byte rate, at most ``fetch.max.wait.ms``
  -- or, from a sticky producer, within the stint that lands its batches on the
  partition back to back (:meth:`FlowLatency._stint_gather`).

A record's **produce latency** is its batch's wait (uniform), the request's trip to the
leader, the wait for the channel, the service, and the response's trip back. Its
**end-to-end latency** adds, from the moment the leader appended it, the high
watermark's wait (for ``acks=1`` too: consumers see only what is replicated), the
member's fetch round trip (a record arrives while the session's fetch is out: uniform
over one round trip), and the processing of the poll that returned it. Each is
recorded as a constant plus a uniform part, per flow and per interval between events,
into the same histograms the other engines fill. What it does not have: queueing
beyond the channel's (handler threads, NICs below saturation), the Sender thread's
wait, and the spread of one request's batches. ``benchmarks/compare_engines.py``
compares the percentiles with the events engine's.

**The pipeline.** The messages in flight are, by Little's law, the rate times the mean
produce latency. When a rate changes, the pipeline moves to its new content over one
latency (the acknowledgement rate is the send rate plus the difference spread over the
longest flow's latency), so the counts stay conserved and monotone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simkafka.sim.histogram import LatencyHistogram
from simkafka.sim.log_append import follower_append_cost

# the world this reads is simkafka.sim.flow.FlowWorld, which builds it: named ``Any``
# here, as the layers let a component see its world only through what it is handed
FlowWorld = Any
MAX_QUEUE_SERVICES = 50.0  # a saturated channel's wait is capped at this many services
TINY_RATE = 1e-12


@dataclass
class Shape:
    """The requests and batches at the current rates (per producer flow, follower, or
    consumer flow)."""

    msgs_per_batch: np.ndarray
    msgs_per_request: np.ndarray
    channel_per_msg: np.ndarray  # the channel's ceiling: seconds per message at full requests
    channel_busy_per_msg: np.ndarray  # what the channel is held per message now
    batch_wait: np.ndarray
    produce_base: np.ndarray  # the constant part of the produce latency
    high_watermark_wait: np.ndarray  # per producer flow
    fetches_per_msg: np.ndarray  # per follower
    fetches_per_record: np.ndarray  # per consumer flow
    consume_base: np.ndarray  # per consumer flow: from the high watermark to processed
    consume_spread: np.ndarray  # its uniform part
    remainder: np.ndarray  # share of a flow's records in a sticky stint's leftover batch
    remainder_wait: np.ndarray  # ... which waits out linger.ms
    hw_spread: np.ndarray  # per partition: the fetch pick-up's uniform part
    consume_pipeline: np.ndarray  # per consumer flow: mean time from high watermark to processed


class FlowLatency:
    """Request shapes, the in-flight pipeline and the latency histograms of a flow world."""

    def __init__(self, world: FlowWorld) -> None:
        self.world = world
        self.produce = LatencyHistogram()
        self.e2e = LatencyHistogram()
        self.settle_until = 0.0
        self.ack_excess = np.zeros(world.K)
        self.consume_excess = np.zeros(world.C)
        self._carry_p = np.zeros(world.K)
        self._carry_c = np.zeros(world.C)
        self.refresh()

    def refresh(self) -> None:
        """The topology changed: the replication round trips are the new followers'."""
        w = self.world
        follower = follower_append_cost(w.scenario.costs.broker)
        # the high watermark's wait: the slowest follower's round trip, its fetch's
        # handling at the leader and its append, then the next fetch reports it
        self._loop_f = 2 * w.f_one_way + w.request_cpu + follower.batch
        self._hw_wait_p = w.hw_round_trip + (w.request_cpu + follower.batch) * (w.followers_of > 0)

    def shape(self, rate_k: np.ndarray) -> Shape:
        w = self.world
        count = w.count[w.k_spec]
        per_instance = rate_k / count
        spec_rate = np.bincount(w.k_spec, weights=rate_k, minlength=w.N) / w.count
        keyed = w.keyed[w.k_spec]
        fill = np.where(keyed, per_instance, spec_rate[w.k_spec])
        full = w.full_batch[w.k_spec]
        linger = w.linger[w.k_spec]
        fills_first = fill * linger >= full - 1.0  # the batch fills before linger.ms
        # unkeyed at such rates: a stint's full batches and its remainder's batch
        stint = w.stint[w.k_spec]
        whole = np.floor(stint / full)
        rest = stint - whole * full
        sticky = ~keyed & fills_first & (rest > 0)
        mpb = np.where(fills_first, full, np.clip(1.0 + fill * linger, 1.0, full))
        mpb = np.where(sticky, stint / (whole + 1.0), mpb)
        with np.errstate(divide="ignore", invalid="ignore"):
            batch_wait = np.where(fills_first, (full - 1.0) / np.maximum(fill, TINY_RATE), linger)
        n_conn = w.N * w.B
        drains = np.zeros(n_conn)  # a keyed connection's drains a second (each one request)
        if keyed.any():
            mpb, batch_wait, drains = self._drained_together(per_instance, full, linger, keyed, mpb, batch_wait)
        remainder = np.where(sticky, rest / stint, 0.0)
        hw_spread = self._hw_spread(rate_k / mpb)
        hw_wait = (self._hw_wait_p + 0.5 * hw_spread)[w.k_part] * w.all_acks[w.k_spec]
        # the connection's service per request
        lock = w.lock_batch / mpb + w.lock_record[w.k_spec] + w.lock_byte[w.k_spec] * w.k_wire
        conn_batches = np.bincount(w.k_conn, weights=per_instance / mpb, minlength=n_conn)
        conn_msgs = np.bincount(w.k_conn, weights=per_instance, minlength=n_conn)
        conn_lock = np.bincount(w.k_conn, weights=per_instance * (lock + w.byte_cpu * w.k_wire), minlength=n_conn)
        conn_wait = w.max_by_conn(hw_wait)
        fixed = w.request_cpu + 2 * w.network_request_cpu
        per_msg = np.divide(conn_lock, conn_msgs, out=np.zeros(n_conn), where=conn_msgs > 0)
        # requests a second: one per batch (a keyed connection's: one per drain) while
        # they fit, else one per service
        ready = np.where(drains > 0, drains, conn_batches)
        service_1 = fixed + conn_wait + per_msg * np.divide(conn_msgs, ready, out=np.ones(n_conn), where=ready > 0)
        req_rate = np.minimum(ready, np.divide(1.0, service_1))
        msgs_per_req_conn = np.divide(conn_msgs, req_rate, out=np.ones(n_conn), where=req_rate > 0)
        service = fixed + conn_wait + per_msg * msgs_per_req_conn
        busy = req_rate * service
        rho = np.minimum(busy, 1.0 - 1.0 / MAX_QUEUE_SERVICES)
        queue = rho * service / (2.0 * (1.0 - rho))
        mpr = np.maximum(msgs_per_req_conn[w.k_conn], mpb)
        # the ceiling: every request carries a full batch of every partition it leads
        wire_full = full * w.k_wire
        batches_max = np.minimum(w.conn_partitions[w.k_conn], np.maximum(1.0, w.max_request[w.k_spec] // wire_full))
        mpr_max = batches_max * full
        service_full = fixed + conn_wait[w.k_conn] + (lock + w.byte_cpu * w.k_wire) * mpr_max
        channel_per_msg = service_full / mpr_max
        channel_busy = service[w.k_conn] / mpr
        latency = w.client_latency
        acks0 = w.zero_acks[w.k_spec]
        produce_base = np.where(acks0, latency, 2 * latency + queue[w.k_conn] + service[w.k_conn])
        # fetch sessions: a fetch per arriving batch, at most one per round trip
        batches_p = np.bincount(w.k_part, weights=rate_k / mpb, minlength=w.P)
        msgs_p = np.bincount(w.k_part, weights=rate_k, minlength=w.P)
        fetches_per_msg = np.zeros(w.F)
        if w.F:
            stream_batches = np.bincount(w.f_stream, weights=batches_p[w.f_part], minlength=w.S_f)
            stream_msgs = np.bincount(w.f_stream, weights=msgs_p[w.f_part], minlength=w.S_f)
            loops = np.minimum(stream_batches, np.divide(1.0, w.stream_round_trip, out=np.full(w.S_f, np.inf),
                                                         where=w.stream_round_trip > 0))
            fetches_per_msg = np.divide(loops, stream_msgs, out=np.zeros(w.S_f), where=stream_msgs > 0)[w.f_stream]
        fetches_per_record = np.zeros(w.C)
        consume_base = np.zeros(w.C)
        consume_spread = np.zeros(w.C)
        consume_pipeline = np.zeros(w.C)
        if w.C:
            trip = 2 * latency + w.request_cpu
            session = w.c_session
            n_sessions = w.S_c
            s_batches = np.bincount(session, weights=batches_p[w.c_part], minlength=n_sessions)
            s_msgs = np.bincount(session, weights=msgs_p[w.c_part], minlength=n_sessions)
            s_bytes = np.bincount(session, weights=(msgs_p * w.bytes_per_msg_p)[w.c_part], minlength=n_sessions)
            # a fetch is answered once fetch.min.bytes are there, or after fetch.max.wait.ms
            member = w.session_member
            min_bytes = w.fetch_min[member]
            gathering = min_bytes > 1
            wait = np.where(
                gathering,
                np.minimum(w.fetch_max_wait_m[member], np.divide(min_bytes, s_bytes, out=np.full(n_sessions, np.inf), where=s_bytes > 0)),
                0.0,
            )
            cycle = wait + trip
            loops = np.where(gathering, 1.0 / cycle, np.minimum(s_batches, 1.0 / trip))
            fetches_per_record = np.divide(loops, s_msgs, out=np.zeros(n_sessions), where=s_msgs > 0)[session]
            # a poll returns what its sessions brought in one cycle (at most max.poll.records)
            member_msgs = np.bincount(w.c_member, weights=msgs_p[w.c_part], minlength=w.M)
            member_cycle = np.divide(
                np.bincount(member, weights=s_msgs * cycle, minlength=w.M), member_msgs,
                out=np.full(w.M, trip), where=member_msgs > 0)
            per_record = w.poll_seconds_per_record()
            member_cost = np.bincount(w.c_member, weights=msgs_p[w.c_part] * per_record, minlength=w.M)
            mean_cost = np.divide(member_cost, member_msgs, out=np.zeros(w.M), where=member_msgs > 0)
            poll = np.minimum(w.max_poll_records, np.maximum(1.0, member_msgs * member_cycle)) * mean_cost
            hw_c = self._hw_wait_p[w.c_part]
            consume_base = hw_c + latency + w.request_cpu + poll[w.c_member]
            # a stint's batches: full ones, or what lingers out at the instance's rate
            gather = self._stint_gather(rate_k, fill, np.where(fills_first, full, mpb), stint, wait[session],
                                        min_bytes[session], w.fetch_max_wait_m[member][session], ~keyed)
            consume_spread = gather + trip
            # from the high watermark to processed, on average: what the group's lag holds
            consume_pipeline = consume_base - hw_c + 0.5 * consume_spread
        return Shape(mpb, mpr, channel_per_msg, channel_busy, batch_wait, produce_base,
                     hw_wait, fetches_per_msg, fetches_per_record, consume_base, consume_spread,
                     remainder, linger, hw_spread, consume_pipeline)

    def _stint_gather(
        self, rate_k: np.ndarray, fill: np.ndarray, batch: np.ndarray, stint: np.ndarray,
        session_wait: np.ndarray, min_bytes: np.ndarray, max_wait: np.ndarray, bursting: np.ndarray,
    ) -> np.ndarray:
        """Per consumer flow, how long the first records of what answers its session's
        fetch waited at the leader (its records wait evenly between that and nothing).

        The session's wait (``fetch.min.bytes`` gathered at its byte rate, at most
        ``fetch.max.wait.ms``) holds for bytes that come evenly. A sticky producer's do not:
        a stint lands its batches (full ones, or what ``linger.ms`` lets fill) on one
        partition back to back, a batch every ``batch / rate`` seconds of the instance,
        then nothing until the partitioner comes back. When a stint brings ``fetch.min.bytes`` itself, the fetch is answered by the
        stint's ``ceil(fetch.min.bytes / batch)``-th batch, ``g`` after its first -- or
        when the parked fetch's ``fetch.max.wait.ms`` runs out first; stints come at any
        moment of it, so the first batch waits ``E[min(g, U(0, max.wait))]``. The
        partition's other records (the stints' leftover batches, keyed producers') wait
        the session's way. Left out: a stint that comes back to a partition whose leftover
        batch still lingers fills that one first, so some stints bring a whole batch
        fewer and wait for the next stint or the window (``test_flow_fetch_gather``: 16 ms
        here, 28 ms in the events engine, against the even bytes' 99 ms)."""
        w = self.world
        flows = bursting & (rate_k > TINY_RATE)
        if not flows.any():
            return session_wait
        whole = np.floor(stint / batch)
        rate_p = np.bincount(w.k_part, weights=rate_k, minlength=w.P)
        # the partition's sticky stints, rate-weighted over its sticky producers: a
        # batch's bytes, the time between two, a stint's whole batches, and the share of
        # the partition's records in them
        sticky = np.where(flows, rate_k * whole * batch / stint, 0.0)
        in_stints = np.bincount(w.k_part, weights=sticky, minlength=w.P)

        def mean(values: np.ndarray) -> np.ndarray:
            total = np.bincount(w.k_part, weights=sticky * values, minlength=w.P)
            return np.divide(total, in_stints, out=np.zeros(w.P), where=in_stints > 0)

        with np.errstate(divide="ignore", invalid="ignore"):
            batch_bytes = mean(batch * w.k_wire)[w.c_part]
            spacing = mean(np.where(flows, batch / fill, 0.0))[w.c_part]
            batches = mean(whole)[w.c_part]
            share = np.divide(in_stints, rate_p, out=np.zeros(w.P), where=rate_p > 0)[w.c_part]
            needed = np.ceil(np.divide(min_bytes, batch_bytes, out=np.full(w.C, np.inf), where=batch_bytes > 0))
        answers = (share > 0) & (min_bytes > 1) & (needed <= batches)
        g = np.where(answers, (np.where(answers, needed, 1.0) - 1.0) * spacing, 0.0)
        first = np.where(g < max_wait, g - g * g / (2.0 * np.maximum(max_wait, TINY_RATE)), 0.5 * max_wait)
        return np.where(answers, share * first + (1.0 - share) * session_wait, session_wait)

    def _drained_together(
        self, per_instance: np.ndarray, full: np.ndarray, linger: np.ndarray, keyed: np.ndarray,
        mpb: np.ndarray, batch_wait: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Keyed flows' batches (``mpb``, ``batch_wait``) and each connection's drains a
        second, drained a connection at a time.

        The Sender drains a node as soon as one of its batches is ready -- full, or its
        first record ``linger.ms`` old -- and then takes the first batch of *every*
        partition it leads for that node, ready or not (``RecordAccumulator.ready`` /
        ``drainBatchesForOneNode``). So an instance's connection to a leader empties all
        its partitions' batches together, once a cycle: the first record after a drain
        comes one inter-arrival (``1 / rate`` of the connection) later, and the drain
        follows ``linger.ms`` after it, or as soon as the connection's fastest-filling
        partition fills its batch; each drain is one request. A partition's batch holds
        what it received in a cycle, at least the record that opened it: ``rate x cycle``
        records (records arrive evenly, so a slow partition has a record in a fraction
        ``rate x cycle`` of the cycles), at most a full batch. With one partition per connection this is a
        batch of ``1 + rate x linger.ms`` records, or a full one."""
        w = self.world
        n_conn = w.N * w.B
        lam = np.where(keyed, per_instance, 0.0)
        conn_rate = np.bincount(w.k_conn, weights=lam, minlength=n_conn)
        with np.errstate(divide="ignore", invalid="ignore"):
            # the time from a batch's first record to the record that fills it, and the
            # connection's shortest
            filling = np.where(lam > TINY_RATE, (full - 1.0) / lam, np.inf)
            first_full = -w.max_by_conn(-filling) if w.K else np.zeros(n_conn)
            conn_linger = np.zeros(n_conn)
            conn_linger[w.k_conn] = linger
            conn_close = np.minimum(conn_linger, first_full)
            flowing = conn_rate > TINY_RATE
            conn_cycle = np.where(flowing, conn_close + 1.0 / conn_rate, 0.0)
            drains = np.where(flowing, 1.0 / conn_cycle, 0.0)
        moving = keyed & (lam > TINY_RATE)
        cycle = conn_cycle[w.k_conn]
        mpb = np.where(moving, np.clip(lam * cycle, 1.0, full), mpb)
        batch_wait = np.where(moving, conn_close[w.k_conn], batch_wait)
        return mpb, batch_wait, drains

    def _hw_spread(self, batches_k: np.ndarray) -> np.ndarray:
        """Per partition, how long an appended record may wait for its fetcher's next
        fetch: a fetcher that loops without pause (batches arrive faster than it loops)
        picks a record up anywhere within one loop; an idle one has its fetch parked at
        the leader and takes it at once."""
        w = self.world
        if not w.F:
            return np.zeros(w.P)
        batches_p = np.bincount(w.k_part, weights=batches_k, minlength=w.P)
        loop = self._loop_f
        stream_batches = np.bincount(w.f_stream, weights=batches_p[w.f_part], minlength=w.S_f)
        stream_loop = w.max_by_stream(loop)
        busy = np.minimum(1.0, stream_batches * stream_loop)[w.f_stream]
        return w.max_by_partition(loop * busy)

    # -- the pipeline ------------------------------------------------------------------------

    def mean_produce_latency(self) -> np.ndarray:
        shape = self.world.shape
        batch = (1 - shape.remainder) * 0.5 * shape.batch_wait + shape.remainder * shape.remainder_wait
        return shape.produce_base + batch

    def settle_pipeline(self, rate_k: np.ndarray, rate_c: np.ndarray) -> None:
        """After a rate change, move both pipelines -- the producers' messages in flight
        and the groups' between the high watermark and processed -- to their new
        content (Little's law) over the longest latency."""
        w = self.world
        shape = w.shape
        produce_latency = self.mean_produce_latency() if w.K else np.zeros(0)
        tau = max(float(produce_latency.max(initial=0.0)), float(shape.consume_pipeline.max(initial=0.0)))
        # requests waiting on a high watermark that cannot move, or sent to a leader that
        # is gone, are acknowledged once it moves or the new leader (which has them: its
        # followers were in sync) answers the retry -- idempotent, so once: they wait
        excess_k = np.where(w.k_moves(), w.in_flight - rate_k * produce_latency, 0.0) if w.K else np.zeros(0)
        excess_c = w.c_pipe - rate_c * shape.consume_pipeline
        moving = max(float(np.abs(excess_k).max(initial=0.0)), float(np.abs(excess_c).max(initial=0.0)))
        if tau > 0 and moving > 1e-6:
            self.ack_excess = excess_k / tau
            self.consume_excess = excess_c / tau
            self.settle_until = w.now + tau
        else:
            self.ack_excess = np.zeros(w.K)
            self.consume_excess = np.zeros(w.C)
            self.settle_until = w.now

    def settle_left(self, now: float) -> float:
        return self.settle_until - now if self.settle_until > now + 1e-12 else 0.0

    def ack_rate(self, t0: float) -> np.ndarray:
        """Producer flows' acknowledgements a second from ``t0`` on (settling or not)."""
        w = self.world
        if t0 < self.settle_until - 1e-12:
            return np.maximum(0.0, w.rate_k + self.ack_excess)
        return w.rate_k

    def consume_rate(self, t0: float) -> np.ndarray:
        """Consumer flows' records processed a second from ``t0`` on."""
        w = self.world
        if t0 < self.settle_until - 1e-12:
            return np.maximum(0.0, w.rate_c + self.consume_excess)
        return w.rate_c

    # -- histograms --------------------------------------------------------------------------

    def record(self, dt: float) -> None:
        """The interval's records: a constant plus a uniform part per flow."""
        w = self.world
        shape = w.shape
        if w.K:
            n = w.rate_k * dt + self._carry_p
            whole = np.floor(n)
            self._carry_p = n - whole
            # records that queued in send() and the accumulator waited that long first
            # (the queue at the interval's middle: it changes linearly)
            queued = w.queue_wait(0.5 * dt)
            base = queued + shape.produce_base - 0.5 * shape.hw_spread[w.k_part] * w.all_acks[w.k_spec]
            spread = shape.hw_spread[w.k_part] * w.all_acks[w.k_spec]
            late = np.floor(whole * shape.remainder)
            self.produce.record_uniform_many(
                np.concatenate([base, base + shape.remainder_wait]),
                np.concatenate([base + shape.batch_wait + spread, base + shape.remainder_wait + spread]),
                np.concatenate([whole - late, late]).astype(np.int64),
            )
        if w.C:
            n = w.rate_c * dt + self._carry_c
            whole = np.floor(n)
            self._carry_c = n - whole
            # from the record's creation to the high watermark, as its produce path
            # says (rate-weighted over the partition's producers), then the consumer's part
            base_p, wait_p, late_p, late_wait_p = self._produce_of_partition(dt)
            low = (base_p + w.latency.hw_mean_p())[w.c_part] + shape.consume_base - self._hw_wait_p[w.c_part]
            spread = shape.consume_spread + shape.hw_spread[w.c_part]
            late = np.floor(whole * late_p[w.c_part])
            self.e2e.record_uniform_many(
                np.concatenate([low, low + late_wait_p[w.c_part]]),
                np.concatenate([low + wait_p[w.c_part] + spread, low + late_wait_p[w.c_part] + spread]),
                np.concatenate([whole - late, late]).astype(np.int64),
            )

    def hw_mean_p(self) -> np.ndarray:
        """Per partition, the high watermark's mean wait after the append."""
        return self._hw_wait_p + 0.5 * self.world.shape.hw_spread

    def _produce_of_partition(self, dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per partition, rate-weighted over its producers: the produce path from the
        batch's send to the append (its request's trip, the channel's queue and the
        service before the high watermark's wait), the full batches' wait, the share of
        records in sticky remainders and their wait."""
        w = self.world
        shape = w.shape
        r = w.rate_k
        msgs = np.bincount(w.k_part, weights=r, minlength=w.P)

        def mean(values: np.ndarray) -> np.ndarray:
            total = np.bincount(w.k_part, weights=r * values, minlength=w.P)
            return np.divide(total, msgs, out=np.zeros(w.P), where=msgs > 0)

        to_append = w.queue_wait(0.5 * dt) + shape.produce_base - w.client_latency - shape.high_watermark_wait
        return (mean(to_append), mean(shape.batch_wait), mean(shape.remainder), mean(shape.remainder_wait))
