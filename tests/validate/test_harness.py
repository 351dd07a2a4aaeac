"""End to end: the real log engine and the storage model on the same workload.

Structural quantities are deterministic functions of the workload and Kafka's rules, so
they must agree exactly (0% error) -- at the end and at every retention check. The
scenarios mirror Kafka tests: ``UnifiedLogTest.testSizeBasedLogRoll`` /
``testTimeBasedLogRollDuringAppend`` (roll by size / ``segment.ms``),
``testIndexRebuild``-style sparse indexes, ``testLogDeletionAfterDeleteRecords`` /
``shouldDeleteTimeBasedSegmentsReadyToBeDeleted`` / ``shouldDeleteSizeBasedSegments``
(retention), ``LogCleanerTest.testCleanSegments`` (compaction keeps the latest per key).
Throughput is machine-dependent: only reported, never asserted beyond being measured.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkafka.cli.main import main
from simkafka.log.log_config import LogConfig
from simkafka.scenario import load_scenario
from simkafka.sim.storage import StorageWorkload, batch_size
from simkafka.validate.from_scenario import workload_from_scenario
from simkafka.validate.harness import ValidationWorkload, key_of, validate


@pytest.fixture
def fast_dir(tmp_path):
    """A directory on tmpfs when there is one: the engine fsyncs every rolled segment
    (as Kafka's scheduled flush does), which on a busy disk dominates these tests; the
    structural quantities do not depend on the file system."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    d = Path(tempfile.mkdtemp(prefix="simkafka-test-validate-", dir=shm))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _run(directory, config, storage, **kw):
    result = validate(ValidationWorkload(storage=storage, config=config, **kw), directory)
    assert result.exact_rows_agree, result.table.to_string()
    assert result.timeline_mismatches == 0, result.timeline.to_string()
    return result


def _row(result, quantity):
    row = result.table.set_index("quantity").loc[quantity]
    return row["measured"], row["predicted"], row["error %"]


def test_size_rolls_and_sparse_indexes_agree_exactly(fast_dir):
    config = LogConfig(internal_segment_bytes=20_000)
    storage = StorageWorkload(
        value_bytes=100, records_per_batch=10, batches=300, batch_interval_ms=1000
    )
    result = _run(fast_dir, config, storage)
    assert _row(result, "segments") == (18, 18, 0.0)
    assert _row(result, ".log bytes")[:2] == (300 * 1151, 300 * 1151)
    assert _row(result, "offset index entries")[:2] == (70, 70)
    # the active segment's indexes are preallocated to segment.index.bytes
    assert _row(result, ".index bytes (apparent)")[0] == 17 * 4 * 8 + 10 * 1024 * 1024
    measured, predicted, _ = _row(result, "append MB/s")
    assert measured > 0 and predicted > 0
    assert list(fast_dir.iterdir()) == []  # the run cleans up after itself


def test_time_rolls_and_time_retention_agree_exactly(fast_dir):
    # A batch every 7 s, segment.ms 30 s: batches at 0, 7, ..., 28 s share a segment and
    # the one at 35 s rolls (waited 35 s > 30 s), so 5 batches a segment (size allows 10).
    # The last check (410 s) deletes the segments whose newest batch is older than
    # 410 - 60 = 350 s: segment i's newest is (5i + 4) * 7 s, so i = 0..9 go.
    config = LogConfig(internal_segment_bytes=80_000, segment_ms=30_000, retention_ms=60_000)
    storage = StorageWorkload(
        value_bytes=100,
        records_per_batch=70,
        batches=60,
        batch_interval_ms=7000,
        retention_check_interval_ms=10_000,
    )
    result = _run(fast_dir, config, storage)
    assert _row(result, "log start offset")[:2] == (50 * 70, 50 * 70)
    assert _row(result, "segments deleted")[:2] == (10, 10)
    assert _row(result, "segments")[:2] == (2, 2)
    assert len(result.timeline) == 42  # 41 retention checks and the end (413 s)


def test_size_retention_and_full_index_rolls_agree_exactly(fast_dir):
    # every batch at the same millisecond: no time-index growth; a 120-byte index holds
    # 15 offset entries, so index.interval.bytes=0 fills it and forces rolls
    config = LogConfig(
        internal_segment_bytes=50_000,
        retention_bytes=120_000,
        index_interval_bytes=0,
        segment_index_bytes=120,
    )
    storage = StorageWorkload(
        value_bytes=300,
        records_per_batch=3,
        batches=700,
        batch_interval_ms=0,
        retention_check_interval_ms=10_000,
        duration_ms=30_000,
    )
    result = _run(fast_dir, config, storage)
    assert _row(result, "log start offset")[:2] == (1728, 1728)
    assert _row(result, "time index entries")[:2] == (8, 8)


def test_retention_deleting_every_segment_rolls_an_empty_one(fast_dir):
    config = LogConfig(retention_ms=1000)
    storage = StorageWorkload(
        value_bytes=10,
        records_per_batch=5,
        batches=3,
        batch_interval_ms=100,
        duration_ms=10_000,
        retention_check_interval_ms=5000,
    )
    result = _run(fast_dir, config, storage)
    assert _row(result, "log start offset")[:2] == (15, 15)
    assert _row(result, ".log bytes")[:2] == (0, 0)


def test_compaction_keeps_the_latest_record_per_key(fast_dir):
    pytest.importorskip("simkafka.log.cleaner")
    config = LogConfig(internal_segment_bytes=20_000, cleanup_policy=("compact",))
    storage = StorageWorkload(
        value_bytes=50,
        key_bytes=10,
        key_count=137,
        records_per_batch=20,
        batches=400,
        batch_interval_ms=10,
    )
    result = _run(fast_dir, config, storage)
    measured, predicted, error = _row(result, ".log bytes after compaction")
    assert measured == predicted and error == 0.0
    assert measured < _row(result, ".log bytes")[0]


def test_key_of_is_fixed_width():
    assert key_of(7, 8) == b"key-0007"
    with pytest.raises(ValueError):
        key_of(123456, 8)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    value=st.integers(0, 200),
    k=st.integers(1, 70),
    batches=st.integers(1, 120),
    dt=st.integers(0, 3000),
    seg_batches=st.integers(1, 12),
    segment_ms=st.integers(1, 60_000),
    retention_ms=st.sampled_from([-1, 5_000, 40_000]),
    retention_batches=st.sampled_from([-1, 5, 17]),
    interval=st.sampled_from([0, 500, 4096]),
    check=st.sampled_from([1_000, 7_000, 300_000]),
    start=st.sampled_from([0, 1_700_000_000_000]),
)
def test_engine_and_model_agree_on_random_workloads(
    fast_dir,
    value,
    k,
    batches,
    dt,
    seg_batches,
    segment_ms,
    retention_ms,
    retention_batches,
    interval,
    check,
    start,
):
    b = batch_size(k, None, value)
    config = LogConfig(
        internal_segment_bytes=seg_batches * b + b // 3,
        segment_ms=segment_ms,
        retention_ms=retention_ms,
        retention_bytes=-1 if retention_batches < 0 else retention_batches * b,
        index_interval_bytes=interval,
        segment_index_bytes=96,
    )
    storage = StorageWorkload(
        value_bytes=value,
        records_per_batch=k,
        batches=batches,
        batch_interval_ms=dt,
        retention_check_interval_ms=check,
        start_ms=start,
    )
    _run(fast_dir, config, storage)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    k=st.integers(1, 90),
    batches=st.integers(1, 60),
    key_count=st.integers(1, 400),
    seg_batches=st.integers(1, 8),
    retention_ms=st.sampled_from([-1, 20_000]),
)
def test_compaction_agrees_on_random_workloads(
    fast_dir, k, batches, key_count, seg_batches, retention_ms
):
    # compact,delete: retention first moves the log start, then one cleaner pass
    pytest.importorskip("simkafka.log.cleaner")
    b = batch_size(k, 8, 30)
    config = LogConfig(
        internal_segment_bytes=seg_batches * b,
        cleanup_policy=("compact", "delete"),
        retention_ms=retention_ms,
    )
    storage = StorageWorkload(
        value_bytes=30,
        key_bytes=8,
        key_count=key_count,
        records_per_batch=k,
        batches=batches,
        batch_interval_ms=1000,
        retention_check_interval_ms=15_000,
    )
    result = _run(fast_dir, config, storage)
    measured, predicted, _ = _row(result, ".log bytes after compaction")
    assert measured == predicted


def test_workload_from_the_quickstart_scenario():
    workload, notes = workload_from_scenario(
        load_scenario("scenarios/quickstart.yaml"), max_bytes=1 << 20
    )
    w = workload.storage
    # 20000 msg/s over 6 partitions, linger.ms 5 -> 16 records (64 KiB would fit 62)
    assert (w.records_per_batch, w.batch_interval_ms) == (16, 5)
    assert (w.key_count, w.key_bytes, w.value_bytes) == (10_000, 8, 1024)
    assert w.batch_bytes == 61 + 16 * 1041
    assert workload.config.retention_ms == 3 * 86_400_000
    assert workload.disk_write == 500e6
    assert w.total_bytes <= 1 << 20 and any("capped" in n for n in notes)


def test_cli_with_options_prints_the_table_and_writes_json(tmp_path):
    out = tmp_path / "v.json"
    work = tmp_path / "work"
    work.mkdir()
    result = CliRunner().invoke(
        main,
        [
            "validate",
            "--dir",
            str(work),
            "--batches",
            "200",
            "--interval-ms",
            "1000",
            "--config",
            "segment.bytes=20000",
            "--config",
            "retention.ms=60000",
            "--retention-check-interval-ms",
            "30000",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "0 mismatching cells" in result.output
    data = json.loads(out.read_text())
    assert data["exact_rows_agree"] and data["timeline_mismatches"] == 0
    rows = {r["quantity"]: r for r in data["table"]}
    assert rows["segments"]["measured"] == rows["segments"]["predicted"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--config", "segment.byte=100"], "did you mean 'segment.bytes'"),
        (["--key-count", "5"], "key_count needs key_bytes"),
        (["--config", "retention.ms"], "expected NAME=VALUE"),
    ],
)
def test_cli_bad_input_exits_2(tmp_path, args, message):
    result = CliRunner().invoke(main, ["validate", "--dir", str(tmp_path), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_cli_missing_dir_exits_2(tmp_path):
    result = CliRunner().invoke(main, ["validate", "--dir", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "no such directory" in result.output


def test_calibrated_throughput_is_reported_beside_the_scenario_figure(tmp_path):
    config = LogConfig(internal_segment_bytes=20_000)
    storage = StorageWorkload(value_bytes=100, records_per_batch=10, batches=100)
    result = validate(ValidationWorkload(storage, config), tmp_path, measure_disk=True)
    cal = result.calibration
    assert cal is not None and cal.disk_write > 0 and cal.cache_write > 0
    assert cal.per_batch_seconds >= 0 and cal.per_roll_seconds > 0
    table = result.table.set_index("quantity")
    assert table.loc["append MB/s", "basis"] == "calibrated (diskbench)"
    assert table.loc["append MB/s (scenario disk)", "basis"] == "scenario hardware"
    assert result.exact_rows_agree
    assert list(tmp_path.iterdir()) == []  # probe and diskbench files are gone too


def test_cli_with_a_scenario(tmp_path):
    result = CliRunner().invoke(
        main,
        ["validate", "scenarios/quickstart.yaml", "--dir", str(tmp_path), "--max-bytes", "1MiB"],
    )
    assert result.exit_code == 0, result.output
    assert "16 records of 1024 B per batch" in result.output
    assert "0 mismatching cells" in result.output


def test_cli_bad_scenario_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncluster: {brokers: 1}\ntopics: [{name: t}]\n")
    result = CliRunner().invoke(main, ["validate", str(bad), "--dir", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "no producer" in result.output and "Traceback" not in result.output
