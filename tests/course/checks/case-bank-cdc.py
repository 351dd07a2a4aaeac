# Claims of notebooks/case-bank-cdc.ipynb, checked in its kernel after its last cell.
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
ledger = result.conservation
assert ledger["ok"] and ledger["logs_balanced"], \
    "every message is acknowledged, in flight or failed, and the leaders' logs hold no more than was created"
assert ledger["producers_balanced"] and ledger["history_matches_logs"], \
    "every message created is acknowledged, in flight or failed, and the logs hold what was acknowledged"
assert ledger["written_twice"] == 0 and all(g["balanced"] for g in ledger["groups"].values()), \
    "nothing is written twice and every group's reads balance"
assert result.summary["duration_s"] == small.run.duration, "the run is as long as the text says"
assert all(len({small.cluster.broker(b).rack for b in s.replicas}) == min(len(s.replicas), 3)
           for s in topology.partitions.values()), "every partition's replicas span the zones"
cheaper = planned.next_cheaper()
assert cheaper and cheaper[0].min_insync_replicas == 1 and "durability" in planned.why_not(cheaper[0]), \
    "the same cluster with min.insync.replicas=1 costs no less and misses the durability target"
assert rec.min_insync_replicas == 2 and rec.replication_factor == 3, "the planner lands on RF 3, min ISR 2"
assert fraud.delivery == "exactly-once" and fraud.isolation_level == "read_committed" and not fraud.enable_auto_commit, \
    "exactly-once reads committed records and never auto-commits"
assert cache.group_instance_id == "account-cache", "the cache's members are static"
assert payments.acks == "all" and payments.enable_idempotence, "payments are written with acks=all and idempotence"
assert result.summary["p99_e2e_latency_s"] < alert_target, "the fraud alerting latency meets its target in the short run"
assert result.summary["no_leader_partition_s"] == 0, "a controlled shutdown leaves no partition without a leader"
assert result.summary["leader_elections"] == balance.loc[4, "leaders"], \
    "every partition broker 4 led is given a new leader, and no other"
assert result.summary["acknowledged_lost"] == 0, "nothing acknowledged is lost"
