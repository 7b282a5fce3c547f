"""Benchmarks fail loudly: a missed goal or a missing anchor exits 1 with one line."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def _run(body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "bench_example.py"
    script.write_text(
        f"import sys\nsys.path.insert(0, {str(BENCHMARKS)!r})\n" + textwrap.dedent(body)
    )
    return subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )


def test_met_goals_exit_zero_and_print_nothing_more(tmp_path: Path) -> None:
    done = _run(
        """
        from _goals import Goals
        goals = Goals()
        goals.at_least("speed-up", 4.0, 3, "x")
        goals.at_most("time", 10.0, 60, " s")
        print("ratio 4.00")
        goals.finish()
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["ratio 4.00"]


def test_a_missed_goal_exits_one_with_one_line_naming_it(tmp_path: Path) -> None:
    done = _run(
        """
        from _goals import Goals
        goals = Goals()
        goals.at_least("LLC throughput", 1.08, 3, "x")
        goals.at_least("trace saving", float("nan"), 3, "x")
        goals.at_most("time", 10.0, 60, " s")
        goals.finish()
        """,
        tmp_path,
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("bench_example: FAILED: goal missed: LLC throughput 1.08x")
    assert "trace saving nan" in lines[0] and "time" not in lines[0]


def test_a_smoke_run_is_not_judged(tmp_path: Path) -> None:
    done = _run(
        """
        from _goals import Goals
        goals = Goals(judged=False)
        goals.at_least("LLC throughput", 1.08, 3, "x")
        goals.finish()
        """,
        tmp_path,
    )
    assert done.returncode == 0 and done.stdout == ""


def test_a_missing_anchor_exits_one_with_one_line(tmp_path: Path) -> None:
    done = _run(
        """
        from _goals import require_anchor
        print(require_anchor("numpy", "numpy", "NumPy").split()[0])
        require_anchor("no_such_module_here", "no-such-module-here", "Baseline")
        print("not reached")
        """,
        tmp_path,
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == "NumPy"
    assert len(lines) == 2 and lines[1].startswith("bench_example: FAILED: anchor Baseline missing")
