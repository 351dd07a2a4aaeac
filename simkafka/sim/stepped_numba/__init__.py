"""The stepped engine's numba kernels (loaded through :func:`simkafka.sim.stepped_kernels.load`).

Each kernel stands for a stage of :class:`~simkafka.sim.stepped.SteppedWorld` (or a tool
of :mod:`simkafka.sim.fluid`) and does its arithmetic in the same order, to the same bits
(see :mod:`simkafka.sim.stepped_kernels`). Arrays the numpy code changes in place are
changed in place here, and so are those it rebinds to a new array of the same shape (no
one else holds them); what it returns is returned.
"""

from simkafka.sim.stepped_numba.brokers import (
    append_locks_unconstrained,
    appended_to_logs,
    handle_requests,
    high_watermark_wait,
    lock_costs,
    read_requests,
    write_back_and_network,
)
from simkafka.sim.stepped_numba.draws import (
    draw_many,
    next_double,
    rng_state_view,
    rng_words,
    set_rng_words,
)
from simkafka.sim.stepped_numba.fetches import (
    consumer_fetch_demand_uncut,
    creation_pieces,
    fetcher_loops,
    max_min_share,
    process_taken,
    replica_fetch_demand,
    share_network_unconstrained,
    step_rates,
)
from simkafka.sim.stepped_numba.producers import (
    acknowledge_counts,
    admit_unblocked,
    application_threads,
    commit,
    drain,
    sticky_arrivals,
)

__all__ = [
    "acknowledge_counts",
    "admit_unblocked",
    "append_locks_unconstrained",
    "appended_to_logs",
    "application_threads",
    "commit",
    "consumer_fetch_demand_uncut",
    "creation_pieces",
    "draw_many",
    "drain",
    "fetcher_loops",
    "handle_requests",
    "high_watermark_wait",
    "lock_costs",
    "max_min_share",
    "next_double",
    "process_taken",
    "read_requests",
    "replica_fetch_demand",
    "rng_state_view",
    "rng_words",
    "set_rng_words",
    "share_network_unconstrained",
    "step_rates",
    "sticky_arrivals",
    "write_back_and_network",
]
