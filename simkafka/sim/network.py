"""Flow-level network: hosts' NICs shared max-min fairly between concurrent transfers.

Kafka's throughput ceiling is very often the network, not the disk: a leader's egress
carries every follower fetch and every consumer fetch, and its ingress every produce.
Simulating packets would cost an event per packet, so the engine uses the *flow model*
of flow-level simulators such as SimGrid (its ``LV08`` network model, without the TCP
window corrections):

* every host has a NIC with an **egress** and an **ingress** capacity (bytes/s);
* a transfer is one *flow* that crosses the sender's egress and the receiver's ingress
  (and, for cross-rack traffic, the racks' uplinks when :meth:`Network.set_rack_uplink`
  configured them -- off by default);
* concurrent flows share every link **max-min fairly** (progressive filling: all flows
  grow at the same pace, a flow freezes when one of its links saturates). Rates are
  piecewise constant and recomputed only when a flow starts, ends, stalls or a capacity
  changes -- and then only for the *connected component* of flows that share a link with
  the change, because max-min allocations of disjoint components are independent;
  all changes made at one simulated instant are re-shared together, once (a flow that
  starts alone on its links, with nothing else pending, is settled at once: its rate is
  its smallest link's capacity, and no re-share event is needed);
* each re-share leaves one "next completion" entry per component (its earliest projected
  drain) in a heap, and one SimPy timeout stands for the earliest entry: never an event
  per flow -- this is what keeps the engine fast, as SimGrid's lazy action heap does.

Propagation latency: a flow occupies its links from the moment it starts until its last
byte has left the sender (a pipelined transfer: the receiver's ingress is busy over the
same interval shifted by the latency, which the fluid model folds into one interval);
the transfer's event fires ``latency`` seconds after the last byte left, so a transfer of
``n`` bytes at a constant fair rate ``r`` completes after ``n / r + latency``. A
zero-byte transfer (a request header, an empty fetch response) completes after the
latency only.

Network partitions (:meth:`Network.partition`) *stall* flows across them: a stalled flow
keeps its remaining bytes, consumes no capacity and resumes when :meth:`Network.heal`
is called -- as a TCP connection does when a switch drops everything for a while. A new
transfer across a partition is accepted and never completes until healed; timing out is
the caller's business (Kafka's ``request.timeout.ms``, ``replica.lag.time.max.ms``),
which it does with ``yield transfer | env.timeout(...)`` followed by
:meth:`Network.abort`.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

import simpy
from simpy.events import NORMAL, URGENT

__all__ = ["HostCounters", "Network", "Transfer", "TransferAborted"]

_INF = math.inf
_HEAP_MIN_LIMIT = 1024

# Transfer states.
_RUNNING = 0  # attached to its links, drains at its fair rate (which may be 0)
_STALLED = 1  # across a network partition: detached from its links, rate 0
_DRAINED = 2  # last byte has left the sender; the event fires after the latency
_ABORTED = 3


class TransferAborted(Exception):
    """Thrown into whoever waits on a transfer that :meth:`Network.abort` cancelled."""


@dataclass(frozen=True, slots=True)
class HostCounters:
    """Cumulative traffic of one host's NIC up to the moment it was read.

    ``*_busy_time`` integrates the link's utilisation (load / capacity) over time, so a
    probe that reads it at ``t0`` and ``t1`` gets the mean utilisation over the interval
    as ``(busy(t1) - busy(t0)) / (t1 - t0)`` (:meth:`utilisation_since`). A link whose
    capacity is 0 while flows wait on it counts as fully busy (it is the bottleneck of
    every one of them). Bytes are counted continuously as they drain, partial transfers
    included; a byte counts as received when it leaves the sender (the fluid model does
    not shift the receiver's interval by the propagation latency).
    """

    at: float
    bytes_sent: float
    bytes_received: float
    egress_busy_time: float
    ingress_busy_time: float

    def utilisation_since(self, earlier: HostCounters) -> tuple[float, float]:
        """Mean (egress, ingress) utilisation between ``earlier`` and these counters."""
        span = self.at - earlier.at
        if span <= 0.0:
            raise ValueError("the earlier counters must have been read earlier")
        return (
            (self.egress_busy_time - earlier.egress_busy_time) / span,
            (self.ingress_busy_time - earlier.ingress_busy_time) / span,
        )


class _Link:
    """One capacity constraint: a NIC direction or a rack uplink direction."""

    # mark / pos / rem / n are scratch fields of progressive filling, kept on the link
    # itself to avoid dict look-ups on the hot path.
    __slots__ = ("name", "capacity", "flows", "load", "stamp", "bytes", "busy")
    __slots__ += ("mark", "pos", "rem", "n")

    def __init__(self, name: str, capacity: float) -> None:
        self.name = name
        self.capacity = capacity
        self.flows: dict[int, Transfer] = {}  # insertion order = deterministic order
        self.load = 0.0  # sum of the current rates of its flows
        self.stamp = 0.0  # bytes / busy are integrated up to this time
        self.bytes = 0.0
        self.busy = 0.0
        self.mark = -1
        self.pos = 0
        self.rem = 0.0
        self.n = 0

    def advance(self, now: float) -> None:
        """Integrate bytes and utilisation at the current load up to ``now``."""
        dt = now - self.stamp
        if dt > 0.0:
            load = self.load
            if load > 0.0:
                self.bytes += load * dt
                self.busy += min(1.0, load / self.capacity) * dt
            elif self.capacity == 0.0 and self.flows:
                self.busy += dt
        self.stamp = now

    def bytes_at(self, now: float) -> float:
        return self.bytes + self.load * max(0.0, now - self.stamp)

    def busy_at(self, now: float) -> float:
        dt = max(0.0, now - self.stamp)
        if self.load > 0.0:
            return self.busy + min(1.0, self.load / self.capacity) * dt
        if self.capacity == 0.0 and self.flows:
            return self.busy + dt
        return self.busy


class _Host:
    __slots__ = ("name", "rack", "client", "index", "egress", "ingress")

    def __init__(
        self, name: str, rack: str | None, client: bool, index: int, egress: float, ingress: float
    ) -> None:
        self.name = name
        self.rack = rack
        self.client = client
        self.index = index
        self.egress = _Link(f"{name}.egress", egress)
        self.ingress = _Link(f"{name}.ingress", ingress)


class Transfer(simpy.Event):
    """One flow of ``nbytes`` from ``src`` to ``dst``; the event fires on arrival.

    Created by :meth:`Network.transfer` only. Its value is ``None``; it fails with
    :class:`TransferAborted` if aborted.
    """

    def __init__(self, network: Network, fid: int, src: _Host, dst: _Host, nbytes: float) -> None:
        super().__init__(network.env)
        env = network.env
        self._network = network
        self.id = fid
        self.src = src.name
        self.dst = dst.name
        self.nbytes = nbytes
        self.started_at = env.now
        self.drained_at: float | None = None  # when the last byte left the sender
        self.latency = 0.0
        self.cross_rack = False
        self.links: tuple[_Link, ...] = ()
        self.pair = (src.index, dst.index)
        self.state = _RUNNING
        # Fluid state: ``remaining`` bytes at time ``last``, draining at ``rate``.
        self.remaining = float(nbytes)
        # Bytes left below this count as sent: rounding of rate * time must neither leave
        # a flow with 1e-13 bytes to go at a rate of 0 nor schedule its drain in the past.
        self.eps = 1e-12 * nbytes + 1e-9
        self.last = env.now
        self._rate = 0.0
        self.finish = _INF  # projected drain time at the current rate
        self.comp = -1  # token of the last re-share that covered it
        self.mark = -1
        self.fill = -1
        self.new_rate = 0.0

    @property
    def rate(self) -> float:
        """The flow's current max-min fair rate (bytes/s); 0 while stalled."""
        self._network._flush()
        return self._rate

    @property
    def bytes_remaining(self) -> float:
        """Bytes not yet sent, now."""
        self._network._flush()
        if self.state != _RUNNING:
            return 0.0 if self.state == _DRAINED else self.remaining
        return max(0.0, self.remaining - self._rate * (self.env.now - self.last))

    @property
    def stalled(self) -> bool:
        """True while the transfer waits behind a network partition."""
        return self.state == _STALLED


class Network:
    """Hosts, their NICs, and the flows between them (see the module docstring).

    Topology: :meth:`add_host`, :meth:`set_rack_uplink`, :meth:`set_latency`.
    Traffic: :meth:`transfer` (an event to ``yield``), :meth:`abort`, :meth:`window_rate`.
    Faults: :meth:`set_capacity` (and :meth:`capacity`), :meth:`partition`, :meth:`heal`.
    Probes: :meth:`host_counters`, :meth:`rates`, :attr:`cross_rack_bytes`,
    :attr:`active_flows`, :attr:`stalled_flows`, ``transfers_started`` /
    ``transfers_completed``, :attr:`reshares`.

    Latencies are per pair of hosts: ``client_latency`` if either end is a client host
    (producer / consumer machine), else ``cross_rack_latency`` if both hosts have a rack
    and the racks differ, else ``rack_latency``. The same "both racks known and different"
    rule decides which bytes count as cross-rack, the traffic that cloud providers bill
    and that Kafka's ``client.rack`` / rack-aware replica selection (KIP-392) avoids.
    """

    def __init__(
        self,
        env: simpy.Environment,
        rack_latency: float = 0.0,
        cross_rack_latency: float = 0.0,
        client_latency: float = 0.0,
    ) -> None:
        self.env = env
        self._hosts: dict[str, _Host] = {}
        self._uplinks: dict[str, tuple[_Link, _Link]] = {}  # rack -> (out, in)
        self._flows: dict[int, Transfer] = {}  # not yet drained: running or stalled
        self._stalled: dict[int, Transfer] = {}
        self._blocked: set[tuple[int, int]] = set()  # partitioned (src, dst) host indexes
        # One entry per re-shared component: (earliest drain, token, its first-draining
        # flow, the component's flows). Valid while that flow is still running under
        # the same token: any later change to the component re-shares all of it.
        self._heap: list[tuple[float, int, Transfer, list[Transfer]]] = []
        self._token = 0
        self._heap_limit = _HEAP_MIN_LIMIT
        self._timers: list[float] = []  # times of the pending timeouts (a heap)
        self._next_id = 0
        self._epoch = 0
        self._cr_load = 0.0
        self._cr_bytes = 0.0
        self._cr_stamp = env.now
        self._cr_running = 0
        self.rack_latency = 0.0
        self.cross_rack_latency = 0.0
        self.client_latency = 0.0
        self.set_latency(rack_latency, cross_rack_latency, client_latency)
        self.transfers_started = 0
        self.transfers_completed = 0
        self._reshares = 0
        self._reshared_flows = 0
        self._dirty: list[_Link] = []  # links whose component must be re-shared now
        self._flush_scheduled = False

    # ------------------------------------------------------------------ topology

    def add_host(
        self,
        name: str,
        rack: str | None,
        egress_bps: float,
        ingress_bps: float,
        *,
        client: bool = False,
    ) -> None:
        """Add a host (broker, producer or consumer machine) with its NIC capacities."""
        if name in self._hosts:
            raise ValueError(f"host {name!r} already exists")
        egress = _check_capacity(egress_bps, "egress_bps")
        ingress = _check_capacity(ingress_bps, "ingress_bps")
        host = _Host(name, rack, client, len(self._hosts), egress, ingress)
        host.egress.stamp = host.ingress.stamp = self.env.now
        self._hosts[name] = host

    def hosts(self) -> list[str]:
        """Host names in the order they were added."""
        return list(self._hosts)

    def set_latency(
        self,
        rack_latency: float | None = None,
        cross_rack_latency: float | None = None,
        client_latency: float | None = None,
    ) -> None:
        """Change propagation latencies (seconds); applies to transfers started later."""
        for value in (rack_latency, cross_rack_latency, client_latency):
            if value is not None and not (value >= 0.0 and math.isfinite(value)):
                raise ValueError(f"latency must be finite and >= 0, got {value!r}")
        if rack_latency is not None:
            self.rack_latency = float(rack_latency)
        if cross_rack_latency is not None:
            self.cross_rack_latency = float(cross_rack_latency)
        if client_latency is not None:
            self.client_latency = float(client_latency)

    def latency(self, src: str, dst: str) -> float:
        """Propagation latency from ``src`` to ``dst`` (seconds)."""
        s, d = self._host(src), self._host(dst)
        if s.client or d.client:
            return self.client_latency
        if _cross_rack(s, d):
            return self.cross_rack_latency
        return self.rack_latency

    def window_rate(self, src: str, dst: str, window_bytes: float) -> float:
        """Most one TCP connection moves from ``src`` to ``dst`` with this window (bytes/s).

        TCP has at most one window in flight per round trip, so a connection carries at
        most ``window / RTT``, RTT being twice the one-way latency -- the bound SimGrid
        puts on every flow (``network/TCP-gamma / (2 * latency)``). It is what makes
        Kafka's ``socket.receive.buffer.bytes`` (broker, 100 KiB),
        ``replica.socket.receive.buffer.bytes`` (64 KiB), ``receive.buffer.bytes``
        (consumer, 64 KiB) and ``send.buffer.bytes`` (producer, 128 KiB) matter across
        racks and regions (-1, the kernel's auto-tuning, has no fixed bound). Infinite
        when the latency is 0. Pass the result as ``transfer(..., max_rate=...)``.
        """
        if not window_bytes > 0:
            raise ValueError(f"window_bytes must be > 0, got {window_bytes!r}")
        latency = self.latency(src, dst)
        return window_bytes / (2.0 * latency) if latency > 0.0 else _INF

    def set_rack_uplink(self, rack: str, capacity_bps: float) -> None:
        """Give ``rack`` a shared full-duplex uplink that every cross-rack flow crosses.

        Off by default (racks joined by a non-blocking spine). Declaring a new uplink is
        only allowed while no transfer is in flight (it changes which links existing
        flows cross); changing an existing uplink's capacity is allowed at any time and
        re-shares at once, like :meth:`set_capacity`.
        """
        cap = _check_capacity(capacity_bps, "capacity_bps")
        if rack in self._uplinks:
            self._change_capacities([(link, cap) for link in self._uplinks[rack]])
            return
        if self._flows:
            raise RuntimeError("declare rack uplinks before the first transfer starts")
        out, inn = _Link(f"rack {rack}.uplink", cap), _Link(f"rack {rack}.downlink", cap)
        out.stamp = inn.stamp = self.env.now
        self._uplinks[rack] = (out, inn)

    def set_capacity(
        self, host: str, egress: float | None = None, ingress: float | None = None
    ) -> None:
        """Change a NIC's capacities now (a degraded or repaired NIC); flows re-share."""
        h = self._host(host)
        changes = []
        if egress is not None:
            changes.append((h.egress, _check_capacity(egress, "egress")))
        if ingress is not None:
            changes.append((h.ingress, _check_capacity(ingress, "ingress")))
        self._change_capacities(changes)

    def capacity(self, host: str) -> tuple[float, float]:
        """A NIC's current (egress, ingress) capacities in bytes/s."""
        h = self._host(host)
        return h.egress.capacity, h.ingress.capacity

    def partition(self, hosts_a: Iterable[str], hosts_b: Iterable[str]) -> None:
        """Cut every path between a host of ``hosts_a`` and one of ``hosts_b``.

        Flows across the cut (either direction) stall at once; partitions accumulate
        until :meth:`heal`.
        """
        side_a = [self._host(h).index for h in hosts_a]
        side_b = [self._host(h).index for h in hosts_b]
        if any(a in side_b for a in side_a):
            raise ValueError("a host cannot be on both sides of a partition")
        for a in side_a:
            for b in side_b:
                self._blocked.add((a, b))
                self._blocked.add((b, a))
        now = self.env.now
        seeds: list[_Link] = []
        for flow in list(self._flows.values()):
            if flow.state == _RUNNING and flow.pair in self._blocked:
                self._detach(flow, now)
                flow.state = _STALLED
                self._stalled[flow.id] = flow
                seeds.extend(flow.links)
        if seeds:
            self._reshare(seeds)

    def heal(
        self, hosts_a: Iterable[str] | None = None, hosts_b: Iterable[str] | None = None
    ) -> None:
        """Remove every partition, or only the cut between ``hosts_a`` and ``hosts_b``.

        Stalled flows whose path is whole again resume where they stopped.
        """
        if hosts_a is None and hosts_b is None:
            self._blocked.clear()
        elif hosts_a is None or hosts_b is None:
            raise ValueError("heal() takes both sides of the cut, or neither")
        else:
            side_b = [self._host(h).index for h in hosts_b]
            for a in [self._host(h).index for h in hosts_a]:
                for b in side_b:
                    self._blocked.discard((a, b))
                    self._blocked.discard((b, a))
        now = self.env.now
        seeds: list[_Link] = []
        drained: list[Transfer] = []
        for flow in list(self._stalled.values()):
            if flow.pair in self._blocked:
                continue
            del self._stalled[flow.id]
            if flow.remaining <= flow.eps:
                drained.append(flow)
            else:
                self._attach(flow, now)
                seeds.extend(flow.links)
        if seeds:
            self._reshare(seeds)
        for flow in drained:
            self._drained(flow, now)

    # ------------------------------------------------------------------ transfers

    def transfer(
        self, src: str, dst: str, nbytes: float, *, max_rate: float | None = None
    ) -> Transfer:
        """Start sending ``nbytes`` from ``src`` to ``dst``; returns the arrival event.

        ``max_rate`` (bytes/s) bounds this flow alone, whatever the NICs could give it:
        the TCP window limit of one connection, see :meth:`window_rate`. The flow then
        takes min(its max-min fair share, ``max_rate``) and leaves the rest to others.
        """
        s, d = self._host(src), self._host(dst)
        if s is d:
            raise ValueError(f"transfer from {src!r} to itself")
        if not (nbytes >= 0 and math.isfinite(nbytes)):
            raise ValueError(f"nbytes must be finite and >= 0, got {nbytes!r}")
        if max_rate is not None and not max_rate > 0:
            raise ValueError(f"max_rate must be > 0 bytes/s, got {max_rate!r}")
        now = self.env.now
        flow = Transfer(self, self._next_id, s, d, nbytes)
        self._next_id += 1
        self.transfers_started += 1
        flow.cross_rack = cross = _cross_rack(s, d)
        if s.client or d.client:
            flow.latency = self.client_latency
        else:
            flow.latency = self.cross_rack_latency if cross else self.rack_latency
        links = (s.egress, d.ingress)
        if cross and self._uplinks:
            up = self._uplinks.get(s.rack)  # type: ignore[arg-type]
            down = self._uplinks.get(d.rack)  # type: ignore[arg-type]
            if up is not None:
                links += (up[0],)
            if down is not None:
                links += (down[1],)
        if max_rate is not None and max_rate != _INF:
            # A private link of the flow's own: progressive filling then freezes the flow
            # at max_rate exactly when no shared link saturates first.
            window = _Link(f"{src}->{dst} window", float(max_rate))
            window.stamp = now
            links += (window,)
        flow.links = links
        self._flows[flow.id] = flow
        if flow.pair in self._blocked:
            flow.state = _STALLED
            self._stalled[flow.id] = flow
        elif nbytes == 0:
            self._drained(flow, now)
        else:
            self._attach(flow, now)
            if not self._dirty and all(len(link.flows) == 1 for link in links):
                # Alone on its links with no other change pending at this instant: its
                # fair rate is its smallest link's capacity whatever else happens, so it
                # is settled now -- what the deferred re-share would do, without its
                # event. (A change to its links later at this instant re-shares them.)
                self._recompute_alone(links, flow)
            else:
                self._reshare(links)
        return flow

    def abort(self, transfer: Transfer) -> bool:
        """Cancel a transfer that has not drained yet (the request timed out, a host died).

        The transfer fails with :class:`TransferAborted` (defused, so nobody has to be
        waiting for it) and its capacity goes to the other flows at once. Bytes already
        sent stay counted. Returns False if it had already drained or been aborted.
        """
        if transfer.state == _DRAINED or transfer.state == _ABORTED:
            return False
        now = self.env.now
        if transfer.state == _RUNNING:
            self._detach(transfer, now)
            self._reshare(transfer.links)
        else:
            del self._stalled[transfer.id]
        del self._flows[transfer.id]
        transfer.state = _ABORTED
        transfer.fail(TransferAborted(f"transfer {transfer.src}->{transfer.dst} aborted"))
        transfer.defused = True
        return True

    # ------------------------------------------------------------------ counters

    @property
    def active_flows(self) -> int:
        """Transfers whose bytes are still to be sent (running or stalled)."""
        return len(self._flows)

    @property
    def stalled_flows(self) -> int:
        """Transfers waiting behind a network partition."""
        return len(self._stalled)

    @property
    def cross_rack_bytes(self) -> float:
        """Bytes sent so far between hosts of different (known) racks."""
        self._flush()
        return self._cr_bytes + self._cr_load * max(0.0, self.env.now - self._cr_stamp)

    def host_counters(self, host: str) -> HostCounters:
        """Bytes and busy-time integrals of ``host``'s NIC up to now."""
        h = self._host(host)
        self._flush()
        now = self.env.now
        return HostCounters(
            at=now,
            bytes_sent=h.egress.bytes_at(now),
            bytes_received=h.ingress.bytes_at(now),
            egress_busy_time=h.egress.busy_at(now),
            ingress_busy_time=h.ingress.busy_at(now),
        )

    def rates(self, host: str) -> tuple[float, float]:
        """Current (egress, ingress) load of ``host``'s NIC in bytes/s."""
        h = self._host(host)
        self._flush()
        return h.egress.load, h.ingress.load

    @property
    def reshares(self) -> int:
        """How many times rates were recomputed (a diagnostic of the engine's cost)."""
        self._flush()
        return self._reshares

    @property
    def reshared_flows(self) -> int:
        """Sum of the component sizes (flows) over all recomputations."""
        self._flush()
        return self._reshared_flows

    # ------------------------------------------------------------------ internals

    def _host(self, name: str) -> _Host:
        try:
            return self._hosts[name]
        except KeyError:
            raise KeyError(f"unknown host {name!r}") from None

    def _change_capacities(self, changes: list[tuple[_Link, float]]) -> None:
        now = self.env.now
        for link, cap in changes:
            link.advance(now)  # integrate the past at the old capacity
            link.capacity = cap
        if changes:
            self._reshare([link for link, _ in changes])

    def _attach(self, flow: Transfer, now: float) -> None:
        fid = flow.id
        for link in flow.links:
            link.flows[fid] = flow
        flow.state = _RUNNING
        flow.last = now
        flow._rate = 0.0
        flow.finish = _INF
        if flow.cross_rack:
            self._cr_running += 1

    def _detach(self, flow: Transfer, now: float) -> None:
        """Take a running flow off its links; the caller re-shares them at ``now``."""
        fid = flow.id
        for link in flow.links:
            del link.flows[fid]
        flow.remaining -= flow._rate * (now - flow.last)
        flow.last = now
        if flow.cross_rack:
            self._advance_cross_rack(now)
            self._cr_load -= flow._rate
            self._cr_running -= 1
            if self._cr_running == 0:
                self._cr_load = 0.0  # no drift from repeated += / -=
        flow._rate = 0.0
        flow.finish = _INF

    def _advance_cross_rack(self, now: float) -> None:
        dt = now - self._cr_stamp
        if dt > 0.0:
            self._cr_bytes += self._cr_load * dt
        self._cr_stamp = now

    def _drained(self, flow: Transfer, now: float) -> None:
        """The last byte left the sender: fire the event after the propagation latency."""
        flow.state = _DRAINED
        flow.remaining = 0.0
        flow.drained_at = now
        del self._flows[flow.id]
        self.transfers_completed += 1
        # What simpy.Timeout does in its constructor: a triggered event scheduled
        # ``latency`` from now -- one event per transfer instead of a Timeout plus a
        # callback that succeeds the transfer.
        flow._ok = True
        flow._value = None
        self.env.schedule(flow, NORMAL, flow.latency)

    def _reshare(self, seeds: Iterable[_Link]) -> None:
        """Mark the components touching ``seeds`` for re-sharing at the current instant.

        The recomputation is deferred to an URGENT event at the same simulated time, so
        a burst of changes at one instant -- a producer sending to every leader at once,
        a leader answering all its followers' fetches, a dead broker's transfers being
        aborted -- costs one re-share, not one per change. Every public reading of rates
        or counters flushes first, so callers never see the deferral.
        """
        self._dirty.extend(seeds)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            event = simpy.Event(self.env)
            event._ok = True  # as simpy.Timeout does: a triggered event, scheduled
            event._value = None
            event.callbacks.append(self._on_flush)
            self.env.schedule(event, URGENT, 0)

    def _on_flush(self, _event: simpy.Event) -> None:
        self._flush_scheduled = False
        self._flush()

    def _flush(self) -> None:
        if self._dirty:
            seeds, self._dirty = self._dirty, []
            self._recompute(seeds)

    def _recompute(self, seeds: Iterable[_Link]) -> None:
        """Recompute max-min fair rates of the component(s) touching ``seeds``, at now."""
        if not isinstance(seeds, (list, tuple)):
            seeds = list(seeds)
        # Most re-shares cover a flow alone on its links (it started where nothing else
        # runs) or links a drained flow left empty: settle those without the general
        # search and filling, doing exactly the arithmetic the general path would.
        lone: Transfer | None = None
        for seed in seeds:
            on_seed = seed.flows
            if not on_seed:
                continue
            if len(on_seed) > 1:
                break
            for flow in on_seed.values():
                if lone is None:
                    lone = flow
                elif flow is not lone:
                    lone = None
                    break
            else:
                continue
            break
        else:
            if lone is None or all(len(link.flows) == 1 for link in lone.links):
                self._recompute_alone(seeds, lone)
                return
        self._recompute_general(seeds)

    def _recompute_alone(
        self, seeds: list[_Link] | tuple[_Link, ...], lone: Transfer | None
    ) -> None:
        """:meth:`_recompute_general` when the seeds' links carry no flow but ``lone`` (or
        none), and ``lone``'s links no other flow: progressive filling freezes ``lone`` at
        its smallest link capacity, every link's load follows."""
        now = self.env.now
        self._epoch += 1
        self._reshares += 1
        if lone is not None:
            self._reshared_flows += 1
            links = lone.links
            new = links[0].capacity
            for link in links:
                if link.capacity < new:
                    new = link.capacity
            if not new > 0.0:
                new = 0.0  # as filling does: a saturated link's level is never below 0
            for link in links:
                link.rem = link.capacity - new
            self._token += 1
            token = self._token
            lone.comp = token
            old = lone._rate
            cr_delta = 0.0
            if new != old:
                dt = now - lone.last
                if dt:
                    lone.remaining -= old * dt
                    lone.last = now
                if lone.cross_rack:
                    cr_delta += new - old
                lone._rate = new
                rem = lone.remaining
                if rem <= lone.eps:
                    lone.finish = now
                elif new > 0.0:
                    lone.finish = now + rem / new
                else:
                    lone.finish = _INF
            if lone.finish != _INF:
                heapq.heappush(self._heap, (lone.finish, token, lone, [lone]))
            if cr_delta:
                self._advance_cross_rack(now)
                self._cr_load += cr_delta
            for link in links:
                load = link.capacity - link.rem
                if load < 0.0:
                    load = 0.0
                if load != link.load:
                    link.advance(now)
                    link.load = load
        for link in seeds:
            if not link.flows and link.load != 0.0:
                link.advance(now)
                link.load = 0.0
        self._after_recompute()

    def _recompute_general(self, seeds: Iterable[_Link]) -> None:
        """Max-min fair rates of the connected components touching ``seeds``."""
        now = self.env.now
        self._epoch += 1
        epoch = self._epoch
        # 1. The connected components reachable from the seeds (links joined by flows),
        # each as a slice of ``flows``; each link's filling state starts on discovery.
        links: list[_Link] = []
        flows: list[Transfer] = []
        bounds: list[int] = [0]
        stack: list[_Link] = []
        heap: list[tuple[float, int]] = []  # (fair level, link position), see step 2
        for seed in seeds:
            if seed.mark == epoch:
                continue
            seed.mark = epoch
            stack.append(seed)
            while stack:
                link = stack.pop()
                pos = link.pos = len(links)
                links.append(link)
                link.rem = cap = link.capacity
                n = link.n = len(link.flows)
                if n:
                    heap.append((cap / n, pos))
                for flow in link.flows.values():
                    if flow.mark != epoch:
                        flow.mark = epoch
                        flows.append(flow)
                        for other in flow.links:
                            if other.mark != epoch:
                                other.mark = epoch
                                stack.append(other)
            if len(flows) != bounds[-1]:
                bounds.append(len(flows))
        self._reshares += 1
        self._reshared_flows += len(flows)

        # 2. Progressive filling, bottleneck by bottleneck. A link's fair level is what
        # each of its unfrozen flows would get if they all grew together:
        # (capacity - rates of its frozen flows) / unfrozen flows. The link with the
        # lowest level saturates first; its unfrozen flows freeze at that level. Levels
        # only grow as flows freeze elsewhere, so a popped entry whose level has grown
        # is pushed back (a lazy increase-key) instead of pushing on every change.
        heapq.heapify(heap)
        heappop, heappush = heapq.heappop, heapq.heappush
        floor = 0.0
        while heap:
            level, pos = heappop(heap)
            link = links[pos]
            n = link.n
            if not n:
                continue
            rem = link.rem
            current = (rem if rem > 0.0 else 0.0) / n
            if current > level:
                heappush(heap, (current, pos))
                continue
            if current < floor:
                current = floor  # rounding must not make a later bottleneck lower
            floor = current
            for flow in link.flows.values():
                if flow.fill != epoch:
                    flow.fill = epoch
                    flow.new_rate = current
                    for other in flow.links:
                        other.rem -= current
                        other.n -= 1

        # 3. Install the new rates, component by component. Only a flow whose rate
        # changed is settled (its bytes drained so far) and gets a new projected drain
        # time; each component leaves one "next completion" entry, its earliest drain.
        cr_delta = 0.0
        fheap = self._heap
        for i in range(1, len(bounds)):
            self._token += 1
            token = self._token
            comp = flows if len(bounds) == 2 else flows[bounds[i - 1] : bounds[i]]
            first = comp[0]
            first_finish = _INF
            for flow in comp:
                flow.comp = token
                new = flow.new_rate
                old = flow._rate
                if new != old:
                    dt = now - flow.last
                    if dt:
                        flow.remaining -= old * dt
                        flow.last = now
                    if flow.cross_rack:
                        cr_delta += new - old
                    flow._rate = new
                    rem = flow.remaining
                    if rem <= flow.eps:
                        flow.finish = now  # sent already, whatever its new rate
                    elif new > 0.0:
                        flow.finish = now + rem / new
                    else:
                        flow.finish = _INF
                if flow.finish < first_finish:
                    first_finish = flow.finish
                    first = flow
            if first_finish != _INF:
                heapq.heappush(fheap, (first_finish, token, first, comp))
        if cr_delta:
            self._advance_cross_rack(now)
            self._cr_load += cr_delta
        # Only a link whose load changed integrates its counters.
        for link in links:
            load = link.capacity - link.rem if link.flows else 0.0
            if load < 0.0:
                load = 0.0
            if load != link.load:
                link.advance(now)
                link.load = load
        self._after_recompute()

    def _after_recompute(self) -> None:
        fheap = self._heap
        if len(fheap) > self._heap_limit:
            # Superseded entries leave the heap only when they reach its top, and one with
            # a far drain time (a lone long transfer, re-shared each time a short one
            # comes and goes) would stay for ever: compact, in amortised O(1).
            fheap[:] = [e for e in fheap if e[2].comp == e[1] and e[2].state == _RUNNING]
            heapq.heapify(fheap)
            self._heap_limit = max(_HEAP_MIN_LIMIT, 4 * len(fheap))
        self._ensure_timer()

    def _ensure_timer(self) -> None:
        """Keep a pending timeout at (or before) the earliest projected drain time.

        A timeout whose time has become later than needed is not cancelled (SimPy cannot
        cancel); a new, earlier one is added and the old one still serves later drains.
        """
        heap = self._heap
        while heap and (heap[0][2].comp != heap[0][1] or heap[0][2].state != _RUNNING):
            heapq.heappop(heap)  # the component has been re-shared since
        if heap and (not self._timers or heap[0][0] < self._timers[0]):
            at = heap[0][0]
            heapq.heappush(self._timers, at)
            timeout = self.env.timeout(max(0.0, at - self.env.now))
            timeout.callbacks.append(partial(self._on_timer, at))

    def _on_timer(self, at: float, _event: simpy.Event) -> None:
        heapq.heappop(self._timers)  # timeouts fire in time order: this one is the min
        self._flush()  # changes pending at this instant first: drain times are current
        # Flows projected to drain within a relative 1e-12 of ``at`` drain together, so a
        # tie split by rounding costs one re-share, not two.
        limit = at + 1e-12 * max(1.0, abs(at))
        heap = self._heap
        due: list[Transfer] = []
        while heap and heap[0][0] <= limit:
            _, token, first, comp = heapq.heappop(heap)
            if first.comp == token and first.state == _RUNNING:
                due.extend(
                    f for f in comp if f.finish <= limit and f.comp == token and f.state == _RUNNING
                )
        if not due:
            self._ensure_timer()
            return
        now = self.env.now
        seeds: list[_Link] = []
        for flow in due:
            self._detach(flow, now)
            seeds.extend(flow.links)
        self._recompute(seeds)
        for flow in due:
            self._drained(flow, now)


def _cross_rack(a: _Host, b: _Host) -> bool:
    return a.rack is not None and b.rack is not None and a.rack != b.rack


def _check_capacity(value: float, what: str) -> float:
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{what} must be finite and >= 0 bytes/s, got {value!r}")
    return float(value)
