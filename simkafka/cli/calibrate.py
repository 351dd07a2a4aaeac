"""``simkafka calibrate``: measure the cost profile on this machine.

Thin: check the options and the output before any work, run
:func:`simkafka.validate.calibration.calibrate` under a progress display, print the
table (cost, figure, how it was measured), and with ``-o`` write the profile a
scenario's ``costs:`` can name. The output is written only if it does not exist or an
earlier ``calibrate -o`` wrote it (its first line says so); anything else is refused
with exit status 2.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from simkafka.cli.common import console, err_console, fail, own_output
from simkafka.cli.exits import EXIT_FAILED

__all__ = ["calibrate"]


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the profile (YAML) to this file, for a scenario's `costs: FILE`.",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory to time fsync in, on the disk the brokers would use "
    "(default: the system's temporary directory). A subdirectory is made and removed.",
)
@click.option(
    "--quick",
    is_flag=True,
    help="Time each figure briefly (a few seconds in all; noisier): for tests.",
)
def calibrate(output: str | None, directory: str | None, quick: bool) -> None:
    """Measure the engines' CPU and fsync costs on this machine and print the profile."""
    from simkafka.cli.progress import ProgressDisplay
    from simkafka.report.output_dir import check_own_file, write_own_text
    from simkafka.validate.calibration import calibrate as measure
    from simkafka.validate.calibration import is_profile_file, profile_yaml
    from simkafka.validate.calibration.jvm import JvmProbeError

    if directory is not None and not os.path.isdir(directory):
        fail(f"--dir: {directory} is not a directory")
    if output is not None:
        parent = os.path.dirname(os.path.abspath(output))
        if not os.path.isdir(parent):
            fail(f"-o: directory {parent} does not exist")
        with own_output(prefix="-o: "):
            check_own_file(Path(output), is_ours=is_profile_file)

    with ProgressDisplay(err_console, "calibrating", None) as progress:

        def on_step(done: int, total: int, step: str) -> None:
            if done < total:
                progress.update(done, total, description=f"calibrating: {step}")
            else:
                progress.update(done, total)

        try:
            result = measure(directory, quick=quick, progress=on_step)
        except JvmProbeError as exc:
            fail(f"calibrate: {exc}", EXIT_FAILED)
        except OSError as exc:
            fail(f"calibrate: {exc.strerror or exc}", EXIT_FAILED)

    console.print(_table(result))
    machine = result.profile.machine
    console.print(
        f"measured on {machine.get('cpu')} ({machine.get('logical_cores')} logical cores), "
        f"{machine.get('os')}, JVM: {machine.get('jvm')}; in {result.seconds_taken:.1f} s",
        markup=False,
    )
    if output is not None:
        with own_output(prefix="-o: ", cannot_write=f"cannot write {output}"):
            write_own_text(output, profile_yaml(result), command="calibrate", is_ours=is_profile_file)
        console.print(f"wrote {output} (use it from a scenario with `costs: {output}`)", markup=False)


def _table(result):  # type: ignore[no-untyped-def]
    from rich.table import Table
    from rich.text import Text

    from simkafka.validate.calibration import format_cost

    table = Table(title="cost profile", title_justify="left")
    table.add_column("cost")
    table.add_column("figure", justify="right", no_wrap=True)
    table.add_column("how measured")
    for row in result.measurements:
        figure = f"{format_cost(row.seconds)}/{row.unit}"
        name = row.name if row.in_profile else f"({row.name})"
        dim = row.kept or not row.in_profile  # what was not measured, or is not in the profile
        table.add_row(Text(name), figure, Text(row.how, style="dim" if dim else ""))
    return table
