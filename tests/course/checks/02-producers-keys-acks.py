# Claims of notebooks/02-producers-keys-acks.ipynb, checked in its kernel after its last cell.
from simkafka.model.partitioner import murmur2, to_positive

assert all(placement[k] == to_positive(murmur2(k.encode())) % partitions for k in orders), \
    "a key's partition is toPositive(murmur2(key)) % partitions"
assert all(int(p) == to_positive(murmur2(k)) % partitions for k, p in zip(many_keys, spread, strict=True)), \
    "every one of the many keys lands exactly where murmur2 puts it"
assert counts.sum() == len(many_keys) and counts.max() < 1.1 * len(many_keys) / partitions, \
    "many keys spread close to evenly"
assert all(abs(kept[n] - expected[n]) < 0.02 for n in grown), "the share of keys that stay is min/lcm"
assert max(kept, key=kept.get) == 12 and kept[12] > 0.45, "doubling keeps the most keys in place: half"

def _partition_of(batches):
    where = {}
    for b in batches:
        for r in b.records:
            where[r] = b
    return [where[i] for i in range(len(where))]

sticky_of = _partition_of(sticky)
switches = [i for i in range(len(sticky_of) - 1) if sticky_of[i].partition != sticky_of[i + 1].partition]
assert switches and all(sticky_of[i].records[-1] == i and sticky_of[i + 1].records[0] == i + 1 for i in switches), \
    "the sticky partitioner switches partition only at batch boundaries"
stints = [0] + [i + 1 for i in switches] + [len(sticky_of)]
assert all((b - a) * shape["record_bytes"] >= shape["batch_size"] for a, b in zip(stints[:-2], stints[1:-1], strict=True)), \
    "it switches only after batch.size bytes went to the current partition"
rr_of = _partition_of(round_robin)
assert all(rr_of[i].partition != rr_of[i + 1].partition for i in range(len(rr_of) - 1)), \
    "round robin sends each record to another partition"
assert len(round_robin) > 2 * len(sticky), "round robin makes many more, smaller batches"
p50 = [latency_ms[f"acks={a}"]["p50"] for a in ("0", "1", "all")]
p99 = [latency_ms[f"acks={a}"]["p99"] for a in ("0", "1", "all")]
assert p50[0] < p50[1] < p50[2], "p50 produce latency grows acks=0 < acks=1 < acks=all"
assert p99[0] < p99[1] < p99[2], "p99 produce latency grows acks=0 < acks=1 < acks=all"
assert all(run.summary["duration_s"] == 2.0 for run in runs.values()), "two simulated seconds of traffic each"
