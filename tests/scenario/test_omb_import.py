"""Java properties parsing, the OMB importer and the ``simkafka import omb`` command.

Properties cases follow the grammar of ``java.util.Properties.load`` (the JDK's
``Properties.load(Reader)`` javadoc); every expected map below was checked against
JDK 17's ``Properties.load`` with throw-away Java.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from simkafka.scenario.errors import ScenarioError
from simkafka.scenario.importers.java_properties import (
    PropertiesError,
    load_properties,
    parse_properties,
)
from simkafka.scenario.importers.omb import import_omb, import_omb_with_warnings
from simkafka.scenario.loader import parse_scenario, parse_scenario_with_warnings

DATA = Path(__file__).parent / "data" / "omb"
WORKLOAD = DATA / "1-topic-100-partitions-1kb.yaml"
THROUGHPUT = DATA / "kafka-throughput.yaml"
LATENCY = DATA / "kafka-latency.yaml"


# ---- java.util.Properties grammar --------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a=1", {"a": "1"}),
        ("a: 1", {"a": "1"}),
        ("a 1", {"a": "1"}),
        ("a\t=\t1", {"a": "1"}),
        ("   a = 1  ", {"a": "1  "}),  # trailing blanks belong to the value
        ("a==1", {"a": "=1"}),  # only the first separator is skipped
        ("a = = 1", {"a": "= 1"}),
        ("a", {"a": ""}),
        ("a=", {"a": ""}),
        ("# c\n! c\n\n  \n a=1", {"a": "1"}),
        ("a=x#y", {"a": "x#y"}),  # '#' inside a value is not a comment
        ("a=hello \\\n    world", {"a": "hello world"}),
        ("a=one\\\n  two\\\n  three", {"a": "onetwothree"}),
        ("a=x\\\\\nb=y", {"a": "x\\", "b": "y"}),  # even backslashes: no continuation
        ("# comment \\\na=1", {"a": "1"}),  # a comment is never continued
        ("a=1\\", {"a": "1"}),  # backslash at end of input is dropped
        ("a=\\t\\n\\r\\f", {"a": "\t\n\r\f"}),
        ("a=\\u0041\\u00e9", {"a": "A\u00e9"}),
        ("k\\:x\\=y=v", {"k:x=y": "v"}),
        ("key\\ with\\ blanks = v", {"key with blanks": "v"}),
        ("a=\\q", {"a": "q"}),  # unknown escapes stand for the character
        ("a=1\r\nb=2\rc=3", {"a": "1", "b": "2", "c": "3"}),
        ("a=1\na=2", {"a": "2"}),  # later wins (Hashtable.put)
        ("\\#a=1", {"#a": "1"}),
    ],
)
def test_properties_grammar(text: str, expected: dict[str, str]) -> None:
    assert load_properties(text) == expected


# Edge cases of JDK 9+ ``Properties.LineReader``; the expected maps were produced by running
# ``new Properties().load(new StringReader(text))`` on JDK 17 (throw-away Java in /tmp).
# The parser also agreed with JDK 17 on 50,000 random texts over these characters.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\", {"": ""}),
        ("\\\n", {"": ""}),
        ("\\\r\n", {}),
        ("b\r\n\\\r", {"": "", "b": ""}),
        ("x\\\n\\", {"x": ""}),
        ("\\\n#c\na=1", {"a": "1"}),
        ("\\\n!c", {}),
        ("\\\n\n  a=1", {"a": "1"}),
        ("a\\\n#b", {"a#b": ""}),
        ("a=1\\\n", {"a": "1"}),
        ("k=v\\\n  \\\n  w", {"k": "vw"}),
    ],
)
def test_properties_line_reader_edges_match_jdk17(text: str, expected: dict[str, str]) -> None:
    assert load_properties(text) == expected


def test_truncated_unicode_escape_is_an_error_as_in_jdk17() -> None:
    # JDK 17: IllegalArgumentException "Malformed \\uxxxx encoding."
    with pytest.raises(PropertiesError):
        load_properties("\\u0041=\\u004")


def test_properties_keep_line_numbers() -> None:
    parsed = parse_properties("# header\na=1\nb=two \\\n  lines\nc=3\n")
    assert parsed == {"a": ("1", 2), "b": ("two lines", 3), "c": ("3", 5)}


def test_malformed_unicode_escape_names_the_line() -> None:
    with pytest.raises(PropertiesError) as info:
        load_properties("a=1\nb=\\u12G4\n")
    assert info.value.line == 2
    assert "\\uxxxx" in str(info.value)


_plain = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="\\=:#!"),
    min_size=1,
)


def _escape(text: str, *, key: bool) -> str:
    out = []
    for i, c in enumerate(text):
        if c in "\\=:#! " and (key or c == "\\" or (c == " " and i == 0)):
            out.append("\\" + c)
        elif c == "\t":
            out.append("\\t")
        elif c == "\n":
            out.append("\\n")
        else:
            out.append(c)
    return "".join(out)


@given(
    st.dictionaries(
        _plain,
        st.text(
            alphabet=st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("\t\n")
        ),
    )
)
def test_properties_round_trip(entries: dict[str, str]) -> None:
    # what Properties.store would write (escaped keys and values) parses back unchanged
    text = "\n".join(f"{_escape(k, key=True)}={_escape(v, key=False)}" for k, v in entries.items())
    assert load_properties(text) == entries


# ---- OMB import of the project's own example files --------------------------------


def test_throughput_example_imports_to_a_loading_scenario() -> None:
    document, warnings = import_omb_with_warnings(WORKLOAD, THROUGHPUT)
    scenario, scenario_warnings = parse_scenario_with_warnings(
        yaml.safe_dump(document, sort_keys=False)
    )
    assert scenario_warnings == []
    (topic,) = scenario.topics
    assert topic.name == "test-topic-0000000"
    assert (topic.partitions, topic.replication_factor, topic.min_insync_replicas) == (100, 3, 2)
    (producer,) = scenario.producers
    assert producer.count == 1
    assert producer.rate.messages_per_second == 50000
    assert producer.message_size.mean == 1024
    assert not producer.keys.keyed
    assert producer.acks == "all"
    assert producer.linger == pytest.approx(0.001)
    assert producer.batch_size == 1048576
    (group,) = scenario.consumer_groups
    assert group.members == 1 and group.topics == ("test-topic-0000000",)
    assert group.auto_offset_reset == "earliest"
    assert group.enable_auto_commit is False
    assert group.max_partition_fetch_bytes == 10485760
    # 1 minute OMB warm-up + 15 minutes of test
    assert scenario.run.warmup == 60 and scenario.run.duration == 16 * 60
    assert scenario.targets.produce_throughput.messages_per_second == 50000
    # commonConfig keys the schema has no use for are reported, not dropped
    text = "\n".join(str(w) for w in warnings)
    assert "bootstrap.servers" in text and "default.api.timeout.ms" in text
    assert all(w.source == str(THROUGHPUT) and w.line is not None for w in warnings)


def test_latency_driver_differs_only_in_batch_size() -> None:
    throughput = import_omb(WORKLOAD, THROUGHPUT)
    latency = import_omb(WORKLOAD, LATENCY)
    assert latency["producers"][0]["batch.size"] == 131072
    assert throughput["producers"][0]["batch.size"] == 1048576
    assert parse_scenario(yaml.safe_dump(latency)).producers[0].batch_size == 131072


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


MULTI = """\
name: 4 topics / keyed
topics: 4
partitionsPerTopic: 16
messageSize: 100
keyDistributor: RANDOM_NANO
subscriptionsPerTopic: 2
consumerPerSubscription: 3
producersPerTopic: 2
producerRate: 200000
testDurationMinutes: 2
warmupDurationMinutes: 0
"""


def test_rate_is_total_across_topics_and_groups_per_subscription(tmp_path: Path) -> None:
    # WorkloadGenerator: targetPublishRate = producerRate, split over every producer of
    # every topic; one consumer group per (topic, subscription)
    workload = _write(tmp_path / "w.yaml", MULTI)
    scenario = parse_scenario(yaml.safe_dump(import_omb(workload, THROUGHPUT, brokers=6)))
    assert [t.name for t in scenario.topics] == [f"test-topic-000000{i}" for i in range(4)]
    assert len(scenario.cluster.brokers) == 6
    assert sum(p.rate.messages_per_second for p in scenario.producers) == 200000
    assert {p.rate.messages_per_second for p in scenario.producers} == {50000}
    assert {p.count for p in scenario.producers} == {2}
    assert all(
        p.keys.distribution == "uniform" and p.keys.count == 10_000 for p in scenario.producers
    )
    assert len(scenario.consumer_groups) == 8
    assert len({g.group_id for g in scenario.consumer_groups}) == 8
    assert all(g.members == 3 and len(g.topics) == 1 for g in scenario.consumer_groups)
    assert scenario.run.warmup == 0 and scenario.run.duration == 120


def test_rate_search_becomes_max_rate_producers_with_a_warning(tmp_path: Path) -> None:
    # producerRate 0 is OMB's search for the maximum sustainable rate: the nearest thing a
    # scenario can say is producers as fast as they can go (rate: max), and no rate target
    workload = _write(tmp_path / "w.yaml", MULTI.replace("producerRate: 200000", "producerRate: 0"))
    document, warnings = import_omb_with_warnings(workload, THROUGHPUT, brokers=6)
    scenario = parse_scenario(yaml.safe_dump(document))
    assert all(p.rate.is_max for p in scenario.producers)
    assert scenario.targets.produce_throughput is None
    (warning,) = [w for w in warnings if w.path == ("producerRate",)]
    assert warning.line == 9 and "rate: max" in warning.message


def test_key_round_robin_cycles_the_key_pool(tmp_path: Path) -> None:
    workload = _write(tmp_path / "w.yaml", MULTI.replace("RANDOM_NANO", "KEY_ROUND_ROBIN"))
    keys = import_omb(workload, THROUGHPUT)["producers"][0]["keys"]
    assert keys == {"distribution": "sequential", "count": 10_000}


def test_hardware_and_racks_go_into_the_cluster(tmp_path: Path) -> None:
    document = import_omb(
        WORKLOAD, THROUGHPUT, brokers=6, racks=["a", "b", "c"], hardware={"nic": "25Gbps"}
    )
    scenario = parse_scenario(yaml.safe_dump(document))
    assert scenario.cluster.hardware.nic == pytest.approx(25e9 / 8)
    assert [b.rack for b in scenario.cluster.brokers] == ["a", "b", "c"] * 2


def test_backlog_and_unknown_fields_are_warnings(tmp_path: Path) -> None:
    workload = _write(
        tmp_path / "w.yaml", MULTI + "consumerBacklogSizeGB: 100\nproducerStartRate: 5\n"
    )
    driver = _write(
        tmp_path / "d.yaml",
        "replicationFactor: 3\nproducerConfig: |\n  acks=all\n  key.serializer=x.Y\nconsumerConfig: |\n  group.id=g\n",
    )
    _document, warnings = import_omb_with_warnings(workload, driver)
    by_field = {(w.source, w.path, w.line) for w in warnings}
    assert (str(workload), ("consumerBacklogSizeGB",), 12) in by_field
    assert (str(workload), ("producerStartRate",), 13) in by_field
    assert (str(driver), ("producerConfig",), 4) in by_field  # key.serializer, line of the property
    assert (str(driver), ("consumerConfig",), 6) in by_field  # group.id is OMB's to set


# OMB's WorkloadGenerator.buildAndDrainBacklog: requestedBacklogSize =
# consumerBacklogSizeGB * 1024 * 1024 * 1024, counted as (subscriptionsPerTopic *
# messagesSent - messagesReceived) * messageSize
GIB = 1024**3
BARE_DRIVER = "replicationFactor: 3\n"  # no auto.offset.reset: Kafka's default, latest


def _backlog_workload(tmp_path: Path, gb: int, base: str | None = None) -> Path:
    text = base if base is not None else WORKLOAD.read_text(encoding="utf-8")
    if "consumerBacklogSizeGB" in text:
        text = text.replace("consumerBacklogSizeGB: 0", f"consumerBacklogSizeGB: {gb}")
    else:
        text += f"consumerBacklogSizeGB: {gb}\n"
    return _write(tmp_path / f"backlog-{gb}.yaml", text)


def test_backlog_gb_becomes_the_topics_prefill_read_from_earliest(tmp_path: Path) -> None:
    driver = _write(tmp_path / "d.yaml", BARE_DRIVER)
    document, warnings = import_omb_with_warnings(_backlog_workload(tmp_path, 1), driver)
    scenario, scenario_warnings = parse_scenario_with_warnings(yaml.safe_dump(document))
    assert scenario_warnings == []
    (topic,) = scenario.topics
    # 1 topic, 1 subscription, no compression: the whole GiB (1024^3, not 10^9) is on it
    assert topic.prefill == GIB
    (group,) = scenario.consumer_groups
    assert group.auto_offset_reset == "earliest"
    # the backlog is built and drained inside OMB's measured window: no warm-up here
    assert scenario.run.warmup == 0 and scenario.run.duration == 15 * 60
    (warning,) = [w for w in warnings if w.path == ("consumerBacklogSizeGB",)]
    assert warning.line == 27 and "approximated" in warning.message
    assert "build phase" in warning.message


def test_zero_backlog_keeps_no_prefill_and_the_drivers_reset(tmp_path: Path) -> None:
    driver = _write(tmp_path / "d.yaml", BARE_DRIVER)
    document, warnings = import_omb_with_warnings(_backlog_workload(tmp_path, 0), driver)
    scenario = parse_scenario(yaml.safe_dump(document))
    assert "prefill" not in document["topics"][0]
    assert scenario.topics[0].prefill == 0
    assert scenario.consumer_groups[0].auto_offset_reset == "latest"
    assert scenario.run.warmup == 60 and scenario.run.duration == 16 * 60
    assert not [w for w in warnings if w.path == ("consumerBacklogSizeGB",)]


def test_backlog_is_shared_by_subscriptions_and_spread_over_topics(tmp_path: Path) -> None:
    # MULTI: 4 topics, 2 subscriptions each. OMB counts every subscription's unread
    # copy, so the topics together hold 1 GiB / 2, a quarter of that on each
    workload = _backlog_workload(tmp_path, 1, MULTI)
    scenario = parse_scenario(yaml.safe_dump(import_omb(workload, THROUGHPUT)))
    assert [t.prefill for t in scenario.topics] == [GIB // 8] * 4
    assert len(scenario.consumer_groups) == 8
    assert {g.auto_offset_reset for g in scenario.consumer_groups} == {"earliest"}


def test_backlog_prefill_is_stored_compressed(tmp_path: Path) -> None:
    # prefill counts log bytes; OMB's backlog counts messageSize payload bytes: lz4's
    # default ratio 0.48 (or the driver's own) turns one into the other
    driver = _write(
        tmp_path / "d.yaml", BARE_DRIVER + "producerConfig: |\n  compression.type=lz4\n"
    )
    document = import_omb(_backlog_workload(tmp_path, 2), driver)
    assert parse_scenario(yaml.safe_dump(document)).topics[0].prefill == round(2 * GIB * 0.48)


def test_a_driver_reset_to_latest_is_overridden_with_a_warning(tmp_path: Path) -> None:
    # OMB's consumers are subscribed before anything is produced, so they read the backlog
    # whatever the reset policy; a prefill is read only from earliest
    driver = _write(
        tmp_path / "d.yaml", BARE_DRIVER + "consumerConfig: |\n  auto.offset.reset=latest\n"
    )
    document, warnings = import_omb_with_warnings(_backlog_workload(tmp_path, 1), driver)
    assert (
        parse_scenario(yaml.safe_dump(document)).consumer_groups[0].auto_offset_reset == "earliest"
    )
    (warning,) = [w for w in warnings if w.path == ("consumerConfig",)]
    assert warning.source == str(driver) and warning.line == 3
    assert "auto.offset.reset=latest" in warning.message


def test_backlog_without_consumers_is_ignored_with_a_warning(tmp_path: Path) -> None:
    workload = _backlog_workload(
        tmp_path, 1, MULTI.replace("consumerPerSubscription: 3", "consumerPerSubscription: 0")
    )
    document, warnings = import_omb_with_warnings(workload, THROUGHPUT)
    assert all("prefill" not in t for t in document["topics"])
    (warning,) = [w for w in warnings if w.path == ("consumerBacklogSizeGB",)]
    assert "ignored" in warning.message


def test_backlog_with_rate_search_is_refused_as_omb_does(tmp_path: Path) -> None:
    # WorkloadGenerator's constructor: IllegalArgumentException
    workload = _backlog_workload(
        tmp_path, 1, MULTI.replace("producerRate: 200000", "producerRate: 0")
    )
    with pytest.raises(ScenarioError) as info:
        import_omb(workload, THROUGHPUT)
    (problem,) = info.value.problems
    assert (problem.source, problem.path, problem.line) == (
        str(workload),
        ("consumerBacklogSizeGB",),
        12,
    )
    assert "Cannot probe producer sustainable rate" in problem.message


def test_fields_at_omb_defaults_are_quiet_others_warn(tmp_path: Path) -> None:
    quiet = _write(
        tmp_path / "q.yaml", MULTI + "useRandomizedPayloads: false\nrandomBytesRatio: 0.0\n"
    )
    assert [w.source for w in import_omb_with_warnings(quiet, LATENCY)[1]] == [
        str(LATENCY)
    ]  # bootstrap.servers
    loud = _write(
        tmp_path / "l.yaml", MULTI + "useRandomizedPayloads: true\nrandomBytesRatio: 0.5\n"
    )
    fields = [w.path for w in import_omb_with_warnings(loud, LATENCY)[1] if w.source == str(loud)]
    assert fields == [("useRandomizedPayloads",), ("randomBytesRatio",)]


@pytest.mark.parametrize(
    ("change", "field", "line", "words"),
    [
        (("partitionsPerTopic: 16\n", ""), "partitionsPerTopic", 1, "missing"),
        (("messageSize: 100", "messageSize: big"), "messageSize", 4, "whole number"),
        (("RANDOM_NANO", "ZIPF"), "keyDistributor", 5, "unknown key distributor"),
        (
            ("producerRate: 200000", "producerRate: -5"),
            "producerRate",
            9,
            "must be >= 0",
        ),
        (("topics: 4", "topics: 0"), "topics", 2, ">= 1"),
    ],
)
def test_bad_workload_names_file_line_and_field(tmp_path: Path, change, field, line, words) -> None:
    workload = _write(tmp_path / "bad.yaml", MULTI.replace(*change))
    with pytest.raises(ScenarioError) as info:
        import_omb(workload, THROUGHPUT)
    (problem,) = info.value.problems
    assert problem.source == str(workload)
    assert problem.path == (field,)
    assert problem.line == line
    assert words in (problem.message + (problem.hint or ""))


def test_bad_driver_value_points_at_the_property_line(tmp_path: Path) -> None:
    driver = _write(
        tmp_path / "d.yaml",
        "replicationFactor: 3\ntopicConfig: |\n  retention.ms=604800000\n  min.insync.replicas=4\n",
    )
    with pytest.raises(ScenarioError) as info:
        import_omb(WORKLOAD, driver)
    (problem,) = info.value.problems
    assert problem.source == str(driver)
    assert problem.line == 4
    assert problem.path == ("topicConfig.min.insync.replicas",)
    assert "min.insync.replicas" in problem.message


def test_acks_1_with_idempotence_is_kafkas_config_error(tmp_path: Path) -> None:
    # KafkaProducer (>= 3.0): enable.idempotence=true with acks != all is a ConfigException
    driver = _write(
        tmp_path / "d.yaml",
        "replicationFactor: 3\nproducerConfig: |\n  acks=1\n  enable.idempotence=true\n",
    )
    with pytest.raises(ScenarioError) as info:
        import_omb(WORKLOAD, driver)
    assert info.value.problems[0].source == str(driver)
    assert "idempotent" in str(info.value)


# ---- the `simkafka import omb` command ------------------------------------------------


def _cli():
    # simkafka.cli.main registers the group on `main`; here it is mounted on a bare group
    import click

    from simkafka.cli.importers import import_group

    @click.group()
    def root() -> None:
        pass

    root.add_command(import_group)
    return root


def _run(*args: str):
    from click.testing import CliRunner

    return CliRunner().invoke(_cli(), ["import", "omb", *args])


def test_cli_writes_a_commented_scenario_that_loads(tmp_path: Path) -> None:
    out = tmp_path / "scenario.yaml"
    result = _run(
        str(WORKLOAD),
        str(THROUGHPUT),
        "-o",
        str(out),
        "--brokers",
        "6",
        "--racks",
        "a,b,c",
        "--nic",
        "25Gbps",
        "--disk-write",
        "1GB/s",
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Imported by `simkafka import omb`")
    assert str(WORKLOAD) in text and str(THROUGHPUT) in text
    assert "bootstrap.servers" in text  # the warnings are kept as comments
    scenario, warnings = parse_scenario_with_warnings(text, str(out))
    assert warnings == []
    assert len(scenario.cluster.brokers) == 6
    assert scenario.cluster.hardware.disk_write == 1e9
    assert scenario.topics[0].partitions == 100
    assert [p.name for p in tmp_path.iterdir()] == ["scenario.yaml"]  # no temp file left


def test_cli_backlog_import_loads_and_says_what_the_run_is(tmp_path: Path) -> None:
    out = tmp_path / "s.yaml"
    workload = _backlog_workload(tmp_path, 1)
    result = _run(str(workload), str(THROUGHPUT), "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "# testDurationMinutes alone: the backlog is there at t=0" in text
    scenario, warnings = parse_scenario_with_warnings(text, str(out))
    assert warnings == []
    assert scenario.topics[0].prefill == GIB and scenario.run.warmup == 0


def test_cli_cluster_file(tmp_path: Path) -> None:
    cluster = _write(
        tmp_path / "cluster.yaml",
        "cluster:\n  brokers: 9\n  racks: [x, y, z]\n  controller: zookeeper\n",
    )
    out = tmp_path / "s.yaml"
    result = _run(str(WORKLOAD), str(THROUGHPUT), "-o", str(out), "--cluster", str(cluster))
    assert result.exit_code == 0, result.output
    scenario = parse_scenario(out.read_text(encoding="utf-8"))
    assert len(scenario.cluster.brokers) == 9 and scenario.cluster.controller == "zookeeper"


def test_cli_bad_cluster_file_names_its_line(tmp_path: Path) -> None:
    cluster = _write(tmp_path / "cluster.yaml", "brokers: 3\nhardwre: {nic: 10Gbps}\n")
    out = tmp_path / "s.yaml"
    result = _run(str(WORKLOAD), str(THROUGHPUT), "-o", str(out), "--cluster", str(cluster))
    assert result.exit_code == 2
    assert f"{cluster}:2" in result.output and "hardwre" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("partitionsPerTopic: 16\n", ""),
            ":1:1: error: partitionsPerTopic: required field is missing",
        ),
        (
            ("messageSize: 100", "messageSize: [1]"),
            ":4:1: error: messageSize: expected a whole number",
        ),
        (("RANDOM_NANO", "ZIPF"), ":5:1: error: keyDistributor: unknown key distributor 'ZIPF'"),
    ],
)
def test_cli_bad_input_exits_2_without_output(tmp_path: Path, change, expected: str) -> None:
    workload = _write(tmp_path / "bad.yaml", MULTI.replace(*change))
    out = tmp_path / "s.yaml"
    result = _run(str(workload), str(THROUGHPUT), "-o", str(out))
    assert result.exit_code == 2
    assert f"{workload}{expected}" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not a crash
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


def test_cli_bad_flag_and_missing_file(tmp_path: Path) -> None:
    out = tmp_path / "s.yaml"
    bad_nic = _run(str(WORKLOAD), str(THROUGHPUT), "-o", str(out), "--nic", "fast")
    assert bad_nic.exit_code == 2 and "--nic" in bad_nic.output
    missing = _run(str(tmp_path / "nope.yaml"), str(THROUGHPUT), "-o", str(out))
    assert (
        missing.exit_code == 2
        and "nope.yaml" in missing.output
        and "no such workload file" in missing.output
    )
    assert not out.exists()


def test_cli_never_overwrites_a_file_it_did_not_write_even_with_force(tmp_path: Path) -> None:
    out = _write(tmp_path / "s.yaml", "keep me\n")
    for force in ([], ["--force"]):
        result = _run(str(WORKLOAD), str(THROUGHPUT), "-o", str(out), *force)
        assert result.exit_code == 2 and "not written by simkafka" in result.output
        assert out.read_text(encoding="utf-8") == "keep me\n"
    assert [p.name for p in tmp_path.iterdir()] == ["s.yaml"]


def test_cli_replaces_its_own_import_only_with_force(tmp_path: Path) -> None:
    out = tmp_path / "s.yaml"
    assert _run(str(WORKLOAD), str(THROUGHPUT), "-o", str(out)).exit_code == 0
    again = _run(str(WORKLOAD), str(LATENCY), "-o", str(out))
    assert again.exit_code == 2 and "--force" in again.output
    assert str(THROUGHPUT) in out.read_text(encoding="utf-8")
    assert _run(str(WORKLOAD), str(LATENCY), "-o", str(out), "--force").exit_code == 0
    assert str(LATENCY) in out.read_text(encoding="utf-8")
    assert parse_scenario(out.read_text(encoding="utf-8")).topics[0].partitions == 100


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".hidden"])
def test_cli_name_must_be_a_plain_directory_name(tmp_path: Path, name: str) -> None:
    out = tmp_path / "s.yaml"
    result = _run(str(WORKLOAD), str(THROUGHPUT), "-o", str(out), "--name", name)
    assert result.exit_code == 2 and "--name" in result.output
    assert not out.exists()


def test_cli_swapped_files_are_detected(tmp_path: Path) -> None:
    out = tmp_path / "s.yaml"
    result = _run(str(THROUGHPUT), str(WORKLOAD), "-o", str(out))
    assert result.exit_code == 2
    assert "the files look swapped: give the workload first" in result.output.replace("\n", " ")
    assert "Traceback" not in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (THROUGHPUT, LATENCY, "looks like an OMB driver file"),
        (WORKLOAD, WORKLOAD, "looks like an OMB workload file"),
    ],
)
def test_cli_two_files_of_one_kind_are_named(tmp_path: Path, first, second, expected) -> None:
    out = tmp_path / "s.yaml"
    result = _run(str(first), str(second), "-o", str(out))
    assert result.exit_code == 2 and expected in result.output.replace("\n", " ")
    assert not out.exists()


def test_cli_refuses_a_device_before_reading_it(tmp_path: Path) -> None:
    # the swapped-files look used to read_text() the file whole: /dev/zero never ended
    out = tmp_path / "s.yaml"
    result = _run("/dev/zero", str(THROUGHPUT), "-o", str(out))
    assert result.exit_code == 2 and "not a regular file" in result.output
    assert not out.exists()
