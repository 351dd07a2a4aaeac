"""The notebooks' shared figures (simkafka.report.plots) and sliders (report.widgets):
the spans behind the timeline are the faults the run played, and every figure draws on
the Axes it is given."""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from simkafka import parse_scenario, simulate
from simkafka.report import widgets
from simkafka.report.plots import broker_down_spans, fenced_spans, plot_series, plot_timeline

CRASH_AND_RACK = """
name: timeline
cluster:
  brokers: 4
  racks: [a, b]
  config: {broker.session.timeout.ms: 1000, broker.heartbeat.interval.ms: 250}
topics:
  - {name: t, partitions: 4, replication.factor: 2, min.insync.replicas: 1}
producers:
  - {topic: t, rate: 200 msg/s, message_size: 1KiB, acks: all}
faults:
  - {type: broker_crash, at: 0.5s, broker: 0}
  - {type: broker_restart, at: 2.5s, broker: 0}
  - {type: rack_failure, at: 3s, rack: b, duration: 1s}
run: {duration: 5s, warmup: 0.25s, sample_interval: 0.25s, seed: 3}
"""


@pytest.fixture(scope="module")
def result():
    return simulate(parse_scenario(textwrap.dedent(CRASH_AND_RACK), "timeline.yaml"))


def test_down_spans_are_the_faults_played(result):
    spans = broker_down_spans(result)
    rack_b = sorted(b.id for b in result_scenario(result).cluster.brokers if b.rack == "b")
    expected = [(0, 0.5, 2.5, "crash")] + [(b, 3.0, 4.0, "rack b down") for b in rack_b]
    assert [(r.broker, r.start, r.end, r.how) for r in spans.itertuples()] == expected
    assert spans["ended"].all()


def test_fenced_spans_start_a_session_timeout_after_the_last_heartbeat_and_end_when_unfenced(result):
    fenced = fenced_spans(result)
    timeline = result.timeline
    assert set(fenced["broker"]) == {0} | set(broker_down_spans(result)["broker"])
    for span in fenced.itertuples():
        unfenced = timeline[(timeline["event"] == "unfenced") & (timeline["broker"] == span.broker)]
        assert span.end in set(unfenced["time"])
    crashed = fenced[fenced["broker"] == 0].iloc[0]
    # fenced broker.session.timeout.ms after its last heartbeat before the crash
    assert 0.5 + 1.0 - 0.25 <= crashed.start <= 0.5 + 1.0 + 0.05


def result_scenario(result):
    from simkafka.scenario import Scenario

    return Scenario.model_validate(result.resolved_scenario)


def test_timeline_draws_a_lane_per_broker_on_the_given_axes(result):
    fig, ax = plt.subplots()
    assert plot_timeline(result, ax=ax) is ax
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"broker {b}" for b in range(4)]
    # one bar per down span and per fenced span
    assert len(ax.patches) == len(broker_down_spans(result)) + len(fenced_spans(result))
    plt.close(fig)


def test_series_matches_a_pattern_and_names_the_columns_there_are(result):
    fig, ax = plt.subplots()
    plot_series(result, r"b\d+\.leaders", ax=ax)
    assert len(ax.get_lines()) >= 4
    with pytest.raises(KeyError, match="the run has: .*produce_msgs_per_s"):
        plot_series(result, "no_such_column", ax=ax)
    plt.close(fig)


def test_sliders_start_where_they_say():
    assert widgets.first_value((1, 24, 1, 6)) == 6
    assert widgets.first_value((1, 24)) == 1
    assert widgets.first_value(["all", "1", "0"]) == "all"
    assert widgets.first_value(True) is True


def test_sliders_call_draw_once_with_the_starting_values():
    pytest.importorskip("ipywidgets")
    seen = []
    widgets.sliders(lambda partitions, acks: seen.append((partitions, acks)), partitions=(1, 24, 1, 6),
                    acks=["all", "1"])
    assert seen == [(6, "all")]


def test_without_ipywidgets_draw_runs_once_and_says_how_to_get_sliders(monkeypatch, capsys):
    import builtins

    real = builtins.__import__

    def no_widgets(name, *args, **kwargs):
        if name == "ipywidgets":
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_widgets)
    assert widgets.sliders(lambda rf: rf * 2, rf=(1, 3, 1, 3)) == 6
    assert widgets.INSTALL_HINT in capsys.readouterr().out


SHUTDOWN = """
name: shutdown
cluster:
  brokers: 3
  config: {broker.session.timeout.ms: 1000, broker.heartbeat.interval.ms: 250}
topics:
  - {name: t, partitions: 3, replication.factor: 3, min.insync.replicas: 2}
producers:
  - {topic: t, rate: 200 msg/s, message_size: 1KiB, acks: all}
faults:
  - {type: broker_shutdown, at: 0.5s, broker: 1}
  - {type: broker_restart, at: 1.5s, broker: 1}
run: {duration: 2s, warmup: 0.25s, sample_interval: 0.25s, seed: 3}
"""


def test_a_controlled_shutdown_is_down_from_its_completion_not_from_the_request():
    result = simulate(parse_scenario(textwrap.dedent(SHUTDOWN), "shutdown.yaml"))
    timeline = result.timeline
    completed = float(timeline.loc[timeline["event"] == "shutdown_completed", "time"].iloc[0])
    assert completed > 0.5  # the leaders moved first
    spans = broker_down_spans(result)
    assert [(r.broker, r.start, r.end, r.how) for r in spans.itertuples()] == [(1, completed, 1.5, "shutdown")]


def test_series_of_days_reads_in_hours_with_the_data_in_seconds(result):
    fig, ax = plt.subplots()
    plot_series(result, "produce_msgs_per_s", ax=ax, time_unit="h")
    assert ax.get_xlabel() == "simulated time (h)"
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == list(result.timeseries.index)  # still seconds
    assert ax.xaxis.get_major_formatter()(7200.0, 0) == "2"
    with pytest.raises(ValueError, match="time_unit must be one of s, min, h, d"):
        plot_series(result, "produce_msgs_per_s", ax=ax, time_unit="hours")
    plt.close(fig)
