"""How long a replica fetcher's loop spends on the data it brings (the flow engine).

A fetcher's loop is the fetch's trip to the leader, the leader's handling, the response's
trip back and the follower's handling and append (:meth:`FlowLatency.refresh` has the
fixed part). The response also carries data, and that costs time in proportion to its
bytes, as in the events engine's ``ReplicaFetcher`` and in Kafka:

* the leader's network thread writes it and its handler reads it (``network_byte_cpu``,
  ``byte_cpu``); the follower's fetcher thread handles it (``byte_cpu``) and appends it
  under the partitions' locks (``append_byte_cpu``, the CRC check) before it sends the
  next fetch;
* the response leaves the leader's NIC egress together with its siblings: an append
  wakes every fetch parked on it -- each in-sync follower's and each group's -- and they
  share the egress fairly, so a response is through when the burst is, ``copies *
  bytes / egress`` after it started (the copies of the busiest partition of the fetch).

How many bytes a fetch carries depends on the loop: a fetcher whose fetch waits at the
leader for the next append (appends come less often than it loops) brings one append's
bytes; one that loops without pause brings what arrived during a loop, ``S * L`` for a
stream of ``S`` bytes a second, and its loop ``L = L0 + c * S * L`` is ``L0 / (1 - c S)``
(``c`` the seconds per byte above). A stream whose ``c * S`` reaches 1 cannot keep up:
its loop is capped at ``MAX_LOOP_STRETCH`` times the fixed part.

The high watermark waits for the slowest in-sync follower's loop with data, which is
how, at ``rate: max``, the bytes of the responses set an ``acks=all`` connection's pace.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FlowWorld = Any  # simkafka.sim.flow.FlowWorld
MAX_LOOP_STRETCH = 50.0  # a fetcher that cannot keep up: its loop at most this many fixed loops

__all__ = ["fetch_data_seconds"]


def fetch_data_seconds(
    w: FlowWorld, rate_k: np.ndarray, stream_appends: np.ndarray, loop_f: np.ndarray
) -> np.ndarray:
    """Per tied follower, the seconds its fetcher's loop spends on the data of one fetch,
    at the producer flows' rates ``rate_k`` (messages a second), with ``stream_appends``
    appends a second on each fetcher stream and ``loop_f`` each follower's loop without
    data."""
    if not w.F:
        return np.zeros(0)
    bytes_p = np.bincount(w.k_part, weights=rate_k * w.k_wire, minlength=w.P) if w.K else np.zeros(w.P)
    stream_bytes = np.bincount(w.f_stream, weights=bytes_p[w.f_part], minlength=w.S_f)
    # every fetch of an append leaves the leader together: its followers' and its groups'
    readers = np.bincount(w.c_part[w.c_online], minlength=w.P) if w.C else np.zeros(w.P)
    copies = (w.followers_of + readers).astype(float)
    leader = w.leader[w.f_part]
    egress = w.nic_out[leader] * w.running[leader]
    transfer = np.divide(copies[w.f_part], egress, out=np.zeros(w.F), where=egress > 0)
    costs = w.scenario.costs.broker
    handling = costs.network_byte_cpu + 2 * costs.byte_cpu + costs.append_byte_cpu
    per_byte = w.max_by_stream(handling + transfer)
    fixed = w.max_by_stream(loop_f)
    load = np.minimum(per_byte * stream_bytes, 1.0 - 1.0 / MAX_LOOP_STRETCH)
    looping = fixed / (1.0 - load)  # the loop of a fetcher that never waits for data
    between = np.divide(1.0, stream_appends, out=np.zeros(w.S_f), where=stream_appends > 0)
    per_fetch = stream_bytes * np.maximum(between, looping)
    return (per_fetch * per_byte)[w.f_stream]
