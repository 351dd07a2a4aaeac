# Claims of notebooks/06-zookeeper-vs-kraft.ipynb, checked in its kernel after its last cell.
from itertools import pairwise

import pytest

# every figure comes from a run of each mode at each partition count
assert sorted(runs) == sorted((m, n) for m in modes for n in counts)
assert all(runs[(m, n)].resolved_scenario["cluster"]["controller"] == m for m, n in runs)
assert all(runs[(m, n)].resolved_scenario["topics"][0]["partitions"] == n for m, n in runs)
assert all(failover[k] == runs[k].summary["failover_s"] for k in runs), "failover_s is the run's own summary"

# the ramp and the wall: KRaft applies every change of the fence at one instant, ZooKeeper one by one
for n in counts:
    kraft_fence = runs[("kraft", n)].partition_history.query("reason == 'fenced'")["time"]
    zk_fence = runs[("zookeeper", n)].partition_history.query("reason == 'fenced'")["time"]
    assert kraft_fence.nunique() == 1, "KRaft: one batch of records"
    assert zk_fence.nunique() == len(zk_fence) == n, "ZooKeeper: one write per partition broker 1 was in the ISR of"
    assert zk_fence.diff().dropna().round(9).eq(ZK_ELECTION_SECONDS_PER_PARTITION).all()

# ZooKeeper's failover grows with the partition count, KRaft's does not
zk = [failover[("zookeeper", n)] for n in counts]
kraft = [failover[("kraft", n)] for n in counts]
assert all(a < b for a, b in pairwise(zk)), "ZooKeeper mode's failover grows with the partitions"
assert max(kraft) - min(kraft) < 1e-9, "KRaft's failover stays flat"
assert zk[-1] - zk[0] > kraft[-1] - kraft[0] + 1.0, "ZooKeeper's grows faster than KRaft's"
assert abs(zk[0] - kraft[0]) < 0.1, "with a few partitions both take about the session timeout"
assert zk[-1] > kraft[-1] + 1.0
assert slope == pytest.approx(ZK_ELECTION_SECONDS_PER_PARTITION, rel=0.05), "one write per partition led"
assert all(out_of_isr[("zookeeper", n)] > failover[("zookeeper", n)] for n in counts[1:]), \
    "ZooKeeper: elections first, the ISR removals after"
assert all(out_of_isr[("kraft", n)] == pytest.approx(failover[("kraft", n)]) for n in counts), \
    "KRaft: leaders and ISRs in the same batch"
assert 10_000 // 3 * slope > 10, "elections alone run to tens of seconds at 10,000 partitions"

# a controller failover: ZooKeeper reloads every partition, a KRaft standby takes over at once
for n in counts:
    assert activation[("zookeeper", n)] == pytest.approx(n * ZK_RELOAD_SECONDS_PER_PARTITION, abs=0.02)
    assert activation[("kraft", n)] == 0.0

# the table's figures are Kafka's defaults and the model's costs
from simkafka.scenario.cluster import BrokerConfig  # noqa: E402

defaults = BrokerConfig()
assert (defaults.zookeeper_session_timeout, defaults.broker_session_timeout, defaults.broker_heartbeat_interval) == \
    (18.0, 9.0, 2.0), "zookeeper.session.timeout.ms 18 s, broker.session.timeout.ms 9 s, heartbeats every 2 s"
assert (ZK_ELECTION_SECONDS_PER_PARTITION, ZK_RELOAD_SECONDS_PER_PARTITION, KRAFT_METADATA_DELAY) == (0.005, 0.002, 0.025)
assert led[600] == 200, "broker 1 leads a third of the 600 partitions"
# ZooKeeper: the elections are written before the ISR removals
zk_600 = runs[("zookeeper", 600)].partition_history.query("reason == 'fenced'")
elected = zk_600["leader_epoch"].gt(0) & zk_600["replicas"].map(lambda r: r[0] == dead)
assert elected.sum() == led[600] and elected.iloc[: led[600]].all(), "elections first, then the ISR removals"
