# Claims of notebooks/05-delivery-semantics.ipynb, checked in its kernel after its last cell.

# one broker crash: acks=all + min.insync.replicas 2 loses nothing acknowledged; with every
# follower in sync, neither does acks=1
for acks in ("1", "all"):
    cell = one_crash.cell(acks, False, 2, False)
    assert cell.acknowledged_lost == 0, f"acks={acks}: a single broker crash loses nothing acknowledged"
    assert cell.no_leader_partition_s > 0, "the crashed leader's partitions wait for the election"
assert one_crash.runs == 2

# the chain: acks=all + min ISR 2 loses nothing, even with unclean election, and pays in throughput
assert lost("all", 2, False) == 0 and lost("all", 2, True) == 0, "acks=all + min ISR 2 loses nothing acknowledged"
assert all(lost(a, m, True) > 0 for a, m in (("1", 1), ("1", 2), ("all", 1))), \
    "with unclean election every other cell loses acknowledged records"
assert lost("1", 1, True) > 0, "acks=1 can lose acknowledged records"
assert all(lost(a, m, False) == 0 for a in ("1", "all") for m in (1, 2)), "unclean election off: nothing lost"
for acks in ("1", "all"):
    for min_isr in (1, 2):
        off, on = (chain.cell(acks, False, min_isr, u).no_leader_partition_s for u in (False, True))
        assert off > on, "unclean election off: partitions wait longer without a leader"
strict = chain.cell("all", False, 2, False).produce_msgs_per_s
assert all(strict < chain.cell(a, False, m, False).produce_msgs_per_s / 2 for a, m in (("1", 1), ("1", 2), ("all", 1))), \
    "acks=all + min ISR 2 refuses writes while the ISR is below two: far less gets through"
assert chain.runs == 8 and bool(chain.frame["valid"].all())

# the consumer side, per mode, computed from the run
twice, skipped = outcomes["read twice"], outcomes["skipped"]
uncommitted = outcomes["processed, not committed, at the crash"]
unprocessed = outcomes["committed, not processed, at the crash"]
assert uncommitted["at-least-once"] > 0 and twice["at-least-once"] == uncommitted["at-least-once"], \
    "at-least-once: what was processed and not committed at the crash is read twice"
assert skipped["at-least-once"] == 0, "at-least-once skips nothing"
assert unprocessed["at-most-once"] > 0 and skipped["at-most-once"] == unprocessed["at-most-once"], \
    "at-most-once: what was committed and not processed at the crash is skipped"
assert twice["at-most-once"] == 0, "at-most-once reads nothing twice"
assert twice["exactly-once"] == 0 and skipped["exactly-once"] == 0, "exactly-once: neither read twice nor skipped"
assert uncommitted["exactly-once"] > 0, "exactly-once had work in hand at the crash, and its transaction aborted"
assert crashed.conservation["ok"] and all(crashed.conservation["groups"][m]["balanced"] for m in MODES), \
    "every record is read, in hand, or in lag"
assert crashed.summary["duration_s"] == 9.0
