"""Figure functions: a figure for usable input, None (never an exception) for empty input."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from landaulab.estimate import Estimate
from landaulab.report import figures
from landaulab.report.results import Curve, TransitionTime


def _table() -> pd.DataFrame:
    controls = np.linspace(0.5, 1.5, 6)
    return pd.DataFrame(
        {
            "control": np.tile(controls, 2),
            "size": np.repeat([10.0, 20.0], 6),
            "mean": np.tile(np.clip(1.0 - controls, 0, None), 2),
            "mean_stderr": 0.01,
            "susceptibility": np.tile(1.0 / (0.05 + np.abs(controls - 1.0)), 2),
            "binder": np.tile(np.linspace(0.66, 0.1, 6), 2),
        }
    )


def test_every_figure_draws_usable_input() -> None:
    critical = Estimate(1.0, (0.95, 1.05), "susceptibility_peak")
    table = _table()
    grid = pd.DataFrame(
        np.random.default_rng(0).random((3, 4)), index=[0.2, 0.3, 0.4], columns=[0.1, 0.3, 1.0, 3.0]
    )
    x = np.linspace(-1, 1, 21)
    well = Curve(x=x, y=x**4 - x**2, control=0.8, size=20.0, fit=x**4 - x**2, minima=(-0.7, 0.7))
    frame = pd.DataFrame(
        {
            "run_id": np.repeat([0, 1], 10),
            "step": np.tile(np.arange(10), 2),
            "lr": np.repeat([0.1, 0.2], 10),
            "acc": np.linspace(0, 1, 20),
        }
    )
    made = [
        figures.phase_diagram(
            grid, x_label="wd", y_label="f", value_label="acc", critical=critical, critical_row=0.3
        ),
        figures.order_parameter(
            table,
            control_label="T",
            value_label="m",
            size_name="N",
            critical=critical,
            beta=Estimate(0.5, (0.4, 0.6)),
        ),
        figures.susceptibility(table, control_label="T", size_name="N", critical=critical),
        figures.free_energy([well], control_label="T", value_label="m"),
        figures.effective_potential([well], control_label="T", value_label="m"),
        figures.collapse(
            [Curve(x=x, y=x, size=10.0), Curve(x=x, y=x, size=20.0)],
            control_label="T",
            value_label="m",
            parameters={"nu": Estimate(1.0, (0.9, 1.1))},
        ),
        figures.trajectories(
            frame,
            order_parameter="acc",
            control="lr",
            value_label="acc",
            control_label="lr",
            times=[TransitionTime("0", 4.5)],
        ),
        figures.transition_times(
            [TransitionTime("0", 4.5), TransitionTime("1", 2.0)],
            {"0": 0.1, "1": 0.2},
            control_label="lr",
        ),
    ]
    assert all(isinstance(f, Figure) for f in made)
    minima = figures.local_minima(x, x**4 - x**2)
    np.testing.assert_allclose(minima, [-0.7, 0.7], atol=0.05)  # ±1/√2 on the grid


def test_the_effective_potential_is_drawn_only_where_attractors_exist() -> None:
    x = np.linspace(-1, 1, 21)
    flat = Curve(x=x, y=x**4 - x**2, control=0.8)  # no attractor found by the dynamics
    assert figures.effective_potential([flat], control_label="T", value_label="m") is None
    well = Curve(x=x, y=x**4 - x**2, control=0.9, minima=(-0.7, 0.7))
    drawn = figures.effective_potential([flat, well], control_label="T", value_label="m")
    assert drawn is not None
    (axes,) = drawn.axes
    assert [line.get_label() for line in axes.lines if line.get_linestyle() == "-"] == ["T = 0.9"]


def test_runs_of_different_sizes_are_never_averaged_together() -> None:
    runs = pd.DataFrame(
        {
            "control": [0.1, 0.1, 0.2, 0.2],
            "value": [0.0, 1.0, 0.0, 1.0],
            "size": [10.0, 20.0, 10.0, 20.0],
        }
    )
    drawn = figures.order_parameter_runs(runs, control_label="f", value_label="m", size_name="p")
    assert drawn is not None
    (axes,) = drawn.axes
    means = {line.get_label(): list(line.get_ydata()) for line in axes.lines}
    assert means == {"mean, p = 10": [0.0, 0.0], "mean, p = 20": [1.0, 1.0]}


def test_empty_input_gives_no_figure() -> None:
    empty = pd.DataFrame(columns=["control", "size", "mean"])
    assert figures.phase_diagram(pd.DataFrame(), x_label="", y_label="", value_label="") is None
    assert figures.order_parameter(empty, control_label="", value_label="") is None
    assert figures.susceptibility(empty, control_label="") is None
    assert figures.free_energy([], control_label="", value_label="") is None
    assert figures.effective_potential([], control_label="", value_label="") is None
    assert figures.collapse([], control_label="", value_label="") is None
    assert (
        figures.trajectories(
            pd.DataFrame(), order_parameter="a", control="b", value_label="", control_label=""
        )
        is None
    )
    assert figures.transition_times([], {}, control_label="") is None


def test_render_is_reproducible() -> None:
    figure = figures.new_figure()
    figure.add_subplot().plot([0, 1], [0, 1])
    first, second = figures.render(figure), figures.render(figure)
    assert first.png == second.png and first.pdf == second.pdf
    assert first.pdf.startswith(b"%PDF")
