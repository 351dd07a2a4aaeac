"""How big a run will be, from the scenario alone, before anything is allocated.

:func:`estimate_run` is a pure function of the scenario: the memory the engine will hold,
the work it will do (SimPy events for the events engine, steps x array cells for the
stepped engine) and a rough wall time. :func:`simulate` refuses a run whose estimated
memory is above :func:`memory_limit` (:class:`RunRefused`, carrying the estimate), and
``simkafka check`` prints the estimate and warns when the wall time is long.

Where the constants come from (measured on the 2-core development machine with
``benchmarks/bench_engine.py`` and ``tracemalloc``; see the commit that added this file):

* stepped engine memory: the dominant term is the creation curve every partition keeps
  (:class:`~simkafka.sim.fluid.CreationCurve`: a 4096-step ring plus one coarse row per
  64 steps, grown by doubling from 1024 rows), 8 bytes per cell; then the
  (producer x partition) and (group x partition) count arrays and their per-step
  temporaries, about 30 and 20 int64/float64 cells each, and about 40 cells per replica.
* events engine memory: about 6 KiB of Python objects per replica (its log, the leader
  state, the fetcher entry) and 1.2 KiB per (producer, partition) (the accumulator's
  deque and arrays), 2 KiB per consumer assignment.
* both: a time-series row is a dict of floats, about 100 bytes per column.
* events engine work: the requests it plays. A producer's request rate is bounded by the
  batches it closes (full, or by ``linger.ms``: one open partition for the sticky
  partitioner, one per partition for keyed records) and by
  ``max.in.flight.requests.per.connection`` per round trip; a fetch loop (replica
  fetcher or consumer fetch session) runs once a round trip while data flows and once
  per ``*.fetch.wait.max.ms`` when it does not. Wall time: about 150 us per produce
  request, 35 us per batch and 65 us per fetch, fitted on the seven scenarios in
  ``scenarios/`` (0.3 simulated s each; the estimate is within a factor of 4 of the
  measured wall time on all of them, on a loaded 2-core machine).
* both engines: about 2 us per time-series value and 0.2 ms to build a broker (rough).
* keyed producers: about 0.7 us per key of ``keys.count`` to hash the key space once
  (murmur2 in numpy, in chunks so that memory stays bounded).
* stepped engine wall time: about 1.5 ms per step (a hundred numpy calls) plus 6 ns per
  array cell per step (quickstart, reference, and reference with 20,000 partitions).
  Memory of the 20,000-partition reference: 832 MiB traced, 861 MiB estimated.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from simkafka.scenario import ProducerSpec, Scenario
from simkafka.sim.client_costs import producer_send_cpu
from simkafka.sim.guards import RunRefused

MIB = 1024**2
GIB = 1024**3

# memory (bytes)
CURVE_WINDOW = 4096  # CreationCurve's fine ring, in steps
CURVE_COARSE_EVERY = 64
STEPPED_CELLS_PER_PRODUCER_PARTITION = 30
STEPPED_CELLS_PER_GROUP_PARTITION = 20
STEPPED_CELLS_PER_REPLICA = 40
EVENTS_BYTES_PER_REPLICA = 6 * 1024
EVENTS_BYTES_PER_PRODUCER_PARTITION = 1200
EVENTS_BYTES_PER_ASSIGNMENT = 2048
BYTES_PER_SERIES_CELL = 100
BASE_BYTES = 150 * MIB  # the interpreter with numpy, pandas and simpy imported
# wall time (seconds of Python per simulated item)
PRODUCE_REQUEST_SECONDS = 150e-6
BATCH_SECONDS = 35e-6
FETCH_SECONDS = 65e-6
SERIES_CELL_SECONDS = 2e-6  # a probe value written, then framed by pandas
BROKER_SECONDS = 2e-4  # building one broker (its hosts, logs and processes)
KEY_SECONDS = 0.7e-6  # murmur2 of one key of keys.count, once per producer group
STEP_SECONDS = 1.5e-3
# flow engine: a rate solution walks the solver's entries (every resource each flow
# uses) a few rounds, three fixed-point iterations; measured on the reference
# (benchmarks/bench_flow.py): about 60 ns per entry and solution, 12 bytes per entry
FLOW_ENTRY_SECONDS = 60e-9
FLOW_BYTES_PER_ENTRY = 12 * 8
FLOW_SOLVES_PER_PIECE = 2  # a profile piece's solution and a boundary or settling after it
CELL_STEP_SECONDS = 6e-9

#: Refuse a run whose estimated memory is above this share of the machine's memory.
MEMORY_FRACTION = 0.5
#: Warn (``simkafka check`` / ``run``) when a run is estimated to take longer than this.
LONG_WALL_SECONDS = 120.0
#: Refuse a run estimated to take longer than this (a week): it would look like a hang.
MAX_WALL_SECONDS = 7 * 86400.0


@dataclass(frozen=True)
class RunEstimate:
    """What a run will cost, estimated from its scenario (see the module docstring)."""

    engine: str
    memory_bytes: float
    work: float  # requests + batches (events engine) or step x cell updates (stepped)
    wall_seconds: float
    shape: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        unit = "requests and batches" if self.engine == "events" else "array-cell updates"
        return (
            f"{self.engine} engine: ~{_bytes(self.memory_bytes)} of memory, ~{self.work:.3g} {unit}, "
            f"~{_seconds(self.wall_seconds)} wall time"
        )


def _bytes(n: float) -> str:
    for unit, size in (("TiB", 1024**4), ("GiB", GIB), ("MiB", MIB)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 1024:.3g} KiB"


def _seconds(s: float) -> str:
    if s >= 86400:
        return f"{s / 86400:.3g} days"
    if s >= 3600:
        return f"{s / 3600:.3g} h"
    if s >= 60:
        return f"{s / 60:.3g} min"
    return f"{s:.2g} s"


def memory_limit() -> float:
    """:data:`MEMORY_FRACTION` of the machine's physical memory (8 GiB if unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 16 * GIB
    return MEMORY_FRACTION * total


def _shape(scenario: Scenario) -> dict[str, float]:
    """Counts that size the arrays and the request streams."""
    topics = {t.name: t for t in scenario.topics}
    brokers = len(scenario.cluster.brokers)
    partitions = sum(t.partitions for t in scenario.topics)
    replicas = sum(t.partitions * t.replication_factor for t in scenario.topics)
    producers = sum(p.count for p in scenario.producers)
    producer_partitions = sum(
        p.count * topics[p.topic].partitions for p in scenario.producers if p.topic in topics
    )
    members = sum(g.members for g in scenario.consumer_groups)
    group_partitions = sum(
        sum(topics[t].partitions for t in g.topics if t in topics) for g in scenario.consumer_groups
    )
    fetchers = scenario.cluster.config.num_replica_fetchers
    # per broker, per producer group (client NICs) and per consumer group (lag, rates,
    # client NICs and processing), plus the cluster-wide ones
    series_columns = (
        22 + 12 * brokers + 6 * len(scenario.producers) + 11 * len(scenario.consumer_groups)
    )
    run = scenario.run
    return {
        "brokers": brokers,
        "partitions": partitions,
        "replicas": replicas,
        "followers": replicas - partitions,
        "producers": producers,
        "producer_partitions": producer_partitions,
        "members": members,
        "group_partitions": group_partitions,
        "fetch_streams": min(brokers * max(0, brokers - 1) * fetchers, max(0, replicas - partitions)),
        "series_cells": run.duration / run.sample_interval * series_columns,
    }


def _profile_pieces(scenario: Scenario) -> float:
    """How many times the producers' rate profiles change over the run (an estimate: a
    continuous profile changes about 300 times a period at the flow engine's tolerance)."""
    duration = scenario.run.duration
    total = 0.0
    for spec in scenario.producers:
        profile = spec.profile
        kind = getattr(profile, "type", "constant")
        if kind in ("constant", "poisson"):
            total += 1
        elif kind == "step":
            total += 1 + len(profile.steps)  # type: ignore[attr-defined]
        elif kind == "burst":
            total += 1 + 2 * duration / profile.every  # type: ignore[attr-defined]
        else:
            period = getattr(profile, "period", None) or getattr(profile, "per", None) or duration
            total += 1 + 300 * duration / float(period)
    return total


def _mean_count(scenario: Scenario) -> float:
    counts = [p.count for p in scenario.producers]
    return sum(counts) / len(counts) if counts else 1.0


def offered_rate_bound(scenario: Scenario, spec: ProducerSpec) -> float:
    """Messages/s one instance of ``spec`` hands ``send()``: its share of the rate, or for
    ``rate: max`` the most its application thread can do (``1 / send_cpu``), at most the
    client NIC's worth -- an upper bound, which is what an estimate of the work needs."""
    if not spec.rate.is_max:
        return spec.rate.messages(spec.message_size.mean) / spec.count
    per_message = spec.message_size.mean * spec.effective_compression_ratio + 10
    nic_bound = float(scenario.cluster.clients.nic) / per_message
    send_cpu = producer_send_cpu(scenario.costs, spec.compression_type, spec.message_size.mean)
    return min(nic_bound, 1.0 / send_cpu) if send_cpu > 0 else nic_bound


def _request_rates(scenario: Scenario, shape: dict[str, float]) -> dict[str, float]:
    """Requests per simulated second the events engine will play (see module docstring)."""
    topics = {t.name: t for t in scenario.topics}
    net = scenario.cluster.network
    brokers = max(1, shape["brokers"])
    request_cpu = scenario.costs.broker.request_cpu
    client_rtt = 2 * net.client_latency + request_cpu
    replica_rtt = 2 * max(net.rack_latency, net.cross_rack_latency) + request_cpu
    produce = batches = 0.0
    appends_per_broker = 0.0
    for spec in scenario.producers:
        topic = topics.get(spec.topic)
        if topic is None:
            continue
        per_message = spec.message_size.mean * spec.effective_compression_ratio + 10
        per_batch = max(1.0, max(1, spec.batch_size) / per_message) if spec.batch_size > 0 else 1.0
        rate = offered_rate_bound(scenario, spec)
        connections = min(brokers, topic.partitions)
        # a batch closes when full, or when linger.ms runs out: the sticky partitioner
        # keeps one partition open at a time, keyed records one per partition
        open_batches = topic.partitions if spec.keys.keyed else 1
        batch_rate = max(rate / per_batch, min(rate, open_batches / max(spec.linger, client_rtt)))
        per_connection_cap = spec.max_in_flight_requests_per_connection / max(client_rtt, 1e-6)
        requests = min(batch_rate, connections * per_connection_cap)
        produce += spec.count * requests
        batches += spec.count * batch_rate
        appends_per_broker += spec.count * requests / brokers
    config = scenario.cluster.config
    idle_fetch = 1 / max(config.replica_fetch_wait_max, 1e-3)
    busy_fetch = 1 / max(replica_rtt, 1e-6)
    replica = shape["fetch_streams"] * min(busy_fetch, appends_per_broker + idle_fetch)
    consumer = 0.0
    for group in scenario.consumer_groups:
        partitions = sum(topics[t].partitions for t in group.topics if t in topics)
        members = min(group.members, partitions)
        # one fetch session per (member, leader broker of its partitions)
        sessions = members * min(brokers, max(1.0, partitions / max(1, members)))
        idle = 1 / max(group.fetch_max_wait, 1e-3)
        consumer += sessions * min(1 / max(client_rtt, 1e-6), appends_per_broker + idle)
    return {"produce_requests": produce, "batches": batches, "replica_fetches": replica, "consumer_fetches": consumer}


def estimate_run(scenario: Scenario) -> RunEstimate:
    """Memory, work and wall time of simulating ``scenario`` with its ``run.engine``."""
    shape = _shape(scenario)
    run = scenario.run
    series = shape["series_cells"] * BYTES_PER_SERIES_CELL
    if run.engine == "flow":
        pieces = _profile_pieces(scenario)
        entries = (
            10 * shape["producer_partitions"] / max(1.0, _mean_count(scenario))
            + 6 * shape["followers"]
            + 6 * shape["group_partitions"]
        )
        solves = FLOW_SOLVES_PER_PIECE * (pieces + 2 * len(scenario.faults)) + run.duration / run.sample_interval
        memory = BASE_BYTES + FLOW_BYTES_PER_ENTRY * entries + series
        work = solves * entries
        wall = work * FLOW_ENTRY_SECONDS
        shape |= {"rate_solutions": solves}
    elif run.engine == "stepped":
        steps = math.ceil(run.duration / run.step)
        coarse = 1024 * 2 ** max(0, math.ceil(math.log2(max(1.0, (steps / CURVE_COARSE_EVERY + 1) / 1024))))
        curve = 8 * shape["partitions"] * (CURVE_WINDOW + coarse)
        cells = (
            STEPPED_CELLS_PER_PRODUCER_PARTITION * shape["producer_partitions"]
            + STEPPED_CELLS_PER_GROUP_PARTITION * shape["group_partitions"]
            + STEPPED_CELLS_PER_REPLICA * shape["replicas"]
            + 4 * shape["brokers"] ** 2 * scenario.cluster.config.num_replica_fetchers
        )
        memory = BASE_BYTES + curve + 8 * cells + series
        work = steps * cells
        wall = steps * STEP_SECONDS + work * CELL_STEP_SECONDS
        shape |= {"steps": steps}
    else:
        rates = _request_rates(scenario, shape)
        memory = (
            BASE_BYTES
            + EVENTS_BYTES_PER_REPLICA * shape["replicas"]
            + EVENTS_BYTES_PER_PRODUCER_PARTITION * shape["producer_partitions"]
            + EVENTS_BYTES_PER_ASSIGNMENT * shape["group_partitions"]
            + series
        )
        fetches = rates["replica_fetches"] + rates["consumer_fetches"]
        work = (rates["produce_requests"] + rates["batches"] + fetches) * run.duration
        wall = run.duration * (
            PRODUCE_REQUEST_SECONDS * rates["produce_requests"]
            + BATCH_SECONDS * rates["batches"]
            + FETCH_SECONDS * fetches
        )
        shape |= rates
    keys = sum(p.keys.count or 0 for p in scenario.producers if p.keys.keyed)
    wall += KEY_SECONDS * keys + SERIES_CELL_SECONDS * shape["series_cells"]
    wall += BROKER_SECONDS * shape["brokers"]
    return RunEstimate(run.engine, memory, work, wall, shape | {"keys": keys})


def refuse_if_too_big(scenario: Scenario, limit: float | None = None) -> RunEstimate:
    """The run's estimate; :class:`RunRefused` carrying it when its memory is above ``limit``
    (default :func:`memory_limit`) or its wall time above :data:`MAX_WALL_SECONDS`."""
    estimate = estimate_run(scenario)
    limit = memory_limit() if limit is None else limit
    if estimate.wall_seconds > MAX_WALL_SECONDS:
        raise RunRefused(
            f"cannot simulate {scenario.name!r}: the run would take about "
            f"{_seconds(estimate.wall_seconds)}, more than the {_seconds(MAX_WALL_SECONDS)} "
            f"allowed; estimate: {estimate}"
        )
    if estimate.memory_bytes > limit:
        raise RunRefused(
            f"cannot simulate {scenario.name!r}: the run would need about "
            f"{_bytes(estimate.memory_bytes)} of memory, more than the {_bytes(limit)} allowed "
            f"({MEMORY_FRACTION:.0%} of this machine's); estimate: {estimate}. Fewer partitions, "
            "producers or consumers, a shorter run or a longer run.step make it smaller"
        )
    return estimate
