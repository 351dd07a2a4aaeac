"""The notebook course (issue 15): every notebook in notebooks/ runs top to bottom on a
fresh kernel, shows figures, ends with things to try, and what it claims holds.

A notebook's claims are checked in its own kernel: ``tests/course/checks/<stem>.py`` (for a
case study after ``_case_study.py``, the claims every case study makes) is appended as a
last cell and run after every other cell, so its asserts read the very
values the notebook computed and showed (a claim typed in a markdown cell could drift
from what the code computes; one asserted here cannot). Notebooks are committed without
outputs: what runs here is never written back.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHECKS = ROOT / "tests" / "course" / "checks"
# a hang guard, not a speed test: the course's budget is well under a minute a notebook
# (benchmarks/bench_notebooks.py measures it)
CELL_TIMEOUT_S = 240


def _stem(path: Path) -> str:
    return path.stem


def _execute(path: Path) -> tuple[object, float]:
    notebook = nbformat.read(path, as_version=4)
    checks = (CHECKS / f"{path.stem}.py").read_text()
    if path.stem.startswith("case-"):  # what every case study claims, then its own claims
        checks = (CHECKS / "_case_study.py").read_text() + "\n" + checks
    notebook.cells.append(nbformat.v4.new_code_cell(checks, metadata={"tags": ["course-checks"]}))
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        # the cell's own traceback, not nbclient's: it names the notebook's failing line
        pytest.fail(f"{path.name}: {exc}", pytrace=False)
    return notebook, time.perf_counter() - started


def test_there_is_a_course():
    """Issue 15's course: a numbered chapter per topic people learning Kafka meet, in order,
    and a notebook per case study."""
    stems = [p.stem for p in NOTEBOOKS]
    chapters = [s for s in stems if re.match(r"\d\d-", s)]
    assert chapters == [
        "00-quickstart",
        "01-topics-partitions-offsets",
        "02-producers-keys-acks",
        "03-brokers-replication-isr",
        "04-consumer-groups",
        "05-delivery-semantics",
        "06-zookeeper-vs-kraft",
        "07-partitions-and-replication-factor",
        "08-days-retention-and-peaks",
    ]
    case_studies = {s.removeprefix("case-") for s in stems if s.startswith("case-")}
    scenarios = {"movie-streaming", "ride-sharing", "social-media-feed", "bank-cdc", "data-ingestion",
                 "logging-metrics"}
    assert case_studies == scenarios
    assert all((ROOT / "scenarios" / f"{s}.yaml").is_file() for s in scenarios)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_stem)
def test_every_notebook_has_its_claims_checked(path):
    assert (CHECKS / f"{path.stem}.py").is_file(), f"{path.name} has no tests/course/checks/{path.stem}.py"
    assert re.search(r"^\s*assert ", (CHECKS / f"{path.stem}.py").read_text(), flags=re.M)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_stem)
def test_notebook_is_committed_without_outputs(path):
    """What nbstripout leaves: no outputs, no execution counts, no widget state."""
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert not [c for c in code if c.outputs or c.execution_count is not None], path.name
    assert "widgets" not in notebook.metadata, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_stem)
def test_notebook_opens_with_what_you_will_see_and_ends_with_things_to_try(path):
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), path.name
    markdown = [c.source for c in notebook.cells if c.cell_type == "markdown"]
    assert any(re.search(r"^#+ Try this", m, flags=re.M) for m in markdown), f"{path.name}: no 'Try this'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_stem)
def test_notebook_executes_shows_figures_and_its_claims_hold(path):
    notebook, seconds = _execute(path)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} shows no figure"
    # nothing it printed is a traceback or a warning a learner would trip over
    streams = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Traceback" not in streams, streams[-2000:]
    print(f"{path.name}: {seconds:.1f} s")


_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "ten": 10,
          "twenty": 20, "thirty": 30}
_UNITS = {"second": 1, "seconds": 1, "minute": 60, "minutes": 60}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_stem)
def test_the_traffic_the_text_promises_is_the_traffic_simulated(path):
    """Where the text promises "ten seconds of traffic", a run of that duration is set."""
    notebook = nbformat.read(path, as_version=4)
    text = " ".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    code = " ".join(c.source for c in notebook.cells if c.cell_type == "code")
    promised = {
        float(_WORDS[a.lower()] if a.lower() in _WORDS else a) * _UNITS[u.lower()]
        for a, u in re.findall(r"\b(\w+) (?:simulated )?(seconds?|minutes?) of traffic", text, flags=re.I)
        if a.lower() in _WORDS or a.replace(".", "", 1).isdigit()
    }
    simulated = {float(d) for d in re.findall(r'"?duration"?\s*[:=]\s*"?([0-9.]+)', code)}
    assert promised <= simulated, (promised, simulated)
