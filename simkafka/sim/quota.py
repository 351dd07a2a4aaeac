"""Replication quotas (KIP-73): Kafka's ``ReplicationQuotaManager`` as a rate meter.

A broker with ``leader.replication.throttled.rate`` leaves the throttled replicas'
data out of a follower's fetch response while the bytes it sent them exceed the rate; a
broker with ``follower.replication.throttled.rate`` leaves the throttled partitions out
of its fetches meanwhile. The rate is measured as Kafka's ``Rate`` over samples: bytes
recorded in the last ``replication.quota.window.num`` (11) windows of
``replication.quota.window.size.seconds`` (1 s), divided by the time they span -- but at
least ``(windows - 1)`` windows, so a fresh meter allows a burst of about ten seconds'
worth before it throttles.
"""

from __future__ import annotations

from collections import deque

QUOTA_WINDOWS = 11  # replication.quota.window.num
QUOTA_WINDOW_SECONDS = 1.0  # replication.quota.window.size.seconds


class ReplicationQuota:
    """One broker's leader or follower replication quota."""

    def __init__(self, rate: float) -> None:
        if not rate > 0:
            raise ValueError(f"a replication quota must be above 0 bytes/s (got {rate})")
        self.rate = rate
        self._samples: deque[list[float]] = deque()  # [window start, bytes]
        self.throttled_seconds = 0.0

    def _expire(self, now: float) -> None:
        oldest = now - QUOTA_WINDOWS * QUOTA_WINDOW_SECONDS
        while self._samples and self._samples[0][0] + QUOTA_WINDOW_SECONDS <= oldest:
            self._samples.popleft()

    def record(self, nbytes: float, now: float) -> None:
        self._expire(now)
        if not self._samples or now >= self._samples[-1][0] + QUOTA_WINDOW_SECONDS:
            start = now - (now % QUOTA_WINDOW_SECONDS)
            self._samples.append([start, 0.0])
        self._samples[-1][1] += nbytes

    def measured_rate(self, now: float) -> float:
        self._expire(now)
        if not self._samples:
            return 0.0
        elapsed = now - self._samples[0][0]
        elapsed = max(elapsed, (QUOTA_WINDOWS - 1) * QUOTA_WINDOW_SECONDS)
        return sum(b for _, b in self._samples) / elapsed

    def exceeded(self, now: float) -> bool:
        return self.measured_rate(now) > self.rate

    def __repr__(self) -> str:
        return f"<ReplicationQuota {self.rate / 1e6:g} MB/s>"
