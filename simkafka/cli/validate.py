"""``simkafka validate``: the log engine's measurements beside the storage model's predictions.

Either a scenario file (its first producer on one partition of its topic) or the workload
as options. Prints the comparison table with a verdict per quantity (exact ones must
agree; approximate ones within a stated tolerance), optionally writes it as JSON; exits 2
on bad input, 1 when a quantity the model claims to predict exactly disagrees.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import click

from simkafka.cli.common import console, err_console, fail, load_scenario_file, own_output, warn
from simkafka.cli.exits import EXIT_FAILED
from simkafka.report.output_dir import check_own_file, file_head, write_own_text

__all__ = ["validate"]

# Kafka's int32 configs and counts
INT32_MAX = 2**31 - 1


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        if math.isnan(value):
            return "-"
        if value.is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@click.command()
@click.argument("scenario_file", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to run the log engine in (a fresh subdirectory is used and removed).",
)
@click.option(
    "--topic",
    default=None,
    help="With a scenario: the topic to validate (default: the first producer's).",
)
@click.option(
    "--max-bytes",
    default="256MiB",
    show_default=True,
    help="With a scenario: cap on bytes written.",
)
@click.option(
    "--message-size",
    type=click.IntRange(0, INT32_MAX),
    default=100,
    show_default=True,
    help="Value bytes per record.",
)
@click.option(
    "--key-bytes",
    type=click.IntRange(0, INT32_MAX),
    default=None,
    help="Key bytes per record (default: null keys).",
)
@click.option(
    "--key-count",
    type=click.IntRange(1, INT32_MAX),
    default=None,
    help="Round-robin keys (needs --key-bytes).",
)
@click.option(
    "--records-per-batch", type=click.IntRange(1, INT32_MAX), default=10, show_default=True
)
@click.option("--batches", type=click.IntRange(1, INT32_MAX), default=2000, show_default=True)
@click.option(
    "--interval-ms",
    type=click.IntRange(0, INT32_MAX),
    default=100,
    show_default=True,
    help="Time between batches.",
)
@click.option(
    "--retention-check-interval-ms",
    type=click.IntRange(1, INT32_MAX),
    default=300_000,
    show_default=True,
    help="log.retention.check.interval.ms",
)
@click.option(
    "--config",
    "configs",
    multiple=True,
    metavar="NAME=VALUE",
    help="Topic config in Kafka's names, e.g. --config segment.bytes=1048576 (repeatable).",
)
@click.option(
    "--calibrate",
    is_flag=True,
    help="Measure the raw disk (diskbench) and the engine's per-append cost first.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the result as JSON.",
)
def validate(
    scenario_file: str | None,
    directory: str,
    topic: str | None,
    max_bytes: str,
    message_size: int,
    key_bytes: int | None,
    key_count: int | None,
    records_per_batch: int,
    batches: int,
    interval_ms: int,
    retention_check_interval_ms: int,
    configs: tuple[str, ...],
    calibrate: bool,
    json_path: str | None,
) -> None:
    """Run one workload through the real log engine and the simulator's storage model."""
    from rich.table import Table

    from simkafka.cli.progress import ProgressDisplay
    from simkafka.log.log_config import LogConfig
    from simkafka.sim.storage import StorageWorkload
    from simkafka.units import UnitError, parse_bytes
    from simkafka.validate.from_scenario import workload_from_scenario
    from simkafka.validate.harness import ValidationWorkload
    from simkafka.validate.harness import validate as run_validation

    if not os.path.isdir(directory):
        fail(f"--dir {directory}: no such directory")
    if json_path:
        with own_output(prefix="--json: "):  # before the work, not after it
            check_own_file(Path(json_path), is_ours=_is_validate_json)
    notes: list[str] = []
    try:
        if scenario_file is not None:
            scenario = load_scenario_file(scenario_file)
            try:
                cap = int(parse_bytes(max_bytes))
            except UnitError as exc:
                fail(f"--max-bytes: {exc}")
            if cap <= 0:
                fail(f"--max-bytes must be positive, got {max_bytes}")
            workload, notes = workload_from_scenario(scenario, topic=topic, max_bytes=cap)
        else:
            pairs = {}
            for item in configs:
                name, sep, value = item.partition("=")
                if not sep:
                    fail(f"--config {item!r}: expected NAME=VALUE")
                pairs[name.strip()] = value.strip()
            if "segment.bytes" in pairs and int(pairs["segment.bytes"]) < 1024 * 1024:
                pairs["internal.segment.bytes"] = pairs.pop("segment.bytes")
            config = LogConfig.from_topic_configs(pairs)
            storage = StorageWorkload(
                value_bytes=message_size,
                records_per_batch=records_per_batch,
                batches=batches,
                batch_interval_ms=interval_ms,
                key_bytes=key_bytes,
                key_count=key_count,
                retention_check_interval_ms=retention_check_interval_ms,
            )
            workload = ValidationWorkload(storage=storage, config=config)
    except ValueError as exc:
        fail(f"bad validation input: {exc}")
    for note in notes:
        warn(note)
    with ProgressDisplay(
        err_console,
        "appending",
        workload.storage.batches,
        detail=lambda done, total: f"{done:,.0f}/{total or 0:,.0f} batches",
    ) as progress:
        try:
            result = run_validation(
                workload,
                directory,
                progress=lambda done, total: progress.update(done, total),
                measure_disk=calibrate,
            )
        except ValueError as exc:
            fail(f"bad validation input: {exc}")
    table = Table(title="simkafka validate: log engine vs storage model", title_justify="left")
    for column in ("quantity", "measured", "predicted", "error %", "verdict", "basis"):
        table.add_column(
            column, justify="left" if column in ("quantity", "verdict", "basis") else "right"
        )
    for row in result.table.to_dict(orient="records"):
        error = row["error %"]
        text, ok = verdict(row)
        table.add_row(
            row["quantity"],
            _fmt(row["measured"]),
            _fmt(row["predicted"]),
            "-" if error is None or _isnan(error) else f"{error:+.2f}",
            text,
            row["basis"],
            style=None if ok is not False else ("red" if row["kind"] == "exact" else "yellow"),
        )
    console.print(table)
    console.print(
        f"time series: {len(result.timeline)} samples, "
        f"{result.timeline_mismatches} mismatching cells"
    )
    if result.calibration is not None:
        cal = result.calibration
        samples = [cal.disk_write, *_more_disk_samples(directory, workload, DISK_SAMPLES - 1)]
        console.print(
            f"calibrated on {directory}: page-cache write {cal.cache_write / 1e6:.0f} MB/s, "
            f"{cal.per_batch_seconds * 1e6:.1f} us per append, "
            f"{cal.per_roll_seconds * 1e3:.2f} ms per roll"
        )
        console.print(disk_advice(samples), markup=False)
    if json_path:
        text = json.dumps({"generated_by": JSON_GENERATOR, **result.to_json()}, indent=2) + "\n"
        with own_output(prefix="--json: ", cannot_write=f"--json: cannot write {json_path}"):
            write_own_text(json_path, text, command="validate", is_ours=_is_validate_json)
        console.print(f"wrote {json_path}")
    if not result.exact_rows_agree or result.timeline_mismatches:
        err_console.print("exact quantities disagree: model or engine is wrong", style="red")
        sys.exit(EXIT_FAILED)


def _isnan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)


JSON_GENERATOR = "simkafka validate"

# How far an "approx" prediction may stray and still count as predicted. Byte counts differ
# only by block rounding and averaged record framing; rates are timings on a machine that
# is shared, cached and noisy.
BYTES_TOLERANCE_PCT = 1.0
RATE_TOLERANCE_PCT = 25.0
# rows that set this machine beside the scenario's hardware: no prediction to judge
_OTHER_HARDWARE = ("scenario hardware", "diskbench vs scenario")

# raw-disk samples behind a disk_write recommendation, and the spread that allows one
DISK_SAMPLES = 5
MAX_DISK_SPREAD_PCT = 20.0


def verdict(row: dict) -> tuple[str, bool | None]:
    """A row's verdict as text, and whether the prediction holds (``None``: nothing to judge)."""
    error = row["error %"]
    if row["basis"] in _OTHER_HARDWARE:
        return "n/a: other hardware", None
    if error is None or _isnan(error):
        return "-", None
    if math.isinf(error):
        return "off", False
    if row["kind"] == "exact":
        return ("agrees", True) if error == 0 else ("DISAGREES", False)
    tolerance = RATE_TOLERANCE_PCT if "MB/s" in row["quantity"] else BYTES_TOLERANCE_PCT
    if abs(error) <= tolerance:
        return f"within ±{tolerance:g}%", True
    return f"off (tolerance ±{tolerance:g}%)", False


def _more_disk_samples(directory: str, workload, count: int) -> list[float]:
    """``count`` more raw device-write rates (fsync at the end), as the calibration took one."""
    from simkafka.log.diskbench import measure_sequential_write

    size = max(int(workload.storage.total_bytes), 1 << 20)
    return [
        measure_sequential_write(directory, size, min(1 << 20, size), fsync="end").bytes_per_s
        for _ in range(count)
    ]


def disk_advice(samples: list[float]) -> str:
    """The device write rate measured, with its spread; a disk_write to simulate only if the
    samples agree (one sample of a shared, cached disk says little)."""
    ordered = sorted(samples)
    median = ordered[len(ordered) // 2]
    spread = 100.0 * (ordered[-1] - ordered[0]) / median if median > 0 else math.inf
    text = (
        f"device write: median {median / 1e6:.0f} MB/s of {len(samples)} sample(s), "
        f"{ordered[0] / 1e6:.0f}-{ordered[-1] / 1e6:.0f} MB/s (spread {spread:.0f}%)"
    )
    if len(samples) < 3 or spread > MAX_DISK_SPREAD_PCT:
        return (
            f"{text}; too noisy to recommend a disk_write (needs >= 3 samples within "
            f"{MAX_DISK_SPREAD_PCT:g}%): measure on an idle machine or with more --max-bytes"
        )
    return f"{text}\nto simulate this disk, put in the scenario:  cluster.hardware.disk_write: {median / 1e6:.0f}MB/s"


def _is_validate_json(path: Path) -> bool:
    """A JSON file an earlier ``simkafka validate --json`` wrote."""
    head = file_head(path, 200)
    return head.startswith("{") and f'"generated_by": "{JSON_GENERATOR}"' in head
