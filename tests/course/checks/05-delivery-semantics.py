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

# the chain runs Kafka 4.1 (the default): broker 2 crashed, so its ELR place does not let it
# lead cleanly, and the matrix is the one Kafka 4.0.0 gives
assert simkafka.parse_scenario(CHAIN, source="chain.yaml").cluster.kafka_version == "4.1", "the chain runs 4.1"
assert same_on_40 and chain_40.runs == chain.runs, "the same faults on Kafka 4.0.0 give the same matrix"

# eligible leader replicas (KIP-966)
assert crash.resolved_scenario["cluster"]["kafka_version"] == clean.resolved_scenario["cluster"]["kafka_version"] == "4.1"
assert crash_40.resolved_scenario["cluster"]["kafka_version"] == "4.0.0"
for label, run in elr_runs.items():
    assert plots.brokers_down_at(run, one_left) == (0, 2), "brokers 0 and 2 are down before broker 1 stops"
    assert plots.brokers_down_at(run, none_left) == (0, 1, 2), "all three are down before broker 1 restarts"
    assert run.summary["acknowledged_lost"] == 0, f"{label}: acks=all + min ISR 2 loses nothing acknowledged"
four_one = [run for label, run in elr_runs.items() if label.startswith("4.1")]
for run in four_one:
    for r in plots.topology_at(run, one_left).partitions.values():
        assert (r.leader, r.isr, r.elr) == (1, (1,), (2,)), \
            "broker 2 left an ISR at the minimum: it stays eligible, broker 0 does not"
    for r in plots.topology_at(run, none_left).partitions.values():
        assert (r.leader, r.isr, set(r.elr)) == (-1, (), {1, 2}), "4.1: an empty ISR, brokers 1 and 2 eligible"
for r in plots.topology_at(crash_40, none_left).partitions.values():
    assert (r.leader, r.isr, r.elr) == (-1, (1,), ()), "4.0.0: broker 1 stays as an ISR of one, no ELR"

# back after a clean shutdown: broker 1 leads every partition again, out of the ELR
for r in final_topology(clean).partitions.values():
    assert r.leader == LAST and LAST in r.isr, "after a clean shutdown and restart broker 1 leads"
assert unclean_elections(clean) == 0, "a clean election: no unclean election"
assert clean.timeline.query("event == 'leader_elected' and time >= @RESTART_AT")["broker"].eq(LAST).sum() == 3
# back after a crash: dropped from every ELR at registration, leads nothing, partitions offline
registered = crash.partition_history.query("reason == 'unclean_shutdown'")
assert len(registered) == 3 and (registered["time"] >= RESTART_AT).all(), \
    "the crashed broker's registration drops it from every partition's ELR"
for t in (float(registered["time"].min()), end):
    for r in plots.topology_at(crash, t).partitions.values():
        assert LAST not in r.elr and LAST not in r.isr and r.leader == -1, \
            "after the crashed broker re-registers it is in no ISR or ELR and leads nothing"
assert unclean_elections(crash) == 0
assert crash.availability["no_leader_s"].sum() > clean.availability["no_leader_s"].sum(), \
    "the crashed run's partitions stay offline longer"
for r in plots.topology_at(crash, end).partitions.values():
    assert r.elr == (2,), "the partitions wait for broker 2, eligible but down"
# unclean election on: broker 1 leads again, by unclean elections
unclean_run = elr_runs["4.1, crash, unclean election on"]
assert all(r.leader == LAST for r in final_topology(unclean_run).partitions.values())
assert unclean_elections(unclean_run) == 3, "with unclean election on broker 1 is elected uncleanly"
# Kafka 4.0.0: the last ISR member leads again whatever happened, and cleanly
assert all(r.leader == LAST for r in final_topology(crash_40).partitions.values()), "4.0.0 elects broker 1 again"
assert unclean_elections(crash_40) == 0
assert list(elr_table[f"partitions broker {LAST} leads at the end"]) == [3, 0, 3, 3]
assert list(elr_table["partitions without a leader at the end"]) == [0, 3, 0, 0]

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
