"""The scenario library: every shipped scenario loads cleanly and keeps the promises its comments make.

The rules of thumb checked here are the ones the YAML comments cite: Kafka's producer
refuses idempotence without acks=all (ProducerConfig.postProcessAndValidateIdempotenceConfigs),
acks=all only tolerates failures when min.insync.replicas < replication.factor, compaction
needs keys (the leader rejects a keyless record on a compacted topic at append with
INVALID_RECORD: LogValidator.validateKey, "Compacted topic cannot accept message
without key"; LogValidatorTest/UnifiedLogTest cover it), and a
group member beyond the partition count gets nothing (AbstractPartitionAssignor).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simkafka.scenario.loader import load_scenario_with_warnings

LIBRARY = Path(__file__).resolve().parents[2] / "scenarios"
CASE_STUDIES = (
    "movie-streaming",
    "ride-sharing",
    "social-media-feed",
    "bank-cdc",
    "data-ingestion",
    "logging-metrics",
)
FILES = sorted(LIBRARY.glob("*.yaml"))
# Fault scenarios that show, on purpose, a configuration the checks warn about -- the
# warning is their lesson, and each file's header says so. Listed here so that no other
# warning can hide behind them, and each is asserted to still occur.
DELIBERATE_WARNINGS = {
    # ZooKeeper mode (removed in Kafka 4.0): its serial failover is why KRaft was built
    "failover-zookeeper": {("cluster", "controller")},
    # audit: RF 2 / min ISR 2 in three zones -- a zone loss stops its acks=all writes
    "rack-outage": {("topics", 1, "min.insync.replicas")},
}
MIN_ISR_EQUALS_RF = {"rack-outage": {"audit"}}
# the failover pair is about the controller's work per partition: a consumer of 2,000
# partitions would only add fetch work to a run that measures elections
UNREAD_TOPICS = {"failover-kraft": {"events"}, "failover-zookeeper": {"events"}}


def test_library_has_the_case_studies() -> None:
    names = {p.stem for p in FILES}
    assert set(CASE_STUDIES) <= names


@pytest.fixture(params=FILES, ids=lambda p: p.stem)
def loaded(request):
    scenario, warnings = load_scenario_with_warnings(request.param)
    return request.param, scenario, warnings


def test_loads_without_warnings(loaded) -> None:
    path, scenario, warnings = loaded
    deliberate = DELIBERATE_WARNINGS.get(path.stem, set())
    unexpected = [w for w in warnings if tuple(w.path) not in deliberate]
    assert unexpected == [], "\n".join(str(w) for w in unexpected)
    assert deliberate <= {tuple(w.path) for w in warnings}
    assert scenario.name == path.stem


def test_names_a_positive_throughput_target(loaded) -> None:
    _, scenario, _ = loaded
    target = scenario.targets.produce_throughput
    assert target is not None
    assert (target.messages_per_second or target.bytes_per_second or 0) > 0


def test_simulable_size(loaded) -> None:
    # the library is meant to run in seconds: a few brokers, a few minutes
    _, scenario, _ = loaded
    assert 3 <= len(scenario.cluster.brokers) <= 12
    assert 20 <= scenario.run.duration <= 300
    # the measured part dominates: at least three times the warm-up
    assert scenario.run.duration - scenario.run.warmup >= 3 * scenario.run.warmup


def test_quickstart_is_quick_but_long_enough_to_show_a_steady_state() -> None:
    # `make quickstart` runs it on the events engine: well under a minute on two cores
    scenario, _ = load_scenario_with_warnings(LIBRARY / "quickstart.yaml")
    assert scenario.run.engine == "events" and scenario.run.duration <= 30
    producer = scenario.producers[0]
    measured = (scenario.run.duration - scenario.run.warmup) * producer.rate.messages_per_second
    assert measured >= 100_000  # p99.9 then rests on at least 100 messages


def test_acks_all_topics_tolerate_one_replica_down(loaded) -> None:
    # acks=all with min.insync.replicas == replication.factor turns any replica outage
    # into NotEnoughReplicasException: the comments promise RF=3 / min.insync=2
    path, scenario, _ = loaded
    for producer in scenario.producers:
        if producer.acks == "all" and producer.topic not in MIN_ISR_EQUALS_RF.get(path.stem, set()):
            topic = scenario.topic(producer.topic)
            assert topic.min_insync_replicas < topic.replication_factor, producer.topic
            assert topic.min_insync_replicas >= 2, producer.topic


def test_idempotence_only_with_acks_all(loaded) -> None:
    _, scenario, _ = loaded
    for producer in scenario.producers:
        if producer.acks != "all":
            assert not producer.enable_idempotence, producer.name


def test_compacted_topics_are_keyed(loaded) -> None:
    _, scenario, _ = loaded
    for producer in scenario.producers:
        if scenario.topic(producer.topic).compacted:
            assert producer.keys.keyed, producer.name


def test_consumer_parallelism_capped_by_partitions(loaded) -> None:
    # the comments size groups so no member sits idle: members <= total partitions read
    _, scenario, _ = loaded
    for group in scenario.consumer_groups:
        partitions = sum(scenario.topic(t).partitions for t in group.topics)
        assert group.members <= partitions, group.group_id


def test_every_topic_is_written_and_read(loaded) -> None:
    path, scenario, _ = loaded
    written = {p.topic for p in scenario.producers}
    read = {t for g in scenario.consumer_groups for t in g.topics} | UNREAD_TOPICS.get(path.stem, set())
    for topic in scenario.topics:
        assert topic.name in written and topic.name in read, topic.name


def test_some_case_studies_have_faults() -> None:
    with_faults = [
        name
        for name in CASE_STUDIES
        if load_scenario_with_warnings(LIBRARY / f"{name}.yaml")[0].faults
    ]
    assert len(with_faults) >= 3


@pytest.mark.parametrize(
    ("name", "topic", "partitions", "rf", "min_isr"),
    [
        ("movie-streaming", "play-events", 24, 3, 2),
        ("ride-sharing", "driver-locations", 36, 3, 2),
        ("social-media-feed", "likes", 48, 3, 2),
        ("bank-cdc", "payments", 12, 3, 2),
        ("data-ingestion", "raw-events", 96, 3, 2),
        ("logging-metrics", "logs", 36, 2, 1),
    ],
)
def test_sizing_matches_the_comments(
    name: str, topic: str, partitions: int, rf: int, min_isr: int
) -> None:
    scenario, _ = load_scenario_with_warnings(LIBRARY / f"{name}.yaml")
    t = scenario.topic(topic)
    assert (t.partitions, t.replication_factor, t.min_insync_replicas) == (partitions, rf, min_isr)


def test_partition_rule_of_thumb_holds_for_main_topics() -> None:
    # partitions >= target bytes/s / per-partition consumer throughput, with the
    # per-partition figures the comments assume
    cases = {
        ("movie-streaming", "play-events"): 2e6,
        ("data-ingestion", "raw-events"): 5e6,
        ("logging-metrics", "logs"): 4e6,
    }
    for (name, topic), per_partition in cases.items():
        scenario, _ = load_scenario_with_warnings(LIBRARY / f"{name}.yaml")
        producer = next(p for p in scenario.producers if p.topic == topic)
        rate = producer.rate.bytes(producer.message_size.mean)
        assert scenario.topic(topic).partitions >= rate / per_partition, (name, topic)


def test_compaction_used_for_keyed_state() -> None:
    bank, _ = load_scenario_with_warnings(LIBRARY / "bank-cdc.yaml")
    assert bank.topic("cdc.core.accounts").compacted
    assert not bank.topic("payments").compacted
    payment = next(p for p in bank.producers if p.topic == "payments")
    assert payment.acks == "all" and payment.idempotent


def test_logging_is_cheap_and_short_lived() -> None:
    logging, _ = load_scenario_with_warnings(LIBRARY / "logging-metrics.yaml")
    assert all(p.acks == "1" and p.compression_type == "lz4" for p in logging.producers)
    assert all(t.retention <= 6 * 3600 for t in logging.topics)
