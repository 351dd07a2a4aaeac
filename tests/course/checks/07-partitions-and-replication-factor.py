# Claims of notebooks/07-partitions-and-replication-factor.ipynb, checked in its kernel after its last cell.
import math

for _name, _side in (("clicks: producer-limited", producer_side), ("orders: consumer-limited", consumer_side)):
    _at = counts.index(knees[_name])
    assert 0 < _at < len(counts) - 1, f"{_name}: the knee lies inside the swept range"
    assert all(b > 1.02 * a for a, b in zip(_side[:_at], _side[1:_at + 1], strict=True)), \
        f"{_name}: throughput grows with every partition up to the knee"
    assert all(abs(t - max(_side)) <= 0.05 * max(_side) for t in _side[_at:]), \
        f"{_name}: beyond the knee throughput is flat"
assert knees["orders: consumer-limited"] == orders.consumer_groups[0].members, \
    "the consumer-limited topic stops gaining at one partition per member"
_at = counts.index(knees["clicks: producer-limited"])
assert producer_side[_at] >= 0.95 * 20_000 > producer_side[_at - 1], \
    "the producer-limited knee is where the partitions together first carry the producer's 20,000 msg/s"
assert all(len(tps) <= 1 for tps in owned.values()) and \
    sorted(p for tps in owned.values() for p in tps) == [0, 1, 2, 3], "each partition has exactly one owner"
assert len(idle) == len(members) - 4 and all(owned[m] == [] for m in idle), \
    "members beyond the partition count own nothing"
for _rf in (2, 3):
    assert abs(disk[f"RF {_rf}"] / disk["RF 1"] - _rf) < 0.15 * _rf, \
        "disk writes per broker grow in proportion to the replication factor"
_in = {name: broker_load(run, "nic_in_MB_per_s").mean() for name, run in by_rf.items()}
assert all(abs(_in[f"RF {_rf}"] / _in["RF 1"] - _rf) < 0.15 * _rf for _rf in (2, 3)), \
    "inbound traffic per broker grows in proportion to the replication factor"
assert out["RF 1"] < out["RF 2"] < out["RF 3"], "replication traffic between brokers grows with RF"
assert all(run.summary["conservation_ok"] for run in by_rf.values())
_need = math.ceil(advice.load / (advice.ceiling * advice.per_partition))
assert advice.for_brokers(brokers) >= max(_need, advice.members) and advice.for_brokers(brokers) % brokers == 0, \
    "the advice covers the load with headroom and every member, rounded to the brokers"
_text = advice.explain(brokers)
assert advice.rule_throughput < advice.for_brokers(brokers) and "no headroom" in _text, \
    "the advice says why it is above max(T/p, T/c): headroom"
_rule = advice.rule_brokers(brokers)
assert (_rule > advice.for_brokers(brokers) and "more than the load needs" in _text) or \
    (_rule < advice.for_brokers(brokers) and "too few" in _text) or _rule == advice.for_brokers(brokers), \
    "the advice says where the 3x-brokers rule differs, and which way"
