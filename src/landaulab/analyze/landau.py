"""Landau free energy F(m; T) = −log P(m) / V, fitted by a composable Landau polynomial.

The ensemble distribution P(m) at one (control, size) defines the free energy per degree
of freedom F(m) = −log P(m)/V up to a constant (Landau 1937; Landau & Lifshitz,
"Statistical Physics", §146; for its use on finite systems see Binder 1981, Z. Phys. B 43,
119). It is fitted, bin by bin, by a polynomial built from composable terms::

    SYMMETRIC = QUADRATIC + QUARTIC + SEXTIC          # a₂m² + a₄m⁴ + a₆m⁶
    GENERAL = FIELD + QUADRATIC + CUBIC + QUARTIC     # a₁m + a₂m² + a₃m³ + a₄m⁴

(plus a free constant for the normalisation). The fit is Poisson maximum likelihood on the
histogram counts (empty bins included), started from weighted least squares on
−log(counts). Uncertainties come from refitting
every bootstrap replicate (resampling runs), which stays honest when steps are correlated.
From the fits: a₂(T) and its zero, the minimiser m*(T) of the fitted F, and the depth
difference ΔF = F(m_ordered) − F(m_disordered) between coexisting minima.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from landaulab.analyze.bootstrap import percentile_interval
from landaulab.analyze.distribution import Histograms, Modes, find_modes
from landaulab.analyze.ensemble import Ensemble


@dataclass(frozen=True)
class LandauTerm:
    """One monomial a_k·m^k of a Landau polynomial.

    Parameters
    ----------
    power
        The power k ≥ 1.
    name
        The coefficient's name (``"a2"`` for the quadratic term).
    """

    power: int
    name: str

    def __add__(self, other: LandauTerm | LandauPolynomial) -> LandauPolynomial:
        return LandauPolynomial((self,)) + other


@dataclass(frozen=True)
class LandauPolynomial:
    """A sum of Landau terms, F(m) = Σ_k a_k m^k (kept sorted by power)."""

    terms: tuple[LandauTerm, ...]

    def __post_init__(self) -> None:
        ordered = tuple(sorted(set(self.terms), key=lambda term: term.power))
        object.__setattr__(self, "terms", ordered)

    def __add__(self, other: LandauTerm | LandauPolynomial) -> LandauPolynomial:
        extra = (other,) if isinstance(other, LandauTerm) else other.terms
        return LandauPolynomial(self.terms + extra)

    @property
    def powers(self) -> np.ndarray:
        """The powers k, ascending."""
        return np.array([term.power for term in self.terms], dtype=float)

    @property
    def names(self) -> tuple[str, ...]:
        """Coefficient names, ascending in power."""
        return tuple(term.name for term in self.terms)

    @property
    def is_even(self) -> bool:
        """Whether every power is even (F(−m) = F(m))."""
        return all(term.power % 2 == 0 for term in self.terms)

    def truncated(self, n_terms: int) -> LandauPolynomial:
        """The polynomial keeping its ``n_terms`` lowest powers."""
        return LandauPolynomial(self.terms[: max(n_terms, 1)])

    def evaluate(self, m: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
        """F(m) = Σ a_k m^k (no constant); ``coefficients`` has shape (..., n_terms)."""
        m = np.asarray(m, dtype=float)
        basis = m[..., None] ** self.powers
        return np.tensordot(basis, np.asarray(coefficients, dtype=float), axes=([-1], [-1]))

    def __str__(self) -> str:
        return " + ".join(f"{term.name}·m^{term.power}" for term in self.terms)


FIELD = LandauTerm(1, "a1")
QUADRATIC = LandauTerm(2, "a2")
CUBIC = LandauTerm(3, "a3")
QUARTIC = LandauTerm(4, "a4")
SEXTIC = LandauTerm(6, "a6")
#: Even polynomial for Z₂-symmetric order parameters.
SYMMETRIC = QUADRATIC + QUARTIC + SEXTIC
#: Polynomial with odd terms for order parameters without m → −m symmetry.
GENERAL = FIELD + QUADRATIC + CUBIC + QUARTIC

_GRID = 241
#: Most bootstrap replicates refitted per (control, size) group.
MAX_REPLICATES = 200
#: Newton steps for a replicate, started from the data's optimum (a one-step-style
#: bootstrap: Davison, Hinkley & Schechtman 1986, Biometrika 73, 555).
REPLICATE_ITERATIONS = 4


@dataclass(frozen=True, eq=False)
class FreeEnergyFit:
    """Landau fits of every (control, size) group.

    Attributes
    ----------
    polynomial
        The fitted polynomial (some groups may use fewer terms when few bins are populated).
    coefficients, stderr, lower, upper
        Arrays (G, n_terms) in the user's units (``lower``/``upper``: 95 % bootstrap
        percentile interval) (F per unit volume, m in the user's units);
        NaN where a term was not fitted.
    internal, replicates
        Coefficients in internal units (data and bootstrap, (G, n) and (B, G, n)); only
        ratios within a size are meaningful.
    depth_difference, depth_difference_replicates
        ΔF between the outermost and innermost minima of the fitted F (internal units; NaN
        where the fit has a single minimum).
    m_star, m_star_replicates
        |m| at the global minimum of each fitted F (user units), for the data (G,) and
        the bootstrap replicates (B, G): the most probable |m|, which the finite-size
        rounding of the moments of m does not bias (see :func:`_minimiser`).
    modes
        Significant modes of each group's histogram.
    curves
        Per group: measured and fitted F on the bin centres (user units).
    """

    polynomial: LandauPolynomial
    coefficients: np.ndarray
    stderr: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    internal: np.ndarray
    replicates: np.ndarray
    depth_difference: np.ndarray
    depth_difference_replicates: np.ndarray
    m_star: np.ndarray
    m_star_replicates: np.ndarray
    modes: tuple[Modes, ...]
    curves: tuple[dict[str, np.ndarray], ...] = field(repr=False)

    def term_index(self, name: str) -> int | None:
        """Column of the named coefficient, or None."""
        return self.polynomial.names.index(name) if name in self.polynomial.names else None


def fit_free_energy(
    ensemble: Ensemble,
    histograms: Histograms,
    polynomial: LandauPolynomial,
    *,
    min_count: int = 5,
) -> FreeEnergyFit:
    """Fit F(m) = −log P(m)/V by ``polynomial`` in every group, for data and replicates.

    Parameters
    ----------
    ensemble
        Groups and resampling.
    histograms
        Per-group histograms.
    polynomial
        The Landau polynomial (a constant term is always added).
    min_count
        Bins with fewer counts in the data are left out of the fit.
    """
    prepared = ensemble.prepared
    resampling = ensemble.resampling
    n_groups, n_terms = ensemble.n_groups, len(polynomial.terms)
    n_boot = min(resampling.n_bootstrap, MAX_REPLICATES)
    powers_all = polynomial.powers
    coefficients = np.full((n_groups, n_terms), np.nan)
    stderr = np.full((n_groups, n_terms), np.nan)
    lower = np.full((n_groups, n_terms), np.nan)
    upper = np.full((n_groups, n_terms), np.nan)
    internal = np.full((n_groups, n_terms), np.nan)
    replicates = np.full((n_boot, n_groups, n_terms), np.nan)
    depth = np.full(n_groups, np.nan)
    depth_boot = np.full((n_boot, n_groups), np.nan)
    m_star = np.full(n_groups, np.nan)
    m_star_boot = np.full((n_boot, n_groups), np.nan)
    modes: list[Modes] = []
    curves: list[dict[str, np.ndarray]] = []
    log_scale = np.log(prepared.scale)
    for g in range(n_groups):
        counts = histograms.full[g]
        centres = histograms.centres(g)
        boot_counts = histograms.replicates(g, resampling, limit=n_boot)
        modes.append(find_modes(counts, boot_counts, centres))
        selected = counts >= min_count
        n_selected = int(selected.sum())
        volume_rel = ensemble.group_volume[g]
        volume_true = volume_rel * prepared.volume_scale
        curve: dict[str, np.ndarray] = {
            "m": np.empty(0),
            "measured": np.empty(0),
            "fit": np.empty(0),
        }
        if n_selected < 3:
            curves.append(curve)
            continue
        used = min(n_terms, n_selected - 2)
        powers = powers_all[:used]
        reach = float(np.max(np.abs(centres[selected]))) or 1.0
        z = centres / reach
        design = np.column_stack([np.ones_like(z), z[:, None] ** powers])
        width = histograms.effective_width(g)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = -np.log(counts / (counts.sum() * width))
        w = np.where(selected, counts, 0.0)
        populated = np.flatnonzero(counts > 0)
        span = np.zeros(counts.size, dtype=bool)
        span[populated[0] : populated[-1] + 1] = True
        start = _weighted_solve(w[None, :], np.where(selected, y, 0.0)[None, :], design)
        nodes = _bin_nodes(histograms, g) / reach
        node_design = np.concatenate(
            [np.ones((*nodes.shape, 1)), nodes[..., None] ** powers], axis=-1
        )
        node_weight = _NODE_WEIGHTS[None, :] * width[:, None]
        beta = _poisson_fit(counts[None, :], node_weight, node_design, span, start)[0]
        start_boot = np.repeat(beta[None, :], boot_counts.shape[0], axis=0)
        beta_boot = _poisson_fit(
            boot_counts,
            node_weight,
            node_design,
            span,
            start_boot,
            iterations=REPLICATE_ITERATIONS,
        )
        # internal units: coefficient of u^k per relative volume
        factor = reach ** (-powers) / volume_rel
        internal[g, :used] = beta[1:] * factor
        replicates[:, g, :used] = beta_boot[:, 1:] * factor
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            user = np.exp(-powers * np.log(reach) - powers * log_scale - np.log(volume_true))
            coefficients[g, :used] = beta[1:] * user
            boot_user = beta_boot[:, 1:] * user
            finite_rows = np.all(np.isfinite(boot_user), axis=1)
            if ensemble.group_units[g] >= 2 and finite_rows.sum() >= 2:
                stderr[g, :used] = np.std(boot_user[finite_rows], axis=0, ddof=1)
                lower[g, :used], upper[g, :used] = percentile_interval(boot_user)
            else:
                stderr[g, :used] = (
                    _poisson_stderr(counts, node_weight, node_design, span, beta)[1:] * user
                )
        zlo = float(np.min(z[selected]))
        zhi = float(np.max(z[selected]))
        symmetric = histograms.symmetric and polynomial.truncated(used).is_even
        grid, values = _profile(beta[None, 1:], powers, zlo, zhi, symmetric)
        depth[g] = _depth(values, grid)[0] / volume_rel
        _, values_boot = _profile(beta_boot[:, 1:], powers, zlo, zhi, symmetric)
        depth_boot[:, g] = _depth(values_boot, grid) / volume_rel
        m_star[g] = _minimiser(values, grid)[0] * reach * prepared.scale
        m_star_boot[: values_boot.shape[0], g] = (
            _minimiser(values_boot, grid) * reach * prepared.scale
        )
        populated = counts > 0
        with np.errstate(all="ignore"):
            fitted = design @ beta
        with np.errstate(over="ignore", invalid="ignore"):
            offset = float(np.min(fitted[selected]))
            curve = {
                "m": centres[populated] * prepared.scale,
                "measured": (y[populated] - offset) / volume_true,
                "fit": (fitted[populated] - offset) / volume_true,
            }
        curves.append(curve)
    return FreeEnergyFit(
        polynomial=polynomial,
        coefficients=coefficients,
        stderr=stderr,
        lower=lower,
        upper=upper,
        internal=internal,
        replicates=replicates,
        depth_difference=depth,
        depth_difference_replicates=depth_boot,
        m_star=m_star,
        m_star_replicates=m_star_boot,
        modes=tuple(modes),
        curves=tuple(curves),
    )


def _weighted_solve(weights: np.ndarray, y: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Batched weighted least squares: rows of ``weights``/``y`` are separate fits."""
    normal = np.einsum("bj,jp,jq->bpq", weights, design, design)
    rhs = np.einsum("bj,jp->bp", weights * y, design)
    trace = np.trace(normal, axis1=1, axis2=2)[:, None, None]
    ridge = 1e-12 * np.where(trace > 0, trace, 1.0) * np.eye(design.shape[1])[None]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            solution = np.linalg.solve(normal + ridge, rhs[..., None])[..., 0]
        except np.linalg.LinAlgError:
            solution = np.stack(
                [np.linalg.lstsq(a, b, rcond=None)[0] for a, b in zip(normal, rhs, strict=True)]
            )
    bad = ~np.all(np.isfinite(solution), axis=1) | (weights.sum(axis=1) <= 0)
    solution[bad] = np.nan
    return solution


#: Gauss–Legendre nodes (on [0, 1]) and weights for integrating the density over a bin.
_NODES = 0.5 + 0.5 * np.array([-np.sqrt(3.0 / 5.0), 0.0, np.sqrt(3.0 / 5.0)])
_NODE_WEIGHTS = np.array([5.0, 8.0, 5.0]) / 18.0


def _bin_nodes(histograms: Histograms, group: int) -> np.ndarray:
    """Quadrature nodes inside each bin's support, shape (n_bins, 3) (scaled units)."""
    left = histograms.lower[group] + histograms.width[group] * np.arange(histograms.n_bins)
    right = left + histograms.width[group]
    if histograms.absolute:
        left = np.maximum(left, 0.0)
    return left[:, None] + (right - left)[:, None] * _NODES[None, :]


def _expected(
    beta: np.ndarray, weight: np.ndarray, design: np.ndarray, total: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Expected counts per bin and the node contributions, for every row of ``beta``."""
    exponent = np.clip(-np.einsum("jqp,bp->bjq", design, beta, optimize=True), -700, 700)
    contribution = total[:, None, None] * weight[None, :, :] * np.exp(exponent)
    return contribution.sum(axis=2), contribution


def _poisson_fit(
    counts: np.ndarray,
    weight: np.ndarray,
    design: np.ndarray,
    mask: np.ndarray,
    start: np.ndarray,
    *,
    iterations: int = 25,
) -> np.ndarray:
    """Poisson maximum likelihood for histograms, batched over rows.

    Bin j of row r expects λ = n_r·∫_bin exp(−F(m)) dm, with F the polynomial (its constant
    absorbs the normalisation) and the integral by 3-point Gauss–Legendre quadrature, so
    narrow peaks are not biased by the bin width. Empty bins inside ``mask`` count too, and
    unlike least squares on −log(counts) the estimate is not biased by sparse bins
    (McCullagh & Nelder 1989, "Generalized Linear Models", ch. 6). Newton–Raphson (Fisher
    scoring) from ``start`` with step halving.

    Parameters
    ----------
    counts
        Histograms, shape (B, n_bins).
    weight
        Quadrature weights times bin widths, shape (n_bins, 3).
    design
        Basis at the quadrature nodes, shape (n_bins, 3, p).
    mask
        Bins that enter the likelihood.
    start
        Starting coefficients, shape (B, p).
    """
    c = counts[:, mask]
    w = weight[mask]
    x = design[mask]
    total = counts.sum(axis=1)
    beta = np.where(np.isfinite(start), start, 0.0).copy()
    p = x.shape[2]

    def loglik(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rate, contribution = _expected(b, w, x, total)
        return (c * np.log(np.maximum(rate, 1e-300)) - rate).sum(axis=1), rate, contribution

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        current, rate, contribution = loglik(beta)
        for _ in range(iterations):
            # dλ_j/dβ = −Σ_q contribution_jq·X_jq
            gradient = -np.einsum("bjq,jqp->bjp", contribution, x, optimize=True)
            ratio = c / np.maximum(rate, 1e-300) - 1.0
            score = np.einsum("bj,bjp->bp", ratio, gradient, optimize=True)
            scaled = gradient / np.maximum(rate, 1e-300)[:, :, None]
            information = np.matmul(scaled.transpose(0, 2, 1), gradient)
            trace = np.trace(information, axis1=1, axis2=2)[:, None, None]
            information += 1e-10 * np.where(trace > 0, trace, 1.0) * np.eye(p)[None]
            try:
                step = np.linalg.solve(information, score[..., None])[..., 0]
            except np.linalg.LinAlgError:
                break
            step = np.where(np.isfinite(step), step, 0.0)
            scale = np.ones(beta.shape[0])
            for _ in range(8):
                trial = beta + scale[:, None] * step
                value, trial_rate, trial_contribution = loglik(trial)
                better = value >= current - 1e-12 * np.abs(current)
                if better.all():
                    break
                scale = np.where(better, scale, scale / 2.0)
            beta = np.where(better[:, None], trial, beta)
            rate = np.where(better[:, None], trial_rate, rate)
            contribution = np.where(better[:, None, None], trial_contribution, contribution)
            improvement = np.where(better, value - current, 0.0)
            current = np.where(better, value, current)
            if np.all(np.abs(improvement) < 1e-9 * (1 + np.abs(current))):
                break
    bad = ~np.all(np.isfinite(beta), axis=1) | (total <= 0)
    beta[bad] = np.nan
    return beta


def _poisson_stderr(
    counts: np.ndarray,
    weight: np.ndarray,
    design: np.ndarray,
    mask: np.ndarray,
    beta: np.ndarray,
) -> np.ndarray:
    """Standard errors from the Poisson Fisher information (independent samples)."""
    with np.errstate(all="ignore"):
        rate, contribution = _expected(
            beta[None, :], weight[mask], design[mask], np.array([counts.sum()])
        )
        gradient = -np.einsum("bjq,jqp->bjp", contribution, design[mask])[0]
        information = gradient.T @ (gradient / np.maximum(rate[0], 1e-300)[:, None])
        covariance = np.linalg.pinv(information)
    return np.sqrt(np.abs(np.diag(covariance)))


def _profile(
    coefficients: np.ndarray, powers: np.ndarray, zlo: float, zhi: float, symmetric: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The fitted polynomial on a grid of z = m/reach (rows: replicates)."""
    grid = np.linspace(0.0, 1.0, _GRID) if symmetric else np.linspace(zlo, zhi, _GRID)
    with np.errstate(all="ignore"):
        values = coefficients @ (grid[None, :] ** powers[:, None])
    return grid, values


def _minimiser(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """|z| at the global minimum of each row of ``values`` on ``grid`` (NaN for a row with a
    non-finite value), refined by the vertex of the parabola through the grid minimum and
    its neighbours.

    The minimum of F = −log P(m)/V is the most probable |m|. Where P(m) has an ordered peak,
    its position is the bulk order parameter, while the moments of m of a finite system are
    shifted by the fluctuations around it (Binder 1981, Z. Phys. B 43, 119: P(m) of a
    finite system below T_c is a pair of peaks at ±m_bulk broadened by the
    susceptibility); for the Landau form P ∝ exp(−V·F) the peak lies at the minimum of F at
    every V.
    """
    finite = np.all(np.isfinite(values), axis=1)
    k = np.argmin(np.where(finite[:, None], values, 0.0), axis=1)
    rows = np.arange(values.shape[0])
    kk = np.clip(k, 1, grid.size - 2)
    left, centre, right = values[rows, kk - 1], values[rows, kk], values[rows, kk + 1]
    with np.errstate(all="ignore"):
        curvature = left - 2 * centre + right
        shift = np.where(curvature > 0, 0.5 * (left - right) / curvature, 0.0)
    interior = (k > 0) & (k < grid.size - 1) & np.isfinite(shift)
    shift = np.where(interior, np.clip(shift, -1.0, 1.0), 0.0)
    step = grid[1] - grid[0]
    z = grid[k] + shift * step
    return np.where(finite, np.abs(z), np.nan)


def _depth(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """F(outermost local minimum) − F(innermost local minimum); NaN with fewer than two."""
    order = np.argsort(np.abs(grid), kind="stable")
    v = values[:, order]
    # local minima on the original grid, then reordered by |z|
    is_min = np.zeros_like(values, dtype=bool)
    is_min[:, 1:-1] = (values[:, 1:-1] < values[:, :-2]) & (values[:, 1:-1] <= values[:, 2:])
    if grid[0] == 0.0:  # symmetric profile: z = 0 is a stationary point
        is_min[:, 0] = values[:, 0] < values[:, 1]
    m = is_min[:, order]
    count = m.sum(axis=1)
    inner = np.argmax(m, axis=1)
    outer = m.shape[1] - 1 - np.argmax(m[:, ::-1], axis=1)
    rows = np.arange(values.shape[0])
    with np.errstate(invalid="ignore"):
        diff = v[rows, outer] - v[rows, inner]
    return np.where(count >= 2, diff, np.nan)
