"""What a user sees of consumer groups' rebalances: the per-group table, the rebalance log,
rebalances.csv and assignments.csv, the assignment figure and the lag figure with
rebalances shaded, the note when an engine keeps every first assignment, and the table
``simkafka run`` prints -- from hand-built rebalance records on a real run."""

from __future__ import annotations

import dataclasses
import html as html_text
import re
import textwrap

import matplotlib
import pandas as pd
import pytest
from click.testing import CliRunner

from simkafka.model.group_protocol import RebalanceRecord
from simkafka.model.types import TopicPartition
from simkafka.report import groups as group_report
from simkafka.report import run_report
from simkafka.scenario import parse_scenario
from simkafka.sim.engine import simulate
from simkafka.sim.group_outcome import AssignmentSpan, group_outcome

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SCENARIO = """
name: groups
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 6, replication.factor: 3}
producers:
  - {topic: t, rate: 1MB/s, message_size: 1KiB}
consumer_groups:
  - {group.id: g, topics: [t], members: 2}
run: {duration: 4s, warmup: 0.5s, sample_interval: 0.25s, seed: 1}
"""
NO_GROUPS = """
name: no-groups
cluster: {brokers: 1}
topics:
  - {name: t, partitions: 2, replication.factor: 1}
producers:
  - {topic: t, rate: 1MB/s, message_size: 1KiB}
run: {duration: 1s, warmup: 0.25s, sample_interval: 0.25s, seed: 1}
"""
PLAIN_FILES = {
    ".simkafka-report",
    "summary.json",
    "timeseries.parquet",
    "report.html",
    "throughput.png",
    "latency.png",
    "lag.png",
    "queues.png",
    "utilisation.png",
}
GROUP_FILES = {"rebalances.csv", "assignments.csv", "assignment.png"}


def tp(p: int) -> TopicPartition:
    return TopicPartition("t", p)


def _spans() -> tuple[list[RebalanceRecord], list[AssignmentSpan]]:
    """g scales from 2 to 3 members at 1.5 s, eagerly: everything revoked at 1.6, handed
    out again at 2.0; then g-1 leaves at 3 s and its partitions wait 0.5 s."""
    records = [
        RebalanceRecord("g", 2, "classic", "range", "member g-2 joined", 1.5, 2.0, 2, 3, 4),
        RebalanceRecord("g", 3, "classic", "range", "member g-1 left", 3.0, 3.5, 3, 2, 2),
    ]
    spans = [AssignmentSpan("g", f"g-{p // 3}", tp(p), 1, 0.0, 1.6) for p in range(6)]
    spans += [AssignmentSpan("g", f"g-{p // 2}", tp(p), 2, 2.0, 3.0 if p // 2 == 1 else None) for p in range(6)]
    spans += [AssignmentSpan("g", f"g-{2 * (p % 2)}", tp(p), 3, 3.5, None) for p in (2, 3)]
    return records, spans


def _with_groups(result, records, spans, partitions):
    """``result`` as the events engine will hand it over once it rebalances groups."""
    outcome = group_outcome(records, spans, result.summary["duration_s"], partitions)
    return dataclasses.replace(
        result,
        summary={**result.summary, **outcome.summary},
        rebalances=outcome.rebalances,
        assignments=outcome.assignments,
    )


@pytest.fixture(scope="module")
def plain():
    return simulate(parse_scenario(textwrap.dedent(SCENARIO), "groups.yaml"))


@pytest.fixture(scope="module")
def rebalanced(plain):
    records, spans = _spans()
    return _with_groups(plain, records, spans, {"g": 6})


def _section(html: str, title: str) -> str:
    start = html.index(f"<h2>{title}</h2>")
    return html[start : html.index("<h2>", start + 1)]


def _rows(html: str) -> list[list[str]]:
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [
        [html_text.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_stop_the_world_of_the_hand_built_run(rebalanced):
    # the eager scale-out: nobody owns anything in [1.6, 2.0]; g-1 leaving pauses two
    # partitions for the whole 0.5 s of the second rebalance
    log = rebalanced.rebalances
    assert log["stop_the_world_s"].tolist() == pytest.approx([0.4, 0.0])
    assert log["paused_partition_s"].tolist() == pytest.approx([6 * 0.4, 2 * 0.5])


def test_a_report_with_rebalances_has_the_section_files_and_figures(rebalanced, tmp_path):
    out = tmp_path / "report"
    run_report.write_run_report(rebalanced, out, warmup=0.5)
    assert {p.name for p in out.iterdir()} == PLAIN_FILES | GROUP_FILES
    written = pd.read_csv(out / "rebalances.csv")
    pd.testing.assert_frame_equal(written, rebalanced.rebalances, check_dtype=False)
    spans = pd.read_csv(out / "assignments.csv")
    assert len(spans) == 14 and spans["end"].max() == 4.0  # open spans end at the run's end
    html = (out / "report.html").read_text()
    section = _section(html, "Consumer groups")
    table = _rows(section)
    assert table[0][:8] == ["g", "2", "1.00", "0.500", "0.400", "0.400", "3.40", "6"]
    assert table[0][8:] == ["0", "0"]  # consumed twice, skipped: the delivery checker's
    log = _rows(section[section.index("<h3>Rebalances</h3>") :])
    assert [row[3] for row in log] == ["member g-2 joined", "member g-1 left"]
    assert [row[8] for row in log] == ["2 -> 3", "3 -> 2"]
    # the assignment and the lag with rebalances shaded sit in the section
    assert '<h3>Assignment over time</h3><img alt="Assignment over time"' in section
    assert '<h3>Consumer lag</h3><img alt="Consumer lag"' in section
    assert "Groups keep their first assignment" not in html


def test_a_report_of_a_run_without_a_rebalance_shows_the_group_at_zero(plain, tmp_path):
    out = tmp_path / "report"
    run_report.write_run_report(plain, out, warmup=0.5)
    assert {p.name for p in out.iterdir()} == PLAIN_FILES
    section = _section((out / "report.html").read_text(), "Consumer groups")
    assert "Groups keep their first assignment" not in section  # the events engine rebalances
    assert _rows(section) == [["g"] + ["0"] * 9]  # nothing rebalanced, nothing read twice
    assert "<h3>Rebalances</h3>" not in section and "<img" not in section


def test_a_run_without_groups_has_no_groups_section(tmp_path):
    r = simulate(parse_scenario(textwrap.dedent(NO_GROUPS), "none.yaml"))
    assert "group_rebalances_simulated" not in r.summary
    run_report.write_run_report(r, tmp_path / "report", warmup=0.25)
    assert "Consumer groups" not in (tmp_path / "report" / "report.html").read_text()


def _bars(ax) -> list:
    return [bar for container in ax.containers for bar in container]


def test_the_assignment_figure_draws_a_stripe_per_span_coloured_by_generation(rebalanced):
    ax = group_report.plot_assignment(rebalanced)
    try:
        bars = _bars(ax)
        assert len(bars) == len(rebalanced.assignments) == 14
        assert [t.get_text() for t in ax.get_yticklabels()] == ["g-0", "g-1", "g-2"]
        # a colour per generation: the three generations' bars differ, each is uniform
        by_generation = {}
        for bar, generation in zip(
            sorted(bars, key=lambda b: (b.get_x(), b.get_y())),
            rebalanced.assignments.sort_values(["start"], kind="stable")["generation"],
            strict=True,
        ):
            by_generation.setdefault(int(generation), set()).add(bar.get_facecolor())
        assert all(len(colours) == 1 for colours in by_generation.values())
        assert len({next(iter(c)) for c in by_generation.values()}) == 3
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend == ["generation 1", "generation 2", "generation 3", "rebalance"]
    finally:
        plt.close(ax.figure)


def test_the_assignment_figure_counts_partitions_beyond_the_stripes():
    # 60 partitions: g-0 owns them all, then shares them with g-1 from t=5
    many = group_report.DETAIL_PARTITIONS + 12
    spans = [AssignmentSpan("g", "g-0", tp(p), 1, 0.0, None if p % 2 == 0 else 5.0) for p in range(many)]
    spans += [AssignmentSpan("g", "g-1", tp(p), 2, 6.0, None) for p in range(1, many, 2)]
    records = [RebalanceRecord("g", 2, "classic", "cooperative-sticky", "member g-1 joined", 4.0, 6.0, 1, 2, 30)]
    outcome = group_outcome(records, spans, 10.0, {"g": many})
    result = dataclasses.replace(
        simulate(parse_scenario(textwrap.dedent(NO_GROUPS), "none.yaml")),
        rebalances=outcome.rebalances,
        assignments=outcome.assignments,
        summary={"duration_s": 10.0, **outcome.summary},
    )
    ax = group_report.plot_assignment(result, group="g")
    try:
        spans_drawn = [(round(b.get_x(), 6), round(b.get_width(), 6)) for b in _bars(ax)]
        assert spans_drawn == [(0.0, 5.0), (5.0, 5.0), (6.0, 4.0)]
        assert sorted(t.get_text() for t in ax.texts) == ["30", "30", "60"]
        assert outcome.rebalances.iloc[0]["paused_partition_s"] == 30 * 1.0
    finally:
        plt.close(ax.figure)


def test_the_lag_figure_shades_each_rebalance_of_the_group(rebalanced, plain):
    ax = group_report.plot_lag_with_rebalances(rebalanced, group="g")
    try:
        assert [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")] == ["g"]
        shaded = [p for p in ax.patches if p.get_x() > 0 and p.get_height() > 0]
        assert sorted(round(p.get_x(), 6) for p in shaded) == [1.5, 3.0]
        assert "rebalance of g" in ax.get_legend_handles_labels()[1]
    finally:
        plt.close(ax.figure)
    ax = group_report.plot_lag_with_rebalances(plain)
    try:
        assert not ax.patches and ax.get_title() == "consumer lag"
    finally:
        plt.close(ax.figure)


def test_simkafka_run_prints_the_groups_table_when_groups_rebalanced(rebalanced, plain, tmp_path, monkeypatch):
    from simkafka.cli.main import main

    scenario = tmp_path / "groups.yaml"
    scenario.write_text(textwrap.dedent(SCENARIO))
    outputs = {}
    for name, result in (("rebalanced", rebalanced), ("plain", plain)):
        monkeypatch.setattr("simkafka.sim.engine.simulate", lambda s, progress=None, r=result: r)
        run = CliRunner().invoke(main, ["run", str(scenario), "-o", str(tmp_path / name)])
        assert run.exit_code == 0, run.output
        outputs[name] = run.output
    printed = outputs["rebalanced"][outputs["rebalanced"].index("consumer groups") :]
    cells = {}
    for line in printed.splitlines():
        parts = [p.strip() for p in re.split(r"[│┃]", line)[1:-1]]
        if len(parts) == 2:
            cells[parts[0]] = parts[1]
    assert cells[""] == "g"  # the header: a column per group
    assert [cells[k] for k in ("rebalances", "longest stop-the-world (s)", "partitions moved", "consumed twice")] == [
        "2", "0.400", "6", "0",
    ]  # fmt: skip
    assert (tmp_path / "rebalanced" / "rebalances.csv").is_file()
    assert "consumer groups" not in outputs["plain"]


def test_the_assignment_figure_of_a_run_without_spans_says_so(plain):
    ax = group_report.plot_assignment(_with_groups(plain, [], [], {"g": 6}))
    try:
        assert [t.get_text() for t in ax.texts] == ["no assignment recorded"] and not _bars(ax)
    finally:
        plt.close(ax.figure)


def test_the_rebalance_log_marks_a_superseded_kip848_epoch_and_keeps_to_its_limit(plain):
    records = [
        RebalanceRecord("g", e, "consumer", "uniform", f"member g-{e} joined", float(e), e + 0.5, e, e + 1, 1,
                        superseded=e == 1)
        for e in (1, 2, 3)
    ]  # fmt: skip
    result = _with_groups(plain, records, [], {"g": 6})
    table, note = group_report.rebalance_log_table(result, limit=2)
    assert list(table["reason"]) == ["member g-1 joined (superseded)", "member g-2 joined"]
    assert note == "1 more rebalance(s) not shown; rebalances.csv has them all"


def test_an_eager_rebalance_revokes_everything_a_leave_only_what_the_leaver_had(rebalanced):
    # the hand-built run: the eager join takes all six partitions away at 1.6 s (four
    # change owner); g-1 leaving at 3 s gives up its two, both of which move
    moves = group_report.revoked_per_rebalance(rebalanced, "g")
    assert moves["revoked"].tolist() == [6, 2]
    assert moves["partitions_moved"].tolist() == [4, 2]
    assert moves["partitions"].tolist() == [6, 6]
    assert moves["reason"].tolist() == ["member g-2 joined", "member g-1 left"]


def test_a_revocation_after_the_coordinator_answered_counts_in_the_round_still_going():
    # cooperative join in two rounds: round 1 [1.0, 1.5] moves nothing, g-0 revokes p2 at
    # 1.6 -- after round 1 answered -- and round 2 [1.55, 2.0] hands p2 to g-1
    records = [
        RebalanceRecord("g", 2, "classic", "cooperative-sticky", "member g-1 joined", 1.0, 1.5, 1, 2, 0),
        RebalanceRecord("g", 3, "classic", "cooperative-sticky", "member g-0 leader rejoined", 1.55, 2.0, 2, 2, 1),
    ]
    spans = [AssignmentSpan("g", "g-0", tp(p), 1, 0.0, 1.6 if p == 2 else None) for p in range(3)]
    spans.append(AssignmentSpan("g", "g-1", tp(2), 3, 2.0, None))
    outcome = group_outcome(records, spans, 4.0, {"g": 3})
    result = dataclasses.replace(
        simulate(parse_scenario(textwrap.dedent(NO_GROUPS), "none.yaml")),
        rebalances=outcome.rebalances, assignments=outcome.assignments,
        summary={"duration_s": 4.0, **outcome.summary},
    )
    moves = group_report.revoked_per_rebalance(result)
    assert moves["revoked"].tolist() == [0, 1] and moves["partitions_moved"].tolist() == [0, 1]
    assert group_report.assignment_at(result, "g", 1.7) == {"g-0": [tp(0), tp(1)]}
    assert group_report.assignment_at(result, "g", 4.0) == {"g-0": [tp(0), tp(1)], "g-1": [tp(2)]}


def test_who_owned_what_when(rebalanced):
    assert group_report.assignment_at(rebalanced, "g", 1.0) == {"g-0": [tp(0), tp(1), tp(2)],
                                                                 "g-1": [tp(3), tp(4), tp(5)]}
    assert group_report.assignment_at(rebalanced, "g", 1.7) == {}  # the eager gap
    assert group_report.assignment_at(rebalanced, "g", 2.5) == {"g-0": [tp(0), tp(1)], "g-1": [tp(2), tp(3)],
                                                                 "g-2": [tp(4), tp(5)]}
    # at the end: the spans still open (g-1 left; its two went to g-0 and g-2)
    end = rebalanced.summary["duration_s"]
    assert group_report.assignment_at(rebalanced, "g", end) == {"g-0": [tp(0), tp(1), tp(2)],
                                                                 "g-2": [tp(3), tp(4), tp(5)]}


def test_partitions_with_an_owner_drop_to_none_in_the_eager_gap(rebalanced):
    owned = group_report.owned_partitions(rebalanced, "g")
    assert list(owned.index) == pytest.approx([0.0, 1.6, 2.0, 3.0, 3.5])
    assert owned.tolist() == [6, 0, 6, 4, 6]
    ax = group_report.plot_owned_partitions(rebalanced)
    try:
        (line,) = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
        assert line.get_label() == "g"
        assert list(line.get_ydata()) == [6, 0, 6, 4, 6, 6]  # held to the run's end
        assert sorted(round(p.get_x(), 6) for p in ax.patches) == [1.5, 3.0]  # one group: shaded
    finally:
        plt.close(ax.figure)


def test_the_lag_of_one_group_marks_only_its_own_members_faults(plain):
    result = dataclasses.replace(
        plain,
        timeline=pd.DataFrame(
            [(1.0, "consumer_crash", -1, "", -1, "faults[0]"), (2.0, "consumer_crash", -1, "", -1, "faults[1]"),
             (2.0, "broker_crash", 1, "", -1, "faults[2]")],
            columns=["time", "event", "broker", "topic", "partition", "detail"],
        ),
        resolved_scenario={**plain.resolved_scenario, "faults": [
            {"type": "consumer_crash", "group": "g", "member": 0},
            {"type": "consumer_crash", "group": "other", "member": 1},
            {"type": "broker_crash", "broker": 1},
        ]},
    )
    ax = group_report.plot_lag_with_rebalances(result, group="g")
    try:
        assert sorted(t.get_text().strip() for t in ax.texts) == ["consumer crash g[0]", "crash b1"]
    finally:
        plt.close(ax.figure)
