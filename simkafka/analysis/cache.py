"""Finished sweep points on disk, so an interrupted sweep resumes where it stopped.

One append-only JSON-lines file: a header line saying simkafka wrote it, then one line per
finished point, ``{"key": ..., "summary": {...}}``. A point's key is a SHA-256 of its full
scenario (canonical JSON, its seed included), its engine and simkafka's version, so a
changed scenario, engine or simkafka never reuses an old result. Appending one line per
point means an interruption loses at most the line being written, which is skipped on
reading. A file that does not start with the header is not simkafka's: it is never
appended to or replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from simkafka.scenario import Scenario

__all__ = ["HEADER", "CacheRefused", "ResultCache", "point_key"]

HEADER = {"tool": "simkafka", "kind": "sweep-cache", "format": 1}


class CacheRefused(ValueError):
    """The cache path holds something simkafka did not write."""


def _simkafka_version() -> str:
    from simkafka import __version__

    return __version__


def point_key(scenario: Scenario) -> str:
    """The cache key of a point: its scenario, engine and simkafka's version."""
    text = json.dumps(
        {
            "scenario": scenario.model_dump(mode="json", by_alias=True),
            "engine": scenario.run.engine,
            "simkafka": _simkafka_version(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ResultCache:
    """``cache.get(key)`` / ``cache.put(key, summary)`` over one JSON-lines file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._entries: dict[str, dict[str, Any]] = {}
        if self.path.is_symlink() or (self.path.exists() and not self.path.is_file()):
            raise CacheRefused(f"{self.path}: exists and is not a regular file; choose another output")
        if self.path.exists():
            self._read()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # O_EXCL: a file that appeared meanwhile is not taken over
            with open(self.path, "x", encoding="utf-8") as handle:
                handle.write(json.dumps(HEADER) + "\n")

    def _read(self) -> None:
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            first = handle.readline()
            try:
                header = json.loads(first)
            except ValueError:
                header = None
            if header != HEADER:
                raise CacheRefused(
                    f"{self.path}: exists and was not written by simkafka; simkafka does not "
                    "overwrite it: move it away or choose another output"
                )
            for line in handle:
                if not line.endswith("\n"):
                    break  # the line an interruption cut short
                try:
                    entry = json.loads(line)
                    self._entries[str(entry["key"])] = dict(entry["summary"])
                except (ValueError, KeyError, TypeError):
                    continue

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> dict[str, Any] | None:
        return self._entries.get(key)

    def put(self, key: str, summary: dict[str, Any]) -> None:
        """Record a finished point: one line, written whole and flushed to disk."""
        line = json.dumps({"key": key, "summary": summary}) + "\n"
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        self._entries[key] = summary
