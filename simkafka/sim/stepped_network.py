"""The stepped engine's network: a step's NIC capacity shared among the flows that want it.

Every NIC carries payload at its line rate times the TCP/IP and Ethernet framing's goodput
(:mod:`~simkafka.sim.framing`, ``cluster.network.mtu``), so its utilisation is line time;
every connection with bytes to move is a flow from a sender's egress to a receiver's
ingress; the step's capacity is shared max-min fairly
(:func:`~simkafka.sim.fluid.max_min_share`) after request headers took their room. Whole
messages cross, so a flow's share is rounded up or down at random; a link that went past
its capacity pays it back the next step, and a full link that fell short may use the
rest, so no link carries more than its capacity beyond one step's rounding. Propagation
latency is shorter than a step: it is added to the latencies of the messages that crossed
it.
"""

from __future__ import annotations

import numpy as np

from simkafka.sim.fluid import EPSILON, max_min_share, split_fraction


class NetworkStage:
    """The network stage of :class:`~simkafka.sim.stepped.SteppedWorld`: produce requests,
    replica fetch responses and consumer fetch responses cross their links."""

    def _share_network(self, rep_bytes: np.ndarray, con_bytes: np.ndarray, now: float) -> None:
        if self._kernels is not None:
            # most steps no link is short: one kernel moves everything (no rounding)
            unconstrained, moved, flow_bytes, replica_arrived = (
                self._kernels.share_network_unconstrained(
                    self.dt, self.n_prod_flows, self.net, self.wire_per_msg,
                    self._conn_flat, rep_bytes, con_bytes, self.link_capacity,
                    self.link_debt, self._link_overhead, self.flow_src, self.flow_dst,
                    self.f_net, self.f_recv, self.stream_response, self.c_net,
                    self.buffered, self.nic_out, self.nic_in, self.bytes_out,
                    self.bytes_in, self.busy_out, self.busy_in, self.client_bytes_out,
                    self.client_bytes_in,
                )
            )  # fmt: skip
            if unconstrained:
                self._arrived = moved
                self._replica_arrived = replica_arrived
                self.cross_rack_bytes += float(flow_bytes[self.flow_cross].sum())
                return
        # the produce requests in the network: a few (producer, partition) pairs, summed
        # per connection in the table's order (the same sums as over the whole table)
        flat, rows, _ = self._pairs(self.net)
        net_v, net_conn = self.net.take(flat), self._conn_flat[flat]
        prod_bytes = np.bincount(
            net_conn, weights=net_v * self.wire_per_msg[rows], minlength=self.I * self.B
        )
        demand = np.concatenate([prod_bytes, rep_bytes, con_bytes])
        # what each link can still carry this step: its capacity, less request headers
        # and what it carried beyond its capacity last step
        available = self.link_capacity * self.dt - self.link_debt
        capacity = np.maximum(0.0, available - self._link_overhead)
        if self._kernels is not None:
            alloc = self._kernels.max_min_share(demand, self.flow_src, self.flow_dst, capacity, 8)
        else:
            alloc = max_min_share(demand, self.flow_src, self.flow_dst, capacity)
        frac = np.divide(alloc, demand, out=np.ones_like(demand), where=demand > 0)
        n1, n2 = self.n_prod_flows, self.n_prod_flows + self.n_rep_flows
        # Each kind of flow moves what it asked for unless a link it crosses is short; then
        # what moved is summed again (else it is the demand, to the same bits).
        # produce requests reach their leader (split over the pairs in the network, as
        # _split_gathered would: a zero is never split)
        moved = np.zeros_like(self.net)
        if frac[:n1].min(initial=1.0) >= 1.0:
            moved_v = net_v
            prod_moved = prod_bytes
        else:
            fraction = np.minimum(np.maximum(frac[:n1], 0.0), 1.0)[net_conn]
            moved_v = split_fraction(net_v, fraction, self.rng, clamped=True)
            prod_moved = np.bincount(
                net_conn, weights=moved_v * self.wire_per_msg[rows], minlength=n1
            )
        moved.put(flat, moved_v)
        self.net.put(flat, net_v - moved_v)
        self._arrived = moved
        # replica responses reach their follower (appended below, after the dirty check)
        self._replica_arrived = self._split_gathered(
            self.f_net, frac[n1:n2], self.f_stream, self.f_leader_broker
        )
        self.f_net -= self._replica_arrived
        self.f_recv += self._replica_arrived
        # a response's size as it arrived: its turn at the dirty-page room
        if frac[n1:n2].min(initial=1.0) >= 1.0:
            rep_moved = rep_bytes
        else:
            rep_moved = np.bincount(
                self.f_stream, weights=self._replica_arrived * self._bpm_f, minlength=self.R
            )
        self.stream_response += rep_moved
        # consumer responses reach their member
        if self.G:
            got = self._split_gathered(self.c_net, frac[n2:], self.c_stream)
            self.c_net -= got
            self.buffered += got
            if frac[n2:].min(initial=1.0) >= 1.0:
                con_moved = con_bytes
            else:
                con_moved = np.bincount(
                    self._c_stream_flat,
                    weights=(got * self._bpm[None, :]).ravel(),
                    minlength=self.M * self.B,
                )
        else:
            con_moved = np.zeros(0)
        flow_bytes = np.concatenate([prod_moved, rep_moved, con_moved])
        links = self.link_capacity.size
        used = self._link_overhead.copy()
        used += np.bincount(self.flow_src, weights=flow_bytes, minlength=links)
        used += np.bincount(self.flow_dst, weights=flow_bytes, minlength=links)
        # whole messages are moved by rounding a flow's share up or down at random: a
        # step that rounded up past the capacity pays it back in the next one, and a full
        # link that rounded down may use the rest next step, so no sample interval shows
        # a link above its capacity by more than a step's rounding, and a full link still
        # carries its capacity on average
        granted = np.bincount(self.flow_src, weights=alloc, minlength=links)
        granted += np.bincount(self.flow_dst, weights=alloc, minlength=links)
        full = granted >= capacity - EPSILON * np.maximum(capacity, 1.0)
        self.link_debt = np.where(full, used - available, np.maximum(0.0, used - available))
        B = self.B
        self.bytes_out += used[0 : 2 * B : 2]
        self.bytes_in += used[1 : 2 * B : 2]
        self.busy_out += used[0 : 2 * B : 2] / self.nic_out
        self.busy_in += used[1 : 2 * B : 2] / self.nic_in
        self.client_bytes_out += used[2 * B :: 2]
        self.client_bytes_in += used[2 * B + 1 :: 2]
        self.cross_rack_bytes += float(flow_bytes[self.flow_cross].sum())
