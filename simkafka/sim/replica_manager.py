"""What the brokers do with the controller's decisions: Kafka's ``ReplicaManager.applyDelta``.

When a partition's registration changes, its new leader takes over and every other
replica follows it:

* **the new leader** starts from its own log (``Partition.makeLeader``). Its high
  watermark is the old leader's, capped at its own log end offset -- a follower learns
  the high watermark in every fetch response, so it is at most one fetch behind; the
  followers' log end offsets are unknown until they fetch, and the in-sync ones count
  as caught up from now (``Replica.resetReplicaState``). Requests waiting at the old
  leader fail with ``NOT_LEADER_OR_FOLLOWER``. The records the old leader had and this
  one does not are gone from the partition's log: the delivery history is truncated to
  the new leader's log end.
* **followers truncate by leader epoch** (KIP-101, KIP-279): a follower asks the leader
  for the end offset of the latest epoch it has (``OffsetsForLeaderEpoch``) and truncates
  to the smaller of that and its own log end, then fetches from there. The end offset of
  epoch ``e`` is the start offset of the first later epoch (:meth:`epoch_end_offset`).
  A restarted broker does this when it is unfenced.
* **a broker cut off from the controller** (a network partition) applies none of its
  decisions until it reaches it again: where it led, it goes on leading in its own view
  -- a "zombie" leader that takes ``acks=1`` writes from the clients whose metadata
  still names it, which are lost when it comes back and truncates; ``acks=all`` writes
  there wait for followers that no longer fetch from it, and time out.
* **a crashed broker** answers nothing: its connections close (producers see a
  disconnect, ``NETWORK_EXCEPTION``), requests waiting at it fail, and it leads nothing
  from then on for the clients -- though the controller still names it leader until it
  fences it, so its partitions have no leader anyone can reach until then. The page
  cache survives a process crash, so its log keeps everything it had appended.
* **a restarted broker** registers, recovers its logs (``log_recovery_seconds``: nothing
  after a clean shutdown), asks to be unfenced, and then follows every partition it
  holds a replica of; its leaders let it back into the ISR once it has caught up.

Every registration the brokers apply is also written to :attr:`ReplicaManager.history`
-- the starting one of each partition at the run's start, then each change when the
brokers apply it (the controller's commit plus the metadata propagation) -- which
becomes ``RunResult.partition_history``: who led each partition, and its ISR, at any
simulated time.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

from simkafka.model.election import NO_LEADER, PartitionRegistration
from simkafka.model.types import TopicPartition
from simkafka.sim.replication import ReplicaFetcher, fetcher_id

if TYPE_CHECKING:
    from simkafka.sim.fault_cluster import FaultCluster

NOT_LEADER = "NOT_LEADER_OR_FOLLOWER"
DISCONNECTED = "NETWORK_EXCEPTION"


class ReplicaManager:
    """Leaders, followers and leader epochs of one events-engine run."""

    def __init__(self, world: FaultCluster) -> None:
        self.world = world
        # per partition: (leader epoch, start offset) of every epoch, in order
        self._epochs: dict[TopicPartition, tuple[list[int], list[int]]] = {}
        # the latest epoch each replica's log has (broker, partition) -> epoch
        self.replica_epoch: dict[tuple[int, TopicPartition], int] = {}
        # the high watermark a partition had when its leader went away
        self._last_hw: dict[TopicPartition, int] = {}
        # the high watermark each follower last heard of in a fetch response
        self.follower_hw: dict[tuple[int, TopicPartition], int] = {}
        # partitions whose changes a broker cut off from the controller has not applied
        self._unheard: dict[int, set[TopicPartition]] = {}
        # every registration the brokers applied, in order (PARTITION_HISTORY_COLUMNS)
        self.history: list[tuple[object, ...]] = []
        for tp, registration in world.partitions.items():
            self._record(tp, registration, "initial")
            self._epochs[tp] = ([registration.leader_epoch], [0])
            start_hw = world.high_watermark(tp)  # a prefill is committed on every replica
            for replica in registration.replicas:
                self.replica_epoch[(replica, tp)] = registration.leader_epoch
                self.follower_hw[(replica, tp)] = start_hw

    def _record(self, tp: TopicPartition, registration: PartitionRegistration, reason: str) -> None:
        self.history.append(
            (
                self.world.env.now,
                tp.topic,
                tp.partition,
                registration.leader,
                registration.isr,
                registration.leader_epoch,
                registration.partition_epoch,
                registration.replicas,
                registration.elr,
                reason,
            )
        )

    # -- leader epochs -------------------------------------------------------------------

    def epoch_end_offset(self, tp: TopicPartition, epoch: int) -> int | None:
        """End offset of ``epoch`` as the leader's epoch cache answers: the start offset of
        the first later epoch; None when ``epoch`` is the current one (the leader's LEO)."""
        epochs, starts = self._epochs[tp]
        i = bisect_right(epochs, epoch)
        return starts[i] if i < len(epochs) else None

    def _truncate_follower(self, broker_id: int, tp: TopicPartition, leader_log_end: int) -> None:
        """KIP-101: truncate to the end offset of the follower's latest epoch, then follow.
        With ``cluster.follower_truncation: high_watermark`` (before KIP-101) it truncates
        to the high watermark it last heard of instead -- which may cut records the leader
        has acknowledged, and which the new leader's log does not hold the same way."""
        log = self.world.brokers[broker_id].logs[tp]
        if self.world.scenario.cluster.follower_truncation == "high_watermark":
            target, rule = min(log.log_end_offset, self.follower_hw.get((broker_id, tp), 0)), "high watermark"
        else:
            end = self.epoch_end_offset(tp, self.replica_epoch.get((broker_id, tp), -1))
            target, rule = min(log.log_end_offset, leader_log_end if end is None else end), "epoch end"
        if target < log.log_end_offset:
            log.truncate_to(target)
            self.world.control.note("truncated", broker_id, tp, f"to offset {target} ({rule})")
        self.replica_epoch[(broker_id, tp)] = self.world.partitions[tp].leader_epoch

    # -- applying a registration ------------------------------------------------------------

    def apply(self, tp: TopicPartition, new: PartitionRegistration, reason: str) -> None:
        world = self.world
        old = world.partitions[tp]
        world.partitions[tp] = new
        self._record(tp, new, reason)
        control = world.control
        # a new leader -- or the same one elected again in a new epoch after it lost its
        # leadership (it crashed and came back before being replaced)
        reelected = (
            new.leader_epoch != old.leader_epoch
            and new.leader != NO_LEADER
            and tp not in world.brokers[new.leader].leaders
        )
        if new.leader != old.leader or reelected:
            self._change_leader(tp, old, new, reason)
            return
        # the same leader: the ISR (and in ZooKeeper mode the epoch) changed
        if new.isr == old.isr and new.leader_epoch == old.leader_epoch and new.elr != old.elr:
            # only the eligible leader replicas changed (KIP-966)
            control.note("elr_change", new.leader, tp, f"elr {list(old.elr)} -> {list(new.elr)} ({reason})")
            return
        control.isr_changes += 1
        grew = len(new.isr) > len(old.isr)
        detail = f"isr {list(old.isr)} -> {list(new.isr)} ({reason})"
        control.note("isr_expand" if grew else "isr_shrink", new.leader, tp, detail)
        if new.leader == NO_LEADER:
            return
        state = world.brokers[new.leader].leaders.get(tp)
        if state is None:
            return
        state.isr = list(new.isr)
        state.leader_epoch = new.leader_epoch
        if len(state.isr) < state.min_insync_replicas:
            state.fail_ack_waiters("NOT_ENOUGH_REPLICAS_AFTER_APPEND")
        state.maybe_advance_high_watermark()
        world.fault_player.isr_changed(tp, [r for r in new.isr if r not in old.isr])

    def _change_leader(
        self, tp: TopicPartition, old: PartitionRegistration, new: PartitionRegistration, reason: str
    ) -> None:
        world = self.world
        control = world.control
        control.leader_changes += 1
        if old.leader != NO_LEADER:
            if self._cut_off(old.leader):
                # it does not hear of its replacement: it goes on leading in its own view
                self._unheard.setdefault(old.leader, set()).add(tp)
            else:
                self._resign(old.leader, tp, NOT_LEADER)
        world.set_leader(tp, new.leader)
        if new.leader == NO_LEADER:
            control.note("offline", -1, tp, f"no eligible leader ({reason}); isr {list(new.isr)}")
            return
        broker = world.brokers[new.leader]
        log = broker.logs[tp]
        end = log.log_end_offset
        epochs, starts = self._epochs[tp]
        if epochs[-1] < new.leader_epoch:
            epochs.append(new.leader_epoch)
            starts.append(end)
        self.replica_epoch[(new.leader, tp)] = new.leader_epoch
        world.history.truncated(tp, end, world.env.now)
        topic = world.topics[tp.topic]
        state = broker.become_leader(
            tp, new.replicas, list(new.isr), topic.min_insync_replicas, new.leader_epoch
        )
        state.high_watermark = min(end, self._last_hw.get(tp, 0))
        now = world.env.now
        for replica in new.isr:
            state.last_caught_up[replica] = now
        # unclean: the new leader was neither in the ISR nor an eligible leader replica
        unclean = new.leader not in old.isr and new.leader not in old.elr and new.leader != old.leader
        how = f"unclean, {reason}" if unclean else reason
        control.note(
            "leader_elected", new.leader, tp,
            f"epoch {new.leader_epoch} ({how}), was {old.leader}, isr {list(new.isr)}, log end {end}",
        )
        for replica in new.replicas:
            if replica != new.leader and world.fault_player.follows(replica):
                self.follow(replica, tp)
        world.leaders_changed()

    def _resign(self, broker_id: int, tp: TopicPartition, error: str) -> None:
        """``broker_id`` stops leading ``tp``: requests waiting on it fail with ``error``."""
        state = self.world.brokers[broker_id].leaders.pop(tp, None)
        if state is None:
            return
        self._last_hw[tp] = max(self._last_hw.get(tp, 0), state.high_watermark)
        state.fail_ack_waiters(error)
        state.wake_all()

    def _cut_off(self, broker_id: int) -> bool:
        """A running broker on the far side of a network partition from the controller."""
        return self.world.brokers[broker_id].alive and not self.world.reaches_controller(broker_id)

    def follow(self, broker_id: int, tp: TopicPartition) -> None:
        """``broker_id`` follows the current leader of ``tp``: truncate, then fetch."""
        world = self.world
        leader = world.partitions[tp].leader
        if leader == NO_LEADER or leader == broker_id:
            return
        if self._cut_off(broker_id):
            self._unheard.setdefault(broker_id, set()).add(tp)
            return
        self._truncate_follower(broker_id, tp, world.brokers[leader].logs[tp].log_end_offset)
        config = world.scenario.cluster.config
        key = (broker_id, leader, fetcher_id(tp, config.num_replica_fetchers))
        fetcher = world.fetchers.get(key)
        if fetcher is None:
            fetcher = ReplicaFetcher(world, config, world.brokers[broker_id], world.brokers[leader], key[2])
            world.fetchers[key] = fetcher
        if tp not in fetcher.partitions:
            fetcher.partitions.append(tp)

    # -- brokers going down and up -------------------------------------------------------------

    def broker_down(self, broker_id: int, error: str) -> None:
        """The broker's process is gone: everything it led stops answering."""
        broker = self.world.brokers[broker_id]
        broker.alive = False
        for tp in sorted(broker.leaders):
            self._resign(broker_id, tp, error)
        self.world.invalidate_metadata()

    def network_changed(self) -> None:
        """A broker that reaches the controller again applies what it missed: it stops
        leading what was given to others (its requests waiting there fail with
        ``NOT_LEADER_OR_FOLLOWER``) and follows, truncating by leader epoch -- what it
        took as a stale leader is gone."""
        world = self.world
        for broker_id in sorted(self._unheard):
            if self._cut_off(broker_id):
                continue
            for tp in sorted(self._unheard.pop(broker_id)):
                if world.partitions[tp].leader != broker_id:
                    self._resign(broker_id, tp, NOT_LEADER)
                    if world.fault_player.follows(broker_id):
                        self.follow(broker_id, tp)

    def broker_following(self, broker_id: int) -> None:
        """An unfenced broker follows every partition it has a replica of."""
        world = self.world
        for tp in sorted(world.brokers[broker_id].logs):
            if world.partitions[tp].leader not in (NO_LEADER, broker_id):
                self.follow(broker_id, tp)

    def __repr__(self) -> str:
        return f"<ReplicaManager {len(self._epochs)} partitions>"
