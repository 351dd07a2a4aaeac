# Claims of notebooks/04-consumer-groups.ipynb, checked in its kernel after its last cell.
EAGER, INCREMENTAL = ["range", "roundrobin"], ["cooperative", "kip848"]

for run, moved in ((joined, moves), (deploy, deploy_moves)):
    for g in set(moved.group):
        mine = moved[moved.group == g]
        log = run.rebalances[run.rebalances.group == g]
        if mine.assignor.iloc[0] in ("range", "roundrobin"):
            assert (mine.revoked == mine.partitions).all(), f"{g}: an eager rebalance revokes every partition"
            assert (log.stop_the_world_s > 0).all(), f"{g}: every eager rebalance stops the whole group"
            assert mine.revoked.sum() > mine.partitions_moved.sum(), f"{g}: eager revokes more than moves"
        else:
            assert mine.revoked.sum() == mine.partitions_moved.sum(), \
                f"{g}: an incremental group revokes only the partitions that change owner"
            assert (log.stop_the_world_s == 0).all(), f"{g}: an incremental rebalance never stops the whole group"

assert all(len(moves[moves.group == g]) == 1 for g in EAGER + ["kip848"]), "one rebalance for the join"
assert len(moves[moves.group == "cooperative"]) == 2, "the cooperative join takes two rounds"
assert moves[moves.group == "cooperative"].revoked.tolist() == [0, 2], \
    "the first cooperative round moves nothing; the second hands over the two withheld partitions"

from simkafka.report.groups import owned_partitions  # noqa: E402

for g in EAGER:
    assert owned_partitions(joined, g).min() == 0, f"{g}: at one moment of the join nobody owns anything"
for g in INCREMENTAL:
    assert owned_partitions(joined, g).iloc[1:].min() >= 4, f"{g}: the four partitions that stay keep their owner"

for g in GROUPS:
    assert final[g] == expected[g], f"{g}: the final assignment is the assignor's answer for the final members"
for run, names in ((joined, GROUPS), (deploy, DEPLOYED)):
    for g in names:
        at_end = assignment_at(run, g, run.summary["duration_s"])
        owned = sorted(tp.partition for tps in at_end.values() for tp in tps)
        assert owned == list(range(6)), f"{g}: every partition has exactly one owner at the end"
        assert len(at_end) == 3, f"{g}: three members share the six partitions at the end"

for run in (joined, deploy):
    assert run.conservation["ok"], "every message is read, in hand, in lag, or failed with a reason"
    assert run.conservation["acknowledged_lost"] == 0
positions = group_positions(deploy)
assert positions["balanced"].all()
assert (positions[["read", "in the consumer", "not fetched (lag)", "skipped at start"]].sum(axis=1)
        == positions["below high watermark"]).all(), "read + in hand + lag = records below the high watermark"
assert joined.summary["duration_s"] == 6.0 and deploy.summary["duration_s"] == 10.0
