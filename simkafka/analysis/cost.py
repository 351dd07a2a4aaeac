"""What a candidate cluster costs per month: instances, block storage, cross-zone traffic.

    monthly = brokers x $/hour x 730
            + provisioned block storage (when the instance's storage is network block
              storage): retained bytes x RF / (1 - storage headroom), in GiB, x $/GiB-month
            + cross-zone traffic: bytes/s crossing a zone x seconds per month, in GiB, x $/GiB

730 hours is the month cloud providers price with (8,760 hours / 12). Providers bill block
storage and transfer per "GB" of 2^30 bytes (AWS's EBS and data transfer pages say so), so
bytes are divided by :data:`BILLED_GB`. Local NVMe costs nothing beyond the instance.

Which traffic crosses zones, with brokers spread evenly over the zones (racks):
producers send to each partition's leader, replicas fetch from it, and each consumer group
reads every byte once. A byte crosses when its two ends are in different zones, so the
:class:`Traffic` carries, per kind, the fraction that does (:meth:`Traffic.spread`: clients
spread evenly over ``zones`` zones cross with probability (zones - 1) / zones, and with
RF <= zones, Kafka's rack-aware placement puts every follower in another zone than its leader).
"""

from __future__ import annotations

from dataclasses import dataclass

from simkafka.analysis.catalogue import BlockStorage, Offer

__all__ = ["BILLED_GB", "HOURS_PER_MONTH", "SECONDS_PER_MONTH", "MonthlyCost", "Traffic", "monthly_cost"]

#: Hours in the month providers price with: 8,760 hours a year / 12.
HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
#: Bytes in the "GB" of storage and transfer bills.
BILLED_GB = 1024**3


def _fraction(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} is a fraction between 0 and 1 (got {value!r})")


@dataclass(frozen=True, slots=True)
class Traffic:
    """A workload's bytes per second and the fraction of each kind that crosses zones.

    ``ingress``: bytes/s producers write (before replication). ``consumer_groups``: how many
    times each byte is read (consumer groups reading the topics, each reads every byte).
    """

    ingress: float
    replication_factor: int = 3
    consumer_groups: float = 1.0
    producer_cross_zone: float = 0.0
    replication_cross_zone: float = 0.0
    consumer_cross_zone: float = 0.0

    def __post_init__(self) -> None:
        if not self.ingress >= 0.0:
            raise ValueError(f"ingress is a byte rate >= 0 (got {self.ingress!r})")
        if self.replication_factor < 1:
            raise ValueError(f"replication_factor is at least 1 (got {self.replication_factor!r})")
        if not self.consumer_groups >= 0.0:
            raise ValueError(f"consumer_groups is >= 0 (got {self.consumer_groups!r})")
        _fraction("producer_cross_zone", self.producer_cross_zone)
        _fraction("replication_cross_zone", self.replication_cross_zone)
        _fraction("consumer_cross_zone", self.consumer_cross_zone)

    @classmethod
    def spread(cls, ingress: float, *, zones: int, replication_factor: int = 3,
               consumer_groups: float = 1.0) -> Traffic:
        """Brokers and clients spread evenly over ``zones`` zones, RF <= zones, consumers
        fetching from leaders (no ``client.rack`` fetch-from-follower)."""
        if zones < 1:
            raise ValueError(f"zones is at least 1 (got {zones!r})")
        elsewhere = (zones - 1) / zones
        # with more replicas than zones, rack-aware placement still puts as many followers
        # as it can in other zones: zones - 1 of the RF - 1
        followers_elsewhere = min(replication_factor - 1, zones - 1)
        replication = followers_elsewhere / (replication_factor - 1) if replication_factor > 1 else 0.0
        return cls(ingress, replication_factor, consumer_groups, elsewhere, replication, elsewhere)

    @property
    def cross_zone_rate(self) -> float:
        """Bytes/s crossing a zone boundary."""
        return self.ingress * (
            self.producer_cross_zone
            + (self.replication_factor - 1) * self.replication_cross_zone
            + self.consumer_groups * self.consumer_cross_zone
        )


@dataclass(frozen=True, slots=True)
class MonthlyCost:
    """A candidate's monthly cost by line; ``repr`` is the breakdown table."""

    provider: str
    region: str
    instance: str
    brokers: int
    usd_per_hour: float
    storage_gb: float  # provisioned block storage, in billed GB (0 on local NVMe)
    usd_per_gb_month: float
    transfer_gb: float  # cross-zone GB per month
    usd_per_gb_transfer: float

    @property
    def instances(self) -> float:
        return self.brokers * self.usd_per_hour * HOURS_PER_MONTH

    @property
    def storage(self) -> float:
        return self.storage_gb * self.usd_per_gb_month

    @property
    def transfer(self) -> float:
        return self.transfer_gb * self.usd_per_gb_transfer

    @property
    def total(self) -> float:
        return self.instances + self.storage + self.transfer

    def __repr__(self) -> str:
        rows = [
            ("instances", f"{self.brokers} x {self.instance} x ${self.usd_per_hour:g}/h x {HOURS_PER_MONTH} h",
             self.instances),
            ("storage", f"{self.storage_gb:,.1f} GB x ${self.usd_per_gb_month:g}/GB-month", self.storage),
            ("transfer", f"{self.transfer_gb:,.1f} GB cross-zone x ${self.usd_per_gb_transfer:g}/GB",
             self.transfer),
        ]
        width = max(len(how) for _, how, _ in rows)
        lines = [f"MonthlyCost({self.brokers} x {self.instance}, {self.provider} {self.region}, USD per month)"]
        lines += [f"  {what:<9}  {how:<{width}}  {usd:>12,.2f}" for what, how, usd in rows]
        lines.append(f"  {'total':<9}  {'':<{width}}  {self.total:>12,.2f}")
        return "\n".join(lines)


def monthly_cost(
    offer: Offer,
    brokers: int,
    *,
    retained_bytes: float = 0.0,
    replication_factor: int = 3,
    storage_headroom: float = 0.0,
    traffic: Traffic | None = None,
) -> MonthlyCost:
    """The monthly cost of ``brokers`` brokers of ``offer``'s instance type.

    ``retained_bytes``: the log the topics keep (retention x ingress), before replication.
    ``storage_headroom``: the fraction of provisioned block storage kept free (0.3: disks
    filled to 70 %). ``traffic``: the bytes crossing zones (none when omitted).
    """
    if brokers < 1:
        raise ValueError(f"a cluster has at least one broker (got {brokers!r})")
    if not retained_bytes >= 0.0:
        raise ValueError(f"retained_bytes is >= 0 (got {retained_bytes!r})")
    if replication_factor < 1:
        raise ValueError(f"replication_factor is at least 1 (got {replication_factor!r})")
    if not 0.0 <= storage_headroom < 1.0:
        raise ValueError(f"storage_headroom is a fraction in [0, 1) (got {storage_headroom!r})")
    provider, instance = offer
    storage_price = provider.block_storage
    transfer_price = provider.cross_zone_transfer
    if storage_price is None or transfer_price is None:
        raise ValueError(f"provider {provider.provider!r} has no block storage or transfer prices")
    storage_gb = 0.0
    if isinstance(instance.storage, BlockStorage):
        storage_gb = retained_bytes * replication_factor / (1.0 - storage_headroom) / BILLED_GB
    transfer_gb = 0.0 if traffic is None else traffic.cross_zone_rate * SECONDS_PER_MONTH / BILLED_GB
    return MonthlyCost(
        provider=provider.provider, region=provider.region, instance=instance.name, brokers=brokers,
        usd_per_hour=instance.usd_per_hour, storage_gb=storage_gb, usd_per_gb_month=storage_price.usd_per_gb_month,
        transfer_gb=transfer_gb, usd_per_gb_transfer=transfer_price.usd_per_gb,
    )
