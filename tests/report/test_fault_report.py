"""What a user sees of faults: the delivery verdict and table, availability, the timeline,
fault marks on the figures, the fault figures and files -- with the run's own numbers --
and a run without faults reported exactly as before."""

from __future__ import annotations

import re
import textwrap

import pandas as pd
import pytest

from simkafka.report import faults as fault_report
from simkafka.report import run_report
from simkafka.scenario import load_scenario, parse_scenario
from simkafka.sim.engine import simulate

# tests/sim/test_faults.py's CRASH, shortened to just past the election (fenced one
# session, 9 s, after broker 1's last heartbeat before 2 s)
CRASH = """
name: crash-acks-all
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 6, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 2MB/s, message_size: 1KiB, acks: all, linger.ms: 5}
consumer_groups:
  - {group.id: g, topics: [t], members: 2}
faults:
  - {type: broker_crash, at: 2s, broker: 1}
run: {duration: 12s, warmup: 0.5s, sample_interval: 0.5s, seed: 7}
"""

# tests/sim/test_faults.py's UNCLEAN: an unclean election loses what only broker 1 held
UNCLEAN = """
name: unclean
cluster: {brokers: 3}
topics:
  - {name: t, partitions: 1, replication.factor: 3, min.insync.replicas: 1,
     unclean.leader.election.enable: true}
producers:
  - {topic: t, rate: 1MB/s, message_size: 1KiB, acks: "1", linger.ms: 5}
faults:
  - {type: broker_crash, at: 1s, broker: 0}
  - {type: broker_crash, at: 1s, broker: 2}
  - {type: broker_crash, at: 14s, broker: 1}
  - {type: broker_restart, at: 15s, broker: 2}
run: {duration: 24s, warmup: 0.5s, sample_interval: 0.5s, seed: 3}
"""

NO_FAULT_FILES = {
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
FAULT_FILES = {
    "delivery.csv",
    "availability.csv",
    "timeline.csv",
    "leaders.png",
    "partitions.png",
    "produce_errors.png",
}


def _run(text: str, **run):
    scenario = parse_scenario(textwrap.dedent(text), "faults.yaml")
    return simulate(scenario.with_run(**run) if run else scenario)


@pytest.fixture(scope="module")
def crash():
    return _run(CRASH)


@pytest.fixture(scope="module")
def unclean():
    return _run(UNCLEAN)


def _html_rows(html: str, section: str) -> list[list[str]]:
    """The body rows of the first table after ``section``, as cell texts."""
    start = html.index(section)
    table = html[html.index("<tbody>", start) : html.index("</tbody>", start)]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)
    ]


def test_a_crash_report_has_the_fault_files_tables_and_figures(crash, tmp_path):
    out = tmp_path / "report"
    run_report.write_run_report(crash, out, warmup=0.5)
    assert {p.name for p in out.iterdir()} == NO_FAULT_FILES | FAULT_FILES
    # the files hold the run's frames
    delivery = pd.read_csv(out / "delivery.csv", index_col="topic")
    assert delivery.loc["t", "lost"] == crash.summary["acknowledged_lost"] == 0
    assert delivery.loc["t", "sent"] == crash.delivery.loc["t", "sent"] > 0
    timeline = pd.read_csv(out / "timeline.csv", keep_default_na=False)
    assert list(timeline["event"]) == list(crash.timeline["event"])
    html = (out / "report.html").read_text()
    assert '<p class="ok"><b>Delivery:</b> every acknowledged message is in the log</p>' in html
    rows = {row[0]: row[1:] for row in _html_rows(html, "from the delivery checker")}
    header = list(crash.delivery.columns)
    assert int(rows["t"][header.index("lost")]) == crash.summary["acknowledged_lost"]
    assert int(rows["t"][header.index("acknowledged")]) == crash.delivery.loc["t", "acknowledged"]
    # the timeline table: the crash, then the fencing and one election per partition broker 1 led
    events = _html_rows(html, "<h3>Timeline")
    assert ["2.000", "broker_crash", "1", "", "faults[0]"] in events
    elected = crash.timeline[crash.timeline["event"] == "leader_elected"]
    assert len(elected) == crash.summary["leader_elections"] > 0
    shown = {row[3] for row in events if row[1] == "leader_elected"}
    assert shown == {f"t-{p}" for p in elected["partition"]}
    # availability: every partition broker 1 led, as long as the failover took
    worst = _html_rows(html, "unavailable longest")
    assert {row[0] for row in worst} == shown
    assert {row[1] for row in worst} == {f"{crash.summary['failover_s']:.3g}"}
    # the recovery figures
    headline = dict(_html_rows(html, "<h3>Failover and recovery"))
    assert headline["leader elections"] == str(crash.summary["leader_elections"])
    assert float(headline["failover (fault to last leader reachable again, s)"]) == pytest.approx(
        crash.summary["failover_s"], rel=0.01
    )
    assert "not simulated" not in html


def test_an_unclean_election_is_reported_as_acknowledged_messages_lost(unclean, tmp_path):
    lost = unclean.summary["acknowledged_lost"]
    assert lost > 1000
    verdict = f"{lost:,} acknowledged messages lost"
    assert fault_report.delivery_verdict(unclean) == verdict
    assert fault_report.delivery_table(unclean).loc["t", "lost"] == lost
    run_report.write_run_report(unclean, tmp_path / "report", warmup=0.5)
    html = (tmp_path / "report" / "report.html").read_text()
    assert f'<p class="bad"><b>Delivery:</b> {verdict}</p>' in html
    # notebook users see the same verdict
    assert verdict in repr(unclean) and verdict in unclean._repr_html_()
    # the terminal table keeps what is not zero, and sent/acknowledged/lost always
    compact = fault_report.delivery_table(unclean, compact=True)
    assert list(compact.columns) == ["sent", "acknowledged", "log_records", "truncated", "lost"]


def test_faults_are_labelled_and_simultaneous_elections_drawn_once(unclean, monkeypatch, tmp_path):
    faults, others = fault_report.fault_marks(unclean)
    # the two crashes at 1 s share a line; the label says what each fault hit
    assert faults == [(1.0, "crash b0, crash b2"), (14.0, "crash b1"), (15.0, "restart b2")]
    marked = unclean.timeline[unclean.timeline["event"].isin(fault_report.MARKED_CONSEQUENCES)]
    # fencing at ~9.03 and ~9.69 s, unfencing at 15.025 s, the election and fencing at 22.36 s
    assert len(others) == marked["time"].nunique() == 4
    drawn = []
    monkeypatch.setattr(run_report, "_save", lambda fig, path: drawn.append(fig))
    run_report.figure_throughput(unclean, tmp_path / "t.png")
    ax = drawn[0].axes[0]
    assert [t.get_text().strip() for t in ax.texts] == ["crash b0, crash b2", "crash b1", "restart b2"]
    fault_lines = [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--"]
    assert fault_lines == [1.0, 14.0, 15.0]


def test_the_fault_figures_plot_the_runs_columns(crash, monkeypatch, tmp_path):
    drawn = []

    def keep(fig, path):
        drawn.append(fig)

    plt = run_report._plt()
    assert fault_report.figure_leaders(crash, tmp_path / "l.png", plt, keep)
    leaders = {line.get_label(): line.get_ydata() for line in drawn[0].axes[0].lines if line.get_label().startswith("broker")}
    ts = crash.timeseries
    assert set(leaders) == {"broker 0", "broker 1", "broker 2"}
    assert list(leaders["broker 1"]) == list(ts["b1.leaders"])
    assert ts["b1.leaders"].iloc[0] > 0 and ts["b1.leaders"].iloc[-1] == 0  # its leaders moved
    assert fault_report.figure_partitions(crash, tmp_path / "p.png", plt, keep)
    labels = [line.get_label() for line in drawn[1].axes[0].lines]
    assert labels[:4] == list(fault_report.PARTITION_HEALTH.values())


def test_a_long_timeline_keeps_every_fault_and_counts_what_it_leaves_out(unclean):
    table, note = fault_report.timeline_table(unclean, limit=5)
    faults = unclean.timeline["event"].isin(fault_report.FAULT_EVENTS)
    assert list(table["event"]).count("broker_crash") == 3 and "broker_restart" in list(table["event"])
    assert len(table) == 5
    left = len(unclean.timeline) - 5
    assert note.startswith(f"{left:,} more events not shown (")
    counts = re.findall(r"(\d+) (\w+)", note.split("(", 1)[1])
    assert sum(int(n) for n, _ in counts) == left
    assert not any(event in fault_report.FAULT_EVENTS for _, event in counts)
    assert fault_report.timeline_table(unclean)[1] == "" and faults.sum() == 4


def test_a_run_without_faults_is_reported_as_before(tmp_path):
    result = simulate(load_scenario("scenarios/quickstart.yaml").with_run(duration=0.6, warmup=0.2))
    assert not fault_report.had_faults(result)
    run_report.write_run_report(result, tmp_path / "report", warmup=0.2)
    assert {p.name for p in (tmp_path / "report").iterdir()} == NO_FAULT_FILES
    html = (tmp_path / "report" / "report.html").read_text()
    for absent in ("Faults and delivery", "Delivery:", "not simulated", "Leaders per broker"):
        assert absent not in html
    assert "acknowledged" not in repr(result) and "delivery:" not in result._repr_html_()


def test_faults_the_stepped_engine_does_not_play_are_said_prominently(tmp_path):
    result = _run(CRASH, duration=1.0, warmup=0.2, engine="stepped")
    assert result.summary["faults_not_simulated"] == 1 and result.summary["delivery_checked"] is False
    run_report.write_run_report(result, tmp_path / "report", warmup=0.2)
    html = (tmp_path / "report" / "report.html").read_text()
    assert (
        '<p class="not-simulated"><b>Faults not simulated:</b> 1 of the 1 fault(s) of this '
        "scenario were not simulated by the stepped engine (broker_crash at 2s)"
    ) in html
    assert "The stepped engine does not check delivery" in html
    files = {p.name for p in (tmp_path / "report").iterdir()}
    assert not files & {"delivery.csv", "availability.csv", "timeline.csv"}
    assert "1 fault(s) NOT SIMULATED by the stepped engine" in repr(result)
