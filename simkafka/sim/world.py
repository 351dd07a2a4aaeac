"""The simulated cluster: builds every component from a Scenario and serves requests.

``World`` owns the SimPy environment, the flow network, the brokers and the partition
metadata (who leads, which replicas are in sync). Components are created in a fixed
order -- brokers by id, topics and partitions in scenario order, producers and groups in
scenario order -- so that the same scenario and seed give the same run.

Components do not import this module: each declares what it uses of the cluster as a
``Protocol`` in its own module (``ProducerCluster``, ``ConsumerCluster``,
``FetcherCluster``, ``IsrController``) or takes the few objects it needs (a ``Broker``
gets the clock, the flow network and its config), and ``World`` is what is passed in.

Brokers of ``cluster.offline_brokers`` are down for the whole run: the controller fenced
them before it started (:func:`~simkafka.model.topology.scenario_topology`), so they lead
nothing and are out of every ISR; they are built (their columns read zero) but marked
dead, fetch nothing and are never sent to. A partition left without a leader is offline:
its replicas do not fetch, consumers do not read it, and a producer's unkeyed records
avoid it (the partitioner's available partitions) while keyed ones wait in the
accumulator and fail with ``DELIVERY_TIMEOUT`` after ``delivery.timeout.ms``, as in Kafka
(see :mod:`simkafka.sim.producer`).

Request handling that involves several components lives here: a ProduceRequest
(validate ``min.insync.replicas``, append, wait for the high watermark), a follower's
Fetch (update follower state, maybe advance the high watermark, long-poll for data) and
a consumer's Fetch (read below the high watermark, long-poll for ``fetch.min.bytes``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any

import numpy as np
import simpy

from simkafka.model.delivery import DeliveryHistory
from simkafka.model.election import NO_LEADER, PartitionRegistration
from simkafka.model.log_dirs import place_in_log_dirs
from simkafka.model.partitioner import TopicMetadata
from simkafka.model.topology import scenario_topology
from simkafka.model.types import TopicPartition
from simkafka.random_streams import RandomStreams
from simkafka.scenario import ConsumerGroupSpec, Scenario
from simkafka.scenario.topic import LONG_MAX
from simkafka.sim.accumulator import ProducerBatch
from simkafka.sim.broker import Broker, DelayedFetch, DelayedProduce, PartitionLeader
from simkafka.sim.client_costs import topic_compression
from simkafka.sim.consumer import ConsumerMember
from simkafka.sim.consumer_faults import play_consumer_faults
from simkafka.sim.control_plane import ControlPlane
from simkafka.sim.degradation import play_capacity_faults
from simkafka.sim.fault_player import FaultPlayer
from simkafka.sim.framing import goodput, line_bytes
from simkafka.sim.group_driver import GroupDriver
from simkafka.sim.group_formation import commit_error, form_group
from simkafka.sim.guards import check_engine_inputs, hardware_by_broker
from simkafka.sim.log_append import AppendCost, follower_append_cost, leader_append_cost
from simkafka.sim.network import Network
from simkafka.sim.producer import ProducerClient
from simkafka.sim.quota import ReplicationQuota
from simkafka.sim.recovery import recovery_seconds, unflushed_bytes
from simkafka.sim.replica_log import LogRead, ReplicaLog
from simkafka.sim.replica_manager import DISCONNECTED, NOT_LEADER, ReplicaManager
from simkafka.sim.replication import ReplicaFetcher, fetcher_id, isr_checker, java_string_hash
from simkafka.sim.workload import key_weights, prefill_per_partition

UNBOUNDED = 1e15  # bytes/s of links that are never a bottleneck (memory bus)
# Request headers, acks and empty fetch responses are a few hundred bytes: they take the
# propagation latency plus their serialisation time but do not enter max-min sharing,
# which would cost two re-shares each for a negligible share of the NIC.
SMALL_TRANSFER = 4096
OFFSETS_TOPIC_PARTITIONS = 50  # offsets.topic.num.partitions


class World:
    """Everything that exists in one simulated run."""

    def __init__(self, scenario: Scenario) -> None:
        check_engine_inputs(scenario)
        self.scenario = scenario
        self.env = simpy.Environment()
        self.streams = RandomStreams(scenario.seed)
        cluster = scenario.cluster
        net = cluster.network
        self.network = Network(
            self.env, net.rack_latency, net.cross_rack_latency, net.client_latency
        )
        self.brokers: dict[int, Broker] = {}
        self.small_bytes_sent: dict[str, int] = {}
        self.small_bytes_received: dict[str, int] = {}
        self._path: dict[tuple[str, str], tuple[float, float, bool, bool]] = {}
        self._rack: dict[str, str | None] = {}
        self.small_busy_out: dict[str, float] = {}
        self.small_busy_in: dict[str, float] = {}
        self.small_cross_rack_bytes = 0
        self._egress: dict[str, float] = {}
        self._ingress: dict[str, float] = {}
        self.mtu = net.mtu
        self.goodput = goodput(net.mtu)
        self._framed: set[str] = set()  # hosts whose capacity is payload after framing
        hardware_of = hardware_by_broker(cluster)
        for spec in cluster.brokers:
            hardware = hardware_of[spec.id]
            broker = Broker(
                self.env, self.network, cluster.config, scenario.costs.broker, spec.id, spec.rack, hardware
            )
            self.add_host(broker.host, spec.rack, hardware.egress, hardware.ingress, nic=True)
            self.add_host(broker.cache_host, spec.rack, UNBOUNDED, UNBOUNDED)
            for disk_host, (write, read) in zip(broker.disk_hosts, broker.dir_bandwidth, strict=True):
                self.add_host(disk_host, spec.rack, read, write)
            self.brokers[spec.id] = broker
        for broker_id in cluster.offline_brokers:
            self.brokers[broker_id].alive = False  # down for the whole run
        self.topics = {t.name: t for t in scenario.topics}
        self.group_specs = {g.group_id: g for g in scenario.consumer_groups}
        topology = scenario_topology(scenario)
        self.topology = topology
        # every partition's registration as the brokers have applied it (the controller's
        # own state is ahead of it by the metadata propagation delay)
        self.partitions: dict[TopicPartition, PartitionRegistration] = dict(topology.partitions)
        # one TopicPartition object per partition, the one every broker's dicts are keyed
        # by: a look-up with it matches by identity, without comparing fields
        self._tps: dict[str, list[TopicPartition]] = {t.name: [] for t in scenario.topics}
        for tp in sorted(topology.partitions):
            self._tps[tp.topic].append(tp)
        self.history = DeliveryHistory()
        self._leader: dict[TopicPartition, int] = {}
        self._by_leader_cache: dict[str, dict[int, tuple[list[int], np.ndarray]]] = {}
        self._metadata_cache: dict[str, TopicMetadata] = {}
        self._committed: dict[tuple[str, TopicPartition], int] = {}
        self._bytes_per_message: dict[str, float] = {}
        self._leader_append_cost: dict[tuple[str, str], AppendCost] = {}
        self._follower_append_cost = follower_append_cost(scenario.costs.broker)
        # (batches, records) appended by leaders per partition: a follower's read in batches
        self._append_shape: dict[TopicPartition, tuple[int, int]] = {}
        for broker in self.brokers.values():
            broker.append_shape = self._append_shape  # a follower's reads in batches
        for tp, registration in topology.partitions.items():
            topic = self.topics[tp.topic]
            for replica in registration.replicas:
                self.brokers[replica].logs[tp] = ReplicaLog()
                self.brokers[replica].index_interval[tp] = int(topic.index_interval_bytes)
            self._leader[tp] = registration.leader
            if registration.leader == NO_LEADER:
                continue  # offline: nobody serves it (leader_log reads the preferred replica's)
            self.brokers[registration.leader].become_leader(
                tp,
                registration.replicas,
                list(registration.isr),
                topic.min_insync_replicas,
                registration.leader_epoch,
            )
        placed = place_in_log_dirs(
            [(r, tp) for tp, reg in topology.partitions.items() for r in reg.replicas],
            {b: len(broker.disk_hosts) for b, broker in self.brokers.items()},
        )
        for (replica, tp), log_dir in placed.items():
            self.brokers[replica].dir_of[tp] = log_dir
        self._prefill(scenario)
        config = cluster.config
        self.leader_quota = {
            b: ReplicationQuota(config.leader_replication_throttled_rate)
            for b in self.brokers if config.leader_replication_throttled_rate is not None
        }
        self.follower_quota = {
            b: ReplicationQuota(config.follower_replication_throttled_rate)
            for b in self.brokers if config.follower_replication_throttled_rate is not None
        }
        self.replica_manager = ReplicaManager(self)
        self.control = ControlPlane(self)
        self._start_replication()
        self.producers: list[ProducerClient] = []
        for spec in scenario.producers:
            topic = self.topics[spec.topic]
            weights = key_weights(spec, topic.partitions)
            for i in range(spec.count):
                producer = ProducerClient(
                    self, spec, topic, i, weights, self.streams, scenario.run.warmup, scenario.costs,
                    producer_id=len(self.producers),
                )
                self.add_host(
                    producer.host,
                    cluster.clients.rack,
                    cluster.clients.nic,
                    cluster.clients.nic,
                    client=True,
                    nic=True,
                )
                self.producers.append(producer)
            self._bytes_per_message[spec.topic] = spec.message_size.mean
        self.groups: dict[str, list[ConsumerMember]] = {}
        config = cluster.config
        self.group_driver = GroupDriver(self, scenario)
        self._compression = topic_compression(scenario)
        for group in scenario.consumer_groups:
            self.groups[group.group_id] = []
            for _ in range(group.members):
                self.new_member(group)
            form_group(self.group_driver, group, self.groups[group.group_id])
        play_capacity_faults(self)  # slow_disk, nic_degradation (simkafka.sim.degradation)
        self.fault_player = FaultPlayer(self)
        play_consumer_faults(self)  # crash, leave, join, slow, rolling restart

    def _prefill(self, scenario: Scenario) -> None:
        """Topics with a ``prefill`` start with that data on every replica, in sync and
        committed, and older than anything in the page cache (a reader hits the disk);
        its records count as created at the start of the run."""
        for topic in scenario.topics:
            messages, nbytes = prefill_per_partition(topic, scenario.producers)
            if not messages:
                continue
            for p in range(topic.partitions):
                tp = TopicPartition(topic.name, p)
                registration = self.topology.partitions[tp]
                for replica in registration.replicas:
                    broker = self.brokers[replica]
                    broker.logs[tp].append(
                        messages,
                        nbytes,
                        # written a page cache's worth before anything the run writes
                        written_mark=-broker.page_cache_bytes - 1,
                        first_created=0.0,
                        last_created=0.0,
                    )
                # prefilled records belong to no producer of the run (id -1)
                self.history.appended(tp, -1, 0, messages, 0, registration.leader_epoch, 0.0)
                if registration.leader == NO_LEADER:
                    continue  # an offline partition's data is on its replicas, unread
                leader = self.brokers[registration.leader].leaders[tp]
                for replica in registration.replicas:
                    if replica != registration.leader:
                        leader.follower_leo[replica] = messages
                leader.high_watermark = messages

    def add_host(
        self,
        name: str,
        rack: str | None,
        egress: float,
        ingress: float,
        *,
        client: bool = False,
        nic: bool = False,
    ) -> None:
        """A host of the network; a ``nic`` (not a disk or the page cache) carries payload
        at its line rate times the framing's goodput (see :mod:`simkafka.sim.framing`)."""
        if nic:
            egress, ingress = egress * self.goodput, ingress * self.goodput
            self._framed.add(name)
        self.network.add_host(name, rack, egress, ingress, client=client)
        self._egress[name], self._ingress[name] = egress, ingress
        self.small_bytes_sent[name] = self.small_bytes_received[name] = 0
        self.small_busy_out[name] = self.small_busy_in[name] = 0.0
        self._rack[name] = rack

    def set_host_capacity(self, name: str, egress: float, ingress: float) -> None:
        """Change a host's capacities now (bytes/s of payload, as the network holds them:
        a degraded or restored NIC or disk); its flows re-share at once and small
        transfers through it take the new capacities from now on."""
        self.network.set_capacity(name, egress, ingress)
        self._egress[name], self._ingress[name] = egress, ingress
        for path in [p for p in self._path if name in p]:
            del self._path[path]

    def transfer(self, src: str, dst: str, nbytes: int) -> simpy.Event:
        """Send ``nbytes`` from ``src`` to ``dst``; the event fires when the last byte arrived.

        Small transfers take the latency plus their serialisation time at the slower NIC
        without entering max-min sharing; their bytes and busy time are still counted
        (utilisation, cross-rack traffic), so the probes see all the traffic.
        """
        if nbytes > SMALL_TRANSFER:
            return self.network.transfer(src, dst, nbytes)
        return self.env.timeout(self._small_transfer_delay(src, dst, nbytes))

    def request(
        self,
        src: str,
        broker: Broker,
        nbytes: int,
        cpu_bytes: int = 0,
        after: float = 0.0,
        appends: Sequence[tuple[TopicPartition, float]] = (),
        muted: simpy.Event | None = None,
    ) -> Generator[simpy.Event, Any, float]:
        """Send a request to ``broker`` (``after`` seconds from now: the sender is still
        busy) and have one of its handler threads process it, appending ``appends``
        (see :meth:`produce_appends`) under their partitions' locks. A request on a
        connection still ``muted`` (the previous one's response not sent) waits in the
        socket until it is unmuted. Returns when the broker took it off the socket."""
        env = self.env
        waiting = muted is not None and not muted.processed
        if nbytes > SMALL_TRANSFER:
            if after > 0:
                yield env.timeout(after)
            yield self.network.transfer(src, broker.host, nbytes)
            if waiting and not muted.processed:
                yield muted
            read = env.now
        else:
            arrival = env.now + after + self._small_transfer_delay(src, broker.host, nbytes)
            if waiting:
                yield muted
            read = max(arrival, env.now)
        yield broker.handle_at(read, cpu_bytes, appends)
        return read

    def request_then(
        self,
        src: str,
        broker: Broker,
        nbytes: int,
        then: Callable[[simpy.Event], object],
        after: float = 0.0,
    ) -> None:
        """:meth:`request` (no CPU bytes, appends or muting) for a callback state machine:
        ``then`` is called back on the event after which :meth:`request` returns -- the
        same events, created in the same order."""
        env = self.env
        if nbytes <= SMALL_TRANSFER:
            arrival = env.now + after + self._small_transfer_delay(src, broker.host, nbytes)
            broker.handle_at(max(arrival, env.now), 0).callbacks.append(then)
            return

        def handle(_arrived: simpy.Event) -> None:
            broker.handle_at(env.now, 0).callbacks.append(then)

        def send(_waited: simpy.Event | None = None) -> None:
            self.network.transfer(src, broker.host, nbytes).callbacks.append(handle)

        if after > 0:
            env.timeout(after).callbacks.append(send)
        else:
            send()

    def produce_appends(
        self, broker: Broker, topic: str, producer_codec: str, batches: Sequence[ProducerBatch]
    ) -> list[tuple[TopicPartition, float]]:
        """The leader appends of a ProduceRequest's batches: (partition, seconds under its
        lock) for each batch of a partition ``broker`` leads (see ``log_append``)."""
        cost = self._leader_append_cost.get((topic, producer_codec))
        if cost is None:
            costs = self.scenario.costs
            cost = leader_append_cost(
                costs.broker, costs.codecs, producer_codec, self.topics[topic].compression_type
            )
            self._leader_append_cost[(topic, producer_codec)] = cost
        appends = []
        tps = self._tps[topic]
        for batch in batches:
            tp = tps[batch.partition]
            if tp in broker.leaders:
                seconds = cost.of(1, batch.messages, batch.wire_bytes, batch.record_bytes)
                seconds += self._flush(broker, tp, batch.messages, batch.wire_bytes)
                appends.append((tp, seconds))
                batches, records = self._append_shape.get(tp, (0, 0))
                self._append_shape[tp] = (batches + 1, records + batch.messages)
        return appends

    def follower_appends(
        self, follower: Broker, reads: Sequence[tuple[TopicPartition, LogRead]]
    ) -> list[tuple[TopicPartition, float]]:
        """A replica fetcher's appends of a fetch response: (partition, seconds under the
        follower log's lock). A read holds the producers' batches as they were appended;
        their count is the read's messages over the partition's mean records per batch."""
        appends = []
        for tp, read in reads:
            if read.messages:
                batches, records = self._append_shape.get(tp, (1, 1))
                count = max(1.0, read.messages * batches / max(records, 1))
                seconds = self._follower_append_cost.of(count, 0, read.bytes, 0)
                seconds += self._flush(follower, tp, read.messages, read.bytes, count)
                appends.append((tp, seconds))
        return appends

    def _flush(
        self, broker: Broker, tp: TopicPartition, messages: int, nbytes: int, batches: float = 1
    ) -> float:
        """The fsync time of an append to ``broker``'s replica of ``tp`` (flush.messages,
        flush.ms); a follower's read of several batches is appended batch by batch, so
        with flush.messages below a batch's records each of its batches flushes."""
        topic = self.topics[tp.topic]
        if topic.flush_messages >= LONG_MAX and topic.flush_ms >= LONG_MAX / 1000:
            return 0.0
        whole = max(1, round(batches))
        seconds = 0.0
        for i in range(whole):
            share = (i + 1) * messages // whole - i * messages // whole
            seconds += broker.flush_on_append(
                tp, share, nbytes * share // max(messages, 1), topic.flush_messages, topic.flush_ms
            )
        return seconds

    def _small_transfer_delay(self, src: str, dst: str, nbytes: int) -> float:
        path = self._path.get((src, dst))
        if path is None:
            capacity = min(self._egress[src], self._ingress[dst]) or 1.0
            rack_a, rack_b = self._rack[src], self._rack[dst]
            cross = rack_a is not None and rack_b is not None and rack_a != rack_b
            framed = src in self._framed or dst in self._framed
            path = self._path[(src, dst)] = (self.network.latency(src, dst), capacity, cross, framed)
        latency, capacity, cross, framed = path
        self.small_bytes_sent[src] += nbytes
        self.small_bytes_received[dst] += nbytes
        # a small transfer pays its packets whole: its line time, in payload-capacity terms
        line = line_bytes(nbytes, self.mtu) * self.goodput if framed else nbytes
        self.small_busy_out[src] += line / self._egress[src]
        self.small_busy_in[dst] += line / self._ingress[dst]
        if cross:
            self.small_cross_rack_bytes += nbytes
        return latency + line / capacity

    # -- metadata -------------------------------------------------------------------------

    def topic_partitions(self, topic: str) -> list[TopicPartition]:
        """The partitions of ``topic`` by index (the objects the brokers' dicts hold)."""
        return self._tps[topic]

    def leader_of(self, tp: TopicPartition) -> int:
        return self._leader.get(tp, NO_LEADER)

    def led_by(self, tps: Iterable[TopicPartition], broker_id: int) -> list[TopicPartition]:
        """Those of ``tps`` that ``broker_id`` leads, in their order (a fetcher's or a
        consumer's partitions on one broker: a hot path, one look-up each)."""
        leader = self._leader.get
        return [tp for tp in tps if leader(tp, NO_LEADER) == broker_id]

    def leader_epoch_of(self, tp: TopicPartition) -> int:
        """The leader epoch the controller last registered for ``tp``."""
        return self.partitions[tp].leader_epoch

    def partitions_by_leader(self, topic: str) -> dict[int, tuple[list[int], np.ndarray]]:
        """Partitions of ``topic`` per leader broker, as the producer's metadata shows: each
        as a list (to drain) and as an index array (to test readiness on the hot path)."""
        cached = self._by_leader_cache.get(topic)
        if cached is None:
            by_leader: dict[int, list[int]] = {}
            for p in range(self.topics[topic].partitions):
                leader = self._leader.get(self._tps[topic][p], NO_LEADER)
                if leader != NO_LEADER:
                    by_leader.setdefault(leader, []).append(p)
            cached = {
                node: (by_leader[node], np.asarray(by_leader[node], dtype=np.intp))
                for node in sorted(by_leader)
            }
            self._by_leader_cache[topic] = cached
        return cached

    def topic_metadata(self, topic: str) -> TopicMetadata:
        """What the producer's metadata says: partitions with a leader, in partition order."""
        cached = self._metadata_cache.get(topic)
        if cached is None:
            leaders = [
                self._leader.get(tp, NO_LEADER) for tp in self._tps[topic]
            ]
            cached = TopicMetadata.from_leaders(
                [None if leader == NO_LEADER else leader for leader in leaders]
            )
            self._metadata_cache[topic] = cached
        return cached

    def invalidate_metadata(self) -> None:
        """Forget the cached leader maps; call on every leadership change."""
        self._by_leader_cache.clear()
        self._metadata_cache.clear()

    def leader_state(self, tp: TopicPartition) -> PartitionLeader | None:
        leader = self._leader.get(tp, NO_LEADER)
        return None if leader == NO_LEADER else self.brokers[leader].leaders.get(tp)

    def leader_log(self, tp: TopicPartition) -> ReplicaLog:
        """The leader's log, or the preferred replica's when the partition is offline."""
        state = self.leader_state(tp)
        if state is not None:
            return state.log
        return self.brokers[self.partitions[tp].replicas[0]].logs[tp]

    def high_watermark(self, tp: TopicPartition) -> int:
        state = self.leader_state(tp)
        return 0 if state is None else state.high_watermark

    def bytes_per_message(self, tp: TopicPartition) -> float:
        return self._bytes_per_message.get(tp.topic, 0.0)

    def group_coordinator(self, group_id: str) -> int:
        """Leader of ``__consumer_offsets`` partition ``abs(groupId.hashCode()) % 50``; the
        offsets topic's partitions are spread over brokers round-robin here."""
        h = java_string_hash(group_id)
        partition = (0 if h == -(1 << 31) else abs(h)) % OFFSETS_TOPIC_PARTITIONS
        # the offsets topic's partitions failed over to the brokers that are up (a crash
        # moves a group's coordinator at once here; Kafka's moves with the election of
        # its __consumer_offsets partition, after the session timeout)
        ids = sorted(b for b, broker in self.brokers.items() if broker.alive)
        if not ids:
            ids = sorted(self.brokers)
        return ids[partition % len(ids)]

    def new_member(self, group: ConsumerGroupSpec) -> ConsumerMember:
        """A member process of ``group`` on a host of its own (at the start, or a
        ``consumer_join`` mid-run); it has no group client yet."""
        members = self.groups[group.group_id]
        member = ConsumerMember(
            self, group, len(members), self.scenario.run.warmup, self.scenario.costs, self._compression
        )
        cluster = self.scenario.cluster
        self.add_host(
            member.host, cluster.clients.rack, cluster.clients.nic, cluster.clients.nic,
            client=True, nic=True,
        )
        members.append(member)
        return member

    def commit_error(self, group_id: str, member_id: str, generation: int) -> str:
        """Whether the group's coordinator accepts an offset commit from this member now."""
        return commit_error(self.group_driver, group_id, member_id, generation)

    def note(self, event: str, detail: str) -> None:
        self.control.note(event, -1, None, detail)

    def group_lag(self, group_id: str) -> int:
        """Records below the high watermark the group has not processed, over every
        partition it reads -- owned or between owners."""
        position = self.group_driver.position
        return sum(
            max(0, self.high_watermark(tp) - position.get((group_id, tp), 0))
            for tp in self.group_partitions(group_id)
        )

    def group_partitions(self, group_id: str) -> list[TopicPartition]:
        spec = self.group_specs[group_id]
        return [tp for t in spec.topics for tp in self._tps[t]]

    def committed_offset(self, group_id: str, tp: TopicPartition) -> int | None:
        return self._committed.get((group_id, tp))

    def commit(self, group_id: str, tp: TopicPartition, offset: int) -> None:
        self._committed[(group_id, tp)] = offset

    # -- the control plane's side ---------------------------------------------------------

    def alter_isr(self, tp: TopicPartition, new_isr: list[int], reason: str, leader: int = -1) -> None:
        """The leader of ``tp`` asks the controller to change its ISR (``AlterPartition``);
        from a broker that cannot reach the controller it never arrives."""
        if leader >= 0 and not self.reaches_controller(leader):
            return
        if leader >= 0 and leader != self.partitions[tp].leader:
            return  # a stale leader's request: FENCED_LEADER_EPOCH
        self.control.alter_isr(tp, new_isr, reason)

    def apply_partition_change(
        self, tp: TopicPartition, registration: PartitionRegistration, reason: str
    ) -> None:
        """The brokers apply the controller's new registration of ``tp``."""
        self.replica_manager.apply(tp, registration, reason)

    def set_leader(self, tp: TopicPartition, leader: int) -> None:
        self._leader[tp] = leader
        self.invalidate_metadata()
        self.fault_player.leader_changed(tp)

    def leaders_changed(self) -> None:
        """Consumers move their fetch sessions to the new leaders."""
        for members in self.groups.values():
            for member in members:
                member.leaders_changed()

    def broker_unfenced(self, broker_id: int) -> None:
        self.fault_player.broker_unfenced(broker_id)

    def stop_broker(self, broker_id: int, *, clean: bool) -> None:
        self.fault_player.stop(broker_id, clean=clean)

    def reaches_controller(self, broker_id: int) -> bool:
        return self.fault_player.reaches_controller(broker_id)

    def unthrottled(self, follower: int, tps: list[TopicPartition]) -> list[TopicPartition]:
        """The partitions a follower's fetch may ask for: its follower quota, when exceeded,
        leaves the throttled ones out (``ReplicaFetcherThread.buildFetch``)."""
        quota = self.follower_quota.get(follower)
        if quota is None or not quota.exceeded(self.env.now):
            return tps
        return [tp for tp in tps if not self.topics[tp.topic].throttles("follower", tp.partition, follower)]

    def record_follower_bytes(self, follower: int, reads: Sequence[tuple[TopicPartition, LogRead]]) -> None:
        quota = self.follower_quota.get(follower)
        if quota is None:
            return
        throttled = sum(
            r.bytes for tp, r in reads if self.topics[tp.topic].throttles("follower", tp.partition, follower)
        )
        if throttled:
            quota.record(throttled, self.env.now)

    def follows(self, broker_id: int) -> bool:
        """The broker runs, is unfenced and recovered: its replicas fetch."""
        return self.fault_player.follows(broker_id)

    def reachable(self, a: str, b: str) -> bool:
        """No network partition between hosts ``a`` and ``b``."""
        return self.fault_player.reachable(a, b)

    @property
    def all_brokers_reachable(self) -> bool:
        """Every broker runs and no network partition is in force (the common case: the
        clients' per-request checks are skipped)."""
        return self.fault_player.all_brokers_reachable

    def hosts_in_rack(self, rack: str) -> list[str]:
        """Every host of ``rack``: its brokers' NICs and the clients placed in it."""
        return sorted(h for h, r in self._rack.items() if r == rack)

    def network_changed(self) -> None:
        """A network partition began or healed: fetches and requests re-check who they
        reach, and a broker back in touch with the controller applies what it missed."""
        self.invalidate_metadata()
        self.replica_manager.network_changed()

    def log_recovery_seconds(self, broker_id: int, *, clean: bool) -> float:
        """How long the broker's restart spends recovering its logs after a crash: every
        log's active segment is re-read and re-validated (``LogLoader.recoverLog``), at
        ``broker.recovery_byte_cpu`` per byte or the log dir's read bandwidth, by
        ``num.recovery.threads.per.data.dir`` threads per dir (:mod:`simkafka.sim.recovery`).
        Nothing after a clean shutdown."""
        broker = self.brokers[broker_id]
        by_dir: list[list[float]] = [[] for _ in broker.disk_hosts]
        for tp in sorted(broker.logs):
            segment = float(self.topics[tp.topic].segment_bytes)
            by_dir[broker.dir_of.get(tp, 0)].append(unflushed_bytes(broker.logs[tp].end_position, segment))
        return recovery_seconds(
            by_dir,
            self.scenario.costs.broker.recovery_byte_cpu,
            [read for _, read in broker.dir_bandwidth],
            self.scenario.cluster.config.num_recovery_threads_per_data_dir,
            clean_shutdown=clean,
        )

    # -- replication set-up ---------------------------------------------------------------

    def _start_replication(self) -> None:
        config = self.scenario.cluster.config
        self.fetchers: dict[tuple[int, int, int], ReplicaFetcher] = {}
        offline = set(self.scenario.cluster.offline_brokers)
        for tp, registration in self.partitions.items():
            leader = registration.leader
            if leader == NO_LEADER:
                continue  # an offline partition: no leader to fetch from
            for follower in registration.replicas:
                # a broker that is down runs no fetcher, so it never rejoins the ISR
                if follower == leader or follower in offline:
                    continue
                key = (follower, leader, fetcher_id(tp, config.num_replica_fetchers))
                fetcher = self.fetchers.get(key)
                if fetcher is None:
                    fetcher = ReplicaFetcher(
                        self, config, self.brokers[follower], self.brokers[leader], key[2]
                    )
                    self.fetchers[key] = fetcher
                fetcher.partitions.append(tp)
        for broker_id in sorted(self.brokers):
            self.env.process(
                isr_checker(
                    self.env, self, self.brokers[broker_id], config.replica_lag_time_max
                )
            )

    # -- request handling -----------------------------------------------------------------

    def handle_produce(
        self,
        broker: Broker,
        topic: str,
        batches: list[ProducerBatch],
        acks: str,
        timeout: float,
        *,
        handled: bool = True,
        appends: Sequence[tuple[TopicPartition, float]] = (),
        producer_id: int = -1,
        idempotent: bool = False,
        waits_for_earlier: Callable[[int, int], bool] | None = None,
    ) -> Generator[simpy.Event, Any, list[str]]:
        """``ReplicaManager.appendRecords`` + ``DelayedProduce``: one error code per batch.
        ``appends`` are the batches' lock times when the request is not ``handled`` yet.

        Each append is written to the delivery history as ``producer_id``'s; an
        ``idempotent`` producer's retried batch that the log already holds is not
        appended again (the leader's producer state recognises its sequence) and is
        answered with the offset it has; one whose sequence is past the next the log
        expects while the producer still waits on an earlier batch (``waits_for_earlier``)
        is refused with ``OUT_OF_ORDER_SEQUENCE_NUMBER`` and retried after it -- the
        order idempotence keeps. A broker that died answers nothing: the client
        sees its connection close (``NETWORK_EXCEPTION``)."""
        env = self.env
        if not handled:  # the caller sent it with world.request() otherwise
            yield from broker.handle(sum(b.wire_bytes for b in batches), appends)
        if broker.dirty_bytes > broker.dirty_limit:
            yield from broker.wait_for_dirty_room()
        if not broker.alive:
            return [DISCONNECTED] * len(batches)
        errors: list[str] = []
        delayed: DelayedProduce | None = None
        history = self.history
        tps = self._tps[topic]
        for batch in batches:
            tp = tps[batch.partition]
            leader = broker.leaders.get(tp)
            if leader is None:
                errors.append(NOT_LEADER)
                continue
            if acks == "all" and len(leader.isr) < leader.min_insync_replicas:
                errors.append("NOT_ENOUGH_REPLICAS")
                continue
            if (
                idempotent
                and waits_for_earlier is not None
                and batch.first_seq > history.next_sequence(tp, producer_id)
                and waits_for_earlier(batch.partition, batch.first_seq)
            ):
                errors.append("OUT_OF_ORDER_SEQUENCE_NUMBER")
                continue
            known = (
                history.find_appended(tp, producer_id, batch.first_seq)
                if idempotent and batch.attempts and batch.first_seq >= 0
                else None
            )
            if known is not None:  # DUPLICATE_SEQUENCE_NUMBER: success, with its offset
                batch.base_offset = known
                end = known + batch.messages
            else:
                end = broker.append(
                    tp, batch.messages, batch.wire_bytes, batch.first_append, batch.last_append
                )
                batch.base_offset = end - batch.messages
                # a stale leader's appends are not the partition's log (they are lost)
                if batch.first_seq >= 0 and self.partitions[tp].leader == broker.id:
                    history.appended(
                        tp, producer_id, batch.first_seq, batch.messages, batch.base_offset,
                        leader.leader_epoch, env.now,
                    )
            errors.append("NONE")
            leader.maybe_advance_high_watermark()  # moves only when the ISR is the leader alone
            if acks == "all":
                if delayed is None:
                    delayed = DelayedProduce(env)
                leader.wait_for_high_watermark(end, delayed, len(errors) - 1)
        if delayed is not None:
            if delayed.pending:
                # the purgatory completes it at request.timeout.ms unless every batch
                # was settled first
                yield broker.produce_purgatory.watch(delayed.wait(), env.now + timeout)
            for index, outcome in delayed.outcomes.items():
                if outcome is None:
                    errors[index] = "REQUEST_TIMED_OUT"
                elif outcome is not True:
                    errors[index] = outcome  # the error it failed with
        return errors

    def replica_fetch(
        self,
        leader_broker: Broker,
        follower: int,
        offsets: dict[TopicPartition, int],
        then: Callable[[list[tuple[TopicPartition, LogRead]]], None],
    ) -> None:
        """The leader's side of a follower fetch (``Partition.fetchRecords`` for replicas):
        the fetch offset is the follower's log end offset, which may move the ISR and the
        high watermark; data is read up to the log end. ``then(reads)`` runs when the
        answer leaves (a :class:`~simkafka.sim.broker.DelayedFetch`)."""
        env = self.env
        config = self.scenario.cluster.config
        max_partition = int(config.replica_fetch_max_bytes)
        response_max = int(config.replica_fetch_response_max_bytes)
        quota = self.leader_quota.get(leader_broker.id)
        leaders = leader_broker.leaders
        follower_hw = self.replica_manager.follower_hw

        def collect() -> list[tuple[TopicPartition, LogRead]]:
            reads = []
            budget = response_max
            now = env.now
            over_quota = quota is not None and quota.exceeded(now)
            for tp, offset in offsets.items():
                leader = leaders.get(tp)
                if leader is None:
                    continue
                leader.update_follower(follower, offset, now)
                if follower not in leader.isr and offset >= leader.high_watermark:
                    self.alter_isr(tp, [*leader.isr, follower], reason="expand", leader=leader_broker.id)
                leader.maybe_advance_high_watermark()
                # the response tells the follower the high watermark (its own, capped)
                follower_hw[(follower, tp)] = leader.high_watermark
                if budget <= 0:
                    continue
                throttled = quota is not None and self.topics[tp.topic].throttles(
                    "leader", tp.partition, follower
                )
                if throttled and over_quota:
                    continue  # ReplicaManager.readFromLocalLog: quota exceeded, no data
                read = leader.log.read(offset, min(max_partition, budget))
                budget -= read.bytes
                reads.append((tp, read))
                if throttled:
                    quota.record(read.bytes, env.now)
            return reads

        DelayedFetch(
            leader_broker,
            offsets,
            collect,
            config.replica_fetch_min_bytes,
            env.now + config.replica_fetch_wait_max,
            "data_waiters",
            then,
        )

    def consumer_fetch(
        self,
        broker: Broker,
        group: ConsumerGroupSpec,
        offsets: dict[TopicPartition, int],
        then: Callable[[list[tuple[TopicPartition, LogRead]]], None],
    ) -> None:
        """A consumer fetch: data below the high watermark, long-polling for
        ``fetch.min.bytes``; ``then(reads)`` runs when the answer leaves."""
        max_partition = int(group.max_partition_fetch_bytes)
        fetch_max = int(group.fetch_max_bytes)
        leaders = broker.leaders

        def collect() -> list[tuple[TopicPartition, LogRead]]:
            reads = []
            budget = fetch_max
            for tp, offset in offsets.items():
                leader = leaders.get(tp)
                if leader is None or budget <= 0:
                    continue
                read = leader.log.read(
                    offset, min(max_partition, budget), upto=leader.high_watermark
                )
                budget -= read.bytes
                reads.append((tp, read))
            return reads

        DelayedFetch(
            broker,
            offsets,
            collect,
            max(group.fetch_min_bytes, 1),
            self.env.now + group.fetch_max_wait,
            "hw_waiters",
            then,
        )

    def __repr__(self) -> str:
        return (
            f"<World t={self.env.now:.3f}s: {len(self.brokers)} brokers, {len(self.partitions)} partitions, "
            f"{len(self.producers)} producers, {sum(len(m) for m in self.groups.values())} consumers>"
        )
