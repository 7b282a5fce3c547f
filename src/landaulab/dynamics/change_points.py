"""Abrupt changes in one training curve: PELT change points refined into logistic steps.

A training curve (an accuracy, a loss, an order parameter against the step) is modelled as
a level plus a few logistic steps,

    y(t) = c + Σ_j A_j / (1 + exp(−(t − t_j)/w_j)) + noise,

each step with its midpoint ``t_j``, its onset and end (the 10 % and 90 % points,
``t_j ∓ w_j ln 9``) and its size ``A_j``.

1. **Noise.** The white-noise scale comes from robust first differences,
   ``σ_w = MAD(Δy) / (0.6745 √2)`` (Rice 1984, Ann. Stat. 12:1215; Hampel 1974): a
   step moves only the few differences inside it, and a smooth sigmoid that fills much of
   the record moves each difference by only ``A/n_width``, so neither inflates the median.
   It is never taken from the raw variance of the record.
2. **Candidates.** Change points of a piecewise-constant mean found by PELT (Killick,
   Fearnhead & Eckley 2012, arXiv:1101.1438) with the L2 cost — ``ruptures``' compiled
   ``KernelCPD`` with a linear kernel (Truong, Oudre & Vayatis 2020, Signal Processing
   167:107299, arXiv:1801.00718) — with the BIC-like penalty
   ``pen = PELT_PENALTY · σ_w² · ln n`` (Schwarz 1978; Yao 1988). A sudden step gives one
   change point; a slow sigmoid gives a staircase of them.
3. **Steps.** A logistic step is added where no step lies yet: the best one over a grid of
   midpoints (the change points, and the centres of their staircases of same-direction
   change points) and widths (half a sample interval to the whole record), amplitude and
   offset by linear least squares; then all steps are refitted together
   (Levenberg–Marquardt, Moré 1978, with the bounds kept by a change of variables). A
   step is kept when it lowers the squared error by the BIC penalty ``3 σ_w² ln n`` of
   its three parameters and overlaps no other. A midpoint may lie up to one sample
   interval before the first sample or after the last, so a rise inside the first few
   logged samples (memorisation) or a jump cut by an early stop is fitted; with fewer
   than :data:`CENSOR_SAMPLES` samples before its onset (after its end) the onset (end) is
   *censored* by the record.
4. **Tests against the noise of the residuals.** The residuals of the fit give the
   noise that the steps do not explain, with its lag-1 autocorrelation ``φ``; the
   long-run standard deviation ``σ = σ_r √((1+φ)/(1−φ))`` is what a mean shift must be
   compared with in correlated noise (Andrews 1991, Econometrica 59:817; Horváth &
   Hušková 2005 for change points). A step is a change when

   * its size exceeds ``k_n`` standard errors of the difference of the levels on both
     sides (``k_n = Φ⁻¹(1 − FALSE_ALARM / 2n)``, a Bonferroni bound for ``n`` samples),
   * it is abrupt: replacing it by a straight line over the record raises the squared error
     by more than ``k_n² σ²`` (a slow drift is a line, and gets no change),
   * and its 10–90 % width is at most :data:`MAX_WIDTH_FRACTION` of the record.

   Failing steps are removed and the rest refitted until all pass.
5. **Main.** A change is a candidate for the run's *main* transition when it is large
   against the run's noise (``|A| ≥ k_n σ``) *and* against the observable's scale
   (``|A| ≥ MAIN_FRACTION · scale``, the scale being the observable's range across runs or
   a stated natural range such as 1 for accuracies): a 1 % drift is never main.

Why this detector. Plain PELT with the L2 cost is the right tool for abrupt mean shifts,
and its penalty from the noise makes it silent on white noise, but it cuts a sigmoid that
fills much of the record into a staircase and a linear drift into steps: on the curves
below it puts change points in 91 % of the drifting null runs (median 4) and cuts sigmoids
wider than a quarter of the record into a median of 7, and in 11 % of the white-noise runs
it finds one. It is therefore used for
what it does well, proposing where changes are, and the logistic refinement and the
tests decide what a change is and measure its onset, midpoint and end. The
smoothed-rate detector of :mod:`landaulab.dynamics.transition_times` (``method="rate"``)
is kept for comparison. On the same synthetic curves with planted logistic steps of
random position, width (up to half the record) and noise, and null curves (white noise,
slow linear drifts), this detector found 400 of 400 planted steps (100 of 100 rising
within the first two samples, 30 of 30 wider than a quarter of the record) with no false
main transition in 400 nulls, against 190 of 400 (none at the start, none of the wide
ones) and 3 false main transitions for the rate detector (``docs/dynamics.md``). It costs
about 10–30 ms per run. Limitation: strongly correlated noise (an AR(1) with lag-1
correlation 0.9 over 60–200 samples) still gives false changes in about one run in six,
and false main transitions in one in twenty when the scale is the run's own range.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares
from scipy.special import expit
from scipy.stats import norm

#: Family-wise false-alarm rate of the tests on one run (Bonferroni over its samples).
FALSE_ALARM = 0.05
#: PELT penalty in units of ``σ_w² ln n`` (2: BIC for a change's location and level).
PELT_PENALTY = 2.0
#: BIC penalty for adding one logistic step (three parameters), in units of ``σ_w² ln n``.
STEP_PENALTY = 3.0
#: Longest series handled as is; longer runs are averaged in consecutive groups.
MAX_POINTS = 512
#: Widest change (10–90 % width) as a fraction of the record.
MAX_WIDTH_FRACTION = 0.75
#: A main transition is at least this fraction of the observable's scale.
MAIN_FRACTION = 0.1
#: Most steps per run.
MAX_STEPS = 8
#: Noise floor relative to the run's range (numerical resolution of a smooth curve).
RESOLUTION = 1e-4
#: Largest step size in units of the run's range (a step cut by the record's edge may be
#: larger than what is seen of it; the bound stops pairs of huge opposite steps).
MAX_AMPLITUDE = 3.0
#: A change with fewer samples than this before its onset (after its end) is censored
#: there: its onset is reported as the first sample (its end as the last).
CENSOR_SAMPLES = 2
#: Largest residual autocorrelation used in the long-run variance.
MAX_AUTOCORRELATION = 0.995

_LN9 = float(np.log(9.0))


@dataclass(frozen=True)
class Change:
    """An abrupt change in one run (times in the run's units).

    Attributes
    ----------
    onset, midpoint, end
        The 10 %, 50 % and 90 % points of the fitted step; an onset before the first
        sample or with fewer than :data:`CENSOR_SAMPLES` samples before it is reported as
        the first sample and flagged (the end likewise).
    level_before, level_after
        Fitted level just before and just after the step (other steps held).
    width
        Fitted 10–90 % width (not clipped).
    censored_start, censored_end
        Whether the onset is censored by the record's start / the end by its end.
    significance
        Size over the standard error of the level difference (long-run noise).
    noise
        The run's long-run noise standard deviation ``σ``.
    main_eligible
        Whether the change is large enough against the noise and the scale to be a main
        transition.
    """

    onset: float
    midpoint: float
    end: float
    level_before: float
    level_after: float
    width: float
    censored_start: bool
    censored_end: bool
    significance: float
    noise: float
    main_eligible: bool

    @property
    def size(self) -> float:
        """``level_after − level_before``."""
        return self.level_after - self.level_before


def white_noise_sd(values: np.ndarray) -> float:
    """Robust standard deviation of white noise from first differences, MAD(Δy)/(0.6745 √2)."""
    diffs = np.diff(np.asarray(values, dtype=float))
    if diffs.size == 0:
        return 0.0
    return float(np.median(np.abs(diffs - np.median(diffs))) / (0.6745 * np.sqrt(2.0)))


def critical_value(n: int, false_alarm: float = FALSE_ALARM) -> float:
    """``k_n = Φ⁻¹(1 − false_alarm / 2n)``: a two-sided Bonferroni bound over ``n`` tests."""
    return float(norm.isf(false_alarm / (2.0 * max(n, 1))))


def _condense(time: np.ndarray, value: np.ndarray, max_points: int) -> tuple[np.ndarray, ...]:
    """Average consecutive groups of samples so that at most ``max_points`` remain."""
    n = time.size
    if n <= max_points:
        return time, value
    group = int(np.ceil(n / max_points))
    idx = np.arange(n) // group
    counts = np.bincount(idx)
    return np.bincount(idx, time) / counts, np.bincount(idx, value) / counts


def pelt_change_points(values: np.ndarray, sigma: float, penalty: float = PELT_PENALTY) -> list:
    """PELT change points (indices where a new segment starts) with the L2 cost and the
    penalty ``penalty · σ² · ln n`` (``ruptures.KernelCPD`` with a linear kernel)."""
    import ruptures

    n = values.size
    if n < 3 or not sigma > 0:
        return []
    detector = ruptures.KernelCPD(kernel="linear", min_size=1)
    breaks = detector.fit(values.reshape(-1, 1)).predict(pen=penalty * sigma**2 * np.log(n))
    return [int(b) for b in breaks[:-1]]


def _model(tau: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Model values and the (n, k) logistic values ``s_j``."""
    steps = p[1:].reshape(-1, 3)
    if steps.size == 0:
        return np.full(tau.size, p[0]), np.empty((tau.size, 0))
    width = np.exp(steps[:, 2])
    s = expit((tau[:, None] - steps[:, 1]) / width)
    return p[0] + s @ steps[:, 0], s


def _jacobian(tau: np.ndarray, p: np.ndarray) -> np.ndarray:
    steps = p[1:].reshape(-1, 3)
    _, s = _model(tau, p)
    jac = np.empty((tau.size, p.size))
    jac[:, 0] = 1.0
    if steps.size:
        width = np.exp(steps[:, 2])
        ds = s * (1.0 - s) * steps[:, 0] / width
        jac[:, 1::3] = s
        jac[:, 2::3] = -ds
        jac[:, 3::3] = -ds * (tau[:, None] - steps[:, 1])
    return jac


class _Box:
    """Bounds kept by a smooth change of variables, so that MINPACK's unbounded
    Levenberg–Marquardt (Moré 1978) can be used: ``p = lo + (hi − lo) expit(q)``."""

    def __init__(self, lower: np.ndarray, upper: np.ndarray) -> None:
        self.lower, self.span = lower, upper - lower
        self.free = ~np.isfinite(self.span)

    def to_p(self, q: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.where(self.free, q, self.lower + self.span * expit(q))

    def to_q(self, p: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            u = np.clip((p - self.lower) / self.span, 1e-9, 1 - 1e-9)
            return np.where(self.free, p, np.log(u) - np.log1p(-u))

    def slope(self, q: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            e = expit(q)
            return np.where(self.free, 1.0, self.span * e * (1.0 - e))


def _fit(
    tau: np.ndarray, y: np.ndarray, p0: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, float]:
    if p0.size == 1:
        p = np.array([float(np.mean(y))])
    else:
        box = _Box(lower, upper)
        fit = least_squares(
            lambda q: _model(tau, box.to_p(q))[0] - y,
            box.to_q(p0),
            jac=lambda q: _jacobian(tau, box.to_p(q)) * box.slope(q),
            method="lm",
            x_scale="jac",
            ftol=1e-8,
            xtol=1e-8,
            max_nfev=50 * p0.size,
        )
        p = box.to_p(fit.x)
    resid = _model(tau, p)[0] - y
    return p, float(resid @ resid)


def _bounds(k: int, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    lo = [-np.inf] + [-MAX_AMPLITUDE, -spacing, np.log(0.02 * spacing)] * k
    hi = [np.inf] + [MAX_AMPLITUDE, 1.0 + spacing, 0.0] * k
    return np.array(lo, dtype=float), np.array(hi, dtype=float)


def _staircase(cps: list[int], means: np.ndarray, i: int) -> tuple[int, int]:
    """Indices (into ``cps``) of the run of same-direction change points around ``i``."""
    sign = np.sign(means[i + 1] - means[i])
    lo = hi = i
    while lo > 0 and np.sign(means[lo] - means[lo - 1]) == sign:
        lo -= 1
    while hi + 1 < len(cps) and np.sign(means[hi + 2] - means[hi + 1]) == sign:
        hi += 1
    return lo, hi


def _separate(p: np.ndarray) -> bool:
    """Whether no two steps overlap (midpoints further apart than their 10–90 % halves)."""
    steps = p[1:].reshape(-1, 3)
    order = np.argsort(steps[:, 1])
    mid, half = steps[order, 1], _LN9 * np.exp(steps[order, 2])
    return bool(np.all(np.diff(mid) > half[:-1] + half[1:]))


def _scan(
    tau: np.ndarray, resid: np.ndarray, mids: np.ndarray, widths: np.ndarray
) -> tuple[float, float, float, float, float]:
    """Best single logistic step ``a + A s((τ − m)/w)`` for the residual over a grid of
    midpoints and widths (linear least squares for ``a`` and ``A`` at each grid point):
    ``(gain, a, A, m, ln w)``, the gain being the drop of the squared error."""
    m, w = np.meshgrid(mids, widths, indexing="ij")
    m, w = m.ravel(), w.ravel()
    shapes = expit((tau[:, None] - m) / w)
    means = shapes.mean(axis=0)
    shapes -= means
    centred = resid - resid.mean()
    cross = centred @ shapes
    norms = np.einsum("ij,ij->j", shapes, shapes)
    gain = np.where(norms > 1e-12, cross**2 / np.where(norms > 1e-12, norms, 1.0), 0.0)
    g = int(np.argmax(gain))
    amp = float(cross[g] / max(norms[g], 1e-12))
    offset = float(resid.mean()) - amp * float(means[g])
    return float(gain[g]), offset, amp, float(m[g]), float(np.log(w[g]))


def _greedy_steps(tau: np.ndarray, y: np.ndarray, sigma_w: float, spacing: float) -> np.ndarray:
    """Logistic steps added one by one while each pays its BIC penalty.

    The midpoints tried are the PELT change points and the centres of their staircases of
    same-direction change points; the widths a geometric grid from half a sample interval
    to the whole record; each new step is refined together with the others.
    """
    n = tau.size
    p = np.array([float(np.mean(y))])
    sse = float(np.sum((y - p[0]) ** 2))
    cps = pelt_change_points(y, sigma_w)
    if not cps:
        return p
    edges = [0, *cps, n]
    means = np.array([np.mean(y[a:b]) for a, b in itertools.pairwise(edges)])
    mids = [0.5 * (tau[c - 1] + tau[c]) for c in cps]
    for i in range(len(cps)):
        lo, hi = _staircase(cps, means, i)
        if hi > lo:
            mids.append(0.5 * (tau[cps[lo] - 1] + tau[cps[hi]]))
    candidates = np.unique(np.array(mids))
    widths = np.geomspace(0.5 * spacing, 1.0, 24)
    threshold = STEP_PENALTY * sigma_w**2 * np.log(n)
    for _ in range(MAX_STEPS):
        steps = p[1:].reshape(-1, 3)
        reach = (_LN9 + 1.0) * np.exp(steps[:, 2]) + spacing
        free = np.array(
            [not np.any(np.abs(m - steps[:, 1]) <= reach) for m in candidates], dtype=bool
        )
        if not free.any():
            break
        resid = y - _model(tau, p)[0]
        gain, offset, amp, mid, log_w = _scan(tau, resid, candidates[free], widths)
        if gain < threshold:
            break
        lower, upper = _bounds(len(steps) + 1, spacing)
        start = np.r_[p[0] + offset, p[1:], amp, mid, log_w]
        trial, trial_sse = _fit(tau, y, start, lower, upper)
        if sse - trial_sse < threshold or not _separate(trial):
            break
        p, sse = trial, trial_sse
    return p


def _long_run_sd(resid: np.ndarray, dof: int) -> float:
    """Residual standard deviation times ``√((1+φ)/(1−φ))`` (lag-1 autocorrelation φ)."""
    centred = resid - resid.mean()
    var = float(centred @ centred) / max(dof, 1)
    denom = float(centred @ centred)
    phi = float(centred[1:] @ centred[:-1]) / denom if denom > 0 else 0.0
    phi = min(max(phi, 0.0), MAX_AUTOCORRELATION)
    return float(np.sqrt(var * (1.0 + phi) / (1.0 - phi)))


def _judge(
    tau: np.ndarray, y: np.ndarray, p: np.ndarray, sigma: float, k: float
) -> tuple[np.ndarray, np.ndarray]:
    """Significance of each step and whether it passes the change tests."""
    steps = p[1:].reshape(-1, 3)
    fitted, s = _model(tau, p)
    sse = float(np.sum((y - fitted) ** 2))
    z = np.zeros(len(steps))
    ok = np.zeros(len(steps), dtype=bool)
    mids = steps[:, 1]
    for j, (amp, mid, log_w) in enumerate(steps):
        width = np.exp(log_w)
        others = [i for i in range(len(steps)) if i != j]
        left = max([mids[i] for i in others if mids[i] < mid], default=-np.inf)
        right = min([mids[i] for i in others if mids[i] > mid], default=np.inf)
        region = (tau > left) & (tau < right)
        n_before = int(np.sum(region & (s[:, j] < 0.5)))
        n_after = int(np.sum(region & (s[:, j] >= 0.5)))
        # a step cut by the record's start or end is judged by the part that is seen
        seen = s[region, j]
        visible = abs(amp) * float(seen.max() - seen.min()) if seen.size else 0.0
        z[j] = visible / (sigma * np.sqrt(1.0 / max(n_before, 1) + 1.0 / max(n_after, 1)))
        rest = y - fitted + amp * s[:, j]  # the data without this step's fit
        design = np.column_stack([np.ones_like(tau), tau])
        coef, *_ = np.linalg.lstsq(design, rest, rcond=None)
        line = float(np.sum((rest - design @ coef) ** 2))
        abrupt = line - sse >= k**2 * sigma**2
        narrow = 2.0 * _LN9 * width <= MAX_WIDTH_FRACTION
        apart = all(abs(mid - steps[i, 1]) > _LN9 * (width + np.exp(steps[i, 2])) for i in others)
        ok[j] = z[j] >= k and abrupt and narrow and apart
    return z, ok


def find_changes(
    time: np.ndarray,
    value: np.ndarray,
    *,
    scale: float | None = None,
    false_alarm: float = FALSE_ALARM,
) -> list[Change]:
    """Every abrupt change of one run (see the module docstring), sorted by midpoint.

    Parameters
    ----------
    time, value
        Samples of one run, sorted by time (finite).
    scale
        The observable's scale for the main criterion (its range across runs, or a
        natural range such as 1 for accuracies); defaults to this run's range.
    false_alarm
        Family-wise false-alarm rate of the tests on this run.
    """
    time = np.asarray(time, dtype=float)
    value = np.asarray(value, dtype=float)
    if time.size < 4 or not time[-1] > time[0]:
        return []
    t_first, t_last = float(time[0]), float(time[-1])
    t, v = _condense(time, value, MAX_POINTS)
    n = t.size
    duration = t_last - t_first
    y_centre = float(np.median(v))
    y_range = float(np.ptp(v))
    if not y_range > 0:
        return []
    tau = (t - t_first) / duration
    y = (v - y_centre) / y_range
    spacing = float(np.median(np.diff(tau)))
    floor = RESOLUTION
    sigma_w = max(white_noise_sd(y), floor)
    k = critical_value(n, false_alarm)
    p = _greedy_steps(tau, y, sigma_w, spacing)
    sigma = sigma_w
    for _ in range(MAX_STEPS + 1):
        if p.size == 1:
            return []
        resid = y - _model(tau, p)[0]
        sigma = max(_long_run_sd(resid, n - p.size), sigma_w, floor)
        _, ok = _judge(tau, y, p, sigma, k)
        if ok.all():
            break
        # drop the weakest failing step and refit the others
        z, _ = _judge(tau, y, p, sigma, k)
        weakest = int(np.argmin(np.where(ok, np.inf, z)))
        steps = np.delete(p[1:].reshape(-1, 3), weakest, axis=0)
        p = np.r_[p[0], steps.ravel()]
        if steps.size:
            lower, upper = _bounds(len(steps), spacing)
            p, _ = _fit(tau, y, p, lower, upper)
    z, _ = _judge(tau, y, p, sigma, k)
    run_scale = float(scale) if scale is not None and scale > 0 else y_range
    out: list[Change] = []
    steps = p[1:].reshape(-1, 3)
    for j, (amp, mid, log_w) in enumerate(steps):
        width = float(np.exp(log_w))
        others = np.delete(steps, j, axis=0)
        base = p[0] + float(
            np.sum(others[:, 0] * expit((mid - others[:, 1]) / np.exp(others[:, 2])))
        )
        onset = t_first + duration * (mid - _LN9 * width)
        end = t_first + duration * (mid + _LN9 * width)
        # fewer than CENSOR_SAMPLES samples before the onset (after the end): the level
        # before (after) is not seen, so the change may have begun (may end) outside
        cut_start = bool(onset < t_first or int(np.sum(time < onset)) < CENSOR_SAMPLES)
        cut_end = bool(end > t_last or int(np.sum(time > end)) < CENSOR_SAMPLES)
        # levels seen in the record: a censored step's size is a lower bound
        s_lo = float(expit((tau[0] - mid) / width)) if onset < t_first else 0.0
        s_hi = float(expit((tau[-1] - mid) / width)) if end > t_last else 1.0
        before, after = base + float(amp) * s_lo, base + float(amp) * s_hi
        size = (after - before) * y_range
        out.append(
            Change(
                onset=t_first if cut_start else onset,
                midpoint=min(max(t_first + duration * float(mid), t_first), t_last),
                end=t_last if cut_end else end,
                level_before=y_centre + y_range * before,
                level_after=y_centre + y_range * after,
                width=2.0 * _LN9 * width * duration,
                censored_start=cut_start,
                censored_end=cut_end,
                significance=float(z[j]),
                noise=sigma * y_range,
                main_eligible=bool(
                    abs(size) >= k * sigma * y_range and abs(size) >= MAIN_FRACTION * run_scale
                ),
            )
        )
    return sorted(out, key=lambda c: c.midpoint)
