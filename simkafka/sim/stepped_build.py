"""The stepped engine's construction: a scenario's cluster laid out as arrays.

:class:`SteppedConstruction` builds, once, what :class:`~simkafka.sim.stepped.SteppedWorld`
steps: the brokers (NICs at their line rate times the framing's goodput, disks, page caches,
network and handler threads), the partitions as the controller registered them at the
start (:func:`~simkafka.model.topology.scenario_topology`, after fencing
``cluster.offline_brokers``) with their followers and fetchers, the producers (rates,
batches, ``buffer.memory``, the sticky partitioner's choices or the keyed split, their
application and Sender threads), the consumer groups' members (sized for every member
that will ever exist), each topic's ``prefill``, the links, each log's lock costs, the
log directories (JBOD) and the gathers no step changes -- there is no broker control
plane, so leaders, page caches and fetch sessions stay where they started.

Capacity faults (``slow_disk``, ``nic_degradation``, :mod:`simkafka.sim.degradation`) are
kept here as changes in time; :meth:`SteppedConstruction._apply_capacity_faults` scales
the NICs (and their links) and the disks from the step in which a change falls.
"""

from __future__ import annotations

from collections import Counter, deque

import numpy as np

from simkafka.model.election import NO_LEADER
from simkafka.model.log_dirs import place_in_log_dirs
from simkafka.model.partitioner import sticky_stint_records
from simkafka.model.topology import scenario_topology
from simkafka.scenario.topic import LONG_MAX
from simkafka.sim.accumulator import RecordAccumulator, kafka_batch_size
from simkafka.sim.broker import DIRTY_RATIO
from simkafka.sim.client_costs import producer_send_cpu, topic_compression
from simkafka.sim.degradation import capacity_changes
from simkafka.sim.framing import goodput
from simkafka.sim.guards import hardware_by_broker
from simkafka.sim.log_append import follower_append_cost, leader_append_cost
from simkafka.sim.replication import fetcher_id
from simkafka.sim.stepped_groups import member_slots
from simkafka.sim.storage import RECORD_BATCH_OVERHEAD
from simkafka.sim.workload import key_weights, prefill_by_partition


class SteppedConstruction:
    """Builds the arrays of :class:`~simkafka.sim.stepped.SteppedWorld` (called from its
    ``__init__``), and applies the capacity faults as the steps reach them."""

    def _build_brokers(self) -> None:
        cluster = self.scenario.cluster
        self.broker_ids = [b.id for b in cluster.brokers]
        self.B = len(self.broker_ids)
        self.broker_index = {b: i for i, b in enumerate(self.broker_ids)}
        hardware_of = hardware_by_broker(cluster)
        hw = [hardware_of[b] for b in self.broker_ids]
        config = cluster.config
        # NICs carry payload at line rate x the framing's goodput (simkafka.sim.framing)
        payload = goodput(cluster.network.mtu)
        self.nic_in = np.array([h.ingress for h in hw]) * payload
        self.nic_out = np.array([h.egress for h in hw]) * payload
        self.disk_write = np.array([h.disk_write for h in hw])
        self.disk_read = np.array([h.disk_read for h in hw])
        self.page_cache = np.array([float(h.page_cache) for h in hw])
        self.threads = np.array([min(config.num_io_threads, h.cpu_cores) for h in hw], dtype=float)
        # network threads (processors): every request read and response written, every
        # byte through a socket; what they cannot do in a step delays the next reads
        self.network_threads = np.array(
            [min(config.num_network_threads, h.cpu_cores) for h in hw], dtype=float
        )
        self.network_busy = np.zeros(self.B)
        self.network_backlog = np.zeros(self.B)
        self.queued_max_requests = config.queued_max_requests
        self._network_seen = (np.zeros(self.B), np.zeros(self.B))  # (requests, bytes) so far
        self._requests_before = np.zeros(self.B)
        self._request_work = np.full(self.B, self.scenario.costs.broker.request_cpu)
        self.request_cpu = self.scenario.costs.broker.request_cpu
        self.byte_cpu = self.scenario.costs.broker.byte_cpu
        self.broker_rack = [b.rack for b in cluster.brokers]
        offline = set(cluster.offline_brokers)
        self.broker_up = np.array([b not in offline for b in self.broker_ids], dtype=bool)
        # cumulative counters (the probes difference them)
        zeros = lambda: np.zeros(self.B)  # noqa: E731
        self.bytes_in, self.bytes_out = zeros(), zeros()
        self.busy_in, self.busy_out = zeros(), zeros()
        self.disk_written, self.disk_read_bytes = zeros(), zeros()
        self.disk_write_busy, self.disk_read_busy = zeros(), zeros()
        self.cpu_busy, self.queue_wait, self.broker_requests = zeros(), zeros(), zeros()
        self.dirty = zeros()
        self.cpu_backlog = zeros()  # seconds of handler work queued
        self.written_total = zeros()  # bytes appended per broker, ever (page-cache age)
        self.cross_rack_bytes = 0.0
        self.header_bytes_in = zeros()  # request headers, counted in bytes_in

    def _build_partitions(self) -> None:
        scenario = self.scenario
        topology = scenario_topology(scenario)
        self.registrations = dict(topology.partitions)
        self.tps = list(self.registrations)
        self.P = len(self.tps)
        self.partition_index = {tp: i for i, tp in enumerate(self.tps)}
        self.topic_start = {}
        for i, tp in enumerate(self.tps):
            self.topic_start.setdefault(tp.topic, i)
        topics = {t.name: t for t in scenario.topics}
        self.topics = topics
        bi = self.broker_index
        regs = list(self.registrations.values())
        self.has_leader = np.array([r.leader != NO_LEADER for r in regs], dtype=bool)
        # an offline partition's entry is its preferred replica's, so that arrays indexed
        # by leader stay in range; nothing is sent to it (see simkafka.sim.stepped's docstring)
        self.leader = np.array([bi[r.leader if r.leader != NO_LEADER else r.replicas[0]] for r in regs])
        self.replica_count = np.array([len(r.replicas) for r in regs], dtype=np.int64)
        # the ISR of an offline partition stays as the controller left it (its last member)
        self.offline_isr_size = np.array(
            [0 if r.leader != NO_LEADER else len(r.isr) for r in regs], dtype=np.int64
        )
        self.min_isr = np.array([topics[tp.topic].min_insync_replicas for tp in self.tps])
        follower_part, follower_broker, follower_fetcher = [], [], []
        fetchers = scenario.cluster.config.num_replica_fetchers
        up = self.broker_up
        for p, (tp, reg) in enumerate(self.registrations.items()):
            if reg.leader == NO_LEADER:
                continue  # offline: no leader to fetch from
            for replica in reg.replicas:
                # a replica on a broker that is down runs no fetcher (and never rejoins the ISR)
                if replica != reg.leader and up[bi[replica]]:
                    follower_part.append(p)
                    follower_broker.append(bi[replica])
                    follower_fetcher.append(fetcher_id(tp, fetchers))
        self.f_part = np.array(follower_part, dtype=np.int64)
        self.f_broker = np.array(follower_broker, dtype=np.int64)
        self.F = len(follower_part)
        leader_of_f = self.leader[self.f_part]
        # one fetcher thread per (follower broker, leader broker, fetcher id)
        self.f_leader_broker = np.asarray(leader_of_f, dtype=np.int64)
        self.f_stream = (self.f_broker * self.B + leader_of_f) * fetchers + np.array(
            follower_fetcher, dtype=np.int64
        )
        self.R = self.B * self.B * fetchers
        self.stream_broker = np.arange(self.R) // fetchers // self.B  # the follower's
        # fetchers from or to a broker that is down do not run (not even empty fetches)
        self.stream_up = up[self.stream_broker] & up[(np.arange(self.R) // fetchers) % self.B]
        self.stream_response = np.zeros(self.R)  # bytes of the response being appended
        # acks=all waits for the slowest ISR follower's fetch loop: the fetch that carries
        # the data, then the next one, which tells the leader the new log end offset
        # (held in the steps by _fetcher_loops)
        net = scenario.cluster.network
        self.f_one_way = np.array(
            [
                net.cross_rack_latency
                if self.broker_rack[int(self.leader[p])] is not None
                and self.broker_rack[b] is not None
                and self.broker_rack[int(self.leader[p])] != self.broker_rack[b]
                else net.rack_latency
                for p, b in zip(follower_part, follower_broker, strict=True)
            ]
        )
        self._f_round_trip = 2 * self.f_one_way
        self.replication_delay = np.zeros(self.P)  # refreshed every step
        # where each partition's followers start in the (partition-ordered) follower arrays
        self.f_segment_part, self.f_segment_start = np.unique(self.f_part, return_index=True)
        self.f_in_isr = np.array(
            [
                self.broker_ids[b] in self.registrations[self.tps[p]].isr
                for p, b in zip(follower_part, follower_broker, strict=True)
            ],
            dtype=bool,
        )
        self._update_under_min_isr()
        config = scenario.cluster.config
        self.replica_fetch_max = float(config.replica_fetch_max_bytes)
        self.replica_lag_max = config.replica_lag_time_max
        self.next_isr_check = self.replica_lag_max / 2
        # log state (messages and bytes)
        self.leo = np.zeros(self.P, dtype=np.int64)
        self.leo_bytes = np.zeros(self.P)
        self.hw = np.zeros(self.P, dtype=np.int64)
        self.f_leo = np.zeros(self.F, dtype=np.int64)
        # the follower's log end offset as its leader knows it: from the fetch offset of
        # the follower's latest fetch (Replica.updateFetchStateOrThrow), so the high
        # watermark moves on the fetch *after* the one that carried the data
        self.f_leo_at_leader = np.zeros(self.F, dtype=np.int64)
        # A fetcher thread's loop: the response crosses to the follower, the fetcher thread
        # appends it, sends the next fetch, and the leader's handler reads the next
        # response; the leader sends that fetcher nothing for this round trip.
        stream_one_way = np.zeros(self.R)
        stream_one_way[self.f_stream] = self.f_one_way
        self.replica_round_trip = 2 * stream_one_way
        self.replica_in_flight = np.zeros(self.R, dtype=bool)
        self.replica_response_bytes = np.zeros(self.R)  # of the fetch in flight
        self.replica_loop = np.zeros(self.R)  # the last loop's duration ...
        self.replica_held = np.zeros(self.R)  # ... and the whole steps that held it
        self._loops_changed = False  # (replication_delay follows the two above)
        self.replica_next_fetch = np.zeros(self.R)  # the step that answers the next fetch
        self.f_net = np.zeros(self.F, dtype=np.int64)  # fetched, in the network
        # received by the follower, waiting for dirty-page room to be appended: these bytes
        # crossed the NIC once and must not be counted (or take capacity) again
        self.f_recv = np.zeros(self.F, dtype=np.int64)
        self.f_caught_up = np.zeros(self.F)
        self.f_fetch_leo = np.zeros(self.F, dtype=np.int64)  # leader LEO at the last fetch
        self.f_fetch_time = np.zeros(self.F)
        self.replica_wait = np.full(self.R, -1.0)  # long poll parked since (or -1)
        self.replica_requests = 0
        self.isr_changes = 0
        self.failed_p = np.zeros(self.P, dtype=np.int64)

    def _build_producers(self) -> None:
        specs, rows = [], []
        for spec in self.scenario.producers:
            topic = self.topics[spec.topic]
            weights = key_weights(spec, topic.partitions)
            for i in range(spec.count):
                specs.append(spec)
                rows.append((f"{spec.name or spec.topic}-{i}", topic, weights))
        self.I = len(specs)
        self.producer_specs = specs
        self.producer_names = [r[0] for r in rows]
        NI, P = self.I, self.P
        self.rate = np.zeros(NI)
        self.record_bytes = np.zeros(NI)
        self.wire_per_msg = np.zeros(NI)
        self.record_wire = np.zeros(NI)
        self.sent_msgs = np.zeros(NI)
        self.sent_wire = np.zeros(NI)
        # per (producer, partition): messages and batch headers sent, and the wire bytes a
        # message of the pair takes in the log -- a partition's batches fill by its own
        # rate (a hot key's fuller than a cold one's), so its header bytes are its own
        self.sent_msgs_pair = np.zeros((NI, P))
        self.sent_batches_pair = np.zeros((NI, P))
        self.per_batch = np.ones(NI, dtype=np.int64)
        self.close_lag = np.zeros(NI, dtype=np.int64)  # 1: a filled batch waits for one more
        self.linger = np.zeros(NI)
        self.max_in_flight = np.zeros(NI, dtype=np.int64)
        self.buffer_memory = np.zeros(NI)
        self.acks = np.array([s.acks for s in specs], dtype=object)
        self.own = np.zeros((NI, P), dtype=bool)
        self.weights = np.zeros((NI, P))
        self.keyed = np.zeros(NI, dtype=bool)
        self.poisson = np.array([s.profile.type == "poisson" for s in specs], dtype=bool)
        self.producer_rngs = []
        self.payload = np.zeros(NI)
        accumulators = []
        for i, (spec, (name, topic, weights)) in enumerate(zip(specs, rows, strict=True)):
            mean = spec.message_size.mean
            acc = RecordAccumulator.of(spec)
            accumulators.append(acc)
            self.rate[i] = 0.0 if spec.rate.is_max else spec.rate.messages(mean) / spec.count
            self.payload[i] = mean
            self.record_bytes[i] = acc.record_bytes
            self.per_batch[i] = acc.messages_per_batch
            self.close_lag[i] = acc.batch_shape.records_to_close - acc.messages_per_batch
            self.record_wire[i] = acc.record_bytes * spec.effective_compression_ratio
            self.wire_per_msg[i] = (
                self.record_wire[i] + RECORD_BATCH_OVERHEAD / acc.messages_per_batch
            )
            self.linger[i] = spec.linger
            self.max_in_flight[i] = spec.max_in_flight_requests_per_connection
            self.buffer_memory[i] = float(spec.buffer_memory)
            start = self.topic_start[topic.name]
            self.own[i, start : start + topic.partitions] = True
            if weights is not None:
                self.keyed[i] = True
                self.weights[i, start : start + topic.partitions] = weights
            self.producer_rngs.append(self.streams.get(f"producer.{name}"))
        self.max_block = np.array([s.max_block for s in specs])
        # full batches' until a pair's first batch is sent
        self.wire_pair = np.repeat(self.wire_per_msg[:, None], P, axis=1)
        self._build_sticky_choices()
        # records for offline partitions, per producer: [entered, counts per offline
        # partition] buckets, oldest first, until delivery.timeout.ms expires them
        self.offline_cols = np.flatnonzero(~self.has_leader)
        self.delivery_timeout = np.array([s.delivery_timeout for s in specs])
        self.stranded: list[deque[list]] = [deque() for _ in range(NI)]
        self._stranded_bucket = float(self.delivery_timeout.min(initial=np.inf)) / 1000
        self._next_expiry = np.inf
        self._build_client_threads(specs)
        self.client_latency = self.scenario.cluster.network.client_latency
        # a produce request's trip there and back plus its handling
        self.request_trip = 2 * self.client_latency + self.request_cpu
        # sticky partitioner state: current partition and messages left before a switch
        self.sticky_partition = np.full(NI, -1, dtype=np.int64)
        self.sticky_left = np.zeros(NI, dtype=np.int64)
        # Kafka switches once batch.size bytes went to the partition *and* its batches
        # are all full, else at 2 x batch.size (see BatchShape); a step does not follow
        # the Sender record by record, so the stint is the one without a drain inside
        self.switch_msgs = np.array(
            [
                sticky_stint_records(
                    acc.appended_bytes, kafka_batch_size(spec.batch_size), acc.batch_shape
                )
                for spec, acc in zip(specs, accumulators, strict=True)
            ],
            dtype=np.int64,
        )
        self.fraction = np.zeros(NI)
        self.key_carry = np.zeros((NI, P))
        # message counts per (producer, partition), by stage
        z = lambda: np.zeros((NI, P), dtype=np.int64)  # noqa: E731
        self.blocked = z()
        self._nothing_blocked = True  # kept by _admit_and_expire (the drain reads it)
        # the stages whose messages hold buffer.memory, as views of one array so that
        # _used_memory sums them in one call (they are only ever changed in place)
        self._held_stages = np.zeros((5, NI, P), dtype=np.int64)
        self.acc, self.net, self.cpu_q, self.unacked = self._held_stages[:4]
        # arrived at the leader, not yet read: the connection is muted (see _read_requests)
        self.sock = self._held_stages[4]
        self._acc_batches: tuple[np.ndarray, np.ndarray] | None = None  # see _accumulated
        self.partial_first = np.full((NI, P), np.inf)
        self.blocked_fifo: list[deque[list[float]]] = [deque() for _ in range(NI)]
        self.conn = np.arange(NI)[:, None] * self.B + self.leader[None, :]  # connection of (i, p)
        self._conn_flat = self.conn.ravel()
        self._conn_broker = np.arange(NI * self.B) % self.B
        self._mif_conn = self.max_in_flight.repeat(self.B)
        self.inflight = np.zeros(NI * self.B, dtype=np.int64)
        self.conn_unacked = np.zeros(NI * self.B, dtype=np.int64)
        # when each connection's channel may read its next request (continuous time)
        self.channel_free_at = np.zeros(NI * self.B)
        self.channel_busy = np.zeros(NI * self.B)  # seconds held, up to channel_free_at
        self.request_bytes = np.zeros(NI * self.B)  # the request being served, as read
        self.request_service = np.zeros(NI * self.B)  # the last request's channel time
        self._turns = np.ones(NI * self.B)
        self._dirty_waiting = np.zeros(NI * self.B, dtype=bool)  # short of room last step
        self._conn_producer = np.arange(NI * self.B) // self.B
        self.created = np.zeros(NI, dtype=np.int64)
        self.acked = np.zeros(NI, dtype=np.int64)
        self.acked_bytes = np.zeros(NI)
        self.failed: Counter[str] = Counter()
        self.requests = 0
        self.batches_sent = 0
        self.created_p = np.zeros(self.P, dtype=np.int64)
        self.sent_p = np.zeros(self.P, dtype=np.int64)
        self.all_acks = self.acks == "all"
        self.one_acks = self.acks == "1"
        self.zero_acks = self.acks == "0"
        # the settings' mixes, fixed for the run (tested every step)
        self._any_poisson, self._any_keyed = bool(self.poisson.any()), bool(self.keyed.any())
        self._any_all_acks = bool(self.all_acks.any())
        self._only_all_acks = bool(self.all_acks.all())
        self._any_one_acks, self._any_zero_acks = bool(self.one_acks.any()), bool(self.zero_acks.any())
        self._constant_rate = all(s.profile.type in ("constant", "poisson") for s in specs)

    def _build_sticky_choices(self) -> None:
        """The partitions each producer's sticky partitioner picks from: its topic's with a
        leader (``BuiltInPartitioner`` uses the cluster's available partitions, or all of
        them when none has a leader), as a padded table and a count per producer."""
        rows = []
        for i in range(self.I):
            own = np.flatnonzero(self.own[i])
            available = own[self.has_leader[own]]
            rows.append(available if available.size else own)
        width = max((r.size for r in rows), default=0)
        self.sticky_choices = np.zeros((self.I, max(width, 1)), dtype=np.int64)
        self.sticky_count = np.zeros(self.I, dtype=np.int64)
        for i, row in enumerate(rows):
            self.sticky_choices[i, : row.size] = row
            self.sticky_count[i] = row.size

    def _build_client_threads(self, specs: list) -> None:
        """Each producer's application thread (``send()``) and Sender thread, as the
        time each is busy until (see :mod:`simkafka.sim.client_costs`)."""
        costs = self.scenario.costs
        self.max_rate = np.array([s.rate.is_max for s in specs], dtype=bool)
        self.send_cpu = np.array(
            [
                producer_send_cpu(costs, s.compression_type, self.record_bytes[i])
                for i, s in enumerate(specs)
            ]
        )
        self.app_free_at = np.zeros(self.I)
        self.app_busy = np.zeros(self.I)
        self.cpu_limited = np.zeros(self.I, dtype=np.int64)
        self.memory_wait = np.zeros(self.I, dtype=bool)  # max-rate send() waiting for memory
        self._any_max_rate = bool(self.max_rate.any())
        self.sender_free_at = np.zeros(self.I)
        self._nobody = np.zeros(self.I, dtype=bool)  # (no send() forces a drain)
        p = self.scenario.costs.producer  # (client_costs.sender_cpu's, for the drain kernel)
        self._sender_costs = np.array([p.request_cpu, p.batch_cpu, p.byte_cpu, p.ack_record_cpu])
        self.sender_busy = np.zeros(self.I)

    def _build_consumers(self) -> None:
        """Arrays for every member that will ever exist (a group's members, then its
        ``consumer_join`` joiners), inactive until their process runs; who owns which
        partition is the group coordinator's business (:mod:`~simkafka.sim.stepped_groups`)."""
        groups = self.scenario.consumer_groups
        self.group_ids = [g.group_id for g in groups]
        self.G = len(groups)
        slots = member_slots(self.scenario)
        self.member_names = [f"{groups[g].group_id}-{i}" for g, i in slots]
        self.group_of_member = [g for g, _ in slots]
        self.per_record = [group.processing_time_per_record for group in groups]
        self.M = len(slots)
        owner = np.full((self.G, self.P), -1, dtype=np.int64)
        self.owner = owner
        # the partitions each group reads (owned or not: lag counts them all)
        self.subscribed = np.zeros((self.G, self.P), dtype=bool)
        for g, group in enumerate(groups):
            for topic in group.topics:
                start = self.topic_start[topic]
                self.subscribed[g, start : start + self.topics[topic].partitions] = True
        self._group_readers = self.subscribed.sum(axis=0)  # groups reading each partition
        self._ownership_changed()
        self._session_broker = np.arange(self.M * self.B) % self.B
        self._session_group = (
            np.array(self.group_of_member, dtype=np.int64)[np.arange(self.M * self.B) // self.B]
            if self.M
            else np.zeros(0, dtype=np.int64)
        )
        self._gp_leader_flat = np.broadcast_to(self.leader, owner.shape).ravel().copy()
        self.fetch_min = np.array([float(g.fetch_min_bytes) for g in groups])
        self.fetch_max_bytes = np.array([float(g.fetch_max_bytes) for g in groups])
        self.fetch_max_wait = np.array([g.fetch_max_wait for g in groups])
        self.partition_fetch_max = np.array([float(g.max_partition_fetch_bytes) for g in groups])
        self.max_poll_records = np.array(
            [groups[g].max_poll_records for g in self.group_of_member], dtype=float
        )
        z = lambda: np.zeros((self.G, self.P), dtype=np.int64)  # noqa: E731
        self.position, self.c_net, self.buffered, self.consumed = z(), z(), z(), z()
        self.consumed_bytes = np.zeros(self.G)
        self.consumer_wait = np.full(self.M * self.B, -1.0)
        self.budget_carry = np.zeros(self.M)
        self.consumer_requests = 0
        self.member_group = np.array(self.group_of_member, dtype=np.int64)
        self.member_per_record = np.array([self.per_record[g] for g in self.group_of_member])
        self.member_busy = np.zeros(self.M)  # seconds of each member's poll thread
        # the group side of each member's poll loop (simkafka.sim.stepped_groups)
        self.member_alive = np.zeros(self.M, dtype=bool)
        self.slow_factor = np.ones(self.M)  # consumer_slow: processing time multiplied
        self.batch_left = np.zeros(self.M)  # seconds of the batch its last poll() returned
        self.last_poll = np.zeros(self.M)
        self._polls = np.zeros(self.M, dtype=bool)
        # the step's start, and each member's processing in that step (done first)
        self.step_start = 0.0
        self.step_busy = np.zeros(self.M)
        # records a busy member's last poll() took and has not processed yet: out of the
        # fetch buffer, so their partitions are fetched again meanwhile (as in Kafka)
        self.in_batch = np.zeros((self.G, self.P), dtype=np.int64)
        self._batch_held = False
        self.reprocessed = np.zeros(self.G, dtype=np.int64)  # processed, then rewound to the commit
        # per partition: the decompression a poll pays per uncompressed byte, and the ratio
        compression = topic_compression(self.scenario)
        codecs = self.scenario.costs.codecs
        self.p_ratio = np.array([compression[tp.topic][1] for tp in self.tps])
        self.p_decompress = np.array(
            [
                c.decompress_cpu if (c := codecs.of(compression[tp.topic][0])) is not None else 0.0
                for tp in self.tps
            ]
        )

    def _prefill(self) -> None:
        """Topics' ``prefill``: every replica starts with it, committed; groups that reset
        to ``latest`` start past it. ``_cold_prefill`` sends reads of it to the disk."""
        self.skipped_at_start = np.zeros(self.G, dtype=np.int64)  # below a "latest" start
        self.prefill_p, prefill_bytes = prefill_by_partition(self.scenario, self.topic_start, self.P)
        self.leo_bytes += prefill_bytes
        if not self.prefill_p.any():
            return
        self.leo += self.prefill_p
        # an offline partition's data is on its replicas, but no leader reports a high
        # watermark for it (as the event engine's high_watermark())
        self.hw += self.prefill_p * self.has_leader
        for array in (self.f_leo, self.f_leo_at_leader, self.f_fetch_leo):
            array += self.prefill_p[self.f_part]
        for g, group in enumerate(self.scenario.consumer_groups):
            if group.auto_offset_reset != "earliest":
                start_at = self.prefill_p * (self.subscribed[g] & self.has_leader)
                self.position[g] += start_at
                self.consumed[g] += start_at
                self.skipped_at_start[g] = int(start_at.sum())

    def _build_links(self) -> None:
        """Hosts: brokers, then producers, then consumers; link 2h is egress, 2h+1 ingress."""
        B, NI, M = self.B, self.I, self.M
        clients = self.scenario.cluster.clients
        nic = float(clients.nic) * goodput(self.scenario.cluster.network.mtu)
        egress = np.concatenate([self.nic_out, np.full(NI + M, nic)])
        ingress = np.concatenate([self.nic_in, np.full(NI + M, nic)])
        self.link_capacity = np.empty(2 * (B + NI + M))
        self.link_capacity[0::2] = egress
        self.link_capacity[1::2] = ingress
        rack = list(self.broker_rack) + [clients.rack] * (NI + M)
        # flows: produce (i, b), replica (follower, leader, fetcher), consume (m, b)
        i_, b_ = np.divmod(np.arange(NI * B), B)
        prod_src, prod_dst = 2 * (B + i_), 2 * b_ + 1
        fetchers = self.R // max(1, B * B)
        r = np.arange(self.R)
        follower, leader = np.divmod(r // max(1, fetchers), B)
        rep_src, rep_dst = 2 * leader, 2 * follower + 1
        m_, cb_ = np.divmod(np.arange(M * B), B)
        con_src, con_dst = 2 * cb_, 2 * (B + NI + m_) + 1
        self.flow_src = np.concatenate([prod_src, rep_src, con_src]).astype(np.int64)
        self.flow_dst = np.concatenate([prod_dst, rep_dst, con_dst]).astype(np.int64)
        hosts_src = self.flow_src // 2
        hosts_dst = self.flow_dst // 2
        self.flow_cross = np.array(
            [
                rack[s] is not None and rack[d] is not None and rack[s] != rack[d]
                for s, d in zip(hosts_src, hosts_dst, strict=True)
            ],
            dtype=bool,
        )
        self.n_prod_flows, self.n_rep_flows = NI * B, self.R
        # cumulative bytes through the client hosts' NICs (producers, then consumers)
        self.client_nic = nic
        self.client_bytes_out, self.client_bytes_in = np.zeros(NI + M), np.zeros(NI + M)
        # bytes a link moved beyond its capacity (whole messages round up): owed next step
        self.link_debt = np.zeros(self.link_capacity.size)
        self._link_overhead = np.zeros(self.link_capacity.size)
        self._producer_egress = 2 * (B + np.arange(NI))

    def _build_append_locks(self) -> None:
        """Each partition log's lock (see ``log_append``): a leader's appends hold it for a
        time per batch, record and byte (and codec work), a follower's per batch and byte.
        A lock has a step's time per step; what does not fit waits in ``cpu_q``."""
        costs = self.scenario.costs
        # per producer: seconds per batch, per record, per wire byte, per record byte
        leader = [
            leader_append_cost(
                costs.broker,
                costs.codecs,
                spec.compression_type,
                self.topics[spec.topic].compression_type,
            )
            for spec in self.producer_specs
        ]
        self.lock_batch_s = np.array([c.batch for c in leader])
        self.lock_record_s = np.array([c.record for c in leader])
        self.lock_byte_s = np.array([c.byte for c in leader])
        self.lock_codec_s = np.array([c.codec for c in leader])
        follower = follower_append_cost(costs.broker)
        self.follower_lock_batch_s, self.follower_lock_byte_s = follower.batch, follower.byte
        self.lock_debt = np.zeros(self.P)  # seconds a lock ran past its step (rounding)
        self.lock_busy = np.zeros(self.P)  # leader lock seconds, cumulative
        self.f_lock_busy = np.zeros(self.F)  # follower lock seconds, cumulative
        self.leo_batches = np.zeros(self.P)  # batches appended by the leaders
        self.replica_response_lock = np.zeros(self.R)  # follower lock time of a response
        # flush.messages / flush.ms: the appending thread fsyncs under the lock
        self.fsync_s = costs.broker.fsync
        topics = [self.topics[tp.topic] for tp in self.tps]
        self.flush_messages = np.array([float(t.flush_messages) for t in topics])
        self.flush_ms = np.array([t.flush_ms for t in topics])
        self.flushing = self.flush_messages < LONG_MAX
        self.timed_flush = self.flush_ms < LONG_MAX / 1000
        self._any_flushing, self._any_timed_flush = bool(self.flushing.any()), bool(self.timed_flush.any())
        self.unflushed_bytes = np.zeros(self.P)
        self.last_flush = np.zeros(self.P)
        self.fsyncs = 0.0
        self.index_interval = np.array([int(t.index_interval_bytes) for t in topics], dtype=np.int64)
        self._index_interval_f = self.index_interval[self.f_part]  # at each follower
        self._build_log_dirs()

    def _build_log_dirs(self) -> None:
        """JBOD: each broker's log directories as disks of their own (write-back at each
        disk's bandwidth, the dirty limit per broker); replicas placed as
        ``LogManager.nextLogDirs`` does (``place_in_log_dirs``)."""
        hardware_of = hardware_by_broker(self.scenario.cluster)
        dir_broker, dir_write, first = [], [], []
        for j, broker_id in enumerate(self.broker_ids):
            first.append(len(dir_broker))
            for write, _read in hardware_of[broker_id].dirs:
                dir_broker.append(j)
                dir_write.append(write)
        self.dir_broker = np.array(dir_broker, dtype=np.int64)
        self.dir_write = np.array(dir_write, dtype=float)
        counts = np.bincount(self.dir_broker, minlength=self.B)
        placed = place_in_log_dirs(
            [(r, tp) for tp, reg in self.registrations.items() for r in reg.replicas],
            {b: int(counts[j]) for j, b in enumerate(self.broker_ids)},
        )
        bi = self.broker_index
        self.p_dir = np.array(
            [first[int(self.leader[p])] + placed[(self.broker_ids[int(self.leader[p])], tp)]
             for p, tp in enumerate(self.tps)],
            dtype=np.int64,
        )
        self.f_dir = np.array(
            [first[int(b)] + placed[(self.broker_ids[int(b)], self.tps[int(p)])]
             for p, b in zip(self.f_part, self.f_broker, strict=True)],
            dtype=np.int64,
        )
        del bi
        self._dir_first = np.array(first, dtype=np.int64)
        D = self.dir_broker.size
        self.dir_dirty = np.zeros(D)
        self.dir_written = np.zeros(D)
        self.dir_write_busy = np.zeros(D)

    def _build_step_constants(self) -> None:
        """Gathers the steps read and that no step changes (there is no broker control
        plane: leaders, page caches and fetch sessions stay where they started)."""
        B = self.B
        self._stream_leader = (np.arange(self.R) // max(1, self.R // (B * B))) % B
        self._leader_page_cache = self.page_cache[self.leader][None, :]
        self._any_prefill = bool(self.prefill_p.any())
        sessions = self._session_group
        self._session_fetch_max = self.fetch_max_bytes[sessions]
        self._session_max_wait = self.fetch_max_wait[sessions]
        self._session_fetch_min = np.maximum(self.fetch_min[sessions], 1e-9)
        self._session_up = self.broker_up[self._session_broker]
        self._all_sessions_up = bool(self._session_up.all())
        # the dirty-page room's writers: each connection, then each replica fetcher
        self._writer_pool = np.concatenate([self._conn_broker, self.stream_broker])
        self._no_connection = np.zeros(self.I * B, dtype=bool)
        self._session_member = np.arange(self.M * B) // B
        self._member_egress = 2 * (B + self.I + np.arange(self.M))
        # the drain's: the linger's due time as compared, the turnaround's constant part
        self._all_led = bool(self.has_leader.all())
        # handler and network threads' seconds per step, the page cache's dirty limit
        self._thread_seconds = self.threads * self.dt
        self._network_thread_seconds = self.network_threads * self.dt
        self._dirty_limit = DIRTY_RATIO * self.page_cache
        self._linger_due = self.linger - 1e-12
        self._turnaround_base = 2 * self.client_latency + self.scenario.costs.producer.request_cpu
        self._refresh_capacities()

    def _build_capacity_faults(self) -> None:
        """slow_disk / nic_degradation (:mod:`simkafka.sim.degradation`): the factors in
        force per broker, applied from the step in which each change falls, scale the
        capacities as built (kept here)."""
        run = self.scenario.run
        self._capacity_changes = deque(capacity_changes(self.scenario.faults, run.duration))
        self._built_capacity = (
            self.nic_in, self.nic_out, self.disk_write, self.disk_read, self.dir_write
        )
        self._nic_factor, self._disk_factor = np.ones(self.B), np.ones(self.B)

    def _apply_capacity_faults(self, t1: float) -> None:
        """Scale the NICs (and their links) and disks by the factors in force from the
        changes falling before ``t1``, the end of the step about to be played."""
        changes = self._capacity_changes
        while changes and changes[0].at < t1 - 1e-12:
            change = changes.popleft()
            j = self.broker_index[change.broker]
            self._nic_factor[j], self._disk_factor[j] = change.nic, change.disk
        nic_in, nic_out, disk_write, disk_read, dir_write = self._built_capacity
        self.nic_in, self.nic_out = nic_in * self._nic_factor, nic_out * self._nic_factor
        self.disk_write = disk_write * self._disk_factor
        self.disk_read = disk_read * self._disk_factor
        self.dir_write = dir_write * self._disk_factor[self.dir_broker]
        self.link_capacity[0 : 2 * self.B : 2] = self.nic_out
        self.link_capacity[1 : 2 * self.B : 2] = self.nic_in
        self._refresh_capacities()
        self._replica_rate = None

    def _refresh_capacities(self) -> None:
        """What the steps read of the NICs' and disks' capacities, computed at the build
        and again whenever a capacity fault changes them."""
        self._conn_nic = np.minimum(self.client_nic, self.nic_in[self._conn_broker])
        # Bytes per broker its disks can write back in a step: appends of the step may be
        # written in it. (With JBOD an idle directory's bandwidth counts too, so a broker
        # whose traffic goes to one disk may pass its dirty limit by that step's worth of
        # the others' bandwidth; its throughput is still the busy disk's.)
        self._dir_write_step = self.dir_write * self.dt
        self._write_back_room = np.bincount(
            self.dir_broker, weights=self._dir_write_step, minlength=self.B
        )
