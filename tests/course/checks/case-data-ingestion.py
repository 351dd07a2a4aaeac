# Claims of notebooks/case-data-ingestion.ipynb, checked in its kernel after its last cell.
cheaper = planned.next_cheaper()
assert cheaper and cheaper[0].min_insync_replicas == 1 and "durability" in planned.why_not(cheaper[0]), \
    "the same cluster with min.insync.replicas=1 costs no less and misses the durability target"
assert rec.min_insync_replicas == 2 and rec.replication_factor == 3, "the planner lands on RF 3, min ISR 2"
assert wire < 0.5 * payload, "compressed batches carry well under half the records' bytes"
