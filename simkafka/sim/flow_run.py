"""Run the flow engine: the event loop, its probes, and the same RunResult as the other engines.

The loop stops at every time something can change a rate -- a rate profile's next
piece, a capacity fault's start or end, the earliest time a queue reaches a boundary, a
controller decision, a consumer group's change of assignment or a member slowing down --
solves the rates there, and lets the world advance linearly to the next such time. The
consumer groups' happenings (requests, answers, heartbeats, timers, consumer faults:
:mod:`~simkafka.sim.flow_groups`) are played up to each stop; the group plane stops the
loop early only at one that changes a consumer flow. It
also stops at every sample time (``run.sample_interval``) for the probes and at the end
of the warm-up (latencies are recorded after it), without solving again. The probes
write the same time-series columns as the stepped engine's, so reports, figures and the
planner read either engine's result alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from simkafka.scenario import Scenario
from simkafka.sim.consumer_faults import CONSUMER_FAULT_TYPES
from simkafka.sim.degradation import CAPACITY_FAULT_TYPES
from simkafka.sim.disk_usage import FlowDiskUsage
from simkafka.sim.fault_outcome import empty_outcome
from simkafka.sim.flow import FlowWorld
from simkafka.sim.flow_control import FLOW_CONTROL_FAULT_TYPES
from simkafka.sim.flow_topology import consumers_changed
from simkafka.sim.result import (
    RunResult,
    SampledRows,
    build_result,
    client_host_columns,
    consumer_prefix,
    disk_columns,
    producer_prefix,
)

MB = 1e6
GB = 1e9
ProgressCallback = Callable[[float, float], None]
PROFILE_TOLERANCE = 0.01  # a continuous profile's factor varies at most 1 % within a piece
MAX_STALLED_STOPS = 10_000
FALLBACK_PIECE = 60.0  # seconds: a profile with no piecewise view of its own


def profile_pieces(profile: object, t0: float, t1: float) -> list[tuple[float, float, float]]:
    """(start, end, factor) pieces of a rate profile over [t0, t1): the profile's own
    piecewise-constant view where it has one; otherwise exact pieces for the profiles
    that are piecewise constant (steps, bursts) and, for a continuous one, pieces short
    enough that its factor moves by at most ``PROFILE_TOLERANCE`` within one, each at
    its mean factor (so the volume offered is the profile's)."""
    pieces = getattr(profile, "pieces", None)
    if pieces is not None:
        return list(pieces(t0, t1, PROFILE_TOLERANCE))
    kind = getattr(profile, "type", "constant")
    if kind in ("constant", "poisson"):
        return [(t0, t1, 1.0)]
    if kind == "step":
        edges = [t0] + [s.at for s in profile.steps if t0 < s.at < t1] + [t1]  # type: ignore[attr-defined]
    elif kind == "burst":
        edges, t = [t0], profile.start  # type: ignore[attr-defined]
        while t < t1:
            for edge in (t, t + profile.duration):  # type: ignore[attr-defined]
                if t0 < edge < t1:
                    edges.append(edge)
            t += profile.every  # type: ignore[attr-defined]
        edges.append(t1)
    else:
        return _continuous_pieces(profile, t0, t1)
    edges = sorted(set(edges))
    return [(a, b, profile.factor_at(a)) for a, b in zip(edges, edges[1:], strict=False)]  # type: ignore[attr-defined]


def _continuous_pieces(profile: object, t0: float, t1: float) -> list[tuple[float, float, float]]:
    factor_at = profile.factor_at  # type: ignore[attr-defined]
    out, t = [], t0
    step = min(FALLBACK_PIECE, t1 - t0)
    while t < t1 - 1e-12:
        end = min(t1, t + step)
        a, b, mid = factor_at(t), factor_at(end), factor_at(0.5 * (t + end))
        low = min(a, b, mid)
        if step > 1e-3 and max(a, b, mid) - low > PROFILE_TOLERANCE * max(low, 1e-9):
            step /= 2
            continue
        # Simpson's rule: the piece's mean factor (exact for the quadratic through the three)
        out.append((t, end, (a + 4 * mid + b) / 6))
        t = end
        step = min(FALLBACK_PIECE, 2 * step)
    return out


class FlowSchedule:
    """The times at which inputs change: each spec's profile pieces and the capacity faults."""

    def __init__(self, world: FlowWorld, duration: float) -> None:
        self.pieces = [profile_pieces(s.profile, 0.0, duration) for s in world.producer_specs]
        self.cursor = [0] * len(self.pieces)
        self.capacity_times = [t for t in world.capacity_change_times() if t > 0]

    def factors(self, t: float) -> np.ndarray:
        """Each spec's factor in force at ``t`` (moving the cursors forward)."""
        out = np.ones(len(self.pieces))
        for s, pieces in enumerate(self.pieces):
            k = self.cursor[s]
            while k + 1 < len(pieces) and pieces[k][1] <= t + 1e-12:
                k += 1
            self.cursor[s] = k
            out[s] = pieces[k][2] if pieces else 1.0
        return out

    def next_change(self, t: float) -> float:
        nxt = math.inf
        for s, pieces in enumerate(self.pieces):
            k = self.cursor[s]
            if k < len(pieces) and pieces[k][1] > t + 1e-12:
                nxt = min(nxt, pieces[k][1])
        for c in self.capacity_times:
            if c > t + 1e-12:
                nxt = min(nxt, c)
                break
        return nxt


class FlowProbes(SampledRows):
    """One row per ``run.sample_interval`` from the world's cumulative counters."""

    def __init__(self, world: FlowWorld) -> None:
        self.world = world
        super().__init__()
        producers: dict[str, list[int]] = {}
        for s, spec in enumerate(world.producer_specs):
            producers.setdefault(producer_prefix(spec.name or spec.topic), []).append(s)
        self._producer_groups = list(producers.items())
        self._member_groups = [
            (consumer_prefix(group), np.flatnonzero(world.member_group == g))
            for g, group in enumerate(world.group_ids)
        ]
        self.disk = FlowDiskUsage(world)  # b<id>.disk_used_GB: segments and retention
        self._last = self._counters()
        self._previous_time = 0.0

    def _counters(self) -> dict[str, object]:
        w = self.world
        return {
            "created": float(w.created.sum()),
            # the application threads' send(): every record created, at send_cpu each
            "created_by_spec": w.created.copy(),
            "acked": float(w.acked.sum()),
            "acked_bytes": float(w.acked_bytes.sum()),
            "acked_payload": float((w.acked * w.payload).sum()),
            "requests": w.requests,
            "batches": w.batches,
            "cpu_limited": float(w.cpu_limited.sum()),
            "consumed": w.consumed.sum(axis=1),
            "consumed_bytes": w.consumed_bytes.copy(),
            # the fixed resources (the fetcher threads, last, are renumbered by faults)
            "busy": w.busy[: w.block["fetcher"]].copy(),
            "util": w.util_time[: w.block["fetcher"]].copy(),
            "written_back": w.written_back.copy(),
            "conn": w.conn_busy.copy(),
            "member_busy": w.member_busy.copy(),
            "cross_rack": w.cross_rack_bytes,
        }

    def sample(self) -> None:
        w = self.world
        now = w.now
        dt = now - self._previous_time
        if dt <= 0:
            return
        c = self._counters()
        d = {k: c[k] - self._last[k] for k in c}  # type: ignore[operator]
        blk = w.block
        busy, util = d["busy"], d["util"]

        def part(name: str, size: int, array: np.ndarray) -> np.ndarray:
            return array[blk[name] : blk[name] + size]

        B, n = w.B, w.N
        row: dict[str, float] = {"time": now}
        row["produce_msgs_per_s"] = d["acked"] / dt
        row["produce_MB_per_s"] = d["acked_bytes"] / dt / MB
        row["produce_payload_MB_per_s"] = d["acked_payload"] / dt / MB
        row["created_msgs_per_s"] = d["created"] / dt
        row["producer_cpu_limited_msgs_per_s"] = d["cpu_limited"] / dt
        row["produce_requests_per_s"] = d["requests"] / dt
        row["batches_per_request"] = d["batches"] / d["requests"] if d["requests"] else 0.0
        row["blocked_in_send"] = int(round(float(w.blocked.sum())))
        lags = w.group_lags()
        for g, group in enumerate(w.group_ids):
            row[f"consume_msgs_per_s.{group}"] = d["consumed"][g] / dt
            row[f"consume_MB_per_s.{group}"] = d["consumed_bytes"][g] / dt / MB
            row[f"lag.{group}"] = float(lags[g])
        nic_in, nic_out = part("nic_in", B, busy), part("nic_out", B, busy)
        in_util, out_util = part("nic_in", B, util), part("nic_out", B, util)
        cpu, net = part("cpu", B, util), part("net_threads", B, util)
        disk_read, disk_read_util = part("disk_read", B, busy), part("disk_read", B, util)
        # the busiest partition's log lock on each broker (of the partitions it leads)
        append = w.max_by_leader(part("lock", w.P, util))
        used = self.disk.sample(now)
        for j, broker_id in enumerate(w.broker_ids):
            b = f"b{broker_id}"
            row[f"{b}.nic_in_MB_per_s"] = nic_in[j] / dt / MB
            row[f"{b}.nic_out_MB_per_s"] = nic_out[j] / dt / MB
            row[f"{b}.nic_in_util"] = in_util[j] / dt
            row[f"{b}.nic_out_util"] = out_util[j] / dt
            written = d["written_back"][j : j + 1]
            write_busy = written / w.disk_write[j] if w.disk_write[j] > 0 else written * 0
            row |= disk_columns(b, dt, written, disk_read[j : j + 1], write_busy, disk_read_util[j : j + 1])
            row[f"{b}.cpu_util"] = cpu[j] / dt
            row[f"{b}.network_util"] = net[j] / dt
            row[f"{b}.append_util"] = min(1.0, float(append[j]) / dt)
            row[f"{b}.request_queue_ms"] = 0.0
            row[f"{b}.dirty_MB"] = w.dirty[j] / MB
            row[f"{b}.disk_used_GB"] = used[f"{b}.disk_used_GB"]
        isr_size = w.isr_size
        row["unreachable_leader_partitions"] = int((w.has_leader & ~w.leader_serves).sum())
        row["under_replicated_partitions"] = int((isr_size < w.replica_count).sum())
        row["offline_partitions"] = int((~w.has_leader).sum())
        row["min_isr_size"] = int(isr_size.min()) if w.P else 0
        row["mean_isr_size"] = float(isr_size.mean()) if w.P else 0.0
        row["under_min_isr_partitions"] = int((isr_size < w.min_isr).sum())
        leaders = np.bincount(w.leader[w.has_leader], minlength=B)
        for j, broker_id in enumerate(w.broker_ids):
            row[f"b{broker_id}.leaders"] = int(leaders[j])
        row["cross_rack_MB_per_s"] = d["cross_rack"] / dt / MB
        client_nic = part("client_nic", n, busy)
        sender = part("sender", n, util)
        conn = d["conn"].reshape(n, B).max(axis=1) if n else np.zeros(0)
        # what each instance received: its produce responses (headers, negligible here)
        for prefix, specs in self._producer_groups:
            hosts = np.concatenate([np.full(int(w.count[s]), 1.0 / w.count[s]) for s in specs])
            spec_of = np.concatenate([np.full(int(w.count[s]), s) for s in specs])
            out = client_nic[spec_of] * hosts
            row |= client_host_columns(
                prefix, dt, bytes_out=out, bytes_in=out * 0, busy_out=out / w.client_nic,
                busy_in=out * 0,
                threads={
                    # busy seconds per instance: the spec's summed utilisation over its count
                    "app_thread": (d["created_by_spec"] * w.send_cpu / w.count)[spec_of],
                    "sender": sender[spec_of],
                    "connection": conn[spec_of],
                },
            )
        member_nic = part("member_nic", w.M, busy)
        for prefix, members in self._member_groups:
            into = member_nic[members]
            row |= client_host_columns(
                prefix, dt, bytes_out=into * 0, bytes_in=into, busy_out=into * 0,
                busy_in=into / w.client_nic, cpu_busy=d["member_busy"][members],
            )
        row["replication_lag_MB"] = 0.0
        row["accumulator_MB"] = float((w.backlog * w.k_wire).sum()) / MB if w.K else 0.0
        self.latency_columns(row, {"produce": w.latency.produce, "e2e": w.latency.e2e})
        self.rows.append(row)
        self._last = c
        self._previous_time = now


def run_flow(
    world: FlowWorld, probes: FlowProbes, progress: ProgressCallback | None = None, slices: int = 100
) -> None:
    """Event to event until the scenario's duration, sampling every ``sample_interval``."""
    run = world.scenario.run
    duration = run.duration
    schedule = FlowSchedule(world, duration)
    interval = run.sample_interval
    next_sample = min(interval, duration)
    report_every = duration / max(1, slices)
    next_report = report_every
    world.apply_capacity_changes(0.0)
    groups = world.groups
    if groups is not None and groups.take_changes():  # the groups as they formed
        consumers_changed(world)
    world.solve(schedule.factors(0.0))
    if groups is not None:
        groups.solved(0.0)
    warmup = run.warmup if 0 < run.warmup < duration else math.inf
    stalled = 0
    while world.now < duration - 1e-12:
        change = schedule.next_change(world.now)
        boundary = world.now + world.next_boundary()
        settle = world.latency.settle_until if world.latency.settle_until > world.now + 1e-12 else math.inf
        control = world.control.next_time(world.now) if world.control is not None else math.inf
        t = min(change, boundary, settle, control, next_sample, warmup, duration)
        # a loop that stops again and again without time passing is a bug, not a run
        stalled = stalled + 1 if t - world.now < 1e-7 else 0
        if stalled > MAX_STALLED_STOPS:
            raise RuntimeError(f"the flow engine stopped {stalled} times at t={world.now!r} s without progress")
        if groups is not None:
            # the group plane's happenings up to t; it stops (and the world with it) at
            # the first that changes a consumer flow
            t = min(t, groups.run_until(t))
        world.advance(t)
        if t >= warmup - 1e-12:
            warmup = math.inf
        if t >= next_sample - 1e-12:
            probes.sample()
            next_sample = min(duration, next_sample + interval) if next_sample < duration else math.inf
        if t >= change - 1e-12:
            world.apply_capacity_changes(t)
        changed = False
        if world.control is not None:
            changed = world.control.run_until(t)
            world.control.caught_up(t)
            changed |= world.control.run_until(t)
            if changed:
                world.topology_changed()
        if groups is not None and groups.take_changes():
            consumers_changed(world)
            changed = True
        if changed or t >= change - 1e-12 or t >= boundary - 1e-12:
            world.solve(schedule.factors(t))
            if groups is not None:
                groups.solved(t)
        if progress is not None and t >= next_report - 1e-12:
            progress(t, duration)
            next_report += report_every
    if not probes.rows or probes.rows[-1]["time"] < world.now - 1e-9:
        probes.sample()
    if progress is not None:
        progress(world.now, duration)


def simulate_flow(scenario: Scenario, progress: ProgressCallback | None = None, steps: int = 100) -> RunResult:
    """Play ``scenario`` forward with the flow engine."""
    world = FlowWorld(scenario)
    probes = FlowProbes(world)
    run_flow(world, probes, progress, steps)
    return build_result_for(world, probes)


def build_result_for(world: FlowWorld, probes: FlowProbes) -> RunResult:
    processing = {}
    for g, group_id in enumerate(world.group_ids):
        members = np.flatnonzero(world.member_group == g)
        active = int(np.isin(members, world.c_member[world.c_owned]).sum())
        processing[group_id] = (active, world.per_record[g])
    outcome = None
    if world.control is not None:
        outcome = empty_outcome()
        outcome.timeline = world.control.timeline_frame()
        outcome.partition_history = world.control.history_frame()
        outcome.availability = pd.DataFrame(
            {
                "topic": [tp.topic for tp in world.tps],
                "partition": [tp.partition for tp in world.tps],
                "no_leader_s": world.no_leader_s,
                "under_min_isr_s": world.under_min_isr_s,
            }
        ).set_index(["topic", "partition"])
    result = build_result(
        world.scenario,
        probes.frame(),
        world.latency.produce,
        world.latency.e2e,
        list(world.broker_ids),
        processing,
        world.conservation(),
        outcome,
        # the broker faults through the controller, the capacity faults, the consumer
        # faults through the group coordinator (see FlowWorld)
        played_fault_types=CAPACITY_FAULT_TYPES | FLOW_CONTROL_FAULT_TYPES | CONSUMER_FAULT_TYPES,
        groups=world.groups.outcome(
            world.now, {g: int(world.subscribed[i].sum()) for i, g in enumerate(world.group_ids)}
        ) if world.groups is not None else None,
    )
    result.summary["delivery_checked"] = False  # no per-record history in a fluid engine
    for g, group_id in enumerate(world.group_ids):
        # records processed, then rewound to the group's committed offset by a rebalance
        # and processed again by the next owner (the events engine's consumed_twice)
        result.summary[f"consumed_twice.{group_id}"] = round(float(world.reprocessed[g]))
    result.summary["rate_solutions"] = world.solves
    return result
