"""Stores and reports shared by the report tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from landaulab.api import report
from landaulab.report import ReportResult
from tests.report.planted import first_order_store, grokking_store

#: Cheap settings: the tests check the report, not the precision of the estimates.
FAST = {
    "analysis_options": {"n_bootstrap": 100},
    "dynamics_options": {"n_bootstrap": 40},
}


@pytest.fixture(scope="session")
def first_order_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the planted first-order Landau ensemble (transition at T* = 1.25)."""
    path = tmp_path_factory.mktemp("first-order") / "store"
    first_order_store(path)
    return path


@pytest.fixture(scope="session")
def first_order_report(first_order_path: Path) -> ReportResult:
    """The report of :func:`first_order_path`, with every column chosen automatically."""
    return report(first_order_path, output=first_order_path.parent / "out" / "report.html", **FAST)


@pytest.fixture(scope="session")
def grokking_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of planted grokking runs over weight decay × training fraction."""
    path = tmp_path_factory.mktemp("grokking") / "store"
    grokking_store(path)
    return path


@pytest.fixture(scope="session")
def grokking_report(grokking_path: Path) -> ReportResult:
    """The report of :func:`grokking_path` (columns chosen automatically)."""
    return report(grokking_path, output=grokking_path.parent / "grokking.html", **FAST)
