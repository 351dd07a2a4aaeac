"""Files a run leaves behind: summary.json, timeseries.parquet, PNG figures, report.html,
for a run with faults (or failed messages, or a delivery problem) delivery.csv,
availability.csv and timeline.csv (:mod:`simkafka.report.faults`), and for a run whose
consumer groups rebalanced rebalances.csv, assignments.csv and assignment.png
(:mod:`simkafka.report.groups`).

Everything is written into a temporary directory next to the target and swapped in at
the end (:mod:`simkafka.report.output_dir`), so an interrupted run never leaves a
half-written report and a directory simkafka did not write is never replaced.
"""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, select_autoescape

from simkafka.report import faults as fault_report
from simkafka.report import groups as group_report
from simkafka.report.numbers import significant
from simkafka.report.output_dir import staged_report_dir
from simkafka.sim.result import RunResult

RESOURCES = ("nic_in", "nic_out", "disk_write", "disk_read", "cpu")
# producer.<group>.<resource>_util / consumer.<group>.<resource>_util: a group's busiest host
CLIENT_UTIL = re.compile(r"^(producer|consumer)\.(.+)\.([a-z_]+)_util$")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def utilisation_matrix(result: RunResult, warmup: float) -> pd.DataFrame:
    """Mean steady-state utilisation (0..1), resources as columns: a row per broker, then
    a row per producer group and consumer group for its busiest host (NaN for resources a
    client host does not have)."""
    ts = result.timeseries
    steady = ts[ts.index > warmup] if len(ts[ts.index > warmup]) else ts
    brokers = sorted(
        {
            c.split(".")[0]
            for c in ts.columns
            if re.fullmatch(r"b\d+", c.split(".")[0]) and c.endswith("_util")
        },
        key=lambda b: int(b[1:]),
    )
    rows = {
        f"broker {b[1:]}": {r: float(steady[f"{b}.{r}_util"].mean()) for r in RESOURCES}
        for b in brokers
    }
    for column in ts.columns:
        match = CLIENT_UTIL.match(column)
        if match:
            kind, group, resource = match.groups()
            row = rows.setdefault(f"{kind} {group} (busiest)", {})
            row[resource] = float(steady[column].mean())
    columns = list(RESOURCES) + sorted({r for row in rows.values() for r in row} - set(RESOURCES))
    return pd.DataFrame.from_dict(rows, orient="index", columns=columns)


def figure_throughput(result: RunResult, path: Path) -> None:
    plt = _plt()
    ts = result.timeseries
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(ts.index, ts["created_msgs_per_s"], label="created", linestyle=":", color="grey")
    ax.plot(ts.index, ts["produce_msgs_per_s"], label="produced (acknowledged)", color="#08519c")
    for column in ts.columns:
        if column.startswith("consume_msgs_per_s."):
            ax.plot(ts.index, ts[column], label=f"consumed by {column.split('.', 1)[1]}")
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("messages / s")
    ax.set_title(f"{result.scenario_name}: throughput")
    # from zero: an axis zoomed to 19,920-20,040 msg/s makes +-0.3 % look dramatic
    ax.set_ylim(bottom=0, top=max(1.0, 1.15 * _finite_max(ts, "msgs_per_s")))
    fault_report.mark_faults(ax, fault_report.fault_marks(result))
    ax.legend(frameon=False, loc="lower right")
    ax.grid(alpha=0.3)
    _save(fig, path)


def _finite_max(ts: pd.DataFrame, marker: str) -> float:
    columns = [c for c in ts.columns if marker in c]
    values = ts[columns].to_numpy(dtype=float) if columns else np.zeros(1)
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else 0.0


def figure_latency(result: RunResult, path: Path) -> None:
    plt = _plt()
    ts = result.timeseries
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4), gridspec_kw={"width_ratios": [2, 1]})
    for column, style in (
        ("produce_latency_p50_ms", ("#6baed6", "-")),
        ("produce_latency_p99_ms", ("#08519c", "-")),
        ("e2e_latency_p50_ms", ("#fd8d3c", "--")),
        ("e2e_latency_p99_ms", ("#d94701", "--")),
    ):
        if column in ts:
            ax1.plot(
                ts.index,
                ts[column],
                color=style[0],
                linestyle=style[1],
                label=column.replace("_ms", "").replace("_", " "),
            )
    ax1.set_xlabel("simulated time (s)")
    ax1.set_ylabel("ms")
    ax1.set_title("latency per sample interval")
    fault_report.mark_faults(ax1, fault_report.fault_marks(result))
    ax1.legend(frameon=False, fontsize=8)
    ax1.grid(alpha=0.3)
    table = result.latency[[c for c in result.latency.columns if c.startswith("p")]] * 1000
    x = np.arange(len(table.columns))
    for i, (name, row) in enumerate(table.iterrows()):
        ax2.bar(x + (i - 0.5) * 0.4, row.values, width=0.4, label=name)
    ax2.set_xticks(x, list(table.columns))
    ax2.set_ylabel("ms")
    ax2.set_title("whole run (after warm-up)")
    ax2.legend(frameon=False)
    _save(fig, path)


def figure_lag(result: RunResult, path: Path) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4))
    group_report.plot_lag_with_rebalances(result, ax=ax)
    _save(fig, path)


def figure_utilisation(result: RunResult, warmup: float, path: Path) -> None:
    plt = _plt()
    matrix = utilisation_matrix(result, warmup)
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(matrix) + 2))
    image = ax.imshow(matrix.values, cmap="YlOrRd", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(matrix.columns)), [c.replace("_", " ") for c in matrix.columns])
    ax.set_yticks(range(len(matrix.index)), list(matrix.index))
    for (i, j), value in np.ndenumerate(matrix.values):
        if not math.isnan(value):
            ax.text(j, i, f"{100 * value:.0f}%", ha="center", va="center", fontsize=8)
    fig.colorbar(image, ax=ax, label="mean utilisation")
    ax.set_title("utilisation (steady state; a client group shows its busiest host)")
    _save(fig, path)


# the queues whose growth makes a run unsustainable (messages are drawn on their own axis)
QUEUE_MB_COLUMNS = {"replication_lag_MB": "replication lag", "accumulator_MB": "accumulators"}


def figure_queues(result: RunResult, path: Path) -> None:
    plt = _plt()
    ts = result.timeseries
    fig, (mb, msgs) = plt.subplots(1, 2, figsize=(12, 4))
    for column, label in QUEUE_MB_COLUMNS.items():
        if column in ts:
            mb.plot(ts.index, ts[column], label=label)
    dirty = [c for c in ts.columns if re.fullmatch(r"b\d+\.dirty_MB", c)]
    if dirty:
        mb.plot(ts.index, ts[dirty].sum(axis=1), label="dirty pages (all brokers)")
    mb.set_ylabel("MB")
    for column in ts.columns:
        if column.startswith("lag."):
            msgs.plot(ts.index, ts[column], label=f"consumer lag of {column[4:]}")
    if "blocked_in_send" in ts:
        msgs.plot(ts.index, ts["blocked_in_send"], label="blocked send()", linestyle="--")
    msgs.set_ylabel("messages")
    marks = fault_report.fault_marks(result)
    for ax in (mb, msgs):
        fault_report.mark_faults(ax, marks)
        ax.set_xlabel("simulated time (s)")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(frameon=False, fontsize=8)
    verdict = result.summary.get("sustainability", "")
    fig.suptitle(f"queues: {verdict}" if verdict else "queues")
    _save(fig, path)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    _plt().close(fig)


_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>simkafka: {{ name }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; } .bottleneck { background: #fff3cd; padding: 0.8em; border-left: 4px solid #d94701; }
.bad { color: #b00; } .ok { color: #080; } img { max-width: 100%; }
.not-simulated { background: #f8d7da; padding: 0.8em; border-left: 6px solid #b00; font-size: 1.1em; }
td.detail, .timeline td:last-child { text-align: left; }
.groups-note { background: #eef3fb; padding: 0.8em; border-left: 4px solid #08519c; }
</style></head><body>
<h1>{{ name }}</h1>
<p>{{ description }}</p>
<p>seed {{ seed }}, {{ duration }} s simulated, warm-up {{ warmup }} s; simkafka {{ versions.get('simkafka', '?') }} modelling Apache Kafka {{ versions.get('kafka', '?') }}</p>
<p class="bottleneck"><b>Bottleneck:</b> {{ bottleneck }}</p>
<p class="{{ {True: 'ok', False: 'bad'}.get(sustainable, '') }}"><b>Sustainability:</b> {{ sustainability }}</p>
{% if not_simulated %}<p class="not-simulated"><b>Faults not simulated:</b> {{ not_simulated }}</p>
{% endif %}{% if verdict %}<p class="{{ 'ok' if delivery_ok else 'bad' }}"><b>Delivery:</b> {{ verdict }}</p>
{% endif %}<h2>Summary</h2>{{ summary_table }}
<h2>Latency (ms)</h2>{{ latency_table }}
<h2>Targets</h2>{{ targets_table }}
{% if groups %}<h2>Consumer groups</h2>
{% if groups.note %}<p class="groups-note"><b>Groups keep their first assignment:</b> {{ groups.note }}</p>
{% endif %}{% if groups.table %}{{ groups.table }}
{% endif %}{% if groups.log %}<h3>Rebalances</h3><p>The rebalance log (rebalances.csv; who owned which partition when: assignments.csv):</p>
{{ groups.log }}
{% if groups.log_note %}<p>{{ groups.log_note }}</p>{% endif %}
{% endif %}{% for title, data in groups.figures %}<h3>{{ title }}</h3><img alt="{{ title }}" src="data:image/png;base64,{{ data }}">
{% endfor %}{% endif %}{% if faults %}<h2>Faults and delivery</h2>
{% if verdict %}<p class="{{ 'ok' if delivery_ok else 'bad' }}"><b>Delivery:</b> {{ verdict }}</p>
<p>Per topic, from the delivery checker (delivery.csv):</p>{{ delivery_table }}
{% else %}<p>The {{ engine }} engine does not check delivery: run the events engine for what was acknowledged but lost.</p>
{% endif %}<h3>Failover and recovery</h3>{{ headline_table }}
{% if availability_totals %}<h3>Availability</h3>{{ availability_totals }}
{% if worst_partitions %}<p>The partitions unavailable longest (seconds; availability.csv has every partition):</p>{{ worst_partitions }}
{% if more_partitions %}<p>and {{ more_partitions }} more partition(s) unavailable at some point.</p>{% endif %}
{% endif %}{% endif %}{% if timeline_table %}<h3>Timeline</h3><p>Faults and what the control plane did about them (timeline.csv):</p>
<div class="timeline">{{ timeline_table }}</div>
{% if timeline_note %}<p>{{ timeline_note }}</p>{% endif %}
{% endif %}{% endif %}<h2>Where every message is</h2>{{ conservation_table }}
<h2>Costs charged</h2><p>{{ cost_source }}</p>{{ cost_table }}
<p class="{{ 'ok' if conservation_ok else 'bad' }}">conservation {{ 'holds' if conservation_ok else 'VIOLATED' }}</p>
{% for title, data in figures %}<h2>{{ title }}</h2><img alt="{{ title }}" src="data:image/png;base64,{{ data }}">
{% endfor %}
</body></html>
"""


# A fluid run's mean throughput matches the offered rate only to rounding over the window.
THROUGHPUT_SLACK = 0.01


def latency_table_ms(result: RunResult) -> pd.DataFrame:
    """Latency percentiles in ms as text, to the digits the histograms resolve."""
    return (result.latency * 1000).apply(lambda column: column.map(significant))


def cost_table(costs: dict) -> pd.DataFrame:
    """The cost profile a run charged (its resolved ``costs`` section, where every cost is
    already written as a duration, ``1.81us``): one row per cost, with how its figure was
    obtained where the profile says."""
    how = costs.get("how", {})
    rows = []
    for section, fields in costs.items():
        if not isinstance(fields, dict) or section in ("how", "machine"):
            continue
        for name, value in fields.items():
            pairs = value.items() if isinstance(value, dict) else [(None, value)]
            for sub, written in pairs:
                key = ".".join(part for part in (section, name, sub) if part)
                rows.append((key, written, how.get(key, "")))
    return pd.DataFrame(rows, columns=["cost", "value", "how"]).set_index("cost")


def summary_table(result: RunResult) -> pd.DataFrame:
    """The run's summary as text, latency figures to the digits the histograms resolve."""
    table = result.summary_table()
    for key, value in result.summary.items():
        if "latency" in key and isinstance(value, float):
            table.loc[key, "value"] = significant(value)
    return table


def target_table_text(table: pd.DataFrame) -> pd.DataFrame:
    """:func:`target_table` with goal and achieved as text: latencies to the digits the
    histograms resolve, counts and rates as whole numbers."""
    text = table.copy().astype({"goal": object, "achieved": object})
    for name, row in table.iterrows():
        for column in ("goal", "achieved"):
            if isinstance(row[column], str):  # durability: judged in words, not measured
                continue
            value = float(row[column])
            if "latency" in str(name):
                text.loc[name, column] = significant(value)
            elif "MB/s" in str(name):
                text.loc[name, column] = significant(value, 4)
            else:
                text.loc[name, column] = f"{value:.0f}" if math.isfinite(value) else "-"
    return text


def target_table(result: RunResult, targets: dict) -> pd.DataFrame:
    """Each target the scenario names, what the run achieved and whether it is met."""
    s = result.summary
    rows = []
    if targets.get("produce_throughput_msgs_per_s") is not None:
        goal, got = targets["produce_throughput_msgs_per_s"], s["produce_msgs_per_s"]
        rows.append(
            ("produce throughput (msgs/s)", goal, got, got >= goal * (1 - THROUGHPUT_SLACK))
        )
    if targets.get("produce_throughput_bytes_per_s") is not None:
        # payload bytes, as producer benchmarks count them (not the compressed wire bytes)
        goal, got = targets["produce_throughput_bytes_per_s"] / 1e6, s["produce_payload_MB_per_s"]
        rows.append(
            ("produce throughput (payload MB/s)", goal, got, got >= goal * (1 - THROUGHPUT_SLACK))
        )
    if targets.get("p99_produce_latency") is not None:
        goal, got = targets["p99_produce_latency"], s["p99_produce_latency_s"]
        rows.append(("p99 produce latency (ms)", 1000 * goal, 1000 * got, got <= goal))
    if targets.get("p99_e2e_latency") is not None:
        goal, got = targets["p99_e2e_latency"], s["p99_e2e_latency_s"]
        rows.append(("p99 end-to-end latency (ms)", 1000 * goal, 1000 * got, got <= goal))
    if targets.get("max_consumer_lag") is not None:
        lags = [v for k, v in s.items() if k.startswith("max_lag.")]
        got = max(lags) if lags else 0.0
        rows.append(
            (
                "max consumer lag (messages)",
                targets["max_consumer_lag"],
                got,
                got <= targets["max_consumer_lag"],
            )
        )
    if targets.get("durability") is not None and result.resolved_scenario:
        rows.append(_durability_row(result))
    return pd.DataFrame(rows, columns=["target", "goal", "achieved", "met"]).set_index("target")


def _durability_row(result: RunResult) -> tuple[str, str, str, bool]:
    """Durability is met or not by the configuration the run used (scenario.durability)."""
    from simkafka.scenario import Scenario
    from simkafka.scenario.durability import durability_gaps, durability_goal

    scenario = Scenario.model_validate(result.resolved_scenario)
    target = scenario.targets.durability
    gaps = durability_gaps(scenario)
    achieved = "yes" if not gaps else "no: " + gaps[0].reason + (f" (and {len(gaps) - 1} more)" if len(gaps) > 1 else "")
    return ("durability", durability_goal(target.failures, target.domain), achieved, not gaps)


def write_run_report(
    result: RunResult,
    directory: Path,
    *,
    description: str = "",
    warmup: float = 0.0,
    targets: dict | None = None,
) -> list[Path]:
    """Write the report files into ``directory`` atomically; returns the final paths.

    ``directory`` must be absent, empty or a previous simkafka report, else
    :class:`~simkafka.report.output_dir.OutputRefused`; files another command recorded
    there (``describe``'s placement figure) are kept.
    """
    directory = Path(directory)
    with staged_report_dir(directory, "run") as staging:
        (staging / "summary.json").write_text(
            json.dumps(
                _clean(
                    {
                        "scenario": result.scenario_name,
                        "seed": result.seed,
                        "summary": result.summary,
                        "latency_s": result.latency.to_dict(orient="index"),
                        "conservation": result.conservation,
                        "versions": result.versions,
                        "resolved_scenario": result.resolved_scenario,
                    }
                ),
                indent=2,
                allow_nan=False,
                default=_json_default,
            )
        )
        result.timeseries.to_parquet(staging / "timeseries.parquet")
        faults = fault_report.had_faults(result)
        if faults:
            _write_fault_frames(result, staging)
        if group_report.rebalanced(result):
            _write_group_frames(result, staging)
        figures = [
            ("Throughput", "throughput.png", lambda p: figure_throughput(result, p)),
            ("Latency", "latency.png", lambda p: figure_latency(result, p)),
            ("Consumer lag", "lag.png", lambda p: figure_lag(result, p)),
            ("Queues", "queues.png", lambda p: figure_queues(result, p)),
            (
                "Utilisation",
                "utilisation.png",
                lambda p: figure_utilisation(result, warmup, p),
            ),
        ]
        if faults:
            figures += [
                (title, filename, lambda p, draw=draw: draw(result, p, _plt(), _save))
                for title, filename, draw in FAULT_FIGURES
            ]
        figures += [
            (title, filename, lambda p, draw=draw: draw(result, p, _plt(), _save))
            for title, filename, draw in GROUP_FIGURES
        ]
        embedded, group_figures = [], []
        # a run that rebalanced shows the lag, rebalances marked, beside the assignment
        in_groups = {"lag.png", *(f for _, f, _ in GROUP_FIGURES)} if group_report.rebalanced(result) else set()
        for title, filename, draw in figures:
            if draw(staging / filename) is False:
                continue  # nothing of it in this run's time series
            shown = (title, base64.b64encode((staging / filename).read_bytes()).decode())
            (group_figures if filename in in_groups else embedded).append(shown)
        conservation = {k: v for k, v in result.conservation.items() if not isinstance(v, dict)}
        costs = result.resolved_scenario.get("costs") or {}
        for reason, count in result.conservation.get("failed", {}).items():
            conservation[f"failed: {reason}"] = count
        for group, figures_ in result.conservation.get("groups", {}).items():
            for key, value in figures_.items():
                conservation[f"group {group}: {key}"] = value
        html = (
            Environment(autoescape=select_autoescape(default=True))
            .from_string(_HTML)
            .render(
                name=result.scenario_name,
                description=description,
                seed=result.seed,
                duration=result.summary.get("duration_s"),
                warmup=warmup,
                versions=result.versions,
                bottleneck=result.summary.get("bottleneck", "-"),
                sustainable=result.summary.get("sustainable"),
                sustainability=result.summary.get("sustainability", "-"),
                summary_table=_markup(summary_table(result).to_html()),
                latency_table=_markup(latency_table_ms(result).to_html()),
                targets_table=_markup(
                    target_table_text(target_table(result, targets or {})).to_html()
                ),
                conservation_table=_markup(
                    pd.Series(conservation, name="messages").to_frame().to_html()
                ),
                conservation_ok=result.conservation.get("ok", False),
                cost_source=costs.get("source", "-"),
                cost_table=_markup(cost_table(costs).to_html()) if costs else "",
                figures=embedded,
                **_fault_sections(result, faults),
                groups=_group_section(result, group_figures),
            )
        )
        (staging / "report.html").write_text(html)
    return sorted(directory.iterdir())


# drawn for a run with faults; each returns False when the run has none of its columns
FAULT_FIGURES = (
    ("Leaders per broker", "leaders.png", fault_report.figure_leaders),
    ("Partition health", "partitions.png", fault_report.figure_partitions),
    ("Produce errors and retries", "produce_errors.png", fault_report.figure_produce_errors),
)


# drawn for a run whose groups rebalanced; each returns False otherwise
GROUP_FIGURES = (("Assignment over time", "assignment.png", group_report.figure_assignment),)


def _write_group_frames(result: RunResult, directory: Path) -> None:
    """rebalances.csv (the rebalance log) and assignments.csv (who owned which partition when)."""
    result.rebalances.to_csv(directory / "rebalances.csv", index=False)
    result.assignments.to_csv(directory / "assignments.csv", index=False)


def _group_section(result: RunResult, figures: list[tuple[str, str]]) -> dict[str, object] | None:
    """The template's Consumer groups section: the note when the engine kept every first
    assignment, the per-group table, the rebalance log and the figures; ``None`` for a
    run without consumer groups."""
    table = group_report.group_table(result)
    note = group_report.not_rebalanced_note(result)
    if note is None and not len(table):
        return None
    section: dict[str, object] = {"note": note, "figures": figures}
    section["table"] = _markup(table.to_html()) if len(table.columns) else ""
    if group_report.rebalanced(result):
        log, more = group_report.rebalance_log_table(result)
        section["log"] = _markup(log.to_html(index=False))
        section["log_note"] = more
    return section


def _write_fault_frames(result: RunResult, directory: Path) -> None:
    """delivery.csv, availability.csv and timeline.csv, for each frame the engine filled."""
    if len(result.delivery):
        result.delivery.to_csv(directory / "delivery.csv")
    if len(result.availability):
        result.availability.to_csv(directory / "availability.csv")
    if len(result.timeline):
        result.timeline.to_csv(directory / "timeline.csv", index=False)


def _fault_sections(result: RunResult, faults: bool) -> dict[str, object]:
    """The template's fault sections: the prominent warnings always, the tables for a run
    with faults."""
    verdict = fault_report.delivery_verdict(result) if faults else None
    out: dict[str, object] = {
        "not_simulated": fault_report.not_simulated_warning(result),
        "faults": faults,
        "verdict": verdict,
        "delivery_ok": result.summary.get("delivery_ok", True) is not False,
        "engine": result.summary.get("engine", "?"),
    }
    if not faults:
        return out
    out["delivery_table"] = _markup(fault_report.delivery_table(result).to_html())
    out["headline_table"] = _markup(fault_report.headline_table(result).to_html())
    if len(result.availability):
        totals, worst, more = fault_report.availability_tables(result)
        out["availability_totals"] = _markup(totals.to_html())
        out["worst_partitions"] = _markup(worst.to_html()) if len(worst) else ""
        out["more_partitions"] = more
    if len(result.timeline):
        table, note = fault_report.timeline_table(result)
        out["timeline_table"] = _markup(table.to_html(index=False))
        out["timeline_note"] = note
    return out


def _markup(html: str):
    from markupsafe import Markup

    return Markup(html)


def _clean(value: object) -> object:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if not math.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def _json_default(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if math.isnan(value) else float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
