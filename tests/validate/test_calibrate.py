"""`calibrate()`: every figure measured on this machine is positive, finite and plausible
for what it is, the per-request ones are kept and say so, and the profile written loads."""

from __future__ import annotations

import math
import statistics

import pytest

from simkafka.log.compression import CompressionType, compress
from simkafka.scenario import load_scenario
from simkafka.scenario.costs import CODECS, CostProfile, default_costs
from simkafka.units import parse_duration
from simkafka.validate.calibration import (
    KEPT,
    NO_JDK,
    PROFILE_MARKER,
    calibrate,
    format_cost,
    is_profile_file,
    profile_yaml,
)
from simkafka.validate.calibration.jvm import PROBE_FIGURES, find_jdk, run_probe
from simkafka.validate.calibration.measure import CODEC_BATCH_BYTES, Effort, recovery_cost
from simkafka.validate.calibration.payload import json_records, records_section

JDK = find_jdk()


@pytest.fixture(scope="module")
def calibration(tmp_path_factory):
    return calibrate(str(tmp_path_factory.mktemp("fsync")), quick=True)


def every_cost(profile: CostProfile) -> dict[str, float]:
    data = profile.model_dump()
    costs = {
        f"{section}.{key}": value
        for section in ("producer", "broker", "consumer")
        for key, value in data[section].items()
    }
    for codec in CODECS:
        for key, value in data["codecs"][codec].items():
            costs[f"codecs.{codec}.{key}"] = value
    return costs


def test_every_figure_is_positive_and_finite_and_every_cost_says_how(calibration):
    costs = every_cost(calibration.profile)
    assert costs.keys() == every_cost(default_costs()).keys()
    for name, value in costs.items():
        assert math.isfinite(value) and value > 0, name
        assert calibration.profile.how[name], name
    for row in calibration.measurements:
        assert math.isfinite(row.seconds) and row.seconds > 0, row.name


def test_per_byte_figures_are_plausible(calibration):
    profile = calibration.profile
    # hardware CRC32C and memcpy run at gigabytes per second: well under 1 ns a byte
    assert profile.broker.network_byte_cpu < 1e-9
    assert profile.broker.append_byte_cpu < 2e-9
    codecs = profile.codecs
    # deflate at level 6 is the slowest compressor; lz4 and snappy the fastest
    assert codecs.gzip.compress_cpu > codecs.lz4.compress_cpu
    assert codecs.gzip.compress_cpu > codecs.snappy.compress_cpu
    assert codecs.zstd.compress_cpu > codecs.lz4.compress_cpu
    for codec in CODECS:
        costs = codecs.of(codec)
        assert 1e-11 < costs.decompress_cpu < costs.compress_cpu * 3 < 1e-6, codec


def test_fsync_and_per_record_figures_are_plausible(calibration):
    profile = calibration.profile
    assert 1e-6 < profile.broker.fsync < 1.0
    for record_cost in (
        profile.producer.record_cpu,
        profile.producer.ack_record_cpu,
        profile.broker.append_record_cpu,
        profile.consumer.record_cpu,
    ):
        assert 1e-9 < record_cost < 1e-4
    # a batch's append (a write call) costs more than one record's validation
    assert profile.broker.append_batch_cpu > profile.broker.append_record_cpu


def test_log_recovery_costs_more_per_byte_than_a_crc_and_a_copy(calibration):
    profile = calibration.profile
    recovery = profile.broker.recovery_byte_cpu
    # LogSegment.recover reads every byte (a copy), CRCs it, and walks the batch headers and
    # rebuilds the indexes on top: more than producer.byte_cpu (CRC + copy), and still a
    # rate of hundreds of MB/s or more, not a per-byte cost in the tens of nanoseconds
    assert profile.producer.byte_cpu < recovery < 2e-8
    assert "LogSegment.recover" in profile.how["broker.recovery_byte_cpu"]
    rows = {row.name: row for row in calibration.measurements}
    loading = rows["reference: loading a log after a clean shutdown"]
    assert not loading.in_profile and 1e-6 < loading.seconds < 1.0


def test_recovery_cost_cuts_the_torn_batch_every_run_and_leaves_nothing_behind(tmp_path):
    effort = Effort(recoveries=3, recovery_log_bytes=4 * 1024 * 1024)
    figures = recovery_cost(str(tmp_path), effort, batch_bytes=64 * 1024)
    assert len(figures.per_byte) == len(figures.recovery) == 3
    # each run tore half a batch off and recovery cut the rest of it: one batch less a run
    first, second, third = figures.recovered_bytes
    assert first - second == second - third == figures.batch_bytes
    assert first == figures.log_bytes - 2 * figures.batch_bytes  # the untimed run's batch too
    # a clean load reads no record, recovery reads and checks every one: slower, in the
    # median (one run on a busy machine can be descheduled in the middle of a load)
    assert all(seconds > 0 for seconds in (*figures.clean_load, *figures.recovery))
    assert statistics.median(figures.clean_load) < statistics.median(figures.recovery)
    assert list(tmp_path.iterdir()) == []


def test_costs_that_need_a_running_broker_are_kept_and_say_so(calibration):
    shipped = every_cost(default_costs())
    measured = every_cost(calibration.profile)
    for name in KEPT:
        assert measured[name] == pytest.approx(shipped[name], rel=1e-3)
        assert calibration.profile.how[name].startswith("not measured")


def test_the_machine_is_described(calibration):
    machine = calibration.profile.machine
    assert {"cpu", "logical_cores", "os", "python", "jvm", "fsync_dir"} <= machine.keys()
    assert "calibrate" in calibration.profile.source


def test_the_written_profile_round_trips_through_the_loader(calibration, tmp_path):
    (tmp_path / "mine.costs.yaml").write_text(profile_yaml(calibration))
    assert is_profile_file(tmp_path / "mine.costs.yaml")
    assert (tmp_path / "mine.costs.yaml").read_text().startswith(PROFILE_MARKER)
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: t\ncluster: {brokers: 1}\ntopics: [{name: a}]\n"
        "producers: [{topic: a, rate: 10 msg/s, message_size: 1KiB}]\ncosts: mine.costs.yaml\n"
    )
    assert load_scenario(scenario).costs == calibration.profile


def test_format_cost_reads_back_to_three_significant_digits():
    for seconds in (1.7e-11, 5.67e-8, 1.79e-6, 3.14e-4, 2.5e-3):
        assert parse_duration(format_cost(seconds)) == pytest.approx(seconds, rel=5e-3)


def test_the_payload_is_realistic_json_not_repetitive_text():
    records = json_records(20)
    assert all(900 < len(r) < 1150 for r in records)
    assert len(set(records)) == len(records)
    section = records_section(CODEC_BATCH_BYTES)
    for codec in CODECS:
        ratio = len(compress(section, CompressionType.for_name(codec))) / len(section)
        assert 0.15 < ratio < 0.6, (codec, ratio)  # a repetitive text would be < 0.05


def test_without_the_jvm_the_record_paths_are_timed_in_python_and_marked(tmp_path):
    result = calibrate(str(tmp_path), quick=True, use_jvm=False)
    assert not result.jvm_used
    for name in ("producer.record_cpu", "broker.append_record_cpu", "consumer.record_cpu"):
        assert result.profile.how[name].startswith(NO_JDK)
        assert 0 < every_cost(result.profile)[name] < 1e-3
    # completing Java futures has no Python stand-in: the shipped figure, and it says so
    shipped = default_costs().producer.ack_record_cpu
    assert result.profile.producer.ack_record_cpu == pytest.approx(shipped, rel=1e-3)
    assert result.profile.how["producer.ack_record_cpu"].startswith("not measured")


@pytest.mark.skipif(JDK is None, reason="no JDK (javac and java) on this machine")
def test_the_jvm_probe_compiles_runs_and_reports_every_path(tmp_path, calibration):
    figures = run_probe(JDK, str(tmp_path), quick=True)
    for key in (*PROBE_FIGURES, "crc32c_per_byte", "copy_per_byte"):
        assert math.isfinite(figures[key]) and figures[key] > 0, key
    assert figures["crc32c_per_byte"] < 1e-9
    assert list(tmp_path.iterdir()) == []  # the probe's scratch segment is gone
    assert calibration.jvm_used
    assert calibration.profile.how["producer.record_cpu"].startswith("JVM probe")


def test_the_engines_accept_a_calibrated_profile(calibration, tmp_path):
    # the profile's machine and how sections are text, not costs the guards check
    from simkafka.sim.guards import check_engine_inputs

    (tmp_path / "mine.costs.yaml").write_text(profile_yaml(calibration))
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: t\ncluster: {brokers: 1}\ntopics: [{name: a}]\n"
        "producers: [{topic: a, rate: 10 msg/s, message_size: 1KiB}]\ncosts: mine.costs.yaml\n"
    )
    check_engine_inputs(load_scenario(scenario))


@pytest.mark.skipif(JDK is None, reason="no JDK (javac and java) on this machine")
def test_the_probe_times_the_whole_send_path_and_the_senders_acknowledgement(calibration):
    rows = {row.name: row for row in calibration.measurements}
    profile = calibration.profile
    send = profile.producer.record_cpu
    bare_append = rows["reference: bare appendWithOffset, 100 B"]
    assert not bare_append.in_profile
    # send() does the bare append and much more (a ProducerRecord, callback, future and thunk
    # allocated, metadata and deque lookups, the deque's lock, the partitioner's accounting):
    # it must cost more than the append alone -- the old probe timed little beyond it
    assert send > bare_append.seconds
    # the Sender's share per acknowledged record: a RecordMetadata and a callback that updates
    # a few counters -- tens of nanoseconds on the JVM, not microseconds, and more than nothing
    ack = profile.producer.ack_record_cpu
    assert 1e-9 < ack < 2e-6
    assert profile.how["producer.ack_record_cpu"].startswith("JVM probe")
    assert "completeFutureAndFireCallbacks" in profile.how["producer.ack_record_cpu"]
    # the 1 KiB send is reported beside it, in the table only
    one_kib = rows["reference: send() at 1 KiB values"]
    assert not one_kib.in_profile and 1e-9 < one_kib.seconds < 1e-4
