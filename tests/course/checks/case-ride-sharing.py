# Claims of notebooks/case-ride-sharing.ipynb, checked in its kernel after its last cell.
from simkafka.model.partitioner import murmur2, to_positive

n = small.topic("driver-locations").partitions
assert all(now[d] == to_positive(murmur2(d)) % n for d in drivers), "a driver's partition is murmur2(id) % partitions"
assert moved > 0.5, "most drivers change partition when the count goes from 36 to 48"
