"""``simulate(scenario) -> RunResult``: build the world, run it, summarise it."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from simkafka.scenario import Scenario
from simkafka.sim.budget import refuse_if_too_big
from simkafka.sim.consumer_faults import CONSUMER_FAULT_TYPES
from simkafka.sim.degradation import CAPACITY_FAULT_TYPES
from simkafka.sim.fault_outcome import FaultOutcome
from simkafka.sim.fault_player import CONTROL_FAULT_TYPES
from simkafka.sim.group_outcome import group_outcome
from simkafka.sim.guards import check_engine_inputs
from simkafka.sim.histogram import LatencyHistogram
from simkafka.sim.probes import Probes
from simkafka.sim.result import RunResult, build_result, group_accounting, run_accounting
from simkafka.sim.workload import prefilled_messages
from simkafka.sim.world import World

ProgressCallback = Callable[[float, float], None]  # (simulated now, duration)

# Cyclic garbage collection while a world plays: the first generation is collected after
# this many allocations (Python's default, 700, collects ~1,400 times a simulated second
# of the reference scenario: events, requests and their callbacks are short-lived and
# allocated by the hundred thousand), the older ones as often as Python's defaults would.
PLAY_GC_THRESHOLD = (20_000, 10, 10)


@contextmanager
def _collector_for_a_run() -> Iterator[None]:
    """Garbage collection tuned for playing a world, restored afterwards: the world
    built (long-lived: brokers, logs, arrays) is frozen out of the collector's scans
    (``gc.freeze``), and the youngest generation is collected less often. It changes
    when memory is reclaimed, never what the run computes; about a tenth of a run's time
    was the collector's."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*PLAY_GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def played_fault_types(engine: str) -> frozenset[str]:
    """The fault types an engine plays: the events engine every one of the scenario
    schema; the stepped engine the capacity faults (a slow disk, a degraded NIC) and the
    consumer faults (its groups drive the same group coordinator) -- it has no broker
    control plane, so broker crashes, shutdowns, restarts, rack failures, controller
    failovers and network partitions are left out; the flow engine the capacity, consumer
    and broker faults (its controller and group coordinator are the model's), not network
    partitions. What an engine leaves out is reported in the summary's
    ``faults_not_simulated``."""
    if engine == "events":
        return CONTROL_FAULT_TYPES | CAPACITY_FAULT_TYPES | CONSUMER_FAULT_TYPES
    if engine == "flow":
        from simkafka.sim.flow_control import FLOW_CONTROL_FAULT_TYPES

        return CAPACITY_FAULT_TYPES | FLOW_CONTROL_FAULT_TYPES | CONSUMER_FAULT_TYPES
    return CAPACITY_FAULT_TYPES | CONSUMER_FAULT_TYPES


def simulate(
    scenario: Scenario,
    progress: ProgressCallback | None = None,
    steps: int = 100,
    memory_limit: float | None = None,
) -> RunResult:
    """Play ``scenario`` forward for ``run.duration`` simulated seconds, with the engine
    the scenario's ``run.engine`` names.

    Raises :class:`~simkafka.sim.guards.RunRefused` before allocating anything when an
    engine cannot use a value of the scenario, or when the run's estimated memory
    (:func:`~simkafka.sim.budget.estimate_run`) is above ``memory_limit`` (default: half
    the machine's memory, :func:`~simkafka.sim.budget.memory_limit`)."""
    check_engine_inputs(scenario)
    refuse_if_too_big(scenario, memory_limit)
    if scenario.run.engine == "stepped":
        from simkafka.sim.stepped_run import simulate_stepped

        return simulate_stepped(scenario, progress, steps)
    if scenario.run.engine == "flow":
        from simkafka.sim.flow_run import simulate_flow

        return simulate_flow(scenario, progress, steps)
    world = World(scenario)
    probes = Probes(world, scenario.run.sample_interval)
    run_world(world, probes, progress, steps)
    return summarise(world, probes)


def run_world(
    world: World, probes: Probes, progress: ProgressCallback | None = None, steps: int = 100
) -> None:
    """Run a built world to its scenario's duration in ``steps`` slices (progress between
    them); the last probe interval ends at the run's end."""
    duration = world.scenario.run.duration
    env = world.env
    step = duration / max(1, steps)
    t = 0.0
    with _collector_for_a_run():
        while t < duration - 1e-12:
            t = min(duration, t + step)
            env.run(until=t)
            if progress is not None:
                progress(env.now, duration)
    if not probes.rows or probes.rows[-1]["time"] < env.now - 1e-9:
        probes.sample()


def conservation(world: World, outcome: FaultOutcome | None = None) -> dict[str, object]:
    """Where every created message is, and the checks that must hold. With the delivery
    checker's ``outcome``, acknowledged records the final logs lost and records written
    twice are in the ledger too, and the engine's log end offsets must agree with the
    delivery history's logs."""
    created = sum(p.created for p in world.producers)
    acked = sum(p.acked for p in world.producers)
    buffered = sum(p.buffered for p in world.producers)
    blocked = sum(p.backlog_messages for p in world.producers)
    in_flight = sum(p.in_flight_messages for p in world.producers)
    failed: Counter[str] = Counter()
    for p in world.producers:
        failed.update(p.failed)
    appended = 0
    below_hw = 0
    for tp in world.partitions:
        log = world.leader_log(tp)
        appended += log.log_end_offset
        below_hw += world.high_watermark(tp)
    groups = {group_id: group_ledger(world, group_id) for group_id in world.groups}
    ledger = run_accounting(
        created=created,
        acked=acked,
        blocked=blocked,
        buffered=buffered,
        in_flight=in_flight,
        failed=dict(failed),
        appended=appended,
        below_hw=below_hw,
        groups=groups,
        prefilled=prefilled_messages(world.scenario),
        written_twice=int(outcome.summary["written_twice"]) if outcome else 0,
    )
    if outcome is not None:
        # acknowledged, then gone from the partition's log (truncated when a replica with
        # a shorter log became leader: acks=1 or unclean election)
        ledger["acknowledged_lost"] = outcome.summary["acknowledged_lost"]
        in_history = sum(world.history.log_end_offset(tp) for tp in world.partitions)
        # offsets of the leaders' logs no append the history saw explains: records that
        # reached a leader's log by another way (a follower's fetch applied after it was
        # elected), which the checker cannot see written twice
        unexplained = sum(
            world.history.log_end_offset(tp) - sum(e.count for e in world.history.log(tp))
            for tp in world.partitions
        )
        ledger["not_in_history"] = unexplained
        matches = in_history == appended and unexplained == 0
        ledger["history_matches_logs"] = matches
        ledger["ok"] = bool(ledger["ok"]) and matches
    return ledger


def group_ledger(world: World, group_id: str) -> dict[str, object]:
    """Where a group's records below the high watermark are, partition by partition,
    against the delivery history's record of what the group read: below where it began,
    read (once; repeats are counted apart), holes it skipped, committed past its reads
    and not read (the next owner resumes at the committed offset), fetched or being
    processed and not yet read, and not fetched. The members' own count of what they processed
    must equal the history's reads, repeats and truncated reads."""
    members = world.groups[group_id]
    history = world.history
    consumed = before_start = holes = in_flight = unfetched = below_hw = repeats = above_hw = 0
    committed_unread = 0
    processed_by_members = sum(m.consumed_messages for m in members)
    in_history = 0
    for tp in world.group_partitions(group_id):
        hw = world.high_watermark(tp)
        below_hw += hw
        owners = [m for m in members if m.alive and tp in m.position]
        fetch_from = max(
            (m.position[tp] for m in owners),
            default=world.committed_offset(group_id, tp) or 0,
        )
        once = history.read_by(tp, group_id)
        again, truncated = history.extra_reads(tp, group_id)
        repeats += again
        in_history += len(once) + again + truncated
        start = once.start if once.start is not None else fetch_from
        read_to = once.stop if once.stop is not None else start
        # what the group reached can lie above the high watermark the partition shows now:
        # a crashed leader not yet replaced shows none, a new leader's catches up
        above_hw += max(0, read_to - hw)
        hw = max(hw, read_to)
        consumed += len(once)
        before_start += min(start, hw)
        holes += (read_to - start) - len(once)
        # new records (at or past read_to) fetched or in hand, from the members' buffers,
        # batches and open transactions -- counted independently of the fetch position
        next_read = max(fetch_from, read_to)
        for m in owners:
            for a, b in m.in_flight_ranges(tp):
                in_flight += max(0, b - max(a, read_to))
                if b > read_to:
                    next_read = min(next_read, max(a, read_to))
        # committed past what the group read, and not read since: an at-most-once member
        # commits before it processes, so what it had not processed when it died is
        # skipped -- the next owner resumes at the committed offset. Once that owner reads
        # past it they are holes; until then they lie between read_to and its next read.
        committed = world.committed_offset(group_id, tp) or 0
        committed_unread += max(0, min(committed, next_read, hw) - read_to)
        unfetched += max(0, hw - max(fetch_from, read_to))
    ledger = group_accounting(
        consumed, 0, in_flight, unfetched, below_hw + above_hw,
        skipped=before_start + holes + committed_unread,
    )
    ledger["skipped_in_holes"] = holes
    ledger["committed_not_read"] = committed_unread
    ledger["read_above_high_watermark"] = above_hw
    ledger["read_again"] = repeats
    ledger["members_match_history"] = processed_by_members == in_history
    ledger["balanced"] = bool(ledger["balanced"]) and processed_by_members == in_history
    return ledger


def summarise(world: World, probes: Probes) -> RunResult:
    produce = LatencyHistogram()
    for p in world.producers:
        produce.merge(p.latency)
    e2e = LatencyHistogram()
    for members in world.groups.values():
        for m in members:
            e2e.merge(m.latency)
    processing = {
        group_id: (
            sum(1 for m in members if m.assignment),
            members[0].group.processing_time_per_record if members else 0.0,
        )
        for group_id, members in world.groups.items()
    }
    outcome = world.fault_player.outcome()
    driver = world.group_driver
    groups = group_outcome(
        driver.records(),
        driver.all_spans(),
        world.env.now,
        {g: len(world.group_partitions(g)) for g in world.groups},
    )
    result = build_result(
        world.scenario,
        probes.frame(),
        produce,
        e2e,
        list(world.brokers),
        processing,
        conservation(world, outcome),
        outcome,
        played_fault_types("events"),
        groups=groups,
    )
    result.summary |= crash_summary(world)
    return result


def crash_summary(world: World) -> dict[str, int]:
    """For each group the scenario crashes a member of, what the crashes left behind, as
    the members saw it when they died: ``uncommitted_at_crash.<group>``, records processed
    past the group's committed offset (the next owner reads them again), and
    ``unprocessed_at_crash.<group>``, records committed and not yet processed (nobody
    reads them). With the delivery checker's ``consumed_twice`` and ``skipped`` they tell
    the commit order's story: at-least-once reads the first again, at-most-once skips the
    second, exactly-once aborts the open transaction and does neither."""
    crashed = dict.fromkeys(f.group for f in world.scenario.faults if f.type == "consumer_crash")
    out: dict[str, int] = {}
    for group in crashed:
        members = world.groups.get(group, [])
        out[f"uncommitted_at_crash.{group}"] = sum(m.uncommitted_at_crash for m in members)
        out[f"unprocessed_at_crash.{group}"] = sum(m.unprocessed_at_crash for m in members)
    return out
