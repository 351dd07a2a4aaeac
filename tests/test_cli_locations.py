"""Error locations survive the terminal output (issue 9, found by the fuzzer)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from simkafka.cli.main import main


def test_an_error_on_line_100_is_printed_as_file_colon_100(tmp_path: Path) -> None:
    # rich replaced ":100:" in "scenario.yaml:100:3" by an emoji
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("#\n" * 99 + "cluster: {brokers: -3}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(scenario)])
    assert result.exit_code == 2
    assert f"{scenario}:100:" in result.stderr
    assert "\N{HUNDRED POINTS SYMBOL}" not in result.stderr
