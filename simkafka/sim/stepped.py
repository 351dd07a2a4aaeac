"""The stepped engine: the same cluster, advanced one fixed step at a time over arrays.

The event engine follows every request; at production rates that is hundreds of thousands
of requests per simulated second, which Python cannot play faster than real time. This
engine keeps the same stages -- accumulator, network, request handlers, page cache and
disk, replication, high watermark, consumer fetch and processing -- but moves *counts of
messages* between them once per ``run.step`` (default 1 ms), for every producer,
partition, replica and consumer at once:

* **Producers** (:mod:`~simkafka.sim.stepped_producers`): arrivals, the sticky or keyed
  partitioner, ``buffer.memory``, the accumulator's batches and ``linger.ms``, the Sender's
  drain into requests (``max.in.flight.requests.per.connection``), the application and
  Sender threads' CPU, the acknowledgements.
* **Network** (:mod:`~simkafka.sim.stepped_network`): every connection with bytes to move
  is a flow from a sender's egress to a receiver's ingress; a step's NIC capacity is
  shared max-min fairly, whole messages crossing.
* **Brokers** (:mod:`~simkafka.sim.stepped_brokers`): muted connections served one request
  at a time, network and handler threads, each log's lock, ``flush.messages`` and
  ``flush.ms``, the page cache's dirty-page throttling and write-back (per log directory).
* **Replication** (:mod:`~simkafka.sim.stepped_replication`): the followers' fetchers and
  their loops, the high watermark over the ISR, ``acks=all``, ISR shrink and expansion.
* **Consumers** (:mod:`~simkafka.sim.stepped_consumers`): fetch sessions per leader broker,
  each member's thread polling and processing, the consumer groups' polls and rebalances
  (the coordinator itself is :mod:`~simkafka.sim.stepped_groups`').
* **Latency** (:mod:`~simkafka.sim.stepped_latency`): produce and end-to-end latencies
  read back as creation times from the partitions' creation curves.

:class:`SteppedWorld` gathers them: each stage is a class of its module, holding that
stage's methods, and :class:`SteppedWorld` inherits them all; the arrays they share are
built once (:mod:`~simkafka.sim.stepped_build`) and :meth:`SteppedWorld.step` plays the
stages in order. Each module's docstring says what its stage models and how.

Three simplifications move the latency percentiles most. A batch whose ``linger.ms`` runs
out is seen at the end of a step but counted as passing in its middle, and the replication
hop is credited a whole step, so a lingered batch's wait comes out up to about a step short:
the reference scenario's p99 (set by sticky remainders that wait out the linger) is 14 %
low at 1 ms steps, 32 % at 2 ms. A partition's log order is taken as its creation order
(a remainder is appended after younger batches of other producers and its wait is spread
over theirs), and an ``acks=all`` commit is shared among the producers waiting on the
partition in proportion rather than in log order; tracking the log order per producer
was tried and moved the p99 by 2 %, for memory that grows with producers x partitions.
A fetch session fetches at most once a step, and not again until its response has
crossed the network, where Kafka's fetchers loop every round trip: fetch request counts,
and the broker CPU charged per request, come out at about half the event engine's (48 % to
69 % low in `benchmarks/compare_engines.py`), while the bytes they move are the same.
The event engine is the reference; `benchmarks/compare_engines.py` prints how far apart
the two are.

Capacity faults (``slow_disk``, ``nic_degradation``, :mod:`simkafka.sim.degradation`)
scale a broker's NIC, or its disks' write and read bandwidth, from the step in which the
fault's start falls to the step in which its end falls (the events engine changes them
at the exact instant: up to a step apart). **This engine has no broker control plane**:
broker crashes, shutdowns and restarts, rack failures, controller failovers and network
partitions are not played (the summary's ``faults_not_simulated`` counts them,
``simkafka run`` warns), and it keeps no delivery history (the summary's
``delivery_checked`` is false; ``RunResult.delivery`` is empty, so records consumed
twice or skipped are not counted per record -- the rewinds are in ``reprocessed``), and
no partition's registration ever changes: ``RunResult.partition_history`` is empty and
``simkafka.report.plots.topology_at`` gives the starting topology at any time. The
events engine (:mod:`simkafka.sim.fault_player`) plays them all; ``simkafka durability``
always uses it. The consumer groups' coordinator *is* played
(:mod:`~simkafka.sim.stepped_consumers`):
``RunResult.rebalances`` and ``.assignments`` hold the rebalance log and the ownership
spans, as the events engine's do.

Brokers of ``cluster.offline_brokers`` are down for the whole run: the run starts from
the controller's decisions after fencing them
(:func:`~simkafka.model.topology.scenario_topology`), as the event engine does. They keep
their columns (all zero) but lead nothing; a replica on one is not a follower here (it
neither fetches nor rejoins the ISR, it only counts as a replica), and no fetcher or
fetch session involves them. A partition left without a leader (``has_leader`` false) is
offline: no follower, no consumer fetch, a high watermark of zero. The sticky
partitioner picks among the partitions with a leader (Kafka's available partitions);
keyed records for an offline one wait in the accumulator, never drained, until
``delivery.timeout.ms`` has passed since they entered it, and then fail with
``DELIVERY_TIMEOUT`` (``RecordAccumulator.expiredBatches``, see
:meth:`SteppedWorld._expire_leaderless`). An offline partition's ``leader`` entry names
its preferred replica (a broker that is down) only so that the arrays indexed by leader
stay in range; nothing moves through it.

Speed: a step is some 600 small array operations, and numpy's cost per call, not the
arithmetic, bounds it. The busiest stages therefore run as compiled kernels
(:mod:`simkafka.sim.stepped_numba`, numba), each fusing a stage's operations into one
loop that computes the same numbers in the same order, drawing its random roundings from
the same generator in the same order: a seed gives the same run, bit for bit, with or
without them. Where a stage may have to round at random in a way the kernel does not
cover (a link, a lock or a fetch response cut short), the kernel reports it without
having changed anything and the numpy code runs. ``SIMKAFKA_KERNELS=numpy``, or a
missing numba, runs the numpy code throughout (:mod:`simkafka.sim.stepped_kernels`).
"""

from __future__ import annotations

import numpy as np

from simkafka.random_streams import RandomStreams
from simkafka.scenario import Scenario
from simkafka.sim import stepped_kernels
from simkafka.sim.fluid import GOLDEN_RATIO_FRACTION, CreationCurve, split_fraction
from simkafka.sim.guards import check_engine_inputs
from simkafka.sim.histogram import LatencyHistogram
from simkafka.sim.result import group_accounting, run_accounting
from simkafka.sim.stepped_brokers import BrokerStages
from simkafka.sim.stepped_build import SteppedConstruction
from simkafka.sim.stepped_consumers import ConsumerStages
from simkafka.sim.stepped_groups import SteppedGroups
from simkafka.sim.stepped_latency import PENDING_STEPS, LatencyRecording
from simkafka.sim.stepped_network import NetworkStage
from simkafka.sim.stepped_producers import REQUEST_OVERHEAD, ProducerStages
from simkafka.sim.stepped_replication import ReplicationStages

# the engine, and the constants this module held before its stages moved to modules of
# their own (still importable from here)
__all__ = ["GOLDEN_RATIO_FRACTION", "PENDING_STEPS", "REQUEST_OVERHEAD", "SteppedWorld"]


class SteppedWorld(
    SteppedConstruction,
    ProducerStages,
    NetworkStage,
    BrokerStages,
    ReplicationStages,
    ConsumerStages,
    LatencyRecording,
):
    """Every component of a run as arrays, advanced by :meth:`step`."""

    def __init__(self, scenario: Scenario) -> None:
        check_engine_inputs(scenario)
        self.scenario = scenario
        self.dt = scenario.run.step
        self.now = 0.0
        self.steps = 0
        self.streams = RandomStreams(scenario.seed)
        self.rng = self.streams.get("stepped.rounding")
        # the compiled kernels of the busiest stages, or None: their numpy code runs
        self._kernels = stepped_kernels.load()
        # the generator's state as the kernels draw from it (see _rng_words)
        self._rng_view = None if self._kernels is None else self._kernels.rng_state_view(self.rng)
        self._build_brokers()
        self._build_partitions()
        self._build_producers()
        self._build_consumers()
        self._prefill()
        self.committed = self.consumed.copy()  # each group's committed offset per partition
        self.group_plane = SteppedGroups(self, scenario)
        self._build_links()
        self._build_append_locks()
        self._build_capacity_faults()
        self._build_step_constants()
        self.curve = CreationCurve(self.P, self.dt)
        self.produce_latency = LatencyHistogram()
        self.e2e_latency = LatencyHistogram()
        self.measure_from = scenario.run.warmup
        self._pending: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {
            "produce": [],
            "e2e": [],
        }

    @property
    def compiled(self) -> bool:
        """Whether the busiest stages run as compiled kernels (else all is numpy)."""
        return self._kernels is not None

    # -- one step ---------------------------------------------------------------------------

    def step(self) -> None:
        dt = self.dt
        # times from the step count, so that sample times are exact (no summed rounding)
        t0 = self.now
        t1 = round((self.steps + 1) * dt, 12)
        if self._capacity_changes and self._capacity_changes[0].at < t1 - 1e-12:
            self._apply_capacity_faults(t1)
        self._produce_request_cpu = np.zeros(self.B)
        self._fetch_cpu = np.zeros(self.B)
        self._link_overhead[:] = 0.0
        if self._kernels is not None and not self._any_flushing:
            self._bpm, self._bpm_f, self._follower_seconds = self._kernels.step_rates(
                self.leo, self.leo_bytes, self.leo_batches, self.f_part,
                self.follower_lock_batch_s, self.follower_lock_byte_s,
            )  # fmt: skip
        else:
            self._bpm = self._bytes_per_message()
            self._bpm_f = self._bpm[self.f_part]  # at each follower
            self._follower_seconds = None
        self._lock_costs: tuple[np.ndarray, np.ndarray] | None = None
        self._group_step(t0)
        self._arrivals(t0, t1)
        self._expire_leaderless(t1)
        self._drain(t1)
        rep_bytes = self._replica_fetch_demand(t0)
        con_bytes = self._consumer_fetch_demand(t0)
        self._share_network(rep_bytes, con_bytes, t1)
        self._handle_and_append(t1)
        self._advance_high_watermark(t1)
        self._process(t1)
        if self._kernels is not None:
            net = self.scenario.costs.broker
            self._kernels.write_back_and_network(
                net.network_request_cpu, net.network_byte_cpu, self.dir_dirty,
                self._dir_write_step, self.dir_write, self.dir_written, self.dir_write_busy,
                self.dir_broker, self.dirty, self.disk_written, self.disk_write_busy,
                self.broker_requests, self.bytes_in, self.bytes_out, *self._network_seen,
                self.network_backlog, self._network_thread_seconds, self.network_busy,
            )  # fmt: skip
        else:
            self._write_back()
            self._network_work()
        if t1 >= self.next_isr_check:
            self._maybe_shrink_isr(t1)
            self.next_isr_check += self.replica_lag_max / 2
        self.now = t1
        self.steps += 1

    # -- tools the stages share ------------------------------------------------------------

    def _pairs(self, table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The (producer, partition) pairs where ``table`` is not zero, in the table's
        order: ``(flat index, producer, partition)`` (flat indices read with ``take`` and
        write with ``put``, cheaper than a pair of index arrays)."""
        flat = table.ravel().nonzero()[0]
        rows = flat // self.P
        return flat, rows, flat - rows * self.P

    def _bytes_per_message(self) -> np.ndarray:
        """Mean bytes per message of each partition's log (what a fetch of n messages moves)."""
        return np.divide(self.leo_bytes, self.leo, out=np.full(self.P, 1.0), where=self.leo > 0)

    def _rng_words(self) -> np.ndarray:
        """``self.rng``'s PCG64 state for a kernel that rounds at random: its own memory
        when it can be (the kernel advances it in place), else a copy, which
        :meth:`_rng_drawn` puts back. Either way the draws are numpy's, in order."""
        if self._rng_view is not None:
            return self._rng_view
        return self._kernels.rng_words(self.rng)

    def _rng_drawn(self, words: np.ndarray, drew: bool) -> None:
        if drew and self._rng_view is None:
            self._kernels.set_rng_words(self.rng, words)

    def _split_gathered(
        self,
        backlog: np.ndarray,
        fraction: np.ndarray,
        index: np.ndarray | slice,
        groups: np.ndarray | None = None,
    ) -> np.ndarray:
        """``split_fraction(backlog, fraction[index])`` where ``fraction`` is per flow,
        connection or partition: when none of them is short, everything moves, found
        without gathering the fraction out to the backlog's shape first (most steps)."""
        if backlog.size == 0 or fraction.min() >= 1.0:
            return backlog.copy()
        # within [0, 1] before the gather, on the smaller array
        fraction = np.minimum(np.maximum(fraction, 0.0), 1.0)
        if isinstance(index, slice):  # one fraction per column (partition)
            gathered = np.broadcast_to(fraction, backlog.shape)
        else:
            gathered = fraction[index]
        return split_fraction(backlog, gathered, self.rng, groups, clamped=True)

    # -- accounting ---------------------------------------------------------------------------

    def lag(self, g: int) -> int:
        return int(
            ((self.hw[None, :] - self.consumed[g : g + 1]) * self.subscribed[g : g + 1]).sum()
        )

    def conservation(self) -> dict[str, object]:
        created = int(self.created.sum())
        acked = int(self.acked.sum())
        blocked = int(self.blocked.sum())
        buffered = int(self.acc.sum())
        # acks=0 is complete once sent: what the broker still holds is no longer the producer's
        producer_side = ~self.zero_acks[:, None]
        held = int(((self.net + self.sock + self.cpu_q) * producer_side).sum())
        in_flight = held + int(self.unacked.sum())
        failed = dict(sorted(self.failed.items()))
        groups = {}
        for g, group_id in enumerate(self.group_ids):
            sub = self.subscribed[g]
            skipped = int(self.skipped_at_start[g])
            consumed = int(self.consumed[g].sum()) - skipped
            fetched = int(self.buffered[g].sum())
            transit = int(self.c_net[g].sum())
            unfetched = int(((self.hw - self.position[g]) * sub).sum())
            below = int((self.hw * sub).sum())
            groups[group_id] = group_accounting(
                consumed, fetched, 0, unfetched, below, transit, skipped
            )
        return run_accounting(
            created=created,
            acked=acked,
            blocked=blocked,
            buffered=buffered,
            in_flight=in_flight,
            failed=failed,
            appended=int(self.leo.sum()),
            below_hw=int(self.hw.sum()),
            groups=groups,
            prefilled=int(self.prefill_p.sum()),
        )

    def __repr__(self) -> str:
        return (
            f"<SteppedWorld {self.scenario.name!r} t={self.now:.3f}s step={self.dt * 1000:g}ms "
            f"{self.B} brokers, {self.P} partitions, {self.I} producers, {self.M} consumers>"
        )
