"""The per-record and per-batch costs, timed on the JVM: Kafka's clients and broker are
Java, and what Python takes per record says nothing about what the JVM takes.

``RecordProbe.java`` (shipped beside this module) re-implements in plain Java the work
of those paths -- the producer's whole ``send()`` (KafkaProducer.doSend into
RecordAccumulator.append, allocations and the collector's share included), the Sender
completing an acknowledged batch's records and callbacks, closing a batch,
LogValidator's per-record loop, the log's per-batch append, the consumer's record parse;
its header says what each path includes. :func:`run_probe` compiles it into a
temporary directory with the ``javac`` found on this machine and runs it, bounded by a
timeout, after a JIT warm-up inside the probe. Without a JDK, :func:`find_jdk` returns
``None`` and the caller times the same paths in the Python log engine instead.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["Jdk", "JvmProbeError", "PROBE_FIGURES", "PROBE_REFERENCES", "find_jdk", "run_probe"]

#: The figures the probe prints (nanoseconds per record or batch), by key.
PROBE_FIGURES = (
    "producer_record",
    "producer_batch",
    "producer_ack_record",
    "broker_record",
    "broker_batch",
    "consumer_record",
)
#: Figures the probe prints for comparison (nanoseconds per record): send() at 1 KiB values,
#: the bare appendWithOffset loop, the collectors' share included in send()'s figures, and
#: (per batch) Selector.wakeup's pipe write when the Sender waits in poll.
PROBE_REFERENCES = (
    "producer_record_1k",
    "producer_append",
    "producer_append_1k",
    "producer_record_gc",
    "producer_record_1k_gc",
    "producer_wakeup",
)
#: Counts the probe prints alongside: records in a batch.size batch at 100 B and 1 KiB, and
#: in the acknowledged batch producer_ack_record is averaged over.
PROBE_COUNTS = ("producer_records_per_batch", "producer_records_per_batch_1k", "producer_ack_batch_records")
COMPILE_TIMEOUT_S = 60.0
RUN_TIMEOUT_S = {"quick": 30.0, "full": 90.0}


class JvmProbeError(RuntimeError):
    """The probe could not be compiled or run, or printed something unexpected."""


@dataclass(frozen=True)
class Jdk:
    javac: str
    java: str
    version: str


def find_jdk() -> Jdk | None:
    """``javac`` and ``java`` from ``$JAVA_HOME/bin`` or the ``PATH``, or ``None``."""
    home = os.environ.get("JAVA_HOME")
    candidates = [Path(home) / "bin"] if home else []
    for directory in candidates:
        javac, java = directory / "javac", directory / "java"
        if javac.is_file() and java.is_file():
            return Jdk(str(javac), str(java), _java_version(str(java)))
    javac, java = shutil.which("javac"), shutil.which("java")
    if javac is None or java is None:
        return None
    return Jdk(javac, java, _java_version(java))


def _java_version(java: str) -> str:
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    lines = (done.stderr or done.stdout).strip().splitlines()
    # `openjdk version "17.0.15" ...` and the VM line `OpenJDK 64-Bit Server VM (build ...)`
    return "; ".join(line.strip() for line in lines[:1] + lines[2:3]) or "unknown"


def run_probe(jdk: Jdk, scratch_dir: str, *, quick: bool) -> dict[str, float]:
    """Compile and run ``RecordProbe.java``; seconds per unit by :data:`PROBE_FIGURES` and
    :data:`PROBE_REFERENCES` key, plus ``crc32c_per_byte`` and ``copy_per_byte`` (the JVM's
    own, for comparison), and the record counts of :data:`PROBE_COUNTS` (plain numbers)."""
    mode = "quick" if quick else "full"
    with tempfile.TemporaryDirectory(prefix="simkafka-probe-") as build:
        source = Path(build) / "RecordProbe.java"
        source.write_text(
            resources.files(__package__).joinpath("RecordProbe.java").read_text("utf-8"),
            encoding="utf-8",
        )
        _run([jdk.javac, "-d", build, str(source)], COMPILE_TIMEOUT_S, "javac")
        out = _run(
            [jdk.java, "-Xms256m", "-Xmx256m", "-cp", build, "RecordProbe", mode, scratch_dir],
            RUN_TIMEOUT_S[mode],
            "the JVM probe",
        )
    try:
        printed = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise JvmProbeError(f"the JVM probe printed no JSON: {out[:200]!r}") from None
    figures = {key: printed.get(f"{key}_ns") for key in (*PROBE_FIGURES, *PROBE_REFERENCES)}
    figures["crc32c_per_byte"] = printed.get("crc32c_ns_per_byte")
    figures["copy_per_byte"] = printed.get("copy_ns_per_byte")
    counts = {key: printed.get(key) for key in PROBE_COUNTS}
    for key, value in (figures | counts).items():
        # a collection share may be 0 (no collection during the rounds)
        low_ok = key.endswith("_gc") and value == 0
        if not isinstance(value, (int, float)) or not math.isfinite(value) or (value <= 0 and not low_ok):
            raise JvmProbeError(f"the JVM probe printed {key} = {value!r}")
    return {key: value * 1e-9 for key, value in figures.items()} | {
        key: float(value) for key, value in counts.items()
    }


def _run(command: list[str], timeout: float, what: str) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise JvmProbeError(f"{what} did not finish within {timeout:.0f} s") from None
    except OSError as exc:
        raise JvmProbeError(f"{what} could not start: {exc.strerror or exc}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise JvmProbeError(f"{what} failed (exit {done.returncode}): {' / '.join(tail)}")
    return done.stdout
