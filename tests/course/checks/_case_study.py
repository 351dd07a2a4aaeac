# Claims every case-study notebook makes (notebooks/case-*.ipynb), run in its kernel
# before the notebook's own checks file: the planner's recommendation beside the rules of
# thumb, the short run's conservation, its length and the replicas' zones. Each case
# study names its plan `planned`, its rules-of-thumb table `rules`, its classroom scenario
# `small`, its initial topology `topology` and its short run `result`.
rec = planned.recommendation
assert rec is not None, "the planner recommends a cluster"
assert planned.cases[rec.key] and all(case.met for case in planned.cases[rec.key]), \
    "the recommendation meets every target it was checked against"
assert all(check.met for case in planned.cases[rec.key] for check in case.checks), \
    "each of its checks is met, as the plan reports"
table = rules.set_index(["setting", "rule"])
for topic, advice in planned.advice.items():
    assert table.loc[(f"partitions: {topic}", "max(T/p, T/c)"), "rule of thumb"] == advice.rule_throughput, \
        "the max(T/p, T/c) shown is the library's for this scenario"
    per_broker = 3 if rec.brokers <= 6 else 2
    assert table.loc[(f"partitions: {topic}", f"{per_broker}x brokers"), "rule of thumb"] == advice.rule_brokers(rec.brokers), \
        "the per-broker rule shown is the library's for the recommended broker count"
    assert (table.xs(f"partitions: {topic}")["planner"] == dict(rec.partitions)[topic]).all(), \
        "the planner's column is the recommendation's partitions"
assert table.xs("brokers")["rule of thumb"].iloc[0] == planned.rule_of_thumb_brokers(), \
    "the broker rule shown is the AWS sizing equation the library computes"
assert table.xs("brokers")["planner"].iloc[0] == rec.brokers
for cheaper in planned.next_cheaper():
    assert planned.status(cheaper) in ("failed", "pruned") and planned.why_not(cheaper), \
        "every next-cheaper candidate misses a target, and the plan says which"
assert result.conservation["ok"], \
    "every message of the short run is consumed, in flight, in lag, or failed with a reason"
assert result.summary["duration_s"] == small.run.duration, "the run is as long as the text says"
assert all(len({small.cluster.broker(b).rack for b in s.replicas}) == min(len(s.replicas), 3)
           for s in topology.partitions.values()), "every partition's replicas span the zones"
