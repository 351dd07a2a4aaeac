"""Plays the scenario's ``faults:`` in the events engine, and measures what they cost.

Each fault of :mod:`simkafka.scenario.faults` becomes what happens in a real cluster:

* ``broker_crash`` -- the process dies: connections close, it stops heartbeating; the
  controller fences it ``broker.session.timeout.ms`` after its last heartbeat and elects
  new leaders from the ISR (:mod:`simkafka.sim.control_plane`).
* ``broker_shutdown`` -- SIGTERM: with ``controlled.shutdown.enable`` the broker first
  asks the controller to move its leaders away and stops when the controller lets it;
  without it, it stops at once, as a crash, but cleanly (no log recovery on restart).
* ``broker_restart`` -- the process starts, registers, recovers its logs (after a crash
  only: ``log_recovery_seconds``), is unfenced, truncates by leader epoch and follows;
  its leaders add it back to their ISRs once it has caught up, and the controller's
  leader-imbalance check later gives it back the partitions it prefers to lead.
* ``rack_failure`` -- every broker of the rack crashes at once (restarted after
  ``duration`` when one is given).
* ``controller_failover`` -- the active controller is lost; the next one takes over
  (KRaft: at once; ZooKeeper mode: after reloading every partition's state).
* ``network_partition`` -- hosts on the two sides cannot reach each other (see
  :meth:`FaultPlayer.reachable`): requests across the cut time out, followers across it
  stop fetching. The controller quorum sits with the side that holds a majority of the
  brokers (a tie: the side without the lowest broker id loses), so brokers on the other
  side cannot heartbeat and are fenced. A simplification: every broker and client applies
  the controller's decisions when they are committed, the cut-off ones included -- a real
  cut-off leader keeps its stale metadata and goes on taking ``acks=1`` writes from the
  clients that still reach it and still think it leads, until the partition heals, so the
  acknowledged records this engine reports lost there are a lower bound.
* consumer faults (``consumer_crash`` and the group's lifecycle) are played by
  :mod:`simkafka.sim.consumer_faults`.
* ``slow_disk`` and ``nic_degradation`` change capacities and are played by
  :mod:`simkafka.sim.degradation`.

It also keeps what the summary reports of them: how long each partition had no leader
a client could reach or fewer in-sync replicas than ``min.insync.replicas``, how long a
crash took to move every leader away, and a restarted broker's recovery and catch-up.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
import simpy

from simkafka.model.controller import BrokerHeartbeat
from simkafka.model.delivery import check
from simkafka.model.election import NO_LEADER
from simkafka.model.types import TopicPartition
from simkafka.scenario.faults import (
    BrokerCrash,
    BrokerRestart,
    BrokerShutdown,
    ControllerFailover,
    NetworkPartition,
    RackFailure,
)
from simkafka.sim.fault_outcome import (
    AVAILABILITY_COLUMNS,
    PARTITION_HISTORY_COLUMNS,
    TIMELINE_COLUMNS,
    FaultOutcome,
)
from simkafka.sim.replica_manager import DISCONNECTED

if TYPE_CHECKING:
    from simkafka.sim.fault_cluster import FaultCluster

# The fault types this module plays (the capacity faults are simkafka.sim.degradation's).
CONTROL_FAULT_TYPES = frozenset(
    {
        "broker_crash",
        "broker_shutdown",
        "broker_restart",
        "rack_failure",
        "controller_failover",
        "network_partition",
    }
)


class FaultPlayer:
    """The fault schedule of one events-engine run, and the clocks it keeps."""

    def __init__(self, world: FaultCluster) -> None:
        self.world = world
        self.env = world.env
        down = set(world.scenario.cluster.offline_brokers)
        # a broker that may follow: running, unfenced and recovered
        self._following = {b: b not in down for b in world.brokers}
        self._clean = dict.fromkeys(world.brokers, True)  # how each broker last stopped
        self._brokers_down = sum(1 for broker in world.brokers.values() if not broker.alive)
        # network partitions in force: (side a, side b) as sets of host names
        self._cuts: list[tuple[frozenset[str], frozenset[str]]] = []
        # availability clocks per partition: since when it had no reachable leader / was
        # under min ISR (None: it is fine), and the seconds summed so far
        self._no_leader_since: dict[TopicPartition, float] = {}
        self._under_min_since: dict[TopicPartition, float] = {}
        self.no_leader_seconds: dict[TopicPartition, float] = {}
        self.under_min_isr_seconds: dict[TopicPartition, float] = {}
        # per crashed broker: partitions it led that still wait for a reachable leader
        self._awaiting_leader: dict[int, tuple[float, set[TopicPartition]]] = {}
        self.failover_seconds: dict[int, float] = {}  # broker -> fault to last new leader
        self._restarted_at: dict[int, float] = {}
        self.recovery_seconds: dict[int, float] = {}
        self.catch_up_seconds: dict[int, float] = {}
        for tp in world.partitions:
            self._update_availability(tp)
        for i, fault in enumerate(world.scenario.faults):
            if fault.type in CONTROL_FAULT_TYPES:
                self.env.process(self._play(i, fault))

    # -- the schedule --------------------------------------------------------------------------

    def _play(self, index: int, fault: Any) -> Generator[simpy.Event, Any, None]:
        if fault.at > self.env.now:
            yield self.env.timeout(fault.at - self.env.now)
        control = self.world.control
        control.note(fault.type, getattr(fault, "broker", -1), None, f"faults[{index}]")
        if isinstance(fault, BrokerCrash):
            self.crash(fault.broker)
        elif isinstance(fault, BrokerShutdown):
            control.controlled_shutdown(fault.broker)
        elif isinstance(fault, BrokerRestart):
            self.restart(fault.broker)
        elif isinstance(fault, RackFailure):
            members = self._rack_members(fault.rack)
            for broker_id in members:
                self.crash(broker_id)
            if fault.duration is not None:
                yield self.env.timeout(fault.duration)
                control.note("rack_restart", -1, None, f"rack {fault.rack}")
                for broker_id in members:
                    self.restart(broker_id)
        elif isinstance(fault, ControllerFailover):
            control.controller_failover()
        elif isinstance(fault, NetworkPartition):
            cut = self._sides(fault.between)
            self._cuts.append(cut)
            self.world.network_changed()
            if fault.duration is not None:
                yield self.env.timeout(fault.duration)
                self._cuts.remove(cut)
                control.note("network_healed", -1, None, f"faults[{index}]")
                self.world.network_changed()

    def _rack_members(self, rack: str) -> list[int]:
        return sorted(b.id for b in self.world.scenario.cluster.brokers if b.rack == rack)

    # -- brokers ---------------------------------------------------------------------------------

    def crash(self, broker_id: int) -> None:
        self.stop(broker_id, clean=False)

    def stop(self, broker_id: int, *, clean: bool) -> None:
        """The broker's process ends (``clean``: after a controlled shutdown); nothing
        happens to one that is already down."""
        if self.world.control.running[broker_id]:
            self._stop(broker_id, clean=clean)

    def _stop(self, broker_id: int, *, clean: bool) -> None:
        world = self.world
        led = {tp for tp, reg in world.partitions.items() if reg.leader == broker_id}
        world.control.running[broker_id] = False
        self._brokers_down += 1
        self._following[broker_id] = False
        self._clean[broker_id] = clean
        world.replica_manager.broker_down(broker_id, DISCONNECTED)
        if led:
            self._awaiting_leader[broker_id] = (self.env.now, led)
        self._restarted_at.pop(broker_id, None)
        for tp in sorted(led):
            self._update_availability(tp)

    def restart(self, broker_id: int) -> None:
        world = self.world
        control = world.control
        if control.running[broker_id]:
            return
        control.running[broker_id] = True
        world.brokers[broker_id].alive = True
        self._brokers_down -= 1
        self._restarted_at[broker_id] = self.env.now
        recovery = world.log_recovery_seconds(broker_id, clean=self._clean[broker_id])
        self.recovery_seconds[broker_id] = recovery
        kraft = world.scenario.cluster.controller == "kraft"
        if kraft:  # registers first, fenced while it recovers (BrokerLifecycleManager)
            control.want_fence[broker_id] = True
            control.broker_registered(broker_id, clean_shutdown=self._clean[broker_id])
        self.env.process(self._recover(broker_id, recovery, kraft))

    def _recover(self, broker_id: int, seconds: float, kraft: bool) -> Generator[simpy.Event, Any, None]:
        if seconds > 0:
            yield self.env.timeout(seconds)
        control = self.world.control
        if not control.running[broker_id]:
            return  # it went down again meanwhile
        control.note("log_recovered", broker_id, None, f"{seconds:.3f}s")
        if kraft:
            control.want_fence[broker_id] = False
            if self.world.reaches_controller(broker_id):
                control.submit(BrokerHeartbeat(self.env.now, broker_id, False))
        else:  # ZooKeeper mode: the znode is registered after log recovery
            control.broker_registered(broker_id, clean_shutdown=self._clean[broker_id])

    def broker_unfenced(self, broker_id: int) -> None:
        """The brokers applied the unfencing: it follows every partition it holds."""
        if not self.world.control.running[broker_id]:
            return
        self._following[broker_id] = True
        self.world.replica_manager.broker_following(broker_id)
        self._check_caught_up(broker_id)

    def follows(self, broker_id: int) -> bool:
        return self._following[broker_id]

    def isr_changed(self, tp: TopicPartition, joined: Sequence[int]) -> None:
        """The ISR of ``tp`` changed under the same leader (``joined``: who came back)."""
        for replica in joined:
            if replica in self._restarted_at:
                self._check_caught_up(replica)
        self._update_availability(tp)

    def _check_caught_up(self, broker_id: int) -> None:
        """A restarted broker is caught up once it is in the ISR of every partition it
        holds a replica of. A partition without a leader has nobody to catch up from: until
        one is elected, a broker outside its ISR has not rejoined it (with eligible leader
        replicas a crashed broker is dropped from an ISR-less partition's ELR and waits)."""
        started = self._restarted_at.get(broker_id)
        if started is None:
            return
        world = self.world
        for tp in world.brokers[broker_id].logs:
            if broker_id not in world.partitions[tp].isr:
                return
        del self._restarted_at[broker_id]
        self.catch_up_seconds[broker_id] = self.env.now - started
        world.control.note("rejoined_isr", broker_id, None, f"{self.env.now - started:.3f}s after restart")

    # -- leadership and availability ------------------------------------------------------------

    def leader_changed(self, tp: TopicPartition) -> None:
        self._update_availability(tp)
        for replica in self.world.partitions[tp].isr:  # an election may hand it an ISR
            if replica in self._restarted_at:
                self._check_caught_up(replica)
        leader = self.world.partitions[tp].leader
        if leader == NO_LEADER or not self.world.brokers[leader].alive:
            return
        for broker_id in list(self._awaiting_leader):
            since, waiting = self._awaiting_leader[broker_id]
            waiting.discard(tp)
            if not waiting:
                del self._awaiting_leader[broker_id]
                self.failover_seconds[broker_id] = self.env.now - since
                self.world.control.note(
                    "leaders_moved", broker_id, None, f"{self.env.now - since:.3f}s after it went down"
                )

    def _update_availability(self, tp: TopicPartition) -> None:
        world = self.world
        registration = world.partitions[tp]
        now = self.env.now
        leader = registration.leader
        reachable = leader != NO_LEADER and world.brokers[leader].alive
        min_isr = world.topics[tp.topic].min_insync_replicas
        self._clock(self._no_leader_since, self.no_leader_seconds, tp, not reachable, now)
        self._clock(self._under_min_since, self.under_min_isr_seconds, tp, len(registration.isr) < min_isr, now)

    @staticmethod
    def _clock(
        since: dict[TopicPartition, float], total: dict[TopicPartition, float], tp: TopicPartition, bad: bool, now: float
    ) -> None:
        if bad and tp not in since:
            since[tp] = now
        elif not bad and tp in since:
            total[tp] = total.get(tp, 0.0) + now - since.pop(tp)

    def finish(self) -> None:
        """Close the clocks at the end of the run."""
        now = self.env.now
        for since, total in (
            (self._no_leader_since, self.no_leader_seconds),
            (self._under_min_since, self.under_min_isr_seconds),
        ):
            for tp in sorted(since):
                total[tp] = total.get(tp, 0.0) + now - since[tp]
                since[tp] = now

    # -- the network --------------------------------------------------------------------------------

    def _sides(self, between: Sequence[Sequence[int | str]]) -> tuple[frozenset[str], frozenset[str]]:
        """The host names on each side: brokers by id, and every host of a named rack."""
        world = self.world
        sides = []
        for side in between:
            hosts: set[str] = set()
            for member in side:
                if isinstance(member, int):
                    hosts.add(world.brokers[member].host)
                else:
                    hosts.update(world.hosts_in_rack(member))
            sides.append(frozenset(hosts))
        return sides[0], sides[1]

    @property
    def all_brokers_reachable(self) -> bool:
        return not self._cuts and self._brokers_down == 0

    def reachable(self, a: str, b: str) -> bool:
        """Whether hosts ``a`` and ``b`` can talk (no network partition between them)."""
        for left, right in self._cuts:
            if (a in left and b in right) or (a in right and b in left):
                return False
        return True

    def reaches_controller(self, broker_id: int) -> bool:
        """Whether the broker can reach the controller quorum: it is not on the minority
        side of a cut (the side naming fewer brokers; a tie: the side without the lowest
        broker id named)."""
        world = self.world
        host = world.brokers[broker_id].host
        for left, right in self._cuts:
            named_left = sorted(b for b, broker in world.brokers.items() if broker.host in left)
            named_right = sorted(b for b, broker in world.brokers.items() if broker.host in right)
            key_left = (len(named_left), -(named_left or [1 << 30])[0])
            key_right = (len(named_right), -(named_right or [1 << 30])[0])
            minority = right if key_left > key_right else left
            if host in minority:
                return False
        return True

    # -- what it all came to ---------------------------------------------------------------------

    def outcome(self) -> FaultOutcome:
        """The run's delivery check, availability per partition, timeline, partition
        registration history and headline figures (call once, after the run: it closes
        the clocks)."""
        world = self.world
        self.finish()
        report = check(world.history)
        delivery = report.frame()
        timeline = pd.DataFrame(
            [(e.time, e.event, e.broker, e.topic, e.partition, e.detail) for e in world.control.timeline],
            columns=TIMELINE_COLUMNS,
        )
        history = pd.DataFrame(world.replica_manager.history, columns=PARTITION_HISTORY_COLUMNS)
        rows = [
            (tp.topic, tp.partition, self.no_leader_seconds.get(tp, 0.0), self.under_min_isr_seconds.get(tp, 0.0))
            for tp in sorted(world.partitions)
        ]
        availability = pd.DataFrame(rows, columns=AVAILABILITY_COLUMNS).set_index(["topic", "partition"])

        def total(column: str) -> int:
            return int(delivery[column].sum()) if column in delivery else 0

        control = world.control
        summary: dict[str, object] = {
            "delivery_ok": report.ok,
            "acknowledged_lost": total("lost"),
            "written_twice": total("written_twice"),
            "reordered": total("reordered"),
            "consumed_twice": total("consumed_twice"),
            "no_leader_partition_s": float(availability["no_leader_s"].sum()),
            "max_partition_no_leader_s": float(availability["no_leader_s"].max()) if len(availability) else 0.0,
            "under_min_isr_partition_s": float(availability["under_min_isr_s"].sum()),
            "leader_elections": control.leader_changes,
            "isr_changes": control.isr_changes,
        }
        # only when a broker went down / restarted: fault to the last partition it led
        # with a reachable leader again; its log recovery; restart to back in every ISR
        # (a restart that had not caught up by the end of the run is left out)
        for key, values in (
            ("failover_s", self.failover_seconds),
            ("log_recovery_s", self.recovery_seconds),
            ("catch_up_s", self.catch_up_seconds),
        ):
            if values:
                summary[key] = max(values.values())
        if self._restarted_at:
            summary["not_caught_up_brokers"] = len(self._restarted_at)
        return FaultOutcome(delivery, report, timeline, availability, summary, history)

    def __repr__(self) -> str:
        return (
            f"<FaultPlayer {len(self.world.scenario.faults)} faults, "
            f"{sum(1 for r in self.world.control.running.values() if not r)} brokers down>"
        )
