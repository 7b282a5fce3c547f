"""The local learning coefficient (LLC) by SGLD, chains batched with ``torch.func``.

Lau, Furman, Wang, Murfet & Wei 2023 (arXiv:2308.12108): at a local minimum ``w*``
of the empirical loss ``L_n``, the local learning coefficient is estimated as

    λ̂(w*) = nβ · (E_w[L_n(w)] − L_n(w*)),

the expectation taken over the localised tempered posterior
``p(w) ∝ exp(−nβ L_n(w) − (γ/2)‖w − w*‖²)`` with ``nβ = n / log n`` by default
(Watanabe 2013, WBIC). Samples come from stochastic-gradient Langevin dynamics
(Welling & Teh 2011):

    w ← w − (ε/2) (nβ ∇L_m(w) + γ (w − w*)) + N(0, ε),

with ``L_m`` the loss on a minibatch of ``m`` examples, and the expectation is the
mean minibatch loss over the draws. ``L_n`` must be the average negative
log-likelihood per example (e.g. ``Objective.gaussian``) for the estimate to be a
learning coefficient: a regular model with ``d`` parameters gives ``d/2``.

All chains advance together: their parameters are stacked along a leading axis and
one ``vmap``-ed gradient evaluates every chain per step. Calibration diagnostics:
split-R̂ of the loss traces across chains (Gelman et al., *Bayesian Data Analysis*,
3rd ed.; Vehtari et al. 2021, arXiv:1903.08008), and the drift of the loss trace
between the first and last thirds of the draws (in LLC units, with a batch-means
standard error): a drifting trace means the chains are not yet stationary (step
size too small or too few draws), a negative estimate that ``w*`` is not a local
minimum.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import vmap

from landaulab.record.observables.base import (
    Cost,
    ObservableBase,
    ObservableError,
    seeded_generator,
)
from landaulab.record.observables.functional import ParameterSpace
from landaulab.record.observables.objective import (
    Batch,
    LossFn,
    Objective,
    as_objective,
    select_examples,
)
from landaulab.record.observables.objective import batch_size as count_examples


@dataclass(frozen=True)
class LLCResult:
    """An LLC estimate with its spread across chains and calibration diagnostics.

    Attributes
    ----------
    llc_mean
        Mean over chains of the per-chain estimates (NaN when a chain diverged).
    llc_std
        Standard deviation across chains (ddof = 1).
    llc_standard_error
        ``llc_std / √chains``.
    llc_per_chain
        Per-chain estimates.
    init_loss
        ``L_n(w*)``.
    inverse_temperature
        ``nβ``.
    rhat
        Split-R̂ of the loss traces (≈ 1 when chains agree; ``None`` if too short).
    drift
        ``nβ`` × (mean loss of the last third − first third of the draws), averaged
        over chains; ≈ 0 when the traces are stationary.
    drift_standard_error
        Batch-means standard error of ``drift``.
    stationary
        ``|drift| ≤ 3 · drift_standard_error``.
    warnings
        Plain-language problems found (divergence, drift, negative estimate, R̂).
    loss_trace
        ``(chains, burn-in + draws)`` minibatch losses.
    """

    llc_mean: float
    llc_std: float
    llc_standard_error: float
    llc_per_chain: tuple[float, ...]
    init_loss: float
    inverse_temperature: float
    num_chains: int
    num_draws: int
    num_burnin: int
    step_size: float
    localization: float
    rhat: float | None
    drift: float
    drift_standard_error: float
    stationary: bool
    warnings: tuple[str, ...] = ()
    loss_trace: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (non-finite numbers as ``None``; no loss trace)."""

        def safe(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        return {
            "llc_mean": safe(self.llc_mean),
            "llc_std": safe(self.llc_std),
            "llc_standard_error": safe(self.llc_standard_error),
            "llc_per_chain": [safe(x) for x in self.llc_per_chain],
            "init_loss": safe(self.init_loss),
            "inverse_temperature": self.inverse_temperature,
            "num_chains": self.num_chains,
            "num_draws": self.num_draws,
            "num_burnin": self.num_burnin,
            "step_size": self.step_size,
            "localization": self.localization,
            "rhat": safe(self.rhat),
            "drift": safe(self.drift),
            "drift_standard_error": safe(self.drift_standard_error),
            "stationary": self.stationary,
            "warnings": list(self.warnings),
        }

    def __str__(self) -> str:
        rhat = "n/a" if self.rhat is None else f"{self.rhat:.3f}"
        text = (
            f"LLC = {self.llc_mean:.4g} ± {self.llc_standard_error:.2g} "
            f"(std across {self.num_chains} chains {self.llc_std:.3g}; nβ = "
            f"{self.inverse_temperature:.4g}, {self.num_draws} draws, R̂ {rhat}, drift "
            f"{self.drift:.3g} ± {self.drift_standard_error:.2g})"
        )
        if self.warnings:
            text += "\n" + "\n".join(f"warning: {w}" for w in self.warnings)
        return text


def _batch_means_variance(x: np.ndarray) -> float:
    """Variance of the mean of an autocorrelated series by non-overlapping batch means."""
    length = x.size
    if length < 4:
        return float(np.var(x, ddof=1) / length) if length > 1 else math.inf
    batches = max(2, int(math.sqrt(length)))
    size = length // batches
    means = x[: batches * size].reshape(batches, size).mean(axis=1)
    return float(np.var(means, ddof=1) / batches)


def split_rhat(traces: np.ndarray) -> float | None:
    """Split-R̂ of ``(chains, draws)`` traces; ``None`` with fewer than 4 draws."""
    draws = traces.shape[1]
    half = draws // 2
    if half < 2:
        return None
    split = np.concatenate([traces[:, :half], traces[:, draws - half :]], axis=0)
    within = float(np.mean(np.var(split, axis=1, ddof=1)))
    between = half * float(np.var(split.mean(axis=1), ddof=1))
    if within <= 0:
        return 1.0 if between <= 0 else math.inf
    pooled = (half - 1) / half * within + between / half
    return float(math.sqrt(pooled / within))


def _diagnose(traces: np.ndarray, scale: float) -> tuple[float, float]:
    """Drift (last third − first third, scaled) and its batch-means standard error."""
    draws = traces.shape[1]
    third = draws // 3
    if third < 2:
        return 0.0, math.inf
    drifts, variances = [], []
    for chain in traces:
        first, last = chain[:third], chain[draws - third :]
        drifts.append(scale * (last.mean() - first.mean()))
        variances.append(scale**2 * (_batch_means_variance(first) + _batch_means_variance(last)))
    count = len(drifts)
    return float(np.mean(drifts)), float(math.sqrt(np.sum(variances)) / count)


def estimate_llc(
    model: nn.Module,
    objective: Objective | LossFn,
    data: Batch,
    *,
    num_chains: int = 4,
    num_draws: int = 200,
    num_burnin: int = 0,
    step_size: float = 1e-4,
    localization: float = 100.0,
    inverse_temperature: float | None = None,
    batch_size: int | None = None,
    parameters: Sequence[str] | None = None,
    seed: int = 0,
    generator: torch.Generator | None = None,
) -> LLCResult:
    """Estimate the local learning coefficient at the model's current parameters.

    Parameters
    ----------
    model
        The model at ``w*`` (left unchanged; chains run on copies of the parameters).
        Put it in ``eval()`` mode if it has dropout or batch norm.
    objective
        Per-example negative log-likelihood (e.g. ``Objective.gaussian()`` or
        ``Objective.cross_entropy()``).
    data
        The ``n`` training examples (on the model's device).
    num_chains, num_draws, num_burnin
        Chains run in parallel; SGLD steps kept per chain; steps discarded first.
    step_size
        SGLD step size ε.
    localization
        Strength γ of the pull back to ``w*``.
    inverse_temperature
        ``nβ`` (default ``n / log n``).
    batch_size
        Minibatch size ``m`` (default: full batch); minibatches are drawn with
        replacement, independently per chain.
    parameters
        Restrict sampling to these parameter names (the others stay at ``w*``).
    seed, generator
        Randomness of noise and minibatches.
    """
    objective = as_objective(objective)
    n = count_examples(data)
    if n < 2:
        raise ObservableError("the LLC needs at least 2 training examples")
    if num_chains < 1 or num_draws < 1 or num_burnin < 0:
        raise ObservableError("need num_chains >= 1, num_draws >= 1 and num_burnin >= 0")
    if not step_size > 0 or not localization >= 0:
        raise ObservableError("step_size must be positive and localization non-negative")
    nbeta = n / math.log(n) if inverse_temperature is None else float(inverse_temperature)
    if not nbeta > 0:
        raise ObservableError(f"inverse_temperature must be positive, got {nbeta}")
    minibatch = None if batch_size is None or batch_size >= n else int(batch_size)
    if minibatch is not None and minibatch < 1:
        raise ObservableError(f"batch_size must be >= 1, got {batch_size}")

    space = ParameterSpace(model, parameters)
    device = space.device
    generator = generator if generator is not None else seeded_generator(seed, "llc")
    device_generator = torch.Generator(device=device)
    device_generator.manual_seed(int(torch.randint(0, 2**62, (1,), generator=generator)))

    anchor = space.current()
    with torch.no_grad():
        init_loss = float(space.call(objective.mean_loss, anchor, data))
    # All chains' parameters live in one (chains, dim) leaf tensor: one noise draw and
    # one in-place update per step; per-parameter views feed the model.
    anchor_flat = space.flatten(anchor)
    chains = anchor_flat.unsqueeze(0).repeat(num_chains, 1).requires_grad_(True)
    names, shapes = space.names, space.shapes
    bounds = np.cumsum([0, *space.numels])

    def views(flat: Tensor) -> tuple[Tensor, ...]:
        return tuple(
            flat[:, int(bounds[i]) : int(bounds[i + 1])].reshape(num_chains, *shapes[i])
            for i in range(len(names))
        )

    def loss_at(params: tuple[Tensor, ...], batch: Batch) -> Tensor:
        return space.call(objective.mean_loss, dict(zip(names, params, strict=True)), batch)

    def full_batch_loss(params: tuple[Tensor, ...]) -> Tensor:
        return loss_at(params, data)

    # One vmap-ed forward for all chains; the chains are independent, so the gradient
    # of the summed losses holds every chain's own gradient.
    per_chain_loss = vmap(loss_at, in_dims=(0, 0))
    per_chain_full_loss = vmap(full_batch_loss)
    total_steps = num_burnin + num_draws
    trace = torch.empty(num_chains, total_steps, dtype=torch.float64, device=device)
    half = 0.5 * step_size
    noise_scale = math.sqrt(step_size)
    diverged_at: int | None = None
    for t in range(total_steps):
        if minibatch is None:
            losses = per_chain_full_loss(views(chains))
        else:
            index = torch.randint(
                0, n, (num_chains, minibatch), generator=device_generator, device=device
            )
            losses = per_chain_loss(views(chains), select_examples(data, index))
        (grads,) = torch.autograd.grad(losses.sum(), chains)
        with torch.no_grad():
            trace[:, t] = losses.detach()
            drift = grads.mul_(nbeta)
            if localization:
                drift.add_(chains - anchor_flat, alpha=localization)
            noise = torch.randn(
                chains.shape, generator=device_generator, device=device, dtype=chains.dtype
            )
            chains.add_(drift, alpha=-half).add_(noise, alpha=noise_scale)
        if t % 50 == 49 or t == total_steps - 1:
            if not bool(torch.isfinite(trace[:, : t + 1]).all()):
                diverged_at = t
                break
    traces = trace.cpu().numpy()
    return _summarise(
        traces,
        diverged_at=diverged_at,
        init_loss=init_loss,
        nbeta=nbeta,
        num_burnin=num_burnin,
        num_draws=num_draws,
        step_size=step_size,
        localization=localization,
    )


def quadratic_llc(
    hessian: Tensor | np.ndarray,
    gradient: Tensor | np.ndarray | None = None,
    *,
    inverse_temperature: float,
    localization: float = 100.0,
    step_size: float = 0.0,
) -> float:
    """The exact mean of the SGLD estimator :func:`estimate_llc` when the loss is quadratic.

    For ``L_n(w) = L_n(w*) + gᵀδ + ½ δᵀHδ`` (δ = w − w*) the localised tempered posterior
    is Gaussian with precision ``A = nβH + γI`` and mean shift ``δ̄ = −A⁻¹ nβ g``.
    Full-batch SGLD with step ε (Euler–Maruyama) keeps that mean but inflates the
    variance along each eigenvalue ``a`` of A to ``1 / (a (1 − εa/4))``. Then

        λ̂ = nβ (gᵀδ̄ + ½ δ̄ᵀHδ̄ + ½ tr(HΣ)).

    At a minimum (g = 0) and as γ, ε → 0 this is rank(H)/2, the learning coefficient of a
    non-degenerate minimum; at finite γ each Hessian direction contributes
    ``½ nβh / (nβh + γ)``, so directions with ``nβh ≲ γ`` are suppressed: the
    localisation, not the sampler, sets the estimate there.

    Parameters
    ----------
    hessian
        Hessian of the per-example mean loss at ``w*`` (d × d, symmetric).
    gradient
        Its gradient at ``w*`` (zero at a critical point).
    inverse_temperature
        nβ (``n / log n`` by default in :func:`estimate_llc`).
    localization
        γ.
    step_size
        ε (0: the continuous-time limit); needs ε·a < 4 for every eigenvalue a of A.

    Raises
    ------
    ObservableError
        When A is not positive definite or the step size is unstable.
    """
    h = torch.as_tensor(hessian, dtype=torch.float64)
    if h.dim() != 2 or h.shape[0] != h.shape[1]:
        raise ObservableError(f"hessian must be a square matrix, got shape {tuple(h.shape)}")
    h = 0.5 * (h + h.T)
    d = h.shape[0]
    g = (
        torch.zeros(d, dtype=torch.float64)
        if gradient is None
        else torch.as_tensor(gradient, dtype=torch.float64).reshape(d)
    )
    nbeta = float(inverse_temperature)
    precision = nbeta * h + float(localization) * torch.eye(d, dtype=torch.float64)
    a, vectors = torch.linalg.eigh(precision)
    if not bool((a > 0).all()):
        raise ObservableError("nβH + γI must be positive definite (a minimum, or γ > 0)")
    if step_size and not bool((float(step_size) * a < 4.0).all()):
        raise ObservableError("the SGLD step is unstable: step_size · (nβh + γ) must be < 4")
    variance = 1.0 / (a * (1.0 - float(step_size) * a / 4.0))
    covariance = (vectors * variance) @ vectors.T
    shift = -torch.linalg.solve(precision, nbeta * g)
    excess = g @ shift + 0.5 * shift @ h @ shift + 0.5 * torch.trace(h @ covariance)
    return float(nbeta * excess)


def _summarise(
    traces: np.ndarray,
    *,
    diverged_at: int | None,
    init_loss: float,
    nbeta: float,
    num_burnin: int,
    num_draws: int,
    step_size: float,
    localization: float,
) -> LLCResult:
    chains = traces.shape[0]
    notes: list[str] = []
    if diverged_at is not None:
        notes.append(f"a chain diverged (non-finite loss by step {diverged_at}); lower step_size")
        nan = float("nan")
        return LLCResult(
            llc_mean=nan,
            llc_std=nan,
            llc_standard_error=nan,
            llc_per_chain=tuple([nan] * chains),
            init_loss=init_loss,
            inverse_temperature=nbeta,
            num_chains=chains,
            num_draws=num_draws,
            num_burnin=num_burnin,
            step_size=step_size,
            localization=localization,
            rhat=None,
            drift=nan,
            drift_standard_error=nan,
            stationary=False,
            warnings=tuple(notes),
            loss_trace=traces,
        )
    draws = traces[:, num_burnin:]
    per_chain = nbeta * (draws.mean(axis=1) - init_loss)
    mean = float(per_chain.mean())
    std = float(per_chain.std(ddof=1)) if chains > 1 else float("nan")
    se = std / math.sqrt(chains) if chains > 1 else float("nan")
    rhat = split_rhat(draws)
    drift, drift_se = _diagnose(draws, nbeta)
    stationary = bool(abs(drift) <= 3 * drift_se)
    if not stationary:
        notes.append(
            f"the loss trace drifts by {drift:.3g} (± {drift_se:.2g}) in LLC units between "
            "the first and last thirds of the draws; add burn-in/draws or raise step_size"
        )
    if rhat is not None and rhat > 1.1:
        notes.append(f"chains disagree (split-R̂ = {rhat:.3f} > 1.1); sample longer")
    if mean < 0:
        notes.append(
            "negative estimate: the parameters are not at a local minimum of the loss "
            "(train further or raise localization)"
        )
    return LLCResult(
        llc_mean=mean,
        llc_std=std,
        llc_standard_error=se,
        llc_per_chain=tuple(float(x) for x in per_chain),
        init_loss=init_loss,
        inverse_temperature=nbeta,
        num_chains=chains,
        num_draws=num_draws,
        num_burnin=num_burnin,
        step_size=step_size,
        localization=localization,
        rhat=rhat,
        drift=drift,
        drift_standard_error=drift_se,
        stationary=stationary,
        warnings=tuple(notes),
        loss_trace=traces,
    )


class LocalLearningCoefficient(ObservableBase):
    """The LLC at the current parameters, measured on a schedule (log-spaced by default).

    Columns ``<name>`` (default ``llc``), ``<name>_std`` (across chains), ``<name>_se``,
    ``<name>_rhat``, ``<name>_drift`` and ``<name>_stationary`` (1 or 0). After a
    divergence only ``<name>_stationary = 0`` is returned.

    Parameters
    ----------
    objective
        Per-example negative log-likelihood.
    data
        The training set ``(n examples)``; without it the batch passed to ``measure``
        is used as the data set.
    **settings
        Keyword arguments of :func:`estimate_llc` (``num_chains``, ``num_draws``,
        ``step_size``, ``localization``, ``inverse_temperature``, ``batch_size`` ...).
    """

    cost: ClassVar[Cost] = "expensive"
    default_name = "llc"
    _settings: ClassVar[tuple[str, ...]] = (
        "num_chains",
        "num_draws",
        "num_burnin",
        "step_size",
        "localization",
        "inverse_temperature",
        "batch_size",
        "parameters",
    )

    def __init__(
        self,
        objective: Objective | LossFn,
        *,
        name: str | None = None,
        schedule: Any = None,
        data: Any = None,
        seed: int = 0,
        **settings: Any,
    ) -> None:
        super().__init__(name=name, schedule=schedule, data=data, seed=seed)
        unknown = sorted(set(settings) - set(self._settings))
        if unknown:
            raise ObservableError(f"unknown LLC settings {unknown}; known: {list(self._settings)}")
        self.objective = as_objective(objective)
        self.settings = settings
        self.last_result: LLCResult | None = None

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        if batch is None:
            raise ObservableError(f"{self.name}: no data; pass data=(inputs, targets)")
        result = estimate_llc(
            model, self.objective, batch, generator=self.generator(step), **self.settings
        )
        self.last_result = result
        if not math.isfinite(result.llc_mean):
            return {self.key("stationary"): 0.0}
        values = {
            self.name: result.llc_mean,
            self.key("drift"): result.drift,
            self.key("stationary"): float(result.stationary),
        }
        if math.isfinite(result.llc_std):
            values[self.key("std")] = result.llc_std
            values[self.key("se")] = result.llc_standard_error
        if result.rhat is not None and math.isfinite(result.rhat):
            values[self.key("rhat")] = result.rhat
        return values
