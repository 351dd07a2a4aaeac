"""Each broker's disk used, for the probes of the events and stepped engines.

Every engine counts the bytes each replica's log has taken (the events engine's
``ReplicaLog.end_position`` per broker and partition; the stepped engine's leaders'
``leo_bytes`` and followers' offsets times the partition's bytes per message). At every
probe sample the bytes a replica took since the previous one are handed to a
:class:`~simkafka.sim.log_sizes.LogSizes` as appended uniformly over the sample's
interval, which rolls segments and applies ``retention.ms`` / ``retention.bytes`` at
every ``log.retention.check.interval.ms`` -- the same bookkeeping the flow engine uses.
A topic's ``prefill`` is on every replica at t = 0. The column is
``b<id>.disk_used_GB``: the broker's ``.log`` files and their index entries (see
:mod:`simkafka.sim.log_sizes` for what is left out).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simkafka.scenario import Scenario
from simkafka.sim.log_sizes import LogSizes

if TYPE_CHECKING:
    from simkafka.sim.flow import FlowWorld
    from simkafka.sim.stepped import SteppedWorld
    from simkafka.sim.world import World

GB = 1e9


def disk_used_column(broker_id: int) -> str:
    return f"b{broker_id}.disk_used_GB"


def log_sizes_for(scenario: Scenario, topics: list[str], broker: np.ndarray, brokers: int) -> LogSizes:
    """A :class:`LogSizes` for replicas of ``topics`` (one name per replica) on ``broker``
    (indices 0 .. ``brokers`` - 1), with each topic's ``segment.bytes``, ``segment.ms``,
    ``retention.ms``, ``retention.bytes`` and ``index.interval.bytes``, and the brokers'
    ``log.retention.check.interval.ms``. A topic whose ``cleanup.policy`` has no
    ``delete`` keeps its segments (compaction is not modelled here)."""
    specs = {t.name: t for t in scenario.topics}

    def per_replica(read) -> np.ndarray:
        values = {name: float(read(spec)) for name, spec in specs.items()}
        return np.array([values[name] for name in topics], dtype=float)

    deletes = {name: "delete" in spec.cleanup_policy for name, spec in specs.items()}
    return LogSizes(
        broker,
        brokers,
        segment_bytes=per_replica(lambda t: t.segment_bytes),
        segment_ms=per_replica(lambda t: t.segment),
        retention_ms=per_replica(lambda t: t.retention if deletes[t.name] else np.inf),
        retention_bytes=per_replica(lambda t: t.retention_bytes if deletes[t.name] else np.inf),
        index_interval_bytes=per_replica(lambda t: t.index_interval_bytes),
        check_interval=scenario.cluster.config.log_retention_check_interval,
    )


class _DiskUsage:
    """Feeds a LogSizes the bytes each replica took between samples."""

    def __init__(self, sizes: LogSizes, broker_ids: list[int], start: np.ndarray) -> None:
        self.sizes = sizes
        self.broker_ids = broker_ids
        self.columns = [disk_used_column(b) for b in broker_ids]
        # what the replicas hold at t = 0: the topics' prefill
        sizes.append(start, 0.0, 0.0)
        self._last = start
        self._previous = 0.0

    def _advance(self, replica_bytes: np.ndarray, now: float) -> dict[str, float]:
        # a follower that truncated holds less: this bookkeeping keeps its bytes
        added = np.maximum(replica_bytes - self._last, 0.0)
        self.sizes.play(added, self._previous, now)
        self._last = np.maximum(replica_bytes, self._last)
        self._previous = now
        used = self.sizes.broker_bytes() / GB
        return dict(zip(self.columns, used.tolist(), strict=True))


class EventsDiskUsage(_DiskUsage):
    """Every replica the events engine's brokers hold at the start of the run."""

    def __init__(self, world: World) -> None:
        self.world = world
        index = {broker_id: i for i, broker_id in enumerate(world.brokers)}
        self._replicas = [(broker, tp) for broker in world.brokers.values() for tp in broker.logs]
        sizes = log_sizes_for(
            world.scenario,
            [tp.topic for _, tp in self._replicas],
            np.array([index[broker.id] for broker, _ in self._replicas], dtype=np.int64),
            len(index),
        )
        super().__init__(sizes, list(world.brokers), self._positions())

    def _positions(self) -> np.ndarray:
        return np.array([broker.logs[tp].end_position for broker, tp in self._replicas], dtype=float)

    def sample(self, now: float) -> dict[str, float]:
        """``b<id>.disk_used_GB`` at ``now``."""
        return self._advance(self._positions(), now)


class SteppedDiskUsage(_DiskUsage):
    """The stepped engine's replicas: each partition's leader and its followers."""

    def __init__(self, world: SteppedWorld) -> None:
        self.world = world
        topics = [tp.topic for tp in world.tps]
        sizes = log_sizes_for(
            world.scenario,
            topics + [topics[p] for p in world.f_part],
            np.concatenate([world.leader, world.f_broker]).astype(np.int64),
            world.B,
        )
        super().__init__(sizes, list(world.broker_ids), self._bytes())

    def _bytes(self) -> np.ndarray:
        w = self.world
        per_message = np.divide(w.leo_bytes, w.leo, out=np.zeros(w.P), where=w.leo > 0)
        return np.concatenate([w.leo_bytes, w.f_leo * per_message[w.f_part]])

    def sample(self, now: float) -> dict[str, float]:
        """``b<id>.disk_used_GB`` at ``now``."""
        return self._advance(self._bytes(), now)


class FlowDiskUsage(_DiskUsage):
    """The flow engine's replicas: every replica of every partition, each with the bytes
    its own log took (a leader's appends, an in-sync follower's, a catching-up one's)."""

    def __init__(self, world: FlowWorld) -> None:
        self.world = world
        sizes = log_sizes_for(
            world.scenario, [world.tps[p].topic for p in world.r_part.tolist()], world.r_broker, world.B
        )
        super().__init__(sizes, list(world.broker_ids), world.r_bytes.copy())

    def sample(self, now: float) -> dict[str, float]:
        """``b<id>.disk_used_GB`` at ``now``."""
        return self._advance(self.world.r_bytes.copy(), now)
