"""Random draws of systems with planted answers, and how an analysis of one is scored.

Each family draws a whole system at random (its parameters, its control grid, its sizes, its
noise), so that an estimator cannot be tuned to a fixed data set: the truth benchmark
(``benchmarks/bench_truth.py``) and the small draw of the test suite score
:func:`landaulab.analyze.analyze` and :func:`landaulab.dynamics.dynamics` on them.

Families (the generator and the source of each known answer are in its module):

* ``potts`` — 2D q-state Potts, q ∈ {2, 3, 4}, Swendsen–Wang (:mod:`.potts`):
  T_c = 1/ln(1 + √q), second order, ν, β/ν, γ/ν of the q-state class;
* ``field_scan`` — Curie–Weiss at zero field and in a field scan (:mod:`.field_scan`):
  T_c = 1, second order, δ = 3;
* ``landau`` — planted Landau polynomials with random coefficients, a₂ = a(T − T₀), a cubic
  or a negative quartic with a sextic (first order at the equal-depth point), or a quartic
  alone (second order at T₀) (:mod:`.planted_landau`);
* ``deep_linear`` — gradient-descent seed ensembles of a two-layer linear network with
  weight decay (:mod:`.deep_linear_ensemble`): γ_c = a, β = 1, second order;
* ``training_curves`` — logistic steps at planted times with random position, width and
  noise, or null runs (noise and a slow drift) (:mod:`.training_curves`).

This module reads analysis results by attribute name only and imports neither
``landaulab.analyze`` nor ``landaulab.dynamics``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from landaulab.datasets.deep_linear_ensemble import deep_linear_ensemble
from landaulab.datasets.field_scan import DELTA, curie_weiss_field_scan
from landaulab.datasets.planted_landau import PlantedLandau, planted_landau
from landaulab.datasets.potts import EXPONENTS, critical_temperature, potts2d
from landaulab.datasets.training_curves import training_curves, transition_edges


@dataclass(frozen=True)
class Planted:
    """One drawn system with its planted answers.

    Attributes
    ----------
    family
        The family it was drawn from.
    group
        The family and the drawn variant (``"potts q=3"``, ``"landau cubic"``): the unit
        in which figures are reported.
    description
        The drawn parameters, in one line.
    frame
        The tidy frame to analyse.
    options
        Keyword arguments of the analysis (column names and settings).
    analysis
        ``"analyze"`` or ``"dynamics"``.
    intervals
        Attribute path of an :class:`~landaulab.estimate.Estimate` in the result (e.g.
        ``"critical_point"``, ``"exponents.nu"``) → its true value.
    order
        The true order of the transition (``"first"``, ``"second"``), or None.
    universality
        Names that identify the true universality class (any of them, case-insensitive, in a
        class name counts), or empty when the class is not one the analysis names.
    runs
        Training curves only: per run, the planted ``midpoint``, ``onset``, ``end`` and
        ``width`` (NaN for a null run), indexed by run id.
    """

    family: str
    group: str
    description: str
    frame: pd.DataFrame
    options: Mapping[str, Any]
    analysis: str = "analyze"
    intervals: Mapping[str, float] = field(default_factory=dict)
    order: str | None = None
    universality: tuple[tuple[str, ...], ...] = ()
    runs: pd.DataFrame | None = None


def _grid(rng: np.random.Generator, centre: float, low: float, high: float, n: int) -> np.ndarray:
    """``n`` controls from centre − low to centre + high, each jittered by ±30 % of a step."""
    base = np.linspace(centre - low, centre + high, n)
    step = (low + high) / (n - 1)
    jitter = rng.uniform(-0.3, 0.3, n) * step
    return np.round(np.sort(base + jitter), 12)


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def draw_potts(rng: np.random.Generator, quick: bool = False) -> Planted:
    """2D q-state Potts (q = 2, 3, 4) by Swendsen–Wang on 2–3 sizes around T_c."""
    q = int(rng.choice([2, 3, 4]))
    tc = critical_temperature(q)
    sizes = [8, 16] if quick or rng.random() < 0.5 else [8, 12, 16]
    n_t = int(rng.integers(9, 14))
    temps = _grid(rng, tc, rng.uniform(0.06, 0.12) * tc, rng.uniform(0.06, 0.12) * tc, n_t)
    runs = int(rng.integers(6, 11))
    sweeps = int(rng.integers(120, 201)) if not quick else 100
    frame = potts2d(temps.tolist(), sizes, q=q, n_runs=runs, n_sweeps=sweeps, seed=_seed(rng))
    exponents = EXPONENTS[q]
    names = {
        2: (("ising",),),
        3: (("potts", "3"), ("potts", "three")),
        4: (("potts", "4"), ("potts", "four")),
    }
    return Planted(
        family="potts",
        group=f"potts q={q}",
        description=f"q={q}, L={sizes}, {n_t} temperatures, {runs} runs × {sweeps} sweeps",
        frame=frame,
        options={
            "order_parameter": "m",
            "control": "temperature",
            "size": "L",
            "volume": "volume",
        },
        intervals={
            "critical_point": tc,
            "exponents.nu": exponents["nu"],
            "exponents.beta_over_nu": exponents["beta"] / exponents["nu"],
            "exponents.gamma_over_nu": exponents["gamma"] / exponents["nu"],
        },
        order="second",
        universality=names[q],
    )


def draw_field_scan(rng: np.random.Generator, quick: bool = False) -> Planted:
    """Curie–Weiss at zero field (two sizes) and a field scan inside the scaling window."""
    sizes = [1000, 4000] if rng.random() < 0.5 else [2000, 8000]
    n_scan = int(rng.choice([100_000, 300_000]))
    # fields with h·N^(3/4) ≥ 3 (beyond the linear finite-size regime) and m ≲ 0.25
    h_low = 3.0 * n_scan ** (-0.75) * rng.uniform(1.0, 2.0)
    h_high = min(0.005, h_low * rng.uniform(8.0, 30.0))
    n_fields = int(rng.integers(4, 7))
    fields = np.geomspace(h_low, h_high, n_fields)
    n_t = int(rng.integers(9, 14))
    temps = _grid(rng, 1.0, rng.uniform(0.04, 0.08), rng.uniform(0.04, 0.08), n_t)
    runs = int(rng.integers(8, 16)) if not quick else 8
    frame = curie_weiss_field_scan(
        temps.tolist(),
        fields.tolist(),
        sizes,
        n_runs=runs,
        n_steps=50,
        scan_size=n_scan,
        seed=_seed(rng),
    )
    return Planted(
        family="field_scan",
        group="field_scan",
        description=(
            f"N={sizes}, scan N={n_scan}, {n_fields} fields {h_low:.2g}–{h_high:.2g}, "
            f"{n_t} temperatures, {runs} runs"
        ),
        frame=frame,
        options={
            "order_parameter": "m",
            "control": "temperature",
            "size": "N",
            "field": "field",
            "use_abs": True,
        },
        intervals={"critical_point": 1.0, "exponents.delta": DELTA},
        order="second",
        universality=(("mean",),),
    )


def random_landau(rng: np.random.Generator) -> tuple[PlantedLandau, str]:
    """A Landau polynomial with random coefficients and its kind (second, cubic, sextic)."""
    a = rng.uniform(0.5, 2.0)
    t0 = rng.uniform(0.5, 2.0)
    kind = str(rng.choice(["second", "cubic", "sextic"]))
    if kind == "second":
        return PlantedLandau(
            a=a, t0=t0, quartic=float(np.exp(rng.uniform(np.log(0.3), np.log(3))))
        ), kind
    if kind == "cubic":
        b = rng.uniform(0.3, 1.5) * rng.choice([-1.0, 1.0])
        return PlantedLandau(a=a, t0=t0, cubic=float(b), quartic=rng.uniform(0.5, 2.0)), kind
    return PlantedLandau(
        a=a, t0=t0, quartic=-rng.uniform(0.5, 1.5), sextic=rng.uniform(0.5, 2.0)
    ), kind


def draw_landau(rng: np.random.Generator, quick: bool = False) -> Planted:
    """A planted Landau polynomial with random coefficients, sampled exactly."""
    model, kind = random_landau(rng)
    t_star = model.transition_temperature
    assert t_star is not None
    n_t = int(rng.integers(11, 22))
    runs = int(rng.integers(10, 21)) if not quick else 10
    if kind == "second":
        # ordered-well depth N·a²Δ²/(4c) at the cold edge between 10 and 100
        n = float(np.exp(rng.uniform(np.log(500), np.log(5000))))
        depth = float(np.exp(rng.uniform(np.log(10), np.log(100))))
        half = float(np.sqrt(4 * model.quartic * depth / (n * model.a**2)))
        temps = _grid(rng, t_star, half * rng.uniform(0.8, 1.2), half * rng.uniform(0.8, 1.2), n_t)
        sizes = [n]
        intervals = {
            "critical_point": t_star,
            "landau.quadratic_zero": t_star,
            "exponents.beta": 0.5,
        }
    else:
        # the coexistence window runs from T₀ (the disordered minimum appears) to
        # T₀ + 9/8 (T* − T₀) (cubic) or T₀ + 4/3 (T* − T₀) (sextic), the ordered spinodal
        span = t_star - model.t0
        upper = model.t0 + (9 / 8 if kind == "cubic" else 4 / 3) * span
        low = t_star - model.t0 + span * rng.uniform(0.2, 0.6)
        high = upper - t_star + span * rng.uniform(0.2, 0.6)
        temps = _grid(rng, t_star, low, high, n_t)
        # barrier N·ΔF at T* between 4 and 30 (ΔF from the polynomial on a grid)
        m = np.linspace(0.0, 1.5 * model.jump, 3001) * (
            -np.sign(model.cubic) if model.cubic else 1.0
        )
        barrier = float(np.max(model.free_energy(m, t_star)) - model.free_energy(0.0, t_star))
        n = float(np.exp(rng.uniform(np.log(4), np.log(30)))) / barrier
        sizes = [n] if rng.random() < 0.5 else [n, 2 * n]
        intervals = {"critical_point": t_star, "landau.equal_depth": t_star}
    frame = planted_landau(
        temps.tolist(), sizes, model=model, n_runs=runs, n_steps=60, seed=_seed(rng)
    )
    symmetric = model.cubic == 0
    return Planted(
        family="landau",
        group=f"landau {kind}",
        description=(
            f"{kind}: a={model.a:.3g}, T0={model.t0:.3g}, c3={model.cubic:.3g}, "
            f"c4={model.quartic:.3g}, c6={model.sextic:.3g}; T*={t_star:.4g}, "
            f"N={[round(s, 1) for s in sizes]}, {n_t} temperatures, {runs} runs"
        ),
        frame=frame,
        options={
            "order_parameter": "m",
            "control": "temperature",
            "size": "N",
            "use_abs": symmetric,
        },
        intervals=intervals,
        order="second" if kind == "second" else "first",
        universality=(("mean",),) if kind == "second" else (),
    )


def draw_deep_linear(rng: np.random.Generator, quick: bool = False) -> Planted:
    """Gradient-descent seed ensembles of a two-layer linear network across weight decay."""
    a = float(rng.uniform(0.5, 2.0))
    n_g = int(rng.integers(12, 21))
    gammas = _grid(rng, a, a * rng.uniform(0.4, 0.8), a * rng.uniform(0.2, 0.6), n_g)
    gammas = gammas[gammas > 0]
    seeds = int(rng.integers(4, 13))
    noise = float(np.exp(rng.uniform(np.log(1e-3), np.log(3e-2)))) * a
    lr = 0.2 / (a + float(gammas.max()))
    steps = 4000 if not quick else 2000
    frame = deep_linear_ensemble(
        gammas.tolist(),
        strength=a,
        n_seeds=seeds,
        n_steps=steps,
        record_every=20,
        learning_rate=lr,
        init_scale=float(rng.uniform(0.01, 0.2)),
        noise=noise,
        seed=_seed(rng),
    )
    return Planted(
        family="deep_linear",
        group="deep_linear",
        description=(
            f"γ_c={a:.4g}, {gammas.size} weight decays {gammas.min():.3g}–{gammas.max():.3g}, "
            f"{seeds} seeds, noise {noise:.2g}, {steps} steps at lr {lr:.3g}"
        ),
        frame=frame,
        options={"order_parameter": "m", "control": "weight_decay"},
        intervals={"critical_point": a, "exponents.beta": 1.0},
        order="second",
    )


#: Fraction of training-curve draws made of null runs only.
NULL_SHARE = 0.25


def draw_training_curves(rng: np.random.Generator, quick: bool = False) -> Planted:
    """A few runs sharing a planted logistic step (per-run jitter), or null runs."""
    n_runs = int(rng.integers(4, 9))
    points = int(rng.integers(300, 1001)) if not quick else 300
    duration = float(points - 1)
    noise = float(np.exp(rng.uniform(np.log(0.01), np.log(0.2))))
    if rng.random() < NULL_SHARE:
        drift = rng.uniform(-2.0, 2.0, n_runs) * noise
        frame = training_curves(
            np.full(n_runs, np.nan), 1.0, noise=noise, drift=drift, n_points=points, seed=_seed(rng)
        )
        runs = pd.DataFrame(
            {"midpoint": np.nan, "onset": np.nan, "end": np.nan, "width": np.nan},
            index=pd.Index(range(n_runs), name="run_id"),
        )
        return Planted(
            family="training_curves",
            group="training_curves null",
            description=(
                f"null: {n_runs} runs × {points} points, noise {noise:.2g}, drift ≤ 2 noise"
            ),
            frame=frame,
            options={"order_parameter": "m", "time_col": "time"},
            analysis="dynamics",
            runs=runs,
        )
    # edges span 2·3.64·w; up to half the record
    half_span = float(transition_edges(0.0, 1.0)[1])
    width = float(np.exp(rng.uniform(np.log(2.0), np.log(duration / (4 * half_span)))))
    span = 2 * half_span * width
    jitter = rng.uniform(0.0, 1.0) * width
    if rng.random() < 0.2:
        centre = half_span * width + 3 * jitter  # onset at the start of the record
    else:
        centre = rng.uniform(
            half_span * width + 3 * jitter, duration - half_span * width - 3 * jitter
        )
    mids = centre + jitter * np.clip(rng.standard_normal(n_runs), -3, 3)
    jump = float(rng.choice([-1.0, 1.0]))
    frame = training_curves(mids, width, jumps=jump, noise=noise, n_points=points, seed=_seed(rng))
    onset, end = transition_edges(mids, width)
    runs = pd.DataFrame(
        {"midpoint": mids, "onset": onset, "end": end, "width": width},
        index=pd.Index(range(n_runs), name="run_id"),
    )
    return Planted(
        family="training_curves",
        group="training_curves step",
        description=(
            f"step: {n_runs} runs × {points} points, midpoint {centre:.1f} (jitter {jitter:.2g}), "
            f"width {width:.3g} (edges at 10 % of the peak rate {span:.3g} apart), "
            f"jump {jump:+g}, noise {noise:.2g}"
        ),
        frame=frame,
        options={"order_parameter": "m", "time_col": "time"},
        analysis="dynamics",
        intervals={"transitions.by_control.0.median": centre},
        runs=runs,
    )


#: Every family: its name → the function drawing one system from a random generator.
FAMILIES: dict[str, Callable[..., Planted]] = {
    "potts": draw_potts,
    "field_scan": draw_field_scan,
    "landau": draw_landau,
    "deep_linear": draw_deep_linear,
    "training_curves": draw_training_curves,
}


def resolve(result: Any, path: str) -> Any:
    """The attribute (or sequence item, for integer parts) at a dotted ``path``; None if absent."""
    value = result
    for part in path.split("."):
        if value is None:
            return None
        if part.isdigit():
            try:
                value = value[int(part)]
            except (IndexError, KeyError, TypeError):
                return None
        else:
            value = getattr(value, part, None)
    return value


@dataclass(frozen=True)
class Score:
    """How one analysis of a planted system fared.

    Attributes
    ----------
    covered
        Quantity → whether its 95 % interval contains the truth (False when the quantity or
        its interval is missing; such cases are also listed in ``missing``).
    errors
        Quantity → |estimate − truth| where an estimate exists.
    estimates
        Quantity → (value, lower, upper) as given (None for what is absent).
    missing
        Quantities the analysis did not give (value or interval).
    order_right
        Whether the order verdict is the planted one (None without a planted order).
    class_consistent, class_best
        Whether the planted class is among the consistent classes / is the best one (None
        when the result does not say or the family has no class).
    recalled, misplaced, false_main
        Training curves: planted runs whose main transition lies within the planted
        [onset, end]; planted runs whose main transition lies outside it; null runs with a
        main transition (None for other families).
    time_errors
        Training curves: per recalled run, |time − midpoint| / width.
    """

    covered: dict[str, bool] = field(default_factory=dict)
    errors: dict[str, float] = field(default_factory=dict)
    estimates: dict[str, tuple[float | None, float | None, float | None]] = field(
        default_factory=dict
    )
    missing: tuple[str, ...] = ()
    order_right: bool | None = None
    class_consistent: bool | None = None
    class_best: bool | None = None
    recalled: tuple[int, int] | None = None
    misplaced: int | None = None
    false_main: tuple[int, int] | None = None
    time_errors: tuple[float, ...] = ()


def _matches(name: Any, names: tuple[tuple[str, ...], ...]) -> bool:
    """Whether a class (a name, or an object with a ``name``) is one of ``names``."""
    text = str(getattr(name, "name", name)).lower()
    return any(all(word in text for word in words) for words in names)


def score(planted: Planted, result: Any) -> Score:
    """Compare an analysis (an ``AnalysisResult`` or ``DynamicsResult``) with the truth."""
    covered: dict[str, bool] = {}
    errors: dict[str, float] = {}
    estimates: dict[str, tuple[float | None, float | None, float | None]] = {}
    missing: list[str] = []
    for path, truth in planted.intervals.items():
        estimate = resolve(result, path)
        value = getattr(estimate, "value", None)
        ci = getattr(estimate, "ci", None)
        estimates[path] = (value, *(ci if ci is not None else (None, None)))
        if value is not None:
            errors[path] = abs(float(value) - truth)
        if value is None or ci is None:
            missing.append(path)
            covered[path] = False
        else:
            covered[path] = bool(ci[0] <= truth <= ci[1])
    order_right = None
    if planted.order is not None:
        order_right = getattr(result, "order", None) == planted.order
    class_consistent = class_best = None
    universality = getattr(result, "universality", None)
    if planted.universality and universality is not None:
        consistent = getattr(universality, "consistent_classes", None)
        if consistent is not None:
            class_consistent = any(_matches(c, planted.universality) for c in consistent)
        best = getattr(universality, "best", None)
        if hasattr(universality, "best"):
            class_best = best is not None and _matches(
                getattr(best, "name", best), planted.universality
            )
    recalled = false_main = None
    misplaced = None
    time_errors: list[float] = []
    if planted.runs is not None:
        mains = {t.run: t for t in resolve(result, "transitions.main") or ()}
        truth_runs = planted.runs
        planted_mask = truth_runs["midpoint"].notna()
        hits = wrong = 0
        for run_id, row in truth_runs[planted_mask].iterrows():
            main = mains.get(run_id)
            if main is None:
                continue
            if row["onset"] <= main.time <= row["end"]:
                hits += 1
                time_errors.append(abs(main.time - row["midpoint"]) / row["width"])
            else:
                wrong += 1
        n_planted = int(planted_mask.sum())
        n_null = int((~planted_mask).sum())
        if n_planted:
            recalled, misplaced = (hits, n_planted), wrong
        if n_null:
            nulls = truth_runs.index[~planted_mask]
            false_main = (sum(1 for r in nulls if r in mains), n_null)
    return Score(
        covered=covered,
        errors=errors,
        estimates=estimates,
        missing=tuple(missing),
        order_right=order_right,
        class_consistent=class_consistent,
        class_best=class_best,
        recalled=recalled,
        misplaced=misplaced,
        false_main=false_main,
        time_errors=tuple(time_errors),
    )
