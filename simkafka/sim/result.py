"""What a run returns -- a summary, the time series, latency histograms and the accounting --
and :func:`build_result`, which both engines call to summarise a run into one."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd

from simkafka.scenario import Scenario
from simkafka.sim.fault_outcome import FaultOutcome, empty_outcome
from simkafka.sim.group_outcome import GroupOutcome, empty_group_outcome, group_delivery_summary
from simkafka.sim.histogram import LatencyHistogram
from simkafka.sim.sustainability import can_judge, growing_queues

PERCENTILES = (50, 95, 99, 99.9)
SATURATED = 0.9  # a resource busier than this on average limits the run
# every broker resource with a ``b<id>.<resource>_util`` column, as the bottleneck names it
BROKER_RESOURCES = {
    "nic_in": "nic in",
    "nic_out": "nic out",
    "disk_write": "disk write",
    "disk_read": "disk read",
    "cpu": "cpu",
    "network": "network threads",
    "append": "partition append",
}
MB = 1e6
# A queue growing slower than this share of the flow through it is no capacity problem
# (an hour of it is a backlog of 3.6 s of traffic). 1 % was too coarse: one saturated
# consumer among six falls behind at under 1 % of its group's rate, without end.
MIN_GROWTH_SHARE = 0.001


# -- client host columns -------------------------------------------------------------------
#
# Every producer and consumer instance has a host of its own (NIC in and out, and the CPU
# of its application thread); a scenario may have thousands. The time series holds a fixed
# number of columns per producer group and per consumer group, whatever their host count:
# the busiest host's utilisation of each resource and which host that was.
# ``<prefix>.<resource>_util`` is what build_result names bottlenecks from, so a resource
# an engine starts to model (a producer's send() CPU) is a candidate as soon as an engine
# writes its column.

CLIENT_UTIL_COLUMN = re.compile(
    r"^(?P<kind>producer|consumer)\.(?P<group>.+)\.(?P<resource>[a-z_]+)_util$"
)

#: each broker's disk used (``sim.disk_usage``): its logs' segments after retention
DISK_USED_COLUMN = re.compile(r"b\d+\.disk_used_GB")


# how the bottleneck line names a producer's threads
PRODUCER_RESOURCE_NAMES = {
    "app_thread": "application thread (send())",
    "sender": "sender thread",
    # the broker reads a connection's next request only once it answered the last
    "connection": "connection (one request at a time)",
}


def producer_prefix(name: str) -> str:
    """Column prefix of the producer group ``name`` (its hosts are ``name-<index>``)."""
    return f"producer.{name}"


def consumer_prefix(group_id: str) -> str:
    """Column prefix of the consumer group ``group_id`` (members ``group_id-<index>``)."""
    return f"consumer.{group_id}"


def disk_columns(
    broker: str,
    dt: float,
    written: np.ndarray,
    read: np.ndarray,
    write_busy: np.ndarray,
    read_busy: np.ndarray,
) -> dict[str, float]:
    """A broker's disk columns from per-log-directory counters over an interval: bytes
    summed over its disks, utilisation of the busiest (``disk_write_util`` is what the
    bottleneck reads), and with more than one directory (JBOD) each dir's own
    ``<b>.dir<k>.disk_write_util`` / ``disk_write_MB_per_s`` (and read)."""
    row = {
        f"{broker}.disk_write_MB_per_s": float(written.sum()) / dt / MB,
        f"{broker}.disk_read_MB_per_s": float(read.sum()) / dt / MB,
        f"{broker}.disk_write_util": float(write_busy.max()) / dt,
        f"{broker}.disk_read_util": float(read_busy.max()) / dt,
    }
    if written.size > 1:
        for k in range(written.size):
            row[f"{broker}.dir{k}.disk_write_MB_per_s"] = float(written[k]) / dt / MB
            row[f"{broker}.dir{k}.disk_write_util"] = float(write_busy[k]) / dt
            if read.size == written.size:
                row[f"{broker}.dir{k}.disk_read_MB_per_s"] = float(read[k]) / dt / MB
                row[f"{broker}.dir{k}.disk_read_util"] = float(read_busy[k]) / dt
    return row


def busiest_host_columns(prefix: str, resource: str, utilisation: np.ndarray) -> dict[str, float]:
    """``<prefix>.<resource>_util``, the busiest host's utilisation over the interval (at
    most 1), and ``<prefix>.<resource>_busiest``, that host's index in its group."""
    if utilisation.size == 0:
        return {}
    busiest = int(np.argmax(utilisation))
    return {
        f"{prefix}.{resource}_util": min(1.0, max(0.0, float(utilisation[busiest]))),
        f"{prefix}.{resource}_busiest": float(busiest),
    }


def client_host_columns(
    prefix: str,
    dt: float,
    *,
    bytes_out: np.ndarray,
    bytes_in: np.ndarray,
    busy_out: np.ndarray,
    busy_in: np.ndarray,
    cpu_busy: np.ndarray | None = None,
    threads: dict[str, np.ndarray] | None = None,
) -> dict[str, float]:
    """One client group's columns for an interval of ``dt`` seconds, from each host's
    bytes and busy seconds in it: the group's NIC throughput (sum over its hosts) and the
    busiest host's NIC and CPU utilisation (``cpu_busy``: seconds of its one application
    thread; omitted where the engines model no client CPU). ``threads`` adds one
    ``<resource>_util`` column per named thread (a producer's ``app_thread`` and
    ``sender``) from its busy seconds per host."""
    row = {
        f"{prefix}.nic_out_MB_per_s": float(bytes_out.sum()) / dt / MB,
        f"{prefix}.nic_in_MB_per_s": float(bytes_in.sum()) / dt / MB,
    }
    row |= busiest_host_columns(prefix, "nic_out", busy_out / dt)
    row |= busiest_host_columns(prefix, "nic_in", busy_in / dt)
    if cpu_busy is not None:
        row |= busiest_host_columns(prefix, "cpu", cpu_busy / dt)
    for resource, busy in (threads or {}).items():
        row |= busiest_host_columns(prefix, resource, busy / dt)
    return row


class SampledRows:
    """A run's time series as it is sampled: one row per sample, with the latency
    percentiles of each sample's own interval (the stepped and flow engines' probes)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []
        self._previous_hist: dict[str, np.ndarray] = {}

    def latency_columns(self, row: dict[str, float], histograms: dict[str, LatencyHistogram]) -> None:
        """``<name>_latency_p50_ms`` and ``_p99_ms`` of what each histogram took since the
        previous sample."""
        for name, h in histograms.items():
            interval = h.since(self._previous_hist.get(name))
            self._previous_hist[name] = h.counts.copy()
            for q in (50, 99):
                row[f"{name}_latency_p{q}_ms"] = 1000 * interval.percentile(q)

    def frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows)
        return frame.set_index("time") if not frame.empty else frame


def group_accounting(
    consumed: int,
    fetched: int,
    processing: int,
    unfetched: int,
    below_hw: int,
    in_transit: int = 0,
    skipped: int = 0,
) -> dict[str, object]:
    """Where a group's messages below the high watermark are: they must add up.
    ``skipped``: below where the group started (``auto.offset.reset=latest`` past a
    topic's prefill), never to be read."""
    return {
        "skipped_at_start": skipped,
        "consumed": consumed,
        "fetched_not_polled": fetched,
        "fetch_in_transit": in_transit,
        "being_processed": processing,
        "lag_not_fetched": unfetched,
        "below_high_watermark": below_hw,
        "balanced": consumed + processing + fetched + in_transit + unfetched + skipped
        == below_hw,
    }


def run_accounting(
    *,
    created: int,
    acked: int,
    blocked: int,
    buffered: int,
    in_flight: int,
    failed: dict[str, int],
    appended: int,
    below_hw: int,
    groups: dict[str, dict[str, object]],
    prefilled: int = 0,
    written_twice: int = 0,
) -> dict[str, object]:
    """Where every created message is, and whether it all adds up (both engines).
    ``prefilled`` messages were in the topics before the run (``prefill``): they are in
    the logs and may be consumed, but no producer created them, so the logs hold at most
    ``prefilled + created`` records, plus the ``written_twice`` copies of a
    non-idempotent producer's retries."""
    producer_balanced = created == acked + blocked + buffered + in_flight + sum(failed.values())
    logs_balanced = appended - written_twice <= prefilled + created
    return {
        "created": created,
        "acknowledged": acked,
        "blocked_in_send": blocked,
        "in_accumulator": buffered,
        "in_flight": in_flight,
        "failed": dict(sorted(failed.items())),
        "prefilled": prefilled,
        "appended_to_leaders": appended,
        "written_twice": written_twice,
        "below_high_watermark": below_hw,
        "producers_balanced": producer_balanced,
        "logs_balanced": logs_balanced,
        "groups": groups,
        "ok": producer_balanced
        and logs_balanced
        and all(g["balanced"] for g in groups.values()),
    }


@dataclass
class RunResult:
    """One simulated run of a scenario.

    ``summary`` -- headline figures (steady state, after the warm-up) as a dict;
    ``timeseries`` -- one row per sample interval; ``latency`` -- percentiles (seconds) of
    produce and end-to-end latency; ``conservation`` -- where every created message is;
    ``histograms`` -- the underlying latency histograms.
    """

    scenario_name: str
    seed: int
    summary: dict[str, Any]
    timeseries: pd.DataFrame
    latency: pd.DataFrame
    conservation: dict[str, Any]
    histograms: dict[str, LatencyHistogram] = field(repr=False, default_factory=dict)
    resolved_scenario: dict[str, Any] = field(repr=False, default_factory=dict)
    versions: dict[str, str] = field(repr=False, default_factory=dict)
    # the delivery checker per topic (acknowledged but lost, written twice, ...), what
    # the control plane did (faults, fencing, elections, ISR changes) and how long each
    # partition was without a reachable leader or under min.insync.replicas; empty
    # frames from an engine that does not check them (see the summary's
    # ``delivery_checked``)
    delivery: pd.DataFrame = field(repr=False, default_factory=lambda: empty_outcome().delivery)
    timeline: pd.DataFrame = field(repr=False, default_factory=lambda: empty_outcome().timeline)
    availability: pd.DataFrame = field(
        repr=False, default_factory=lambda: empty_outcome().availability
    )
    # every partition registration the brokers applied (time, topic, partition, leader,
    # isr, leader_epoch, partition_epoch, replicas, elr, reason; see
    # simkafka.sim.fault_outcome.PARTITION_HISTORY_COLUMNS): the starting one of each
    # partition at time 0, then each change. Empty from the stepped engine, which plays
    # no control-plane fault: its partitions keep the registrations they started with
    # (simkafka.model.topology.scenario_topology). simkafka.report.topology.topology_at
    # reads it.
    partition_history: pd.DataFrame = field(
        repr=False, default_factory=lambda: empty_outcome().partition_history
    )
    # consumer groups' rebalance log (one row per rebalance) and who owned which
    # partition when (one row per ownership span); empty from an engine whose groups keep
    # their first assignment (see the summary's ``group_rebalances_simulated``)
    rebalances: pd.DataFrame = field(
        repr=False, default_factory=lambda: empty_group_outcome().rebalances
    )
    assignments: pd.DataFrame = field(
        repr=False, default_factory=lambda: empty_group_outcome().assignments
    )

    def summary_table(self) -> pd.DataFrame:
        rows = [
            {"metric": k, "value": _fmt(v)}
            for k, v in self.summary.items()
            if not isinstance(v, dict)
        ]
        return pd.DataFrame(rows).set_index("metric")

    def __repr__(self) -> str:
        s = self.summary
        warning = f"; {s['sustainability']}" if s.get("sustainable") is False else ""
        faults = ""
        if s.get("faults_not_simulated"):
            faults += f"; {s['faults_not_simulated']} fault(s) NOT SIMULATED by the {s.get('engine')} engine"
        if s.get("delivery_checked") and (len(self.timeline) or s.get("delivery_ok") is False):
            # the report's verdict (simkafka.report.faults.delivery_verdict), in one line
            lost = int(s.get("acknowledged_lost", 0))
            faults += "; " + (
                "every acknowledged message is in the log"
                if lost == 0
                else f"{lost:,} acknowledged message{'s' if lost != 1 else ''} lost"
            )
            faults += f", {s.get('leader_elections', 0)} leader election(s)"
            if not math.isnan(s.get("failover_s", math.nan)):
                faults += f", failover {s['failover_s']:.3g} s"
        if len(self.rebalances):
            longest = float(self.rebalances["stop_the_world_s"].max())
            faults += f"; {len(self.rebalances)} rebalance(s), longest stop-the-world {longest:.3g} s"
        return (
            f"<RunResult {self.scenario_name} seed={self.seed}: "
            f"{s.get('produce_msgs_per_s', 0):,.0f} msg/s produced, "
            f"p99 produce {1000 * s.get('p99_produce_latency_s', math.nan):.2f} ms, "
            f"p99 e2e {1000 * s.get('p99_e2e_latency_s', math.nan):.2f} ms, "
            f"bottleneck {s.get('bottleneck', '?')}{warning}{faults}>"
        )

    def _repr_html_(self) -> str:
        s = self.summary
        faults = ""
        if s.get("faults_not_simulated"):
            faults += (
                f'<p style="color:#b00"><b>{s["faults_not_simulated"]} fault(s) not simulated</b> '
                f"by the {s.get('engine')} engine: the run shows the cluster as if they never happened</p>"
            )
        if s.get("delivery_checked") and (len(self.timeline) or s.get("delivery_ok") is False):
            lost = int(s.get("acknowledged_lost", 0))
            verdict = (
                "every acknowledged message is in the log"
                if lost == 0
                else f"{lost:,} acknowledged message{'s' if lost != 1 else ''} lost"
            )
            colour = "#080" if s.get("delivery_ok") is not False else "#b00"
            faults += (
                f'<p style="color:{colour}"><b>delivery:</b> {verdict}</p>'
                + self.delivery.to_html()
                + f"<p>{s.get('leader_elections', 0)} leader election(s), "
                f"{s.get('isr_changes', 0)} ISR change(s); failover {_fmt(s.get('failover_s', math.nan))} s, "
                f"longest without a leader {_fmt(s.get('max_partition_no_leader_s', math.nan))} s; "
                f"{len(self.timeline)} timeline event(s) in <code>.timeline</code></p>"
            )
        if len(self.rebalances):
            faults += (
                f"<p>{len(self.rebalances)} consumer group rebalance(s) in <code>.rebalances</code>, "
                "who owned which partition when in <code>.assignments</code></p>"
            )
        return (
            f"<b>{self.scenario_name}</b> (seed {self.seed})"
            + faults
            + self.summary_table().to_html()
            + "<b>latency (ms)</b>"
            # 3 significant digits: what histogram buckets ~1.2 % wide resolve
            + (self.latency * 1000).map(lambda v: f"{v:.3g}").to_html()
        )


def build_result(
    scenario: Scenario,
    ts: pd.DataFrame,
    produce: LatencyHistogram,
    e2e: LatencyHistogram,
    broker_ids: list[int],
    processing: dict[str, tuple[int, float]],
    accounting: dict[str, object],
    outcome: FaultOutcome | None = None,
    played_fault_types: frozenset[str] = frozenset(),
    groups: GroupOutcome | None = None,
) -> RunResult:
    """The summary both engines report: steady-state means, percentiles, the bottleneck
    (every broker and client resource a utilisation column names) and whether the run is
    sustainable (no queue grows over the measured window). ``groups``: what the consumer
    groups' rebalances did (default :func:`empty_group_outcome`: the groups kept their
    first assignment); with the delivery checker's ``outcome``, each group's records
    consumed twice and skipped are in the summary too. ``processing`` is (members with
    partitions, processing time per record) per consumer group; how busy a group's
    members' threads are -- processing plus ``poll()``'s own cost per record, byte and
    decompression -- is read from the ``consumer.<group>.cpu_util`` column."""
    steady = ts[ts.index > scenario.run.warmup] if not ts.empty else ts
    latency = pd.DataFrame(
        {
            name: {f"p{q:g}": h.percentile(q) for q in PERCENTILES} | {"mean": h.mean, "max": h.max}
            for name, h in (("produce", produce), ("end_to_end", e2e))
        }
    ).T
    summary: dict[str, object] = {}

    def mean(column: str) -> float:
        return float(steady[column].mean()) if column in steady and len(steady) else math.nan

    summary["duration_s"] = scenario.run.duration
    summary["engine"] = scenario.run.engine
    # faults of a type this engine does not play (see its docstring)
    summary["faults_not_simulated"] = sum(1 for f in scenario.faults if f.type not in played_fault_types)
    summary["delivery_checked"] = outcome is not None
    # brokers down for the whole run (cluster.offline_brokers): fenced before it started
    summary["offline_brokers"] = len(scenario.cluster.offline_brokers)
    summary["produce_msgs_per_s"] = mean("produce_msgs_per_s")
    summary["produce_MB_per_s"] = mean("produce_MB_per_s")
    summary["produce_payload_MB_per_s"] = mean("produce_payload_MB_per_s")
    summary["created_msgs_per_s"] = mean("created_msgs_per_s")
    # what the applications offered beyond their producer threads' send() (client CPU):
    # never created, so never counted as produced or lost
    summary["producer_cpu_limited_msgs_per_s"] = mean("producer_cpu_limited_msgs_per_s")
    summary["produce_requests_per_s"] = mean("produce_requests_per_s")
    summary["batches_per_request"] = mean("batches_per_request")
    summary["p50_produce_latency_s"] = produce.percentile(50)
    summary["p99_produce_latency_s"] = produce.percentile(99)
    summary["p99_e2e_latency_s"] = e2e.percentile(99)
    for group in processing:
        summary[f"consume_msgs_per_s.{group}"] = mean(f"consume_msgs_per_s.{group}")
        summary[f"max_lag.{group}"] = (
            float(steady[f"lag.{group}"].max()) if len(steady) else math.nan
        )
        summary[f"final_lag.{group}"] = float(ts[f"lag.{group}"].iloc[-1]) if len(ts) else math.nan
    utilisation = {}
    for b in broker_ids:
        for resource, label in BROKER_RESOURCES.items():
            column = f"b{b}.{resource}_util"
            utilisation[f"broker {b} {label}"] = mean(column)
    busiest_host: dict[str, str] = {}
    for name, (value, host) in _client_utilisation(scenario, steady).items():
        utilisation[name] = value
        busiest_host[name] = host
    if utilisation:
        ranked = sorted(
            utilisation.items(), key=lambda kv: -1 if math.isnan(kv[1]) else kv[1], reverse=True
        )
        name, value = ranked[0]
        # a connection's channel is held while its request waits for anything downstream
        # (a handler, a lock, dirty-page room, the high watermark): it reads full whenever
        # one of those is, and is the bottleneck only when none of them is
        connection = PRODUCER_RESOURCE_NAMES["connection"]
        waited_on = [kv for kv in ranked if not kv[0].endswith(connection) and kv[1] >= SATURATED]
        if name.endswith(connection) and waited_on:
            name, value = waited_on[0]
        host = f"{busiest_host[name]}, " if name in busiest_host else ""
        where = f"{name} ({host}{100 * value:.0f}% busy)"
        if value >= SATURATED:
            summary["bottleneck"] = where
        else:
            summary["bottleneck"] = f"none saturated; busiest is {where}"
        summary["bottleneck_utilisation"] = value
    summary |= _sustainability(steady, mean)
    summary["max_under_replicated_partitions"] = (
        float(ts["under_replicated_partitions"].max()) if len(ts) else 0.0
    )
    summary["cross_rack_MB_per_s"] = mean("cross_rack_MB_per_s")
    # the fullest broker's disk at its fullest (segments on disk after retention)
    disks = [c for c in ts.columns if DISK_USED_COLUMN.fullmatch(c)] if len(ts) else []
    summary["max_broker_disk_used_GB"] = float(ts[disks].to_numpy().max()) if disks else math.nan
    summary["failed_messages"] = sum(accounting["failed"].values())  # type: ignore[union-attr]
    summary["conservation_ok"] = accounting["ok"]
    if outcome is not None:
        summary |= outcome.summary
        if outcome.report is not None:
            summary |= group_delivery_summary(outcome.report, processing)
    groups = groups or empty_group_outcome()
    if scenario.consumer_groups:
        summary |= groups.summary
    outcome = outcome or empty_outcome()
    return RunResult(
        scenario_name=scenario.name,
        seed=scenario.seed,
        summary=summary,
        timeseries=ts,
        latency=latency,
        conservation=accounting,
        histograms={"produce": produce, "end_to_end": e2e},
        resolved_scenario=scenario.model_dump(mode="json", by_alias=True),
        # the Kafka release whose behaviour the run reproduced, beside the software versions
        versions={**_versions(), "kafka": scenario.cluster.kafka_version},
        delivery=outcome.delivery,
        timeline=outcome.timeline,
        availability=outcome.availability,
        partition_history=outcome.partition_history,
        rebalances=groups.rebalances,
        assignments=groups.assignments,
    )


def _client_utilisation(scenario: Scenario, steady: pd.DataFrame) -> dict[str, tuple[float, str]]:
    """Mean steady-state utilisation of each client group's busiest host, per resource
    (every ``producer.*_util`` and ``consumer.*_util`` column), named as a bottleneck, with
    the host that was busiest most often ("events-1 of 4")."""
    hosts = {producer_prefix(p.name or p.topic): p.count for p in scenario.producers}
    hosts |= {consumer_prefix(g.group_id): g.members for g in scenario.consumer_groups}
    out = {}
    for column in steady.columns if len(steady) else ():
        match = CLIENT_UTIL_COLUMN.match(column)
        if match is None:
            continue
        kind, group, resource = match["kind"], match["group"], match["resource"]
        prefix = f"{kind}.{group}"
        words = resource.replace("_", " ")
        if kind == "consumer":
            # the application thread: processing time per record is what occupies it
            owner = f"consumer group {group} {'processing' if resource == 'cpu' else words}"
        else:
            owner = f"producer {group} {PRODUCER_RESOURCE_NAMES.get(resource, words)}"
        busiest = steady.get(f"{prefix}.{resource}_busiest")
        index = int(busiest.mode().iloc[0]) if busiest is not None and busiest.notna().any() else 0
        count = hosts.get(prefix)
        host = f"{group}-{index}" + (f" of {count}" if count else "")
        out[owner] = (float(steady[column].mean()), host)
    return out


# -- sustainability ------------------------------------------------------------------------


def _queue_columns(columns: list[str]) -> dict[str, tuple[str, str, str]]:
    """The time series' queues: column -> (what it is, its unit, the column of the flow
    through it, which sets the smallest growth worth reporting)."""
    queues = {
        "replication_lag_MB": ("replication lag", "MB", "produce_MB_per_s"),
        "blocked_in_send": ("blocked send()", "msg", "created_msgs_per_s"),
        "accumulator_MB": ("producer accumulators", "MB", "produce_MB_per_s"),
    }
    for column in columns:
        if column.startswith("lag."):
            group = column[4:]
            queues[column] = (f"consumer lag of {group}", "msg", f"consume_msgs_per_s.{group}")
        elif dirty := re.fullmatch(r"b(\d+)\.dirty_MB", column):
            broker = dirty[1]
            queues[column] = (
                f"broker {broker} dirty pages",
                "MB",
                f"b{broker}.disk_write_MB_per_s",
            )
    return {c: q for c, q in queues.items() if c in columns}


def _sustainability(steady: pd.DataFrame, mean: Callable[[str], float]) -> dict[str, object]:
    """Whether any queue grows linearly over the measured window (then the run's
    throughput is not one the cluster can keep up), and how fast replication lag grows."""
    times = steady.index.to_numpy(dtype=float) if len(steady) else np.zeros(0)
    queues = _queue_columns(list(steady.columns))
    floors = {}
    for column, (_, _, flow) in queues.items():
        through = mean(flow)  # NaN where the run had no such flow
        floors[column] = MIN_GROWTH_SHARE * through if through > 0 else 0.0
    growing = growing_queues(times, {c: steady[c].to_numpy(dtype=float) for c in queues}, floors)
    out: dict[str, object] = {}
    if not can_judge(times):
        out["sustainable"] = None
        out["sustainability"] = "unknown: too few samples after the warm-up to see a trend"
    elif growing:
        out["sustainable"] = False
        out["sustainability"] = "NOT SUSTAINABLE: " + "; ".join(
            f"{queues[c][0]} grows {_rate(rate)} {queues[c][1]}/s" for c, rate in growing.items()
        )
    else:
        out["sustainable"] = True
        out["sustainability"] = "sustainable: no queue grows over the measured window"
    out["growing_queues"] = growing
    lag = steady["replication_lag_MB"] if "replication_lag_MB" in steady else pd.Series(dtype=float)
    slope = np.polyfit(times, lag.to_numpy(dtype=float), 1)[0] if len(lag) >= 2 else 0.0
    out["replication_lag_growth_MB_per_s"] = max(0.0, float(slope))
    out["max_replication_lag_MB"] = float(lag.max()) if len(lag) else 0.0
    return out


def _rate(value: float) -> str:
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _versions() -> dict[str, str]:
    out = {}
    for package in ("simkafka", "simpy", "numpy", "pandas"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "unknown"
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)
