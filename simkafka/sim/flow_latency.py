"""Batching, request shapes and latency in the flow engine: an approximation from the mechanisms.

The flow engine has rates, not requests; the shape of the requests and the latency of a
record follow from the rates through the mechanisms the other engines play:

* **Batching.** A batch is opened by a record and closed when it is full (``batch.size``:
  ``full_batch`` records); the filling rate is the instance's rate into the partition
  for keyed records, and the instance's whole rate for unkeyed ones (the sticky
  partitioner gives one partition a stint of ``batch.size`` bytes: its full batches and
  a leftover batch).
* **Requests: the Sender's drain** (:meth:`FlowLatency.drain`). A pass of the Sender
  sends a connection (an instance's connection to a broker) one request when one of its
  partitions has a batch ready -- full, or open for ``linger.ms`` -- and that request
  takes the first batch of *every* partition of the broker with records, open ones too
  (``RecordAccumulator.ready`` then ``drain``, as the events and stepped engines do).
  Keyed, the connection drains once a cycle: the first record after a drain comes
  ``1 / lambda_c`` later (arrivals taken as memoryless), then that batch lingers out or
  the fastest partition fills one, and every partition that took a record goes along.
  Unkeyed, each full batch of a stint is a request as it closes, and the leftover batch
  goes with the next request to its broker -- the next stint landing there, if its
  first batch fills before the leftover lingered out -- or alone.
* **The connection's limits.** The broker mutes a connection while it serves a request
  (``service``: the handler's work, the records under their logs' locks, and with
  ``acks=all`` the high watermark's wait), and the client has at most
  ``max.in.flight.requests.per.connection`` requests out per round trip: when the drain
  would send faster, the requests carry more (up to a batch per partition and
  ``max.request.size``; that ceiling bounds the throughput) and the records wait for
  the next one, their batches filling meanwhile (a backed-up connection's request takes
  a full batch of each partition, as every request does at ``rate: max``).
* **The channel's queue.** A request waits for the ones before it on its connection: a
  G/D/1 queue at the channel's utilisation, with Kingman's approximation for the
  variability of the gaps between requests (keyed: near periodic, one a cycle whose only
  random part is the first record's wait; unkeyed: the stints land at random), plus,
  unkeyed, the wait of a stint's full batches behind each other (sent a batch's fill
  apart, served one service apart) -- at most ``max.in.flight - 1`` services.
* **The high watermark.** With ``acks=all`` the leader answers once every in-sync
  follower fetched the record and its next fetch told the leader so: the slowest
  follower's round trip with a fetcher loop's handling (the leader's network and handler
  threads, the follower's handling and append) and its data's time
  (:mod:`~simkafka.sim.flow_fetch`: the bytes handled on both sides, and the response's
  share of the leader's egress with the other fetches of the same append), plus the wait
  for the fetch to pick the record up -- none when the fetch is parked at the leader, up
  to a loop when the fetcher loops without pause (a stream's appends come once per
  request, at most one per batch), the slowest of the followers' (``n / (n + 1)`` of a
  loop for ``n`` of them). A request read as the one before it on its connection is
  answered was read as that fetch was: it waits the rest of that fetch's loop (a loop
  less its own handling) and then one more.
* **Fetches.** A replica fetcher or a consumer's fetch session has one fetch out at a
  time and the leader answers as soon as data arrives (``fetch.min.bytes`` 1), so a
  session fetches at the rate its partitions' batches arrive, at most once per round
  trip: the CPU per request is spread over the records each fetch carries. A session
  with ``fetch.min.bytes`` gathers them at its byte rate, at most ``fetch.max.wait.ms``
  -- or, from a sticky producer, within the stint that lands its batches on the
  partition back to back (:meth:`FlowLatency._stint_gather`).

A record's **produce latency** is its batch's wait (uniform up to the connection's
cycle; a sticky leftover's up to ``linger.ms``), the request's trip to the leader, the
wait for the channel (none for the requests that find it free, exponential for the
others -- recorded as uniform pieces between its quantiles -- plus the burst's), the
service, and the response's trip back. Its **end-to-end latency** adds, from the
moment the leader appended it, the high watermark's wait (for ``acks=1`` too: consumers
see only what is replicated), the member's fetch (a record appended while the session's
fetch is parked at the leader is answered at once, one appended while it is on its way
waits for the next one, up to a round trip: recorded as uniform over the round trip
times the share of the time the fetch is out, which has the mixture's mean; a gathering
session's record waits evenly over its cycle), the wait behind the group's
backlog when it has one (first in, first out: the record at offset ``high watermark -
lag`` was appended when the log end passed it, read off the log ends noted at every
change of rates; a prefill's records at the start), and the processing of the
poll that returned it: one fetch response, as a member's sessions answer at different
times. Each piece is recorded as uniform between its bounds, per flow and per
interval between events, into the same histograms the other engines fill.

**Measured** (``benchmarks/compare_engines.py``, the flow engine against the events
engine, difference in %):

| case | request rate | produce p50 | produce p99 | e2e p50 | e2e p99 |
|---|---|---|---|---|---|
| quickstart (keyed, acks=all, linger 5 ms) | +5 | +8 | +2 | +8 | +6 |
| quickstart, acks=1, linger 20 ms | +1 | -1 | +1 | -1 | +0 |
| reference (unkeyed, acks=all, 144 connections) | +4 | -1 | -12 | -13 | -14 |

(the stepped engine at 1 ms steps, for scale: -4, -7, -6, +5, +2 on quickstart; -4, -25,
-16, -29, -18 on the reference). The group's lag in seconds of its consumption (high
watermark to processed, the pipeline's mean) is 0.63 ms on quickstart against the
events engine's 0.56 (``test_flow_fetch_gather``). The request rate is a few percent high because the
events engine spreads a pass's arrivals evenly since the last pass, so its first record
after a drain comes later than a memoryless arrival's.

What it does not have: queueing beyond the channel's (handler threads, log locks and
NICs below saturation: the events engine's handling of a request spreads over tenths of
a millisecond), a fetcher loop's own variability (the events engine's loops are longer
and more spread under load), the exact shape of the channel's wait (the events
engine's, on the reference, is spread almost evenly up to the in-flight limit: its median
is higher, and more of it lies near the limit, than an exponential's -- most of the
reference's shortfall), the Sender thread's wait, imbalance between connections (every connection
of a spec at the mean), and the spread of one request's batches.

**The pipeline.** The messages in flight are, by Little's law, the rate times the mean
produce latency. When a rate changes, the pipeline moves to its new content over one
latency (the acknowledgement rate is the send rate plus the difference spread over the
longest flow's latency), so the counts stay conserved and monotone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from simkafka.sim.flow_fetch import fetch_data_seconds
from simkafka.sim.flow_histograms import HistogramRecording
from simkafka.sim.log_append import follower_append_cost

# the world this reads is simkafka.sim.flow.FlowWorld, which builds it: named ``Any``
# here, as the layers let a component see its world only through what it is handed
FlowWorld = Any
MAX_QUEUE_SERVICES = 50.0  # a saturated channel's wait is capped at this many services
CHANNEL_ROUNDS = 3  # the channel's queue <-> the high watermark's wait: settles in three
TINY_RATE = 1e-12


@dataclass
class Shape:
    """The requests and batches at the current rates (per producer flow, follower, or
    consumer flow)."""

    msgs_per_batch: np.ndarray
    msgs_per_request: np.ndarray
    channel_per_msg: np.ndarray  # the connection's ceiling: seconds per message at full requests
    channel_busy_per_msg: np.ndarray  # what the channel is held per message now
    batch_wait: np.ndarray
    produce_base: np.ndarray  # the constant part of the produce latency
    high_watermark_wait: np.ndarray  # per producer flow
    fetches_per_msg: np.ndarray  # per follower
    fetches_per_record: np.ndarray  # per consumer flow
    consume_base: np.ndarray  # per consumer flow: from the high watermark to processed
    consume_spread: np.ndarray  # its uniform part
    remainder: np.ndarray  # share of a flow's records in a sticky stint's leftover batch
    remainder_own: np.ndarray  # ... of which batches linger out and go in their own request
    remainder_early: np.ndarray  # ... the others go with the next request, from this wait on
    remainder_wait: np.ndarray  # ... which waits out linger.ms
    hw_spread: np.ndarray  # per partition: the fetch pick-up's uniform part
    consume_pipeline: np.ndarray  # per consumer flow: mean time from high watermark to processed
    requests_per_s: np.ndarray  # per connection (all its spec's instances)
    channel_queue: np.ndarray  # per producer flow: the mean wait for the channel (in produce_base) ...
    channel_waits: np.ndarray  # ... of which the share of requests that wait on others' ...
    channel_random: np.ndarray  # ... mean wait for them (over all requests) ...
    channel_behind: np.ndarray  # ... and the share that follow one of their burst
    channel_limit: np.ndarray  # the longest wait: max.in.flight - 1 services ahead
    hw_base: np.ndarray  # per partition: the high watermark's wait without the pick-up

    def batch_pieces(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(share of a flow's records, shortest, longest wait) of the accumulator's wait,
        each uniform between the two: the batches that go as their connection drains
        (filled, or lingered out), a sticky stint's remainder batch lingering out in a
        request of its own, and one taken along by the next request to its broker."""
        own = self.remainder * self.remainder_own
        return [
            (1.0 - self.remainder, np.zeros_like(self.batch_wait), self.batch_wait),
            (own, self.remainder_wait, self.remainder_wait),
            (self.remainder - own, np.minimum(self.remainder_early, self.remainder_wait), self.remainder_wait),
        ]

    def latency_pieces(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """:meth:`batch_pieces` with the channel's wait added: none for the requests that
        find it free, otherwise exponential (as a G/G/1 queue's wait is, roughly) with
        the mean that makes the queue's, as uniform pieces between its quantiles -- and
        none longer than ``max.in.flight - 1`` services (no more are out)."""
        waits = np.maximum(self.channel_waits, TINY_RATE)
        mean = self.channel_random / waits
        none = np.zeros_like(mean)
        queue = [(1.0 - self.channel_waits, none, none)]
        queue += [(self.channel_waits * share, mean * low, mean * high) for share, low, high in EXPONENTIAL_PIECES]
        # the requests behind one of their burst wait for it, all of them the same
        behind = np.maximum(self.channel_behind, TINY_RATE)
        shift = (self.channel_queue - self.channel_random) / behind
        burst = [(1.0 - self.channel_behind, none, none), (self.channel_behind, shift, shift)]
        limit = self.channel_limit
        queue = [(s1 * s2, np.minimum(l1 + l2, limit), np.minimum(h1 + h2, limit))
                 for s1, l1, h1 in queue for s2, l2, h2 in burst]
        return [(s1 * s2, l1 + l2, h1 + h2) for s1, l1, h1 in self.batch_pieces() for s2, l2, h2 in queue]


def _exponential_pieces(edges: tuple[float, ...]) -> list[tuple[float, float, float]]:
    """A unit-mean exponential as uniform pieces between its quantiles at ``edges``
    (the last piece ends at the last edge's quantile), scaled to keep the mean."""
    quantile = [-np.log(1.0 - f) for f in edges]
    shares = np.diff(edges) / (edges[-1] - edges[0])
    pieces = [(float(p), quantile[i], quantile[i + 1]) for i, p in enumerate(shares)]
    mean = sum(p * 0.5 * (a + b) for p, a, b in pieces)
    return [(p, a / mean, b / mean) for p, a, b in pieces]


EXPONENTIAL_PIECES = _exponential_pieces((0.0, 0.5, 0.8, 0.95, 0.99, 0.999))


@dataclass
class Drain:
    """What the Sender's drain makes of the rates: per producer flow its batches, and
    per connection (one instance's connection to a broker) its records and requests a
    second, before the channel's limits."""

    msgs_per_batch: np.ndarray
    batch_wait: np.ndarray  # a record's longest wait in the accumulator (uniform from 0)
    remainder: np.ndarray
    remainder_own: np.ndarray
    remainder_early: np.ndarray
    conn_msgs: np.ndarray  # per connection, per instance
    drain_rate: np.ndarray  # per connection, per instance
    arrival_scv: np.ndarray  # per connection: the requests' arrivals' variability (Kingman's c_a^2)
    burst: np.ndarray  # per connection: mean place in its burst (requests sent back to back) ...
    burst_gap: np.ndarray  # ... and the time between a burst's requests
    behind_share: np.ndarray  # per connection: share of requests that follow one of their burst


@dataclass
class Channel:
    """Per connection: its requests and its channel's queue (see :meth:`FlowLatency._channel`)."""

    requests_per_s: np.ndarray  # per instance
    msgs_per_request: np.ndarray
    service: np.ndarray  # the channel's time per request
    queue: np.ndarray  # the mean wait for it ...
    random: np.ndarray  # ... of which behind other stints' requests ...
    waits: np.ndarray  # ... (the share of requests that wait on those)
    behind_share: np.ndarray  # the share of requests that follow one of their burst
    limit: np.ndarray  # the longest wait
    queued: np.ndarray  # the share read as the one before them is answered
    conn_wait: np.ndarray  # the high watermark's mean wait in the service
    answered: np.ndarray  # acks is not 0


class FlowLatency(HistogramRecording):
    """Request shapes, the in-flight pipeline and the latency histograms of a flow world."""

    def __init__(self, world: FlowWorld) -> None:
        self.world = world
        self.settle_until = 0.0
        self.ack_excess = np.zeros(world.K)
        self.consume_excess = np.zeros(world.C)
        self.start_recording(world)
        self.refresh()

    def refresh(self) -> None:
        """The topology changed: the replication round trips are the new followers'."""
        w = self.world
        follower = follower_append_cost(w.scenario.costs.broker)
        # a fetcher's loop: the fetch's trip to the leader and back, the leader's network
        # thread and handler reading the fetch and again writing its answer, the
        # follower's handling and append of what it brought (as the events engine's
        # ReplicaFetcher and World.handle_replica_fetch charge it; the bytes' part is
        # flow_fetch's)
        handling = 3 * w.request_cpu + 2 * w.network_request_cpu + follower.batch
        self._loop_f = 2 * w.f_one_way + handling
        # the high watermark's wait: the slowest follower's round trip with that
        # handling, then the next fetch reports it
        self._hw_wait_p = w.hw_round_trip + handling * (w.followers_of > 0)
        # ... and every in-sync follower must pick the record up: the slowest of n
        # uniform pick-ups is n / (n + 1) of a loop on average, recorded as uniform over
        # its upper part [(n - 1) / (n + 1), 1] (the same mean)
        n = w.followers_of.astype(float)
        self._slowest = n / (n + 1.0)
        self._slowest_from = np.maximum(n - 1.0, 0.0) / (n + 1.0)

    def shape(self, rate_k: np.ndarray) -> Shape:
        w = self.world
        count = w.count[w.k_spec]
        per_instance = rate_k / count
        spec_rate = np.bincount(w.k_spec, weights=rate_k, minlength=w.N) / w.count
        full = w.full_batch[w.k_spec]
        requests = self.drain(per_instance, spec_rate)
        mpb, batch_wait = requests.msgs_per_batch, requests.batch_wait
        # a fetcher's loop with the data it brings (flow_fetch), and the high watermark's
        # wait for the slowest in-sync follower's
        appends = self._stream_appends(rate_k / mpb, requests.drain_rate)
        data_f = fetch_data_seconds(w, rate_k, appends, self._loop_f)
        hw_spread = self._hw_spread(appends, self._loop_f + data_f)
        hw_base = self._hw_wait_p + w.max_by_partition(data_f)
        acks_all = w.all_acks[w.k_spec]
        hw_free = (hw_base + self._slowest * hw_spread)[w.k_part] * acks_all
        # a request read as the one before it on its connection is answered -- the
        # moment the slowest follower's fetch told the leader -- is appended just after
        # that fetch left: it waits for the next, a whole loop after that one (the
        # fetcher busy) less its own handling (Channel)
        hw_queued = (hw_base + hw_spread)[w.k_part] * acks_all
        # the connection's service per request
        lock = w.lock_batch / mpb + w.lock_record[w.k_spec] + w.lock_byte[w.k_spec] * w.k_wire
        n_conn = w.N * w.B
        conn_msgs = requests.conn_msgs
        conn_lock = np.bincount(w.k_conn, weights=per_instance * (lock + w.byte_cpu * w.k_wire), minlength=n_conn)
        wait_free, wait_queued = w.max_by_conn(hw_free), w.max_by_conn(hw_queued)
        fixed = w.request_cpu + 2 * w.network_request_cpu
        per_msg = np.divide(conn_lock, conn_msgs, out=np.zeros(n_conn), where=conn_msgs > 0)
        # the ceiling: every request carries a full batch of every partition it leads
        wire_full = full * w.k_wire
        batches_max = np.minimum(w.conn_partitions[w.k_conn], np.maximum(1.0, w.max_request[w.k_spec] // wire_full))
        mpr_max = batches_max * full
        channel = self._channel(requests, fixed, per_msg, w.max_by_conn(mpr_max), wait_free, wait_queued)
        req_rate, service, conn_wait = channel.requests_per_s, channel.service, channel.conn_wait
        hw_wait = hw_free + channel.queued[w.k_conn] * (hw_queued - hw_free)
        # a connection slower than its drain: the records wait for the next request
        held = np.divide(1.0, req_rate, out=np.zeros(n_conn), where=req_rate > 0) - np.divide(
            1.0, requests.drain_rate, out=np.zeros(n_conn), where=requests.drain_rate > 0)
        batch_wait = batch_wait + np.maximum(held, 0.0)[w.k_conn]
        mpr = np.maximum(channel.msgs_per_request[w.k_conn], mpb)
        # ... and meanwhile their batches keep filling: a request takes one batch of each
        # partition, which holds that partition's share of the request, up to batch.size
        # (at rate: max, as in the other engines, every batch a request takes is full)
        share = np.divide(per_instance, conn_msgs[w.k_conn], out=np.zeros(w.K), where=conn_msgs[w.k_conn] > 0)
        backed = (held > 0)[w.k_conn]
        mpb = np.where(backed, np.minimum(full, np.maximum(mpb, mpr * share)), mpb)
        service_full = fixed + conn_wait[w.k_conn] + (lock + w.byte_cpu * w.k_wire) * mpr_max
        # ... and at most max.in.flight of them out per round trip
        window_full = (2 * w.client_latency + service_full) / w.max_in_flight[w.k_spec]
        channel_per_msg = np.where(channel.answered[w.k_conn], np.maximum(service_full, window_full), service_full) / mpr_max
        channel_busy = service[w.k_conn] / mpr
        latency = w.client_latency
        acks0 = w.zero_acks[w.k_spec]
        produce_base = np.where(acks0, latency, 2 * latency + channel.queue[w.k_conn] + service[w.k_conn])
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
            # a poll returns one fetch response, its session's records of one fetch (at
            # most max.poll.records): a member's sessions do not answer together, they
            # drift apart -- a response that comes while the member processes the one
            # before is polled after it, and its next fetch goes out that much later --
            # until each poll finds one response waiting (the events engine's polls of
            # rolling-deploy's half-busy members hold one partition's fetch, 156 of 156)
            member_msgs = np.bincount(w.c_member, weights=msgs_p[w.c_part], minlength=w.M)
            per_fetch = np.divide(s_msgs, loops, out=np.ones(n_sessions), where=loops > 0)
            per_record = w.poll_seconds_per_record()
            member_cost = np.bincount(w.c_member, weights=msgs_p[w.c_part] * per_record, minlength=w.M)
            mean_cost = np.divide(member_cost, member_msgs, out=np.zeros(w.M), where=member_msgs > 0)
            poll = np.clip(per_fetch[session], 1.0, w.max_poll_records[w.c_member]) * mean_cost[w.c_member]
            hw_c = hw_base[w.c_part]
            consume_base = hw_c + latency + w.request_cpu + poll
            # a stint's batches: full ones, or what lingers out at the instance's rate
            keyed = w.keyed[w.k_spec]
            fill = np.where(keyed, per_instance, spec_rate[w.k_spec])
            fills_first = fill * w.linger[w.k_spec] >= full - 1.0
            stint = w.stint[w.k_spec]
            gather = self._stint_gather(rate_k, fill, np.where(fills_first, full, mpb), stint, wait[session],
                                        min_bytes[session], w.fetch_max_wait_m[member][session], ~keyed)
            # a record appended while its session's fetch is on its way waits for the
            # next one to reach the leader, up to a round trip; one appended while the
            # fetch is parked there (fetch.min.bytes 1, nothing to answer yet) is
            # answered at once. A gathering fetch is parked but for its trips, so its
            # records wait evenly over the cycle; an eager one is out a fraction
            # loops x trip of the time: the wait's mean, over a round trip that narrow
            out = np.where(gathering, 1.0, np.minimum(1.0, loops * trip))[session]
            consume_spread = gather + out * trip
            # from the high watermark to processed, on average: what the group's lag holds
            consume_pipeline = consume_base - hw_c + 0.5 * consume_spread
        return Shape(mpb, mpr, channel_per_msg, channel_busy, batch_wait, produce_base,
                     hw_wait, fetches_per_msg, fetches_per_record, consume_base, consume_spread,
                     requests.remainder, requests.remainder_own, requests.remainder_early, w.linger[w.k_spec],
                     hw_spread, consume_pipeline, req_rate * w.count[np.arange(n_conn) // max(w.B, 1)],
                     *(np.where(acks0, 0.0, part[w.k_conn])
                       for part in (channel.queue, channel.waits, channel.random, channel.behind_share)),
                     channel.limit[w.k_conn], hw_base)

    def _channel(
        self, requests: Drain, fixed: float, per_msg: np.ndarray, mpr_max: np.ndarray,
        wait_free: np.ndarray, wait_queued: np.ndarray,
    ) -> Channel:
        """Each connection's requests and its channel's queue: ``fixed`` and ``per_msg``
        the service's parts, ``mpr_max`` the most records a request carries, and the
        high watermark's wait of a request that found the channel free or was read as
        the one before it was answered."""
        w = self.world
        n_conn = w.N * w.B
        conn_msgs = requests.conn_msgs
        # requests a second: what the drain sends, unless the connection cannot take
        # them that fast -- its channel serves one request at a time (s0 + per_msg * m
        # each), and at most max.in.flight.requests.per.connection are out per round
        # trip; the requests then carry more (fixed points of r = 1 / service(lambda / r)
        # and r = in_flight / (trip + service(lambda / r)))
        conn_spec = np.arange(n_conn) // max(w.B, 1)
        answered = ~w.zero_acks[conn_spec]
        in_flight = w.max_in_flight[conn_spec]
        load = np.minimum(per_msg * conn_msgs, 1.0 - 1.0 / MAX_QUEUE_SERVICES)
        floor = np.divide(conn_msgs, mpr_max, out=np.zeros(n_conn), where=conn_msgs > 0)
        queued = np.zeros(n_conn)  # the share of requests read as the one before is answered
        handled = np.full(n_conn, fixed)  # read to appended: the request's own handling
        for _ in range(CHANNEL_ROUNDS):  # the queue and the high watermark's wait, each from the other
            # a request read as the one before it is answered is read as that fetch is,
            # and its append comes its handling later, while the fetch's loop goes on
            conn_wait = wait_free + queued * np.maximum(wait_queued - handled - wait_free, 0.0)
            s0 = fixed + conn_wait
            channel_cap = (1.0 - load) / s0
            window_cap = (in_flight - load) / (2 * w.client_latency + s0)
            cap = np.where(answered, np.minimum(channel_cap, window_cap), channel_cap)
            req_rate = np.minimum(requests.drain_rate, np.maximum(cap, floor))
            msgs_per_req = np.divide(conn_msgs, req_rate, out=np.ones(n_conn), where=req_rate > 0)
            service = s0 + per_msg * msgs_per_req
            handled = fixed + per_msg * msgs_per_req
            rho = np.minimum(req_rate * service, 1.0 - 1.0 / MAX_QUEUE_SERVICES)
            # waiting for the channel (G/D/1): Kingman's approximation for the work an
            # arrival finds, plus each request's wait behind the ones of its burst
            behind = requests.burst * np.maximum(0.0, service - requests.burst_gap)
            random = rho * requests.arrival_scv * service / 2.0 / (1.0 - rho)
            # no more than max.in.flight requests are out: at most all but one wait
            limit = np.where(answered, (in_flight - 1.0) * service, np.inf)
            behind = np.minimum(behind, limit)
            random = np.minimum(random, limit - behind)
            # the share of requests that wait on others: as many as the channel is busy
            # for memoryless arrivals, none for periodic ones
            waits = np.where(random > 0, np.clip(rho * np.minimum(requests.arrival_scv, 1.0), TINY_RATE, 1.0), 0.0)
            behind_share = np.where(behind > 0, requests.behind_share, 0.0)
            queued = 1.0 - (1.0 - waits) * (1.0 - behind_share)
        return Channel(req_rate, msgs_per_req, service, behind + random, random, waits, behind_share,
                       limit, queued, conn_wait, answered)

    def drain(self, per_instance: np.ndarray, spec_rate: np.ndarray) -> Drain:
        """The Sender's drain at the rates ``per_instance`` (each flow's records a second
        from one instance; ``spec_rate``: an instance's records a second).

        A pass of the Sender sends a connection one request when one of its partitions
        has a batch ready (full, or open for ``linger.ms``), and that request takes the
        first batch of *every* partition the broker leads that has records -- open ones
        too (``RecordAccumulator.ready`` then ``drain``):

        * keyed records reach every partition at its own rate: after a drain, the
          connection's first record comes ``1 / lambda_c`` later (``lambda_c`` its records
          a second, arrivals taken as memoryless), and the connection drains again once
          that batch lingered out or its fastest partition filled a batch:
          ``wait = min(linger, (full - 1) / lambda_max)``, a request every
          ``1 / lambda_c + wait``; a partition's batch holds what it received in that
          cycle, at least one record (``max(1, lambda_p * cycle)``, at most a full batch:
          a cold partition's record goes alone, as the events engine's logs show);
        * unkeyed records go to one partition for a sticky stint (``batch.size`` bytes):
          its full batches each make a request as they close, and the stint's leftover
          records open a batch that lingers -- unless a later stint lands on a partition
          of the same broker and its first batch fills before: stints land on the
          connection at ``lambda_c / stint`` a second (taken as memoryless), so the
          leftover goes alone with probability ``e^(-lambda_c / stint (linger - full / lambda))``.
        """
        w = self.world
        n_conn = w.N * w.B
        conn_spec = np.arange(n_conn) // max(w.B, 1)
        kc = w.k_conn
        conn_msgs = np.bincount(kc, weights=per_instance, minlength=n_conn)
        flowing = conn_msgs > 0
        # per spec: its batches, its stint, and whether it is keyed
        full, linger, stint, keyed = w.full_batch, w.linger, w.stint, w.keyed
        fills_first = spec_rate * linger >= full - 1.0  # a sticky batch fills before linger.ms
        whole = np.floor(stint / full)  # a stint's full batches ...
        rest = stint - whole * full  # ... and its leftover records
        bursts = ~keyed & fills_first  # a stint's full batches are its requests
        leftover = bursts & (rest > 0)
        early = full / np.maximum(spec_rate, TINY_RATE)  # a stint's first batch closes
        # keyed: the connection's cycle -- the first record, then linger.ms or a full batch
        fastest = w.max_by_conn(per_instance)
        wait_c = np.minimum(linger[conn_spec], np.divide(
            full[conn_spec] - 1.0, fastest, out=np.full(n_conn, np.inf), where=fastest > 0))
        first_c = np.divide(1.0, conn_msgs, out=np.zeros(n_conn), where=flowing)
        cycle_c = first_c + wait_c
        lam_c = conn_msgs[kc]
        # what a partition received in a cycle, at least the record that opened its batch:
        # the events engine's logs hold this partition by partition (test_batch_bytes),
        # cold partitions included -- not the memoryless ``1 - (1 - share) e^(-rate wait)``
        # chance of a batch, which puts a cold partition's records into too few batches
        keyed_mpb = np.where(lam_c > 0, np.maximum(per_instance * cycle_c[kc], 1.0), 1.0)
        # unkeyed: a stint's full batches and its leftover's, or batches lingering out
        sticky_mpb = np.where(fills_first, full, np.clip(1.0 + spec_rate * linger, 1.0, full))
        sticky_mpb = np.where(leftover, stint / (whole + 1.0), sticky_mpb)
        with np.errstate(divide="ignore", invalid="ignore"):
            sticky_wait = np.where(fills_first, (full - 1.0) / np.maximum(spec_rate, TINY_RATE), linger)
        spec = w.k_spec
        mpb = np.clip(np.where(keyed[spec], keyed_mpb, sticky_mpb[spec]), 1.0, full[spec])
        batch_wait = np.where(keyed[spec], wait_c[kc], sticky_wait[spec])
        remainder = np.where(leftover, rest / stint, 0.0)[spec]
        # a leftover batch rides along when the connection's next stint fills a batch
        # first; stints land on the connection at random
        stints_c = conn_msgs / stint[conn_spec]
        own_c = np.where(leftover[conn_spec], np.exp(-stints_c * np.maximum(0.0, linger - early)[conn_spec]), 0.0)
        conn_batches = np.bincount(kc, weights=per_instance / mpb, minlength=n_conn)
        sticky_rate = np.maximum(conn_batches - stints_c * leftover[conn_spec] * (1.0 - own_c), 0.0)
        keyed_rate = np.divide(1.0, cycle_c, out=np.zeros(n_conn), where=flowing)
        drain_rate = np.where(keyed[conn_spec], keyed_rate, sticky_rate) * flowing
        # how the requests arrive at the channel: keyed, once a cycle whose only random
        # part is the first record's wait; unkeyed, a stint's full batches back to back
        # (a batch's fill apart) and some leftovers alone, the stints landing at random:
        # the work an arriving burst finds grows with the bursts' size, E[X^2] / E[X]
        whole_c, burst_c = whole[conn_spec], bursts[conn_spec]
        per_stint = np.maximum(whole_c + own_c, 1.0)  # requests a stint makes
        keyed_scv = np.divide(first_c, cycle_c, out=np.zeros(n_conn), where=flowing & np.isfinite(cycle_c)) ** 2
        sticky_scv = np.where(burst_c, (whole_c ** 2 + own_c) / per_stint, 1.0)
        scv = np.where(keyed[conn_spec], keyed_scv, sticky_scv)
        burst = np.where(burst_c, whole_c * (whole_c - 1.0) / 2.0 / per_stint, 0.0)
        behind_share = np.where(burst_c, np.maximum(whole_c - 1.0, 0.0) / per_stint, 0.0)
        return Drain(mpb, batch_wait, remainder, own_c[kc], early[spec], conn_msgs, drain_rate,
                     scv, burst, early[conn_spec], behind_share)

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

    def _hw_spread(self, appends: np.ndarray, loop: np.ndarray) -> np.ndarray:
        """Per partition, how long an appended record may wait for its fetcher's next
        fetch: a fetcher that loops without pause (appends arrive faster than it loops,
        each ``loop`` long with its data) picks a record up anywhere within one loop; an
        idle one has its fetch parked at the leader and takes it at once."""
        w = self.world
        if not w.F:
            return np.zeros(w.P)
        stream_loop = w.max_by_stream(loop)
        busy = np.minimum(1.0, appends * stream_loop)[w.f_stream]
        return w.max_by_partition(loop * busy)

    def _stream_appends(self, batches_k: np.ndarray, drain_rate: np.ndarray) -> np.ndarray:
        """Appends a second on each fetcher stream: its partitions' batches, but a
        request's batches are appended together, so no more often than its leader's
        requests."""
        w = self.world
        if not w.F:
            return np.zeros(w.S_f)
        batches_p = np.bincount(w.k_part, weights=batches_k, minlength=w.P)
        stream_batches = np.bincount(w.f_stream, weights=batches_p[w.f_part], minlength=w.S_f)
        n_conn = w.N * w.B
        conn_requests = drain_rate * w.count[np.arange(n_conn) // max(w.B, 1)]
        leader_requests = np.bincount(np.arange(n_conn) % max(w.B, 1), weights=conn_requests, minlength=w.B)
        stream_leader = np.zeros(w.S_f, dtype=np.int64)
        stream_leader[w.f_stream] = w.leader[w.f_part]
        return np.minimum(stream_batches, leader_requests[stream_leader])

    # -- the pipeline ------------------------------------------------------------------------

    def mean_produce_latency(self) -> np.ndarray:
        shape = self.world.shape
        batch = sum(share * 0.5 * (low + high) for share, low, high in shape.batch_pieces())
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

    def consume_rate_of(self, t0: float, flows: np.ndarray) -> np.ndarray:
        """:meth:`consume_rate` of ``flows`` only (a commit reads a member's few of
        thousands)."""
        w = self.world
        if t0 < self.settle_until - 1e-12:
            return np.maximum(0.0, w.rate_c[flows] + self.consume_excess[flows])
        return w.rate_c[flows]
