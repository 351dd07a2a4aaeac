"""Where simkafka writes its output, and the rule that it never loses a file it did not write.

A *report directory* is one simkafka made: it holds a marker file, :data:`MARKER` (JSON:
tool, version, the last command, and which command wrote each file). Commands only ever

* replace a report directory whole (``run``): the new files are staged in a fresh
  temporary directory beside the target, files other commands recorded in the marker
  (``describe``'s ``placement.png``) are carried over, and the staging directory is
  swapped in. The target must be absent, an empty directory or a report directory whose
  every file is recorded in its marker; anything else (``-o .``, ``-o ~``, a directory
  with the user's files, a file) is refused with :class:`OutputRefused` before any work;
* add or replace one file of a report directory (``describe``), or
* write one file elsewhere (``schema -o``, ``import omb -o``, ``describe --figure``),
  replacing an existing file only if simkafka recognises it as its own output.

A report directory may hold report directories of other commands (``reports/<name>/sweep/``,
with a marker of their own): they are simkafka's, and moved whole into the new directory
when their parent is replaced.

Every write goes to a temporary name and is renamed into place, and Ctrl-C is held back
while the renames happen, so an interrupted command leaves neither a half-written report
nor a stray temporary directory. Only files simkafka recorded are ever deleted, one by
one: there is no ``rmtree`` of a directory the user could have put something in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER = ".simkafka-report"
TOOL = "simkafka"
REPORTS_ROOT = Path("reports")
# NAME_MAX is 255 bytes on common file systems; the staging directory adds a prefix and a
# random suffix to the name, and a name is also shown in tables and titles.
MAX_NAME_LENGTH = 100
# temporary names start with this, so a listing shows whose they are
_STAGING_PREFIX = ".simkafka-"


class OutputRefused(Exception):
    """simkafka will not write there: one line saying why and what to do instead."""


def _version() -> str:
    from simkafka import __version__

    return __version__


def unsafe_name_reason(name: str) -> str | None:
    """Why ``name`` cannot be one path component of a directory name (``None``: it can)."""
    if not name.strip():
        return "it is empty"
    if name in (".", ".."):
        return f"{name!r} names an existing directory, not a new one"
    if "/" in name or "\\" in name:
        return "it contains a path separator"
    if name.startswith("."):
        return "it starts with '.' (a hidden file name)"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "it contains control characters"
    if len(name) > MAX_NAME_LENGTH:
        return f"it is {len(name)} characters long (at most {MAX_NAME_LENGTH})"
    if name != name.strip():
        return "it starts or ends with white space"
    return None


def suggest_name(name: str) -> str:
    """A safe name close to ``name``: lower case, runs of other characters as one '-'."""
    slug = re.sub(r"[^a-z0-9._]+", "-", name.lower()).strip("-.")[:MAX_NAME_LENGTH].strip("-.")
    return slug or "scenario"


def report_dir_for(name: str, root: Path = REPORTS_ROOT) -> Path:
    """The report directory of the scenario called ``name``: ``root/<name>``.

    The name must be one plain path component (no separators, not ``.``/``..``, not
    hidden, at most :data:`MAX_NAME_LENGTH` characters), so no scenario can write
    outside ``root`` or into nested folders. Otherwise :class:`OutputRefused`.
    """
    reason = unsafe_name_reason(name)
    if reason is not None:
        raise OutputRefused(
            f"scenario name {name[: MAX_NAME_LENGTH + 20]!r} cannot name a report directory "
            f"({root}/<name>/): {reason}; rename it (e.g. name: {suggest_name(name)}) "
            "or give the output path explicitly"
        )
    return root / name


def read_marker(directory: Path) -> dict | None:
    """The marker of a report directory, or ``None`` if ``directory`` has no valid one."""
    path = Path(directory) / MARKER
    try:
        if not path.is_file() or path.stat().st_size > 1 << 20:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("tool") != TOOL
        or not isinstance(data.get("files"), dict)
    ):
        return None
    files = data["files"]
    if not all(isinstance(k, str) and unsafe_name_reason(k) is None for k in files):
        return None
    return data


def _describe_foreign(names: list[str]) -> str:
    return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")


# What simkafka wrote into reports/<name>/ before it kept a marker there.
_LEGACY_FILES = {
    **dict.fromkeys(
        (
            "summary.json",
            "report.html",
            "timeseries.parquet",
            "throughput.png",
            "latency.png",
            "lag.png",
            "utilisation.png",
        ),
        "run",
    ),
    "placement.png": "describe",
}


def _legacy_marker(directory: Path, entries: list[str]) -> dict | None:
    """A marker for a report written before markers existed, if it certainly is one.

    Every entry must be a file such a report holds, and its summary.json must say that
    simkafka wrote it; anything else is not taken for simkafka's.
    """
    if "summary.json" not in entries or not set(entries) <= set(_LEGACY_FILES):
        return None
    summary = directory / "summary.json"
    try:
        if summary.stat().st_size > 64 << 20:
            return None
        data = json.loads(summary.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (
        isinstance(data, dict)
        and {"scenario", "seed", "summary", "conservation"} <= set(data)
        and isinstance(data.get("versions"), dict)
        and "simkafka" in data["versions"]
    ):
        return None
    return {"tool": TOOL, "files": {e: _LEGACY_FILES[e] for e in entries}}


def check_report_dir(directory: Path) -> dict | None:
    """Raise :class:`OutputRefused` unless simkafka may replace ``directory``.

    Returns its marker if it is a previous report, ``None`` if it is absent or empty.
    """
    directory = Path(directory)
    if directory.is_symlink():
        raise OutputRefused(
            f"{directory}: is a symbolic link; give the directory it points to, or another path"
        )
    if not directory.exists():
        return None
    if not directory.is_dir():
        raise OutputRefused(f"{directory}: is a file, not a directory; choose another path")
    try:
        entries = sorted(os.listdir(directory))
    except OSError as exc:
        raise OutputRefused(f"{directory}: cannot list it: {exc.strerror or exc}") from None
    if not entries:
        return None
    nested = [e for e in entries if is_nested_report(directory / e)]
    marker = read_marker(directory) or _legacy_marker(
        directory, [e for e in entries if e not in nested]
    )
    if marker is None and nested and len(nested) == len(entries):
        # only other commands' report directories (a sweep's reports/<name>/sweep/): kept
        # whole when this directory is written, as in any report directory
        marker = {"tool": TOOL, "files": {}}
    if marker is None:
        raise OutputRefused(
            f"{directory}: is not empty and is not a simkafka report (no {MARKER} marker); "
            "simkafka does not replace a directory it did not write: choose a new or empty one"
        )
    recorded = set(marker["files"])
    foreign = [
        e
        for e in entries
        if e != MARKER
        and e not in nested
        and (e not in recorded or not (directory / e).is_file())
    ]
    if foreign:
        raise OutputRefused(
            f"{directory}: holds files simkafka did not write ({_describe_foreign(foreign)}); "
            "move them out or choose another directory"
        )
    return marker


def is_nested_report(path: Path) -> bool:
    """A directory inside a report directory that is a report directory of its own (the
    one ``simkafka sweep`` keeps in ``reports/<name>/sweep/``): simkafka's, never a file
    another command may delete, and carried over whole when its parent is replaced."""
    return path.is_dir() and not path.is_symlink() and read_marker(path) is not None


def default_dir_mode() -> int:
    """The mode ``mkdir`` gives a new directory under the current umask (``mkdtemp``: 0700)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


@contextmanager
def sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C back for a few renames; raise ``KeyboardInterrupt`` after them if pressed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(
            signal.SIGINT, previous if previous is not None else signal.default_int_handler
        )
    if pressed:
        raise KeyboardInterrupt


def _marker_text(command: str, files: dict[str, str]) -> str:
    return (
        json.dumps(
            {
                "tool": TOOL,
                "version": _version(),
                "command": command,
                "files": dict(sorted(files.items())),
            },
            indent=2,
        )
        + "\n"
    )


def _link_or_copy(source: Path, target: Path) -> None:
    # a hard link leaves the old report whole until the swap; a copy where links fail
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _remove_recorded(directory: Path, marker: dict | None) -> None:
    """Delete the recorded files and the marker of an old report, then the directory if empty."""
    names = list(marker["files"]) if marker else []
    for name in [*names, MARKER]:
        path = directory / name
        if path.is_symlink() or path.is_file():
            path.unlink()  # a link itself, never what it points to
    try:
        directory.rmdir()
    except OSError:
        # something appeared in it meanwhile: leave it (hidden, named .simkafka-old-...)
        pass


@contextmanager
def staged_report_dir(directory: Path, command: str) -> Iterator[Path]:
    """Write a whole report directory: yields the staging directory to write the files into.

    On normal exit the staged files replace ``directory`` (see the module docstring); on
    any exception, Ctrl-C included, the staging directory is removed and ``directory`` is
    left as it was.
    """
    directory = Path(directory)
    check_report_dir(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{directory.name[:40]}-", dir=directory.parent)
    )
    try:
        yield staging
        _install(staging, directory, command)
    except BaseException:
        _remove_staging(staging)
        raise


def _remove_staging(staging: Path) -> None:
    # the staging directory is a fresh mkdtemp only this process wrote into
    shutil.rmtree(staging, ignore_errors=True)


def _install(staging: Path, directory: Path, command: str) -> None:
    written = sorted(p.name for p in staging.iterdir())
    # the target may have changed while the report was computed: check it again
    marker = check_report_dir(directory)
    files = dict.fromkeys(written, command)
    if marker is not None:
        for name, by in marker["files"].items():
            old = directory / name
            if by != command and name not in files and old.is_file():
                _link_or_copy(old, staging / name)
                files[name] = by
    (staging / MARKER).write_text(_marker_text(command, files), encoding="utf-8")
    os.chmod(staging, default_dir_mode())
    with sigint_deferred():
        if not directory.exists():
            staging.rename(directory)
        elif marker is None:
            directory.rmdir()  # empty, checked above; fails rather than lose a new arrival
            staging.rename(directory)
        else:
            old = Path(
                tempfile.mkdtemp(
                    prefix=f"{_STAGING_PREFIX}old-{directory.name[:40]}-", dir=directory.parent
                )
            )
            old.rmdir()  # only a fresh unused name was wanted
            directory.rename(old)
            try:
                staging.rename(directory)
            except OSError:
                old.rename(directory)  # put the previous report back
                raise
            for entry in sorted(os.listdir(old)):
                if is_nested_report(old / entry) and not (directory / entry).exists():
                    # another command's report directory: moved whole into the new one
                    # (a rename, so nothing of it is copied or lost)
                    (old / entry).rename(directory / entry)
            _remove_recorded(old, marker)


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """``write(temporary)`` beside ``path``, then rename it into place."""
    fd, temp_name = tempfile.mkstemp(
        prefix=f"{_STAGING_PREFIX}{path.name[:40]}-", suffix=path.suffix, dir=path.parent
    )
    os.close(fd)
    temp = Path(temp_name)
    try:
        write(temp)
        # mkstemp makes the file 0600: give it the mode an ordinary new file gets
        os.chmod(temp, default_dir_mode() & 0o666)
        with sigint_deferred():
            os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def write_report_file(
    directory: Path, filename: str, command: str, write: Callable[[Path], None]
) -> Path:
    """Add or replace one file of the report directory ``directory`` (made if absent).

    ``directory`` must be absent, empty or a report directory (:func:`check_report_dir`);
    the file is recorded in its marker as written by ``command``.
    """
    directory = Path(directory)
    marker = check_report_dir(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = dict(marker["files"]) if marker else {}
    files[filename] = command
    with sigint_deferred():
        # recorded before it exists: an interruption leaves a marker naming a missing
        # file (harmless), never a file the next run would take for the user's
        _atomic_write(directory / MARKER, lambda p: p.write_text(_marker_text(command, files)))
        _atomic_write(directory / filename, write)
    return directory / filename


def write_own_file(
    path: Path,
    write: Callable[[Path], None],
    *,
    command: str,
    is_ours: Callable[[Path], bool],
    force: bool = True,
) -> Path:
    """Write the single file ``path`` atomically, never over a file simkafka did not write.

    An existing ``path`` is replaced only if ``is_ours(path)`` recognises it as simkafka's
    output (and ``force``); inside a report directory the marker decides instead.
    """
    path = Path(path)
    if read_marker(path.parent) is not None:
        return write_report_file(path.parent, path.name, command, write)
    check_own_file(path, is_ours=is_ours, force=force)
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, write)
    return path


def write_own_text(
    path: Path | str,
    text: str,
    *,
    command: str,
    is_ours: Callable[[Path], bool],
    force: bool = True,
) -> Path:
    """:func:`write_own_file` for a UTF-8 text file."""
    return write_own_file(
        Path(path),
        lambda temporary: temporary.write_text(text, encoding="utf-8"),
        command=command,
        is_ours=is_ours,
        force=force,
    )


def file_head(path: Path | str, size: int = 4096) -> str:
    """The first ``size`` characters of a text file, ``""`` if it cannot be read as UTF-8:
    enough to recognise the header simkafka puts at the top of its own outputs."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(size)
    except (OSError, UnicodeDecodeError):
        return ""


def check_own_file(path: Path, *, is_ours: Callable[[Path], bool], force: bool = True) -> None:
    """Raise :class:`OutputRefused` unless :func:`write_own_file` may write ``path``."""
    path = Path(path)
    if read_marker(path.parent) is not None:
        check_report_dir(path.parent)
        return
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise OutputRefused(f"{path}: exists and is not a regular file; choose another path")
    if path.exists():
        if not is_ours(path):
            raise OutputRefused(
                f"{path}: exists and was not written by simkafka; "
                "simkafka does not overwrite it: remove it yourself or choose another path"
            )
        if not force:
            raise OutputRefused(f"{path}: already exists (use --force to overwrite)")


def png_software(path: Path) -> str | None:
    """The ``Software`` text of a PNG file (what wrote it), or ``None``."""
    try:
        with open(path, "rb") as handle:
            if handle.read(8) != b"\x89PNG\r\n\x1a\n":
                return None
            while True:
                header = handle.read(8)
                if len(header) < 8:
                    return None
                length, kind = struct.unpack(">I4s", header)
                if kind in (b"IDAT", b"IEND") or length > 1 << 20:
                    return None
                body = handle.read(length)
                handle.read(4)  # CRC
                if kind == b"tEXt":
                    key, _, value = body.partition(b"\0")
                    if key == b"Software":
                        return value.decode("latin-1")
    except OSError:
        return None


def software_tag(command: str) -> str:
    """What simkafka writes into the ``Software`` field of its figures."""
    return f"{TOOL} {_version()} {command}"


def is_simkafka_png(path: Path) -> bool:
    software = png_software(path)
    return software is not None and software.startswith(f"{TOOL} ")
