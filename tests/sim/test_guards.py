"""Both engines assert their inputs before building anything (issue 9).

The loader refuses these values with file, line and field; a scenario that reaches the
engine another way (``model_copy`` overrides, the planner, code) must still stop with one
clear :class:`RunRefused` naming the field, never a ``ZeroDivisionError`` or a
``ValueError`` from deep inside the network, and never a run that reports 0 msg/s.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from simkafka.scenario import Cluster, Scenario, parse_scenario
from simkafka.sim.accumulator import RecordAccumulator
from simkafka.sim.engine import simulate
from simkafka.sim.guards import RunRefused, hardware_by_broker
from simkafka.sim.storage import record_sizes, total_record_size

SCENARIO = """
name: guarded
cluster:
  brokers: 3
  hardware: {nic: 10Gbps, disk_write: 500MB/s, page_cache: 1GiB}
topics:
  - {name: events, partitions: 6, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: events, count: 2, rate: 2000 msg/s, message_size: 1KiB, batch.size: 16KiB}
consumer_groups:
  - {group.id: readers, topics: [events], members: 2}
run: {duration: 0.3s, warmup: 0.1s, sample_interval: 0.1s}
"""
ENGINES = ("events", "stepped")


def _scenario(engine: str) -> Scenario:
    scenario = parse_scenario(SCENARIO)
    return scenario.with_run(engine=engine)


def _with(scenario: Scenario, section: str, **values: object) -> Scenario:
    """``scenario`` with ``cluster.<section>`` fields replaced, bypassing validation."""
    cluster = scenario.cluster
    part = getattr(cluster, section).model_copy(update=values)
    return scenario.model_copy(update={"cluster": cluster.model_copy(update={section: part})})


def _with_producer(scenario: Scenario, **values: object) -> Scenario:
    producer = scenario.producers[0].model_copy(update=values)
    return scenario.model_copy(update={"producers": (producer, *scenario.producers[1:])})


@contextmanager
def _within(seconds: int) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"took more than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("section", "field", "value", "path"),
    [
        ("hardware", "nic", 0.0, "cluster.hardware.nic must be above zero"),
        ("hardware", "disk_write", -500e6, "cluster.hardware.disk_write must be above zero"),
        ("hardware", "disk_write", float("inf"), "cluster.hardware.disk_write is infinite"),
        ("hardware", "disk_read", float("nan"), "cluster.hardware.disk_read is NaN"),
        ("hardware", "page_cache", -16 * 1024**3, "cluster.hardware.page_cache must not be negative"),
        ("network", "rack_latency", -1e-4, "cluster.network.rack_latency must not be negative"),
        ("network", "client_latency", float("nan"), "cluster.network.client_latency is NaN"),
        ("clients", "nic", 0.0, "cluster.clients.nic must be above zero"),
    ],
)
def test_engines_refuse_unusable_hardware_and_network(
    engine: str, section: str, field: str, value: float, path: str
) -> None:
    # before: ZeroDivisionError (nic 0, events), ValueError from network.set_latency /
    # _check_capacity (events), 0 msg/s or negative disk figures (stepped)
    scenario = _with(_scenario(engine), section, **{field: value})
    with pytest.raises(RunRefused, match=path):
        simulate(scenario)


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_refuse_batch_size_beyond_kafka_int32(engine: str) -> None:
    scenario = _with_producer(_scenario(engine), batch_size=100 * 2**70)
    with pytest.raises(RunRefused, match=r"producers\[0\]\.batch\.size must be between 0 and 2147483647"):
        simulate(scenario)


@pytest.mark.parametrize("engine", ENGINES)
def test_batch_size_zero_disables_batching_as_kafka_does(engine: str) -> None:
    # KafkaProducer passes Math.max(1, batch.size) on; before, BuiltInPartitioner raised
    # "stickyBatchSize must be >= 1" at construction on both engines
    scenario = _with_producer(_scenario(engine), batch_size=0)
    result = simulate(scenario)
    assert result.conservation["ok"]
    assert result.summary["produce_msgs_per_s"] > 0
    assert result.summary["batches_per_request"] >= 1


def test_total_record_size_matches_the_record_by_record_sum() -> None:
    for count in (1, 2, 63, 64, 65, 100, 8191, 8192, 8193, 20000):
        for key in (None, 0, 10):
            assert total_record_size(count, key, 100) == sum(record_sizes(count, key, 100)), count


def test_accumulator_of_a_huge_batch_of_tiny_records_is_built_at_once() -> None:
    # a 2 GiB batch.size of 1-byte records: ~200 million records per batch, which the
    # per-record mean-overhead loop took minutes over (a "hung" run before it started)
    with _within(5):
        acc = RecordAccumulator(
            4, batch_size=2**31 - 1, linger=0.005, compression_ratio=1.0, message_bytes=1.0
        )
    assert acc.messages_per_batch > 10**8


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_refuse_two_producer_groups_with_one_name(engine: str) -> None:
    # before: ValueError "host 'producer.events-0' already exists" from the network (events)
    scenario = _scenario(engine)
    scenario = scenario.model_copy(update={"producers": scenario.producers * 2})
    with pytest.raises(RunRefused, match=r"producers\[1\] has the same name as producers\[0\]"):
        simulate(scenario)


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_refuse_a_consumer_group_listed_twice(engine: str) -> None:
    # before: the second entry silently replaced the first one's members (events)
    scenario = _scenario(engine)
    scenario = scenario.model_copy(update={"consumer_groups": scenario.consumer_groups * 2})
    with pytest.raises(RunRefused, match=r"consumer_groups\[1\]\.group\.id 'readers' is also"):
        simulate(scenario)


def test_broker_hardware_is_found_in_one_pass() -> None:
    scenario = parse_scenario(SCENARIO)
    brokers = tuple(
        b.model_copy(update={"nic": 1e9 * (i + 1)} if i % 2 else {})
        for i, b in enumerate(scenario.cluster.brokers)
    )
    cluster = scenario.cluster.model_copy(update={"brokers": brokers})
    assert hardware_by_broker(cluster) == {b.id: cluster.hardware_of(b.id) for b in brokers}
    # 100,000 brokers: Cluster.hardware_of per broker searched the list each time (quadratic)
    many = cluster.model_copy(
        update={"brokers": tuple(brokers[0].model_copy(update={"id": i}) for i in range(100_000))}
    )
    with _within(10):
        assert len(hardware_by_broker(many)) == 100_000


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_do_not_search_the_broker_list_per_broker(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def quadratic(self: object, broker_id: int) -> None:
        raise AssertionError("a search of the broker list per broker")

    monkeypatch.setattr(Cluster, "hardware_of", quadratic)
    monkeypatch.setattr(Cluster, "broker", quadratic)
    assert simulate(_scenario(engine)).conservation["ok"]
