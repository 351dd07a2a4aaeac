"""Max-min fair rates of flows over resources with per-flow costs: the flow engine's solver.

The events engine shares a NIC between the transfers crossing it, and the stepped engine
shares each step's capacity with :func:`~simkafka.sim.fluid.max_min_share`; both give
every flow on a full link the same bytes per second. The flow engine asks the same
question of every resource a message uses on its way -- NICs, handler and network
threads, a partition's log lock, a producer's Sender thread, a connection's channel, a
disk -- each with its own cost per message. :func:`progressive_fill` answers it the way
max-min fairness is defined: every unfrozen flow grows at the same pace (in bytes per
second, the unit the network shares), a flow stops at its demand, and a resource that
fills stops every flow that uses it.

Flows whose demand is below the level at which the first resource would fill are given
their demand all at once (giving them less than a uniform raise to that level would use
cannot overfill anything), so a round is needed only per resource that fills, not per
distinct demand: thousands of partitions with zipf-skewed keys settle in a few rounds.
"""

from __future__ import annotations

import numpy as np

EPSILON = 1e-9

__all__ = ["GroupMax", "progressive_fill"]


class GroupMax:
    """The largest value per group, for a fixed grouping (``np.maximum.at`` is a slow
    unbuffered loop; a sort done once and ``reduceat`` per call are not)."""

    def __init__(self, groups: np.ndarray, size: int) -> None:
        self.order = np.argsort(groups, kind="stable")
        sorted_groups = groups[self.order]
        self.starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]) if groups.size else np.zeros(0, dtype=np.int64)
        self.keys = sorted_groups[self.starts] if groups.size else np.zeros(0, dtype=np.int64)
        self.size = size

    def __call__(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(self.size)
        if self.keys.size:
            out[self.keys] = np.maximum.reduceat(values[self.order], self.starts)
        return out


def progressive_fill(
    demand: np.ndarray,
    pace: np.ndarray,
    flow: np.ndarray,
    resource: np.ndarray,
    cost: np.ndarray,
    capacity: np.ndarray,
    rounds: int = 256,
) -> tuple[np.ndarray, np.ndarray]:
    """Max-min fair rates and the resources that limit them.

    ``demand[k]``: what flow ``k`` would take at most (``inf``: all it can get);
    ``pace[k]``: how fast its rate grows per unit of the common fill level (``1 /
    bytes per message`` makes the level bytes per second, so flows share a link in bytes
    as TCP does); the sparse matrix ``(flow, resource, cost)`` says that one unit of flow
    ``flow[e]`` uses ``cost[e]`` of resource ``resource[e]``, whose ``capacity`` is per
    second. Returns ``(rate, full)``: each flow's rate and which resources are full.
    """
    K, R = demand.size, capacity.size
    rate = np.zeros(K)
    remaining = capacity.astype(float).copy()
    full = np.zeros(R, dtype=bool)
    active = (demand > EPSILON) & (pace > 0)
    usage = cost * pace[flow]  # resource use per unit level of each entry's flow
    for _ in range(rounds):
        if not active.any():
            break
        live = active[flow]
        load = np.bincount(resource[live], weights=usage[live], minlength=R)
        with np.errstate(divide="ignore", invalid="ignore"):
            level_r = np.where(load > 0, np.maximum(remaining, 0.0) / load, np.inf)
            level_f = np.where(active, (demand - rate) / pace, np.inf)
        level = float(level_r.min())
        satisfied = active & (level_f <= level * (1 + EPSILON))
        if satisfied.any():
            # every one of these reaches its demand before any resource fills
            grant = np.where(satisfied, demand - rate, 0.0)
            rate += grant
            remaining -= np.bincount(resource, weights=cost * grant[flow], minlength=R)
            active &= ~satisfied
            continue
        if not np.isfinite(level):  # unlimited flows on no resource: nothing bounds them
            rate[active] = demand[active]
            break
        rate[active] += level * pace[active]
        remaining -= load * level
        now_full = (load > 0) & (remaining <= EPSILON * np.maximum(capacity, 1.0))
        full |= now_full
        stopped = np.bincount(flow[live & now_full[resource]], minlength=K) > 0
        active &= ~stopped
    return rate, full
