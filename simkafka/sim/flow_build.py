"""The flow engine's construction: the arrays of a :class:`~simkafka.sim.flow.FlowWorld`.

Brokers and their hardware, partitions and their replicas, one producer flow per
(producer group, partition) with the share of its records the partitioner gives it, one
consumer flow per (group, subscribed partition), the topics' prefill, and the resources
(NICs, threads, locks, channels, disks) every flow's messages use -- everything
:meth:`FlowWorld.solve <simkafka.sim.flow.FlowWorld.solve>` reads. The numbering is the
stepped engine's where both have an array (brokers, partitions, members).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from simkafka.model.partitioner import sticky_stint_records
from simkafka.model.topology import scenario_topology, topic_id
from simkafka.model.types import TopicPartition
from simkafka.sim.accumulator import RecordAccumulator, kafka_batch_size
from simkafka.sim.broker import DIRTY_RATIO
from simkafka.sim.client_costs import producer_send_cpu, topic_compression
from simkafka.sim.framing import goodput
from simkafka.sim.guards import hardware_by_broker
from simkafka.sim.log_append import leader_append_cost
from simkafka.sim.stepped_groups import member_slots
from simkafka.sim.workload import consumer_assignment, key_weights, prefill_by_partition


class FlowBuild:
    """Builds a flow world's arrays from its scenario (see the module's docstring)."""

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
