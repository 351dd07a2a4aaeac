"""An instance type as the simulator's broker hardware (``cluster.hardware`` of a scenario).

The rules, each a choice a person sizing Kafka would make:

* ``nic`` is the instance's *baseline* network bandwidth. Burst bandwidth lasts only while
  the instance's network credits do (minutes), and a broker's load is sustained.
* ``cpu_cores`` is the vCPU count.
* ``page_cache`` is the memory left after the broker's JVM heap (:data:`JVM_HEAP`, 6 GiB,
  the heap Kafka's operations guide recommends whatever the machine) and the memory the OS
  and the JVM's off-heap need (:data:`OS_RESERVE`, 1 GiB). An instance with no memory left
  for it is refused: Kafka on it would read every fetch from disk.
* local NVMe disks are one log directory each (JBOD, ``log.dirs`` in disk order), each with
  its own write and read bandwidth;
* network block storage is one log directory whose write and read bandwidth are both the
  instance's block storage cap. The cap is for reads and writes together; consumers that
  keep up read from the page cache, so the disk mostly writes -- a broker whose consumers
  fall behind is given more disk bandwidth than it has.
"""

from __future__ import annotations

from typing import Any

from simkafka.analysis.catalogue import BlockStorage, Instance
from simkafka.scenario.cluster import BrokerHardware
from simkafka.units import write_byte_rate, write_bytes

__all__ = ["JVM_HEAP", "OS_RESERVE", "broker_hardware", "hardware_fields"]

#: The broker's JVM heap: Kafka keeps log data out of the heap, in the OS page cache.
JVM_HEAP = 6 * 1024**3
#: Memory the OS, the JVM's metaspace, thread stacks and direct buffers take besides the heap.
OS_RESERVE = 1 * 1024**3


def _rate(bytes_per_second: float, *, bits: bool = False) -> str:
    return write_byte_rate(bytes_per_second, bits=bits)


def hardware_fields(instance: Instance) -> dict[str, Any]:
    """The ``cluster.hardware`` mapping a scenario would hold for ``instance``, written as
    in YAML (``nic: 12.5Gbps``), so it can be printed into a scenario or validated."""
    page_cache = instance.memory - JVM_HEAP - OS_RESERVE
    if page_cache <= 0:
        raise ValueError(
            f"{instance.name} has {write_bytes(instance.memory)} of memory: nothing is left for the page "
            f"cache after a {write_bytes(JVM_HEAP)} heap and {write_bytes(OS_RESERVE)} for the OS"
        )
    fields: dict[str, Any] = {
        "nic": _rate(instance.network.baseline, bits=True),
        "cpu_cores": instance.vcpu,
        "page_cache": write_bytes(page_cache),
    }
    storage = instance.storage
    if isinstance(storage, BlockStorage):
        fields |= {"disk_write": _rate(storage.bandwidth), "disk_read": _rate(storage.bandwidth), "log_dirs": 1}
    else:
        disk = {"disk_write": _rate(storage.disk_write), "disk_read": _rate(storage.disk_read)}
        fields |= {
            # the totals, for whatever reads the machine as a whole; each dir is its own disk
            "disk_write": _rate(storage.disk_write * storage.count),
            "disk_read": _rate(storage.disk_read * storage.count),
            "log_dirs": [dict(disk) for _ in range(storage.count)],
        }
    return fields


def broker_hardware(instance: Instance) -> BrokerHardware:
    """``instance`` as the scenario's validated :class:`BrokerHardware`."""
    return BrokerHardware.model_validate(hardware_fields(instance))
