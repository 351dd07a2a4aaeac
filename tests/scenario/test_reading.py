"""Hostile files are refused fast, before they cost time or memory, with one clear line.

Each case is small and generated here; the refusal must name the file, the line and
column where there is one, and come within a second (the unbounded versions took
minutes and gigabytes).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from simkafka.scenario import ScenarioError, parse_scenario
from simkafka.scenario.reading import MAX_NESTING_DEPTH, MAX_SCENARIO_BYTES, MAX_YAML_VALUES

FAST = 1.0  # seconds: every refusal here is immediate


def alias_bomb(levels: int) -> str:
    """The "billion laughs": each level lists the previous one ten times (10**levels values)."""
    lines = ["name: t", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def refused(check_text, content: str | bytes) -> str:
    started = time.perf_counter()
    status, output = check_text(content)
    elapsed = time.perf_counter() - started
    assert status == 2, output
    assert elapsed < FAST, f"took {elapsed:.2f}s"
    return output


def test_alias_bomb_is_refused_at_the_alias_that_overflows(check_text, tmp_path):
    output = refused(check_text, alias_bomb(9))
    # the levels before a4 and 7 copies of a3 in a4 make about 100,000 values
    assert f"{tmp_path / 's.yaml'}:6:45: error: a4[7]: this alias expands" in output
    assert "a4[7]" in output and f"more than {MAX_YAML_VALUES:,} values" in output
    assert "billion laughs" in output


def test_aliases_within_the_budget_load():
    text = alias_bomb(3).replace("name: t\n", "")  # 1,000 values
    data = "name: t\ndescription: x\n" + "\n".join("# " + line for line in text.splitlines())
    assert parse_scenario(data + "\ncluster: {brokers: 1}\ntopics: [{name: a}]\n").name == "t"


def test_merge_keys_let_a_key_override_the_merged_one():
    # (a key written beside a merge used to be reported as written twice)
    s = parse_scenario(
        "name: t\ncluster: {brokers: 1}\ntopics: [{name: a}]\nproducers:\n"
        "  - &p {topic: a, rate: 10 msg/s, message_size: 100B, linger.ms: 5}\n"
        "  - <<: *p\n    name: slow\n    linger.ms: 20\n"
    )
    assert [p.linger for p in s.producers] == pytest.approx([0.005, 0.020])


def test_a_recursive_alias_is_refused(check_text, tmp_path):
    output = refused(check_text, "name: t\ncluster: &c {brokers: *c}\n")
    assert f"{tmp_path / 's.yaml'}:2:" in output and "cluster.brokers" in output
    assert "refers to a list or mapping that contains it" in output


@pytest.mark.parametrize("text", [
    "name: t\nx: " + "[" * 500 + "]" * 500 + "\n",
    "name: t\nx: " + "{a: " * 500 + "1" + "}" * 500 + "\n",
    "name: t\nx:\n" + "".join("  " * i + "- \n" for i in range(1, 200)),
])
def test_deep_nesting_is_refused_not_a_recursion_error(check_text, tmp_path, text):
    output = refused(check_text, text)
    assert f"{tmp_path / 's.yaml'}:" in output and "x" in output
    assert f"nested more than {MAX_NESTING_DEPTH} levels deep" in output


def test_nesting_through_a_chain_of_aliases_is_refused(check_text):
    chain = "\n".join(f"a{i}: &a{i} [" + (f"*a{i - 1}" if i else "x") + "]" for i in range(200))
    output = refused(check_text, "name: t\n" + chain + "\n")
    assert f"more than {MAX_NESTING_DEPTH} levels deep" in output


def test_a_file_above_the_size_limit_is_refused_before_reading(check_text, tmp_path):
    output = refused(check_text, "# padding\n" * (MAX_SCENARIO_BYTES // 10 + 1))
    assert f"{tmp_path / 's.yaml'}: error:" in output
    assert "larger than the 1024 KiB limit" in output


def test_device_files_are_refused_without_reading(check_file):
    started = time.perf_counter()
    status, output = check_file("/dev/zero")
    assert status == 2 and time.perf_counter() - started < FAST
    assert "/dev/zero: error: (top level): not a regular file" in output


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_waiting_for_a_writer(check_file, tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    started = time.perf_counter()
    status, output = check_file(fifo)
    assert status == 2 and time.perf_counter() - started < FAST
    assert "not a regular file" in output


def test_a_directory_is_refused_by_the_loader(tmp_path):
    with pytest.raises(ScenarioError, match="is a directory"):
        from simkafka.scenario import load_scenario

        load_scenario(tmp_path)


@pytest.mark.parametrize(("content", "where", "reason"), [
    (b"name: t\ndescription: caf\xff\n", ":2:17:", "invalid start byte"),
    (b"name: t\ndescription: caf\xc3", ":2:17:", "unexpected end of data"),
])
def test_invalid_utf8_names_the_line_and_column(check_text, tmp_path, content, where, reason):
    output = refused(check_text, content)
    assert f"{tmp_path / 's.yaml'}{where} error:" in output and reason in output
    assert "save the file as UTF-8" in output


def test_control_characters_name_the_line_and_column(check_text, tmp_path):
    output = refused(check_text, "name: t\ndescription: a\x01b\n")
    assert f"{tmp_path / 's.yaml'}:2:15: error:" in output and "U+0001 is not allowed" in output


@pytest.mark.parametrize(("text", "where", "path"), [
    ("name: t\n? [a, b]\n: 1\n", ":2:3:", "(top level)"),
    ("name: t\ncluster: {[1]: 2}\n", ":2:11:", "cluster"),
    ("name: t\ncluster:\n  ? {a: 1}\n  : 2\n", ":3:5:", "cluster"),
])
def test_complex_keys_are_refused(check_text, tmp_path, text, where, path):
    output = refused(check_text, text)
    assert f"{tmp_path / 's.yaml'}{where} error: {path}: a key must be a name" in output


def test_keys_are_taken_as_written():
    with pytest.raises(ScenarioError) as info:
        parse_scenario("name: t\ncluster: {brokers: 1}\ntopics: [{name: a}]\n1: x\n.nan: y\non: z\n", "s.yaml")
    assert [(p.path, p.message) for p in info.value.problems] == [
        (("1",), "unknown key"), ((".nan",), "unknown key"), (("on",), "unknown key"),
    ]


@pytest.mark.parametrize(("text", "where", "words"), [
    ("name: 2024-02-30\n", ":1:7: error: name:", "day is out of range"),
    ("name: t\ncluster: {brokers: " + "9" * 5000 + "}\n", ":2:20: error: cluster.brokers:", "integer of 5,000"),
])
def test_values_yaml_cannot_build_are_one_line(check_text, tmp_path, text, where, words):
    output = refused(check_text, text)
    assert f"{tmp_path / 's.yaml'}{where}" in output and words in output


def test_a_key_written_twice_names_its_full_path():
    with pytest.raises(ScenarioError) as info:
        parse_scenario("name: t\ncluster:\n  brokers: 1\n  brokers: 2\n", "s.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.path) == (4, ("cluster", "brokers"))


def test_text_above_the_size_limit_is_refused():
    with pytest.raises(ScenarioError, match="1024 KiB limit"):
        parse_scenario("#" * (MAX_SCENARIO_BYTES + 1))


def test_the_limits_leave_room_for_real_scenarios():
    library = Path(__file__).resolve().parents[2] / "scenarios"
    assert max(p.stat().st_size for p in library.glob("*.yaml")) * 100 < MAX_SCENARIO_BYTES


def test_imported_files_are_read_with_the_same_bounds(tmp_path):
    from simkafka.scenario.importers.omb import import_omb_with_warnings

    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="not a regular file"):
        import_omb_with_warnings("/dev/zero", "/dev/zero")
    big = tmp_path / "workload.yaml"
    big.write_text("#" * (MAX_SCENARIO_BYTES + 1))
    with pytest.raises(ScenarioError, match="1024 KiB limit"):
        import_omb_with_warnings(big, big)
    assert time.perf_counter() - started < FAST


def test_a_document_of_too_many_plain_values_is_refused():
    text = "name: t\ndescription: x\nx: [" + ", ".join(["0"] * (MAX_YAML_VALUES + 1)) + "]\n"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    (problem,) = info.value.problems
    assert problem.line == 3 and f"the document grows to more than {MAX_YAML_VALUES:,} values" in problem.message
