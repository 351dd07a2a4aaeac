"""``simkafka validate``: the log engine's measurements beside the storage model's predictions.

Either a scenario file (its first producer on one partition of its topic) or the workload
as options. Prints the comparison table, optionally writes it as JSON; exits 2 on bad
input, 1 when a quantity the model claims to predict exactly disagrees.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import click

from simkafka.cli import _fail, _load, console, err_console

__all__ = ["validate"]


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
    "--message-size", type=int, default=100, show_default=True, help="Value bytes per record."
)
@click.option(
    "--key-bytes", type=int, default=None, help="Key bytes per record (default: null keys)."
)
@click.option("--key-count", type=int, default=None, help="Round-robin keys (needs --key-bytes).")
@click.option("--records-per-batch", type=int, default=10, show_default=True)
@click.option("--batches", type=int, default=2000, show_default=True)
@click.option(
    "--interval-ms", type=int, default=100, show_default=True, help="Time between batches."
)
@click.option(
    "--retention-check-interval-ms",
    type=int,
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

    from simkafka.cli_progress import ProgressDisplay
    from simkafka.log.log_config import LogConfig
    from simkafka.sim.storage import StorageWorkload
    from simkafka.units import UnitError, parse_bytes
    from simkafka.validate.from_scenario import workload_from_scenario
    from simkafka.validate.harness import ValidationWorkload
    from simkafka.validate.harness import validate as run_validation

    if not os.path.isdir(directory):
        _fail(f"--dir {directory}: no such directory")
    notes: list[str] = []
    try:
        if scenario_file is not None:
            scenario = _load(scenario_file)
            try:
                cap = int(parse_bytes(max_bytes))
            except UnitError as exc:
                _fail(f"--max-bytes: {exc}")
            workload, notes = workload_from_scenario(scenario, topic=topic, max_bytes=cap)
        else:
            pairs = {}
            for item in configs:
                name, sep, value = item.partition("=")
                if not sep:
                    _fail(f"--config {item!r}: expected NAME=VALUE")
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
        _fail(f"bad validation input: {exc}")
    for note in notes:
        err_console.print(note, markup=False, style="yellow")
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
            _fail(f"bad validation input: {exc}")
    table = Table(title="simkafka validate: log engine vs storage model", title_justify="left")
    for column in ("quantity", "measured", "predicted", "error %", "kind", "basis"):
        table.add_column(
            column, justify="left" if column in ("quantity", "kind", "basis") else "right"
        )
    for row in result.table.to_dict(orient="records"):
        error = row["error %"]
        style = None
        if row["kind"] == "exact" and error not in (None, 0.0) and not _isnan(error):
            style = "red"
        table.add_row(
            row["quantity"],
            _fmt(row["measured"]),
            _fmt(row["predicted"]),
            "-" if error is None or _isnan(error) else f"{error:+.2f}",
            row["kind"],
            row["basis"],
            style=style,
        )
    console.print(table)
    console.print(
        f"time series: {len(result.timeline)} samples, "
        f"{result.timeline_mismatches} mismatching cells"
    )
    if result.calibration is not None:
        cal = result.calibration
        console.print(
            f"calibrated on {directory}: device write {cal.disk_write / 1e6:.0f} MB/s, page-cache "
            f"write {cal.cache_write / 1e6:.0f} MB/s, {cal.per_batch_seconds * 1e6:.1f} us per "
            f"append, {cal.per_roll_seconds * 1e3:.2f} ms per roll\n"
            f"to simulate this disk, put in the scenario:  cluster.hardware.disk_write: "
            f"{cal.disk_write / 1e6:.0f}MB/s"
        )
    if json_path:
        Path(json_path).write_text(json.dumps(result.to_json(), indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {json_path}")
    if not result.exact_rows_agree or result.timeline_mismatches:
        err_console.print("exact quantities disagree: model or engine is wrong", style="red")
        sys.exit(1)


def _isnan(value: object) -> bool:
    return isinstance(value, float) and math.isnan(value)
