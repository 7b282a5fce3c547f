"""The structure of the analysis: named warnings reach the caller, a new way to locate T_c
is one module and one entry of the locator registry, and the modules of the package import
no circle."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import landaulab.analyze as analyze_package
from landaulab.analyze import critical_point, locators
from landaulab.analyze.critical_point import ORDERS, Candidate, Location, Locator, LocatorContext
from landaulab.datasets import SECOND_ORDER, planted_landau
from landaulab.errors import FewSamplesWarning, FitWarning

from .conftest import run_analysis


def _few_runs() -> pd.DataFrame:
    return planted_landau(
        np.linspace(0.6, 1.4, 9), [500, 1000], model=SECOND_ORDER, n_runs=2, n_steps=60, seed=7
    )


def test_few_runs_per_group_warn_and_say_so():
    with pytest.warns(FewSamplesWarning, match="blocks of steps"):
        result = run_analysis(_few_runs(), n_bootstrap=50)
    assert any(e.startswith("Fewer than 4 runs") for e in result.evidence)


def test_dropped_landau_fits_warn_without_changing_the_result():
    rng = np.random.default_rng(0)
    runs, steps, temps = 8, 40, np.linspace(0.5, 1.5, 6)
    frame = pd.DataFrame(
        {
            "run_id": np.repeat(np.arange(runs * temps.size), steps),
            "step": np.tile(np.arange(steps), runs * temps.size),
            "temperature": np.repeat(temps, runs * steps),
            "m": 0.5 + 0.0 * rng.normal(size=runs * steps * temps.size),
        }
    )
    with pytest.warns(FitWarning, match="Landau fits dropped"):
        warned = run_analysis(frame, size=None, n_bootstrap=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quiet = run_analysis(frame, size=None, n_bootstrap=50)
    assert warned.to_dict() == quiet.to_dict()
    assert "landau" in warned.not_estimable


def test_well_sampled_analysis_raises_no_named_warning(curie_weiss_frame):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitWarning)
        warnings.simplefilter("error", FewSamplesWarning)
        run_analysis(curie_weiss_frame, n_bootstrap=50)


def _midpoint_locator(reason: str | None):
    def locate_midpoint(context: LocatorContext) -> Location:
        largest = context.largest
        located = critical_point.Located(
            value=float(np.median(largest.t)),
            replicates=np.full(context.n_bootstrap, float(np.median(largest.t))),
            method="midpoint",
            detail="",
        )
        candidate = Candidate(located, (largest.size,), "the middle of the range", reason)
        return Location(candidates=(candidate,), chosen=candidate, evidence=("midpoint used",))

    return Locator("midpoint", locate_midpoint)


def test_a_new_locator_is_one_registry_entry(curie_weiss_frame, monkeypatch):
    before = run_analysis(curie_weiss_frame, n_bootstrap=50)
    monkeypatch.setattr(
        locators, "LOCATORS", (*locators.LOCATORS, _midpoint_locator("not a measurement"))
    )
    after = run_analysis(curie_weiss_frame, n_bootstrap=50)
    midpoint = [e for e in after.critical_point_estimates if e.method == "midpoint"]
    assert len(midpoint) == 1
    assert midpoint[0].value == pytest.approx(1.0)
    assert not midpoint[0].valid and midpoint[0].reason == "not a measurement"
    assert "midpoint used" in after.evidence
    # an estimate that failed its check never changes the headline
    assert after.critical_point == before.critical_point
    assert [e for e in after.critical_point_estimates if e.method != "midpoint"] == list(
        before.critical_point_estimates
    )


def test_a_valid_new_locator_competes_by_its_interval(curie_weiss_frame, monkeypatch):
    """A valid estimate with a zero-width interval at the truth is the most precise: it
    becomes the headline without editing any ranking."""
    monkeypatch.setattr(locators, "LOCATORS", (*locators.LOCATORS, _midpoint_locator(None)))
    after = run_analysis(curie_weiss_frame, n_bootstrap=50)
    assert after.critical_point.method == "midpoint"
    assert after.critical_point.contains(1.0)


def test_every_registered_locator_has_a_unique_name():
    names = [locator.name for locator in locators.LOCATORS]
    assert len(names) == len(set(names))
    for locator in locators.LOCATORS:
        assert set(locator.orders) <= set(ORDERS), locator.name
        assert locator.elsewhere


def test_the_shared_locator_types_import_no_locator():
    tree = ast.parse(Path(critical_point.__file__).read_text(encoding="utf-8"))
    imported = [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    ]
    assert imported and not [m for m in imported if m.startswith("landaulab.analyze.locators")]


def _runtime_imports(path: Path) -> set[str]:
    """Modules of the package imported by ``path`` at run time (TYPE_CHECKING excluded)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module:
                parts = child.module.split(".")
                if parts[:2] == ["landaulab", "analyze"] and len(parts) > 2:
                    found.add(parts[2])
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_no_import_circle_inside_the_package():
    root = Path(analyze_package.__file__).parent
    graph = {p.stem: _runtime_imports(p) - {p.stem} for p in root.glob("*.py")}

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for module in graph.get(start, ()):
            if module == target:
                return True
            if module not in seen:
                seen.add(module)
                if reaches(module, target, seen):
                    return True
        return False

    circles = [m for m in graph if reaches(m, m, set())]
    assert circles == []


def test_api_keeps_only_the_pipeline():
    source = Path(analyze_package.__file__).with_name("api.py").read_text(encoding="utf-8")
    assert len(source.splitlines()) <= 250
