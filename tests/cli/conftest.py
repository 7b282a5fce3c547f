"""Fixtures of the command-line tests: a small table of runs and the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]

Runner = Callable[..., subprocess.CompletedProcess[str]]


def cli_env() -> dict[str, str]:
    """The environment of a CLI subprocess: this source tree first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
    )
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


@pytest.fixture
def cli() -> Runner:
    """``cli(*args, cwd=...)``: run ``python -m landaulab ARGS`` and return the result."""

    def run(
        *args: str, cwd: Path | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "landaulab", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=cli_env(),
            cwd=cwd,
        )

    return run


def two_decays(n_seeds: int = 3) -> pd.DataFrame:
    """Runs along train_fraction at two weight decays: only weight decay 1 orders.

    Pooled, the two settings blur the jump of ``m``; sliced, weight decay 1 shows it.
    """
    rng = np.random.default_rng(0)
    rows = []
    run = 0
    for decay in (0.3, 1.0):
        for fraction in np.round(np.linspace(0.2, 0.8, 7), 2):
            for seed in range(n_seeds):
                ordered = 1.0 if (decay == 1.0 and fraction > 0.5) else 0.0
                for step in range(0, 200, 10):
                    rows.append(
                        {
                            "run_id": f"r{run:03d}",
                            "step": step,
                            "weight_decay": decay,
                            "train_fraction": fraction,
                            "seed": seed,
                            "m": ordered * min(1.0, step / 50) + 0.05 * rng.normal(),
                            "loss": 1.0 / (1 + step),
                        }
                    )
                run += 1
    return pd.DataFrame(rows)


@pytest.fixture
def runs_csv(tmp_path: Path) -> Path:
    path = tmp_path / "runs.csv"
    two_decays().to_csv(path, index=False)
    return path


@pytest.fixture
def run_main(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``run_main(*args)``: the CLI in this process; (exit status, stdout, stderr)."""
    from landaulab.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = main(list(args))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run
