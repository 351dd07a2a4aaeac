"""Where a group is and what a consumer crash cost it: the tables add up to the run's
ledger and summary, and the figures draw exactly those numbers."""

from __future__ import annotations

import textwrap

import matplotlib
import pytest

from simkafka.report import consumption
from simkafka.scenario import parse_scenario
from simkafka.sim.engine import simulate

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# two groups, each loses member 0 mid-batch: one commits before processing, one after
CRASH = """
name: crash
cluster: {brokers: 3, config: {group.min.session.timeout.ms: 2000}}
topics:
  - {name: t, partitions: 4, replication.factor: 3}
producers:
  - {topic: t, rate: 1600 msg/s, message_size: 1KiB, linger.ms: 5,
     profile: {type: step, steps: [{at: 3s, factor: 0.1}]}}
consumer_groups:
  - {group.id: amo, topics: [t], members: 2, processing_time_per_record: 1.5ms,
     session.timeout.ms: 3000, heartbeat.interval.ms: 1000, delivery: at-most-once}
  - {group.id: alo, topics: [t], members: 2, processing_time_per_record: 1.5ms,
     session.timeout.ms: 3000, heartbeat.interval.ms: 1000, delivery: at-least-once,
     enable.auto.commit: true, auto.commit.interval.ms: 1000}
  - {group.id: idle, topics: [t], members: 1}
faults:
  - {type: consumer_crash, at: 2.3s, group: amo, member: 0}
  - {type: consumer_crash, at: 2.3s, group: alo, member: 0}
run: {duration: 9s, warmup: 0.5s, sample_interval: 0.25s, seed: 7}
"""


@pytest.fixture(scope="module")
def crashed():
    return simulate(parse_scenario(textwrap.dedent(CRASH), "crash.yaml"))


def test_a_groups_position_is_its_ledger_and_adds_up_to_the_high_watermark(crashed):
    positions = consumption.group_positions(crashed)
    assert list(positions.index) == ["amo", "alo", "idle"]
    for group, row in positions.iterrows():
        ledger = crashed.conservation["groups"][group]
        assert row["read"] == ledger["consumed"]
        assert row["in the consumer"] == (ledger["fetched_not_polled"] + ledger["fetch_in_transit"]
                                          + ledger["being_processed"])
        assert row["not fetched (lag)"] == ledger["lag_not_fetched"]
        parts = row["read"] + row["in the consumer"] + row["not fetched (lag)"] + row["skipped at start"]
        assert parts == row["below high watermark"] and row["balanced"]


def test_the_position_figure_stacks_the_parts_to_the_high_watermark(crashed):
    positions = consumption.group_positions(crashed)
    ax = consumption.plot_group_positions(crashed)
    try:
        assert [t.get_text() for t in ax.get_yticklabels()] == ["amo", "alo", "idle"]
        for k, group in enumerate(positions.index):
            bars = [b for c in ax.containers for b in c if abs(b.get_y() + b.get_height() / 2 - k) < 1e-9]
            assert sum(b.get_width() for b in bars) == positions.loc[group, "below high watermark"]
            assert max(b.get_x() + b.get_width() for b in bars) == positions.loc[group, "below high watermark"]
    finally:
        plt.close(ax.figure)


def test_delivery_outcomes_are_the_summarys_and_follow_the_commit_order(crashed):
    outcomes = consumption.delivery_outcomes(crashed)
    assert list(outcomes.index) == ["amo", "alo", "idle"]
    for group in outcomes.index:
        assert outcomes.loc[group, "read twice"] == crashed.summary[f"consumed_twice.{group}"]
        assert outcomes.loc[group, "skipped"] == crashed.summary[f"skipped.{group}"]
    # at-most-once skips what it committed and had not processed; at-least-once reads
    # again what it processed and had not committed
    assert outcomes.loc["amo", "skipped"] == outcomes.loc["amo", "committed, not processed, at the crash"] > 0
    assert outcomes.loc["alo", "read twice"] == outcomes.loc["alo", "processed, not committed, at the crash"] > 0
    # a group nobody crashed has no crash figures in the summary: zeros here
    assert "uncommitted_at_crash.idle" not in crashed.summary
    assert outcomes.loc["idle"].tolist() == [0, 0, 0, 0]


def test_the_delivery_figure_draws_a_bar_per_group_and_figure(crashed):
    outcomes = consumption.delivery_outcomes(crashed, ["amo", "alo"])
    ax = consumption.plot_delivery_outcomes(crashed, ["amo", "alo"])
    try:
        assert [t.get_text() for t in ax.get_xticklabels()] == ["amo", "alo"]
        heights = [[b.get_height() for b in container] for container in ax.containers]
        assert heights == [outcomes[column].tolist() for column in outcomes.columns]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == list(outcomes.columns)
    finally:
        plt.close(ax.figure)
