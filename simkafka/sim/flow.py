"""The flow engine: the same cluster, with rates that hold between events (``run.engine: flow``).

The events engine follows every request and the stepped engine moves message counts
every millisecond; both cost wall time in proportion to simulated time. Between two
changes -- a load change of a rate profile, a fault starting or ending, a queue filling
or emptying -- nothing in a cluster at steady state changes its rate. This engine solves
the rates at each change and lets every queue evolve linearly until the next, so a day
costs as many solutions as it has changes (a diurnal day: a few hundred), not 86 million
steps.

**The rates** (:meth:`FlowWorld.solve`) are max-min fair (:func:`~simkafka.sim.flow_share.progressive_fill`,
bytes per second, as the other engines share links) over every resource a message uses,
each with the cost per message the other engines charge per request, batch, record and
byte (the same cost profile, :mod:`~simkafka.sim.client_costs`, :mod:`~simkafka.sim.log_append`):

* a producer flow (producer, partition) uses its instances' Sender threads (per request,
  batch, byte and acknowledged record), their NICs, the leader's NIC ingress, handler
  threads (per request and byte, and the log lock's time, which the handler holds),
  network threads, the partition's log lock (a leader's append is serial: per batch,
  record, byte and codec work), the connection's channel (Kafka mutes a connection while
  it serves a request, so a connection moves at most one request per service time, and
  the client has at most ``max.in.flight.requests.per.connection`` out per round trip,
  each of at most one batch per partition), and for every follower the leader's NIC egress, the
  follower's NIC ingress and its fetcher thread (one outstanding fetch: a loop is a round
  trip plus the follower's append; a loop moves at most ``replica.fetch.max.bytes`` per
  partition, ``replica.fetch.response.max.bytes`` in all); when a broker's dirty pages
  are at ``vm.dirty_ratio`` its disks' write bandwidth too. Replication is tied to
  production: a follower takes what its leader appends (a follower that cannot is a
  limit of the produce flow, not a lag);
* ``rate: max`` producers are also limited by their application thread's ``send()``
  (``1 / send_cpu`` records a second); other producers are offered their rate times
  their profile's factor, of which the application thread sends at most that much (the
  rest is ``cpu_limited``, never created, as in the other engines);
* a consumer flow (group, partition) uses the leader's NIC egress, handler and network
  threads, the owning member's NIC and its thread (processing time per record, times a
  ``consumer_slow`` factor, plus ``poll()``'s cost), and the leader's disks' read bandwidth while it reads what is no longer in the
  page cache (a topic's ``prefill``, or a position further behind than the broker's page
  cache holds).

How many records a batch and a request carry depends on the rates (a batch fills or its
``linger.ms`` runs out; the Sender's drain sends a connection a request when one of its
partitions has a batch ready, with the batches of all of them: see
:meth:`~simkafka.sim.flow_latency.FlowLatency.drain`),
and the costs per message depend on those: :meth:`solve` iterates the two to a fixed
point (at most fourteen rounds, bisected once the point is bracketed).

**The queues** evolve linearly between events: a producer's accumulator (what it
created beyond what it could send: it fills to ``buffer.memory``, then ``send()``
blocks and, past ``max.block.ms``, fails with ``MAX_BLOCK_MS_EXCEEDED``; a ``rate: max``
producer's is always full, ``buffer.memory`` less what is in flight), the messages in
flight (Little's law: the rate times the produce latency; after a rate change the
pipeline relaxes to its new content over one latency), each broker's dirty pages
(written minus written back at the disks' bandwidth, capped at ``vm.dirty_ratio``), each
group's lag per partition (what it could not consume; a group that keeps up has none, as
the stepped engine reports), and the logs' sizes. The next event is the earliest time a
queue reaches a boundary (empty, full, beyond the page cache) or an input changes.

**Latency** is an approximation from the mechanisms' own times, documented in
:mod:`~simkafka.sim.flow_latency`.

**The control plane** is the events engine's controller (:mod:`~simkafka.sim.flow_control`):
broker crashes, shutdowns, restarts, rack failures and controller failovers are played
through it, its decisions change who leads and follows
(:mod:`~simkafka.sim.flow_topology`), and the rates are solved again: an ``acks=all``
producer waits while a dead broker is still in an ISR, a leaderless partition's records
queue until the election, a restarted broker's replicas catch up at what the network,
their fetchers and disks allow and rejoin their ISRs.

**Consumer groups** (:mod:`~simkafka.sim.flow_groups`) rebalance through the same group
coordinator and client rules as the stepped engine, and the consumer faults (crash, leave,
join, slow, rolling restart) are played. There is one consumer flow per (group,
subscribed partition), numbered as the group's first assignment lists them; the member
that owns it, or nobody (``c_owned`` false: the flow does not move and its lag grows),
is the coordinator's business, and an assignment change is one more change of rates. A
new owner starts from the group's committed offset: what was processed since is processed
again (``reprocessed``, the summary's ``consumed_twice.<group>``). Arrays are sized for
every member that will ever exist (a group's members, then its ``consumer_join``
joiners), as the stepped engine's.

What it leaves out, said in the run's summary like the stepped engine's: network
partitions (counted in ``faults_not_simulated``) and the delivery history (no record is
followed: ``delivery_checked`` is false). Capacity faults (``slow_disk``,
``nic_degradation``) change the capacities at their exact instants. Several ``log.dirs``
share their broker's summed write bandwidth.
"""

from __future__ import annotations

import math

import numpy as np

from simkafka.scenario import Scenario
from simkafka.sim.client_costs import consumer_poll_cpu
from simkafka.sim.degradation import capacity_changes
from simkafka.sim.flow_build import FlowBuild
from simkafka.sim.flow_control import FLOW_CONTROL_FAULT_TYPES, FlowControl
from simkafka.sim.flow_groups import FlowGroups
from simkafka.sim.flow_latency import FlowLatency, Shape
from simkafka.sim.flow_share import progressive_fill
from simkafka.sim.flow_topology import derive_topology
from simkafka.sim.fluid import DUST
from simkafka.sim.guards import check_engine_inputs
from simkafka.sim.log_append import follower_append_cost
from simkafka.sim.result import group_accounting, run_accounting
from simkafka.sim.storage import RECORD_BATCH_OVERHEAD

REQUEST_OVERHEAD = 100  # produce request header (as the other engines' producers)
FIXED_POINT_ROUNDS = 14  # batching and the fetchers' loops <-> rates: bisected to 0.1 % (stops once settled)
TINY = 1e-9
SNAP = 1e-6  # relative: a queue this close to its boundary is on it


class FlowWorld(FlowBuild):
    """Every component of a run as arrays of rates and queue contents."""

    def __init__(self, scenario: Scenario) -> None:
        check_engine_inputs(scenario)
        self.scenario = scenario
        self.now = 0.0
        self._structure: tuple[np.ndarray, np.ndarray] | None = None
        self.latency: FlowLatency | None = None
        self._build_brokers()
        self._build_partitions()
        self._build_producers()
        self._build_consumers()
        derive_topology(self)
        self._prefill()
        self._build_resources()
        self.capacity_schedule = capacity_changes(scenario.faults, scenario.run.duration)
        self._follower_append = follower_append_cost(scenario.costs.broker)
        self.latency = FlowLatency(self)
        # no rates before the first solution
        self.rate_k, self.rate_u = np.zeros(self.K), np.zeros(self.U)
        self.produce_rate_p = np.zeros(self.P)
        self.solves = 0
        # seconds each partition had no leader that serves / fewer in-sync replicas than
        # min.insync.replicas (the run's availability table)
        self.no_leader_s = np.zeros(self.P)
        self.under_min_isr_s = np.zeros(self.P)
        played = {f.type for f in scenario.faults} & FLOW_CONTROL_FAULT_TYPES
        self.control = FlowControl(self) if played else None
        # the consumer groups' coordinator and clients: who owns which partition when
        self.groups = FlowGroups(self, scenario) if self.G else None

    # -- capacities ------------------------------------------------------------------------

    def apply_capacity_changes(self, now: float) -> None:
        """Capacity faults in force at ``now`` (slow disks, degraded NICs)."""
        index = {b: i for i, b in enumerate(self.broker_ids)}
        for change in self.capacity_schedule:
            if change.at > now + TINY:
                break
            j = index[change.broker]
            self.nic_in[j] = self.built_nic_in[j] * change.nic
            self.nic_out[j] = self.built_nic_out[j] * change.nic
            self.disk_write[j] = self.built_disk_write[j] * change.disk
            self.disk_read[j] = self.built_disk_read[j] * change.disk

    def capacity_change_times(self) -> list[float]:
        return sorted({c.at for c in self.capacity_schedule})

    # -- the rates -------------------------------------------------------------------------

    def offered(self, factor: np.ndarray) -> np.ndarray:
        """Messages a second each spec's applications offer now (``inf``: ``rate: max``)."""
        return np.where(self.is_max, np.inf, self.nominal * factor)

    def solve(self, factor: np.ndarray) -> None:
        """The rates until the next event, with each spec's rate-profile ``factor``."""
        self.solves += 1
        self._release_high_watermarks()
        offered = self.offered(factor)
        # what the application threads hand send(): at most 1/send_cpu records a second
        app_cap = np.divide(self.count, self.send_cpu, out=np.full(self.N, np.inf), where=self.send_cpu > 0)
        self.create_rate = np.where(self.is_max, 0.0, np.minimum(offered, app_cap))
        self.cpu_limited_rate = np.where(self.is_max, 0.0, np.maximum(0.0, offered - app_cap))
        offered_k = self.create_rate[self.k_spec] * self.k_weight if self.K else np.zeros(0)
        buffer_full = self._buffer_full()
        # a flow with a backlog, or of a max-rate producer, takes what it can get
        moves = self.k_moves()
        wants_all = (self.backlog > TINY) | self.is_max[self.k_spec]
        demand_k = np.where(moves, np.where(wants_all, np.inf, offered_k), 0.0)
        rate_k = np.where(np.isfinite(demand_k), demand_k, 0.0)
        rate_c = np.zeros(self.C)
        given = rate_k  # the rates the batching is derived from
        low, high = np.zeros(self.K), np.full(self.K, np.inf)  # where the fixed point lies
        shape = self.latency.shape(given)
        for _ in range(FIXED_POINT_ROUNDS):
            self.shape = shape
            self._set_wire(shape, given)
            into_p = np.bincount(self.k_part, weights=given, minlength=self.P)
            # a group that keeps up wants what is produced; one behind, all it can get
            hw_rate = np.where(self.hw_stalled, 0.0, into_p)
            demand_c = np.where(self.c_online, np.where(self.lag > TINY, np.inf, hw_rate[self.c_part]), 0.0)
            solved, rate_c, rate_u = self._share(demand_k, demand_c, self._catch_up_demand(into_p))
            self.rate_u = rate_u
            settled = np.allclose(solved, given, rtol=1e-9, atol=1e-9)
            rate_k = solved
            if settled:  # the batching the rates imply is the one they were solved with
                break
            # a flow's fixed point lies above rates that gave more, below rates that gave
            # less; once both bounds are known it is bisected (an acks=all connection's
            # pace falls steeply as its rate nears a NIC's capacity -- longer fetcher
            # loops, a longer wait for the high watermark -- and simple iteration swings
            # across it)
            above = solved > given * (1 + 1e-9) + 1e-9
            below = solved < given * (1 - 1e-9) - 1e-9
            low = np.where(above, np.maximum(low, given), low)
            high = np.where(below, np.minimum(high, given), high)
            given = np.where(np.isfinite(high), 0.5 * (low + high), solved)
            shape = self.latency.shape(given)
        if given is not rate_k:
            shape = self.latency.shape(rate_k)
            # a group that keeps up was offered what the last round's batching came from:
            # it reads no more than is produced
            produced = np.where(self.hw_stalled, 0.0, np.bincount(self.k_part, weights=rate_k, minlength=self.P))
            rate_c = np.where(self.lag > TINY, rate_c, np.minimum(rate_c, produced[self.c_part])) if self.C else rate_c
        self.shape = shape
        self._set_wire(shape, rate_k)
        self.rate_k, self.rate_c = rate_k, rate_c
        self.produce_rate_p = np.bincount(self.k_part, weights=rate_k, minlength=self.P)
        # queues: the backlog grows by what was created beyond what is sent
        self.backlog_slope = offered_k - rate_k if self.K else np.zeros(0)
        self._blocking(buffer_full)
        self.create_rate = np.where(
            self.is_max, np.bincount(self.k_spec, weights=rate_k, minlength=self.N), self.create_rate
        )
        self.hw_rate_p = np.where(self.hw_stalled, 0.0, self.produce_rate_p)
        self.lag_slope = self.hw_rate_p[self.c_part] - rate_c if self.C else np.zeros(0)
        self.lag_slope = np.where((self.lag <= TINY) & (self.lag_slope < 0), 0.0, self.lag_slope)
        if self.K:
            self.backlog_slope = np.where(self.is_max[self.k_spec], 0.0, self.backlog_slope)
        flow, resource, cost = self._entries
        self.usage = np.bincount(resource, weights=cost * self._rates[flow], minlength=self.n_resources)
        capacity = self._capacities()
        self.utilisation = np.divide(self.usage, capacity, out=np.zeros(self.n_resources), where=capacity > 0)
        self.conn_busy_rate = np.bincount(
            self.k_conn, weights=rate_k * self.shape.channel_busy_per_msg, minlength=self.N * self.B
        ) / np.repeat(self.count, self.B) if self.K else np.zeros(0)
        self.latency.settle_pipeline(rate_k, rate_c)
        self._fill_max_rate_buffers()
        self._dirty_slope()
        k, f, c, u = self.cross_flags
        kf, fol = self.f_of_flow()
        bpm = self.bytes_per_msg_p[self.c_part] if self.C else np.zeros(0)
        self.cross_rack_rate = (
            float((rate_k * self.k_wire * k).sum())
            + float((rate_k[kf] * self.k_wire[kf] * f[fol]).sum())
            + float((rate_c * bpm * c).sum())
            + float((self.rate_u * u).sum())
        )

    def _set_wire(self, shape: Shape, rate_k: np.ndarray) -> None:
        """Wire bytes per record from the batches the rates make: a linger-bound batch
        carries its header over fewer records than a full one (as the stepped engine
        counts the batches it sends); each partition's log takes its writers' mix."""
        if not self.K:
            return
        self.k_wire = self.k_record_wire + RECORD_BATCH_OVERHEAD / shape.msgs_per_batch
        msgs = np.bincount(self.k_part, weights=rate_k, minlength=self.P)
        nbytes = np.bincount(self.k_part, weights=rate_k * self.k_wire, minlength=self.P)
        self.bytes_per_msg_p = np.divide(nbytes, msgs, out=self.bytes_per_msg_p.copy(), where=msgs > 0)

    def k_moves(self) -> np.ndarray:
        """Producer flows that can move now: the leader serves, and for ``acks=all`` its
        high watermark can move and its ISR has ``min.insync.replicas`` (otherwise the
        requests time out or are refused, and are retried: their records wait)."""
        waits = (self.hw_stalled | self.under_min_isr)[self.k_part] & self.all_acks[self.k_spec]
        return self.k_online & ~waits

    def _catch_up_demand(self, into_p: np.ndarray) -> np.ndarray:
        """Bytes a second each out-of-sync replica wants: all it can get while it is
        behind its leader's log end, then what the leader appends."""
        if not self.U:
            return np.zeros(0)
        gap = self.leo_bytes[self.u_part] - self.r_bytes[self.u_rep]
        appended = (np.bincount(self.k_part, weights=self._k_bytes(into_p), minlength=self.P))[self.u_part]
        return np.where(gap > 1.0, np.inf, appended)

    def _k_bytes(self, into_p: np.ndarray) -> np.ndarray:
        """Per producer flow, bytes a second at the rates ``into_p`` came from (the flows'
        own wire sizes, spread like their rates)."""
        msgs = np.bincount(self.k_part, weights=self.k_weight, minlength=self.P)
        share = np.divide(self.k_weight, msgs[self.k_part], out=np.zeros(self.K), where=msgs[self.k_part] > 0)
        return into_p[self.k_part] * share * self.k_wire

    def _release_high_watermarks(self) -> None:
        """A high watermark that could not move (a dead replica in the ISR) moves to the
        log end once it can: what was appended meanwhile becomes readable at once."""
        released = (self.hw_gap > 0) & ~self.hw_stalled
        if released.any() and self.C:
            self.lag += self.hw_gap[self.c_part] * released[self.c_part]
        self.hw_gap[released] = 0.0

    def _fill_max_rate_buffers(self) -> None:
        """A ``rate: max`` application keeps ``buffer.memory`` full: its ``send()`` blocks
        until an acknowledged batch frees memory, which it refills at once -- so the
        accumulator holds ``buffer.memory`` less what is in flight (the pipeline at this
        rate, Little's law), and a record waits there for all that is ahead of it
        (:meth:`queue_wait`), as in the other engines. The application thread fills it far
        faster than the Sender drains it (``1 / send_cpu`` records a second): at once."""
        if not self.K:
            return
        maxed = self.is_max[self.k_spec] & (self.rate_k > TINY)
        if not maxed.any():
            return
        pipeline = self.rate_k * self.latency.mean_produce_latency()
        used = np.bincount(self.k_spec, weights=(pipeline + self.backlog) * self.k_wire, minlength=self.N)
        room = np.where(self.is_max, np.maximum(self.buffer_memory - used, 0.0), 0.0)
        spec_rate = np.bincount(self.k_spec, weights=self.rate_k, minlength=self.N)
        share = np.divide(self.rate_k, spec_rate[self.k_spec], out=np.zeros(self.K), where=maxed)
        added = room[self.k_spec] * share / self.k_wire
        self.backlog += added
        self.created += np.bincount(self.k_spec, weights=added, minlength=self.N)

    def _blocking(self, buffer_full: np.ndarray) -> None:
        """``buffer.memory`` is full: ``send()`` blocks. The accumulator stays full while
        the blocked calls queue (they hand their records over as room frees, first in
        first out); a call blocked for ``max.block.ms`` fails with
        ``MAX_BLOCK_MS_EXCEEDED`` -- with a steady excess, once the queue holds
        ``max.block.ms`` of it, every further call fails and the queue stays."""
        self.blocked_slope = np.zeros(self.N)
        self.fail_rate = np.zeros(self.N)
        if not self.K:
            return
        excess = np.bincount(self.k_spec, weights=self.backlog_slope, minlength=self.N)
        full = (buffer_full | (self.blocked > TINY)) & ~self.is_max
        # a full buffer whose blocked calls are all handed over drains as usual
        full &= (excess > 0) | (self.blocked > TINY)
        if not full.any():
            return
        full_k = full[self.k_spec]
        self.backlog_slope = np.where(full_k, 0.0, self.backlog_slope)
        self.blocked_slope = np.where(full, excess, 0.0)
        saturated = full & (excess > 0) & (self.blocked >= excess * self.max_block * (1 - 1e-9))
        self.fail_rate = np.where(saturated, excess, 0.0)
        self.blocked_slope = np.where(saturated, 0.0, self.blocked_slope)

    def queue_wait(self, ahead: float = 0.0) -> np.ndarray:
        """Per producer flow, how long a record waits in ``send()`` and the accumulator
        before the Sender may take it: the spec's blocked calls and the flow's backlog
        over the rate it drains at (FIFO)."""
        if not self.K:
            return np.zeros(0)
        drain = np.bincount(self.k_spec, weights=self.rate_k, minlength=self.N)
        blocked = np.maximum(0.0, self.blocked + self.blocked_slope * ahead)
        backlog = np.maximum(0.0, self.backlog + self.backlog_slope * ahead)
        blocked = np.divide(blocked, drain, out=np.zeros(self.N), where=drain > 0)
        backlog = np.divide(backlog, self.rate_k, out=np.zeros(self.K), where=self.rate_k > 0)
        return blocked[self.k_spec] + backlog

    def _buffer_full(self) -> np.ndarray:
        held = np.bincount(self.k_spec, weights=self.backlog * self.k_wire, minlength=self.N)
        return held >= self.buffer_memory * (1 - 1e-6)

    def _share(
        self, demand_k: np.ndarray, demand_c: np.ndarray, demand_u: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One max-min fair solution of producer, consumer and catch-up flows over every
        resource (producer and consumer flows in messages a second, catch-up in bytes)."""
        if self._structure is None:
            self._structure = self._uses()
        flow, resource = self._structure
        cost = np.concatenate(self._costs(self.shape))
        self._entries = (flow, resource, cost)
        self._pace = 1.0 / np.concatenate([self.k_wire, self.bytes_per_msg_p[self.c_part], np.ones(self.U)])
        demand = np.concatenate([demand_k, demand_c, demand_u])
        rate, self.full = progressive_fill(demand, self._pace, flow, resource, cost, self._capacities())
        self._rates = rate
        kc = self.K + self.C
        return rate[: self.K], rate[self.K : kc], rate[kc:]

    def invalidate_structure(self) -> None:
        """The topology changed: the solver's flows and resources are rebuilt on the next
        solution (the fetcher threads, the last block of resources, are renumbered)."""
        self._structure = None
        self.__dict__.pop("_f_of_flow", None)
        if hasattr(self, "block"):
            at = self.block["fetcher"]
            size = at + self.S_f
            for name in ("usage", "busy", "utilisation", "util_time"):
                old = getattr(self, name)
                new = np.zeros(size)
                new[:at] = old[:at]
                setattr(self, name, new)
            self.n_resources = size
        if self.latency is not None:
            self.latency.refresh()

    def _uses(self) -> tuple[np.ndarray, np.ndarray]:
        """Which flow uses which resource, in the order :meth:`_costs` prices them."""
        blk = self.block
        k = np.arange(self.K)
        spec, lead = self.k_spec, self.k_leader
        flows = [k] * 8
        resources = [
            blk["sender"] + spec, blk["app"] + spec, blk["client_nic"] + spec, blk["nic_in"] + lead,
            blk["lock"] + self.k_part, blk["cpu"] + lead, blk["conn"] + self.k_conn,
            blk["disk_write"] + lead,
        ]
        kf, f = self.f_of_flow()
        flows += [kf] * 5 + [k]
        resources += [
            blk["nic_out"] + lead[kf], blk["nic_in"] + self.f_broker[f], blk["cpu"] + lead[kf],
            blk["fetcher"] + self.f_stream[f], blk["disk_write"] + self.f_broker[f],
            blk["net_threads"] + lead,
        ]
        c = np.arange(self.C) + self.K
        cb = self.c_leader
        flows += [c] * 6
        resources += [
            blk["nic_out"] + cb, blk["member_nic"] + self.c_member, blk["cpu"] + cb,
            blk["net_threads"] + cb, blk["member"] + self.c_member, blk["disk_read"] + cb,
        ]
        # replicas catching up: the leader's NIC and CPU, theirs, their fetcher, their disk
        u = np.arange(self.U) + self.K + self.C
        ub = self.leader[self.u_part]
        flows += [u] * 5
        resources += [
            blk["nic_out"] + ub, blk["nic_in"] + self.u_broker, blk["cpu"] + ub,
            blk["fetcher"] + self.u_stream, blk["disk_write"] + self.u_broker,
        ]
        self._poll_cost = self.poll_seconds_per_record()
        loop_bytes = np.minimum(self.replica_fetch_max * self.stream_partitions, self.replica_response_max)
        self._fetch_wait_per_byte = (self.stream_round_trip / loop_bytes)[self.f_stream[f]]
        self._catch_up_wait_per_byte = (self.stream_round_trip / loop_bytes)[self.u_stream]
        return np.concatenate(flows), np.concatenate(resources).astype(np.int64)

    def _costs(self, shape: Shape) -> list[np.ndarray]:
        """What one message of each flow uses of each of its resources (see :meth:`_uses`)."""
        w, spec = self.k_wire, self.k_spec
        per_request = 1.0 / shape.msgs_per_request
        per_batch = 1.0 / shape.msgs_per_batch
        pcost = self.scenario.costs.producer
        header = w + REQUEST_OVERHEAD * per_request
        lock = self.lock_batch * per_batch + self.lock_record[spec] + self.lock_byte[spec] * w
        throttled = self.throttled
        costs = [
            pcost.request_cpu * per_request + pcost.batch_cpu * per_batch + pcost.byte_cpu * w + pcost.ack_record_cpu,
            np.where(self.is_max[spec], self.send_cpu[spec], 0.0),
            header, header, lock,
            self.request_cpu * per_request + self.byte_cpu * w + lock,
            shape.channel_per_msg,
            w * throttled[self.k_leader],
        ]
        # replication, tied to production: every follower of the partition takes it
        kf, f = self.f_of_flow()
        wf = w[kf]
        follower = self._follower_append
        costs += [
            wf, wf,
            self.byte_cpu * wf + self.request_cpu * shape.fetches_per_msg[f],
            follower.batch * per_batch[kf] + follower.byte * wf + wf * self._fetch_wait_per_byte,
            wf * throttled[self.f_broker[f]],
            self.network_request_cpu * 2 * per_request
            + self.network_byte_cpu * w * (1 + self.followers_of[self.k_part]),
        ]
        bpm = self.bytes_per_msg_p[self.c_part]
        costs += [
            bpm, bpm,
            self.byte_cpu * bpm + self.request_cpu * shape.fetches_per_record,
            self.network_byte_cpu * bpm + 2 * self.network_request_cpu * shape.fetches_per_record,
            self._poll_cost,
            bpm * self.cold_flows(),
        ]
        ones = np.ones(self.U)
        costs += [
            ones, ones, self.byte_cpu * ones,
            follower.byte * ones + self._catch_up_wait_per_byte,
            ones * throttled[self.u_broker],
        ]
        return costs

    def f_of_flow(self) -> tuple[np.ndarray, np.ndarray]:
        """(producer flow, follower) pairs: every follower of each flow's partition."""
        if not hasattr(self, "_f_of_flow"):
            order = np.argsort(self.f_part, kind="stable")
            starts = np.searchsorted(self.f_part[order], self.k_part)
            counts = self.followers_of[self.k_part]
            kf = np.repeat(np.arange(self.K), counts)
            offsets = np.arange(kf.size) - np.repeat(np.cumsum(counts) - counts, counts)
            f = order[np.repeat(starts, counts) + offsets]
            self._f_of_flow = (kf, f)
        return self._f_of_flow

    @property
    def throttled(self) -> np.ndarray:
        """Brokers whose dirty pages are at ``vm.dirty_ratio``: writes go at the disks' pace."""
        return (self.dirty >= self.dirty_limit * (1 - SNAP)).astype(float)

    def cold_flows(self) -> np.ndarray:
        """Consumer flows reading from disk: the prefill, or further behind than the
        leader's page cache holds (the newest ``page_cache`` bytes it wrote)."""
        if not self.C:
            return np.zeros(0)
        rate = self.produce_rate_p[self.c_part]
        # seconds of writes behind the log end, times the broker's write rate: bytes the
        # page cache took since the position was written
        written = self.write_rate_b()[self.c_leader]
        since = np.divide(self.lag * written, rate, out=np.full(self.C, np.inf), where=rate > 0)
        beyond_cache = (self.lag > TINY) & (since > self.page_cache[self.c_leader])
        return ((self.cold_left > TINY) | beyond_cache).astype(float)

    def write_rate_b(self) -> np.ndarray:
        """Bytes a second appended on each broker: leaders' and followers' logs."""
        bytes_p = np.bincount(self.k_part, weights=self.rate_k * self.k_wire, minlength=self.P)
        return (
            np.bincount(self.leader, weights=bytes_p, minlength=self.B)
            + np.bincount(self.f_broker, weights=bytes_p[self.f_part], minlength=self.B)
            + np.bincount(self.u_broker, weights=self.rate_u, minlength=self.B)
        )

    def poll_seconds_per_record(self) -> np.ndarray:
        """Each consumer flow's member thread time per record: processing plus ``poll()``."""
        bpm = self.bytes_per_msg_p[self.c_part]
        poll = consumer_poll_cpu(self.scenario.costs, "none", 1.0, 0.0, 0.0) + self.scenario.costs.consumer.byte_cpu * bpm
        poll = poll + self.p_decompress[self.c_part] * bpm / self.p_ratio[self.c_part]
        return self.member_per_record[self.c_member] * self.member_slow[self.c_member] + poll

    def _capacities(self) -> np.ndarray:
        blk = self.block
        cap = np.zeros(self.block["fetcher"] + self.S_f)
        B, n = self.B, self.N
        cap[blk["nic_in"] : blk["nic_in"] + B] = self.nic_in * self.broker_up
        cap[blk["nic_out"] : blk["nic_out"] + B] = self.nic_out * self.broker_up
        cap[blk["cpu"] : blk["cpu"] + B] = self.threads
        cap[blk["net_threads"] : blk["net_threads"] + B] = self.network_threads
        cap[blk["disk_write"] : blk["disk_write"] + B] = self.disk_write
        cap[blk["disk_read"] : blk["disk_read"] + B] = self.disk_read
        cap[blk["sender"] : blk["sender"] + n] = self.count
        cap[blk["app"] : blk["app"] + n] = self.count
        cap[blk["client_nic"] : blk["client_nic"] + n] = self.count * self.client_nic
        cap[blk["lock"] : blk["lock"] + self.P] = 1.0
        cap[blk["conn"] : blk["conn"] + n * B] = np.repeat(self.count, B)
        cap[blk["fetcher"] : blk["fetcher"] + self.S_f] = 1.0
        cap[blk["nic_in"] : blk["nic_in"] + B] *= self.running
        cap[blk["nic_out"] : blk["nic_out"] + B] *= self.running
        cap[blk["member"] : blk["member"] + self.M] = 1.0
        cap[blk["member_nic"] : blk["member_nic"] + self.M] = self.client_nic
        return cap

    def _dirty_slope(self) -> None:
        """Dirty pages: written, minus what the disks write back at their bandwidth."""
        written = self.write_rate_b()
        self.dirty_slope = np.where(
            (self.dirty > TINY) | (written > self.disk_write), written - self.disk_write, 0.0
        )
        at_limit = self.throttled > 0
        self.dirty_slope = np.where(at_limit & (self.dirty_slope > 0), 0.0, self.dirty_slope)
        self.writeback_rate = written - self.dirty_slope

    # -- time ------------------------------------------------------------------------------

    def next_boundary(self) -> float:
        """Seconds until the earliest queue reaches a boundary at the current rates."""
        out = [np.inf]
        if self.K:
            draining = (self.backlog_slope < -TINY) & (self.backlog > TINY)
            if draining.any():
                out.append(float((self.backlog[draining] / -self.backlog_slope[draining]).min()))
            # buffer.memory fills
            held = np.bincount(self.k_spec, weights=self.backlog * self.k_wire, minlength=self.N)
            growth = np.bincount(self.k_spec, weights=np.maximum(self.backlog_slope, 0) * self.k_wire, minlength=self.N)
            filling = (growth > TINY) & (held < self.buffer_memory)
            if filling.any():
                out.append(float(((self.buffer_memory - held)[filling] / growth[filling]).min()))
            rising = self.blocked_slope > TINY
            if rising.any():
                level = self.blocked_slope * self.max_block  # where calls start to fail
                out.append(float(((level - self.blocked)[rising] / self.blocked_slope[rising]).min()))
            emptying = (self.blocked_slope < -TINY) & (self.blocked > TINY)
            if emptying.any():
                out.append(float((self.blocked[emptying] / -self.blocked_slope[emptying]).min()))
        if self.C:
            falling = (self.lag_slope < -TINY) & (self.lag > TINY)
            if falling.any():
                out.append(float((self.lag[falling] / -self.lag_slope[falling]).min()))
            reading = (self.cold_left > TINY) & (self.rate_c > TINY)
            if reading.any():
                out.append(float((self.cold_left[reading] / self.rate_c[reading]).min()))
        if self.U:
            gap = self.leo_bytes[self.u_part] - self.r_bytes[self.u_rep]
            appended = np.bincount(self.k_part, weights=self.rate_k * self.k_wire, minlength=self.P)[self.u_part]
            closing = (self.rate_u > appended + TINY) & (gap > 1.0)
            if closing.any():
                out.append(float((gap[closing] / (self.rate_u - appended)[closing]).min()))
        rising = (self.dirty_slope > TINY) & (self.dirty < self.dirty_limit)
        if rising.any():
            out.append(float(((self.dirty_limit - self.dirty)[rising] / self.dirty_slope[rising]).min()))
        falling = (self.dirty_slope < -TINY) & (self.dirty > TINY)
        if falling.any():
            out.append(float((self.dirty[falling] / -self.dirty_slope[falling]).min()))
        return max(min(out), 1e-9)

    def advance(self, t: float) -> None:
        """Every queue and counter from ``now`` to ``t`` at the current rates."""
        dt = t - self.now
        if dt <= 0:
            return
        self.latency.follow_log_ends()
        if t > self.scenario.run.warmup:  # the loop stops at the warm-up's end
            self.latency.record(dt)
        if self.K:
            acked_k = self.latency.ack_rate(self.now)
            self.in_flight += (self.rate_k - acked_k) * dt
            self.in_flight = np.maximum(self.in_flight, 0.0)
            backlog = self.backlog + self.backlog_slope * dt
            dust = np.where(backlog < DUST, backlog, 0.0)
            self.backlog = backlog - dust
            self.in_flight += dust
            created = self.create_rate * dt
            self.created += created
            self.cpu_limited += self.cpu_limited_rate * dt
            acked_n = np.bincount(self.k_spec, weights=acked_k * dt, minlength=self.N)
            self.acked += acked_n
            self.acked_bytes += np.bincount(self.k_spec, weights=acked_k * dt * self.k_wire, minlength=self.N)
            blocked = self.blocked + self.blocked_slope * dt
            dust = np.where(blocked < DUST, blocked, 0.0)
            self.blocked = blocked - dust
            self.created -= dust  # blocked calls that never were: the dust of their drain
            if self.fail_rate.any():
                self.failed["MAX_BLOCK_MS_EXCEEDED"] += float(self.fail_rate.sum() * dt)
            appended = self.rate_k * dt
            appended_p = np.bincount(self.k_part, weights=appended, minlength=self.P)
            bytes_p = np.bincount(self.k_part, weights=appended * self.k_wire, minlength=self.P)
            self.leo += appended_p
            self.leo_bytes += bytes_p
            # the leader's log and its in-sync followers' take the appends
            writes = self.r_is_leader.copy()
            writes[self.f_rep] = True
            self.r_bytes += bytes_p[self.r_part] * writes
            self.hw_gap += appended_p * self.hw_stalled
            self.requests += float((self.rate_k * dt / self.shape.msgs_per_request).sum())
            self.batches += float((self.rate_k * dt / self.shape.msgs_per_batch).sum())
        if self.C:
            fetched = self.rate_c * dt
            processed = self.latency.consume_rate(self.now) * dt
            lag = self.lag + self.lag_slope * dt
            # emptied: on its boundary, not a hair off it (the dust, a millionth of a
            # message either way, goes on down the pipeline so that nothing is lost)
            dust = np.where(lag < DUST, lag, 0.0)
            self.lag = lag - dust
            self.c_pipe += dust
            self.c_pipe = np.maximum(0.0, self.c_pipe + fetched - processed)
            self.cold_left = np.maximum(0.0, self.cold_left - fetched)
            np.add.at(self.consumed, (self.c_group, self.c_part), processed)
            self.consumed_bytes += np.bincount(self.c_group, weights=processed * self.bytes_per_msg_p[self.c_part], minlength=self.G)
            self.member_busy += np.bincount(self.c_member, weights=processed * self._poll_cost, minlength=self.M)
        if self.U:
            gap = self.leo_bytes[self.u_part] - self.r_bytes[self.u_rep]
            self.r_bytes[self.u_rep] += np.minimum(self.rate_u * dt, np.maximum(gap, 0.0))
        dirty = np.clip(self.dirty + self.dirty_slope * dt, 0.0, self.dirty_limit)
        # a queue that reached its boundary is put on it: floating-point dust must not
        # leave it a hair short, to be "reached" again a nanosecond later
        dirty = np.where(dirty >= self.dirty_limit * (1 - SNAP), self.dirty_limit, dirty)
        self.dirty = np.where(dirty < 1.0, 0.0, dirty)
        self.busy += self.usage * dt
        self.util_time += self.utilisation * dt
        self.conn_busy += self.conn_busy_rate * dt
        self.cross_rack_bytes += self.cross_rack_rate * dt
        self.written_back += self.writeback_rate * dt
        self.no_leader_s += dt * ~self.leader_serves
        self.under_min_isr_s += dt * self.under_min_isr
        self.now = t

    def topology_changed(self) -> None:
        """A registration or a broker's state changed: derive who leads and follows."""
        derive_topology(self)
        self.rate_u = np.zeros(self.U)  # the catching-up replicas are the new ones

    # -- reading it ------------------------------------------------------------------------

    def high_watermark(self) -> np.ndarray:
        """What every in-sync replica has: followers in the ISR take what the leader
        appends, so the log end offset of an online partition -- less what was appended
        while a dead replica in its ISR held it (``hw_gap``)."""
        return (self.leo - self.hw_gap) * self.has_leader

    def caught_up(self) -> np.ndarray:
        """Replicas out of the ISR that now have their leader's log end (the leader asks
        the controller to add them back)."""
        if not self.U:
            return np.zeros(0, dtype=np.int64)
        gap = self.leo_bytes[self.u_part] - self.r_bytes[self.u_rep]
        return self.u_rep[gap <= 1.0]

    def group_lags(self) -> np.ndarray:
        """Each group's lag: its high watermarks minus what it processed -- what it could
        not fetch yet plus what is on its way (every subscribed partition is owned)."""
        return np.bincount(self.c_group, weights=self.lag + self.c_pipe, minlength=self.G)

    def conservation(self) -> dict[str, object]:
        """Where every created message is. The flow engine's counts are fluid (fractions
        of messages), each integrated from its own rates; where they balance as fluids
        (to a relative 1e-9) they are rounded to whole messages so that they add up,
        otherwise each is rounded alone and the imbalance shows."""
        failed_reasons = sorted(self.failed)
        created, counts = whole_parts(
            float(self.created.sum()),
            [float(self.acked.sum()), float(self.blocked.sum()), float(self.backlog.sum()),
             float(self.in_flight.sum())] + [self.failed[r] for r in failed_reasons],
        )
        acked, blocked, buffered, in_flight = counts[:4]
        failed = dict(zip(failed_reasons, counts[4:], strict=True))
        hw = self.high_watermark()
        groups = {}
        for g, group_id in enumerate(self.group_ids):
            sub = self.subscribed[g]
            mine = self.c_group == g
            below, (consumed, fetched, unfetched, skipped) = whole_parts(
                float((hw * sub).sum()),
                [float((self.consumed[g] * sub).sum()) - float(self.skipped_at_start[g]),
                 float(self.c_pipe[mine].sum()), float(self.lag[mine].sum()), float(self.skipped_at_start[g])],
            )
            groups[group_id] = group_accounting(consumed, fetched, 0, unfetched, below, 0, skipped)
        prefilled = round(float(self.prefill_p.sum()))
        # what the logs hold can be no more than what was prefilled and created: fluids
        # equal to a relative 1e-9 are rounded alike (else 812.4999... created and
        # 812.5000... appended would round one message apart)
        appended = within(float(self.leo.sum()), float(self.prefill_p.sum()) + float(self.created.sum()),
                          prefilled + created)
        below_hw = within(float(hw.sum()), float(self.leo.sum()), appended)
        return run_accounting(
            created=created,
            acked=acked,
            blocked=blocked,
            buffered=buffered,
            in_flight=in_flight,
            failed=failed,
            appended=appended,
            below_hw=below_hw,
            groups=groups,
            prefilled=prefilled,
        )

    def __repr__(self) -> str:
        return (
            f"FlowWorld({self.scenario.name!r}, t={self.now:.3f}s, brokers={self.B}, "
            f"partitions={self.P}, producer flows={self.K}, consumer flows={self.C}, solves={self.solves})"
        )


def within(part: float, bound: float, whole_bound: int, tolerance: float = 1e-9) -> int:
    """``part`` in whole messages, no more than ``whole_bound`` (``bound`` rounded) when the
    fluid ``part`` is within ``tolerance`` of ``bound`` or below it; a part above its bound
    by more is rounded alone, and the imbalance shows."""
    whole = round(part)
    if part <= bound + tolerance * max(1.0, abs(bound)):
        return min(whole, whole_bound)
    return whole


def whole_parts(total: float, parts: list[float], tolerance: float = 1e-9) -> tuple[int, list[int]]:
    """``total`` and its ``parts`` in whole messages. Fluid parts that add up to the total
    (within ``tolerance`` of it) are rounded by largest remainder so that they still add
    up; parts that do not are rounded one by one, and the difference stays visible."""
    whole_total = round(total)
    if abs(sum(parts) - total) > tolerance * max(1.0, abs(total)):
        return whole_total, [round(p) for p in parts]
    floors = [math.floor(p) for p in parts]
    order = sorted(range(len(parts)), key=lambda i: parts[i] - floors[i], reverse=True)
    short = whole_total - sum(floors)
    for i in order[: max(0, short)]:
        floors[i] += 1
    return whole_total, floors
