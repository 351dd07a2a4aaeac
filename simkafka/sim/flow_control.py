"""The flow engine's control plane: the model's controller, driven between rate changes.

The controller is the events engine's -- :mod:`simkafka.model.controller` (KRaft) or
:mod:`simkafka.model.controller_zk` (ZooKeeper mode), a pure state machine -- fed the
same events and its decisions applied at their ``visible_at``:

* the broker faults: ``broker_crash`` (the process stops; the controller fences it when
  its session runs out and elects new leaders from the ISR), ``broker_shutdown``
  (controlled: the controller moves its leaders away first; without
  ``controlled.shutdown.enable`` it stops at once, cleanly), ``broker_restart`` (it
  registers, recovers its logs -- after a crash, :func:`~simkafka.sim.recovery.recovery_seconds`
  of its replicas' logs -- is unfenced, and its replicas catch up and rejoin their ISRs),
  ``rack_failure`` (every broker of the rack crashes; restarted after ``duration``) and
  ``controller_failover``;
* heartbeats: every running broker's at its own times (``broker.heartbeat.interval.ms``,
  the first offset by its place in the broker list, as the events engine's). They only
  matter while something is happening, so the controller is **engaged** at the first
  broker fault -- created then, every broker's session starting at its last heartbeat --
  and fed each running broker's latest heartbeat at every stop, the loop stopping at
  least once per session timeout while engaged; a steady cluster costs nothing;
* ``AlterPartition``: a replica out of the ISR that has caught up with its leader's log
  end is added back by its leader (one request in flight per partition).

Every decision changes the world's registrations or brokers' states
(:func:`~simkafka.sim.flow_topology.derive_topology`), after which the rates are solved
again. Not played: ``network_partition`` (counted in ``faults_not_simulated``), a
leader's own ISR shrink after ``replica.lag.time.max.ms`` (the controller fences a dead
broker first, within its session timeout), and unclean elections' truncation (the
elected replica's log is taken to be the leader's: the delivery checker of the events
engine counts what an unclean election loses).
"""

from __future__ import annotations

import heapq
import math
from typing import Any

import pandas as pd

from simkafka.kafka_version import behaviour
from simkafka.model.controller import (
    AlterPartitionRejected,
    AlterPartitionRequest,
    BrokerFenced,
    BrokerHeartbeat,
    BrokerRegistered,
    BrokerUnfenced,
    ControlledShutdownRequest,
    ControllerActivated,
    ControllerFailover,
    KRaftController,
    PartitionChanged,
    ShutdownCompleted,
    Tick,
)
from simkafka.model.controller_zk import ZooKeeperController
from simkafka.model.election import NO_LEADER
from simkafka.model.topology import Topology
from simkafka.scenario.faults import (
    BrokerCrash,
    BrokerRestart,
    BrokerShutdown,
    RackFailure,
)
from simkafka.scenario.faults import ControllerFailover as ControllerFailoverFault
from simkafka.sim.fault_outcome import PARTITION_HISTORY_COLUMNS, TIMELINE_COLUMNS
from simkafka.sim.recovery import recovery_seconds, unflushed_bytes

FlowWorld = Any  # simkafka.sim.flow.FlowWorld, which builds this

#: the broker faults the flow engine plays through its controller
FLOW_CONTROL_FAULT_TYPES = frozenset({"broker_crash", "broker_shutdown", "broker_restart", "rack_failure",
                                      "controller_failover"})


class FlowControl:
    """The controller of one flow-engine run and the broker faults that drive it."""

    def __init__(self, world: FlowWorld) -> None:
        self.world = world
        scenario = world.scenario
        config = scenario.cluster.config
        self.kraft = scenario.cluster.controller != "zookeeper"
        self.interval = config.broker_heartbeat_interval
        self.session = config.broker_session_timeout if self.kraft else config.zookeeper_session_timeout
        ids = list(world.broker_ids)
        self.first_beat = {b: self.interval * (i + 1) / len(ids) for i, b in enumerate(ids)}
        self.controller: KRaftController | ZooKeeperController | None = None
        self.fed: dict[int, float] = dict.fromkeys(ids, -math.inf)
        self.want_fence: dict[int, bool] = dict.fromkeys(ids, False)
        self.clean: dict[int, bool] = dict.fromkeys(ids, True)
        self.pending: list[tuple[float, int, Any]] = []  # decisions, by visible_at
        self._seq = 0
        self._alter_pending: set[Any] = set()
        self.actions = self._schedule(scenario)
        self.timeline: list[tuple] = []
        self.history: list[tuple] = [
            _history_row(0.0, tp, reg, "initial") for tp, reg in world.registrations.items()
        ]

    # -- the fault schedule ------------------------------------------------------------------

    def _schedule(self, scenario: Any) -> list[tuple[float, int, str, Any]]:
        """(time, order, what, argument): the broker faults, rack restarts included."""
        out: list[tuple[float, int, str, Any]] = []
        for index, fault in enumerate(scenario.faults):
            if isinstance(fault, BrokerCrash):
                out.append((fault.at, index, "crash", fault.broker))
            elif isinstance(fault, BrokerShutdown):
                out.append((fault.at, index, "shutdown", fault.broker))
            elif isinstance(fault, BrokerRestart):
                out.append((fault.at, index, "restart", fault.broker))
            elif isinstance(fault, RackFailure):
                members = sorted(b.id for b in scenario.cluster.brokers if b.rack == fault.rack)
                out.extend((fault.at, index, "crash", b) for b in members)
                if fault.duration is not None:
                    out.extend((fault.at + fault.duration, index, "restart", b) for b in members)
            elif isinstance(fault, ControllerFailoverFault):
                out.append((fault.at, index, "failover", None))
        return sorted(out, key=lambda a: (a[0], a[1], -1 if a[3] is None else a[3]))

    # -- when the loop must stop ---------------------------------------------------------------

    def next_time(self, now: float) -> float:
        times = [a[0] for a in self.actions[:1]]
        if self.pending:
            times.append(self.pending[0][0])
        if self.controller is not None:
            deadline = self.controller.next_deadline()
            if deadline is not None:
                times.append(deadline)
            # keep the running brokers' sessions fed
            running = [max(self.fed[b], self.controller.now - self.interval)
                       for b in self.world.broker_ids if self._beats(b)]
            if running:
                times.append(min(running) + self.session - self.interval)
        future = [t for t in times if t > now + 1e-12]
        due = [t for t in times if t <= now + 1e-12]
        return now if due else min(future, default=math.inf)

    def _beats(self, broker: int) -> bool:
        return bool(self.world.running[self.world.broker_index[broker]])

    # -- playing up to a time -------------------------------------------------------------------

    def run_until(self, t: float) -> bool:
        """Everything due by ``t``; whether the world's topology changed."""
        changed = False
        while self.actions and self.actions[0][0] <= t + 1e-12:
            at, index, what, arg = self.actions.pop(0)
            self._engage(at)
            if what in ("recovered", "registered"):
                self.recovered(at, arg)
                continue
            name = {"crash": "broker_crash", "shutdown": "broker_shutdown", "restart": "broker_restart",
                    "failover": "controller_failover"}[what]
            self.note(at, name, -1 if arg is None else arg, detail=f"faults[{index}]")
            changed |= self._act(at, what, arg)
        if self.controller is None:
            return changed
        self._feed_heartbeats(t)
        deadline = self.controller.next_deadline()
        if deadline is not None and deadline <= t + 1e-12:
            self._submit(Tick(max(deadline, self.controller.now)))
        while self.pending and self.pending[0][0] <= t + 1e-12:
            at, _, decision = heapq.heappop(self.pending)
            changed |= self._apply(at, decision)
        return changed

    def caught_up(self, t: float) -> None:
        """Replicas that reached their leader's log end: their leaders add them back."""
        if self.controller is None:
            return
        w = self.world
        for r in w.caught_up().tolist():
            tp = w.tps[int(w.r_part[r])]
            reg = w.registrations[tp]
            broker = w.broker_ids[int(w.r_broker[r])]
            if tp in self._alter_pending or broker in reg.isr or reg.leader == NO_LEADER:
                continue
            self._alter_pending.add(tp)
            self._submit(AlterPartitionRequest(t, tp, reg.leader, (*reg.isr, broker), reg.leader_epoch,
                                               reg.partition_epoch))

    def _engage(self, t: float) -> None:
        """Create the controller at the first broker fault: every broker's session starts
        at its last heartbeat before ``t``."""
        if self.controller is not None:
            return
        w = self.world
        last = {b: self._last_beat(b, t) for b in w.broker_ids}
        start = min(last.values(), default=t)
        topology = Topology(w.topology.brokers, dict(w.registrations), dict(w.topology.topic_ids))
        if self.kraft:
            elr = behaviour(w.scenario.cluster.kafka_version).eligible_leader_replicas
            self.controller = KRaftController.from_scenario(w.scenario, topology, start=start, elr_enabled=elr)
        else:
            self.controller = ZooKeeperController.from_scenario(w.scenario, topology, start=start)
        self._feed_heartbeats(t)

    def _last_beat(self, broker: int, t: float) -> float:
        first = self.first_beat[broker]
        if t < first:
            return 0.0
        return first + math.floor((t - first) / self.interval + 1e-9) * self.interval

    def _feed_heartbeats(self, t: float) -> None:
        beats = []
        for b in self.world.broker_ids:
            if not self._beats(b):
                continue
            last = self._last_beat(b, t)
            if last > self.fed[b] and last >= self.controller.now:  # type: ignore[union-attr]
                beats.append((last, b))
        for at, b in sorted(beats):
            self.fed[b] = at
            self._submit(BrokerHeartbeat(at, b, self.want_fence[b]))

    def _submit(self, event: Any) -> None:
        assert self.controller is not None
        for decision in self.controller.handle(event):
            self._seq += 1
            heapq.heappush(self.pending, (max(decision.visible_at, event.at), self._seq, decision))

    # -- faults ---------------------------------------------------------------------------------

    def _act(self, at: float, what: str, broker: int | None) -> bool:
        w = self.world
        if what == "failover":
            self._submit(ControllerFailover(at))
            return False
        assert broker is not None
        j = w.broker_index[broker]
        if what == "crash":
            return self._stop(broker, clean=False)
        if what == "shutdown":
            if w.scenario.cluster.config.controlled_shutdown_enable and w.running[j]:
                self._submit(ControlledShutdownRequest(at, broker))
                return False
            return self._stop(broker, clean=True)
        if w.running[j]:  # restart of a broker that runs
            return False
        w.running[j] = True
        seconds = self._recovery_seconds(j) if not self.clean[broker] else 0.0
        self.fed[broker] = at  # its registration is its first contact
        if self.kraft:  # registers first, fenced while it recovers (BrokerLifecycleManager)
            self.want_fence[broker] = seconds > 0
            self._submit(BrokerRegistered(at, broker, self.clean[broker]))
            if seconds > 0:
                self.actions.append((at + seconds, -1, "recovered", broker))
                self.actions.sort(key=lambda a: (a[0], a[1], -1 if a[3] is None else a[3]))
        else:
            self.actions.append((at + seconds, -1, "registered", broker))
            self.actions.sort(key=lambda a: (a[0], a[1], -1 if a[3] is None else a[3]))
        return True

    def _stop(self, broker: int, *, clean: bool) -> bool:
        w = self.world
        j = w.broker_index[broker]
        if not w.running[j]:
            return False
        w.running[j] = False
        w.following[j] = False
        self.clean[broker] = clean
        return True

    def _recovery_seconds(self, j: int) -> float:
        """Every log's active segment re-read and re-validated (one log dir per broker here)."""
        w = self.world
        mine = w.r_broker == j
        segment = w.segment_bytes_p[w.r_part[mine]]
        unflushed = [unflushed_bytes(float(b), float(s)) for b, s in zip(w.r_bytes[mine], segment, strict=True)]
        return recovery_seconds(
            [unflushed], w.scenario.costs.broker.recovery_byte_cpu, [float(w.built_disk_read[j])],
            w.scenario.cluster.config.num_recovery_threads_per_data_dir, clean_shutdown=False,
        )

    # -- decisions --------------------------------------------------------------------------------

    def _apply(self, at: float, decision: Any) -> bool:
        w = self.world
        if isinstance(decision, PartitionChanged):
            self._alter_pending.discard(decision.tp)
            before = w.registrations[decision.tp]
            w.registrations[decision.tp] = decision.registration
            w.changed_registrations.add(decision.tp)
            self.history.append(_history_row(at, decision.tp, decision.registration, decision.reason))
            if decision.registration.leader != before.leader:
                self.note(at, "leader_elected", decision.registration.leader, decision.tp, decision.reason)
            elif decision.registration.isr != before.isr:
                grew = len(decision.registration.isr) > len(before.isr)
                self.note(at, "isr_expand" if grew else "isr_shrink", -1, decision.tp, decision.reason)
            return True
        if isinstance(decision, BrokerFenced):
            self.note(at, "fenced", decision.broker)
            w.following[w.broker_index[decision.broker]] = False
            return True
        if isinstance(decision, BrokerUnfenced):
            self.note(at, "unfenced", decision.broker)
            j = w.broker_index[decision.broker]
            w.following[j] = bool(w.running[j])
            return True
        if isinstance(decision, ShutdownCompleted):
            self.note(at, "shutdown_completed", decision.broker)
            return self._stop(decision.broker, clean=True)
        if isinstance(decision, AlterPartitionRejected):
            self._alter_pending.discard(decision.tp)
        elif isinstance(decision, ControllerActivated):
            self.note(at, "controller_activated")
        return False

    def recovered(self, at: float, broker: int) -> None:
        """Log recovery is done: KRaft -- the broker asks to be unfenced (a heartbeat now);
        ZooKeeper mode -- it registers its znode."""
        if not self.world.running[self.world.broker_index[broker]]:
            return
        self.note(at, "log_recovered", broker)
        if self.kraft:
            self.want_fence[broker] = False
            self.fed[broker] = at
            self._submit(BrokerHeartbeat(at, broker, False))
        else:
            self._submit(BrokerRegistered(at, broker, self.clean[broker]))

    # -- what it reports ------------------------------------------------------------------------

    def note(self, at: float, event: str, broker: int = -1, tp: Any = None, detail: str = "") -> None:
        topic, partition = (tp.topic, tp.partition) if tp is not None else ("", -1)
        self.timeline.append((at, event, broker, topic, partition, detail))

    def timeline_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.timeline, columns=TIMELINE_COLUMNS)

    def history_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.history, columns=PARTITION_HISTORY_COLUMNS)

    def __repr__(self) -> str:
        state = "engaged" if self.controller is not None else "idle"
        return f"<FlowControl {state}, {len(self.actions)} fault actions ahead, {len(self.timeline)} timeline entries>"


def _history_row(at: float, tp: Any, reg: Any, reason: str) -> tuple:
    return (at, tp.topic, tp.partition, reg.leader, tuple(reg.isr), reg.leader_epoch, reg.partition_epoch,
            tuple(reg.replicas), tuple(getattr(reg, "elr", ()) or ()), reason)
