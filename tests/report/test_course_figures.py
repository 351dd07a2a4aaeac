"""The course's figures and the tables behind them: a partition's records and segments read
from the real log engine, where keys land, the producer's batches, throughput knees,
ownership, partition advice, latency and per-broker load across runs."""

import os
import textwrap

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from simkafka.analysis.partitions import PartitionAdvice  # noqa: E402
from simkafka.log.clock import ManualClock  # noqa: E402
from simkafka.log.log_config import LogConfig  # noqa: E402
from simkafka.log.records import Record, build_batch  # noqa: E402
from simkafka.log.unified_log import UnifiedLog  # noqa: E402
from simkafka.model.batching import batch_unkeyed_records  # noqa: E402
from simkafka.report import plots  # noqa: E402
from simkafka.scenario import parse_scenario  # noqa: E402
from simkafka.sim.engine import simulate  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def log(tmp_path):
    clock = ManualClock(1_700_000_000_000)
    opened = UnifiedLog(str(tmp_path / "orders-0"), LogConfig(internal_segment_bytes=300, index_interval_bytes=64,
                                                              retention_ms=5 * 60_000), clock)
    for minute in range(10):
        records = [Record(i, 0, key, f"v{minute}".encode()) for i, key in enumerate((b"alice", b"bob"))]
        opened.append_as_leader(build_batch(records, base_offset=0, base_timestamp=clock.now_ms()), 0)
        clock.advance(60_000)
    opened.high_watermark = opened.log_end_offset
    yield opened
    opened.close()


def test_records_frame_reads_every_record_in_offset_order(log):
    frame = plots.records_frame(log)
    assert frame["offset"].tolist() == list(range(20))
    assert frame["key"].tolist() == ["alice", "bob"] * 10
    assert frame["value"].tolist()[:4] == ["v0", "v0", "v1", "v1"]
    assert frame["batch"].tolist() == [2 * (i // 2) for i in range(20)]


def test_segment_table_names_segments_by_base_offset_and_keeps_a_snapshot(log):
    table = plots.segment_table(log)
    assert len(table) >= 3
    assert [f"{b:020d}.log" for b in table["base_offset"]] == table["file"].tolist()
    assert table["file"].tolist() == sorted(f for f in os.listdir(log.dir) if f.endswith(".log"))
    assert table["base_offset"].tolist()[1:] == table["next_offset"].tolist()[:-1]
    assert table["active"].tolist() == [False] * (len(table) - 1) + [True]
    assert all(e[0] >= b for b, entries in zip(table["base_offset"], table["index_entries"], strict=True)
               for e in entries)
    log.delete_old_segments()
    assert len(table) > len(plots.segment_table(log))  # the snapshot did not change
    assert plots.records_frame(log)["offset"].tolist() == list(range(log.log_start_offset, 20))


def test_plot_partition_offsets_draws_a_box_per_record_and_an_outline_per_batch(log):
    frame = plots.records_frame(log)
    ax = plots.plot_partition_offsets({0: frame, 1: frame.head(4)})
    filled = [p for p in ax.patches if p.get_fill()]
    outlines = [p for p in ax.patches if not p.get_fill()]
    assert len(filled) == 24 and len(outlines) == 10 + 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["alice", "bob"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["partition 0", "partition 1"]


def test_plot_log_segments_greys_out_the_segments_below_the_log_start(log):
    before = plots.segment_table(log)
    log.delete_old_segments()
    ax = plots.plot_log_segments(before, log_start_offset=log.log_start_offset)
    grey = [b for b in ax.patches if matplotlib.colors.to_hex(b.get_facecolor()) == "#bbbbbb"]
    assert len(grey) == int((before["next_offset"] <= log.log_start_offset).sum()) >= 1
    assert sum("(deleted)" in t.get_text() for t in ax.texts) == len(grey)


def test_key_figures_show_the_placement_and_the_counts():
    placement = {"a": 0, "b": 2, "c": 2}
    ax = plots.plot_key_partitions(placement, 3)
    assert [tuple(c.get_offsets()[0]) for c in ax.collections] == [(0, 0), (2, 1), (2, 2)]
    ax = plots.plot_key_spread(np.array([0, 0, 1, 3, 3, 3]), 4)
    assert [b.get_height() for b in ax.patches] == [2, 1, 0, 3]
    assert ax.lines[0].get_ydata()[0] == pytest.approx(1.5)


def test_plot_sticky_batches_draws_one_bar_per_batch_scaled_by_batch_size():
    batches = batch_unkeyed_records(np.arange(40) * 0.5, 1024, 2, batch_size=16384, linger_ms=5,
                                    partitioner="round-robin")
    ax = plots.plot_sticky_batches(batches, 2, batch_size=16384)
    assert len(ax.patches) == len(batches)
    assert [p.get_height() for p in ax.patches] == pytest.approx([0.8 * b.size / 16384 for b in batches])


def test_plot_throughput_knee_marks_each_knee():
    ax = plots.plot_throughput_knee({"a": ([1, 2, 4], [1.0, 2.0, 2.0]), "b": ([1, 2, 4], [1.0, 1.0, 1.0])},
                                    knees={"a": 2})
    assert len(ax.lines) == 2 and len(ax.collections) == 1
    assert tuple(ax.collections[0].get_offsets()[0]) == (2, 2.0)


def test_plot_member_ownership_labels_idle_members():
    ax = plots.plot_member_ownership({"m0": [0, 1], "m1": [2], "m2": []})
    assert [b.get_width() for b in ax.patches] == [2, 1, 0]
    assert [t.get_text() for t in ax.texts] == ["0, 1", "2", "idle: owns nothing"]


def test_plot_partition_advice_puts_the_advice_beside_the_rules():
    advice = PartitionAdvice("t", load=20_000, producer_per_partition=5_000, consumer_per_partition={"g": 5_000},
                             consumers_keep_up={"g": True}, members=3, ceiling=0.7, replication_factor=3,
                             min_insync_replicas=2)
    ax = plots.plot_partition_advice(advice, 3)
    # need ceil(20000 / 3500) = 6; advice 6 on 3 brokers; max(T/p, T/c) = 4; 3x3 = 9; 3 members
    assert [b.get_height() for b in ax.patches] == [6, 6, 4, 9, 3]


SCENARIO = """
name: tiny-{acks}
cluster:
  brokers: 3
  hardware: {{nic: 10Gbps, disk_write: 500MB/s, disk_read: 1GB/s, cpu_cores: 8, page_cache: 16GiB}}
topics: [{{name: t, partitions: 3, replication.factor: {rf}, min.insync.replicas: 1}}]
producers: [{{name: p, topic: t, rate: 2000 msg/s, message_size: 1KiB, acks: "{acks}", linger.ms: 1}}]
run: {{engine: stepped, duration: 0.6s, warmup: 0.2s, seed: 1}}
"""


@pytest.fixture(scope="module")
def runs():
    return {rf: simulate(parse_scenario(textwrap.dedent(SCENARIO.format(acks="1", rf=rf)), "tiny.yaml"))
            for rf in (1, 3)}


def test_broker_load_is_the_steady_mean_per_broker(runs):
    load = plots.broker_load(runs[3], "disk_write_MB_per_s")
    ts = runs[3].timeseries
    steady = ts[ts.index > 0.2]
    assert load.index.tolist() == [0, 1, 2]
    assert load[1] == pytest.approx(steady["b1.disk_write_MB_per_s"].mean())
    assert load.mean() > 2.5 * plots.broker_load(runs[1], "disk_write_MB_per_s").mean()
    with pytest.raises(KeyError, match="no per-broker column"):
        plots.broker_load(runs[1], "coffee")


def test_plot_broker_load_and_latency_percentiles_draw_a_bar_per_run_and_measure(runs):
    labelled = {f"RF {rf}": run for rf, run in runs.items()}
    ax = plots.plot_broker_load(labelled, ("disk_write_MB_per_s", "nic_in_MB_per_s"))
    heights = [b.get_height() for b in ax.patches]
    assert len(heights) == 4
    assert heights[0] == pytest.approx(plots.broker_load(runs[1], "disk_write_MB_per_s").mean())
    ax = plots.plot_latency_percentiles(labelled, percentiles=("p50", "p99"))
    assert [b.get_height() for b in ax.patches][:2] == pytest.approx(
        [runs[1].latency.loc["produce", "p50"] * 1000, runs[3].latency.loc["produce", "p50"] * 1000])
    assert isinstance(runs[1].latency, pd.DataFrame)
