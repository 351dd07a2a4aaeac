"""Periodic probes: one row of counters every ``run.sample_interval``, a DataFrame at the end.

Probes read cumulative counters (bytes, busy-time integrals, messages) and store the
differences, so a sample is the mean over its interval, not an instantaneous reading.
Rows are plain lists appended in place; the DataFrame is built once, after the run.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import simpy

from simkafka.sim.disk_usage import EventsDiskUsage
from simkafka.sim.histogram import LatencyHistogram
from simkafka.sim.result import (
    client_host_columns,
    consumer_prefix,
    disk_columns,
    producer_prefix,
)

if TYPE_CHECKING:
    from simkafka.sim.world import World

MB = 1e6


class Probes:
    """Samples the world every ``interval`` seconds into ``rows``."""

    def __init__(self, world: World, interval: float) -> None:
        self.world = world
        self.interval = interval
        self.rows: list[dict[str, float]] = []
        self._last: dict[str, Any] = {}
        self._previous_time = 0.0
        # cumulative histogram counts at the previous sample: their difference is the
        # histogram of the interval, so percentiles over time cost no extra recording
        self._previous_hist: dict[str, np.ndarray] = {}
        # client hosts per producer group and consumer group, in scenario order
        producers: dict[str, list[str]] = {}
        self._producer_groups: dict[str, list] = {}
        for producer in world.producers:
            group = producer.spec.name or producer.spec.topic
            producers.setdefault(producer_prefix(group), []).append(producer.host)
            self._producer_groups.setdefault(producer_prefix(group), []).append(producer)
        self._producer_hosts = list(producers.items())
        self.disk = EventsDiskUsage(world)  # b<id>.disk_used_GB: segments and retention
        world.env.process(self._run())

    @property
    def _client_groups(self) -> list[tuple[str, list[str]]]:
        # consumer groups grow when members join mid-run (consumer_join)
        return self._producer_hosts + [
            (consumer_prefix(group), [m.host for m in members])
            for group, members in self.world.groups.items()
        ]

    def _counters(self, now: float) -> dict[str, Any]:
        """Every cumulative counter the rows are derived from."""
        world = self.world
        c: dict[str, Any] = {}
        c["created"] = sum(p.created for p in world.producers)
        c["acked"] = sum(p.acked for p in world.producers)
        c["acked_bytes"] = sum(p.acked_bytes for p in world.producers)
        c["acked_payload"] = sum(p.acked * p.spec.message_size.mean for p in world.producers)
        c["requests"] = sum(p.requests for p in world.producers)
        c["batches"] = sum(p.batches_sent for p in world.producers)
        for group, members in world.groups.items():
            c[f"consumed.{group}"] = sum(m.consumed_messages for m in members)
            c[f"consumed_bytes.{group}"] = sum(m.consumed_bytes for m in members)
        for broker_id, broker in world.brokers.items():
            nic = world.network.host_counters(broker.host)
            c[f"b{broker_id}.in"] = nic.bytes_received + world.small_bytes_received[broker.host]
            c[f"b{broker_id}.out"] = nic.bytes_sent + world.small_bytes_sent[broker.host]
            c[f"b{broker_id}.in_busy"] = nic.ingress_busy_time + world.small_busy_in[broker.host]
            c[f"b{broker_id}.out_busy"] = nic.egress_busy_time + world.small_busy_out[broker.host]
            # one disk per log directory: arrays in log.dirs order
            disks = [world.network.host_counters(host) for host in broker.disk_hosts]
            c[f"b{broker_id}.disk_write"] = np.array([d.bytes_received for d in disks], dtype=float)
            c[f"b{broker_id}.disk_read"] = np.array([d.bytes_sent for d in disks], dtype=float)
            c[f"b{broker_id}.disk_write_busy"] = np.array([d.ingress_busy_time for d in disks])
            c[f"b{broker_id}.disk_read_busy"] = np.array([d.egress_busy_time for d in disks])
            c[f"b{broker_id}.cpu"] = broker.cpu_busy
            c[f"b{broker_id}.network"] = broker.network_busy
            c[f"b{broker_id}.append"] = np.array(
                [broker.lock_busy.get(tp, 0.0) for tp in broker.logs], dtype=float
            )
            c[f"b{broker_id}.queue_wait"] = broker.queue_wait
            c[f"b{broker_id}.requests"] = broker.requests
        c["cross_rack"] = world.network.cross_rack_bytes + world.small_cross_rack_bytes
        for prefix, hosts in self._client_groups:
            nics = [world.network.host_counters(host) for host in hosts]
            c[f"{prefix}.out"] = np.array(
                [n.bytes_sent + world.small_bytes_sent[h] for n, h in zip(nics, hosts, strict=True)]
            )
            c[f"{prefix}.in"] = np.array(
                [
                    n.bytes_received + world.small_bytes_received[h]
                    for n, h in zip(nics, hosts, strict=True)
                ]
            )
            c[f"{prefix}.out_busy"] = np.array(
                [
                    n.egress_busy_time + world.small_busy_out[h]
                    for n, h in zip(nics, hosts, strict=True)
                ]
            )
            c[f"{prefix}.in_busy"] = np.array(
                [
                    n.ingress_busy_time + world.small_busy_in[h]
                    for n, h in zip(nics, hosts, strict=True)
                ]
            )
        for group, members in world.groups.items():
            c[f"{consumer_prefix(group)}.cpu"] = np.array(
                [m.processing_busy_at(now) for m in members]
            )
        for prefix, producers in self._producer_groups.items():
            c[f"{prefix}.app_thread"] = np.array([p.app_busy_at(now) for p in producers])
            c[f"{prefix}.sender"] = np.array([p.sender_busy_at(now) for p in producers])
            c[f"{prefix}.connection"] = np.array([p.channel_busy_at(now) for p in producers])
        c["cpu_limited"] = sum(p.cpu_limited for p in world.producers)
        c["retries"] = sum(p.retries for p in world.producers)
        errors: dict[str, int] = {}
        for p in world.producers:
            for code, n in p.errors.items():
                errors[code] = errors.get(code, 0) + n
        for code in sorted(errors):
            c[f"errors.{code}"] = errors[code]
        return c

    def _run(self) -> Generator[simpy.Event, Any, None]:
        env = self.world.env
        self._last = self._counters(env.now)
        while True:
            yield env.timeout(self.interval)
            self.sample()

    def sample(self) -> None:
        world = self.world
        now = world.env.now
        dt = now - self._previous_time
        if dt <= 0:
            return
        c = self._counters(now)
        last = self._last
        d = {k: _since(c[k], last.get(k, 0.0)) for k in c}
        row: dict[str, float] = {"time": now}
        row["produce_msgs_per_s"] = d["acked"] / dt
        row["produce_MB_per_s"] = d["acked_bytes"] / dt / MB  # on the wire (compressed)
        row["produce_payload_MB_per_s"] = d["acked_payload"] / dt / MB
        row["created_msgs_per_s"] = d["created"] / dt
        # offered by the application but beyond its producer thread's send() (client CPU)
        row["producer_cpu_limited_msgs_per_s"] = d["cpu_limited"] / dt
        row["produce_requests_per_s"] = d["requests"] / dt
        row["batches_per_request"] = d["batches"] / d["requests"] if d["requests"] else 0.0
        # send() calls blocked on a full buffer.memory: the backlog a saturated cluster builds
        row["blocked_in_send"] = sum(p.backlog_messages for p in world.producers)
        for group in world.groups:
            row[f"consume_msgs_per_s.{group}"] = d[f"consumed.{group}"] / dt
            row[f"consume_MB_per_s.{group}"] = d[f"consumed_bytes.{group}"] / dt / MB
            row[f"lag.{group}"] = world.group_lag(group)
        for broker_id, broker in world.brokers.items():
            b = f"b{broker_id}"
            row[f"{b}.nic_in_MB_per_s"] = d[f"{b}.in"] / dt / MB
            row[f"{b}.nic_out_MB_per_s"] = d[f"{b}.out"] / dt / MB
            # small transfers overlap big flows in the model: a NIC is at most 100% busy
            row[f"{b}.nic_in_util"] = min(1.0, d[f"{b}.in_busy"] / dt)
            row[f"{b}.nic_out_util"] = min(1.0, d[f"{b}.out_busy"] / dt)
            row |= disk_columns(
                b,
                dt,
                d[f"{b}.disk_write"],
                d[f"{b}.disk_read"],
                d[f"{b}.disk_write_busy"],
                d[f"{b}.disk_read_busy"],
            )
            row[f"{b}.cpu_util"] = d[f"{b}.cpu"] / dt / broker.handler_threads
            row[f"{b}.network_util"] = d[f"{b}.network"] / dt / broker.network_threads
            # the busiest partition's log lock: appends to one partition are serial
            lock = d[f"{b}.append"]
            row[f"{b}.append_util"] = min(1.0, float(lock.max()) / dt) if lock.size else 0.0
            row[f"{b}.request_queue_ms"] = (
                1000 * d[f"{b}.queue_wait"] / d[f"{b}.requests"] if d[f"{b}.requests"] else 0.0
            )
            row[f"{b}.dirty_MB"] = broker.dirty_bytes / MB
        row |= self.disk.sample(now)
        registrations = world.partitions.values()
        row["under_replicated_partitions"] = sum(
            1 for r in registrations if len(r.isr) < len(r.replicas)
        )
        row["offline_partitions"] = sum(1 for r in registrations if r.leader < 0)
        row["min_isr_size"] = min((len(r.isr) for r in registrations), default=0)
        row["mean_isr_size"] = (
            sum(len(r.isr) for r in registrations) / len(world.partitions) if world.partitions else 0.0
        )
        min_isr = {t: topic.min_insync_replicas for t, topic in world.topics.items()}
        row["under_min_isr_partitions"] = sum(
            1 for tp, r in world.partitions.items() if len(r.isr) < min_isr[tp.topic]
        )
        # partitions whose leader is down (named, but nobody answers for it)
        row["unreachable_leader_partitions"] = sum(
            1 for r in registrations if r.leader >= 0 and not world.brokers[r.leader].alive
        )
        leaders: dict[int, int] = dict.fromkeys(world.brokers, 0)
        for r in registrations:
            if r.leader >= 0:
                leaders[r.leader] += 1
        for broker_id in world.brokers:
            row[f"b{broker_id}.leaders"] = leaders[broker_id]
        row["produce_retries_per_s"] = d["retries"] / dt
        for key in d:
            if key.startswith("errors."):
                row[f"produce_errors_per_s.{key[len('errors.'):]}"] = d[key] / dt
        row["cross_rack_MB_per_s"] = d["cross_rack"] / dt / MB
        for prefix, _ in self._client_groups:
            cpu = d.get(f"{prefix}.cpu")  # consumers' poll thread
            threads = (
                {
                    "app_thread": d[f"{prefix}.app_thread"],
                    "sender": d[f"{prefix}.sender"],
                    "connection": d[f"{prefix}.connection"],
                }
                if prefix in self._producer_groups
                else None
            )
            row |= client_host_columns(
                prefix,
                dt,
                bytes_out=d[f"{prefix}.out"],
                bytes_in=d[f"{prefix}.in"],
                busy_out=d[f"{prefix}.out_busy"],
                busy_in=d[f"{prefix}.in_busy"],
                cpu_busy=cpu,
                threads=threads,
            )
        # queues: one that grows over the measured window makes the run unsustainable
        row["replication_lag_MB"] = self._replication_lag_bytes() / MB
        row["accumulator_MB"] = sum(p.acc.buffered_bytes for p in world.producers) / MB
        for name, histograms in (
            ("produce", [p.latency for p in world.producers]),
            ("e2e", [m.latency for members in world.groups.values() for m in members]),
        ):
            interval = self._interval_histogram(name, histograms)
            for q in (50, 99):
                row[f"{name}_latency_p{q}_ms"] = (
                    1000 * interval.percentile(q) if interval is not None else float("nan")
                )
        self.rows.append(row)
        self._last = c
        self._previous_time = now

    def _replication_lag_bytes(self) -> int:
        """Bytes the followers (in the ISR or not) are behind their leaders' log ends."""
        world = self.world
        behind = 0
        for tp, registration in world.partitions.items():
            if registration.leader < 0:
                continue
            end = world.brokers[registration.leader].logs[tp].end_position
            for replica in registration.replicas:
                if replica != registration.leader:
                    behind += max(0, end - world.brokers[replica].logs[tp].end_position)
        return behind

    def _interval_histogram(
        self, name: str, histograms: list[LatencyHistogram]
    ) -> LatencyHistogram | None:
        if not histograms:
            return None
        total = LatencyHistogram()
        for h in histograms:
            total.merge(h)
        interval = total.since(self._previous_hist.get(name))
        self._previous_hist[name] = total.counts.copy()
        return interval

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows)
        # an error code's column starts with its first occurrence: before it, none occurred
        errors = [c for c in frame.columns if c.startswith("produce_errors_per_s.")]
        if errors:
            frame[errors] = frame[errors].fillna(0.0)
        return frame.set_index("time") if not frame.empty else frame


def _since(now: Any, before: Any) -> Any:
    """A counter's change; per-host arrays gain entries when hosts join mid-run, and a
    new host's counters started at zero."""
    if isinstance(now, np.ndarray) and isinstance(before, np.ndarray) and before.shape != now.shape:
        before = np.concatenate([before, np.zeros(now.shape[0] - before.shape[0])])
    return now - before
