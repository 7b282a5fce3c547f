"""The tutorial's code blocks run in order in one session, and their checks hold."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib

TUTORIAL = Path(__file__).resolve().parents[1] / "docs" / "tutorial.md"


def test_tutorial_runs(tmp_path: Path) -> None:
    matplotlib.use("Agg")
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(), re.DOTALL)
    assert len(blocks) >= 5
    namespace: dict[str, object] = {"__name__": "__tutorial__"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for block in blocks:
            exec(compile(block, str(TUTORIAL), "exec"), namespace)
    finally:
        os.chdir(cwd)
