"""``calibrate()``: measure the cost profile on this machine, cost by cost, saying how.

What is measured, and with what:

* **per byte** -- the log engine's CRC32C, one memory copy, and each codec's compress and
  decompress through :mod:`simkafka.log.compression`, on batches of 1 KiB JSON records
  (:mod:`~simkafka.validate.calibration.payload`). The per-byte costs of the engines are
  sums of these: the producer's (CRC of the closed batch, copy to the socket), the
  append's (CRC validation, copy into the page cache), the consumer's (CRC check, copy
  out of the fetch buffer), the network thread's (the socket copy).
* **fsync** -- the log engine's ``UnifiedLog.flush`` after a small append, in the
  directory given (put it on the disk the brokers would use), median of N.
* **log recovery** -- the log engine reopening a 64 MiB log with a torn tail and no
  recovery-point checkpoint (``LogLoader`` re-validating every batch), from a warm page
  cache, per byte, net of loading the same log after a clean shutdown; median of N.
* **per record and per batch** -- the JVM probe (:mod:`~simkafka.validate.calibration.jvm`);
  without a JDK, the same paths in the Python log engine, marked as an upper bound.
* **per request** (and the request handler's per-byte cost) cannot be measured outside a
  running broker; those keep the shipped profile's figures, and ``how`` says so.

Each CPU figure is the fastest of many short timed rounds (other processes only add
time), fsync the median. Nothing is scaled by a guessed factor: a figure is what was
timed, or what was kept.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from simkafka.scenario.costs import CODECS, CostProfile, default_cost_data
from simkafka.validate.calibration import jvm
from simkafka.validate.calibration.machine import describe_machine
from simkafka.validate.calibration.measure import (
    CODEC_BATCH_BYTES,
    LARGE_BATCH_BYTES,
    Effort,
    RecoveryFigures,
    codec_costs,
    copy_per_byte,
    crc32c_per_byte,
    fsync_cost,
    python_record_paths,
    recovery_cost,
)

__all__ = [
    "KEPT",
    "NO_JDK",
    "Calibration",
    "Measurement",
    "calibrate",
    "format_cost",
]

#: The costs calibrate cannot measure, and why; they keep the shipped profile's figures.
KEPT = {
    "producer.request_cpu": "needs a running producer and broker (building a ProduceRequest, "
    "NetworkClient.poll, handling the response)",
    "broker.request_cpu": "needs a running broker (request parsing, KafkaApis dispatch, "
    "replica manager and purgatory, building the response)",
    "broker.byte_cpu": "needs a running broker (the request handler's own per-byte work "
    "outside the append; fetches are sent with sendfile)",
    "broker.network_request_cpu": "needs a running broker (the network processor's selector "
    "loop, framing, muting and unmuting the channel)",
}
#: ``how`` of the per-record and per-batch figures when no JDK was found.
NO_JDK = "Python (no JDK found): an upper bound on the JVM's cost"

#: The probe's figure behind each per-record and per-batch cost, and what it times;
#: ``{name}`` fields are filled from the probe's figures (:func:`_probe_facts`).
_PROBE_COSTS = {
    "producer.record_cpu": (
        "producer_record",
        "KafkaProducer.send as kafka-producer-perf-test calls it, per record: 100-byte values, "
        "no key, a 6-partition topic, batch.size 16 KiB ({records_per_batch} records a batch): "
        "a ProducerRecord and its callback, interceptors (none), AppendCallbacks, "
        "waitOnMetadata with the metadata present (Cluster snapshot, the synchronized "
        "ProducerMetadata.add, partition count), ByteArraySerializer, the built-in sticky "
        "partitioner (its per-record byte count), headers read-only, size estimate and "
        "ensureValidRecordSize, TopicInfo and deque lookups (ConcurrentHashMap), under the "
        "deque's lock ProducerBatch.tryAppend (hasRoomFor, appendWithOffset through "
        "DataOutputStream: varints and the value copy, a FutureRecordMetadata and Thunk); the "
        "new-batch path (BufferPool, MemoryRecordsBuilder, ProducerBatch, Selector.wakeup) "
        "amortised over the batch; the collectors' share of the garbage ({record_gc}) "
        "included. It includes copying the 100-byte value into the batch ({value_copy} at "
        "the JVM's copy speed), which no byte cost charges (producer.byte_cpu is the "
        "Sender's CRC and socket copy). At 1 KiB values it is {record_1k} "
        "({records_per_batch_1k} records a batch: more new-batch work per record, and the "
        "1 KiB copy); the bare appendWithOffset loop alone takes {append}. Selector.wakeup "
        "is paid as for a busy Sender (already woken); one waiting in poll costs {wakeup} "
        "more per batch",
    ),
    "producer.batch_cpu": (
        "producer_batch",
        "the Sender's work on a batch, CRC apart: the drain under the deque's lock, "
        "MemoryRecordsBuilder.close writing the 61-byte v2 header, the ProduceRequestResult "
        "set and done, the buffer back to the BufferPool (its lock); making the batch is "
        "send()'s work, in producer.record_cpu",
    ),
    "producer.ack_record_cpu": (
        "producer_ack_record",
        "ProducerBatch.completeFutureAndFireCallbacks on the Sender thread over an "
        "acknowledged batch of {ack_batch_records} 100-byte records, per record: "
        "FutureRecordMetadata.value (a RecordMetadata), AppendCallbacks.onCompletion "
        "(interceptors, none) and kafka-producer-perf-test's PerfCallback (the clock, "
        "Stats.record); the batch's ProduceRequestResult set and done amortised",
    ),
    "broker.append_batch_cpu": (
        "broker_batch",
        "LogValidator.validateBatch, in-place offset and leader-epoch rewrite, "
        "FileChannel.write of a 1-record batch into the segment (the write call), an offset- "
        "and a time-index entry, producer-state lookup, LogAppendInfo",
    ),
    "broker.append_record_cpu": (
        "broker_record",
        "LogValidator's per-record loop over an uncompressed v2 batch of 100 records: "
        "DefaultRecord.readFrom (varints, key and value slices), validateRecord (magic, "
        "key, timestamp), max timestamp, expected-offset check",
    ),
    "consumer.record_cpu": (
        "consumer_record",
        "CompletedFetch's per-record parse: DefaultRecord.readFrom, the value copied out by "
        "ByteArrayDeserializer (100 bytes), a ConsumerRecord",
    ),
}

#: Figures the probe times for comparison with producer.record_cpu (not in the profile).
_PROBE_REFERENCES = {
    "producer_record_1k": (
        "reference: send() at 1 KiB values",
        "as producer.record_cpu with 1 KiB values ({records_per_batch_1k} records a batch; "
        "the collectors' share {record_1k_gc})",
    ),
    "producer_append": (
        "reference: bare appendWithOffset, 100 B",
        "the inner loop of producer.record_cpu alone: hasRoomFor + "
        "MemoryRecordsBuilder.appendWithOffset of a 100-byte value, no ProducerRecord, "
        "future, callback, lock or lookups",
    ),
    "producer_append_1k": (
        "reference: bare appendWithOffset, 1 KiB",
        "as the 100 B row, 1 KiB values",
    ),
    "producer_wakeup": (
        "reference: Sender wakeup, per batch",
        "Selector.wakeup's pipe write (less the Sender's poll), which send() pays once per new "
        "batch when the Sender is waiting in poll; producer.record_cpu has it only once per "
        "round of 5000 records (a busy Sender, already woken)",
    ),
}

#: The same costs timed in the Python log engine when no JDK is found.
_PYTHON_COSTS = {
    "producer.record_cpu": ("producer_record", "Record.encode (DefaultRecord.writeTo), 100-byte value"),
    "producer.batch_cpu": ("producer_batch", "build_batch of one record: header and CRC32C"),
    "broker.append_batch_cpu": ("broker_batch", "UnifiedLog.append_as_leader of a 1-record batch"),
    "broker.append_record_cpu": ("broker_record", "RecordBatch.records() decoding 100 records"),
    "consumer.record_cpu": ("consumer_record", "RecordBatch.records() decoding 100 records"),
}


@dataclass(frozen=True)
class Measurement:
    """One row of the calibration table: a profile cost (``broker.fsync``) or a reference
    figure shown for comparison (``in_profile=False``)."""

    name: str
    seconds: float
    unit: str  # "record", "batch", "request", "byte", "fsync"
    how: str
    in_profile: bool = True
    kept: bool = False


@dataclass
class Calibration:
    """What :func:`calibrate` measured: the profile and the table behind it."""

    profile: CostProfile
    measurements: list[Measurement] = field(default_factory=list)
    seconds_taken: float = 0.0
    jvm_used: bool = False


def format_cost(seconds: float) -> str:
    """A duration as a profile writes it, to 3 significant digits: ``55.9ns``, ``1.8us``."""
    nanos = seconds * 1e9
    for scale, unit in ((1e6, "ms"), (1e3, "us"), (1.0, "ns")):
        if nanos >= scale or unit == "ns":
            return f"{nanos / scale:.3g}{unit}"
    raise AssertionError("unreachable")


#: The steps of a calibration, for a progress display.
STEPS = ("CRC32C", "memory copy", *CODECS, "fsync", "log recovery", "per-record paths")


def calibrate(
    directory: str | None = None,
    *,
    quick: bool = False,
    use_jvm: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
) -> Calibration:
    """Measure every measurable cost on this machine; the rest from the shipped profile.

    ``directory`` is where fsync is timed (default: the system's temporary directory);
    ``quick`` times each figure for a fraction of the time (for tests: noisier);
    ``use_jvm=False`` times the per-record paths in Python even when a JDK is present;
    ``progress(done, total, step)`` is called before each step and at the end.
    """
    started = time.perf_counter()
    effort = Effort.quick() if quick else Effort()
    directory = directory or tempfile.gettempdir()
    report = progress or (lambda done, total, step: None)
    total = len(STEPS)
    rows: list[Measurement] = []

    report(0, total, STEPS[0])
    crc = crc32c_per_byte(effort)
    report(1, total, STEPS[1])
    copy = copy_per_byte(effort)
    rows += _byte_costs(crc, copy)

    for i, codec in enumerate(CODECS):
        report(2 + i, total, codec)
        rows += _codec_rows(codec_costs(codec, effort))
        if not quick:
            rows.append(_large_batch_row(codec_costs(codec, effort, batch_bytes=LARGE_BATCH_BYTES)))

    report(2 + len(CODECS), total, "fsync")
    rows.append(_fsync_row(fsync_cost(directory, effort), directory))

    report(3 + len(CODECS), total, "log recovery")
    small_batches = None if quick else recovery_cost(directory, effort, batch_bytes=CODEC_BATCH_BYTES)
    rows += _recovery_rows(recovery_cost(directory, effort), small_batches)

    report(4 + len(CODECS), total, STEPS[-1])
    jdk = jvm.find_jdk() if use_jvm else None
    probe_rows, jvm_used = _record_rows(jdk, directory, quick, effort)
    rows += probe_rows
    rows += _kept_rows()
    report(total, total, "done")
    rows.sort(key=_profile_order)

    measured = {row.name: format_cost(row.seconds) for row in rows if row.in_profile}
    data: dict = {
        "source": f"simkafka calibrate{' --quick' if quick else ''} on "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "machine": describe_machine(directory, jdk.version if jdk else None),
        "how": {row.name: row.how for row in rows if row.in_profile},
    }
    for name, text in measured.items():
        section, _, key = name.partition(".")
        if section == "codecs":
            codec, _, key = key.partition(".")
            data.setdefault("codecs", {}).setdefault(codec, {})[key] = text
        else:
            data.setdefault(section, {})[key] = text
    profile = CostProfile.model_validate(data)
    return Calibration(profile, rows, time.perf_counter() - started, jvm_used)


def _profile_order(row: Measurement) -> tuple[int, int]:
    """Rows in the profile's own order (producer, broker, consumer, codecs), references last."""
    names = [
        f"{section}.{key}"
        for section in ("producer", "broker", "consumer")
        for key in CostProfile.model_fields[section].annotation.model_fields
    ] + [f"codecs.{codec}.{key}" for codec in CODECS for key in ("compress_cpu", "decompress_cpu")]
    return (0, names.index(row.name)) if row.name in names else (1, 0)


def _ns(seconds: float) -> str:
    return format_cost(seconds)


def _byte_costs(crc: float, copy: float) -> list[Measurement]:
    crc_how = f"log engine CRC32C (crc32c module) {_ns(crc)}/B"
    copy_how = f"one memory copy {_ns(copy)}/B"
    over = "timed over 1 MiB of 1 KiB JSON records"
    return [
        Measurement("producer.byte_cpu", crc + copy, "byte",
                    f"{crc_how} + {copy_how}: the closed batch's CRC and its copy to the socket; {over}"),
        Measurement("broker.network_byte_cpu", copy, "byte",
                    f"{copy_how}: the socket read or write; {over}"),
        Measurement("broker.append_byte_cpu", crc + copy, "byte",
                    f"{crc_how} + {copy_how}: the batch's CRC validation and its copy into the "
                    f"page cache; {over}"),
        Measurement("consumer.byte_cpu", crc + copy, "byte",
                    f"{crc_how} + {copy_how}: the CRC check (check.crcs) and the copy out of the "
                    f"fetch buffer; {over}"),
    ]


#: What differs between the log engine's decompression and the Java client's, per codec.
_DECOMPRESS_NOTES = {
    "zstd": "; the log engine decodes zstd twice (a bounded pass, then frame by frame, to "
    "catch a torn frame), zstd-jni once, so this is up to twice the JVM's cost",
}


def _codec_rows(figures) -> list[Measurement]:
    where = (
        f"simkafka.log.compression at Kafka's default level, a {CODEC_BATCH_BYTES // 1024} KiB "
        f"batch of 1 KiB JSON records compressing to {100 * figures.ratio:.0f}%, per "
        "uncompressed byte"
    )
    return [
        Measurement(f"codecs.{figures.codec}.compress_cpu", figures.compress_per_byte, "byte",
                    f"compress: {where}"),
        Measurement(f"codecs.{figures.codec}.decompress_cpu", figures.decompress_per_byte, "byte",
                    f"decompress: {where}{_DECOMPRESS_NOTES.get(figures.codec, '')}"),
    ]


def _large_batch_row(figures) -> Measurement:
    return Measurement(
        f"reference: {figures.codec} compress, 1 MiB batches",
        figures.compress_per_byte,
        "byte",
        f"as codecs.{figures.codec}.compress_cpu on a 1 MiB batch (batch.size=1MiB), compressing "
        f"to {100 * figures.ratio:.0f}%: per-byte speed depends on the batch size",
        in_profile=False,
    )


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _fsync_row(samples: list[float], directory: str) -> Measurement:
    return Measurement(
        "broker.fsync",
        statistics.median(samples),
        "fsync",
        f"log engine UnifiedLog.flush (fsync of segment and indexes) after a 1-record append "
        f"in {directory}: median of {len(samples)} (10th to 90th percentile "
        f"{_ns(_percentile(samples, 0.1))} to {_ns(_percentile(samples, 0.9))})",
    )


def _size(nbytes: int) -> str:
    """``1 MiB``, ``16 KiB``: a batch's size on disk, rounded."""
    return f"{nbytes / 2**20:.0f} MiB" if nbytes >= 2**19 else f"{nbytes / 2**10:.0f} KiB"


def _recovery_rows(figures: RecoveryFigures, small_batches: RecoveryFigures | None) -> list[Measurement]:
    per_byte = figures.per_byte
    how = (
        f"log engine LogLoader recovery: UnifiedLog reopened with a torn tail and no "
        f"recovery-point checkpoint, LogSegment.recover walking every batch header, CRC-32C "
        f"of every batch, offset and time indexes rebuilt, reading from a warm page cache "
        f"(the disk read is charged apart); a {figures.log_bytes / 2**20:.0f} MiB log of "
        f"1 KiB JSON records in {_size(figures.batch_bytes)} batches, net of loading "
        f"the same log after a clean shutdown; median of {len(per_byte)} "
        f"({_ns(min(per_byte))} to {_ns(max(per_byte))})"
    )
    if small_batches is not None:
        how += (
            f"; in {_size(small_batches.batch_bytes)} batches "
            f"{_ns(small_batches.median_per_byte)}/B (the Python engine's per-batch work)"
        )
    rows = [
        Measurement("broker.recovery_byte_cpu", figures.median_per_byte, "byte", how),
        Measurement(
            "reference: loading a log after a clean shutdown",
            statistics.median(figures.clean_load),
            "log",
            f"the same {figures.log_bytes / 2**20:.0f} MiB log (one segment) opened with the "
            "clean-shutdown marker: files, indexes, checkpoints, leader-epoch cache, no "
            "recovery; paid by every log on every start, not in the profile",
            in_profile=False,
        ),
    ]
    if small_batches is not None:
        rows.append(Measurement(
            f"reference: log recovery, {_size(small_batches.batch_bytes)} batches",
            small_batches.median_per_byte,
            "byte",
            "as broker.recovery_byte_cpu in batches of the producer's default batch.size: the "
            "log engine's per-batch work (in Python) weighs more per byte",
            in_profile=False,
        ))
    return rows


def _probe_facts(figures: dict[str, float]) -> dict[str, str]:
    """The probe's figures as the ``how`` texts quote them."""
    return {
        "records_per_batch": f"{figures['producer_records_per_batch']:.0f}",
        "records_per_batch_1k": f"{figures['producer_records_per_batch_1k']:.0f}",
        "ack_batch_records": f"{figures['producer_ack_batch_records']:.0f}",
        "record_gc": _ns(figures["producer_record_gc"]),
        "record_1k_gc": _ns(figures["producer_record_1k_gc"]),
        "record_1k": _ns(figures["producer_record_1k"]),
        "append": _ns(figures["producer_append"]),
        "value_copy": _ns(100 * figures["copy_per_byte"]),
        "wakeup": _ns(figures["producer_wakeup"]),
    }


#: The cost with no Python stand-in: without a JDK it keeps the shipped figure.
_JVM_ONLY = {
    "producer.ack_record_cpu": "needs the JVM (completing Java futures and running Java "
    "callbacks); no JDK was found",
}


def _record_rows(
    jdk: jvm.Jdk | None, directory: str, quick: bool, effort: Effort
) -> tuple[list[Measurement], bool]:
    units = {"producer.batch_cpu": "batch", "broker.append_batch_cpu": "batch"}
    if jdk is not None:
        figures = jvm.run_probe(jdk, directory, quick=quick)
        facts = _probe_facts(figures)
        rows = [
            Measurement(name, figures[key], units.get(name, "record"),
                        f"JVM probe ({jdk.version.split(';')[0]}): {what.format_map(facts)}")
            for name, (key, what) in _PROBE_COSTS.items()
        ]
        rows += [
            Measurement(name, figures[key], "batch" if key == "producer_wakeup" else "record",
                        what.format_map(facts), in_profile=False)
            for key, (name, what) in _PROBE_REFERENCES.items()
        ]
        rows += [
            Measurement("reference: JVM CRC32C", figures["crc32c_per_byte"], "byte",
                        "java.util.zip.CRC32C over 64 KiB, for comparison with the log engine's",
                        in_profile=False),
            Measurement("reference: JVM copy", figures["copy_per_byte"], "byte",
                        "System.arraycopy of 64 KiB, for comparison with the memory copy",
                        in_profile=False),
        ]
        return rows, True
    figures = python_record_paths(directory, effort)
    rows = [
        Measurement(name, figures[key], units.get(name, "record"), f"{NO_JDK}; {what}")
        for name, (key, what) in _PYTHON_COSTS.items()
    ]
    shipped = default_cost_data()
    from simkafka.units import parse_duration

    for name, why in _JVM_ONLY.items():
        section, key = name.split(".")
        rows.append(Measurement(
            name, parse_duration(shipped[section][key]), "record",
            f"not measured: {why}; the shipped profile's figure", kept=True,
        ))
    return rows, False


def _kept_rows() -> list[Measurement]:
    from simkafka.units import parse_duration

    shipped = default_cost_data()
    rows = []
    for name, why in KEPT.items():
        section, key = name.split(".")
        written = shipped[section][key]
        rows.append(Measurement(
            name, parse_duration(written), "request" if "request" in key else "byte",
            f"not measured: {why}; the shipped profile's figure, a provisional estimate",
            kept=True,
        ))
    return rows
