# Claims of notebooks/00-quickstart.ipynb, checked in its kernel after its last cell.
from simkafka.model.partitioner import murmur2, to_positive

assert all(len({scenario.cluster.broker(b).rack for b in state.replicas}) == 3
           for state in topology.partitions.values()), "every partition spans all three racks"
assert all(p == to_positive(murmur2(f"order-{i}".encode())) % 6 for i, p in
           enumerate(partition_for_key(f"order-{i}".encode(), 6) for i in range(8))), \
    "a key's partition is toPositive(murmur2(key)) % partitions"
owned = sorted(tp.partition for tps in assignment.values() for tp in tps)
assert owned == list(range(6)), "the assignor gives every partition to exactly one member"
assert sorted(len(tps) for tps in assignment.values()) == [2, 2, 2], "six partitions, three members: two each"
assert result.summary["duration_s"] == 10.0, "ten simulated seconds of traffic"
assert result.conservation["ok"] and result.conservation["acknowledged_lost"] == 0, \
    "every message produced is consumed, in flight, in lag, or failed with a reason"
