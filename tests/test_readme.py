"""The README stands on its own (no links out of the repository), and ARCHITECTURE.md's
package table names every package there is (and none that is not)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")


def test_no_reference_outside_the_repository():
    assert not re.search(r"\.\./", README), "the README points outside the repository"


def test_the_layout_table_names_every_package():
    listed = set(re.findall(r"^\| `([a-z_]+)/` \|", ARCHITECTURE, flags=re.M))
    packages = {p.parent.name for p in (ROOT / "simkafka").glob("*/__init__.py")}
    assert listed == packages



def test_the_readme_points_at_the_architecture_page():
    assert "(ARCHITECTURE.md)" in README


def test_the_readme_points_learners_to_the_course_and_names_every_notebook():
    assert "make notebooks" in README
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"`{notebook.stem}`" in README, f"README's course table lacks {notebook.stem}"
