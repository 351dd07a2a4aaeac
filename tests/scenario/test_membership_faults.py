"""consumer_join, consumer_leave, consumer_slow and rolling_restart: their fields, and the
groups and members they name checked against the time they happen."""

from __future__ import annotations

import pytest

from simkafka.scenario import ScenarioError, parse_scenario, parse_scenario_with_warnings
from simkafka.scenario.faults import ConsumerJoin, ConsumerLeave, ConsumerSlow, RollingRestart
from simkafka.scenario.limits import MAX_CLIENTS
from simkafka.scenario.schema import scenario_json_schema

BASE = """\
name: t
cluster:
  brokers: 3
topics:
  - name: orders
    partitions: 12
consumer_groups:
  - group.id: payments
    topics: [orders]
    members: 2
    processing_time_per_record: 1ms
run: {duration: 60s}
faults:
"""
FIRST_FAULT_LINE = BASE.count("\n") + 1


def with_faults(*faults: str) -> str:
    return BASE + "".join(f"  - {fault}\n" for fault in faults)


def problems(*faults: str) -> list:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(with_faults(*faults), "s.yaml")
    return list(info.value.problems)


def warnings(*faults: str) -> list:
    _, found = parse_scenario_with_warnings(with_faults(*faults), "s.yaml")
    return found


def test_each_fault_with_its_defaults():
    s = parse_scenario(with_faults(
        "{type: consumer_join, at: 1s, group: payments}",
        "{type: consumer_leave, at: 2s, group: payments, member: 2}",
        "{type: consumer_slow, at: 3s, group: payments, member: 0, factor: 4}",
        "{type: rolling_restart, at: 4s, group: payments, pace: 10s}",
    ))
    join, leave, slow, restart = s.faults
    assert join == ConsumerJoin(type="consumer_join", at=1.0, group="payments", count=1)
    assert leave == ConsumerLeave(type="consumer_leave", at=2.0, group="payments", member=2)
    assert slow == ConsumerSlow(type="consumer_slow", at=3.0, group="payments", member=0, factor=4.0, duration=None)
    assert restart == RollingRestart(type="rolling_restart", at=4.0, group="payments", pace=10.0, downtime=5.0)


def test_each_fault_with_every_field_written():
    s = parse_scenario(with_faults(
        "{type: consumer_join, at: 1s, group: payments, count: 3}",
        "{type: consumer_slow, at: 2s, group: payments, member: 4, factor: 1.5, duration: 20s}",
        "{type: rolling_restart, at: 3s, group: payments, pace: 500ms, downtime: 0s}",
    ))
    join, slow, restart = s.faults
    assert join.count == 3
    assert (slow.member, slow.factor, slow.duration) == (4, 1.5, 20.0)
    assert (restart.pace, restart.downtime) == (0.5, 0.0)


@pytest.mark.parametrize(("fault", "field"), [
    ("{type: consumer_join, at: 1s, group: payments, count: 0}", "count"),
    ("{type: consumer_join, at: 1s, group: payments, count: 1.5}", "count"),
    ("{type: consumer_leave, at: 1s, group: payments}", "member"),
    ("{type: consumer_leave, at: 1s, group: payments, member: -1}", "member"),
    ("{type: consumer_slow, at: 1s, group: payments, member: 0, factor: 1}", "factor"),
    ("{type: consumer_slow, at: 1s, group: payments, member: 0, factor: 0.5}", "factor"),
    ("{type: consumer_slow, at: 1s, group: payments, member: 0, factor: .inf}", "factor"),
    ("{type: consumer_slow, at: 1s, group: payments, member: 0, factor: .nan}", "factor"),
    ("{type: consumer_slow, at: 1s, group: payments, member: 0, factor: 2, duration: 0s}", "duration"),
    ("{type: rolling_restart, at: 1s, group: payments}", "pace"),
    ("{type: rolling_restart, at: 1s, group: payments, pace: 0s}", "pace"),
    ("{type: rolling_restart, at: 1s, group: payments, pace: 1s, downtime: -1s}", "downtime"),
    ("{type: rolling_restart, at: 1s, group: payments, pace: 1s, paec: 2s}", "paec"),
])
def test_bad_fields_name_file_line_and_field(fault, field):
    (p,) = problems(fault)
    assert (p.source, p.line, p.path) == ("s.yaml", FIRST_FAULT_LINE, ("faults", 0, field))
    assert f"s.yaml:{FIRST_FAULT_LINE}:" in str(p) and f"faults[0].{field}" in str(p)


@pytest.mark.parametrize("kind", ["consumer_join", "consumer_leave, member: 0", "consumer_slow, member: 0, factor: 2",
                                  "rolling_restart, pace: 1s", "consumer_crash, member: 0"])
def test_the_group_must_exist(kind):
    (p,) = problems("{type: consumer_join, at: 1s, group: payments}", f"{{type: {kind}, at: 2s, group: paymnets}}")
    assert p.path == ("faults", 1, "group") and p.line == FIRST_FAULT_LINE + 1
    assert "'paymnets' is not defined" in p.message and p.hint == "did you mean 'payments'?"


def test_a_member_exists_once_the_joins_before_it_have_happened():
    # 2 members, then 2 join at 5 s: members 0..3 from then on, whatever the order of the list
    parse_scenario(with_faults(
        "{type: consumer_leave, at: 6s, group: payments, member: 3}",
        "{type: consumer_join, at: 5s, group: payments, count: 2}",
    ))
    found = problems(
        "{type: consumer_slow, at: 4s, group: payments, member: 2, factor: 2}",   # before the join
        "{type: consumer_join, at: 5s, group: payments, count: 2}",
        "{type: consumer_leave, at: 5s, group: payments, member: 3}",            # at the same time
        "{type: consumer_crash, at: 6s, group: payments, member: 4}",            # beyond the joiners
        "{type: consumer_leave, at: 6s, group: payments, member: 1}",            # fine
    )
    assert [(p.path, p.line) for p in found] == [
        (("faults", 0, "member"), FIRST_FAULT_LINE),
        (("faults", 2, "member"), FIRST_FAULT_LINE + 2),
        (("faults", 3, "member"), FIRST_FAULT_LINE + 3),
    ]
    assert "group 'payments' has 2 member(s) at 4.000 s" in found[0].message
    assert "has 4 member(s) at 6.000 s" in found[2].message and "no member 4" in found[2].message


def test_joins_of_another_group_do_not_count():
    text = with_faults("{type: consumer_join, at: 1s, group: audit, count: 5}",
                       "{type: consumer_leave, at: 2s, group: payments, member: 2}")
    text = text.replace("run:", "  - group.id: audit\n    topics: [orders]\n    members: 1\nrun:")
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    (p,) = info.value.problems
    assert p.path == ("faults", 1, "member")


@pytest.mark.parametrize(("first", "went"), [
    ("{type: consumer_leave, at: 2s, group: payments, member: 1}", "it left at 2.000 s"),
    ("{type: consumer_crash, at: 2s, group: payments, member: 1}", "it crashed at 2.000 s with no restart_after"),
])
def test_a_member_that_went_cannot_be_named_again(first, went):
    (p,) = problems(first, "{type: consumer_slow, at: 3s, group: payments, member: 1, factor: 2}")
    assert p.path == ("faults", 1, "member") and p.line == FIRST_FAULT_LINE + 1
    assert p.message == f"member 1 of group 'payments' is gone by 3.000 s: {went}"


def test_a_crashed_member_that_restarts_can_be_named_again():
    parse_scenario(with_faults(
        "{type: consumer_crash, at: 2s, group: payments, member: 1, restart_after: 5s}",
        "{type: consumer_leave, at: 10s, group: payments, member: 1}",
    ))


def test_joiners_are_bounded_by_the_simulators_client_limit():
    found = problems(f"{{type: consumer_join, at: 1s, group: payments, count: {MAX_CLIENTS - 2}}}",
                     "{type: consumer_join, at: 2s, group: payments, count: 1}")
    assert [p.path for p in found] == [("faults", 1, "count")]
    assert f"{MAX_CLIENTS + 1:,} members" in found[0].message
    (p,) = problems(f"{{type: consumer_join, at: 1s, group: payments, count: {MAX_CLIENTS + 1}}}")
    assert p.path == ("faults", 0, "count")  # the field's own bound


def test_slowing_a_group_that_spends_no_time_per_record_is_a_warning():
    text = with_faults("{type: consumer_slow, at: 1s, group: payments, member: 0, factor: 10}")
    _, found = parse_scenario_with_warnings(text.replace("    processing_time_per_record: 1ms\n", ""), "s.yaml")
    (w,) = found
    assert w.path == ("faults", 0, "factor") and "changes nothing" in w.message
    assert warnings("{type: consumer_slow, at: 1s, group: payments, member: 0, factor: 10}") == []


def test_a_rolling_restart_that_outlasts_the_run_is_a_warning():
    # 2 members + 1 joined before: restarts at 10 s, 35 s, 60 s, the last one back at 65 s
    (w,) = warnings("{type: consumer_join, at: 1s, group: payments}",
                    "{type: rolling_restart, at: 10s, group: payments, pace: 25s}")
    assert w.path == ("faults", 1, "pace") and w.line == FIRST_FAULT_LINE + 1
    assert "3 members" in w.message and "until 1.1 min" in w.message
    assert warnings("{type: consumer_join, at: 1s, group: payments}",
                    "{type: rolling_restart, at: 10s, group: payments, pace: 22.5s}") == []


def test_an_editor_is_offered_the_new_faults_and_their_defaults():
    schema = scenario_json_schema()
    mapping = schema["properties"]["faults"]["items"]["discriminator"]["mapping"]
    assert {mapping[kind] for kind in ("consumer_join", "consumer_leave", "consumer_slow", "rolling_restart")} == {
        "#/$defs/ConsumerJoin", "#/$defs/ConsumerLeave", "#/$defs/ConsumerSlow", "#/$defs/RollingRestart"}
    assert schema["$defs"]["RollingRestart"]["properties"]["downtime"]["default"] == "5s"
    assert schema["$defs"]["ConsumerJoin"]["properties"]["count"]["default"] == 1
    group = schema["$defs"]["ConsumerGroupSpec"]["properties"]
    assert group["delivery"]["default"] == "at-least-once"
    assert group["commit.interval.ms"]["default"] == 100
    assert group["isolation.level"]["default"] == "read_uncommitted"
