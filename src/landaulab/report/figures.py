"""The figures of a report, one function per figure (matplotlib, Agg canvas, no pyplot).

Every function takes plain tables and result views and returns a
:class:`matplotlib.figure.Figure`, or ``None`` when it has nothing to draw (the report then
says why). Figures are built on :class:`~matplotlib.figure.Figure` directly, so making a
report never touches the global pyplot state or the user's interactive backend.
:func:`render` turns a figure into PNG and PDF bytes; :func:`save` writes them atomically.

Methods drawn: the phase diagram as a heat map of the late-time order parameter (as
scattered points on numeric axes for an irregular control design); ⟨m⟩,
χ = V·Var(m) and the Binder cumulant U₄ = 1 − ⟨m⁴⟩/(3⟨m²⟩²) (Binder 1981, Z. Phys. B 43,
119) with the estimated T_c; the Landau free energy F(m) = −log P(m)/V with its fit and
minima (Landau 1937); the finite-size-scaling collapse y·L^ρ against (T − T_c)·L^(1/ν)
(Houdayer & Hartmann 2004, arXiv:cond-mat/0402036); the effective potential from the drift
of the dynamics; trajectories with their detected transition times.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from landaulab.estimate import Estimate
from landaulab.files import write_bytes_atomic
from landaulab.report.formatting import estimate, human, plain, symbol
from landaulab.report.results import Curve, TransitionTime

#: Reference values of the Binder cumulant at T_c (KNOWN_ANSWERS: Curie–Weiss, 2D Ising).
BINDER_MEAN_FIELD = 0.2705
BINDER_ISING_2D = 0.61
#: Resolution of the PNG files and of the figures embedded in the HTML.
DPI = 130
#: Most free-energy panels drawn.
MAX_LANDSCAPES = 6
#: Most runs drawn in a trajectory panel.
MAX_TRAJECTORIES = 60

_SIZE_COLOURS = colormaps["tab10"]
_CONTROL_MAP = colormaps["viridis"]
_CRITICAL = "#c0392b"


@dataclass(frozen=True)
class Rendered:
    """A figure rendered to bytes."""

    png: bytes
    pdf: bytes


def new_figure(width: float = 6.4, height: float = 4.2, **kwargs: Any) -> Figure:
    """A figure on an Agg canvas with a constrained layout."""
    figure = Figure(figsize=(width, height), layout="constrained", **kwargs)
    FigureCanvasAgg(figure)
    return figure


def render(figure: Figure) -> Rendered:
    """PNG and PDF bytes of ``figure`` (reproducible: no timestamps in the files)."""
    png, pdf = io.BytesIO(), io.BytesIO()
    figure.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
    figure.savefig(
        pdf, format="pdf", metadata={"CreationDate": None, "Creator": None, "Producer": None}
    )
    return Rendered(png=png.getvalue(), pdf=pdf.getvalue())


def save(rendered: Rendered, directory: Path, name: str) -> tuple[Path, Path]:
    """Write ``name.png`` and ``name.pdf`` into ``directory`` atomically; return both paths."""
    png_path, pdf_path = directory / f"{name}.png", directory / f"{name}.pdf"
    write_bytes_atomic(png_path, rendered.png)
    write_bytes_atomic(pdf_path, rendered.pdf)
    return png_path, pdf_path


# ------------------------------------------------------------------------ helpers
def _size_label(size_name: str | None, size: float | None) -> str:
    if size is None or not np.isfinite(size):
        return "data"
    return f"{human(size_name or 'size')} = {plain(size, 4)}"


def _mark_critical(axes: Axes, critical: Estimate | None, label: bool = True) -> None:
    if critical is None or critical.value is None:
        return
    if critical.low is not None and critical.high is not None:
        axes.axvspan(critical.low, critical.high, color=_CRITICAL, alpha=0.12, lw=0)
    text = f"critical point {estimate(critical.value, critical.ci)}" if label else None
    axes.axvline(critical.value, color=_CRITICAL, ls="--", lw=1.2, label=text)


def _sizes(table: pd.DataFrame) -> list[float]:
    values = pd.to_numeric(table["size"], errors="coerce").to_numpy(dtype=float)
    finite_sizes = sorted(set(values[np.isfinite(values)].tolist()))
    return finite_sizes or [float("nan")]


def _size_rows(table: pd.DataFrame, size: float) -> pd.DataFrame:
    if np.isnan(size):
        return table[pd.to_numeric(table["size"], errors="coerce").isna()].sort_values("control")
    return table[table["size"] == size].sort_values("control")


def _column(table: pd.DataFrame, name: str) -> np.ndarray | None:
    if name not in table.columns:
        return None
    values = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
    return values if np.isfinite(values).any() else None


def local_minima(x: np.ndarray, y: np.ndarray, *, edges: bool = True) -> np.ndarray:
    """Positions of the interior local minima of y(x); with ``edges`` also an end point
    that is the global minimum."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 3:
        return x[[int(np.argmin(y))]] if x.size and edges else np.zeros(0)
    order = np.argsort(x)
    x, y = x[order], y[order]
    interior = np.flatnonzero((y[1:-1] < y[:-2]) & (y[1:-1] <= y[2:])) + 1
    found = list(x[interior])
    best = int(np.argmin(y))
    if edges and best in (0, x.size - 1):
        found.append(x[best])
    return np.array(sorted(found))


def _merge_close(values: Sequence[float], tolerance: float) -> np.ndarray:
    merged: list[float] = []
    for value in sorted(values):
        if not merged or value - merged[-1] > tolerance:
            merged.append(value)
    return np.array(merged)


def _log_scale_if_wide(axes: Axes, values: np.ndarray) -> None:
    """Use a logarithmic x axis when positive controls span more than a factor of 30."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size >= 3 and values.min() > 0 and values.max() / values.min() > 30:
        axes.set_xscale("log")


def _positions(values: Sequence[float] | np.ndarray) -> np.ndarray:
    return np.arange(len(values), dtype=float)


def _fractional_position(values: np.ndarray, target: float) -> float | None:
    """Where ``target`` falls on a categorical axis of sorted ``values`` (interpolated)."""
    if values.size < 2 or not values[0] <= target <= values[-1]:
        return None
    return float(np.interp(target, values, np.arange(values.size)))


# ------------------------------------------------------------------ phase diagram
def phase_diagram(
    grid: pd.DataFrame,
    *,
    x_label: str,
    y_label: str,
    value_label: str,
    critical: Estimate | None = None,
    critical_row: float | None = None,
    time_edges: np.ndarray | None = None,
    scattered: bool = False,
) -> Figure | None:
    """Heat map of the late-time order parameter over two controls.

    Parameters
    ----------
    grid
        Values with rows = the second control (or time bins) and columns = the control.
    x_label, y_label, value_label
        Axis and colour-bar labels.
    critical
        The critical point on the x control, drawn as a dashed line.
    critical_row
        The row (value of the second control) the critical point belongs to; the mark is
        then drawn across that row only. ``None``: across the whole diagram.
    time_edges
        Bin edges when the rows are training time (a control × time diagram).
    scattered
        Draw every finite cell as a point at its control values on numeric axes instead
        of a heat map with one column per value (an irregular control design, whose values
        rarely repeat).
    """
    if grid.empty or not np.isfinite(grid.to_numpy(dtype=float)).any():
        return None
    if scattered:
        return _phase_points(
            grid,
            x_label=x_label,
            y_label=y_label,
            value_label=value_label,
            critical=critical,
            critical_row=critical_row,
            time_edges=time_edges,
        )
    values = grid.to_numpy(dtype=float)
    xs = np.asarray(grid.columns, dtype=float)
    figure = new_figure(6.4, 4.6)
    axes = figure.add_subplot()
    finite_values = values[np.isfinite(values)]
    norm = Normalize(float(finite_values.min()), float(finite_values.max()) or 1.0)
    x_edges = np.arange(xs.size + 1) - 0.5
    if time_edges is not None and time_edges.size == values.shape[0] + 1:
        mesh = axes.pcolormesh(
            x_edges,
            time_edges,
            np.ma.masked_invalid(values),
            cmap="magma",
            norm=norm,
            shading="flat",
        )
    else:
        ys = np.asarray(grid.index, dtype=float)
        y_edges = np.arange(ys.size + 1) - 0.5
        mesh = axes.pcolormesh(
            x_edges, y_edges, np.ma.masked_invalid(values), cmap="magma", norm=norm, shading="flat"
        )
        axes.set_yticks(_positions(ys), [plain(v, 3) for v in ys])
        # cell values only where each cell is wide enough to hold one
        if values.size <= 144 and values.shape[1] <= 12:
            for i in range(values.shape[0]):
                for j in range(values.shape[1]):
                    if np.isfinite(values[i, j]):
                        shade = norm(values[i, j])
                        axes.text(
                            j,
                            i,
                            plain(values[i, j], 2),
                            ha="center",
                            va="center",
                            fontsize=8,
                            color="black" if shade > 0.6 else "white",
                        )
    # many irregular columns (a refined line): vertical labels, so none overlap
    crowded = xs.size > 10
    axes.set_xticks(
        _positions(xs),
        [plain(v, 3) for v in xs],
        rotation=90 if crowded else 0,
        fontsize=8 if crowded else None,
    )
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    colourbar = figure.colorbar(mesh, ax=axes)
    colourbar.set_label(value_label)
    if critical is not None and critical.value is not None:
        where = _fractional_position(xs, critical.value)
        label = f"critical point {estimate(critical.value, critical.ci)}"
        rows = np.asarray(grid.index, dtype=float)
        if where is not None and critical_row is not None and time_edges is None:
            hits = np.flatnonzero(np.isclose(rows, float(critical_row)))
            if hits.size:
                row = float(hits[0])
                axes.plot(
                    [where, where], [row - 0.5, row + 0.5], color="#2ecc71", lw=3, label=label
                )
                axes.legend(loc="upper left", fontsize=8, framealpha=0.8)
        elif where is not None:
            axes.axvline(where, color="#2ecc71", ls="--", lw=1.5, label=label)
            axes.legend(loc="upper left", fontsize=8, framealpha=0.8)
    return figure


def _phase_points(
    grid: pd.DataFrame,
    *,
    x_label: str,
    y_label: str,
    value_label: str,
    critical: Estimate | None,
    critical_row: float | None,
    time_edges: np.ndarray | None,
) -> Figure:
    """The phase diagram of :func:`phase_diagram` as points: one per finite cell, at its
    control (x) and second control or time-bin centre (y), coloured by its value."""
    values = grid.to_numpy(dtype=float)
    xs = np.asarray(grid.columns, dtype=float)
    if time_edges is not None and time_edges.size == values.shape[0] + 1:
        ys = 0.5 * (time_edges[:-1] + time_edges[1:])
    else:
        ys = np.asarray(grid.index, dtype=float)
    row, column = np.nonzero(np.isfinite(values))
    x, y, colour = xs[column], ys[row], values[row, column]
    figure = new_figure(6.4, 4.6)
    axes = figure.add_subplot()
    norm = Normalize(float(colour.min()), float(colour.max()) or 1.0)
    # a marker about as tall as a row of the diagram (side in points, area in points²)
    side = float(np.clip(270.0 / max(np.unique(y).size, 1), 3.0, 12.0))
    points = axes.scatter(
        x, y, c=colour, cmap="magma", norm=norm, s=side**2, marker="s", lw=0, rasterized=True
    )
    _log_scale_if_wide(axes, xs)
    axes.set_xlabel(x_label)
    axes.set_ylabel(y_label)
    colourbar = figure.colorbar(points, ax=axes)
    colourbar.set_label(value_label)
    if critical is not None and critical.value is not None:
        label = f"critical point {estimate(critical.value, critical.ci)}"
        if critical_row is not None and time_edges is None:
            axes.plot(
                [critical.value],
                [critical_row],
                marker="|",
                ms=18,
                mew=3,
                color="#2ecc71",
                ls="none",
                label=label,
            )
        else:
            axes.axvline(critical.value, color="#2ecc71", ls="--", lw=1.5, label=label)
        axes.legend(loc="upper left", fontsize=8, framealpha=0.8)
    return figure


# ---------------------------------------------------------------- order parameter
def order_parameter(
    table: pd.DataFrame,
    *,
    control_label: str,
    value_label: str,
    size_name: str | None = None,
    runs: pd.DataFrame | None = None,
    critical: Estimate | None = None,
    beta: Estimate | None = None,
    column: str = "mean",
) -> Figure | None:
    """⟨m⟩ (± standard error) against the control per size, with the power-law fit.

    Parameters
    ----------
    table
        Per-(control, size) rows with ``control``, ``size``, ``column`` and optionally
        ``<column>_stderr`` and ``m_star`` (the minimiser of the fitted Landau F).
    runs
        Per-run late-time values (``control``, ``value``) drawn as faint points.
    critical, beta
        The critical point and β: the curve m = A·|T − T_c|^β is drawn on the ordered side,
        with only the amplitude A fitted here (least squares in log m).
    column
        Which column is ⟨m⟩ (``"mean"``, or ``"rms"`` for a symmetric order parameter).
    """
    values = _column(table, column)
    if values is None:
        return None
    figure = new_figure()
    axes = figure.add_subplot()
    if runs is not None and not runs.empty:
        axes.scatter(
            runs["control"],
            runs["value"],
            s=9,
            color="0.55",
            alpha=0.45,
            lw=0,
            label="runs (late-time value)",
            zorder=1,
        )
    sizes = _sizes(table)
    for k, size in enumerate(sizes):
        rows = _size_rows(table, size)
        x = rows["control"].to_numpy(dtype=float)
        y = rows[column].to_numpy(dtype=float)
        error = _column(rows, f"{column}_stderr")
        colour = _SIZE_COLOURS(k % 10)
        axes.errorbar(
            x,
            y,
            yerr=error,
            fmt="o-",
            ms=4,
            lw=1.2,
            capsize=2,
            color=colour,
            label=_size_label(size_name, size) if len(sizes) > 1 else "ensemble mean",
            zorder=3,
        )
        m_star = _column(rows, "m_star")
        if m_star is not None:
            axes.plot(
                x,
                m_star,
                ":",
                color=colour,
                lw=1.2,
                label="minimum of the fitted Landau F" if k == len(sizes) - 1 else None,
            )
    _mark_critical(axes, critical)
    if critical is not None and critical.value is not None and beta is not None:
        _power_law(axes, _size_rows(table, sizes[-1]), column, critical.value, beta)
    _log_scale_if_wide(axes, table["control"].to_numpy(dtype=float))
    axes.set_xlabel(control_label)
    axes.set_ylabel(value_label)
    axes.legend(fontsize=8, framealpha=0.85)
    return figure


def _power_law(axes: Axes, rows: pd.DataFrame, column: str, tc: float, beta: Estimate) -> None:
    """Draw m = A·|T − T_c|^β on the ordered side (the side with the larger |m|)."""
    x = rows["control"].to_numpy(dtype=float)
    y = np.abs(rows[column].to_numpy(dtype=float))
    below = (x < tc) & np.isfinite(y)
    above = (x > tc) & np.isfinite(y)
    mean_below = float(np.mean(y[below])) if below.any() else -np.inf
    mean_above = float(np.mean(y[above])) if above.any() else -np.inf
    ordered_below = mean_below >= mean_above
    ok = (below if ordered_below else above) & (y > 0)
    if not ok.any() or beta.value is None or not np.isfinite(beta.value):
        return
    distance = np.abs(x[ok] - tc)
    log_a = float(np.mean(np.log(y[ok]) - beta.value * np.log(distance)))
    reach = float(distance.max())
    grid = np.linspace(reach * 1e-3, reach, 200)
    xs = tc - grid if ordered_below else tc + grid
    axes.plot(
        xs,
        np.exp(log_a) * grid**beta.value,
        "-",
        color=_CRITICAL,
        lw=1.0,
        alpha=0.8,
        label=f"fit ∝ |T − T_c|^β, β = {estimate(beta.value, beta.ci)}",
    )


def order_parameter_runs(
    runs: pd.DataFrame,
    *,
    control_label: str,
    value_label: str,
    critical: Estimate | None = None,
    size_name: str | None = None,
) -> Figure | None:
    """Late-time order parameter of each run against the control (no analysis needed),
    and the mean per control: one curve per size when ``runs`` has a ``size`` column
    with several values (runs of different sizes are never averaged together)."""
    if runs.empty:
        return None
    figure = new_figure()
    axes = figure.add_subplot()
    axes.scatter(
        runs["control"],
        runs["value"],
        s=14,
        color="0.35",
        alpha=0.6,
        lw=0,
        label="runs (late-time value)",
    )
    sizes = runs["size"].dropna().unique() if "size" in runs.columns else np.array([])
    if len(sizes) > 1:
        for k, size in enumerate(sorted(sizes)):
            mine = runs[runs["size"] == size]
            means = mine.groupby("control")["value"].mean()
            label = f"mean, {size_name or 'size'} = {plain(size, 4)}"
            axes.plot(
                means.index, means.to_numpy(), "o-", ms=4, color=_SIZE_COLOURS(k % 10), label=label
            )
    else:
        means = runs.groupby("control")["value"].mean()
        axes.plot(means.index, means.to_numpy(), "o-", ms=4, color=_SIZE_COLOURS(0), label="mean")
    _mark_critical(axes, critical)
    _log_scale_if_wide(axes, runs["control"].to_numpy(dtype=float))
    axes.set_xlabel(control_label)
    axes.set_ylabel(value_label)
    axes.legend(fontsize=8)
    return figure


# ------------------------------------------------------- susceptibility and Binder
def susceptibility(
    table: pd.DataFrame,
    *,
    control_label: str,
    size_name: str | None = None,
    critical: Estimate | None = None,
    binder_crossing: Estimate | None = None,
) -> Figure | None:
    """χ = V·Var(m) and the Binder cumulant against the control, per size."""
    chi = _column(table, "susceptibility")
    binder = _column(table, "binder")
    panels = [
        name for name, data in (("susceptibility", chi), ("binder", binder)) if data is not None
    ]
    if not panels:
        return None
    figure = new_figure(6.4 * len(panels) / 1.35, 4.2)
    axes_list = figure.subplots(1, len(panels), squeeze=False)[0]
    sizes = _sizes(table)
    for axes, panel in zip(axes_list, panels, strict=True):
        for k, size in enumerate(sizes):
            rows = _size_rows(table, size)
            axes.errorbar(
                rows["control"].to_numpy(dtype=float),
                rows[panel].to_numpy(dtype=float),
                yerr=_column(rows, f"{panel}_stderr"),
                fmt="o-",
                ms=3.5,
                lw=1.1,
                capsize=2,
                color=_SIZE_COLOURS(k % 10),
                label=_size_label(size_name, size) if len(sizes) > 1 else None,
            )
        _mark_critical(axes, critical, label=panel == "susceptibility")
        _log_scale_if_wide(axes, table["control"].to_numpy(dtype=float))
        axes.set_xlabel(control_label)
        if panel == "susceptibility":
            axes.set_ylabel("susceptibility χ = V·Var(m)")
            data = table["susceptibility"].to_numpy(dtype=float)
            positive = data[np.isfinite(data) & (data > 0)]
            if positive.size and positive.max() / positive.min() > 100:
                axes.set_yscale("log")
        else:
            axes.set_ylabel("Binder cumulant U₄")
            axes.axhline(
                BINDER_MEAN_FIELD,
                color="0.4",
                ls=":",
                lw=1,
                label=f"mean field U* = {BINDER_MEAN_FIELD}",
            )
            axes.axhline(
                BINDER_ISING_2D,
                color="0.6",
                ls="-.",
                lw=1,
                label=f"2D Ising U* ≈ {BINDER_ISING_2D}",
            )
            if binder_crossing is not None:
                axes.axhline(
                    binder_crossing.value,
                    color=_CRITICAL,
                    ls="--",
                    lw=1,
                    label=f"crossing {estimate(binder_crossing.value, binder_crossing.ci)}",
                )
        if axes.get_legend_handles_labels()[0]:
            axes.legend(fontsize=7.5, framealpha=0.85)
    return figure


# ------------------------------------------------------------------- free energy
def pick_controls(
    controls: Sequence[float], count: int, around: float | None = None
) -> list[float]:
    """Up to ``count`` controls spread over the range, including those nearest ``around``."""
    values = sorted(set(c for c in controls if c is not None and np.isfinite(c)))
    if len(values) <= count:
        return values
    chosen = {values[round(float(i))] for i in np.linspace(0, len(values) - 1, count)}
    if around is not None:
        nearest = sorted(values, key=lambda v: abs(v - around))[:2]
        chosen.update(nearest)
        while len(chosen) > count:
            removable = [
                v for v in sorted(chosen) if v not in nearest and v not in (values[0], values[-1])
            ] or [v for v in sorted(chosen) if v not in nearest]
            chosen.remove(removable[len(removable) // 2])
    return sorted(chosen)


def free_energy(
    curves: Sequence[Curve],
    *,
    control_label: str,
    value_label: str,
    size_name: str | None = None,
    critical: Estimate | None = None,
) -> Figure | None:
    """F(m) = −log P(m)/V with its Landau fit at several controls, minima marked."""
    usable = [c for c in curves if c.x.size >= 2 and np.isfinite(c.y).sum() >= 2]
    if not usable:
        return None
    sizes = sorted({c.size for c in usable if c.size is not None})
    largest = sizes[-1] if sizes else None
    chosen_size = [c for c in usable if c.size == largest] if largest is not None else usable
    controls = [c.control for c in chosen_size if c.control is not None]
    picked = pick_controls(controls, MAX_LANDSCAPES, critical.value if critical else None)
    panels = (
        [c for c in chosen_size if c.control in picked] if picked else chosen_size[:MAX_LANDSCAPES]
    )
    panels = sorted(panels, key=lambda c: c.control if c.control is not None else 0.0)
    panels = panels[:MAX_LANDSCAPES]
    columns = min(3, len(panels))
    rows = int(np.ceil(len(panels) / columns))
    figure = new_figure(3.0 * columns + 0.4, 2.6 * rows + 0.3)
    grid = figure.subplots(rows, columns, squeeze=False)
    for index, axes in enumerate(grid.ravel()):
        if index >= len(panels):
            axes.set_visible(False)
            continue
        curve = panels[index]
        axes.plot(curve.x, curve.y, "o", ms=3, color="0.3", label="−log P(m)/V")
        shape = curve.fit if curve.fit is not None else curve.y
        if curve.fit is not None:
            order = np.argsort(curve.x)
            axes.plot(
                curve.x[order],
                curve.fit[order],
                "-",
                color=_SIZE_COLOURS(0),
                lw=1.4,
                label="Landau fit",
            )
        # the global minimum from the analysis, plus interior minima of the fitted curve
        candidates = [*curve.minima, *local_minima(curve.x, shape, edges=not curve.minima)]
        spacing = float(np.median(np.diff(np.sort(curve.x)))) if curve.x.size > 1 else 0.0
        minima = _merge_close(candidates, 1.5 * spacing)
        order = np.argsort(curve.x)
        if minima.size:
            levels = np.interp(minima, curve.x[order], shape[order])
            axes.plot(minima, levels, "v", color=_CRITICAL, ms=7, label="minima", zorder=4)
        measured = curve.y[np.isfinite(curve.y)]
        span = float(measured.max() - measured.min()) or 1.0
        axes.set_ylim(measured.min() - 0.15 * span, measured.max() + 0.15 * span)
        reach = float(np.ptp(curve.x)) or 1.0
        axes.set_xlim(float(np.min(curve.x)) - 0.05 * reach, float(np.max(curve.x)) + 0.05 * reach)
        title = f"{control_label} = {plain(curve.control, 4)}" if curve.control is not None else ""
        axes.set_title(title, fontsize=9)
        axes.set_xlabel(value_label, fontsize=8)
        axes.set_ylabel("F(m)", fontsize=8)
        axes.tick_params(labelsize=7)
        if index == 0:
            axes.legend(fontsize=7)
    if largest is not None and len(sizes) > 1:
        figure.suptitle(f"{_size_label(size_name, largest)} (largest size)", fontsize=9)
    return figure


def effective_potential(
    curves: Sequence[Curve], *, control_label: str, value_label: str
) -> Figure | None:
    """The effective potential of the dynamics at each control where the dynamics found
    an attractor (``curve.minima``), the attractors marked; ``None`` where none did."""
    usable = [c for c in curves if c.minima and c.x.size >= 2 and np.isfinite(c.y).sum() >= 2]
    if not usable:
        return None
    figure = new_figure()
    axes = figure.add_subplot()
    controls = [c.control for c in usable if c.control is not None]
    norm = (
        Normalize(
            min(controls), max(controls) if max(controls) > min(controls) else min(controls) + 1
        )
        if controls
        else None
    )
    for k, curve in enumerate(usable):
        colour = (
            _CONTROL_MAP(norm(curve.control))
            if norm and curve.control is not None
            else (_SIZE_COLOURS(k % 10))
        )
        y = curve.y - np.nanmin(curve.y)
        label = (
            f"{control_label} = {plain(curve.control, 3)}" if curve.control is not None else None
        )
        axes.plot(curve.x, y, "-", color=colour, lw=1.3, label=label if len(usable) <= 8 else None)
        minima = np.array(curve.minima)
        if minima.size:
            order = np.argsort(curve.x)
            axes.plot(
                minima,
                np.interp(minima, curve.x[order], y[order]),
                "v",
                color=colour,
                ms=7,
                markeredgecolor="black",
                markeredgewidth=0.5,
            )
    if norm is not None and len(usable) > 8:
        mappable = figure.colorbar(_scalar_mappable(norm), ax=axes)
        mappable.set_label(control_label)
    axes.set_xlabel(value_label)
    axes.set_ylabel("effective potential (from the drift)")
    if len(usable) <= 8 and controls:
        axes.legend(fontsize=7.5)
    return figure


def _scalar_mappable(norm: Normalize):
    from matplotlib.cm import ScalarMappable

    return ScalarMappable(norm=norm, cmap=_CONTROL_MAP)


# ---------------------------------------------------------------------- collapse
def collapse(
    curves: Sequence[Curve],
    *,
    control_label: str,
    value_label: str,
    size_name: str | None = None,
    parameters: dict[str, Estimate] | None = None,
) -> Figure | None:
    """Finite-size-scaling collapse: y·L^ρ against (T − T_c)·L^(1/ν), one colour per size."""
    usable = [c for c in curves if c.x.size >= 1]
    if len(usable) < 2:
        return None
    figure = new_figure()
    axes = figure.add_subplot()
    for k, curve in enumerate(sorted(usable, key=lambda c: c.size or 0.0)):
        order = np.argsort(curve.x)
        axes.errorbar(
            curve.x[order],
            curve.y[order],
            yerr=curve.error[order] if curve.error is not None else None,
            fmt="o-",
            ms=3.5,
            lw=1,
            capsize=2,
            color=_SIZE_COLOURS(k % 10),
            label=_size_label(size_name, curve.size),
        )
    axes.set_xlabel(f"({control_label} − T_c)·L^(1/ν)")
    axes.set_ylabel(f"{value_label} · L^ρ")
    if parameters:
        names = {"critical_point": "T_c", "quality": "quality S"}
        text = ", ".join(
            f"{names.get(name, symbol(name))} = {estimate(p.value, p.ci)}"
            for name, p in parameters.items()
        )
        if text:
            axes.set_title(text, fontsize=8.5)
    axes.legend(fontsize=8)
    return figure


# ------------------------------------------------------------------ trajectories
def trajectories(
    frame: pd.DataFrame,
    *,
    order_parameter: str,
    control: str,
    value_label: str,
    control_label: str,
    times: Sequence[TransitionTime] = (),
    run_col: str = "run_id",
    step_col: str = "step",
    max_runs: int = MAX_TRAJECTORIES,
    total_runs: int | None = None,
) -> Figure | None:
    """The order parameter of each run against training time, coloured by the control.

    Detected transition times are marked on their run's curve. ``frame`` may be a sample
    of the runs; ``total_runs`` is then how many there are in all.
    """
    needed = {order_parameter, control, run_col, step_col}
    if not needed <= set(frame.columns) or frame.empty:
        return None
    data = frame[list(needed)].copy()
    data["_value"] = pd.to_numeric(data[order_parameter], errors="coerce")
    data["_control"] = pd.to_numeric(data[control], errors="coerce")
    data["_step"] = pd.to_numeric(data[step_col], errors="coerce")
    data = data.dropna(subset=["_value", "_step"])
    if data.empty:
        return None
    run_control = data.groupby(run_col, sort=True)["_control"].first()
    chosen = spread_runs(run_control, max_runs)
    finite_controls = run_control.dropna()
    low = float(finite_controls.min()) if len(finite_controls) else 0.0
    high = float(finite_controls.max()) if len(finite_controls) else 1.0
    norm = Normalize(low, high) if high > low else Normalize(low - 0.5, low + 0.5)
    by_run = {str(r): t for r, t in _times_by_run(times).items()}
    figure = new_figure(6.8, 4.4)
    axes = figure.add_subplot()
    steps = data["_step"].to_numpy(dtype=float)
    positive = steps[steps > 0]
    log_time = positive.size > 0 and positive.max() / max(positive.min(), 1e-300) > 300
    marked = False
    for run in chosen:
        part = data[data[run_col] == run].sort_values("_step")
        c = run_control.get(run)
        colour = _CONTROL_MAP(norm(c)) if c is not None and np.isfinite(c) else "0.4"
        t = part["_step"].to_numpy(dtype=float)
        v = part["_value"].to_numpy(dtype=float)
        axes.plot(t, v, "-", color=colour, lw=0.9, alpha=0.85)
        for tt in by_run.get(str(run), []):
            if t.size and t[0] <= tt <= t[-1]:
                axes.plot(
                    [tt],
                    [np.interp(tt, t, v)],
                    "o",
                    ms=5,
                    mfc="white",
                    mec=_CRITICAL,
                    mew=1.3,
                    label=None if marked else "detected transition",
                    zorder=4,
                )
                marked = True
    if log_time:
        axes.set_xscale("symlog", linthresh=max(float(positive.min()), 1.0))
    colourbar = figure.colorbar(_scalar_mappable(norm), ax=axes)
    colourbar.set_label(control_label)
    axes.set_xlabel(f"training time ({human(step_col)})")
    axes.set_ylabel(value_label)
    shown = len(chosen)
    total = max(len(run_control), total_runs or 0)
    if shown < total:
        axes.set_title(f"{shown} of {total} runs, spread over the control values", fontsize=8.5)
    if marked:
        axes.legend(fontsize=8, loc="best")
    return figure


def spread_runs(run_control: pd.Series, limit: int) -> list[Any]:
    """Up to ``limit`` run ids, taking runs from every control value in turn."""
    if len(run_control) <= limit:
        return list(run_control.index)
    groups = [list(part.index) for _, part in run_control.groupby(run_control, dropna=False)]
    chosen: list = []
    depth = 0
    while len(chosen) < limit and any(depth < len(g) for g in groups):
        for group in groups:
            if depth < len(group) and len(chosen) < limit:
                chosen.append(group[depth])
        depth += 1
    return chosen


def _times_by_run(times: Sequence[TransitionTime]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for item in times:
        out.setdefault(item.run_id, []).append(item.time)
    return out


def transition_times(
    times: Sequence[TransitionTime],
    run_controls: dict[str, float],
    *,
    control_label: str,
    time_label: str = "transition time",
) -> Figure | None:
    """Detected transition time of each run against its control value (median joined)."""
    points = []
    for item in times:
        c = item.control if item.control is not None else run_controls.get(item.run_id)
        if c is not None and np.isfinite(c) and np.isfinite(item.time):
            points.append((float(c), float(item.time)))
    if len(points) < 2:
        return None
    data = pd.DataFrame(points, columns=["control", "time"])
    figure = new_figure(5.6, 3.8)
    axes = figure.add_subplot()
    axes.scatter(data["control"], data["time"], s=16, color="0.35", alpha=0.7, lw=0, label="runs")
    medians = data.groupby("control")["time"].median()
    axes.plot(medians.index, medians.to_numpy(), "o-", color=_CRITICAL, ms=4, label="median")
    positive = data["time"][data["time"] > 0]
    if positive.size and positive.max() / positive.min() > 30:
        axes.set_yscale("log")
    _log_scale_if_wide(axes, data["control"].to_numpy(dtype=float))
    axes.set_xlabel(control_label)
    axes.set_ylabel(time_label)
    axes.legend(fontsize=8)
    return figure
