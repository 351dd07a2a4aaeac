"""The durability report: durability.json, durability.parquet, durability.png, durability.html.

The figure is a grid of heat maps, one per measure (acknowledged records lost, records
written twice, partition-seconds without a leader): rows are ``acks`` x
``enable.idempotence``, columns ``min.insync.replicas`` x
``unclean.leader.election.enable``, the number written in each cell, and a cell Kafka
refuses hatched grey. :func:`matrix_grid` computes what a panel draws (a DataFrame a test
can check); :func:`plot_durability_matrix` draws one panel on a given Axes (a notebook's
figure), :func:`figure_durability` the report's grid of them.

Everything is written into a staging directory and swapped in at the end
(:func:`~simkafka.report.output_dir.staged_report_dir`), as the sizing report is: an
interrupted report leaves nothing half-written, and a directory simkafka did not write is
refused.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from simkafka.report.output_dir import software_tag, staged_report_dir
from simkafka.report.sizing import json_safe

if TYPE_CHECKING:  # the report reads a DurabilityMatrix's fields; nothing runs here
    from simkafka.analysis.durability import DurabilityMatrix

__all__ = ["FILES", "PANELS", "figure_durability", "matrix_grid", "plot_durability_matrix", "write_durability_report"]

#: The report's files, in the order a reader wants them
FILES = ("durability.html", "durability.png", "durability.json", "durability.parquet")
#: The figure's panels: measure, title, colour map
PANELS = (
    ("acknowledged_lost", "acknowledged records lost", "Reds"),
    ("written_twice", "records written twice", "Oranges"),
    ("no_leader_partition_s", "partition-seconds without a leader", "Blues"),
)
_IMPOSSIBLE_COLOUR = "#d9d9d9"


def _on_off(value: object) -> str:
    return "on" if value else "off"


def matrix_grid(matrix: DurabilityMatrix, measure: str) -> pd.DataFrame:
    """One panel of the figure: ``measure`` per cell, rows ``acks=.. idempotence=..``,
    columns ``min ISR .. unclean ..`` in the matrix's order; NaN for a cell Kafka refuses."""
    frame = matrix.frame
    rows = list(dict.fromkeys(zip(frame["acks"], frame["enable.idempotence"], strict=True)))
    columns = list(dict.fromkeys(zip(frame["min.insync.replicas"], frame["unclean.leader.election.enable"],
                                     strict=True)))
    grid = pd.DataFrame(
        np.nan,
        index=[f"acks={a} idempotence={_on_off(i)}" for a, i in rows],
        columns=[f"min ISR {m} unclean {_on_off(u)}" for m, u in columns],
    )
    for record in frame.to_dict(orient="records"):
        if not record["valid"]:
            continue
        r = rows.index((record["acks"], record["enable.idempotence"]))
        c = columns.index((record["min.insync.replicas"], record["unclean.leader.election.enable"]))
        grid.iat[r, c] = float(record[measure])
    return grid


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_durability_matrix(matrix: DurabilityMatrix, measure: str = "acknowledged_lost", ax=None,
                           *, title: str | None = None, cmap: str | None = None):
    """One heat map of the matrix: ``measure`` (a :data:`~simkafka.analysis.durability.METRICS`
    name) per cell, rows ``acks`` x ``enable.idempotence``, columns
    ``min.insync.replicas`` x ``unclean.leader.election.enable`` (:func:`matrix_grid`),
    the number written in each cell and a cell Kafka refuses hatched grey. ``title`` and
    ``cmap`` default to the report's for the measure (:data:`PANELS`). Returns the Axes."""
    from matplotlib.patches import Rectangle

    grid = matrix_grid(matrix, measure)
    panel = {m: (t, c) for m, t, c in PANELS}.get(measure, (measure.replace("_", " "), "Purples"))
    rows, columns = grid.shape
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(4.8, 1.2 + 0.55 * rows))
    values = grid.to_numpy(dtype=float)
    top = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
    ax.imshow(np.ma.masked_invalid(values), cmap=cmap or panel[1], vmin=0, vmax=top if top > 0 else 1,
              aspect="auto")
    for r in range(rows):
        for c in range(columns):
            value = values[r, c]
            if np.isnan(value):
                ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=_IMPOSSIBLE_COLOUR,
                                       hatch="///", edgecolor="#969696", linewidth=0))
                ax.text(c, r, "refused", ha="center", va="center", fontsize=7, color="#525252")
                continue
            text = f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
            dark = top > 0 and value > 0.6 * top
            ax.text(c, r, text, ha="center", va="center", fontsize=8, color="white" if dark else "black")
    ax.set_xticks(range(columns), [label.replace(" unclean", "\nunclean") for label in grid.columns], fontsize=7)
    ax.set_yticks(range(rows), list(grid.index), fontsize=7)
    ax.set_title(title or panel[0], fontsize=9)
    return ax


def figure_durability(matrix: DurabilityMatrix, path: Path) -> None:
    """The heat-map grid (:func:`plot_durability_matrix` per :data:`PANELS`), saved as a
    PNG carrying simkafka's ``Software`` tag."""
    plt = _plt()
    rows = matrix_grid(matrix, PANELS[0][0]).shape[0]
    fig, axes = plt.subplots(1, len(PANELS), figsize=(4.8 * len(PANELS), 1.2 + 0.55 * rows), squeeze=False)
    for ax, (measure, title, cmap) in zip(axes[0], PANELS, strict=True):
        plot_durability_matrix(matrix, measure, ax, title=title, cmap=cmap)
    fig.suptitle(f"{matrix.scenario}: {', '.join(matrix.faults)}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100, format="png", metadata={"Software": software_tag("durability")})
    plt.close(fig)


_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>simkafka durability: {{ name }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1300px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; } img { max-width: 100%; }
</style></head><body>
<h1>Durability matrix: {{ name }}</h1>
<p>The scenario's faults ({{ faults }}) replayed on the events engine, seed {{ seed }}, once per combination of
the producers' <code>acks</code> and <code>enable.idempotence</code> and the topics'
<code>min.insync.replicas</code> and <code>unclean.leader.election.enable</code>: {{ cells }} cells, {{ runs }} run,
the rest refused by Kafka's own configuration rules. simkafka {{ version }}.</p>
<p><b>lost</b>: acknowledged records the cluster no longer holds; <b>written twice</b>: records the log holds more than
once (a retried request whose first attempt was written); <b>no leader</b> and <b>under min ISR</b>: seconds summed
over partitions without a reachable leader, or with fewer in-sync replicas than <code>min.insync.replicas</code>
(where <code>acks=all</code> writes are refused).</p>
{% for note in notes %}<p><i>note: {{ note }}</i></p>{% endfor %}
<img alt="durability matrix" src="data:image/png;base64,{{ figure }}">
{{ table }}
</body></html>
"""


def _render(matrix: DurabilityMatrix, figure: str) -> str:
    from simkafka import __version__

    return (
        Environment(autoescape=select_autoescape(default=True))
        .from_string(_HTML)
        .render(
            name=matrix.scenario,
            faults=", ".join(matrix.faults),
            seed=matrix.seed,
            cells=len(matrix.frame),
            runs=matrix.runs,
            version=__version__,
            notes=matrix.notes,
            figure=figure,
            # DataFrame.to_html escapes the cells' text; the markup it returns is ours
            table=Markup(matrix.readable().to_html(index=False)),
        )
    )


def write_durability_report(matrix: DurabilityMatrix, directory: Path) -> list[Path]:
    """Write the matrix's report files into ``directory`` atomically; returns the final paths.

    ``directory`` must be absent, empty or a previous simkafka report, else
    :class:`~simkafka.report.output_dir.OutputRefused`; files another command recorded
    there are kept.
    """
    directory = Path(directory)
    with staged_report_dir(directory, "durability") as staging:
        (staging / "durability.json").write_text(
            json.dumps(json_safe(matrix.to_dict()), indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        matrix.frame.to_parquet(staging / "durability.parquet", index=False)
        figure_durability(matrix, staging / "durability.png")
        embedded = base64.b64encode((staging / "durability.png").read_bytes()).decode()
        (staging / "durability.html").write_text(_render(matrix, embedded), encoding="utf-8")
    return sorted(directory.iterdir())
