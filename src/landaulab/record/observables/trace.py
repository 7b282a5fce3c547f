"""Stochastic trace estimation with standard errors.

- :func:`hutchinson`: ``tr A ≈ (1/m) Σ vᵢᵀ A vᵢ`` with Rademacher probes
  (Hutchinson 1989); variance ``2 Σ_{i≠j} A_ij²`` per probe.
- :func:`hutch_plus_plus`: Hutch++ (Meyer, Musco, Musco & Woodruff 2021,
  arXiv:2010.09649). A third of the products sketch the range of ``A`` (``Q`` from
  ``A S``), the top part ``tr(Qᵀ A Q)`` is computed exactly, and Hutchinson is applied
  only to the deflated remainder ``(I − QQᵀ) A (I − QQᵀ)``. When the spectrum has a
  few dominant eigenvalues (as neural-network Hessians do) the variance drops sharply.

The standard error is the sample standard deviation of the stochastic terms over
the square root of their number; for Hutch++ it is conditional on the sketch ``Q``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from landaulab.record.observables.base import ObservableError, seeded_generator
from landaulab.record.observables.hvp import CurvatureOperator


@dataclass(frozen=True)
class TraceEstimate:
    """A trace estimate.

    Attributes
    ----------
    value
        The estimate of ``tr A``.
    standard_error
        Its standard error (``None`` when fewer than two stochastic probes).
    num_matvecs
        Operator products used.
    num_probes
        Stochastic probes behind the standard error.
    method
        ``"hutchinson"`` or ``"hutch++"``.
    """

    value: float
    standard_error: float | None
    num_matvecs: int
    num_probes: int
    method: str

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form."""
        return {
            "value": self.value,
            "standard_error": self.standard_error,
            "num_matvecs": self.num_matvecs,
            "num_probes": self.num_probes,
            "method": self.method,
        }

    def __str__(self) -> str:
        se = "n/a" if self.standard_error is None else f"{self.standard_error:.3g}"
        return f"trace ≈ {self.value:.6g} ± {se} ({self.method}, {self.num_matvecs} products)"


def _rademacher(dim: int, count: int, generator: torch.Generator, device: torch.device) -> Tensor:
    signs = torch.randint(0, 2, (dim, count), generator=generator).to(torch.float64)
    return (2.0 * signs - 1.0).to(device)


def _standard_error(samples: list[float]) -> float | None:
    if len(samples) < 2:
        return None
    return float(np.std(samples, ddof=1) / math.sqrt(len(samples)))


def hutchinson(
    operator: CurvatureOperator,
    num_matvecs: int = 30,
    *,
    target_standard_error: float | None = None,
    max_matvecs: int = 10_000,
    seed: int = 0,
    generator: torch.Generator | None = None,
) -> TraceEstimate:
    """Hutchinson's estimator with Rademacher probes.

    Parameters
    ----------
    operator
        The symmetric matrix.
    num_matvecs
        Number of probes (at least 2). With ``target_standard_error`` this is the
        minimum, and probes are added until the standard error is below the target or
        ``max_matvecs`` is reached.
    target_standard_error
        Optional precision goal.
    max_matvecs
        Cap on products when a target is given.
    seed, generator
        Randomness of the probes.
    """
    if num_matvecs < 2:
        raise ObservableError(f"hutchinson needs num_matvecs >= 2, got {num_matvecs}")
    if target_standard_error is not None and not target_standard_error > 0:
        raise ObservableError("target_standard_error must be positive")
    generator = generator if generator is not None else seeded_generator(seed, "hutchinson")
    samples: list[float] = []
    limit = num_matvecs if target_standard_error is None else max(max_matvecs, num_matvecs)
    while len(samples) < limit:
        v = _rademacher(operator.dim, 1, generator, operator.device)[:, 0]
        samples.append(float(v @ operator.matvec(v)))
        if len(samples) >= num_matvecs:
            if target_standard_error is None:
                break
            se = _standard_error(samples)
            if se is not None and se <= target_standard_error:
                break
    return TraceEstimate(
        value=float(np.mean(samples)),
        standard_error=_standard_error(samples),
        num_matvecs=len(samples),
        num_probes=len(samples),
        method="hutchinson",
    )


def hutch_plus_plus(
    operator: CurvatureOperator,
    num_matvecs: int = 30,
    *,
    sketch_size: int | None = None,
    seed: int = 0,
    generator: torch.Generator | None = None,
) -> TraceEstimate:
    """Hutch++ trace estimator.

    Parameters
    ----------
    operator
        The symmetric matrix.
    num_matvecs
        Total products (at least 4): ``2·sketch_size`` for the low-rank part and the
        rest for Hutchinson on the remainder.
    sketch_size
        Rank of the sketch (default ``num_matvecs // 3``, as in Meyer et al.).
    seed, generator
        Randomness of the sketch and probes.
    """
    if num_matvecs < 4:
        raise ObservableError(f"hutch++ needs num_matvecs >= 4, got {num_matvecs}")
    k = num_matvecs // 3 if sketch_size is None else int(sketch_size)
    k = min(k, operator.dim)
    residual_probes = num_matvecs - 2 * k
    if k < 1 or residual_probes < 2:
        raise ObservableError(
            f"sketch_size={k} leaves {residual_probes} probes; need sketch_size >= 1 "
            "and num_matvecs - 2*sketch_size >= 2"
        )
    generator = generator if generator is not None else seeded_generator(seed, "hutch++")
    start = operator.num_matvecs
    sketch = _rademacher(operator.dim, k, generator, operator.device)
    q, _ = torch.linalg.qr(operator.matmat(sketch))
    top = float(torch.sum(q * operator.matmat(q)))
    samples = []
    for _ in range(residual_probes):
        g = _rademacher(operator.dim, 1, generator, operator.device)[:, 0]
        g = g - q @ (q.T @ g)
        samples.append(float(g @ operator.matvec(g)))
    return TraceEstimate(
        value=top + float(np.mean(samples)),
        standard_error=_standard_error(samples),
        num_matvecs=operator.num_matvecs - start,
        num_probes=residual_probes,
        method="hutch++",
    )
