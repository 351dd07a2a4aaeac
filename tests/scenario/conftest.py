"""Shared helpers: run ``simkafka check`` on a file as a user would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from simkafka.cli.main import main

CheckResult = tuple[int, str]


@pytest.fixture
def check_file() -> Callable[..., CheckResult]:
    """``check_file(path, *options)`` -> (exit status, output) of ``simkafka check``."""

    def run(path: Path | str, *options: str) -> CheckResult:
        result = CliRunner().invoke(main, ["check", *options, str(path)])
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        return result.exit_code, result.output

    return run


@pytest.fixture
def check_text(tmp_path: Path, check_file) -> Callable[..., CheckResult]:
    """``check_text(text_or_bytes)`` writes ``s.yaml`` and checks it; messages name ``{tmp}/s.yaml``."""

    def run(content: str | bytes, *options: str) -> CheckResult:
        path = tmp_path / "s.yaml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return check_file(path, *options)

    return run
