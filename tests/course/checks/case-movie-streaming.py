# Claims of notebooks/case-movie-streaming.ipynb, checked in its kernel after its last cell.
cheaper = planned.next_cheaper()
assert cheaper and cheaper[0].min_insync_replicas == 1 and "durability" in planned.why_not(cheaper[0]), \
    "the same cluster with min.insync.replicas=1 costs no less and misses the durability target"
assert rec.min_insync_replicas == 2 and rec.replication_factor == 3, "the planner lands on RF 3, min ISR 2"
for g, (offered, read) in reads.items():
    assert abs(read - offered) <= 0.05 * offered, f"group {g} reads every record of its topics"
assert per_member["viewing-analytics"] == 2, "12 members on 24 partitions get two each"
