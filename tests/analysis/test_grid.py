"""Grid expansion: paths as the YAML is written, values judged by the scenario's own models."""

import os
import subprocess
import sys

import pytest

from simkafka.analysis.grid import MAX_POINTS, GridError, expand_grid, point_seed


def test_grid_is_the_product_first_param_slowest(tiny):
    points = expand_grid(tiny, ["cluster.brokers=3..5", "topics.events.partitions=12,24"])
    assert [p.params for p in points] == [
        {"cluster.brokers": b, "topics.events.partitions": n} for b in (3, 4, 5) for n in (12, 24)
    ]
    for p in points:
        assert len(p.scenario.cluster.brokers) == p.params["cluster.brokers"]
        assert p.scenario.topics[0].partitions == p.params["topics.events.partitions"]


def test_broker_count_is_dealt_over_the_racks_again(tiny):
    (point,) = expand_grid(tiny, ["cluster.brokers=5"])
    assert [(b.id, b.rack) for b in point.scenario.cluster.brokers] == [
        (0, "a"), (1, "b"), (2, "c"), (3, "a"), (4, "b")
    ]


def test_values_are_parsed_by_the_scenario_units_and_dotted_kafka_names(tiny):
    points = expand_grid(
        tiny,
        [
            "producers.writers.rate=1MB/s,2MB/s",
            "producers.writers.linger.ms=0,20",
            "topics.events.replication.factor=3",
            "consumer_groups.readers.members=2",
        ],
    )
    assert len(points) == 4
    rates = [p.scenario.producers[0].rate.bytes_per_second for p in points]
    assert rates == [1e6, 1e6, 2e6, 2e6]
    # linger.ms is written in ms and held in seconds
    assert [p.scenario.producers[0].linger for p in points] == [0.0, 0.02, 0.0, 0.02]
    assert {p.scenario.topics[0].replication_factor for p in points} == {3}
    assert {p.scenario.consumer_groups[0].members for p in points} == {2}


def test_elements_by_index_and_unset_sections(tiny):
    points = expand_grid(tiny, ["topics.0.partitions=6", "cluster.hardware.cpu_cores=2,4"])
    assert [p.scenario.cluster.hardware.cpu_cores for p in points] == [2, 4]
    assert points[0].scenario.topics[0].partitions == 6


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("cluster.brokrs=3", "--param cluster.brokrs=3: cluster has no key 'brokrs'; did you mean 'brokers'?"),
        ("topics.evnts.partitions=3", "--param topics.evnts.partitions=3: topics has no element named 'evnts' (events; or an index 0..0)"),
        ("cluster.brokers=5..3", "--param cluster.brokers=5..3: the range 5..3 is empty (a..b needs a <= b)"),
        ("cluster.brokers=", "--param cluster.brokers=: no values after '='"),
        ("cluster.brokers=3,,4", "an empty value in the list"),
        ("cluster.brokers=3,3", "--param cluster.brokers=3,3: a value is repeated"),
        ("cluster.brokers=1..x", "a range is a..b with two integers"),
        ("cluster.hardware=3", "--param cluster.hardware=3: cluster.hardware is a section, not a setting"),
        ("run.seed.x=1", "run.seed is a single value, it has no 'x'"),
        ("brokers", "--param brokers: expected PATH=VALUES"),
    ],
)
def test_bad_params_name_the_param(tiny, param, message):
    with pytest.raises(GridError) as error:
        expand_grid(tiny, [param])
    assert message in str(error.value)


def test_a_bad_value_gets_the_scenarios_own_message(tiny):
    with pytest.raises(GridError) as error:
        expand_grid(tiny, ["producers.writers.rate=1MB/s,fast"])
    assert str(error.value) == (
        "1 problem in --param producers.writers.rate=fast:\n"
        "--param producers.writers.rate=fast: error: producers[0].rate: expected a rate such "
        "as '10000 msg/s', '50MB/s' or '1Gbps', got 'fast'"
    )


def test_a_contradiction_between_two_params_names_the_point(tiny):
    with pytest.raises(GridError) as error:
        expand_grid(tiny, ["cluster.brokers=2,3", "topics.events.replication.factor=3"])
    assert (
        "--param cluster.brokers=2 --param topics.events.replication.factor=3: error: "
        "topics[0].replication.factor: replication factor 3 is larger than the 2 broker(s)"
    ) in str(error.value)


def test_repeated_path_and_huge_grids_are_refused(tiny):
    with pytest.raises(GridError, match="the same setting as --param topics.0.partitions=1"):
        expand_grid(tiny, ["topics.0.partitions=1", "topics.events.partitions=2"])
    with pytest.raises(GridError, match=f"at most {MAX_POINTS:,}"):
        expand_grid(tiny, ["producers.writers.count=1..1000", "topics.events.partitions=1..1000"])


def test_point_seeds_are_stable_across_processes_and_distinct(tiny):
    points = expand_grid(tiny, ["cluster.brokers=3..4", "topics.events.partitions=3,6"])
    seeds = [p.scenario.seed for p in points]
    assert len(set(seeds)) == 4
    assert seeds == [point_seed(7, p.params) for p in points]
    # another interpreter (another hash() salt) derives the same seeds
    code = (
        "from simkafka.analysis.grid import point_seed;"
        "print([point_seed(7, {'cluster.brokers': b, 'topics.events.partitions': n})"
        " for b in (3, 4) for n in (3, 6)])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONHASHSEED": "123"},
    ).stdout
    assert out.strip() == str(seeds)
    # the order the params are given in does not change a point's seed
    assert point_seed(7, {"b": 1, "a": 2}) == point_seed(7, {"a": 2, "b": 1})
    assert point_seed(8, {"a": 2}) != point_seed(7, {"a": 2})


def test_sweeping_the_seed_itself_keeps_the_given_seeds(tiny):
    points = expand_grid(tiny, ["run.seed=1..3"])
    assert [p.scenario.seed for p in points] == [1, 2, 3]


def test_a_broker_count_swept_over_an_explicit_broker_list_keeps_its_racks():
    from simkafka.scenario import parse_scenario

    text = """\
name: listed
cluster:
  brokers:
    - {id: 0, rack: east}
    - {id: 1, rack: west}
topics:
  - {name: events, partitions: 4, replication.factor: 2}
"""
    scenario = parse_scenario(text, "listed.yaml")
    points = expand_grid(scenario, ["cluster.brokers=4"])
    cluster = points[0].scenario.cluster
    assert [(b.id, b.rack) for b in cluster.brokers] == [(0, "east"), (1, "west"), (2, "east"), (3, "west")]
