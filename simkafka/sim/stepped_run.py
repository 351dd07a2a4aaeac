"""Run the stepped engine: the step loop, its probes, and the same RunResult as the events engine.

The probes write the same time-series columns as :class:`~simkafka.sim.probes.Probes`, so
reports, figures and the planner read either engine's result alike.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simkafka.scenario import Scenario
from simkafka.sim.consumer_faults import CONSUMER_FAULT_TYPES
from simkafka.sim.degradation import CAPACITY_FAULT_TYPES
from simkafka.sim.disk_usage import SteppedDiskUsage
from simkafka.sim.result import (
    RunResult,
    SampledRows,
    build_result,
    client_host_columns,
    consumer_prefix,
    disk_columns,
    producer_prefix,
)
from simkafka.sim.stepped import SteppedWorld

MB = 1e6
ProgressCallback = Callable[[float, float], None]


class SteppedProbes(SampledRows):
    """One row per ``run.sample_interval`` from the world's cumulative counters."""

    def __init__(self, world: SteppedWorld) -> None:
        self.world = world
        super().__init__()
        # client hosts per producer group and consumer group: (prefix, indices into the
        # world's client arrays (producers, then members), members or None for producers)
        producers: dict[str, list[int]] = {}
        for i, spec in enumerate(world.producer_specs):
            producers.setdefault(producer_prefix(spec.name or spec.topic), []).append(i)
        self._client_groups: list[tuple[str, np.ndarray, np.ndarray | None]] = [
            (prefix, np.array(hosts, dtype=np.int64), None) for prefix, hosts in producers.items()
        ]
        for g, group in enumerate(world.group_ids):
            members = np.array(
                [m for m in range(world.M) if world.group_of_member[m] == g], dtype=np.int64
            )
            self._client_groups.append((consumer_prefix(group), world.I + members, members))
        self._last = self._counters()
        self.disk = SteppedDiskUsage(world)  # b<id>.disk_used_GB: segments and retention
        self._previous_time = 0.0

    def _counters(self) -> dict[str, object]:
        w = self.world
        return {
            "created": int(w.created.sum()),
            "acked": int(w.acked.sum()),
            "acked_bytes": float(w.acked_bytes.sum()),
            "acked_payload": float((w.acked * w.payload).sum()),
            "requests": w.requests,
            "batches": w.batches_sent,
            "consumed": w.consumed.sum(axis=1).astype(float),
            "consumed_bytes": w.consumed_bytes.copy(),
            "in": w.bytes_in.copy(),
            "out": w.bytes_out.copy(),
            "in_busy": w.busy_in.copy(),
            "out_busy": w.busy_out.copy(),
            "disk_write": w.disk_written.copy(),
            "disk_read": w.disk_read_bytes.copy(),
            "disk_write_busy": w.disk_write_busy.copy(),
            "dir_written": w.dir_written.copy(),
            "dir_write_busy": w.dir_write_busy.copy(),
            "disk_read_busy": w.disk_read_busy.copy(),
            "cpu": w.cpu_busy.copy(),
            "network": w.network_busy.copy(),
            "lock": w.lock_busy.copy(),
            "f_lock": w.f_lock_busy.copy(),
            "queue_wait": w.queue_wait.copy(),
            "requests_b": w.broker_requests.copy(),
            "cross_rack": w.cross_rack_bytes,
            "client_out": w.client_bytes_out.copy(),
            "client_in": w.client_bytes_in.copy(),
            # producers' application and Sender threads, busy seconds up to now
            "app_thread": w.app_busy - np.maximum(0.0, w.app_free_at - w.now),
            "sender": w.sender_busy - np.maximum(0.0, w.sender_free_at - w.now),
            # each producer's busiest connection: its channel held, request by request
            "connection": (
                w.channel_busy - np.maximum(0.0, w.channel_free_at - w.now)
            ).reshape(w.I, w.B).max(axis=1),
            "cpu_limited": int(w.cpu_limited.sum()),
            "member_busy": w.member_busy.copy(),
        }

    def sample(self) -> None:
        w = self.world
        now = w.now
        dt = now - self._previous_time
        if dt <= 0:
            return
        c = self._counters()
        d = {k: c[k] - self._last[k] for k in c}  # type: ignore[operator]
        row: dict[str, float] = {"time": now}
        row["produce_msgs_per_s"] = d["acked"] / dt
        row["produce_MB_per_s"] = d["acked_bytes"] / dt / MB
        row["produce_payload_MB_per_s"] = d["acked_payload"] / dt / MB
        row["created_msgs_per_s"] = d["created"] / dt
        row["producer_cpu_limited_msgs_per_s"] = d["cpu_limited"] / dt
        row["produce_requests_per_s"] = d["requests"] / dt
        row["batches_per_request"] = d["batches"] / d["requests"] if d["requests"] else 0.0
        row["blocked_in_send"] = int(w.blocked.sum())
        for g, group in enumerate(w.group_ids):
            row[f"consume_msgs_per_s.{group}"] = d["consumed"][g] / dt
            row[f"consume_MB_per_s.{group}"] = d["consumed_bytes"][g] / dt / MB
            row[f"lag.{group}"] = w.lag(g)
        for j, broker_id in enumerate(w.broker_ids):
            b = f"b{broker_id}"
            requests = d["requests_b"][j]
            row[f"{b}.nic_in_MB_per_s"] = d["in"][j] / dt / MB
            row[f"{b}.nic_out_MB_per_s"] = d["out"][j] / dt / MB
            row[f"{b}.nic_in_util"] = d["in_busy"][j] / dt
            row[f"{b}.nic_out_util"] = d["out_busy"][j] / dt
            # each log directory's disk (reads are modelled per broker, not per dir)
            dirs = w.dir_broker == j
            row |= disk_columns(
                b,
                dt,
                d["dir_written"][dirs],
                d["disk_read"][j : j + 1],
                d["dir_write_busy"][dirs],
                d["disk_read_busy"][j : j + 1],
            )
            row[f"{b}.cpu_util"] = d["cpu"][j] / dt / w.threads[j]
            row[f"{b}.network_util"] = d["network"][j] / dt / w.network_threads[j]
            # the busiest partition's log lock (leader or follower replica) on this broker
            locks = np.concatenate([d["lock"][w.leader == j], d["f_lock"][w.f_broker == j]])
            row[f"{b}.append_util"] = min(1.0, float(locks.max()) / dt) if locks.size else 0.0
            row[f"{b}.request_queue_ms"] = 1000 * d["queue_wait"][j] / requests if requests else 0.0
            row[f"{b}.dirty_MB"] = w.dirty[j] / MB
        row |= self.disk.sample(now)
        # a partition with a leader: it and its followers in the ISR (replicas on brokers
        # that are down are in no ISR); an offline one: the ISR the controller left
        led = 1 + np.bincount(w.f_part[w.f_in_isr], minlength=w.P)
        isr_size = np.where(w.has_leader, led, w.offline_isr_size)
        row["under_replicated_partitions"] = int((isr_size < w.replica_count).sum())
        row["offline_partitions"] = int((~w.has_leader).sum())
        row["min_isr_size"] = int(isr_size.min()) if w.P else 0
        # the same fault series as the events engine's (constant here: no control plane)
        row["mean_isr_size"] = float(isr_size.mean()) if w.P else 0.0
        row["under_min_isr_partitions"] = int((isr_size < w.min_isr).sum())
        row["unreachable_leader_partitions"] = 0
        leaders = np.bincount(w.leader[w.has_leader], minlength=w.B)
        for j, broker_id in enumerate(w.broker_ids):
            row[f"b{broker_id}.leaders"] = int(leaders[j])
        row["cross_rack_MB_per_s"] = d["cross_rack"] / dt / MB
        for prefix, hosts, members in self._client_groups:
            out, into = d["client_out"][hosts], d["client_in"][hosts]
            row |= client_host_columns(
                prefix,
                dt,
                bytes_out=out,
                bytes_in=into,
                busy_out=out / w.client_nic,
                busy_in=into / w.client_nic,
                # consumers' poll thread; producers' application and Sender threads
                cpu_busy=None
                if members is None
                else d["member_busy"][members],
                threads=None
                if members is not None
                else {
                    "app_thread": d["app_thread"][hosts],
                    "sender": d["sender"][hosts],
                    "connection": d["connection"][hosts],
                },
            )
        # queues: one that grows over the measured window makes the run unsustainable
        bytes_per_message = np.divide(w.leo_bytes, w.leo, out=np.zeros(w.P), where=w.leo > 0)
        behind = (w.leo[w.f_part] - w.f_leo) * bytes_per_message[w.f_part]
        row["replication_lag_MB"] = float(behind.sum()) / MB
        row["accumulator_MB"] = float((w.acc.sum(axis=1) * w.wire_per_msg).sum()) / MB
        w.flush_latency()
        self.latency_columns(row, {"produce": w.produce_latency, "e2e": w.e2e_latency})
        self.rows.append(row)
        self._last = c
        self._previous_time = now


def run_stepped(
    world: SteppedWorld,
    probes: SteppedProbes,
    progress: ProgressCallback | None = None,
    slices: int = 100,
) -> None:
    """Step to the scenario's duration, sampling every ``sample_interval`` and reporting
    progress ``slices`` times."""
    duration = world.scenario.run.duration
    total = int(round(duration / world.dt))
    per_sample = max(1, int(round(world.scenario.run.sample_interval / world.dt)))
    per_report = max(1, total // max(1, slices))
    for k in range(1, total + 1):
        world.step()
        if k % per_sample == 0:
            probes.sample()
        if progress is not None and (k % per_report == 0 or k == total):
            progress(world.now, duration)
    if not probes.rows or probes.rows[-1]["time"] < world.now - 1e-9:
        probes.sample()


def simulate_stepped(
    scenario: Scenario, progress: ProgressCallback | None = None, steps: int = 100
) -> RunResult:
    """Play ``scenario`` forward with the stepped engine."""
    world = SteppedWorld(scenario)
    probes = SteppedProbes(world)
    run_stepped(world, probes, progress, steps)
    return build_result_for(world, probes)


def build_result_for(world: SteppedWorld, probes: SteppedProbes) -> RunResult:
    world.flush_latency()
    processing = {}
    for g, group_id in enumerate(world.group_ids):
        members = [m for m in range(world.M) if world.group_of_member[m] == g]
        active = sum(1 for m in members if (world.owner[g] == m).any())
        processing[group_id] = (active, world.per_record[g])
    return build_result(
        world.scenario,
        probes.frame(),
        world.produce_latency,
        world.e2e_latency,
        list(world.broker_ids),
        processing,
        world.conservation(),
        # no broker control plane; the groups' coordinator is played (see SteppedWorld)
        played_fault_types=CAPACITY_FAULT_TYPES | CONSUMER_FAULT_TYPES,
        groups=world.group_plane.outcome(
            world.now, {g: int(world.subscribed[i].sum()) for i, g in enumerate(world.group_ids)}
        ),
    )
