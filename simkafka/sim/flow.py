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
from collections import Counter

import numpy as np

from simkafka.model.partitioner import sticky_stint_records
from simkafka.model.topology import scenario_topology, topic_id
from simkafka.model.types import TopicPartition
from simkafka.scenario import Scenario
from simkafka.sim.accumulator import RecordAccumulator, kafka_batch_size
from simkafka.sim.broker import DIRTY_RATIO
from simkafka.sim.client_costs import consumer_poll_cpu, producer_send_cpu, topic_compression
from simkafka.sim.degradation import capacity_changes
from simkafka.sim.flow_control import FLOW_CONTROL_FAULT_TYPES, FlowControl
from simkafka.sim.flow_groups import FlowGroups
from simkafka.sim.flow_latency import FlowLatency, Shape
from simkafka.sim.flow_share import progressive_fill
from simkafka.sim.flow_topology import derive_topology
from simkafka.sim.framing import goodput
from simkafka.sim.guards import check_engine_inputs, hardware_by_broker
from simkafka.sim.log_append import follower_append_cost, leader_append_cost
from simkafka.sim.result import group_accounting, run_accounting
from simkafka.sim.stepped_groups import member_slots
from simkafka.sim.storage import RECORD_BATCH_OVERHEAD
from simkafka.sim.workload import consumer_assignment, key_weights, prefill_by_partition

REQUEST_OVERHEAD = 100  # produce request header (as the other engines' producers)
FIXED_POINT_ROUNDS = 14  # batching and the fetchers' loops <-> rates: bisected to 0.1 % (stops once settled)
TINY = 1e-9
SNAP = 1e-6  # relative: a queue this close to its boundary is on it
DUST = 1e-6  # messages: a queue holding less is empty


class FlowWorld:
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

    # -- construction -----------------------------------------------------------------------

    def _build_brokers(self) -> None:
        cluster = self.scenario.cluster
        self.broker_ids = [b.id for b in cluster.brokers]
        self.B = len(self.broker_ids)
        hardware_of = hardware_by_broker(cluster)
        hw = [hardware_of[b] for b in self.broker_ids]
        config = cluster.config
        payload = goodput(cluster.network.mtu)
        self.nic_in = np.array([h.ingress for h in hw]) * payload
        self.nic_out = np.array([h.egress for h in hw]) * payload
        self.built_nic_in, self.built_nic_out = self.nic_in.copy(), self.nic_out.copy()
        self.disk_write = np.array([h.disk_write for h in hw])
        self.disk_read = np.array([h.disk_read for h in hw])
        self.built_disk_write, self.built_disk_read = self.disk_write.copy(), self.disk_read.copy()
        self.page_cache = np.array([float(h.page_cache) for h in hw])
        self.dirty_limit = DIRTY_RATIO * self.page_cache
        self.threads = np.array([min(config.num_io_threads, h.cpu_cores) for h in hw], dtype=float)
        self.network_threads = np.array(
            [min(config.num_network_threads, h.cpu_cores) for h in hw], dtype=float
        )
        costs = self.scenario.costs.broker
        self.request_cpu, self.byte_cpu = costs.request_cpu, costs.byte_cpu
        self.network_request_cpu, self.network_byte_cpu = costs.network_request_cpu, costs.network_byte_cpu
        self.broker_rack = [b.rack for b in cluster.brokers]
        offline = set(cluster.offline_brokers)
        self.broker_up = np.array([b not in offline for b in self.broker_ids], dtype=bool)
        self.broker_index = {b: i for i, b in enumerate(self.broker_ids)}
        # the broker's process runs; it is unfenced and follows (the controller's word)
        self.running = self.broker_up.copy()
        self.following = self.broker_up.copy()
        self.dirty = np.zeros(self.B)
        clients = cluster.clients
        self.client_nic = float(clients.nic) * payload
        self.client_rack = clients.rack
        self.client_latency = cluster.network.client_latency

    def _build_partitions(self) -> None:
        scenario = self.scenario
        topology = scenario_topology(scenario)
        self.registrations = dict(topology.partitions)
        self.tps = list(self.registrations)
        # the partitions whose registration changed since who leads was last derived
        self.changed_registrations: set[TopicPartition] = set()
        self.P = len(self.tps)
        self.topic_start: dict[str, int] = {}
        for i, tp in enumerate(self.tps):
            self.topic_start.setdefault(tp.topic, i)
        self.topics = {t.name: t for t in scenario.topics}
        regs = list(self.registrations.values())
        self.topology = topology
        self.replica_count = np.array([len(r.replicas) for r in regs], dtype=np.int64)
        self.min_isr = np.array([self.topics[tp.topic].min_insync_replicas for tp in self.tps])
        self.segment_bytes_p = np.array([float(self.topics[tp.topic].segment_bytes) for tp in self.tps])
        # every replica of every partition (its place never changes; its role does)
        bi = {b: i for i, b in enumerate(self.broker_ids)}
        self.r_part = np.repeat(np.arange(self.P), self.replica_count)
        self.r_broker = np.array([bi[b] for r in regs for b in r.replicas], dtype=np.int64)
        self.R = self.r_part.size
        config = scenario.cluster.config
        self.replica_fetch_max = float(config.replica_fetch_max_bytes)
        self.replica_response_max = float(config.replica_fetch_response_max_bytes)
        self.leo = np.zeros(self.P)
        self.leo_bytes = np.zeros(self.P)

    def _build_producers(self) -> None:
        """One row per producer *spec* (its ``count`` identical instances together) and one
        flow per (spec, partition of its topic)."""
        specs = list(self.scenario.producers)
        self.producer_specs = specs
        self.N = len(specs)
        costs = self.scenario.costs
        n = self.N
        self.count = np.array([s.count for s in specs], dtype=float)
        self.is_max = np.array([s.rate.is_max for s in specs], dtype=bool)
        self.nominal = np.array(
            [0.0 if s.rate.is_max else s.rate.messages(s.message_size.mean) for s in specs]
        )
        self.payload = np.array([float(s.message_size.mean) for s in specs])
        self.record_bytes = np.zeros(n)
        self.wire_per_msg = np.zeros(n)
        self.full_batch = np.zeros(n)  # records in a batch that closed full
        self.stint = np.zeros(n)
        self.linger = np.array([s.linger for s in specs])
        self.buffer_memory = np.array([float(s.buffer_memory) for s in specs]) * self.count
        self.max_request = np.array([float(s.max_request_size) for s in specs])
        self.max_in_flight = np.array([float(s.max_in_flight_requests_per_connection) for s in specs])
        self.acks = [s.acks for s in specs]
        self.all_acks = np.array([a == "all" for a in self.acks], dtype=bool)
        self.zero_acks = np.array([a == "0" for a in self.acks], dtype=bool)
        self.keyed = np.array([s.keys.keyed for s in specs], dtype=bool)
        compression = topic_compression(self.scenario)
        k_spec, k_part, k_weight, k_keyed = [], [], [], []
        lock_costs = []
        for s, spec in enumerate(specs):
            acc = RecordAccumulator.of(spec)
            self.record_bytes[s] = acc.record_bytes
            self.full_batch[s] = acc.messages_per_batch
            # the sticky partitioner's stint: batch.size bytes to one partition, then a
            # switch once its batches are full -- records left over open a batch that
            # waits out linger.ms (sticky_stint_records, as the stepped engine)
            self.stint[s] = sticky_stint_records(
                acc.appended_bytes, kafka_batch_size(spec.batch_size), acc.batch_shape
            )
            self.wire_per_msg[s] = acc.full_batch_wire_per_record
            topic = self.topics[spec.topic]
            start = self.topic_start[topic.name]
            parts = np.arange(start, start + topic.partitions)
            weights = key_weights(spec, topic.partitions)
            # keyed: murmur2's share per partition; unkeyed: the sticky partitioner's,
            # even over the partitions with a leader (flow_topology)
            k_keyed.extend([weights is not None] * parts.size)
            k_spec.extend([s] * parts.size)
            k_part.extend(parts.tolist())
            k_weight.extend(np.zeros(parts.size) if weights is None else np.asarray(weights, dtype=float))
            lock_costs.append(
                leader_append_cost(costs.broker, costs.codecs, spec.compression_type,
                                   self.topics[spec.topic].compression_type)
            )
        self.k_spec = np.array(k_spec, dtype=np.int64)
        self.k_part = np.array(k_part, dtype=np.int64)
        self.k_key_weight = np.array(k_weight, dtype=float)
        self.k_keyed = np.array(k_keyed, dtype=bool)
        self.K = self.k_spec.size
        # a record's bytes in a batch, and with it its share of the batch's 61-byte header:
        # full batches to start with, then the batches the rates make (_set_wire)
        self.k_record_wire = (self.record_bytes * np.array(
            [s.effective_compression_ratio for s in specs]))[self.k_spec] if self.K else np.zeros(0)
        self.k_wire = self.wire_per_msg[self.k_spec]
        self.lock_batch = np.array([c.batch for c in lock_costs])[self.k_spec] if self.K else np.zeros(0)
        self.lock_record = np.array([c.record + c.codec * self.record_bytes[i] for i, c in enumerate(lock_costs)])
        self.lock_byte = np.array([c.byte for c in lock_costs])
        self.send_cpu = np.array(
            [producer_send_cpu(costs, s.compression_type, self.record_bytes[i]) for i, s in enumerate(specs)]
        )
        self.max_block = np.array([s.max_block for s in specs])
        self.p_compression = [compression[tp.topic] for tp in self.tps]
        # queue contents, messages per flow
        self.backlog = np.zeros(self.K)  # created, not yet sendable within its rate
        self.blocked = np.zeros(n)  # records of send() calls blocked on buffer.memory
        self.in_flight = np.zeros(self.K)  # the pipeline: accumulator wait, request, ack
        self.created = np.zeros(n)
        self.acked = np.zeros(n)
        self.acked_bytes = np.zeros(n)
        self.cpu_limited = np.zeros(n)
        self.failed: Counter[str] = Counter()
        self.requests = 0.0
        self.batches = 0.0

    def _build_consumers(self) -> None:
        groups = list(self.scenario.consumer_groups)
        self.group_ids = [g.group_id for g in groups]
        self.G = len(groups)
        self.per_record = [g.processing_time_per_record for g in groups]
        topic_ids = {t.name: topic_id(self.scenario.seed, t.name) for t in self.scenario.topics}
        release = self.scenario.cluster.kafka_version
        c_group, c_part, c_member = [], [], []
        index = {tp: i for i, tp in enumerate(self.tps)}
        self.subscribed = np.zeros((self.G, self.P), dtype=bool)
        # every member that will ever exist: a group's members, then its consumer_join
        # joiners (inactive until their process runs), as the stepped engine's slots
        slots = member_slots(self.scenario)
        self.member_names = [f"{groups[g].group_id}-{i}" for g, i in slots]
        member_group = [g for g, _ in slots]
        slot_of = {(g, i): slot for slot, (g, i) in enumerate(slots)}
        for g, group in enumerate(groups):
            for topic in group.topics:
                start = self.topic_start[topic]
                self.subscribed[g, start : start + self.topics[topic].partitions] = True
            ids = [f"{group.group_id}-{i}" for i in range(group.members)]
            # one flow per subscribed partition, numbered as the group's first assignment
            # lists them; who owns it from then on is the group coordinator's business
            # (simkafka.sim.flow_groups), an unowned flow does not move
            assignment = consumer_assignment(group, ids, self.topics, topic_ids, release)
            for m, member_id in enumerate(ids):
                for tp in assignment[member_id]:
                    c_group.append(g)
                    c_part.append(index[tp])
                    c_member.append(slot_of[(g, m)])
        self.M = len(self.member_names)
        self.member_group = np.array(member_group, dtype=np.int64)
        self.c_group = np.array(c_group, dtype=np.int64)
        self.c_part = np.array(c_part, dtype=np.int64)
        self.c_member = np.array(c_member, dtype=np.int64)
        self.C = self.c_group.size
        self.c_owned = np.ones(self.C, dtype=bool)
        self.c_of = np.full((self.G, self.P), -1, dtype=np.int64)  # each (group, partition)'s flow
        self.c_of[self.c_group, self.c_part] = np.arange(self.C)
        self.member_slow = np.ones(self.M)  # consumer_slow: processing time multiplied
        self.reprocessed = np.zeros(self.G)  # processed, then rewound to the committed offset
        self.max_poll_records = np.array([groups[g].max_poll_records for g in member_group], dtype=float)
        self.fetch_max_wait_m = np.array([groups[g].fetch_max_wait for g in member_group])
        self.fetch_min = np.array([float(groups[g].fetch_min_bytes) for g in member_group])
        self.member_per_record = np.array([self.per_record[g] for g in member_group])
        codecs = self.scenario.costs.codecs
        self.p_decompress = np.array(
            [c.decompress_cpu if (c := codecs.of(name)) is not None else 0.0 for name, _ in self.p_compression]
        )
        self.p_ratio = np.array([ratio for _, ratio in self.p_compression])
        self.lag = np.zeros(self.C)  # what the member could not consume yet, per flow
        self.c_pipe = np.zeros(self.C)  # on its way: waiting for a fetch, in it, in a poll
        self.consumed = np.zeros((self.G, self.P))
        self.consumed_bytes = np.zeros(self.G)
        self.skipped_at_start = np.zeros(self.G)
        self.member_busy = np.zeros(self.M)

    def _prefill(self) -> None:
        """Topics' ``prefill``: on every replica at t=0, never in the page cache; a group
        from ``earliest`` must read it (its lag), one from ``latest`` starts past it."""
        self.prefill_p, self.prefill_bytes = prefill_by_partition(self.scenario, self.topic_start, self.P)
        self.leo += self.prefill_p
        self.leo_bytes += self.prefill_bytes
        self.r_bytes = self.prefill_bytes[self.r_part].copy()  # each replica's log, in bytes
        self.hw_gap = np.zeros(self.P)  # appended, not yet below the high watermark
        readable = self.prefill_p * self.has_leader
        for g, group in enumerate(self.scenario.consumer_groups):
            if group.auto_offset_reset == "earliest":
                owned = self.c_group == g
                self.lag[owned] = readable[self.c_part[owned]]
            else:
                self.consumed[g] += readable * self.subscribed[g]
                self.skipped_at_start[g] = float((readable * self.subscribed[g]).sum())
        # bytes of each partition's log still to be read from disk by a group (the prefill)
        self.cold_left = np.where(self.lag > 0, self.lag, 0.0)

    def _build_resources(self) -> None:
        """Resource numbering for the solver: blocks of brokers, specs, partitions, ..."""
        B, n = self.B, self.N
        blocks = {
            "nic_in": B, "nic_out": B, "cpu": B, "net_threads": B, "disk_write": B, "disk_read": B,
            "sender": n, "app": n, "client_nic": n, "lock": self.P, "conn": n * B,
            "member": self.M, "member_nic": self.M,
            "fetcher": self.S_f,  # last: the fetcher threads change with the topology
        }
        self.block: dict[str, int] = {}
        at = 0
        for name, size in blocks.items():
            self.block[name] = at
            at += size
        self.n_resources = at
        self.usage = np.zeros(at)  # of each resource per second, at the current rates
        self.busy = np.zeros(at)  # ... and cumulated (seconds, bytes)
        self.written_back = np.zeros(self.B)
        self.writeback_rate = np.zeros(self.B)
        self.utilisation = np.zeros(at)
        self.util_time = np.zeros(at)  # busy seconds of each resource (usage / capacity)
        self.conn_busy = np.zeros(self.N * self.B)  # channel seconds held, per instance
        self.conn_busy_rate = np.zeros(self.N * self.B)
        self.bytes_per_msg_p = self._partition_message_bytes()
        self.cross_rack_bytes = 0.0
        self.cross_rack_rate = 0.0

    def _partition_message_bytes(self) -> np.ndarray:
        """Bytes per message in each partition's log: its writers' wire sizes, weighted by
        what each is offered there (the prefill's first writer where nobody writes)."""
        offered = self.nominal[self.k_spec] * self.k_weight if self.K else np.zeros(0)
        offered = np.where(self.is_max[self.k_spec], self.k_weight, offered) if self.K else offered
        msgs = np.bincount(self.k_part, weights=offered, minlength=self.P)
        nbytes = np.bincount(self.k_part, weights=offered * self.k_wire, minlength=self.P)
        prefill = np.divide(self.prefill_bytes, self.prefill_p, out=np.zeros(self.P), where=self.prefill_p > 0)
        return np.divide(nbytes, msgs, out=np.where(prefill > 0, prefill, 1.0), where=msgs > 0)

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
        if t > self.scenario.run.warmup:  # the loop stops at the warm-up's end
            self.latency.record(dt)
        self.latency.age_backlog(dt)
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
