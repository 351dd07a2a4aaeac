"""The monthly cost of a candidate: instances, block storage, cross-zone traffic."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simkafka.analysis.catalogue import shipped_catalogue
from simkafka.analysis.cost import (
    BILLED_GB,
    HOURS_PER_MONTH,
    SECONDS_PER_MONTH,
    Traffic,
    monthly_cost,
)

CATALOGUE = shipped_catalogue()
M7G = CATALOGUE.offer("m7g.xlarge")  # EBS: $0.1632/h, gp3 $0.08/GB-month, $0.02/GB across zones
I4I = CATALOGUE.offer("i4i.2xlarge")  # local NVMe: $0.686/h


def test_constants():
    assert HOURS_PER_MONTH == 730 and SECONDS_PER_MONTH == 2_628_000 and BILLED_GB == 2**30


def test_a_hand_worked_example_on_block_storage():
    # 6 brokers; 1 TiB retained, RF 3, disks kept 25 % free: 3 TiB / 0.75 = 4 TiB = 4096 GB;
    # 1 MiB/s produced, RF 3, 2 consumer groups, every byte of every kind crossing a zone:
    # (1 + 2 + 2) MiB/s = 5 MiB/s x 2,628,000 s = 12,832.03125 GB
    traffic = Traffic(2**20, replication_factor=3, consumer_groups=2, producer_cross_zone=1.0,
                      replication_cross_zone=1.0, consumer_cross_zone=1.0)
    cost = monthly_cost(M7G, 6, retained_bytes=2**40, replication_factor=3, storage_headroom=0.25, traffic=traffic)
    assert cost.instances == pytest.approx(6 * 0.1632 * 730, rel=1e-15)  # 714.816
    assert cost.storage_gb == 4096.0
    assert cost.storage == pytest.approx(327.68, rel=1e-15)
    assert cost.transfer_gb == 5 * 2_628_000 / 1024
    assert cost.transfer == pytest.approx(12_832.03125 * 0.02, rel=1e-15)  # 256.640625
    assert cost.total == pytest.approx(714.816 + 327.68 + 256.640625, rel=1e-15)
    assert repr(cost) == (
        "MonthlyCost(6 x m7g.xlarge, aws us-east-1, USD per month)\n"
        "  instances  6 x m7g.xlarge x $0.1632/h x 730 h        714.82\n"
        "  storage    4,096.0 GB x $0.08/GB-month               327.68\n"
        "  transfer   12,832.0 GB cross-zone x $0.02/GB         256.64\n"
        "  total                                              1,299.14"
    )


def test_local_nvme_pays_no_block_storage():
    cost = monthly_cost(I4I, 3, retained_bytes=2**40, replication_factor=3)
    assert cost.storage_gb == 0.0 and cost.storage == 0.0 and cost.transfer == 0.0
    assert cost.total == pytest.approx(3 * 0.686 * 730, rel=1e-15)


def test_traffic_spread_over_zones():
    three = Traffic.spread(300.0, zones=3, replication_factor=3, consumer_groups=2)
    # producers and consumers cross 2/3 of the time; both followers are in other zones
    assert three.cross_zone_rate == pytest.approx(300 * (2 / 3 + 2 * 1.0 + 2 * 2 / 3))
    two = Traffic.spread(300.0, zones=2, replication_factor=3, consumer_groups=1)
    # two zones: one of the two followers shares the leader's zone
    assert (two.producer_cross_zone, two.replication_cross_zone) == (0.5, 0.5)
    assert two.cross_zone_rate == pytest.approx(300 * (0.5 + 2 * 0.5 + 0.5))
    assert Traffic.spread(300.0, zones=1).cross_zone_rate == 0.0
    assert Traffic.spread(300.0, zones=3, replication_factor=1).cross_zone_rate == pytest.approx(300 * 4 / 3)


@pytest.mark.parametrize("kwargs, message", [
    ({"brokers": 0}, "at least one broker"),
    ({"storage_headroom": 1.0}, "storage_headroom"),
    ({"retained_bytes": -1.0}, "retained_bytes"),
    ({"replication_factor": 0}, "replication_factor"),
])
def test_bad_arguments(kwargs, message):
    arguments = {"brokers": 3} | kwargs
    with pytest.raises(ValueError, match=message):
        monthly_cost(M7G, **arguments)


def test_bad_traffic():
    with pytest.raises(ValueError, match="producer_cross_zone"):
        Traffic(1.0, producer_cross_zone=1.5)
    with pytest.raises(ValueError, match="ingress"):
        Traffic(float("nan"))
    with pytest.raises(ValueError, match="zones"):
        Traffic.spread(1.0, zones=0)


@given(
    name=st.sampled_from(CATALOGUE.names),
    brokers=st.integers(1, 500),
    more=st.integers(1, 100),
    retained=st.floats(0, 1e15),
    ingress=st.floats(0, 1e10),
    zones=st.integers(1, 3),
)
def test_more_brokers_never_cost_less(name, brokers, more, retained, ingress, zones):
    offer = CATALOGUE.offer(name)
    traffic = Traffic.spread(ingress, zones=zones)
    fewer = monthly_cost(offer, brokers, retained_bytes=retained, traffic=traffic)
    many = monthly_cost(offer, brokers + more, retained_bytes=retained, traffic=traffic)
    assert many.total > fewer.total
    assert many.storage == fewer.storage and many.transfer == fewer.transfer
