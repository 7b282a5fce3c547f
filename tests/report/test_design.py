"""The phase diagram of an irregular control design: points at each run's control."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection, QuadMesh

from landaulab.estimate import Estimate
from landaulab.report import figures
from landaulab.report.api import _Figures, _Inputs, _irregular, _phase_section
from landaulab.report.findings import Findings, RoleChoice
from landaulab.report.results import AnalysisView, DynamicsView

RNG = np.random.default_rng(0)
CONTROLS = np.sort(RNG.uniform(0.5, 1.5, 120))


def _time_map() -> tuple[pd.DataFrame, np.ndarray]:
    edges = np.linspace(0.0, 100.0, 11)
    values = np.maximum(1.0 - CONTROLS, 0.0)[None, :] * np.linspace(0.1, 1.0, 10)[:, None]
    return pd.DataFrame(values, columns=CONTROLS), edges


def _kinds(figure) -> set[type]:
    return {type(c) for axes in figure.axes[:1] for c in axes.collections}


def test_scattered_time_map_draws_points_at_the_controls() -> None:
    grid, edges = _time_map()
    drawn = figures.phase_diagram(
        grid,
        x_label="T",
        y_label="step",
        value_label="m",
        critical=Estimate(1.0, (0.98, 1.02)),
        time_edges=edges,
        scattered=True,
    )
    assert drawn is not None
    assert PathCollection in _kinds(drawn) and QuadMesh not in _kinds(drawn)
    points = next(c for c in drawn.axes[0].collections if isinstance(c, PathCollection))
    offsets = np.asarray(points.get_offsets())
    assert offsets.shape == (grid.size, 2)
    np.testing.assert_allclose(np.unique(offsets[:, 0]), CONTROLS)  # real control values
    np.testing.assert_allclose(np.unique(offsets[:, 1]), 0.5 * (edges[:-1] + edges[1:]))


def test_scattered_two_control_diagram_and_the_grid_heat_map() -> None:
    second = RNG.uniform(0.0, 1.0, CONTROLS.size)
    runs = pd.DataFrame({"T": CONTROLS, "f": second, "value": 1.0 - CONTROLS})
    grid = runs.pivot_table(index="f", columns="T", values="value")
    drawn = figures.phase_diagram(
        grid,
        x_label="T",
        y_label="f",
        value_label="m",
        critical=Estimate(1.0, (0.98, 1.02)),
        critical_row=float(second[0]),
        scattered=True,
    )
    assert drawn is not None and PathCollection in _kinds(drawn)
    heat = figures.phase_diagram(
        _time_map()[0].iloc[:, :5], x_label="T", y_label="", value_label=""
    )
    assert heat is not None and QuadMesh in _kinds(heat)


def _inputs(analysis_design: str | None, dynamics_design: str | None = None) -> _Inputs:
    grid, edges = _time_map()
    findings = Findings(
        source="test",
        roles=RoleChoice(order_parameter="m", control="T", swept=("T",)),
        runs=pd.DataFrame({"run_id": np.arange(CONTROLS.size), "T": CONTROLS, "value": 0.5}),
        time_map=grid,
        time_edges=tuple(edges),
    )
    return _Inputs(
        findings=findings,
        analysis=AnalysisView(available=analysis_design is not None, design=analysis_design),
        dynamics=DynamicsView(available=dynamics_design is not None, design=dynamics_design),
    )


def test_the_design_is_read_from_the_results_else_recognised_from_the_runs() -> None:
    assert _irregular(_inputs("irregular"))
    assert not _irregular(_inputs("grid"))
    assert _irregular(_inputs("grid", "irregular"))
    assert _irregular(_inputs(None))  # 120 runs, each at its own control


def test_the_phase_section_says_the_points_are_runs(tmp_path: Path) -> None:
    drawn = _Figures(directory=tmp_path)
    section = _phase_section(_inputs("irregular"), drawn)
    assert "phase_diagram" in drawn.saved
    assert "drawn as a point" in section.figures[0].caption
