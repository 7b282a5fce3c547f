"""Usage errors of the command line: one line, exit status 2, no traceback."""

from __future__ import annotations

import pytest

from landaulab.cli import main


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["analyze", "x.csv"], "--order-parameter"),
        (["sweep", "quick", "--workers", "0"], "--workers"),
        (["no-such-command"], "no-such-command"),
        (["status", "--jsn"], "--jsn"),
    ],
)
def test_usage_error_is_one_line_and_status_2(
    argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in err


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "sweep" in capsys.readouterr().out
