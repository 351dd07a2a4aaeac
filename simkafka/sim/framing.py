"""TCP/IP and Ethernet framing: what a payload costs a NIC in line time.

A NIC's bandwidth is line rate. Every payload byte a Kafka connection moves is cut into
TCP segments of at most the MSS (``MTU - 52``: IPv4 20, TCP 20 and the timestamps option
12), and each segment travels in an Ethernet frame with 38 bytes more on the wire
(header 14, FCS 4, preamble 8, inter-frame gap 12). For the usual 1500-byte MTU,
1448 payload bytes take 1538 bytes of line time: 94.1 % goodput, the familiar
941 Mbit/s of TCP payload on 1 GbE.

Both engines give each NIC a payload capacity of ``line rate x goodput`` for the flows
that share it (a bulk transfer's segments are nearly all full), so a NIC's utilisation is
its line time while the MB/s reported stay payload; a transfer too small to share a NIC
(a request header, an acknowledgement) pays its own packets whole (:func:`line_bytes`).
"""

from __future__ import annotations

import math

IP_TCP_HEADERS = 52  # IPv4 20 + TCP 20 + TCP timestamps 12, per segment
ETHERNET_FRAMING = 38  # header 14 + FCS 4 + preamble 8 + inter-frame gap 12, per frame
PACKET_OVERHEAD = IP_TCP_HEADERS + ETHERNET_FRAMING


def mss(mtu: int) -> int:
    """TCP payload bytes per segment."""
    return mtu - IP_TCP_HEADERS


def goodput(mtu: int) -> float:
    """Payload bytes per byte of line time for full segments (0.9415 at MTU 1500)."""
    return mss(mtu) / (mtu + ETHERNET_FRAMING)


def line_bytes(nbytes: float, mtu: int) -> float:
    """Bytes of line time ``nbytes`` of payload take, whole packets each."""
    if nbytes <= 0:
        return 0.0
    return nbytes + math.ceil(nbytes / mss(mtu)) * PACKET_OVERHEAD
