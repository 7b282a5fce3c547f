"""Shared test fixtures."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores the same examples on every run (reproducible results); local runs keep
# drawing new ones, so new counterexamples still turn up during development.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def landaulab_cmd() -> list[str]:
    """The command line of the installed CLI (same interpreter as the tests)."""
    return [sys.executable, "-m", "landaulab"]
