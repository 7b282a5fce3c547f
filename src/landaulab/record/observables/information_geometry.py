"""Information geometry on a probe batch: Fisher and NTK spectra, degeneracy.

For ``n`` probe examples the ``dim × dim`` matrices below have rank at most ``n``
(times the output size), and their non-zero eigenvalues are those of a small Gram
matrix, which is diagonalised exactly:

- empirical Fisher ``F̂ = (1/n) Σᵢ gᵢ gᵢᵀ`` (per-example loss gradients gᵢ): Gram
  ``G Gᵀ / n``;
- Fisher information of the predictive distribution ``F = (1/n) Σᵢ Jᵢᵀ H_ℓ,ᵢ Jᵢ``
  (equal to the generalised Gauss–Newton for squared error and cross-entropy;
  Amari 1998, *Natural gradient works efficiently in learning*; Martens 2020,
  arXiv:1412.1193): Gram ``(1/n) L J Jᵀ L`` with ``L`` the block-diagonal square root
  of ``H_ℓ``;
- neural tangent kernel ``Θ = J Jᵀ`` (Jacot, Gabriel & Hongler 2018, arXiv:1806.07572).

Summaries: effective rank ``exp(entropy(λ/Σλ))`` (Roy & Vetterli 2007), participation
ratio ``(Σλ)²/Σλ²``, numerical rank and the count of near-zero eigenvalues
(``λ ≤ rtol·λ_max``; the degeneracy that singular learning theory ties to a vanishing
learning coefficient, Watanabe 2009), and the condition number of the non-degenerate
part.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from torch import Tensor, nn

from landaulab.record.observables.base import Cost, ObservableBase, ObservableError
from landaulab.record.observables.functional import (
    ParameterSpace,
    per_example_gradients,
    per_example_jacobians,
)
from landaulab.record.observables.objective import Batch, LossFn, Objective, as_objective

FisherKind = Literal["empirical", "true"]


@dataclass(frozen=True)
class SpectrumSummary:
    """Scalar summaries of a positive semi-definite spectrum.

    Attributes
    ----------
    top
        Largest eigenvalue.
    trace
        Sum of eigenvalues.
    effective_rank
        ``exp`` of the Shannon entropy of ``λ/Σλ`` (Roy & Vetterli 2007).
    participation_ratio
        ``(Σλ)² / Σλ²``.
    numerical_rank
        Eigenvalues above ``rtol·λ_max``.
    near_zero
        Eigenvalues at or below ``rtol·λ_max`` (degenerate directions seen by the probe).
    condition_number
        ``λ_max`` over the smallest eigenvalue above the threshold.
    size
        Number of eigenvalues (the probe's Gram size).
    rtol
        The relative threshold used.
    """

    top: float
    trace: float
    effective_rank: float
    participation_ratio: float
    numerical_rank: int
    near_zero: int
    condition_number: float
    size: int
    rtol: float

    def to_dict(self) -> dict[str, float | int]:
        """JSON-safe form."""
        return {
            "top": self.top,
            "trace": self.trace,
            "effective_rank": self.effective_rank,
            "participation_ratio": self.participation_ratio,
            "numerical_rank": self.numerical_rank,
            "near_zero": self.near_zero,
            "condition_number": self.condition_number,
            "size": self.size,
            "rtol": self.rtol,
        }

    def __str__(self) -> str:
        return (
            f"spectrum of {self.size}: top {self.top:.4g}, trace {self.trace:.4g}, "
            f"effective rank {self.effective_rank:.3g}, rank {self.numerical_rank} "
            f"({self.near_zero} near zero at rtol {self.rtol:g}), "
            f"condition number {self.condition_number:.3g}"
        )


def summarize_spectrum(
    eigenvalues: np.ndarray | Sequence[float], rtol: float = 1e-5
) -> SpectrumSummary:
    """Summaries of a PSD spectrum (small negative rounding errors are set to zero).

    Parameters
    ----------
    eigenvalues
        The eigenvalues (any order).
    rtol
        Eigenvalues ``≤ rtol · λ_max`` count as zero.
    """
    values = np.asarray(eigenvalues, dtype=float).ravel()
    if values.size == 0:
        raise ObservableError("an empty spectrum has no summary; use a non-empty probe batch")
    if not np.all(np.isfinite(values)):
        raise ObservableError("the spectrum contains NaN or infinite eigenvalues")
    if not 0 <= rtol < 1:
        raise ObservableError(f"rtol must be in [0, 1), got {rtol}")
    values = np.sort(np.clip(values, 0.0, None))[::-1]
    top = float(values[0])
    trace = float(values.sum())
    if top == 0.0:
        return SpectrumSummary(0.0, 0.0, 0.0, 0.0, 0, int(values.size), 1.0, int(values.size), rtol)
    p = (values / top) / np.sum(values / top)  # scaled first: no underflow for tiny spectra
    nonzero = p[p > 0]
    entropy = float(-np.sum(nonzero * np.log(nonzero)))
    above = values[values > rtol * top]
    return SpectrumSummary(
        top=top,
        trace=trace,
        effective_rank=math.exp(entropy),
        participation_ratio=float(np.sum(values / top) ** 2 / np.sum((values / top) ** 2)),
        numerical_rank=int(above.size),
        near_zero=int(values.size - above.size),
        condition_number=top / float(above[-1]),
        size=int(values.size),
        rtol=float(rtol),
    )


def _eigenvalues(gram: Tensor) -> np.ndarray:
    gram = gram.to(torch.float64)
    gram = 0.5 * (gram + gram.T)
    return torch.linalg.eigvalsh(gram).cpu().numpy()[::-1].copy()


def empirical_fisher_gram(
    model: nn.Module,
    objective: Objective | LossFn,
    batch: Batch,
    *,
    parameters: Sequence[str] | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """``G Gᵀ / n`` from per-example loss gradients ``G`` (``n × n``, float64)."""
    space = ParameterSpace(model, parameters)
    grads = per_example_gradients(space, as_objective(objective), batch, dtype=dtype)
    grads = grads.to(torch.float64)
    return grads @ grads.T / grads.shape[0]


def _output_hessian_roots(objective: Objective, outputs: Tensor, batch: Batch) -> Tensor:
    """Per-example square roots ``H_ℓ,ᵢ^{1/2}`` of the loss Hessian w.r.t. outputs: (n, c, c)."""
    n = outputs.shape[0]
    z = outputs.detach().to(torch.float64).reshape(n, -1).requires_grad_(True)
    shaped = z.reshape(outputs.shape)
    total = objective.loss_from_outputs(shaped, batch).sum()
    (gradient,) = torch.autograd.grad(total, z, create_graph=True)
    c = z.shape[1]
    if not gradient.requires_grad:
        return torch.zeros(n, c, c, dtype=torch.float64, device=z.device)
    rows = []
    for j in range(c):
        (row,) = torch.autograd.grad(gradient[:, j].sum(), z, retain_graph=True)
        rows.append(row)
    hessians = torch.stack(rows, dim=1)  # (n, c, c): blocks, one per example
    hessians = 0.5 * (hessians + hessians.transpose(1, 2))
    values, vectors = torch.linalg.eigh(hessians)
    roots = vectors * values.clamp(min=0).sqrt().unsqueeze(1)
    return roots @ vectors.transpose(1, 2)


def fisher_gram(
    model: nn.Module,
    objective: Objective,
    batch: Batch,
    *,
    parameters: Sequence[str] | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """Gram matrix of the Fisher information ``(1/n) Σ Jᵢᵀ H_ℓ,ᵢ Jᵢ`` (``nc × nc``)."""
    objective = as_objective(objective)
    space = ParameterSpace(model, parameters)
    jacobians, outputs = per_example_jacobians(space, objective, batch, dtype=dtype)
    roots = _output_hessian_roots(objective, outputs, batch)
    weighted = roots @ jacobians.to(torch.float64)  # (n, c, dim)
    flat = weighted.reshape(-1, weighted.shape[-1])
    return flat @ flat.T / outputs.shape[0]


def ntk_gram(
    model: nn.Module,
    objective: Objective,
    batch: Batch,
    *,
    parameters: Sequence[str] | None = None,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """Empirical neural tangent kernel ``J Jᵀ`` over examples and outputs (``nc × nc``)."""
    space = ParameterSpace(model, parameters)
    jacobians, _ = per_example_jacobians(space, as_objective(objective), batch, dtype=dtype)
    flat = jacobians.to(torch.float64).reshape(-1, jacobians.shape[-1])
    return flat @ flat.T


class _SpectrumObservable(ObservableBase):
    cost: ClassVar[Cost] = "expensive"

    def __init__(
        self,
        objective: Objective | LossFn,
        *,
        rtol: float = 1e-5,
        parameters: Sequence[str] | None = None,
        dtype: torch.dtype | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.objective = as_objective(objective)
        if not 0 <= rtol < 1:
            raise ObservableError(f"rtol must be in [0, 1), got {rtol}")
        self.rtol = float(rtol)
        self.parameters = None if parameters is None else list(parameters)
        self.dtype = dtype

    def _gram(self, model: nn.Module, batch: Any) -> Tensor:
        raise NotImplementedError

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        if batch is None:
            raise ObservableError(f"{self.name}: no probe batch; pass data=...")
        summary = summarize_spectrum(_eigenvalues(self._gram(model, batch)), self.rtol)
        return {
            self.key("top"): summary.top,
            self.key("trace"): summary.trace,
            self.key("effective_rank"): summary.effective_rank,
            self.key("participation_ratio"): summary.participation_ratio,
            self.key("rank"): summary.numerical_rank,
            self.key("near_zero"): summary.near_zero,
            self.key("condition_number"): summary.condition_number,
        }


class FisherSpectrum(_SpectrumObservable):
    """Spectrum summaries of the (empirical or true) Fisher on a probe batch.

    Columns ``<name>_top``, ``_trace``, ``_effective_rank``, ``_participation_ratio``,
    ``_rank``, ``_near_zero``, ``_condition_number``; ``name`` defaults to
    ``empirical_fisher`` or ``fisher``.

    Parameters
    ----------
    objective
        The loss; ``kind="true"`` needs the outputs/loss split.
    kind
        ``"empirical"`` (per-example gradients) or ``"true"`` (``Jᵀ H_ℓ J``).
    rtol
        Relative threshold for near-zero eigenvalues.
    """

    def __init__(
        self, objective: Objective | LossFn, *, kind: FisherKind = "empirical", **kwargs: Any
    ):
        if kind not in ("empirical", "true"):
            raise ObservableError(f"kind must be 'empirical' or 'true', got {kind!r}")
        kwargs.setdefault("name", "empirical_fisher" if kind == "empirical" else "fisher")
        super().__init__(objective, **kwargs)
        self.kind = kind

    def _gram(self, model: nn.Module, batch: Any) -> Tensor:
        if self.kind == "empirical":
            return empirical_fisher_gram(
                model, self.objective, batch, parameters=self.parameters, dtype=self.dtype
            )
        return fisher_gram(
            model, self.objective, batch, parameters=self.parameters, dtype=self.dtype
        )


class NTKSpectrum(_SpectrumObservable):
    """Spectrum summaries of the empirical NTK on a probe batch (columns as for Fisher).

    Memory: the per-example Jacobians take ``n × outputs × dim`` numbers.
    """

    default_name = "ntk"

    def _gram(self, model: nn.Module, batch: Any) -> Tensor:
        return ntk_gram(model, self.objective, batch, parameters=self.parameters, dtype=self.dtype)
