"""Output directories and files: simkafka never deletes or overwrites what it did not write."""

from __future__ import annotations

import json
import os
import signal
import stat
from pathlib import Path

import pytest

from simkafka.report.output_dir import (
    MARKER,
    MAX_NAME_LENGTH,
    OutputRefused,
    check_report_dir,
    is_simkafka_png,
    read_marker,
    report_dir_for,
    sigint_deferred,
    staged_report_dir,
    write_own_file,
    write_report_file,
)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _write_run(directory: Path, files: dict[str, str], command: str = "run") -> None:
    with staged_report_dir(directory, command) as staging:
        for name, text in files.items():
            (staging / name).write_text(text)


def _leftovers(parent: Path, keep: set[str]) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name not in keep)


def test_new_report_dir_gets_the_files_a_marker_and_normal_permissions(tmp_path, umask_022):
    target = tmp_path / "reports" / "q"
    _write_run(target, {"summary.json": "{}", "report.html": "<html>"})
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "report.html", "summary.json"]
    marker = json.loads((target / MARKER).read_text())
    assert marker["tool"] == "simkafka" and marker["command"] == "run"
    assert marker["files"] == {"report.html": "run", "summary.json": "run"}
    # mkdtemp makes 0700 directories; a report must be readable like any other output
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert _leftovers(tmp_path / "reports", {"q"}) == []


def test_an_empty_directory_is_taken(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    _write_run(target, {"summary.json": "{}"})
    assert (target / "summary.json").read_text() == "{}"


@pytest.mark.parametrize("user_file", ["notes.txt", "scenario.yaml"])
def test_a_directory_with_the_users_files_is_refused_and_left_alone(tmp_path, user_file):
    target = tmp_path / "out"
    target.mkdir()
    (target / user_file).write_text("mine")
    with pytest.raises(OutputRefused, match="not a simkafka report"):
        _write_run(target, {"summary.json": "{}"})
    assert [p.name for p in target.iterdir()] == [user_file]
    assert (target / user_file).read_text() == "mine"
    assert _leftovers(tmp_path, {"out"}) == []


def test_a_file_in_place_of_the_directory_is_refused(tmp_path):
    target = tmp_path / "out"
    target.write_text("mine")
    with pytest.raises(OutputRefused, match="is a file"):
        _write_run(target, {"summary.json": "{}"})
    assert target.read_text() == "mine"


def test_a_symbolic_link_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(OutputRefused, match="symbolic link"):
        check_report_dir(tmp_path / "link")


def test_a_previous_report_is_replaced_and_other_commands_files_are_kept(tmp_path):
    target = tmp_path / "q"
    write_report_file(target, "placement.png", "describe", lambda p: p.write_bytes(b"fig"))
    _write_run(target, {"summary.json": "old", "old-only.png": "x"})
    _write_run(target, {"summary.json": "new"})
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "placement.png", "summary.json"]
    assert (target / "summary.json").read_text() == "new"
    assert (target / "placement.png").read_bytes() == b"fig"
    assert read_marker(target)["files"] == {"placement.png": "describe", "summary.json": "run"}
    assert _leftovers(tmp_path, {"q"}) == []


def test_a_previous_report_with_a_file_the_user_added_is_refused(tmp_path):
    target = tmp_path / "q"
    _write_run(target, {"summary.json": "old"})
    (target / "notes.txt").write_text("mine")
    with pytest.raises(OutputRefused, match=r"did not write \(notes.txt\)"):
        _write_run(target, {"summary.json": "new"})
    assert (target / "summary.json").read_text() == "old"
    assert (target / "notes.txt").read_text() == "mine"


def test_a_user_file_that_appears_while_the_report_is_computed_is_not_lost(tmp_path):
    target = tmp_path / "q"
    _write_run(target, {"summary.json": "old"})
    with pytest.raises(OutputRefused):
        with staged_report_dir(target, "run") as staging:
            (staging / "summary.json").write_text("new")
            (target / "notes.txt").write_text("mine")  # written during the run
    assert (target / "notes.txt").read_text() == "mine"
    assert (target / "summary.json").read_text() == "old"
    assert _leftovers(tmp_path, {"q"}) == []


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyboardInterrupt()])
def test_an_interrupted_write_leaves_the_old_report_and_no_temporary_directory(tmp_path, error):
    target = tmp_path / "q"
    _write_run(target, {"summary.json": "old"})
    with pytest.raises(type(error)):
        with staged_report_dir(target, "run") as staging:
            (staging / "summary.json").write_text("half")
            raise error
    assert (target / "summary.json").read_text() == "old"
    assert _leftovers(tmp_path, {"q"}) == []


def test_a_report_written_before_markers_existed_is_recognised(tmp_path):
    target = tmp_path / "q"
    target.mkdir()
    summary = {"scenario": "q", "seed": 1, "summary": {}, "conservation": {}}
    (target / "summary.json").write_text(json.dumps({**summary, "versions": {"simkafka": "0"}}))
    (target / "report.html").write_text("<html>")
    _write_run(target, {"summary.json": "new"})
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "summary.json"]


def test_a_look_alike_of_an_old_report_is_not(tmp_path):
    target = tmp_path / "q"
    target.mkdir()
    (target / "summary.json").write_text('{"my": "own data"}')
    with pytest.raises(OutputRefused):
        _write_run(target, {"summary.json": "new"})
    assert (target / "summary.json").read_text() == '{"my": "own data"}'


def test_report_file_into_a_foreign_directory_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputRefused):
        write_report_file(tmp_path, "placement.png", "describe", lambda p: p.write_bytes(b"x"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_own_file_never_replaces_a_file_simkafka_did_not_write(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text("mine")
    with pytest.raises(OutputRefused, match="not written by simkafka"):
        write_own_file(path, lambda p: p.write_text("ours"), command="t", is_ours=lambda p: False)
    assert path.read_text() == "mine"
    write_own_file(path, lambda p: p.write_text("ours"), command="t", is_ours=lambda p: True)
    assert path.read_text() == "ours"
    with pytest.raises(OutputRefused, match="--force"):
        write_own_file(
            path, lambda p: p.write_text("x"), command="t", is_ours=lambda p: True, force=False
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["schema.json"]


def test_own_file_interrupted_leaves_no_temporary_file(tmp_path):
    def write(path: Path) -> None:
        path.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_own_file(tmp_path / "f.json", write, command="t", is_ours=lambda p: True)
    assert list(tmp_path.iterdir()) == []


def test_simkafka_figures_are_recognised_by_their_software_tag(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, _ = plt.subplots()
    fig.savefig(tmp_path / "ours.png", metadata={"Software": "simkafka 0.1.0 describe"})
    fig.savefig(tmp_path / "theirs.png")
    plt.close(fig)
    (tmp_path / "text.png").write_text("not a png")
    assert is_simkafka_png(tmp_path / "ours.png")
    assert not is_simkafka_png(tmp_path / "theirs.png")
    assert not is_simkafka_png(tmp_path / "text.png")


@pytest.mark.parametrize(
    "name",
    ["../../x", "a/b", ".", "..", "/etc", "a\\b", "", "  ", ".hidden", "a\nb", "x" * 300],
)
def test_unsafe_scenario_names_are_refused_as_directory_names(tmp_path, name):
    with pytest.raises(OutputRefused, match="cannot name a report directory") as info:
        report_dir_for(name, tmp_path)
    assert "\n" not in str(info.value)  # one line, even for a name with a newline


@pytest.mark.parametrize("name", ["quickstart", "bank-cdc", "4 topics, keyed", "x" * 100])
def test_plain_names_map_to_one_directory_below_the_root(tmp_path, name):
    path = report_dir_for(name, tmp_path)
    assert path.parent == tmp_path and path.name == name
    assert len(name) <= MAX_NAME_LENGTH


def test_ctrl_c_is_held_back_until_the_renames_are_done():
    done = []
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with sigint_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("renamed")
    assert done == ["renamed"]
    assert signal.getsignal(signal.SIGINT) is before


def test_a_failed_swap_puts_the_previous_report_back(tmp_path, monkeypatch):
    target = tmp_path / "q"
    _write_run(target, {"summary.json": "old"})
    real_rename = Path.rename

    def rename(self, destination):
        if self.name.startswith(".simkafka-q-"):  # the staging directory
            raise OSError(28, "No space left on device")
        return real_rename(self, destination)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError):
        _write_run(target, {"summary.json": "new"})
    monkeypatch.undo()
    assert (target / "summary.json").read_text() == "old"
    assert _leftovers(tmp_path, {"q"}) == []


def test_a_nested_report_directory_is_kept_whole_when_its_parent_is_replaced(tmp_path):
    parent = tmp_path / "report"
    _write_run(parent, {"summary.json": "{}"})
    sweep = parent / "sweep"
    write_report_file(sweep, "points.parquet", "sweep", lambda p: p.write_text("points"))
    assert check_report_dir(parent)["files"] == {"summary.json": "run"}
    _write_run(parent, {"summary.json": "{\"again\": 1}"})
    assert (parent / "summary.json").read_text() == '{"again": 1}'
    assert (sweep / "points.parquet").read_text() == "points"
    assert read_marker(sweep)["files"] == {"points.parquet": "sweep"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no old copy left


def test_a_directory_holding_only_a_nested_report_can_become_a_report(tmp_path):
    parent = tmp_path / "report"
    write_report_file(parent / "sweep", "points.parquet", "sweep", lambda p: p.write_text("x"))
    _write_run(parent, {"summary.json": "{}"})
    assert sorted(p.name for p in parent.iterdir()) == [MARKER, "summary.json", "sweep"]
    assert (parent / "sweep" / "points.parquet").read_text() == "x"


def test_a_subdirectory_without_a_marker_is_still_the_users(tmp_path):
    parent = tmp_path / "report"
    _write_run(parent, {"summary.json": "{}"})
    (parent / "mine").mkdir()
    with pytest.raises(OutputRefused, match="holds files simkafka did not write \\(mine\\)"):
        check_report_dir(parent)
