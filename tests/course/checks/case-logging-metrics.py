# Claims of notebooks/case-logging-metrics.ipynb, checked in its kernel after its last cell.
assert agents.acks == "1", "the log agents write with acks=1"
assert rec.replication_factor == 2, "the planner keeps two replicas for logs"
assert rec.monthly_usd < min(c.monthly_usd for c in rf3), "a third replica would cost more"
