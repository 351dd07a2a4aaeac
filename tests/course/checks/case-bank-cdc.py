# Claims of notebooks/case-bank-cdc.ipynb, checked in its kernel after its last cell.
ledger = result.conservation
assert ledger["ok"] and ledger["logs_balanced"], \
    "every message is acknowledged, in flight or failed, and the leaders' logs hold no more than was created"
assert ledger["producers_balanced"] and ledger["history_matches_logs"], \
    "every message created is acknowledged, in flight or failed, and the logs hold what was acknowledged"
assert ledger["written_twice"] == 0 and all(g["balanced"] for g in ledger["groups"].values()), \
    "nothing is written twice and every group's reads balance"
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
