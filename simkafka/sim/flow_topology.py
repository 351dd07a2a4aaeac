"""Who leads, who follows and who fetches, in the flow engine: everything that changes with
a partition's registration or a broker's state.

The flow engine derives its leader-dependent arrays from the partition registrations the
controller decided (:mod:`simkafka.model.controller`, played by
:mod:`~simkafka.sim.flow_control`) and from which brokers run, each time one of them
changes -- not per event, per change of the cluster:

* each partition's **leader** and whether it can serve (a leader on a broker that is
  down serves nothing until the controller has elected another);
* each replica's **role**: a *follower in the ISR* on a running broker takes what its
  leader appends (tied to production, as between changes the fetchers keep up); a
  replica on a running, unfenced broker that is *out of the ISR* catches up (its own
  flow, as fast as the network, its fetcher and its disk let it, until it has the
  leader's log end and the leader asks the controller to add it back); a replica on a
  broker that is down or fenced does nothing;
* whether a partition's **high watermark** can move: not while its ISR holds a replica
  on a broker that is down (the leader waits for it until the controller fences the
  broker or the leader drops it after ``replica.lag.time.max.ms``), nor while the ISR is
  smaller than ``min.insync.replicas`` for ``acks=all`` producers (``NOT_ENOUGH_REPLICAS``,
  retried: their records wait);
* the sticky partitioner's partitions (those with a leader in the metadata), the
  connections, fetcher threads and fetch sessions, and what crosses racks.

A group's assignment changes only the consumer flows' part (:func:`consumers_changed`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simkafka.model.election import NO_LEADER
from simkafka.sim.flow_share import GroupMax
from simkafka.sim.replication import fetcher_id

# the world these arrays live on is simkafka.sim.flow.FlowWorld, which imports this module
FlowWorld = Any


def derive_topology(w: FlowWorld) -> None:
    """Set every leader-, ISR- and broker-state-dependent array of ``w``."""
    _leaders(w)
    _followers(w)
    _producer_flows(w)
    _consumer_flows(w)
    w.cross_flags = _cross_rack_flags(w)
    w.invalidate_structure()


def _leaders(w: FlowWorld) -> None:
    cache = w.__dict__.get("_registration_arrays")
    if cache is None:
        cache = w._registration_arrays = _RegistrationArrays(w)
    cache.update(w)
    w.has_leader = cache.has_leader.copy()
    # an offline partition's entry is its first replica's, so arrays indexed by leader
    # stay in range; nothing moves through it
    w.leader = cache.leader.copy()
    w.leader_serves = w.has_leader & w.running[w.leader]
    w.isr_size = cache.isr_size.copy()
    w.r_in_isr = cache.r_in_isr.copy()
    w.r_is_leader = w.has_leader[w.r_part] & (w.leader[w.r_part] == w.r_broker)
    # the high watermark waits for every ISR member: one on a broker that is down holds it
    dead_in_isr = np.bincount(w.r_part, weights=w.r_in_isr & ~w.running[w.r_broker], minlength=w.P) > 0
    w.hw_stalled = w.leader_serves & dead_in_isr
    w.under_min_isr = w.isr_size < w.min_isr
    w.max_by_leader = GroupMax(w.leader, w.B)


class _RegistrationArrays:
    """The registrations as arrays, brought up to date partition by partition: only the
    partitions whose registration the controller replaced since the last derivation
    (``w.changed_registrations``, filled by :mod:`~simkafka.sim.flow_control`) are read
    again -- a ZooKeeper controller's failover elects one partition every few
    milliseconds, and re-reading them all each time made it quadratic."""

    def __init__(self, w: FlowWorld) -> None:
        bi = w.broker_index
        self.seen: list[Any] = [None] * w.P
        self.has_leader = np.zeros(w.P, dtype=bool)
        self.leader = np.zeros(w.P, dtype=np.int64)
        self.isr_size = np.zeros(w.P, dtype=np.int64)
        self.r_in_isr = np.zeros(w.r_part.size, dtype=bool)
        # each partition's replica rows, by broker index
        self.rows: list[dict[int, int]] = [{} for _ in range(w.P)]
        for row, (p, b) in enumerate(zip(w.r_part.tolist(), w.r_broker.tolist(), strict=True)):
            self.rows[p][b] = row
        self._bi = bi
        self.index = {tp: p for p, tp in enumerate(w.tps)}
        self.fresh = True

    def update(self, w: FlowWorld) -> None:
        bi = self._bi
        if self.fresh:
            changed = range(w.P)
            self.fresh = False
        else:
            changed = sorted(self.index[tp] for tp in w.changed_registrations)
        w.changed_registrations.clear()
        for p in changed:
            r = w.registrations[w.tps[p]]
            if r is self.seen[p]:
                continue
            self.seen[p] = r
            self.has_leader[p] = r.leader != NO_LEADER
            self.leader[p] = bi[r.leader if r.leader != NO_LEADER else r.replicas[0]]
            self.isr_size[p] = len(r.isr)
            rows = self.rows[p]
            self.r_in_isr[list(rows.values())] = False
            for b in r.isr:
                row = rows.get(bi[b])
                if row is not None:
                    self.r_in_isr[row] = True


def _followers(w: FlowWorld) -> None:
    config = w.scenario.cluster.config
    fetchers = config.num_replica_fetchers
    net = w.scenario.cluster.network
    follower = ~w.r_is_leader & w.leader_serves[w.r_part] & w.running[w.r_broker] & w.following[w.r_broker]
    tied = follower & w.r_in_isr
    behind = follower & ~w.r_in_isr
    w.f_rep = np.flatnonzero(tied)
    w.u_rep = np.flatnonzero(behind)
    w.f_part, w.f_broker = w.r_part[w.f_rep], w.r_broker[w.f_rep]
    w.u_part, w.u_broker = w.r_part[w.u_rep], w.r_broker[w.u_rep]
    w.F, w.U = w.f_rep.size, w.u_rep.size
    racks = _rack_codes(w)

    def one_way(parts: np.ndarray, brokers: np.ndarray) -> np.ndarray:
        crosses = _crosses(racks[w.leader[parts]], racks[brokers])
        return np.where(crosses, net.cross_rack_latency, net.rack_latency)

    w.f_one_way, w.u_one_way = one_way(w.f_part, w.f_broker), one_way(w.u_part, w.u_broker)
    # fetcher threads: one per (follower broker, leader broker, fetcher id), numbered
    # densely over those that carry a replica (tied or catching up); a partition's fetcher
    # id never changes
    ids = w.__dict__.get("_fetcher_ids")
    if ids is None:
        ids = w._fetcher_ids = np.array([fetcher_id(w.tps[p], fetchers) for p in range(w.P)], dtype=np.int64)
    raw = lambda parts, brokers: (brokers * w.B + w.leader[parts]) * fetchers + ids[parts]  # noqa: E731
    streams, inverse = np.unique(np.concatenate([raw(w.f_part, w.f_broker), raw(w.u_part, w.u_broker)]),
                                 return_inverse=True)
    w.S_f = streams.size
    w.f_stream, w.u_stream = inverse[: w.F], inverse[w.F :]
    w.max_by_stream = GroupMax(w.f_stream, w.S_f)
    w.max_by_partition = GroupMax(w.f_part, w.P)
    trips = np.zeros(w.S_f)
    trips = np.maximum(trips, w.max_by_stream(2 * w.f_one_way))
    if w.U:
        trips = np.maximum(trips, GroupMax(w.u_stream, w.S_f)(2 * w.u_one_way))
    w.stream_round_trip = trips
    w.stream_partitions = np.bincount(np.concatenate([w.f_stream, w.u_stream]), minlength=w.S_f).astype(float)
    w.followers_of = np.bincount(w.f_part, minlength=w.P)
    w.hw_round_trip = w.max_by_partition(2 * w.f_one_way)


def _producer_flows(w: FlowWorld) -> None:
    """The sticky partitioner's share (partitions with a leader in the metadata, or all of
    them when none has one) and each flow's leader and connection."""
    if not w.K:
        w.k_leader = np.zeros(0, dtype=np.int64)
        w.k_online = np.zeros(0, dtype=bool)
        w.k_conn = np.zeros(0, dtype=np.int64)
        w.conn_partitions = np.zeros(w.N * w.B)
        w.max_by_conn = GroupMax(w.k_conn, w.N * w.B)
        return
    available = w.has_leader[w.k_part].astype(float)
    per_spec = np.bincount(w.k_spec, weights=available, minlength=w.N)
    flows = np.bincount(w.k_spec, minlength=w.N).astype(float)
    uniform = np.where(per_spec[w.k_spec] > 0, available / np.maximum(per_spec[w.k_spec], 1.0), 1.0 / flows[w.k_spec])
    w.k_weight = np.where(w.k_keyed, w.k_key_weight, uniform)
    w.k_leader = w.leader[w.k_part]
    # a flow moves when its leader serves; its records wait (and queue) otherwise
    w.k_online = w.leader_serves[w.k_part]
    w.k_conn = w.k_spec * w.B + w.k_leader
    w.conn_partitions = np.bincount(w.k_conn, minlength=w.N * w.B).astype(float)
    w.max_by_conn = GroupMax(w.k_conn, w.N * w.B)


def consumers_changed(w: FlowWorld) -> None:
    """A group's assignment changed (:mod:`~simkafka.sim.flow_groups`): the consumer flows'
    members, fetch sessions and what crosses racks, and the solver's structure."""
    _consumer_flows(w)
    w.cross_flags = _cross_rack_flags(w)
    w.invalidate_structure()


def _consumer_flows(w: FlowWorld) -> None:
    w.c_leader = w.leader[w.c_part] if w.C else np.zeros(0, dtype=np.int64)
    # a flow moves when its partition's leader serves and a member of its group owns it
    w.c_online = w.leader_serves[w.c_part] & w.c_owned if w.C else np.zeros(0, dtype=bool)
    # fetch sessions: one per (member, leader broker of its partitions), numbered densely
    sessions, w.c_session = np.unique(w.c_member * w.B + w.c_leader, return_inverse=True)
    w.S_c = sessions.size
    w.session_member = sessions // w.B


def _cross_rack_flags(w: FlowWorld) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Whether each producer flow, tied follower, consumer flow and catching-up replica
    crosses racks."""
    rack = _rack_codes(w)
    client = np.full(1, -1 if w.client_rack is None else _rack_number(w, w.client_rack))
    k = _crosses(client, rack[w.k_leader])
    f = _crosses(rack[w.leader[w.f_part]], rack[w.f_broker])
    c = _crosses(rack[w.c_leader], client)
    u = _crosses(rack[w.leader[w.u_part]], rack[w.u_broker])
    return k, f, c, u


def _crosses(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Both ends have a rack (code >= 0) and they differ."""
    return (a >= 0) & (b >= 0) & (a != b)


def _rack_number(w: FlowWorld, rack: str) -> int:
    names = sorted({r for r in w.broker_rack if r is not None} | ({w.client_rack} - {None}))
    return names.index(rack)


def _rack_codes(w: FlowWorld) -> np.ndarray:
    """Each broker's rack as a number (-1: none), computed once."""
    codes = w.__dict__.get("_rack_codes")
    if codes is None:
        codes = w._rack_codes = np.array([-1 if r is None else _rack_number(w, r) for r in w.broker_rack],
                                         dtype=np.int64)
    return codes
