"""Every ``bash`` and ``python`` snippet of the README runs, in order, in one folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```(bash|python)\n(.*?)```", re.DOTALL)


def test_readme_snippets_run(tmp_path: Path) -> None:
    blocks = BLOCK.findall(README.read_text())
    assert blocks, "the README has no runnable snippets"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "OMP_NUM_THREADS": "1",
    }
    for kind, code in blocks:
        if kind == "bash":
            command = ["bash", "-euo", "pipefail", "-c", code]
        else:
            command = [sys.executable, "-c", code]
        result = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, f"README {kind} snippet failed:\n{code}\n{result.stderr}"
