"""Follower replication: replica fetcher threads and the leader's ISR bookkeeping.

Each follower broker runs ``num.replica.fetchers`` fetcher threads *per source broker*
(``ReplicaFetcherManager``); a partition goes to fetcher ``hash(topic, partition) %
num.replica.fetchers`` (Kafka's ``AbstractFetcherManager.getFetcherId`` uses
``Utils.abs(31 * topic.hashCode() + partition) % numFetchers``, reproduced here). A
fetch carries every partition of that thread, long-polls for up to
``replica.fetch.wait.max.ms`` when there is nothing new, and returns up to
``replica.fetch.max.bytes`` per partition and ``replica.fetch.response.max.bytes`` in
all. The leader learns a follower's log end offset from the *next* fetch's offset,
which is why ``acks=all`` costs one more replication round trip than ``acks=1``.

ISR: the leader's ``maybeShrinkIsr`` runs every ``replica.lag.time.max.ms / 2`` and drops
followers that have not caught up for ``replica.lag.time.max.ms``; a follower whose log
end reaches the high watermark is added back (``maybeExpandIsr``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import simpy

from simkafka.model.types import TopicPartition
from simkafka.sim.tasks import start_soon

if TYPE_CHECKING:
    from simkafka.scenario import BrokerConfig
    from simkafka.sim.broker import Broker
    from simkafka.sim.replica_log import LogRead

FETCH_REQUEST_OVERHEAD = 120
FETCH_PARTITION_BYTES = 28
FETCH_RESPONSE_PARTITION_BYTES = 40


def java_string_hash(text: str) -> int:
    """``String.hashCode`` as a signed 32-bit int."""
    h = 0
    units = text.encode("utf-16-be")  # Java hashes UTF-16 code units
    for i in range(0, len(units), 2):
        h = (31 * h + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def fetcher_id(tp: TopicPartition, num_fetchers: int) -> int:
    """``AbstractFetcherManager.getFetcherId``: ``Utils.abs(31 * topic.hashCode() + partition) % n``."""
    value = (31 * java_string_hash(tp.topic) + tp.partition) & 0xFFFFFFFF
    value = value - (1 << 32) if value >= 1 << 31 else value
    # Utils.abs maps Integer.MIN_VALUE to 0
    value = 0 if value == -(1 << 31) else abs(value)
    return value % num_fetchers


class FetcherCluster(Protocol):
    """What a replica fetcher uses of the cluster it runs in (``World`` provides it):
    who leads a partition, the network, and the leader's side of a fetch."""

    env: simpy.Environment

    def leader_of(self, tp: TopicPartition) -> int: ...

    def led_by(self, tps: Iterable[TopicPartition], broker_id: int) -> list[TopicPartition]: ...

    def leader_epoch_of(self, tp: TopicPartition) -> int: ...

    def follows(self, broker_id: int) -> bool: ...

    def unthrottled(self, follower: int, tps: list[TopicPartition]) -> list[TopicPartition]: ...

    def record_follower_bytes(self, follower: int, reads: Sequence[tuple[TopicPartition, LogRead]]) -> None: ...

    def reachable(self, a: str, b: str) -> bool: ...

    def request_then(
        self, src: str, broker: Broker, nbytes: int, then: Callable[[simpy.Event], object], after: float = 0.0
    ) -> None: ...

    def transfer(self, src: str, dst: str, nbytes: int) -> simpy.Event: ...

    def follower_appends(
        self, follower: Broker, reads: Sequence[tuple[TopicPartition, LogRead]]
    ) -> list[tuple[TopicPartition, float]]: ...

    def replica_fetch(
        self,
        leader_broker: Broker,
        follower: int,
        offsets: dict[TopicPartition, int],
        then: Callable[[list[tuple[TopicPartition, LogRead]]], None],
    ) -> None: ...


class IsrController(Protocol):
    """The leader's ``AlterPartition`` as the ISR checker uses it (``World.alter_isr`` sends
    it to the controller)."""

    def alter_isr(self, tp: TopicPartition, new_isr: list[int], reason: str, leader: int = -1) -> None: ...


class ReplicaFetcher:
    """One ``ReplicaFetcherThread``: ``follower`` fetching from ``leader``."""

    def __init__(
        self,
        cluster: FetcherCluster,
        config: BrokerConfig,
        follower: Broker,
        leader: Broker,
        index: int,
    ) -> None:
        self.cluster = cluster
        self.config = config
        self.env = cluster.env
        self.follower = follower
        self.leader = leader
        self.index = index
        self.partitions: list[TopicPartition] = []
        self.fetches = 0
        # partitions' data dropped because their fetch state changed while the fetch was
        # out (the follower became leader, or follows a new leader epoch)
        self.stale_reads_dropped = 0
        self._epochs: dict[TopicPartition, int] = {}
        self._reads: list[tuple[TopicPartition, LogRead]] = []
        self._busy = 0.0  # the thread still appends the last response for this long
        start_soon(self.env, self._fetch)

    # The fetcher thread's loop as a callback state machine: each step is called back on
    # the event the step before waits for (see :mod:`simkafka.sim.tasks`).

    def _fetch(self, _event: simpy.Event | None = None) -> None:
        """Send the next fetch, or wait ``replica.fetch.wait.max.ms`` and look again."""
        cluster = self.cluster
        tps = cluster.led_by(self.partitions, self.leader.id)
        tps = cluster.unthrottled(self.follower.id, tps)
        if (
            not tps
            or not self.follower.alive
            or not self.leader.alive
            or not cluster.follows(self.follower.id)  # restarted, not yet unfenced
            or not cluster.reachable(self.follower.host, self.leader.host)
        ):
            self.env.timeout(self.config.replica_fetch_wait_max).callbacks.append(self._fetch)
            return
        self._tps = tps
        request_bytes = FETCH_REQUEST_OVERHEAD + FETCH_PARTITION_BYTES * len(tps)
        # the fetcher thread appended the last response before it sends this fetch
        cluster.request_then(self.follower.host, self.leader, request_bytes, self._sent, after=self._busy)

    def _sent(self, _handled: simpy.Event) -> None:
        self._busy = 0.0
        if not self.leader.alive:
            self._fetch()
            return
        cluster, tps = self.cluster, self._tps
        logs = self.follower.logs
        offsets = {tp: logs[tp].log_end_offset for tp in tps}
        # the fetch state each partition is fetched under (its leader epoch): a
        # response for a partition whose state changed meanwhile is not applied
        self._epochs = {tp: cluster.leader_epoch_of(tp) for tp in tps}
        cluster.replica_fetch(self.leader, self.follower.id, offsets, self._answered)

    def _answered(self, reads: list[tuple[TopicPartition, LogRead]]) -> None:
        self.fetches += 1
        nbytes = FETCH_REQUEST_OVERHEAD
        for _, read in reads:
            nbytes += read.bytes + FETCH_RESPONSE_PARTITION_BYTES
        self._reads = reads
        self.cluster.transfer(self.leader.host, self.follower.host, nbytes).callbacks.append(self._arrived)

    def _arrived(self, _event: simpy.Event) -> None:
        follower = self.follower
        if not follower.alive:
            self._fetch()
            return
        self.cluster.record_follower_bytes(follower.id, self._reads)
        if follower.dirty_bytes > follower.dirty_limit:
            follower.when_dirty_room(self._append)
        else:
            self._append()

    def _append(self) -> None:
        cluster, env = self.cluster, self.env
        follower, reads, epochs = self.follower, self._reads, self._epochs
        data = 0
        for _, read in reads:
            data += read.bytes
        # ReplicaFetcherThread appends on its own thread, not a request handler's,
        # each partition under its log's lock (shared with nothing else on a follower
        # unless it also leads: then with the handler threads' appends)
        work = follower.request_cpu + data * follower.byte_cpu
        follower.cpu_busy += work
        appends = cluster.follower_appends(follower, reads)
        done = follower.lock_through(env.now + work, appends)
        self._busy = done - env.now
        leader_id = self.leader.id
        for tp, read in reads:
            log = follower.logs[tp]
            # AbstractFetcherThread.processFetchRequest applies a partition's data only
            # while its fetch state is the one the request was sent under: a follower
            # that became leader meanwhile (controlled shutdown moves leadership while
            # the old leader still answers) or follows a new epoch had the partition
            # removed from this thread (removeFetcherForPartitions), so the response
            # is dropped. Appending it would add the old leader's unreplicated tail to
            # the new leader's log above the end it was elected with -- records its
            # producers, told NOT_LEADER, send again. And only if nothing moved the
            # follower's log meanwhile.
            messages = read.end_offset - read.start_offset
            if not messages:
                continue
            current = (
                cluster.leader_of(tp) == leader_id
                and cluster.leader_epoch_of(tp) == epochs[tp]
            )
            if not current:
                self.stale_reads_dropped += 1
            elif log.log_end_offset == read.start_offset:
                follower.append(
                    tp, messages, read.bytes, read.first_created, read.last_created
                )
                # PartitionStates.updateAndMoveToEnd: a partition that got data goes
                # to the back of the next request, so replica.fetch.response.max.bytes
                # is shared round-robin and no partition starves during catch-up
                self.partitions.remove(tp)
                self.partitions.append(tp)
        self._fetch()


def isr_checker(
    env: simpy.Environment, controller: IsrController, broker: Broker, lag_max: float
) -> Generator[simpy.Event, Any, None]:
    """``ReplicaManager.maybeShrinkIsr`` every ``replica.lag.time.max.ms / 2``
    (``lag_max`` is ``replica.lag.time.max.ms`` in seconds)."""
    while True:
        yield env.timeout(lag_max / 2)
        if not broker.alive:
            continue
        for tp, leader in list(broker.leaders.items()):
            out = [
                r
                for r in leader.isr
                if r != broker.id and env.now - leader.last_caught_up.get(r, 0.0) > lag_max
            ]
            if out:
                controller.alter_isr(
                    tp, [r for r in leader.isr if r not in out], reason="shrink", leader=broker.id
                )
