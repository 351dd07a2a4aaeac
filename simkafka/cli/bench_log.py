"""``simkafka bench-log DIR``: measure the real log engine on this disk.

Thin: parse the options, run :func:`simkafka.log.loadgen.run_loadgen` under a progress
display, print its tables. Same conventions as every command: a bad option is one clear
message and exit status 2, never a traceback; ``--json`` is written atomically.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable

import click

from simkafka.cli.common import console, err_console, fail, frame_table
from simkafka.cli.exits import EXIT_FAILED
from simkafka.log.loadgen import (
    COMPRESSIONS,
    DEFAULT_BATCH_SIZE,
    DEFAULT_FETCH_BYTES,
    DEFAULT_SEGMENT_BYTES,
    LoadgenConfig,
    LoadgenConfigError,
    LoadgenError,
    LoadgenResult,
    run_loadgen,
)
from simkafka.report.numbers import significant
from simkafka.units import UnitError, format_bytes, parse_bytes, parse_duration

__all__ = ["bench_log"]

DEFAULT_DURATION_S = 10.0


class _Quantity(click.ParamType):
    """A quantity with units, parsed by :mod:`simkafka.units` (already-parsed defaults pass)."""

    def __init__(self, name: str, parse: Callable[[str], float], parsed: type) -> None:
        self.name = name
        self._parse = parse
        self._parsed = parsed

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, self._parsed):
            return value
        try:
            return self._parse(value)
        except UnitError as exc:
            self.fail(str(exc), param, ctx)


SIZE = _Quantity("size", parse_bytes, int)  # 4096, 16KiB, 1MiB (binary) or 1MB (decimal)
DURATION = _Quantity("duration", parse_duration, float)  # 30 (seconds), 500ms, 2m


@click.command("bench-log")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))
@click.option(
    "--message-size",
    type=SIZE,
    default="1KiB",
    show_default=True,
    help="Bytes of value per record (ProducerPerformance --record-size).",
)
@click.option(
    "--batch-size",
    type=SIZE,
    default=str(DEFAULT_BATCH_SIZE),
    show_default=True,
    help="Bytes of record values per produced batch (the producer's batch.size).",
)
@click.option(
    "--compression",
    type=click.Choice(COMPRESSIONS),
    default="none",
    show_default=True,
    help="Codec of the produced batches. Batches are compressed once, before the timed "
    "loop, so the figures measure the log engine, not the compressor.",
)
@click.option(
    "--flush-messages", type=int, default=None, help="Topic flush.messages (default: never)."
)
@click.option("--flush-ms", type=int, default=None, help="Topic flush.ms (default: never).")
@click.option(
    "--partitions", type=int, default=4, show_default=True, help="Partitions (one log each)."
)
@click.option(
    "--duration",
    type=DURATION,
    default=None,
    help="Produce for this long (default 10s unless --bytes).",
)
@click.option(
    "--bytes", "total_bytes", type=SIZE, default=None, help="Produce this many bytes instead."
)
@click.option(
    "--producers",
    type=int,
    default=1,
    show_default=True,
    help="Producer workers; partition p belongs to producer p % producers.",
)
@click.option(
    "--consumers",
    type=int,
    default=1,
    show_default=True,
    help="Consumer workers for the cold read from the log start (0: no reads).",
)
@click.option(
    "--executor",
    type=click.Choice(["process", "thread"]),
    default="process",
    show_default=True,
    help="One process per worker (measures the disk) or threads sharing the GIL.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the batch payloads.")
@click.option(
    "--segment-bytes",
    type=SIZE,
    default=str(DEFAULT_SEGMENT_BYTES),
    show_default=True,
    help="Topic segment.bytes (below 1MiB via internal.segment.bytes, as Kafka's tests do).",
)
@click.option(
    "--fetch-bytes",
    type=SIZE,
    default=str(DEFAULT_FETCH_BYTES),
    show_default=True,
    help="Bytes per fetch (the consumer's max.partition.fetch.bytes).",
)
@click.option(
    "--raw-bytes",
    type=SIZE,
    default=None,
    help="Bytes of the raw-disk baseline (default: --bytes, at most 256MiB).",
)
@click.option(
    "--warmup-batches",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Batches appended to every partition before the timed window (not counted).",
)
@click.option("--no-tail-reads", is_flag=True, help="Do not fetch the tail while producing.")
@click.option("--keep", is_flag=True, help="Keep the log directory (default: remove it).")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the results as JSON.",
)
def bench_log(
    directory: str,
    message_size: int,
    batch_size: int,
    compression: str,
    flush_messages: int | None,
    flush_ms: int | None,
    partitions: int,
    duration: float | None,
    total_bytes: int | None,
    producers: int,
    consumers: int,
    executor: str,
    seed: int,
    segment_bytes: int,
    fetch_bytes: int,
    raw_bytes: int | None,
    warmup_batches: int,
    no_tail_reads: bool,
    keep: bool,
    json_path: str | None,
) -> None:
    """Drive the real log engine with producers and consumers in DIR and measure it.

    Every figure is also shown as a fraction of the raw sequential bandwidth of the same
    directory, measured in the same run.
    """
    from simkafka.cli.progress import ProgressDisplay

    if duration is None and total_bytes is None:
        duration = DEFAULT_DURATION_S
    if json_path is not None:
        parent = os.path.dirname(os.path.abspath(json_path))
        if not os.path.isdir(parent):
            fail(f"--json: directory {parent!r} does not exist")
        if os.path.lexists(json_path) and not _is_bench_log_json(json_path):
            fail(
                f"--json: {json_path} exists and was not written by simkafka bench-log; "
                "simkafka does not overwrite it: remove it yourself or choose another path"
            )
    config = LoadgenConfig(
        directory=directory,
        message_size=message_size,
        batch_size=batch_size,
        compression=compression,
        flush_messages=flush_messages,
        flush_ms=flush_ms,
        partitions=partitions,
        duration=duration,
        total_bytes=total_bytes,
        producers=producers,
        consumers=consumers,
        seed=seed,
        segment_bytes=segment_bytes,
        keep=keep,
        executor=executor,  # type: ignore[arg-type]
        tail_reads=not no_tail_reads,
        fetch_bytes=fetch_bytes,
        raw_bytes=raw_bytes,
        warmup_batches=warmup_batches,
    )
    # DIR and any missing parents are made here, and removed again only if the options are
    # refused; the run works in a fresh subdirectory of DIR, all that is ever removed later
    created = _missing_directories(directory)
    if created:
        try:
            os.makedirs(directory)
        except OSError as exc:
            fail(f"{directory}: cannot create the directory: {exc.strerror or exc}")
    try:
        config.validate()
    except LoadgenConfigError as exc:
        for path in created:  # deepest first; each is empty and was made just now
            os.rmdir(path)
        fail(str(exc))
    if created:
        err_console.print(f"created {directory}", markup=False)
    phase_now = ["starting"]

    def detail(done: float, total: float | None) -> str:
        if phase_now[0] == "produce" and config.total_bytes is None:
            return f"{done:.1f}s / {total or 0:.1f}s"
        if phase_now[0] in ("produce", "cold read"):
            return f"{format_bytes(done)} / {format_bytes(total or 0)}"
        return ""

    with ProgressDisplay(err_console, "starting", None, detail=detail) as progress:

        def on_progress(phase: str, done: float, total: float | None) -> None:
            phase_now[0] = phase
            progress.update(done, total, description=phase)

        try:
            result = run_loadgen(config, on_progress)
        except LoadgenConfigError as exc:
            fail(str(exc))
        except LoadgenError as exc:
            fail(f"bench-log failed: {exc}", EXIT_FAILED)
        except OSError as exc:
            fail(f"bench-log failed: {exc}", EXIT_FAILED)
    _print(result)
    if json_path is not None:
        try:
            result.write_json(json_path)
        except OSError as exc:
            fail(f"--json: cannot write {json_path}: {exc}", EXIT_FAILED)
        console.print(f"results: {json_path}")
    if not result.verified:
        err_console.print("read-back verification failed:", style="red")
        for line in result.verify_errors:
            err_console.print(f"  {line}", markup=False)
        sys.exit(EXIT_FAILED)


def _missing_directories(directory: str) -> list[str]:
    """The components of ``directory`` that do not exist yet, deepest first."""
    missing = []
    path = os.path.abspath(directory)
    while not os.path.lexists(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return missing


def _is_bench_log_json(path: str) -> bool:
    """A JSON file an earlier ``bench-log --json`` wrote (it names its schema)."""
    from simkafka.report.output_dir import file_head

    head = file_head(path, 200)
    return head.startswith("{") and '"schema": "simkafka.bench-log/' in head


def _fmt(value: object, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    assert isinstance(value, int | float)
    if kind == "pct":
        return f"{100 * value:.0f}%"
    if kind == "int":
        return f"{value:,.0f}"
    if kind == "ms":
        # the latency histogram's buckets are ~2 % wide: three digits, not five
        return significant(value)
    return f"{value:,.1f}"


_THROUGHPUT = ["MB/s", "records/s", "vs raw", "cpu busy"]
_LATENCY = ["p50 ms", "p99 ms", "p99.9 ms", "max ms"]
_COLUMNS = {
    "MB/s": "num",
    "records/s": "int",
    "p50 ms": "ms",
    "p99 ms": "ms",
    "p99.9 ms": "ms",
    "max ms": "ms",
    "vs raw": "pct",
    "cpu busy": "pct",
}


def _print(result: LoadgenResult) -> None:
    cfg = result.config
    bound = f"{cfg.duration:g}s" if cfg.duration is not None else format_bytes(cfg.total_bytes or 0)
    env = result.environment
    console.print(
        f"[bold]bench-log[/bold] {cfg.partitions} partitions, {cfg.producers} producer(s), "
        f"{cfg.consumers} consumer(s) as {'processes' if cfg.executor == 'process' else 'threads'}; {cfg.message_size} B records, "
        f"{cfg.records_per_batch} per batch ({result.batch_bytes} B on disk, {cfg.compression}); "
        f"{bound}; {env['filesystem'] or 'unknown fs'}, {env['cpus']} CPUs, "
        f"Python {env['python']} (GIL {env['gil']})"
    )
    frame = result.as_table()
    for title, columns in (
        ("throughput, vs the raw disk of the same run (MB = 2^20 B)", _THROUGHPUT),
        ("latency per append (batch) or fetch, ms", _LATENCY),
    ):
        rows = frame[columns].dropna(how="all")
        console.print(
            frame_table(
                rows,
                title,
                cell=lambda column, value: _fmt(value, _COLUMNS[column]),
                index_header="test",
                no_wrap=True,
            )
        )
    for name, note in frame["note"].items():
        if isinstance(note, str) and note:
            console.print(f"  {name}: {note}", markup=False)
    disk = result.disk_table()
    console.print(
        frame_table(
            disk, "on disk", cell=lambda column, value: f"{int(value):,}", index_header="type"
        )
    )
    _print_cpu_verdict(result)
    if result.cold_read is not None:
        console.print(f"page cache before the cold read: {result.eviction_note}")
    if result.verified:
        console.print(
            f"verified: all {result.append.batches:,} batches read back in offset order"
            if cfg.consumers
            else "no consumers: nothing read back"
        )
    if result.kept:
        console.print(f"kept: {result.run_directory}")


def _print_cpu_verdict(result: LoadgenResult) -> None:
    """Say what limited the append rate: the GIL, Python on one core, or the disk."""
    append = result.append
    if append.seconds <= 0 or math.isnan(append.cpu_busy):
        return
    cpus_used = append.cpu_seconds / append.seconds
    if result.config.executor == "thread" and append.workers > 1 and cpus_used < 1.2:
        console.print(
            f"{append.workers} producer threads used {cpus_used:.2f} CPUs in all: they take "
            "turns on the GIL, so threads add no append throughput (try --executor process)"
        )
    elif append.cpu_busy > 0.85:
        console.print(
            f"producers were on CPU {100 * append.cpu_busy:.0f}% of the time: Python, not "
            "the disk, limits the append rate"
        )
    else:
        console.print(
            f"producers were on CPU {100 * append.cpu_busy:.0f}% of the time: they waited "
            "on I/O (or on other processes) for the rest"
        )
