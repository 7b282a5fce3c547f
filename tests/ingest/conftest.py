"""Fixtures for the importers: every logging library offline, silent and local."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from landaulab.cli import main

OFFLINE = {
    "WANDB_MODE": "offline",
    "WANDB_SILENT": "true",
    "WANDB_DISABLE_GIT": "true",
    "WANDB_DISABLE_CODE": "true",
    "WANDB_CONSOLE": "off",
    "WANDB_X_DISABLE_STATS": "true",
    "WANDB_X_DISABLE_META": "true",
    "WANDB_DISABLED": "false",
    "MLFLOW_ALLOW_FILE_STORE": "true",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


@pytest.fixture(scope="session")
def offline_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private home for the libraries' caches and settings, with telemetry off."""
    home = tmp_path_factory.mktemp("offline-home")
    saved = {
        k: os.environ.get(k)
        for k in [
            *OFFLINE,
            "WANDB_DIR",
            "WANDB_CACHE_DIR",
            "WANDB_CONFIG_DIR",
            "WANDB_DATA_DIR",
            "HF_HOME",
        ]
    }
    os.environ.update(OFFLINE)
    os.environ["WANDB_CACHE_DIR"] = str(home / "wandb-cache")
    os.environ["WANDB_CONFIG_DIR"] = str(home / "wandb-config")
    os.environ["WANDB_DATA_DIR"] = str(home / "wandb-data")
    os.environ["HF_HOME"] = str(home / "hf")
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit status, stdout, stderr)."""
    capsys.readouterr()
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def store_snapshot(path: Path) -> dict[str, bytes]:
    """Every file under a store (minus lock files), for 'unchanged' checks."""
    if not path.exists():
        return {}
    return {
        str(p.relative_to(path)): p.read_bytes()
        for p in sorted(path.rglob("*"))
        if p.is_file() and "locks" not in p.parts
    }
