# Claims of notebooks/case-social-media-feed.ipynb, checked in its kernel after its last cell.
cheaper = planned.next_cheaper()
assert cheaper and cheaper[0].min_insync_replicas == 1 and "durability" in planned.why_not(cheaper[0]), \
    "the same cluster with min.insync.replicas=1 costs no less and misses the durability target"
assert rec.min_insync_replicas == 2 and rec.replication_factor == 3, "the planner lands on RF 3, min ISR 2"
assert len(readers) == 3, "three groups each read the likes"
assert hottest > 2, "the hottest partition of likes takes more than twice an even share"
for g in readers:
    assert result.summary[f"consume_msgs_per_s.{g}"] > 0, f"group {g} reads"
