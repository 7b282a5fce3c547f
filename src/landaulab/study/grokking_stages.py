"""The grokking study's stages and the statistics each one computes.

The study runs in stages, each feeding the next and each kept in the store (so an
interrupted study resumes; a run is never trained twice):

1. **map** — the coarse phase diagram, weight decay × training fraction (a sweep);
2. **locate** — on the line at the study's weight decay, adaptive refinement
   (:func:`landaulab.study.refine.refine`) brackets the generalisation boundary along
   the training fraction to ± ``locate_tolerance`` at the training budget, for every
   size;
3. **resolve** — a seed ensemble at the boundary and on both sides of it, per size;
4. **budget** — the boundary read again at shorter budgets from the same trajectories;
5. **rank** — the candidate order parameters, located with the boundary's definition.

The size variable is the modulus p: the table has p² examples, and the training
fraction at which a network generalises falls as p grows (Power et al. 2022,
arXiv:2201.02177, Fig. 1; Liu et al. 2022, arXiv:2205.10343, §3 — the critical
training-set size), so p plays the role of the system size of finite-size scaling
while the architecture stays fixed. The volume that normalises the free energy and
the susceptibility is N = p².

The statistics here are pure functions of tidy frames and arrays, tested on planted
data; the orchestration is :func:`landaulab.study.grokking.run_grokking_study`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from landaulab.spec.schema import SweepSpec
from landaulab.study.grokking_result import (
    Boundary,
    BudgetLaw,
    Candidate,
    ControlEnsemble,
    FreeEnergy,
    LawSummary,
    OrderVerdict,
)

ORDER_PARAMETER = "generalisation"
CONTROL = "train_fraction"
OTHER = "weight_decay"
SIZE = "p"
CANDIDATES = (
    ORDER_PARAMETER,
    "test_loss",
    "weight_norm",
    "fourier_concentration",
    "hessian_top",
)
LATE = 0.9  # a run's late value: the mean over the last tenth of its logged steps
LEVEL = 0.5  # the boundary: where the seed-averaged generalisation crosses one half
BINS = 10  # P(m) on [0, 1]
LOW, HIGH = 0.1, 0.9  # the ungrokked (m < LOW) and grokked (m > HIGH) modes
Z95 = 1.959963984540054
WELL_SEEDS = 2  # seeds each peak of P(m) needs before F(m) can show its well


@dataclass(frozen=True)
class StudyConfig:
    """The sizes, grids, seeds and budgets of the study's stages."""

    name: str
    map_spec: str
    sizes: tuple[int, ...]
    weight_decay: float
    coarse: tuple[float, ...]
    locate_seeds: int
    tolerance: float
    ensemble_seeds: int
    offsets: tuple[float, ...]
    steps: int
    every: int
    n_budgets: int
    min_budget: int
    settings: dict[str, Any] = field(default_factory=dict)
    n_bootstrap: int = 400
    observables: tuple[str, ...] | None = None
    locate_tolerance: float | None = None
    """The refinement's own tolerance (``None``: ``tolerance``). Its bracket only centres
    the ensembles, and a point decided by a few seeds cannot resolve the boundary much
    finer than the ensembles' spacing: the boundary's ± ``tolerance`` comes from the
    curve through every seed (and the sharpening), not from bisecting further."""
    sharpen_seeds: int = 0
    """Extra seeds the study may train at the fitted boundary, ``sharpen_batch`` at a
    time, while the boundary's interval is wider than ``2·tolerance``."""
    sharpen_batch: int = 8
    locate_first_seeds: int | None = None
    """Seeds the locate stage trains first at each point; its other seeds only where
    those leave the point's phase in doubt (``first_seeds`` of
    :func:`~landaulab.study.refine.refine`; ``None``: all ``locate_seeds``)."""

    def line_spec(
        self, size: int, fractions: Sequence[float], seeds: int | Sequence[int], name: str
    ) -> SweepSpec:
        """A sweep along the training fraction at the study's weight decay and ``size``
        (``seeds``: a count, 0 … seeds − 1, or the seeds)."""
        settings = dict(self.settings) | {
            "p": size,
            "weight_decay": self.weight_decay,
            "steps": self.steps,
        }
        return SweepSpec.model_validate(
            {
                "name": name,
                "description": f"grokking study, {name}",
                "task": "modular_arithmetic",
                "seeds": list(range(seeds)) if isinstance(seeds, int) else list(seeds),
                "settings": settings,
                "controls": {CONTROL: [round(float(f), 6) for f in fractions]},
                "record": {"every": self.every}
                | ({} if self.observables is None else {"observables": list(self.observables)}),
            }
        )

    def budgets(self) -> list[int]:
        """``n_budgets`` log-spaced budgets from ``min_budget`` to the full budget, on
        logged steps."""
        raw = np.geomspace(self.min_budget, self.steps, self.n_budgets)
        snapped = sorted({int(round(b / self.every) * self.every) for b in raw})
        return [b for b in snapped if 0 < b <= self.steps]


#: What the lines record: everything but the top Hessian eigenvalue, whose Lanczos
#: iterations cost about a third of a run; the map records it (for the ranking).
LINE_OBSERVABLES = (
    "train_loss",
    "test_loss",
    "train_accuracy",
    "test_accuracy",
    "weight_norm",
    "fourier_concentration",
)

#: Settings shared by the map and every line (so the map's runs on the line are reused).
SETTINGS: dict[str, Any] = {
    "operation": "+",
    "width": 128,
    "embedding_dim": 32,
    "activation": "quadratic",
    "optimizer": "adamw",
    "loss": "cross_entropy",
    "lr": 0.003,
    "stop_accuracy": 0.99,
    "stop_patience": 3,
}

FULL = StudyConfig(
    name="full",
    map_spec="grokking",
    sizes=(23, 31),
    weight_decay=1.0,
    coarse=(0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    locate_seeds=4,
    locate_first_seeds=2,
    tolerance=0.01,
    locate_tolerance=0.02,
    ensemble_seeds=16,
    offsets=(-0.04, 0.0, 0.04),
    sharpen_seeds=24,
    sharpen_batch=4,
    steps=3000,
    every=50,
    n_budgets=10,
    min_budget=500,
    settings=SETTINGS,
    observables=LINE_OBSERVABLES,
)

QUICK = StudyConfig(
    name="quick",
    map_spec="grokking_quick",
    sizes=(19, 23),
    weight_decay=1.0,
    coarse=(0.3, 0.5, 0.7),
    locate_seeds=2,
    tolerance=0.025,
    ensemble_seeds=8,
    offsets=(-0.05, 0.0, 0.05),
    steps=2000,
    every=50,
    n_budgets=8,
    min_budget=400,
    settings=SETTINGS,
    n_bootstrap=200,
    observables=LINE_OBSERVABLES,
)


# ------------------------------------------------------------------- order parameter


def add_generalisation(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the order parameter: test accuracy above chance, rescaled to [0, 1]."""
    from landaulab.errors import DataError

    if "test_accuracy" not in frame.columns or SIZE not in frame.columns:
        raise DataError("the grokking study needs 'test_accuracy' and 'p' columns")
    from landaulab.tasks.modular_arithmetic import generalisation

    out = frame.copy()
    out[ORDER_PARAMETER] = generalisation(frame["test_accuracy"], frame[SIZE].astype(float))
    return out


def boundary_accuracy(size: int, level: float = LEVEL) -> float:
    """The test accuracy at which generalisation equals ``level`` for modulus ``size``
    (the inverse of the order parameter's rescaling): the boundary's level in the units
    the locate stage refines on."""
    chance = 1.0 / size
    return chance + level * (1.0 - chance)


def map_bracket(row: pd.DataFrame, value: str, threshold: float) -> tuple[float, float] | None:
    """The neighbouring training fractions of one row of the map between which the seed
    mean of ``value`` first rises through ``threshold``; ``None`` when it does not.

    ``row`` has one line per run: its training fraction and ``value``.
    """
    means = row.groupby(CONTROL, sort=True)[value].mean()
    xs, ys = means.index.to_numpy(dtype=float), means.to_numpy(dtype=float)
    for i in range(len(xs) - 1):
        if ys[i] < threshold <= ys[i + 1]:
            return float(xs[i]), float(xs[i + 1])
    return None


def runs_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run: its controls, seed and size."""
    cols = [c for c in (OTHER, CONTROL, "seed", SIZE) if c in frame.columns]
    return frame.groupby("run_id", sort=True)[cols].first().reset_index()


def late_generalisation(frame: pd.DataFrame, burn_in: float = LATE) -> pd.Series:
    """Per run, the mean generalisation over the last ``1 − burn_in`` of its logged steps
    (a run stopped early contributes where it stopped: generalised)."""
    from landaulab.late_time import late_means

    late = late_means(frame, [ORDER_PARAMETER], burn_in=burn_in)
    return late[ORDER_PARAMETER]


def value_at_budget(frame: pd.DataFrame, budget: int, burn_in: float = LATE) -> pd.Series:
    """Per run, the late generalisation at a budget: its mean over the logged steps in
    ``[burn_in·budget, budget]`` (the rule of :func:`late_generalisation`, applied as
    if the run had ended at ``budget``); a run that stopped earlier (it generalised)
    keeps its late value."""
    early = frame[frame["step"] <= budget]
    last = early.groupby("run_id", sort=True)["step"].transform("max")
    start = np.minimum(burn_in * budget, burn_in * last)
    window = early[early["step"] >= start]
    return window.groupby("run_id", sort=True)[ORDER_PARAMETER].mean()


def rising(frame: pd.DataFrame, burn_in: float = LATE, rise: float = 0.05) -> pd.Series:
    """Per run, whether its generalisation rose by more than ``rise`` over its late
    window (from the window's first logged value to its last): a run caught in the
    middle of its jump when the budget ran out."""
    from landaulab.late_time import late_mask

    ordered = frame.sort_values(["run_id", "step"], kind="stable")
    late = ordered[
        late_mask(ordered["step"].to_numpy(), ordered["run_id"].to_numpy(), burn_in=burn_in)
    ]
    grouped = late.groupby("run_id", sort=True)[ORDER_PARAMETER]
    return (grouped.last() - grouped.first()) > rise


# ------------------------------------------------------------------- the boundary


def crossing(x: np.ndarray, y: np.ndarray, level: float = LEVEL) -> float | None:
    """The first upward crossing of ``level`` by ``y(x)`` (x sorted), linearly
    interpolated between the two sampled points that bracket it; ``None`` if none."""
    for i in range(len(x) - 1):
        if y[i] < level <= y[i + 1]:
            return float(x[i] + (level - y[i]) * (x[i + 1] - x[i]) / (y[i + 1] - y[i]))
    return None


def _groups(line: pd.DataFrame, value: str) -> tuple[np.ndarray, list[np.ndarray]]:
    grouped = line.groupby(CONTROL, sort=True)[value]
    xs = np.array([float(k) for k, _ in grouped])
    return xs, [g.to_numpy(dtype=float) for _, g in grouped]


def boundary_from_line(
    line: pd.DataFrame,
    value: str,
    n_bootstrap: int,
    rng: np.random.Generator,
    level: float = LEVEL,
) -> tuple[float, tuple[float, float]] | None:
    """The training fraction where the seed mean of ``value`` crosses ``level``, with a
    95% percentile interval from resampling seeds within each fraction (Efron &
    Tibshirani 1993, ch. 13); ``None`` without a crossing. Replicates without a
    crossing put the boundary beyond the sampled range and widen the interval to it."""
    xs, groups = _groups(line, value)
    if len(xs) < 2:
        return None
    base = crossing(xs, np.array([g.mean() for g in groups]), level)
    if base is None:
        return None
    reps = []
    for _ in range(n_bootstrap):
        means = np.array([rng.choice(g, size=g.size).mean() for g in groups])
        c = crossing(xs, means, level)
        if c is None:
            c = float(xs[-1]) if means[-1] < level else float(xs[0])
        reps.append(c)
    lo, hi = np.percentile(reps, [2.5, 97.5])
    return base, (float(min(lo, base)), float(max(hi, base)))


def fitted_crossing(x: np.ndarray, y: np.ndarray, level: float = LEVEL) -> float | None:
    """Where the fractional logit through the pairs (``x``, ``y`` in [0, 1]) rises
    through ``level`` (the point estimate of :func:`boundary_fit`); ``None`` unless the
    fit converges, rises, and crosses inside the sampled ``x``."""
    from landaulab.analyze.fractional_logit import fit_fractional_logit

    if np.unique(x).size < 2:
        return None
    fit = fit_fractional_logit(x, y)
    centre = float(fit.crossing(level)[0])
    inside = float(x.min()) <= centre <= float(x.max())
    return centre if fit.converged[0] and fit.slope[0] > 0 and inside else None


def boundary_fit(
    line: pd.DataFrame,
    value: str,
    n_bootstrap: int,
    rng: np.random.Generator,
    level: float = LEVEL,
) -> tuple[float, tuple[float, float]] | None:
    """The training fraction where a logistic curve fitted to every run's ``value``
    crosses ``level``, with a 95% percentile interval from resampling runs; ``None``
    where the fitted curve does not rise through ``level`` inside the sampled
    fractions.

    One curve through all runs on the line (the fractional logit of Papke & Wooldridge
    1996, Firth-penalised; :mod:`landaulab.analyze.fractional_logit`) uses every seed at
    every fraction, where :func:`boundary_from_line` reads only the two fractions whose
    seed means bracket the level: the refinement's points with few seeds and the
    ensemble's with many enter one estimate, each with its weight. It is the
    psychometric-function fit of a threshold (Wichmann & Hill 2001, Percept.
    Psychophys. 63, 1293), with generalisation for the share of correct answers. The
    interval resamples runs with their fractions (pairs), not within each fraction: a
    fraction with two seeds resampled among themselves would halve their variance.
    Replicates whose curve does not cross inside the sampled range put the boundary at
    the range's end, widening the interval to it.
    """
    from landaulab.analyze.fractional_logit import fit_fractional_logit

    x = line[CONTROL].to_numpy(dtype=float)
    y = line[value].to_numpy(dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], np.clip(y[keep], 0.0, 1.0)
    centre = fitted_crossing(x, y, level)
    if centre is None:
        return None
    low, high = float(x.min()), float(x.max())
    # the pairs bootstrap of a regression (Efron & Tibshirani 1993, §9.5): runs
    # resampled together with their fractions, as case weights
    weights = rng.multinomial(x.size, np.full(x.size, 1.0 / x.size), size=n_bootstrap)
    fits = fit_fractional_logit(x, y, weights)
    reps = fits.crossing(level)
    rises = fits.converged & (fits.slope > 0) & np.isfinite(reps)
    # a replicate whose curve crosses beyond the data puts the boundary at that end; one
    # that does not rise, at the end where its seeds are still below the level (the
    # rule of boundary_from_line)
    top = x == high
    top_mean = (weights[:, top] @ y[top]) / np.maximum(weights[:, top].sum(1), 1.0)
    edge = np.where(top_mean < level, high, low)
    reps = np.where(rises, np.clip(reps, low, high), edge)
    lo, hi = np.percentile(reps, [2.5, 97.5])
    return centre, (float(min(lo, centre)), float(max(hi, centre)))


def sharpen_step(
    fitted: Boundary | None, config: StudyConfig, extra: int
) -> tuple[float, tuple[int, ...]] | None:
    """The next batch of seeds for the boundary ``fitted`` after ``extra`` seeds have
    been added: the fraction (the fitted crossing, where a seed tells the most about
    it) and the seeds; ``None`` once its interval is within ``2·tolerance``, without a
    boundary, or when ``sharpen_seeds`` are spent. Seeds start past the ensemble's, so
    a crossing on an ensemble's fraction adds runs there."""
    if fitted is None or fitted.width <= 2 * config.tolerance:
        return None
    batch = min(config.sharpen_batch, config.sharpen_seeds - extra)
    if batch <= 0:
        return None
    first = config.ensemble_seeds + extra
    centre = round(min(0.95, max(0.05, fitted.value)), 3)
    return centre, tuple(range(first, first + batch))


# ------------------------------------------------------------------- the ensemble


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson score 95% interval of a binomial proportion (Wilson 1927, JASA 22, 209)."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def binder(values: np.ndarray) -> float | None:
    """Binder cumulant of the centred order parameter, U = 1 − ⟨δm⁴⟩/(3⟨δm²⟩²):
    0 for a Gaussian peak, 2/3 for two equal sharp peaks (coexistence), negative for a
    flat distribution (Binder 1981, Z. Phys. B 43, 119)."""
    d = values - values.mean()
    m2 = float(np.mean(d**2))
    if m2 <= 1e-12:
        return None
    return 1.0 - float(np.mean(d**4)) / (3 * m2 * m2)


def control_ensemble(
    size: int,
    control: float,
    values: np.ndarray,
    n_bootstrap: int,
    rng: np.random.Generator,
    in_transit: np.ndarray | None = None,
) -> ControlEnsemble:
    """P(m), coexistence counts, Binder cumulant and χ of one seed ensemble;
    ``in_transit`` flags the seeds still rising at the end (see :func:`rising`)."""
    values = np.asarray(values, dtype=float)
    moving = np.zeros(values.size, bool) if in_transit is None else np.asarray(in_transit, bool)
    n = values.size
    volume = size * size
    hist = np.histogram(np.clip(values, 0, 1), bins=BINS, range=(0.0, 1.0))[0]
    k = int((values >= LEVEL).sum())
    boot = rng.choice(values, size=(n_bootstrap, n))
    u_reps = [u for u in (binder(b) for b in boot) if u is not None]
    u = binder(values)
    chi = float(volume * values.var(ddof=1)) if n > 1 else 0.0
    chi_reps = volume * boot.var(axis=1, ddof=1) if n > 1 else np.zeros(1)
    return ControlEnsemble(
        size=size,
        control=float(control),
        values=tuple(float(v) for v in values),
        histogram=tuple(int(c) for c in hist),
        grokked=k / n,
        grokked_ci=wilson(k, n),
        low=int((values < LOW).sum()),
        middle=int(((values >= LOW) & (values <= HIGH)).sum()),
        high=int((values > HIGH).sum()),
        transit=int(((values >= LOW) & (values <= HIGH) & moving).sum()),
        binder=u,
        binder_ci=(
            (float(np.percentile(u_reps, 2.5)), float(np.percentile(u_reps, 97.5)))
            if u is not None and len(u_reps) >= 10
            else None
        ),
        chi=chi,
        chi_ci=(float(np.percentile(chi_reps, 2.5)), float(np.percentile(chi_reps, 97.5)))
        if n > 1
        else None,
    )


def _landau_coefficients(counts: np.ndarray, volume: int) -> tuple[np.ndarray, np.ndarray]:
    """F(m) per bin and its weighted least-squares fit F₀ + hφ + aφ² + bφ⁴."""
    n = counts.sum()
    width = 1.0 / BINS
    density = (counts + 0.5) / ((n + BINS / 2) * width)
    f = -np.log(density) / volume
    centres = (np.arange(BINS) + 0.5) * width
    phi = centres - 0.5
    design = np.column_stack([np.ones_like(phi), phi, phi**2, phi**4])
    # Var ln P_k ≈ 1 / (n_k + ½) (Poisson counts): weight each bin by its count.
    w = np.sqrt(counts + 0.5)
    coef, *_ = np.linalg.lstsq(design * w[:, None], f * w, rcond=None)
    return f, coef


def _barrier(coef: np.ndarray) -> float:
    """The fitted F at the midpoint m = ½ above the higher of its values in the two
    phases (the outermost bins, m ≈ 0 and m ≈ 1): positive for two wells, one per phase,
    with a barrier between; negative when the middle is itself a well."""
    edge = 0.5 - 0.5 / BINS

    def shape(phi: float) -> float:
        return float(coef[1] * phi + coef[2] * phi**2 + coef[3] * phi**4)

    return shape(0.0) - max(shape(-edge), shape(edge))


def free_energy(
    size: int, control: float, values: np.ndarray, n_bootstrap: int, rng: np.random.Generator
) -> FreeEnergy:
    """The static free energy F(m) = −ln P(m)/N (N = p²) and its Landau fit.

    P(m) is the histogram of the seeds' late generalisation with the Krichevsky–Trofimov
    pseudo-count ½ per bin (Krichevsky & Trofimov 1981, IEEE Trans. Inf. Theory 27, 199),
    so an empty bin gives a finite value, a lower bound on its free energy. The Landau
    polynomial F₀ + h·φ + a·φ² + b·φ⁴ in φ = m − ½ (Landau & Lifshitz, *Statistical
    Physics* §143–146, with a field h that tilts the wells) is fitted by weighted least
    squares; intervals resample seeds.

    A *double well* needs both: the barrier's interval above 0, and both wells held by
    seeds (at least :data:`WELL_SEEDS` below ``LOW`` and as many above ``HIGH``). With one
    phase held, the other "well" is the pseudo-count's floor, not a measured minimum.
    """
    values = np.clip(np.asarray(values, dtype=float), 0, 1)
    volume = size * size

    def counts_of(v: np.ndarray) -> np.ndarray:
        return np.histogram(v, bins=BINS, range=(0.0, 1.0))[0].astype(float)

    f, coef = _landau_coefficients(counts_of(values), volume)
    boot = [
        _landau_coefficients(counts_of(rng.choice(values, size=values.size)), volume)[1]
        for _ in range(n_bootstrap)
    ]
    reps = np.array(boot)
    coefficients = []
    for j, name in enumerate(("F0", "h", "a", "b")):
        lo, hi = np.percentile(reps[:, j], [2.5, 97.5])
        coefficients.append((name, float(coef[j]), float(lo), float(hi)))
    barrier = _barrier(coef)
    b_lo, b_hi = np.percentile([_barrier(c) for c in boot], [2.5, 97.5])
    held = min(int((values < LOW).sum()), int((values > HIGH).sum())) >= WELL_SEEDS
    double_well = bool(b_lo > 0 and held)
    centres = (np.arange(BINS) + 0.5) / BINS
    return FreeEnergy(
        size=size,
        control=float(control),
        volume=volume,
        m=tuple(float(c) for c in centres),
        f=tuple(float(v) for v in f),
        coefficients=tuple(coefficients),
        double_well=double_well,
        barrier=barrier,
        barrier_ci=(float(b_lo), float(b_hi)),
    )


def order_verdict(
    size: int, ensembles: Sequence[ControlEnsemble], boundary: float, energy: FreeEnergy | None
) -> OrderVerdict:
    """The order of the transition from the seed ensembles around the boundary.

    First order: at the boundary both phases are held by seeds (≥ 2 ungrokked, ≥ 2
    grokked or on their way — still rising when the budget ran out), and few seeds rest
    between the peaks at any control (≤ ¼): the weight moves between two fixed peaks.
    Continuous: most seeds at the boundary rest between the peaks (one peak shifting).
    Otherwise undecided. Counts decide; the Landau fit of F(m) is quoted beside them.
    """
    ordered = sorted(ensembles, key=lambda e: e.control)
    if not ordered:
        return OrderVerdict(size, "undecided", f"p = {size}: no ensemble")
    at = min(ordered, key=lambda e: abs(e.control - boundary))
    total = sum(e.n for e in ordered)
    resting = sum(e.middle - e.transit for e in ordered)
    shares = " → ".join(f"{e.grokked:.2f}" for e in ordered)
    fractions = ", ".join(f"{e.control:g}" for e in ordered)
    head = (
        f"p = {size}: at training fraction {at.control:g}, {at.high} of {at.n} seeds "
        f"generalise (m > {HIGH:g}), {at.low} do not (m < {LOW:g}) and {at.middle} lie "
        f"between, {at.transit} of them still rising when the budget ran out; the share "
        f"with m ≥ ½ at fractions {fractions} is {shares}, and {resting} of {total} seeds "
        "rest between the peaks"
    )
    well = ""
    if energy is not None and energy.barrier is not None:
        lo, hi = energy.barrier_ci or (float("nan"), float("nan"))
        shape = "a double well" if energy.double_well else "not a resolved double well"
        well = (
            f"; the Landau fit of F(m) there is {shape} (barrier {energy.barrier:.3g} "
            f"[{lo:.3g}, {hi:.3g}] per unit volume)"
        )
    if at.low >= 2 and at.high + at.transit >= 2 and resting <= total / 4:
        return OrderVerdict(
            size,
            "first",
            head + ": the two phases coexist and only their weights move, the signature of "
            "a first-order transition" + well + ".",
        )
    if at.middle - at.transit > at.n / 2:
        return OrderVerdict(
            size,
            "continuous",
            head
            + ": most seeds rest between the peaks, one peak shifting continuously"
            + well
            + ".",
        )
    return OrderVerdict(
        size, "undecided", head + ": neither coexistence nor a shifting peak is clear" + well + "."
    )


# ------------------------------------------------------------------- the budget law


def budget_points(
    line: pd.DataFrame,
    size: int,
    budgets: Sequence[int],
    n_bootstrap: int,
    seed: int = 0,
) -> list[Boundary]:
    """The boundary at each budget, read from the line's trajectories: every run's
    value at the budget, the logistic curve through them crossing ½
    (:func:`boundary_fit`, method ``logistic_fit``), or, where that curve does not
    cross inside the sampled fractions, the seed means' crossing
    (:func:`boundary_from_line`, method ``seed_mean_crossing``); bootstrap over seeds.

    Each (size, budget) draws its resamples from its own generator, seeded by
    ``(seed, size, budget)``: the same line gives the same interval whichever budgets
    are asked for together (the sharpening stage and the analysis agree to the digit)."""
    runs = runs_table(line).set_index("run_id")
    points = []
    for budget in budgets:
        rng = np.random.default_rng((seed, size, int(budget)))
        at = value_at_budget(line, budget).rename("m").to_frame().join(runs[[CONTROL]])
        at = at.reset_index()
        method = "logistic_fit"
        located = boundary_fit(at, "m", n_bootstrap, rng)
        if located is None:
            method = "seed_mean_crossing"
            located = boundary_from_line(at, "m", n_bootstrap, rng)
        if located is None:
            continue
        value, ci = located
        points.append(Boundary(size, int(budget), value, ci, method))
    return points


def _law_summary(fit: Any) -> LawSummary:
    params = tuple(
        (
            str(k),
            _finite(v.value),
            _finite(v.ci[0]) if v.ci else None,
            _finite(v.ci[1]) if v.ci else None,
        )
        for k, v in fit.parameters.items()
    )
    div = fit.divergence
    return LawSummary(
        law=str(fit.law),
        formula=str(fit.formula),
        aicc=_finite(fit.aicc),
        weight=_finite(fit.weight),
        parameters=params,
        divergence=None
        if div is None
        else (
            _finite(div.value),
            _finite(div.ci[0]) if div.ci else None,
            _finite(div.ci[1]) if div.ci else None,
        ),
    )


def _finite(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def budget_law(size: int, points: Sequence[Boundary], n_bootstrap: int) -> BudgetLaw:
    """Fit the budget at which the boundary sits at each fraction with a power law
    t = A (f − f_c)^(−ν) (the boundary converges to a critical fraction f_c) and with
    Arrhenius t = A exp(ΔF/f) (it keeps moving), compared by AICc
    (:func:`landaulab.dynamics.laws.compare_laws`)."""
    import warnings

    from landaulab.dynamics.laws import compare_laws

    points = tuple(points)
    if len(points) < 4:
        return BudgetLaw(
            size, points, (), None, f"p = {size}: {len(points)} budget points, too few to fit"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        laws = compare_laws(
            [p.value for p in points],
            [p.budget for p in points],
            laws=("power", "arrhenius"),
            n_bootstrap=n_bootstrap,
        )
    fits = tuple(_law_summary(f) for f in laws.fits if f.fitted)
    best = laws.best.law if fits and laws.best is not None else None
    verdict = f"p = {size}: " + _budget_verdict(best, fits, len(points))
    return BudgetLaw(size, points, fits, best, verdict)


#: Akaike weight below which the best law is not preferred: ΔAICc < 2 between two laws
#: (weight < e/(1 + e) ≈ 0.73) means both are substantially supported (Burnham &
#: Anderson 2002, §2.6).
DECISIVE_WEIGHT = math.e / (1 + math.e)


def decided(law: BudgetLaw) -> bool:
    """Whether the best law of a budget fit is clearly preferred (ΔAICc ≥ 2)."""
    best = next((f for f in law.fits if f.law == law.best), None)
    return best is not None and best.weight is not None and best.weight >= DECISIVE_WEIGHT


def _budget_verdict(best: str | None, fits: Sequence[LawSummary], n: int) -> str:
    if best is None:
        return f"no law could be fitted to {n} points"
    by = {f.law: f for f in fits}
    chosen = by[best]
    w = chosen.weight
    weight = f" (Akaike weight {w:.2f})" if w is not None else ""
    if w is None or w < DECISIVE_WEIGHT:
        return (
            f"over {n} budgets the {best} law fits slightly better{weight}, but both laws "
            "stay within 2 of each other in AICc: the data do not decide whether the "
            "boundary converges to a critical fraction or keeps moving"
        )
    if best == "power" and chosen.divergence is not None and chosen.divergence[0] is not None:
        v, lo, hi = chosen.divergence
        ci = f" [{lo:.3f}, {hi:.3f}]" if lo is not None and hi is not None else ""
        return (
            f"over {n} budgets the power law fits best{weight}: the boundary converges to a "
            f"critical training fraction {v:.3f}{ci} as the budget grows"
        )
    if best == "arrhenius":
        return (
            f"over {n} budgets the Arrhenius law fits best{weight}: the boundary keeps moving "
            "to smaller fractions as the budget grows, with no critical fraction in reach"
        )
    return f"over {n} budgets the {best} law fits best{weight}"


# ------------------------------------------------------------------- the ranking


def _rise_step(steps: np.ndarray, values: np.ndarray, start: int) -> float | None:
    """First step ≥ ``start`` at which the series has made half of its change from its
    value at ``start`` to its last value."""
    after = steps >= start
    s, v = steps[after], values[after]
    if s.size < 2 or not np.isfinite(v).all():
        return None
    change = v[-1] - v[0]
    if abs(change) <= 1e-12:
        return None
    progress = (v - v[0]) / change
    hit = np.nonzero(progress >= 0.5)[0]
    return float(s[hit[0]]) if hit.size else None


def rank_candidates(line: pd.DataFrame, candidates: Sequence[str] = CANDIDATES) -> list[Candidate]:
    """Rank the candidates by sharpness, then by how early they rise (see
    :class:`~landaulab.study.grokking_result.Candidate`)."""
    from landaulab.late_time import late_means

    present = [c for c in candidates if c in line.columns]
    late = late_means(line, present, burn_in=LATE).join(runs_table(line).set_index("run_id"))
    gen_steps: dict[str, tuple[float, float]] = {}
    for run_id, run in line.sort_values("step").groupby("run_id"):
        steps = run["step"].to_numpy()
        train = run["train_accuracy"].to_numpy() if "train_accuracy" in run else np.zeros(0)
        memorised = steps[: train.size][train >= 0.9]
        m = run[ORDER_PARAMETER].to_numpy()
        hit = np.nonzero(m >= LEVEL)[0]
        if memorised.size and hit.size and m[-1] >= HIGH:
            gen_steps[str(run_id)] = (float(memorised[0]), float(steps[hit[0]]))
    out = []
    for name in present:
        table = late[[CONTROL, name]].dropna()
        means = table.groupby(CONTROL, sort=True)[name].mean()
        location = sharpness = None
        if len(means) >= 2 and abs(means.iloc[-1] - means.iloc[0]) > 1e-12:
            first, span = means.iloc[0], means.iloc[-1] - means.iloc[0]
            y = (means.to_numpy() - first) / span
            # the boundary's definition: the curve through every run's rescaled value
            # (clipped to [0, 1]), the seed means' crossing where it does not cross
            runs_y = np.clip((table[name].to_numpy(dtype=float) - first) / span, 0.0, 1.0)
            location = fitted_crossing(table[CONTROL].to_numpy(dtype=float), runs_y)
            if location is None:
                location = crossing(means.index.to_numpy(dtype=float), y)
            total = np.abs(np.diff(y)).sum()
            sharpness = float(np.abs(np.diff(y)).max() / total) if total > 0 else None
        leads = []
        for run_id, (memorised_at, generalised_at) in gen_steps.items():
            run = line[line["run_id"] == run_id].sort_values("step")
            series = run[["step", name]].dropna()
            rise = _rise_step(
                series["step"].to_numpy(), series[name].to_numpy(dtype=float), int(memorised_at)
            )
            if rise is not None:
                leads.append(generalised_at - rise)
        out.append(
            Candidate(
                observable=name,
                location=location,
                sharpness=sharpness,
                lead=float(np.median(leads)) if leads else None,
                lead_runs=len(leads),
            )
        )
    return sorted(out, key=lambda c: (-(c.sharpness or 0.0), -(c.lead or -math.inf)))
