"""Adaptive refinement of phase boundaries: a study that sweeps where the phase changes.

A uniform grid spends most of its runs deep inside one phase or the other. Refinement
spends them near the boundary instead:

1. **Coarse round.** The spec's own grid is swept (an ordinary sweep into the store).
2. **Measure.** For every run, the order parameter's late-time mean (its trajectory
   after a burn-in, :mod:`landaulab.late_time`); for every control point, the mean over
   seeds, its standard error and the susceptibility χ = N·Var(m) across seeds.
3. **Locate.** Along the refined control (``along``), neighbouring points that
   disagree about the phase bracket a boundary: by default (``locate="auto"``) the
   critical point, where the ensemble mean vanishes, i.e. crosses a level just above
   the noise floor of the disordered side (reported as ``"vanishing_point"``, or as
   ``"jump"`` where the order parameter jumps across the located bracket); a level the
   user gives (``threshold``, ``level``; ``"level"``); half height (``"jump"``); or
   the points around the largest χ bracket its peak (``"susceptibility_peak"``).
4. **Refine.** Each bracket wider than twice the tolerance is split (bisection; more
   points per round with ``points_per_round``) and the new points are swept in the
   next round, until every boundary is located to ± ``tolerance``.

With ``first_seeds``, each point trains its first seeds only, and the rest of the spec's
seeds where those leave its phase in doubt (not all of them clearly on one side of the
threshold): far from the boundary two agreeing seeds decide a point, near it every
seed is trained.

The statistics of steps 2 and 3 live in :mod:`landaulab.analyze.boundary`; each round's
runs train through the one run loop of sweeps
(:func:`landaulab.execute.sweep.run_planned`). This module only orchestrates: which
points to sample next, and when to stop.

With two swept controls, the other control's grid values are the rows of a phase
diagram and the boundary is traced row by row (for each value of one control, bisect
along the other), so the runs grow with the boundary's length, not the diagram's area.

New points always lie on the dyadic refinement of the coarse grid, so every run is an
ordinary run of a sweep with a stable id: interrupted refinements resume where they
stopped (the same store gives the same decisions), nothing is trained twice, and a
uniform grid of the same resolution shares every run with the refinement.

References
----------
Dai, Bruss & Glotzer 2020, "Efficient phase diagram sampling by active learning",
J. Phys. Chem. B 124, 1275, arXiv:1803.03296 (sampling phase diagrams where the phase
is uncertain instead of on a uniform grid).
Landau & Lifshitz, *Statistical Physics* §146 (susceptibility peaking at the
transition).
"""

from __future__ import annotations

import itertools
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, TypeVar

from rich.console import Console

from landaulab.analyze.boundary import (
    Bracket,
    Criterion,
    ensemble,
    level_threshold,
    locate_on_row,
    run_late_value,
    vanishing_threshold,
)
from landaulab.errors import DataError, LandaulabError, SpecError
from landaulab.estimate import Estimate
from landaulab.execute.base import Executor
from landaulab.execute.registry import opened_executor
from landaulab.execute.runner import RunOptions
from landaulab.execute.sweep import Batching, record_plans, run_planned
from landaulab.late_time import check_burn_in
from landaulab.serialize import to_json
from landaulab.spec.plan import PlannedRun, plan_sweep
from landaulab.spec.schema import Range, Scalar, SweepSpec, load_spec
from landaulab.store.store import Store

RowKey = Scalar | None
_T = TypeVar("_T")

#: What a boundary point locates: where the order parameter vanishes (the critical point
#: of a continuous transition), the peak of the susceptibility, the jump of a
#: discontinuous transition, or the crossing of a level the user chose.
Located = Literal["vanishing_point", "susceptibility_peak", "jump", "level"]
LOCATED: tuple[Located, ...] = ("vanishing_point", "susceptibility_peak", "jump", "level")
#: ``locate=`` choices: one of :data:`LOCATED`, or ``"auto"`` (the vanishing point,
#: reported as a jump where the order parameter jumps across the located bracket).
LOCATE_CHOICES = ("auto", *LOCATED)
#: A located bracket is a jump when the order parameter changes across it by more than
#: this fraction of its range (a continuous transition changes little across a bracket
#: of the tolerance's width).
JUMP_FRACTION = 0.25

#: Refinement's default burn-in: each run's value is the mean over the last tenth of its
#: logged step range (the package-wide default, :data:`landaulab.late_time.BURN_IN`,
#: averages the last half). A boundary is located at a training budget, so the value
#: that decides a point's phase is where the run ended, not its history; 0.9 keeps the
#: decisions (and thus the runs) of every earlier refinement of a store.
REFINE_BURN_IN = 0.9

#: With ``first_seeds``, a point is decided by its first seeds when each lies farther
#: than this fraction of the order parameter's range (the coarse round's lowest to
#: highest ensemble mean) from the threshold, all on one side: with a threshold half way,
#: within a tenth of the range of one plateau.
CLEAR_MARGIN = 0.4

# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class BoundaryPoint:
    """One located point of a phase boundary.

    Attributes
    ----------
    along
        The control the boundary was located along.
    estimate
        Best estimate of the boundary's position (the crossing interpolated inside
        its bracket, or the susceptibility peak's parabolic vertex).
    lower, upper
        The bracketing interval: the boundary lies between these sampled points.
    row
        The other control's value (``{}`` with one control).
    resolved
        Whether the interval's half-width reached the tolerance (or the grid could not
        be split further).
    ordered_side
        ``"below"`` or ``"above"``: on which side of the boundary the order parameter
        is above the threshold (``None`` for a susceptibility peak).
    located
        What was located: ``"vanishing_point"``, ``"susceptibility_peak"``, ``"jump"``
        or ``"level"`` (see :data:`Located`).
    """

    along: str
    estimate: float
    lower: float
    upper: float
    row: dict[str, Scalar] = field(default_factory=dict)
    resolved: bool = True
    ordered_side: Literal["below", "above"] | None = None
    located: Located = "level"

    @property
    def half_width(self) -> float:
        """Half the width of the bracketing interval (the located uncertainty)."""
        return (self.upper - self.lower) / 2

    @property
    def location(self) -> Estimate:
        """The boundary's position with its bracketing interval ``[lower, upper]``.

        ``method`` is ``"level_crossing"`` or ``"susceptibility_peak"``.
        """
        method = "susceptibility_peak" if self.ordered_side is None else "level_crossing"
        return Estimate(self.estimate, (self.lower, self.upper), method)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (non-finite numbers as ``None``)."""
        return {
            "along": self.along,
            "estimate": _finite(self.estimate),
            "lower": _finite(self.lower),
            "upper": _finite(self.upper),
            "half_width": _finite(self.half_width),
            "location": self.location.to_dict(),
            "row": _row_json(self.row),
            "resolved": self.resolved,
            "ordered_side": self.ordered_side,
            "located": self.located,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BoundaryPoint:
        """The inverse of :meth:`to_dict` (``None`` numbers come back as NaN).

        Raises
        ------
        DataError
            When a key is missing or has the wrong type.
        """

        def build() -> BoundaryPoint:
            side = data.get("ordered_side")
            if side not in (None, "below", "above"):
                raise DataError(f"ordered_side {side!r}: expected 'below', 'above' or null")
            default = "level" if side is not None else "susceptibility_peak"
            return cls(
                along=str(data["along"]),
                estimate=_number(data["estimate"]),
                lower=_number(data["lower"]),
                upper=_number(data["upper"]),
                row=_row_from(data.get("row")),
                resolved=bool(data.get("resolved", True)),
                ordered_side=side,
                located=_located(data.get("located", default)),
            )

        return _reading("boundary point", build)

    def __str__(self) -> str:
        where = ", ".join(f"{k} = {_fmt(v)}" for k, v in self.row.items())
        flag = "" if self.resolved else "  (not resolved to the tolerance)"
        flag = f"  {self.located.replace('_', ' ')}{flag}"
        prefix = f"{where}: " if where else ""
        return (
            f"{prefix}{self.along} = {_fmt(self.estimate)} ± {_fmt(self.half_width)} "
            f"[{_fmt(self.lower)}, {_fmt(self.upper)}]{flag}"
        )


@dataclass(frozen=True)
class SampledPoint:
    """The ensemble measurement at one control point.

    Attributes
    ----------
    row
        The other control's value (``{}`` with one control).
    value
        The refined control's value.
    order_parameter
        Mean over seeds of the runs' late-time order parameter (NaN when none is usable).
    standard_error
        Standard error of that mean (``None`` with fewer than two usable runs).
    members
        Runs with a finite late-time value.
    susceptibility
        χ = N·Var(m) across seeds (``None`` with fewer than two usable runs).
    round
        The round that sampled the point (the coarse grid is round 1).
    """

    row: dict[str, Scalar]
    value: float
    order_parameter: float
    standard_error: float | None
    members: int
    susceptibility: float | None
    round: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (non-finite numbers as ``None``)."""
        return {
            "row": _row_json(self.row),
            "value": _finite(self.value),
            "order_parameter": _finite(self.order_parameter),
            "standard_error": _finite(self.standard_error),
            "members": self.members,
            "susceptibility": _finite(self.susceptibility),
            "round": self.round,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SampledPoint:
        """The inverse of :meth:`to_dict` (``None`` numbers come back as NaN or ``None``).

        Raises
        ------
        DataError
            When a key is missing or has the wrong type.
        """

        def build() -> SampledPoint:
            return cls(
                row=_row_from(data.get("row")),
                value=_number(data["value"]),
                order_parameter=_number(data["order_parameter"]),
                standard_error=_finite(data.get("standard_error")),
                members=int(data["members"]),
                susceptibility=_finite(data.get("susceptibility")),
                round=int(data["round"]),
            )

        return _reading("sampled point", build)


@dataclass(frozen=True)
class RefinementReport:
    """What a refinement found and what it cost.

    Attributes
    ----------
    store
        The store directory (every run of every round is in it).
    order_parameter, along, across
        The observable refined on, the control located along, and the other swept
        control (``None`` with one control).
    criterion
        ``"level"`` or ``"susceptibility"``.
    threshold
        The order-parameter level separating the phases (``level`` criterion).
    tolerance
        The requested half-width, in units of ``along``.
    boundaries
        Located boundary points (one per crossing per row).
    no_boundary
        Rows on which no boundary was found, with the reason.
    runs
        Distinct runs the refinement used (control points × seeds).
    trained
        Runs trained by this call (the rest were already in the store).
    rounds
        Sweeps performed (the coarse grid is round 1).
    grid_runs
        Runs a uniform grid of the same resolution (spacing ≤ 2·tolerance, refining the
        coarse grid) needs over the same rows and seeds.
    points
        Every sampled control point with its ensemble measurement.
    failed
        Runs left out because they failed (or never logged the order parameter).
    duration_s
        Wall-clock seconds of the refinement.
    located
        What the refinement located (see :data:`Located`): ``"jump"`` when every
        boundary of a default (``locate="auto"``) refinement is a jump.
    """

    store: str
    order_parameter: str
    along: str
    across: str | None
    criterion: Criterion
    threshold: float | None
    tolerance: float
    boundaries: tuple[BoundaryPoint, ...]
    no_boundary: tuple[tuple[dict[str, Scalar], str], ...]
    runs: int
    trained: int
    rounds: int
    grid_runs: int
    points: tuple[SampledPoint, ...] = ()
    failed: int = 0
    duration_s: float = 0.0
    located: Located = "level"

    @property
    def run_ratio(self) -> float:
        """Runs used divided by the runs of a uniform grid of the same resolution."""
        return self.runs / self.grid_runs if self.grid_runs else math.nan

    @property
    def resolved(self) -> bool:
        """Whether every boundary point reached the tolerance."""
        return all(b.resolved for b in self.boundaries)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (non-finite numbers as ``None``)."""
        return {
            "store": self.store,
            "order_parameter": self.order_parameter,
            "along": self.along,
            "across": self.across,
            "criterion": self.criterion,
            "located": self.located,
            "threshold": _finite(self.threshold),
            "tolerance": _finite(self.tolerance),
            "boundaries": [b.to_dict() for b in self.boundaries],
            "no_boundary": [{"row": _row_json(r), "reason": why} for r, why in self.no_boundary],
            "runs": self.runs,
            "trained": self.trained,
            "rounds": self.rounds,
            "grid_runs": self.grid_runs,
            "run_ratio": _finite(self.run_ratio),
            "resolved": self.resolved,
            "failed": self.failed,
            "points": [p.to_dict() for p in self.points],
            "duration_s": _finite(round(self.duration_s, 3)),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RefinementReport:
        """The inverse of :meth:`to_dict`: ``from_dict(r.to_dict()).to_dict() == r.to_dict()``.

        Derived keys (``run_ratio``, ``resolved``, ``half_width``, ``location``) are
        recomputed; ``None`` numbers come back as NaN (``threshold``: ``None``).

        Raises
        ------
        DataError
            When a key is missing or has the wrong type.
        """

        def build() -> RefinementReport:
            criterion = data["criterion"]
            if criterion not in ("level", "susceptibility"):
                raise DataError(f"criterion {criterion!r}: expected 'level' or 'susceptibility'")
            across = data.get("across")
            return cls(
                store=str(data["store"]),
                order_parameter=str(data["order_parameter"]),
                along=str(data["along"]),
                across=None if across is None else str(across),
                criterion=criterion,
                threshold=_finite(data.get("threshold")),
                tolerance=_number(data["tolerance"]),
                boundaries=tuple(BoundaryPoint.from_dict(b) for b in data.get("boundaries", [])),
                no_boundary=tuple(
                    (_row_from(entry.get("row")), str(entry["reason"]))
                    for entry in data.get("no_boundary", [])
                ),
                runs=int(data["runs"]),
                trained=int(data["trained"]),
                rounds=int(data["rounds"]),
                grid_runs=int(data["grid_runs"]),
                points=tuple(SampledPoint.from_dict(p) for p in data.get("points", [])),
                failed=int(data.get("failed", 0)),
                duration_s=_number(data.get("duration_s", 0.0)),
                located=_located(
                    data.get(
                        "located",
                        "susceptibility_peak" if criterion == "susceptibility" else "level",
                    )
                ),
            )

        return _reading("refinement report", build)

    def __str__(self) -> str:
        if self.criterion == "level":
            how = f"where {self.order_parameter} crosses {_fmt(self.threshold)}"
            how += {
                "vanishing_point": " (its vanishing point: just above the noise floor)",
                "jump": " (its jump)",
            }.get(self.located, "")
        else:
            how = f"at the susceptibility peak of {self.order_parameter}"
        plane = f" (rows: {self.across})" if self.across else ""
        lines = [f"boundary along {self.along} {how}{plane}, tolerance ± {_fmt(self.tolerance)}:"]
        lines += [f"  {b}" for b in self.boundaries]
        for row, why in self.no_boundary:
            where = ", ".join(f"{k} = {_fmt(v)}" for k, v in row.items())
            lines.append(f"  {where + ': ' if where else ''}{why}")
        lines.append(
            f"{self.runs} runs in {self.rounds} rounds ({self.trained} trained now"
            f"{f', {self.failed} failed' if self.failed else ''}); a uniform grid of the same "
            f"resolution needs {self.grid_runs} (ratio {self.run_ratio:.3f})"
        )
        return "\n".join(lines)


def _located(value: Any) -> Located:
    if value not in LOCATED:
        raise DataError(f"located {value!r}: expected one of {', '.join(LOCATED)}")
    return value  # type: ignore[no-any-return]


def _finite(value: Any) -> float | None:
    """A finite float, or ``None`` (NaN, inf, ``None``)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _number(value: Any) -> float:
    """A float from JSON, ``None`` meaning NaN."""
    return math.nan if value is None else float(value)


def _row_json(row: Mapping[str, Scalar]) -> dict[str, Any]:
    """A row's labels, JSON-safe (a non-finite value as ``None``)."""
    return {str(k): to_json(v) for k, v in row.items()}


def _row_from(data: Any) -> dict[str, Scalar]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise DataError(f"a row is a mapping of control names to values; got {data!r}")
    return dict(data)


def _reading(what: str, build: Callable[[], _T]) -> _T:
    """``build()``, with a malformed mapping's KeyError/TypeError/ValueError as one
    :class:`DataError` line naming ``what``."""
    try:
        return build()
    except DataError:
        raise
    except KeyError as exc:
        raise DataError(f"{what}: missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{what}: {exc}") from None


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


# ------------------------------------------------------------------------------- axes


@dataclass(frozen=True)
class Axis:
    """A refined control: its coarse grid, and positions between grid points.

    A position ``u`` is a dyadic fraction in ``[0, n - 1]``: its integer part picks a
    coarse interval, its fraction a point inside it (geometric for log ranges). Every
    refinement point therefore lies on the dyadic refinement of the coarse grid.
    """

    name: str
    coarse: tuple[float, ...]
    scale: Literal["linear", "log"] = "linear"
    integer: bool = False

    def value(self, u: Fraction) -> float:
        """The control value at position ``u``."""
        index = min(math.floor(u), len(self.coarse) - 2)
        frac = u - index
        if frac == 0:
            return self.coarse[index]
        a, b = self.coarse[index], self.coarse[index + 1]
        f = float(frac)
        v = a * (b / a) ** f if self.scale == "log" else a + (b - a) * f
        if self.integer:
            return round(v)
        return float(f"{v:.12g}")

    @property
    def span(self) -> float:
        """Width of the whole range."""
        return float(self.coarse[-1] - self.coarse[0])

    def grid_points(self, tolerance: float) -> int:
        """Points of the uniform refinement of the coarse grid with spacing ≤ 2·tolerance."""
        total = 1
        for a, b in itertools.pairwise(self.coarse):
            if self.integer:
                total += max(1, int(b - a)) if b - a > 2 * tolerance else 1
                continue
            width = _width(a, b)
            depth = 0
            while width / 2**depth > 2 * tolerance and depth < 60:
                depth += 1
            total += 2**depth
        return total


def _width(a: float, b: float) -> float:
    return abs(float(b) - float(a))


def _numeric(values: Sequence[Scalar]) -> bool:
    return all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in values
    )


def _axis_of(name: str, grid: Sequence[Scalar], source: list[Scalar] | Range) -> Axis:
    if not _numeric(grid):
        raise SpecError(
            f"control {name!r} is not numeric; refinement locates boundaries along a "
            "numeric control (give it numbers, or keep it to one value)"
        )
    coarse = tuple(sorted(set(grid)))
    if len(coarse) < 2:
        raise SpecError(f"control {name!r} needs at least two values to refine along")
    scale = source.scale if isinstance(source, Range) else "linear"
    integer = all(isinstance(v, int) for v in grid)
    return Axis(name=name, coarse=coarse, scale=scale, integer=integer)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- measurements


@dataclass
class _Sample:
    """The ensemble of one sampled point (see :class:`SampledPoint`)."""

    value: float
    mean: float
    sem: float | None
    members: int
    chi: float | None
    round: int


# ----------------------------------------------------------------------------- refine


@dataclass
class _Plan:
    """The refinement's frame: the spec split into the refined axis and rows."""

    spec: SweepSpec
    along: Axis
    across: str | None
    rows: tuple[RowKey, ...]
    fixed: dict[str, list[Scalar]]


def refine(
    spec: SweepSpec | str | Path,
    store: str | Path = "landaulab-store",
    order_parameter: str = "",
    tolerance: float | None = None,
    *,
    executor: Executor | str = "local",
    workers: int | None = None,
    along: str | None = None,
    criterion: Criterion = "level",
    level: float | None = None,
    threshold: float | None = None,
    locate: str = "auto",
    burn_in: float = REFINE_BURN_IN,
    size: str | None = None,
    points_per_round: int = 1,
    max_rounds: int = 20,
    first_seeds: int | None = None,
    clear_margin: float | None = None,
    retry_failed: bool = False,
    device: str = "auto",
    threads: int = 1,
    batching: Batching = "auto",
    progress: bool = True,
    console: Console | None = None,
    late_fraction: float | None = None,
) -> RefinementReport:
    """Locate the phase boundary of ``order_parameter`` by sweeping in rounds.

    Parameters
    ----------
    spec
        A :class:`SweepSpec` or the path of a TOML spec with one or two swept numeric
        controls (their grids are the coarse round and their ranges the domain); other
        controls must have a single value.
    store
        The store directory; every round is an ordinary sweep into it.
    order_parameter
        The observable whose late-time ensemble mean distinguishes the phases.
    tolerance
        Wanted half-width of each boundary interval, in units of ``along`` (default:
        1% of its range).
    executor, workers
        Where runs train: ``"local"``, ``"serial"``, ``"ray"`` or an executor instance.
    along
        With two controls: the one to locate the boundary along (default: the one whose
        coarse grid lines cross the boundary most often; on a tie, the last in the spec).
    criterion
        ``"level"``: where the ensemble mean crosses a threshold; ``"susceptibility"``:
        where χ = N·Var(m) across seeds peaks (needs two or more seeds; the same as
        ``locate="susceptibility_peak"``).
    level
        Locate where the ensemble mean crosses ``low + level·(high − low)`` of the
        coarse round's lowest and highest ensemble means (0.5: half height).
    threshold
        Locate where the ensemble mean crosses this order-parameter value.
    locate
        What to locate (reported as ``located``): ``"auto"`` (default) the critical
        point: where the order parameter vanishes, i.e. crosses a level just above the
        noise floor of the disordered side (:func:`~landaulab.analyze.boundary.
        vanishing_threshold`), reported as ``"vanishing_point"``, or as ``"jump"``
        where it jumps across the located bracket (a discontinuous transition);
        ``"vanishing_point"`` the same, never called a jump; ``"jump"`` the crossing of
        half height (inside the jump of a discontinuous transition);
        ``"susceptibility_peak"`` the peak of χ; ``"level"`` the crossing of
        ``threshold`` or of ``level`` (half height when neither is given). Giving
        ``threshold`` or ``level`` means ``"level"``.
    burn_in
        Fraction of each run's logged step range dropped before its late-time value
        (:mod:`landaulab.late_time`). The default, :data:`REFINE_BURN_IN` = 0.9, averages
        the last tenth: the boundary is located at the training budget, so a point's
        phase is decided by where its runs ended, and 0.9 keeps every earlier
        refinement's decisions (it equals the former ``late_fraction=0.1``).
    size
        Parameter holding the system size N for χ (default: N = 1).
    points_per_round
        New points per bracket per round: 1 (bisection), 3, 7, ... (2^k − 1); more
        points use more runs but fewer rounds, which suits a large cluster.
    max_rounds
        Refinement rounds after the coarse one, at most.
    first_seeds
        Train only the first ``first_seeds`` of the spec's seeds at each point, and its
        other seeds only where those leave the point's side of the threshold in doubt:
        unless every one of them lies farther than ``clear_margin`` from the threshold,
        all on the same side (level criterion only; ``None``: every seed at every point).
    clear_margin
        See ``first_seeds``, in units of the order parameter (default:
        :data:`CLEAR_MARGIN` × the coarse round's range of ensemble means).
    retry_failed, device, threads, batching, progress, console
        As for :func:`~landaulab.execute.sweep.sweep`. An executor given by name is
        closed when the refinement ends (also on errors and Ctrl-C); an instance is
        left open for its creator.
    late_fraction
        Deprecated alias: the fraction of the steps kept, ``burn_in = 1 − late_fraction``
        (a :class:`DeprecationWarning`).

    Returns
    -------
    RefinementReport
        Boundary points with their intervals, rows without a boundary, runs used and
        what a uniform grid of the same resolution would need.

    Raises
    ------
    SpecError
        If the spec does not have one or two numeric swept controls.
    DataError
        If the runs do not record ``order_parameter``.
    """
    started = time.time()
    burn_in = _burn_in(burn_in, late_fraction)
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec)
    _check_options(criterion, level, threshold, points_per_round, max_rounds)
    criterion, mode = _locate_mode(locate, criterion, level, threshold)
    _check_first_seeds(spec, criterion, first_seeds, clear_margin)
    _check_order_parameter(spec, order_parameter)
    if criterion == "susceptibility" and len(spec.seed_list()) < 2:
        raise SpecError("criterion 'susceptibility' needs at least two seeds (seeds = 4, say)")
    axes = _swept_controls(spec)
    if tolerance is not None and not (math.isfinite(tolerance) and tolerance > 0):
        raise LandaulabError(f"tolerance={tolerance}: give a positive number")
    if along is not None and not isinstance(axes.get(along), Axis):
        choices = ", ".join(n for n, a in axes.items() if isinstance(a, Axis))
        raise LandaulabError(f"along={along!r} is not a swept numeric control; choose: {choices}")
    options = RunOptions(device=device, threads=threads, retry_failed=retry_failed)
    console = console or Console(stderr=True)
    with opened_executor(executor, workers) as engine:
        target = Store(store, create=True)
        rounds = _Rounds(target, engine, options, batching, progress, console)
        return _refine(
            spec,
            axes,
            rounds,
            order_parameter=order_parameter,
            tolerance=tolerance,
            along=along,
            criterion=criterion,
            level=0.5 if level is None else level,
            threshold=threshold,
            mode=mode,
            burn_in=burn_in,
            size=size,
            split=points_per_round + 1,
            max_rounds=max_rounds,
            started=started,
            first_seeds=first_seeds,
            clear_margin=clear_margin,
        )


def refine_sweep(
    spec: SweepSpec | str | Path,
    store: str | Path = "landaulab-store",
    executor: Executor | str = "local",
    order_parameter: str = "",
    tolerance: float | None = None,
    retry_failed: bool = False,
    device: str = "auto",
    threads: int = 1,
    progress: bool = True,
    **kwargs: Any,
) -> RefinementReport:
    """``landaulab sweep SPEC --refine ORDER_PARAMETER``: :func:`refine` by keyword."""
    return refine(
        spec,
        store=store,
        order_parameter=order_parameter,
        tolerance=tolerance,
        executor=executor,
        retry_failed=retry_failed,
        device=device,
        threads=threads,
        progress=progress,
        **kwargs,
    )


def _burn_in(burn_in: float, late_fraction: float | None) -> float:
    """The burn-in to use, from ``burn_in`` or the deprecated ``late_fraction``."""
    if late_fraction is not None:
        warnings.warn(
            "late_fraction is deprecated; give burn_in = 1 - late_fraction (the fraction "
            "of each run's steps dropped before its late-time value)",
            DeprecationWarning,
            stacklevel=3,
        )
        if burn_in != REFINE_BURN_IN:
            raise LandaulabError("give burn_in or late_fraction (deprecated), not both")
        if not (math.isfinite(late_fraction) and 0.0 < late_fraction <= 1.0):
            raise LandaulabError(f"late_fraction={late_fraction}: give a fraction in (0, 1]")
        burn_in = 1.0 - late_fraction
    return check_burn_in(burn_in)


def _locate_mode(
    locate: str, criterion: Criterion, level: float | None, threshold: float | None
) -> tuple[Criterion, str]:
    """The criterion and what to locate (``auto`` or one of :data:`LOCATED`)."""
    if locate not in LOCATE_CHOICES:
        raise LandaulabError(f"locate={locate!r}: choose {', '.join(LOCATE_CHOICES)}")
    explicit = threshold is not None or level is not None
    if criterion == "susceptibility" or locate == "susceptibility_peak":
        if locate not in ("auto", "susceptibility_peak") or explicit:
            raise LandaulabError(
                "the susceptibility peak needs no threshold or level and no other locate"
            )
        return "susceptibility", "susceptibility_peak"
    if explicit:
        if locate not in ("auto", "level"):
            raise LandaulabError(
                f"a threshold or level locates a level crossing, not locate={locate!r}; "
                "give one or the other"
            )
        return "level", "level"
    return "level", locate


def _check_options(
    criterion: str,
    level: float | None,
    threshold: float | None,
    points_per_round: int,
    max_rounds: int,
) -> None:
    if criterion not in ("level", "susceptibility"):
        raise LandaulabError(f"criterion {criterion!r}: choose 'level' or 'susceptibility'")
    if level is not None and not (math.isfinite(level) and 0.0 < level < 1.0):
        raise LandaulabError(f"level={level}: give a fraction strictly between 0 and 1")
    if threshold is not None and not math.isfinite(threshold):
        raise LandaulabError(f"threshold={threshold}: give a finite number")
    if points_per_round < 1 or (points_per_round + 1) & points_per_round:
        raise LandaulabError(
            f"points_per_round={points_per_round}: give 1, 3, 7, 15, ... (2^k - 1) so new "
            "points stay on the grid"
        )
    if max_rounds < 0:
        raise LandaulabError(f"max_rounds={max_rounds}: give 0 or more")


def _check_first_seeds(
    spec: SweepSpec, criterion: Criterion, first_seeds: int | None, clear_margin: float | None
) -> None:
    if first_seeds is None:
        return
    if criterion != "level":
        raise LandaulabError(
            "first_seeds decides a point by its side of a threshold: the susceptibility "
            "peak needs every seed at every point"
        )
    if not 1 <= first_seeds <= len(spec.seed_list()):
        raise LandaulabError(
            f"first_seeds={first_seeds}: give 1 to {len(spec.seed_list())} (the spec's seeds)"
        )
    if clear_margin is not None and not (math.isfinite(clear_margin) and clear_margin >= 0):
        raise LandaulabError(f"clear_margin={clear_margin}: give a distance >= 0")


def _check_order_parameter(spec: SweepSpec, order_parameter: str) -> None:
    from landaulab.errors import TaskError
    from landaulab.tasks.registry import get_task

    if not order_parameter or not order_parameter.strip():
        raise LandaulabError("name the order parameter to refine on (--refine OBSERVABLE)")
    requested = spec.record.observables
    if requested is not None and order_parameter not in requested:
        raise SpecError(
            f"key 'record.observables': the order parameter {order_parameter!r} is not "
            "recorded; add it to the list"
        )
    try:
        task = get_task(spec.task)
    except TaskError as exc:
        raise SpecError(f"key 'task': {exc}") from None
    if task.observables and order_parameter not in task.observables:
        raise SpecError(
            f"task {task.name!r} does not record {order_parameter!r}; it records: "
            f"{', '.join(task.observables)}"
        )


def _swept_controls(spec: SweepSpec) -> dict[str, Axis | list[Scalar]]:
    """The swept controls (two or more values) as axes when numeric, else value lists."""
    grids = spec.control_values()
    swept: dict[str, Axis | list[Scalar]] = {}
    for name, grid in grids.items():
        if len(grid) < 2:
            continue
        source = spec.controls[name]
        swept[name] = _axis_of(name, grid, source) if _numeric(grid) else list(grid)
    if not 1 <= len(swept) <= 2:
        names = ", ".join(swept) or "none"
        raise SpecError(
            f"refinement needs one or two swept controls (with two or more values); "
            f"this spec sweeps {len(swept)} ({names}); fix the others to one value"
        )
    if not any(isinstance(a, Axis) for a in swept.values()):
        name = next(iter(swept))
        raise SpecError(
            f"control {name!r} is not numeric; refinement locates boundaries along a "
            "numeric control"
        )
    return swept


@dataclass
class _Rounds:
    """Runs the specs of one round through the sweeps' run loop, counting what it trains."""

    store: Store
    engine: Executor
    options: RunOptions
    batching: Batching
    progress: bool
    console: Console
    trained: int = 0

    def run(self, specs: Sequence[SweepSpec], label: str) -> list[PlannedRun]:
        """Plan, record and train every run of ``specs``; returns the planned runs."""
        runs = record_plans(self.store, [(spec, plan_sweep(spec)) for spec in specs])
        counts = run_planned(
            self.store,
            runs,
            self.engine,
            self.options,
            batching=self.batching,
            label=label,
            progress=self.progress,
            console=self.console,
        )
        self.trained += sum(counts[k] for k in ("done", "diverged", "failed"))
        return runs


@dataclass
class _State:
    """Everything measured so far: samples per row, keyed by position along the axis."""

    rows: dict[RowKey, dict[Fraction, _Sample]] = field(default_factory=dict)
    positions: dict[float, Fraction] = field(default_factory=dict)
    runs: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)


def _refine(
    spec: SweepSpec,
    axes: dict[str, Axis | list[Scalar]],
    runner: _Rounds,
    *,
    order_parameter: str,
    tolerance: float | None,
    along: str | None,
    criterion: Criterion,
    level: float,
    threshold: float | None,
    mode: str,
    burn_in: float,
    size: str | None,
    split: int,
    max_rounds: int,
    started: float,
    first_seeds: int | None = None,
    clear_margin: float | None = None,
) -> RefinementReport:
    store = runner.store
    seeds = spec.seed_list()
    first = seeds if first_seeds is None else seeds[:first_seeds]
    more = seeds[len(first) :]
    coarse_runs = runner.run([_with_seeds(spec, first)], f"{spec.name}: round 1 (coarse grid)")
    values = _measure(store, coarse_runs, order_parameter, burn_in, size)
    if not any(math.isfinite(m) for m, _ in values.values()):
        raise DataError(
            f"no run of the coarse grid has a finite {order_parameter!r}; check the runs "
            "with 'landaulab status'"
        )
    members = _point_members(coarse_runs, values, list(axes))
    means = [m for m in (ensemble(vs).mean for vs in members) if math.isfinite(m)]
    span = max(means) - min(means) if means else math.nan
    if threshold is None and criterion == "level":
        if mode in ("auto", "vanishing_point"):
            threshold = vanishing_threshold(members)
        else:
            threshold = level_threshold(means, level)
    plan = _frame(spec, axes, along, coarse_runs, values, criterion, threshold)
    if tolerance is None:
        tolerance = 0.01 * plan.along.span
    state = _State(positions={x: Fraction(i) for i, x in enumerate(plan.along.coarse)})
    margin = CLEAR_MARGIN * span if clear_margin is None else clear_margin
    doubt = _Doubt(threshold, margin, more, order_parameter, burn_in, size)
    coarse_runs, values = doubt.resolve(runner, spec, plan, coarse_runs, values, "round 1")
    _add(state, plan, coarse_runs, values, round_=1)

    rounds = 1
    for round_ in range(2, max_rounds + 2):
        proposals = {
            row: _propose(plan.along, state.rows[row], criterion, threshold, tolerance, split)
            for row in plan.rows
        }
        proposals = {row: ps for row, ps in proposals.items() if ps}
        if not proposals:
            break
        for ps in proposals.values():
            state.positions.update((plan.along.value(u), u) for u in ps)
        specs = [
            _with_seeds(
                _row_spec(spec, plan, row, [plan.along.value(u) for u in ps], f"refine{round_}"),
                first,
            )
            for row, ps in proposals.items()
        ]
        if runner.progress:
            runner.console.print(
                f"round {round_}: {sum(map(len, proposals.values()))} new point(s) along "
                f"{plan.along.name} on {len(proposals)} row(s), {len(first)} seed(s) each"
                + (f" (up to {len(seeds)} where in doubt)" if more else "")
            )
        planned = runner.run(specs, f"{spec.name}: round {round_}")
        measured = _measure(store, planned, order_parameter, burn_in, size)
        planned, measured = doubt.resolve(runner, spec, plan, planned, measured, f"round {round_}")
        _add(state, plan, planned, measured, round_=round_)
        rounds = round_

    boundaries, empty = _locate(plan, state, criterion, threshold, tolerance, mode, span)
    if mode == "auto":
        jumps = bool(boundaries) and all(b.located == "jump" for b in boundaries)
        located: Located = "jump" if jumps else "vanishing_point"
    else:
        located = mode  # type: ignore[assignment]
    return RefinementReport(
        store=str(store.path),
        order_parameter=order_parameter,
        along=plan.along.name,
        across=plan.across,
        criterion=criterion,
        threshold=threshold if criterion == "level" else None,
        tolerance=float(tolerance),
        boundaries=tuple(boundaries),
        no_boundary=tuple(empty),
        runs=len(state.runs),
        trained=runner.trained,
        rounds=rounds,
        grid_runs=len(plan.rows) * plan.along.grid_points(tolerance) * len(seeds),
        points=tuple(_points(plan, state)),
        failed=len(state.failed),
        duration_s=time.time() - started,
        located=located,
    )


def _measure(
    store: Store,
    runs: Sequence[PlannedRun],
    order_parameter: str,
    burn_in: float,
    size: str | None,
) -> dict[str, tuple[float, float]]:
    """Late-time order parameter (NaN when unusable) and system size of each run."""
    out: dict[str, tuple[float, float]] = {}
    seen_columns: set[str] = set()
    usable = 0
    for run in runs:
        record = store.get(run.run_id)
        if record is None or record.status == "failed":
            out[run.run_id] = (math.nan, 1.0)
            continue
        trajectory = store.trajectory(run.run_id)
        seen_columns.update(c for c in trajectory.columns if c not in ("run_id", "step"))
        n = _size_of(run.params, size)
        if order_parameter not in trajectory.columns:
            out[run.run_id] = (math.nan, n)
            continue
        usable += 1
        out[run.run_id] = (run_late_value(trajectory, order_parameter, burn_in), n)
    if runs and not usable and seen_columns:
        raise DataError(
            f"the runs do not record {order_parameter!r}; they record: "
            f"{', '.join(sorted(seen_columns))}"
        )
    return out


def _point_members(
    runs: Sequence[PlannedRun], values: dict[str, tuple[float, float]], names: list[str]
) -> list[list[float]]:
    """The per-run values of each control point of ``runs``."""
    groups: dict[tuple[Any, ...], list[float]] = {}
    for run in runs:
        key = tuple(run.controls[n] for n in names)
        groups.setdefault(key, []).append(values[run.run_id][0])
    return list(groups.values())


def _size_of(params: Mapping[str, Any], size: str | None) -> float:
    if size is None:
        return 1.0
    value = params.get(size)
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise LandaulabError(f"size={size!r}: the runs have no positive parameter {size!r}")
    return float(value)


def _frame(
    spec: SweepSpec,
    axes: dict[str, Axis | list[Scalar]],
    along: str | None,
    coarse_runs: Sequence[PlannedRun],
    values: dict[str, tuple[float, float]],
    criterion: Criterion,
    threshold: float | None,
) -> _Plan:
    """Choose the refined axis and the rows."""
    names = list(axes)
    fixed = {k: list(v) for k, v in spec.control_values().items() if k not in axes}
    if len(names) == 1:
        axis = axes[names[0]]
        assert isinstance(axis, Axis)  # guaranteed by _swept_controls
        return _Plan(spec, axis, None, (None,), fixed)
    if along is None:
        candidates = [n for n in names if isinstance(axes[n], Axis)]
        if len(candidates) == 1:
            along = candidates[0]
        else:
            scores = {
                n: _crossing_lines(n, names, axes, coarse_runs, values, criterion, threshold)
                for n in candidates
            }
            best = max(scores.values())
            along = [n for n in candidates if scores[n] == best][-1]
    axis = axes[along]
    assert isinstance(axis, Axis)
    across = next(n for n in names if n != along)
    other = axes[across]
    rows = tuple(other.coarse) if isinstance(other, Axis) else tuple(other)
    return _Plan(spec, axis, across, rows, fixed)


def _crossing_lines(
    name: str,
    names: list[str],
    axes: dict[str, Axis | list[Scalar]],
    coarse_runs: Sequence[PlannedRun],
    values: dict[str, tuple[float, float]],
    criterion: Criterion,
    threshold: float | None,
) -> int:
    """On how many coarse grid lines along ``name`` a boundary shows."""
    axis = axes[name]
    assert isinstance(axis, Axis)
    across = next(n for n in names if n != name)
    lines: dict[Scalar, dict[float, list[tuple[float, float]]]] = {}
    for run in coarse_runs:
        key = run.controls[across]
        lines.setdefault(key, {}).setdefault(run.controls[name], []).append(values[run.run_id])
    count = 0
    for points in lines.values():
        xs = sorted(points)
        stats = [ensemble([m for m, _ in points[x]], points[x][0][1]) for x in xs]
        positions = [Fraction(i) for i in range(len(xs))]
        means = [s.mean for s in stats]
        errors = [s.standard_error for s in stats]
        chis = [s.susceptibility for s in stats]
        count += bool(locate_on_row(positions, xs, means, errors, chis, criterion, threshold))
    return count


def _add(
    state: _State,
    plan: _Plan,
    runs: Sequence[PlannedRun],
    values: dict[str, tuple[float, float]],
    round_: int,
) -> None:
    """Fold measured runs into per-row samples (positions recovered from values)."""
    groups: dict[tuple[RowKey, float], list[tuple[float, float]]] = {}
    for run in runs:
        state.runs.add(run.run_id)
        value, n = values[run.run_id]
        if not math.isfinite(value):
            state.failed.add(run.run_id)
        row = run.controls[plan.across] if plan.across else None
        groups.setdefault((row, run.controls[plan.along.name]), []).append((value, n))
    for (row, x), members in groups.items():
        samples = state.rows.setdefault(row, {})
        if x not in state.positions:
            raise LandaulabError(f"value {x} of {plan.along.name} is off the refinement grid")
        u = state.positions[x]
        mean, sem, chi = ensemble([m for m, _ in members], members[0][1])
        usable = sum(math.isfinite(m) for m, _ in members)
        samples[u] = _Sample(float(x), mean, sem, usable, chi, round_)
    for row in plan.rows:
        state.rows.setdefault(row, {})


def _propose(
    axis: Axis,
    samples: dict[Fraction, _Sample],
    criterion: Criterion,
    threshold: float | None,
    tolerance: float,
    split: int,
) -> list[Fraction]:
    """New positions for one row: splits of every bracket wider than 2·tolerance."""
    brackets = _row_brackets(samples, criterion, threshold)
    taken = {s.value for s in samples.values()}
    new: dict[float, Fraction] = {}
    for bracket in brackets:
        width = _width(axis.value(bracket.lower), axis.value(bracket.upper))
        if width <= 2 * tolerance:
            continue
        for lo, hi in bracket.pairs:
            gap = _width(axis.value(lo), axis.value(hi))
            # A level bracket needs each sub-bracket below 2·tol; a peak needs each side ≤ tol.
            limit = 2 * tolerance if criterion == "level" else tolerance
            if gap <= limit:
                continue
            for j in range(1, split):
                u = lo + (hi - lo) * Fraction(j, split)
                x = axis.value(u)
                if x not in taken and x not in new:
                    new[x] = u
    return sorted(new.values())


def _row_brackets(
    samples: dict[Fraction, _Sample], criterion: Criterion, threshold: float | None
) -> list[Bracket]:
    order = sorted(samples)
    return locate_on_row(
        order,
        [samples[u].value for u in order],
        [samples[u].mean for u in order],
        [samples[u].sem for u in order],
        [samples[u].chi for u in order],
        criterion,
        threshold,
    )


def _row_spec(
    spec: SweepSpec, plan: _Plan, row: RowKey, values: Sequence[float], suffix: str
) -> SweepSpec:
    """The spec of some points of one row (``values`` along the refined control)."""
    controls: dict[str, list[Scalar]] = {}
    for name in spec.controls:
        if name == plan.along.name:
            controls[name] = list(values)
        elif name == plan.across:
            controls[name] = [row]  # type: ignore[list-item]
        else:
            controls[name] = plan.fixed[name]
    return spec.model_copy(update={"name": f"{spec.name}-{suffix}", "controls": controls})


def _with_seeds(spec: SweepSpec, seeds: Sequence[int]) -> SweepSpec:
    """``spec`` with only ``seeds`` (the runs keep their ids: a seed's run is the same run)."""
    if list(seeds) == spec.seed_list():
        return spec
    return spec.model_copy(update={"seeds": list(seeds)})


@dataclass(frozen=True)
class _Doubt:
    """Which points need their other seeds (see ``first_seeds`` of :func:`refine`).

    A point is clear when every run of its first seeds has a finite value farther than
    ``margin`` from ``threshold``, all on the same side; the others get ``more``.
    """

    threshold: float | None
    margin: float
    more: Sequence[int]
    order_parameter: str
    burn_in: float
    size: str | None

    def clear(self, values: Sequence[float]) -> bool:
        """Whether these first-seed values decide their point's side."""
        t = self.threshold
        if t is None or not math.isfinite(t) or not math.isfinite(self.margin):
            return False
        if not values or not all(math.isfinite(v) for v in values):
            return False
        return all(v > t + self.margin for v in values) or all(v < t - self.margin for v in values)

    def resolve(
        self,
        runner: _Rounds,
        spec: SweepSpec,
        plan: _Plan,
        runs: list[PlannedRun],
        values: dict[str, tuple[float, float]],
        label: str,
    ) -> tuple[list[PlannedRun], dict[str, tuple[float, float]]]:
        """``runs`` and their values, with the other seeds of every point in doubt."""
        if not self.more:
            return runs, values
        points: dict[tuple[RowKey, float], list[float]] = {}
        for run in runs:
            row = run.controls[plan.across] if plan.across else None
            key = (row, run.controls[plan.along.name])
            points.setdefault(key, []).append(values[run.run_id][0])
        doubtful: dict[RowKey, list[float]] = {}
        for (row, x), members in points.items():
            if not self.clear(members):
                doubtful.setdefault(row, []).append(x)
        if not doubtful:
            return runs, values
        specs = [
            _with_seeds(_row_spec(spec, plan, row, sorted(xs), "more"), self.more)
            for row, xs in doubtful.items()
        ]
        if runner.progress:
            runner.console.print(
                f"{label}: {sum(map(len, doubtful.values()))} point(s) in doubt, "
                f"{len(self.more)} more seed(s) each"
            )
        added = runner.run(specs, f"{spec.name}: {label}, more seeds")
        measured = _measure(runner.store, added, self.order_parameter, self.burn_in, self.size)
        return [*runs, *added], {**values, **measured}


def _locate(
    plan: _Plan,
    state: _State,
    criterion: Criterion,
    threshold: float | None,
    tolerance: float,
    mode: str,
    span: float,
) -> tuple[list[BoundaryPoint], list[tuple[dict[str, Scalar], str]]]:
    boundaries: list[BoundaryPoint] = []
    empty: list[tuple[dict[str, Scalar], str]] = []
    axis = plan.along
    for row in plan.rows:
        label: dict[str, Scalar] = {} if plan.across is None else {plan.across: row}  # type: ignore[dict-item]
        samples = state.rows.get(row, {})
        brackets = _row_brackets(samples, criterion, threshold)
        if not brackets:
            empty.append((label, _why_none(axis, samples, criterion, threshold)))
            continue
        for bracket in brackets:
            lower, upper = axis.value(bracket.lower), axis.value(bracket.upper)
            resolved = (upper - lower) / 2 <= tolerance
            located: Located
            if mode == "auto":
                step = abs(samples[bracket.upper].mean - samples[bracket.lower].mean)
                located = "jump" if step > JUMP_FRACTION * span else "vanishing_point"
            else:
                located = mode  # type: ignore[assignment]
            boundaries.append(
                BoundaryPoint(
                    along=axis.name,
                    estimate=float(bracket.estimate),
                    lower=float(lower),
                    upper=float(upper),
                    row=label,
                    resolved=resolved,
                    ordered_side=bracket.ordered_side,
                    located=located,
                )
            )
    return boundaries, empty


def _why_none(
    axis: Axis, samples: dict[Fraction, _Sample], criterion: Criterion, threshold: float | None
) -> str:
    span = f"[{_fmt(axis.coarse[0])}, {_fmt(axis.coarse[-1])}]"
    means = [s.mean for s in samples.values() if math.isfinite(s.mean)]
    if not means:
        return f"no usable runs along {axis.name}"
    if criterion == "susceptibility":
        return f"no transition found: the susceptibility has no interior peak in {span}"
    assert threshold is not None
    side = "above" if means[0] > threshold else "below"
    return f"no transition found: the order parameter stays {side} {_fmt(threshold)} in {span}"


def _points(plan: _Plan, state: _State) -> list[SampledPoint]:
    out = []
    for row in plan.rows:
        label: dict[str, Scalar] = {} if plan.across is None else {plan.across: row}  # type: ignore[dict-item]
        for u in sorted(state.rows.get(row, {})):
            s = state.rows[row][u]
            out.append(
                SampledPoint(
                    row=label,
                    value=s.value,
                    order_parameter=s.mean,
                    standard_error=s.sem,
                    members=s.members,
                    susceptibility=s.chi,
                    round=s.round,
                )
            )
    return out
