"""The sizing report of a plan: plan.json, candidates.parquet, PNG figures, sizing.html.

The HTML is self-contained (figures embedded as base64 PNG) and answers, in order: what to
buy and what it costs; what limits it and how much room each resource has; which cases it
passed; why nothing cheaper will do; what happens when a broker is lost or the load grows;
how likely the targets are missed when the inputs are uncertain; and why each topic has
the partitions it has. A plan without a recommendation says so first, with the planner's
reason and the cheapest candidates' failures.

Everything is written into a staging directory and swapped in at the end
(:func:`~simkafka.report.output_dir.staged_report_dir`), as ``run``'s report is: an
interrupted report leaves nothing half-written, and a directory simkafka did not write is
refused.
"""

from __future__ import annotations

import base64
import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from simkafka.report import sizing_figures
from simkafka.report.output_dir import staged_report_dir

if TYPE_CHECKING:  # the report reads a Plan's fields; nothing of the planner runs here
    from simkafka.analysis.candidates import Candidate
    from simkafka.analysis.planner import Case, Plan

__all__ = [
    "bounds_table",
    "candidates_table",
    "checks_table",
    "json_safe",
    "next_cheaper_table",
    "partition_table",
    "sizing_summary_table",
    "uncertainty_table",
    "what_if_table",
    "write_sizing_report",
]

# a bounds row's resource name -> the util.<resource> key of a run's row
_BOUND_RESOURCE = (
    (re.compile(r"^broker (\d+) NIC in$"), "nic_in"),
    (re.compile(r"^broker (\d+) NIC out$"), "nic_out"),
    (re.compile(r"^broker (\d+) (?:disk|dir \S+) write$"), "disk_write"),
    (re.compile(r"^broker (\d+) (?:disk|dir \S+) read$"), "disk_read"),
    (re.compile(r"^broker (\d+) handler CPU$"), "cpu"),
    (re.compile(r"^broker (\d+) network threads$"), "network"),
)


def json_safe(value: object) -> object:
    """``value`` with what JSON cannot hold made plain: NaN and infinities become null,
    numpy scalars Python numbers, tuples lists, keys strings."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def _number(value: object) -> str:
    """A figure as a person reads it: thousands grouped, four significant digits below."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, bool):
        return "-" if value is None else ("yes" if value else "no")
    v = float(value)  # type: ignore[arg-type]
    if not math.isfinite(v):
        return "unbounded" if v > 0 else "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def _percent(fraction: float | None) -> str:
    if fraction is None or not math.isfinite(fraction):
        return "-"
    return f"{100 * fraction:.1f}%"


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:g}"


def sizing_summary_table(plan: Plan) -> pd.DataFrame:
    """The recommendation as rows ``setting -> value`` (text): the cluster, its monthly cost
    and its parts, what binds it, and each producer's key settings under Kafka's names.
    Without a recommendation: that there is none and why."""
    rec = plan.recommendation
    rows: list[tuple[str, str]] = []
    if rec is None:
        rows += [("recommendation", "none: no candidate met the targets"), ("reason", plan.reason)]
    else:
        rows += [
            ("instance type", f"{rec.instance} ({rec.provider})"),
            ("brokers", str(rec.brokers)),
            *((f"partitions ({topic})", str(n)) for topic, n in rec.partitions),
            ("replication.factor", str(rec.replication_factor)),
            ("min.insync.replicas", str(rec.min_insync_replicas)),
            ("monthly cost", _usd(rec.cost.total)),
            ("monthly cost: instances", _usd(rec.cost.instances)),
            ("monthly cost: storage", _usd(rec.cost.storage)),
            ("monthly cost: transfer", _usd(rec.cost.transfer)),
            ("binding bound", ", ".join(r.resource for r in rec.bounds.binding) or "none (unbounded)"),
            ("bound / required", f"{rec.bound_headroom:,.2f}x" if math.isfinite(rec.bound_headroom) else "unbounded"),
        ]
    for p in plan.scenario.producers:
        rows += [
            (f"producer {p.name}: acks", str(p.acks)),
            (f"producer {p.name}: linger.ms", _ms(p.linger)),
            (f"producer {p.name}: batch.size", str(p.batch_size)),
            (f"producer {p.name}: compression.type", str(p.compression_type)),
        ]
    return pd.DataFrame(rows, columns=["setting", "value"]).set_index("setting")


def next_cheaper_table(plan: Plan) -> pd.DataFrame:
    """The candidates just cheaper than the recommendation, nearest first, and what each
    violates (without a recommendation: the cheapest candidates)."""
    rows = [(c.key, round(c.monthly_usd, 2), plan.status(c), _violates(plan, c)) for c in plan.next_cheaper()]
    return pd.DataFrame(rows, columns=["candidate", "monthly_usd", "status", "violates"])


def _violates(plan: Plan, c: Candidate) -> str:
    status = plan.status(c)
    if status == "not simulated":
        return "not simulated: the search stopped first"
    rec = plan.recommendation
    if status == "met" and rec is not None and round(c.monthly_usd, 2) == round(rec.monthly_usd, 2):
        # the planner orders equal costs by broker count: a tie that also met is no failure
        return "nothing: it met every target too, at the same cost (ties go to fewer brokers)"
    if status == "met":
        return "nothing: it met every target too"
    return plan.why_not(c) or "-"


def candidates_table(plan: Plan) -> pd.DataFrame:
    """Every candidate in cost order, as text: cost, bound headroom, status, what it violates."""
    rows = [(c.key, _usd(c.monthly_usd),
             f"{c.bound_headroom:,.2f}x" if math.isfinite(c.bound_headroom) else "unbounded",
             plan.status(c), _violates(plan, c))
            for c in plan.candidates]
    return pd.DataFrame(rows, columns=["candidate", "monthly cost", "bound / required", "status", "violates"])


def _simulated(resource: str, row: dict[str, Any]) -> str:
    """The run's utilisation of this bounds row's resource, where the run measured it: the
    busiest broker's, shown on that broker's row; a partition's append lock on the append row."""
    if resource.startswith("append "):
        value = row.get("util.append")
        where = row.get("util_broker.append")
        return f"{_percent(value)} ({where})" if isinstance(value, float) else ""
    for pattern, key in _BOUND_RESOURCE:
        match = pattern.match(resource)
        if match is None:
            continue
        value = row.get(f"util.{key}")
        if isinstance(value, float) and row.get(f"util_broker.{key}") == f"b{match.group(1)}":
            return f"{_percent(value)} (busiest)"
        return ""
    return ""


def _capacity(value: float, unit: str) -> str:
    if unit == "B/s":
        return f"{value / 1e6:,.1f} MB/s"
    if unit == "B":
        return f"{value / 1e9:,.1f} GB"
    return f"{_number(value)} {unit}".strip()


def bounds_table(plan: Plan, c: Candidate) -> pd.DataFrame:
    """``c``'s bounds rows: each resource's capacity, the throughput at which it reaches the
    ceiling, that bound over the required throughput, the utilisation the bound predicts at
    the planned load, and the simulated utilisation where the "as planned" run measured it."""
    normal = next((k for k in plan.cases.get(c.key, []) if k.name == "as planned"), None)
    row = normal.row if normal is not None else {}
    binding = {r.resource for r in c.bounds.binding}
    ceiling = plan.spec.ceiling
    rows = []
    for r in c.bounds.rows:
        finite = math.isfinite(r.max_throughput) and r.max_throughput > 0
        rows.append({
            "resource": r.resource,
            "capacity": _capacity(r.capacity, r.unit),
            "max throughput (MB/s)": _number(r.max_throughput / 1e6) if finite else "unbounded",
            "bound / required": f"{r.max_throughput / c.required:,.2f}x" if finite and c.required > 0 else "-",
            "predicted utilisation": _percent(ceiling * c.required / r.max_throughput) if finite else "-",
            "simulated utilisation": _simulated(r.resource, row),
            "binding": "BINDING" if r.resource in binding else "",
            "note": r.note,
        })
    return pd.DataFrame(rows).set_index("resource") if rows else pd.DataFrame()


def checks_table(case: Case) -> pd.DataFrame:
    """One row per rule the run was judged by: goal, achieved, unit, met."""
    rows = [(k.target, _number(k.goal), _number(k.achieved), k.unit, "met" if k.met else "MISSED")
            for k in case.checks]
    return pd.DataFrame(rows, columns=["target", "goal", "achieved", "unit", "met"]).set_index("target")


def what_if_table(plan: Plan) -> pd.DataFrame:
    """Each what-if of the recommendation: met, or which checks it missed."""
    rows = [(k.name, k.engine, "met" if k.met else "MISSED: " + k.why_not()) for k in plan.what_ifs]
    return pd.DataFrame(rows, columns=["what if", "engine", "result"]).set_index("what if")


def uncertainty_table(plan: Plan) -> pd.DataFrame:
    """Per finalist and target: how often the Monte Carlo samples missed it, and the
    probability of a miss with its 95 % interval."""
    rows = []
    for key, misses in plan.uncertainty.items():
        for m in misses:
            rows.append((key, m.target, f"{m.misses} of {m.samples}", _percent(m.probability),
                         f"{_percent(m.low)} .. {_percent(m.high)}"))
    return pd.DataFrame(rows, columns=["candidate", "target", "missed", "probability of a miss",
                                       "95% interval"])


def partition_table(plan: Plan) -> pd.DataFrame:
    """Per topic whose partitions were derived: its load, what one partition carries, and the
    counts of :func:`~simkafka.report.sizing_figures.partition_counts`."""
    counts = sizing_figures.partition_counts(plan)
    if counts.empty:
        return counts
    load = pd.Series({t: f"{a.load:,.0f}" for t, a in plan.advice.items()}, name="load (msg/s)")
    per = pd.Series({t: f"{a.per_partition:,.0f}" for t, a in plan.advice.items()},
                    name="one partition (msg/s)")
    return pd.concat([load, per, counts], axis=1)


def _explanations(plan: Plan) -> list[tuple[str, str]]:
    brokers = (plan.recommendation.brokers if plan.recommendation is not None
               else plan.candidates[0].brokers if plan.candidates else None)
    if brokers is None:
        return []
    return [(topic, a.explain(brokers)) for topic, a in plan.advice.items()]


_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>simkafka plan: {{ name }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
.recommendation { background: #e5f5e0; padding: 0.8em; border-left: 4px solid #31a354; font-size: 1.15em; }
.none { background: #fde0dd; padding: 0.8em; border-left: 6px solid #b00; font-size: 1.25em; }
.binding { background: #fff3cd; padding: 0.8em; border-left: 4px solid #d94701; }
.bad { color: #b00; } .ok { color: #080; } img { max-width: 100%; }
</style></head><body>
<h1>Sizing plan: {{ name }}</h1>
<p>{{ description }}</p>
<p>Planned for {{ growth }}x today's load: {{ required }} MB/s of produced batches, with {{ headroom }} headroom on every
resource (at most {{ ceiling }} busy){% if survive != 'none' %}, surviving the loss of a {{ survive }}{% endif %}.
{{ candidates }} candidates, {{ pruned }} ruled out by the analytic bounds, {{ simulations }} simulations
({{ engine }} engine). simkafka {{ version }}.</p>
{% if recommended %}
<p class="recommendation"><b>Recommended:</b> {{ recommended }} &mdash; <b>{{ monthly }}</b> a month
({{ cost_instances }} instances, {{ cost_storage }} storage, {{ cost_transfer }} transfer).</p>
{% else %}
<p class="none"><b>No candidate met the targets.</b> {{ reason }}</p>
{% endif %}
<h2>{{ 'Recommended cluster' if recommended else 'Settings' }}</h2>{{ summary_table }}
{% if recommended %}
<h2>Binding constraint and headroom per resource</h2>
<p class="binding"><b>Binding:</b> {{ binding }}. The bound is the produce throughput at which the resource reaches
the {{ ceiling }} ceiling; "predicted" is the utilisation that bound implies at the planned load,
"simulated" what the run as planned measured on the busiest broker.</p>
{{ bounds_table }}
<h2>Cases it passed</h2>
{% for title, table in cases %}<h3>{{ title }}</h3>{{ table }}{% endfor %}
<h2>Next-cheaper candidates and what each violates</h2>
{% if next_cheaper %}{{ next_cheaper }}{% else %}<p>None: the recommendation is the cheapest candidate.</p>{% endif %}
<h2>What if</h2>
{% if what_ifs %}{{ what_ifs }}{% else %}<p>No what-ifs were run.</p>{% endif %}
{% else %}
<h2>The cheapest candidates and what they violate</h2>
{% if next_cheaper %}{{ next_cheaper }}{% else %}<p>There were no candidates.</p>{% endif %}
{% endif %}
{% if uncertainty %}<h2>Uncertainty: probability of missing each target</h2>
<p>Monte Carlo over the scenario's uncertain inputs, {{ samples }} samples per candidate; 95% intervals.</p>
{{ uncertainty }}{% endif %}
<h2>Partitions</h2>
{% if partitions %}{{ partitions }}
{% for topic, text in explanations %}<p><b>{{ topic }}:</b> {{ text }}</p>{% endfor %}
{% else %}<p>No topic's partitions were derived: plan.partitions names them.</p>{% endif %}
{% if notes %}<h2>Notes</h2><ul>{% for note in notes %}<li>{{ note }}</li>{% endfor %}</ul>{% endif %}
<h2>Every candidate</h2>{{ all_candidates }}
{% for title, data in figures %}<h2>{{ title }}</h2><img alt="{{ title }}" src="data:image/png;base64,{{ data }}">
{% endfor %}
</body></html>
"""

FIGURES = (
    ("Cost against headroom", "cost_headroom.png", sizing_figures.figure_cost_headroom),
    ("Throughput bound by broker count", "bound_by_brokers.png", sizing_figures.figure_bound_by_brokers),
    ("Utilisation by resource", "utilisation.png", sizing_figures.figure_utilisation),
    ("Partitions against the rules of thumb", "partitions.png", sizing_figures.figure_partitions),
)


def _html_table(frame: pd.DataFrame, **kwargs: Any) -> Markup:
    # DataFrame.to_html escapes the cells' text; the markup it returns is ours
    return Markup(frame.to_html(index_names=False, **kwargs))


def _render(plan: Plan, figures: list[tuple[str, str]]) -> str:
    from simkafka import __version__

    rec = plan.recommendation
    cost = rec.cost if rec is not None else None
    cases = []
    if rec is not None:
        for k in plan.cases.get(rec.key, []):
            cases.append((f"{k.name} ({k.engine} engine): {'met' if k.met else 'MISSED'}", _html_table(checks_table(k))))
    next_cheaper = next_cheaper_table(plan)
    next_cheaper["monthly_usd"] = next_cheaper["monthly_usd"].map(_usd)
    next_cheaper = next_cheaper.rename(columns={"monthly_usd": "monthly cost"})
    partitions = partition_table(plan)
    uncertainty = uncertainty_table(plan)
    return (
        Environment(autoescape=select_autoescape(default=True))
        .from_string(_HTML)
        .render(
            name=plan.scenario.name,
            description=plan.scenario.description or "",
            growth=f"{plan.spec.growth:g}",
            required=f"{plan.required / 1e6:,.2f}",
            headroom=f"{plan.spec.headroom:.0%}",
            ceiling=f"{plan.spec.ceiling:.0%}",
            survive=plan.survive,
            candidates=len(plan.candidates),
            pruned=sum(1 for c in plan.candidates if not c.bound_ok),
            simulations=plan.simulations,
            engine=plan.engine,
            version=__version__,
            recommended=(f"{rec.brokers} x {rec.instance} ({rec.provider}), "
                         + ", ".join(f"{t}: {n} partitions" for t, n in rec.partitions)
                         + f", replication.factor {rec.replication_factor}, "
                         f"min.insync.replicas {rec.min_insync_replicas}") if rec is not None else "",
            monthly=_usd(cost.total) if cost is not None else "",
            cost_instances=_usd(cost.instances) if cost is not None else "",
            cost_storage=_usd(cost.storage) if cost is not None else "",
            cost_transfer=_usd(cost.transfer) if cost is not None else "",
            reason=plan.reason,
            summary_table=_html_table(sizing_summary_table(plan)),
            binding=(", ".join(r.resource for r in rec.bounds.binding) or "nothing (unbounded)")
            if rec is not None else "",
            bounds_table=_html_table(bounds_table(plan, rec)) if rec is not None else "",
            cases=cases,
            next_cheaper=_html_table(next_cheaper, index=False) if len(next_cheaper) else "",
            what_ifs=_html_table(what_if_table(plan)) if plan.what_ifs else "",
            uncertainty=_html_table(uncertainty, index=False) if len(uncertainty) else "",
            samples=plan.samples,
            partitions=_html_table(partitions) if not partitions.empty else "",
            explanations=_explanations(plan),
            notes=plan.notes,
            all_candidates=_html_table(candidates_table(plan), index=False),
            figures=figures,
        )
    )


def write_sizing_report(plan: Plan, directory: Path) -> list[Path]:
    """Write the plan's report files into ``directory`` atomically; returns the final paths.

    ``directory`` must be absent, empty or a previous simkafka report, else
    :class:`~simkafka.report.output_dir.OutputRefused`; files another command recorded
    there are kept.
    """
    directory = Path(directory)
    with staged_report_dir(directory, "plan") as staging:
        (staging / "plan.json").write_text(
            json.dumps(json_safe(plan.to_dict()), indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        plan.candidates_frame().to_parquet(staging / "candidates.parquet")
        embedded = []
        for title, filename, draw in FIGURES:
            draw(plan, staging / filename)
            embedded.append((title, base64.b64encode((staging / filename).read_bytes()).decode()))
        (staging / "sizing.html").write_text(_render(plan, embedded), encoding="utf-8")
    return sorted(directory.iterdir())
