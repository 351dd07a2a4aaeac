# Claims of notebooks/03-brokers-replication-isr.ipynb, checked in its kernel after its last cell.
from simkafka.model.election import NO_LEADER

# placement: every partition spans the three racks; the leaders are even over the racks
assert racks_per_partition == {3}, "every partition spans all three racks"
assert sorted(leaders_per_rack.values()) == [4, 4, 4], "the placer evens the leaders out over the racks"
assert all(r.leader == r.replicas[0] and r.isr == r.replicas for r in created.partitions.values()), \
    "right after creation the preferred (first) replica leads and every replica is in sync"

# the run: the controller fences the dead broker one session after its last heartbeat
session, heartbeat = crash.cluster.config.broker_session_timeout, crash.cluster.config.broker_heartbeat_interval
assert session - heartbeat <= fenced_at - crash_at <= session + 0.05, "fenced broker.session.timeout.ms after its last heartbeat"
assert brokers_down_at(result, fenced_at) == (dead,), "broker 1 is down when it is fenced"
assert crashed.partitions == before.partitions, "nothing changes between the crash and the fence"
led = [tp for tp, r in before.partitions.items() if r.leader == dead]
assert led and sorted(tp.partition for tp in led) == sorted(moved), "the partitions broker 1 led are the ones that moved"
for tp in led:
    was, now = before.partitions[tp], after.partitions[tp]
    assert now.leader in was.isr and now.leader != dead, "the new leader comes from the ISR and is not the dead broker"
    assert now.leader == next(r for r in was.replicas if r in was.isr and r != dead), \
        "the first replica of the replica list that is in the ISR and alive takes over"
assert all(dead not in r.isr for r in after.partitions.values()), "after fencing broker 1 is in no ISR"
assert all(r.replicas == before.partitions[tp].replicas for tp, r in after.partitions.items()), "nothing is reassigned"
assert all(after.partitions[tp].leader == r.leader for tp, r in before.partitions.items() if tp not in led), \
    "the other partitions keep their leaders"
assert all(r.leader != NO_LEADER for r in after.partitions.values())
# the restart: back in every ISR, leading its preferred partitions again
assert all(dead in r.isr for r in end.partitions.values()), "broker 1 rejoins every ISR"
assert all(r.leader == r.replicas[0] for r in end.partitions.values()), "every preferred leader leads again"
assert any(r.replicas[0] == dead for r in end.partitions.values())
# acks=all stalls until the fence; acks=1 goes on for the partitions with a live leader
rate = 500.0
assert window_all < 0.05 * rate, "acks=all acknowledges (almost) nothing between the crash and the fence"
assert window_1 > 0.5 * rate and window_1 < 0.9 * rate, "acks=1 goes on for the partitions whose leader lives"
assert window_1 > window_all
assert result.summary["acknowledged_lost"] == 0, "acks=all loses nothing acknowledged"
assert result.summary["duration_s"] == 6.0
