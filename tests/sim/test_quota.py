"""The replication quota meter: Kafka's Rate over 11 one-second samples."""

from __future__ import annotations

import pytest

from simkafka.sim.quota import ReplicationQuota


def test_a_fresh_meter_spreads_its_bytes_over_ten_windows():
    quota = ReplicationQuota(1e6)
    quota.record(5e6, 0.2)
    assert quota.measured_rate(0.5) == pytest.approx(5e6 / 10)
    assert not quota.exceeded(0.5)
    quota.record(6e6, 0.7)
    assert quota.exceeded(0.8)  # 11 MB over (at least) 10 s


def test_old_samples_leave_the_window():
    quota = ReplicationQuota(1e6)
    quota.record(20e6, 0.0)
    assert quota.exceeded(5.0)
    assert quota.measured_rate(12.5) == 0.0  # the 0 s sample is older than 11 windows
    assert not quota.exceeded(12.5)


def test_a_quota_must_be_positive():
    with pytest.raises(ValueError, match="above 0"):
        ReplicationQuota(0)
