"""Every notebook in notebooks/ runs top to bottom on a fresh kernel."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path):
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # the run's readable repr and the figure are there
    text = "".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "RunResult" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)


_WORDS = {"a": 1, "one": 1, "two": 2, "five": 5, "ten": 10, "twenty": 20, "thirty": 30}
_UNITS = {"second": 1, "seconds": 1, "minute": 60, "minutes": 60}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_traffic_the_text_promises_is_the_traffic_simulated(path):
    import re

    notebook = nbformat.read(path, as_version=4)
    text = " ".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    code = " ".join(c.source for c in notebook.cells if c.cell_type == "code")
    promised = {
        float(_WORDS[a.lower()] if a.lower() in _WORDS else a) * _UNITS[u.lower()]
        for a, u in re.findall(
            r"\b(\w+) (?:simulated )?(seconds?|minutes?) of traffic", text, flags=re.I
        )
    }
    simulated = {float(d) for d in re.findall(r'"duration":\s*([0-9.]+)', code)}
    assert promised and promised <= simulated, (promised, simulated)
