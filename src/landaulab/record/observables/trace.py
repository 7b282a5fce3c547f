"""Stochastic trace estimation with standard errors.

- :func:`hutchinson`: ``tr A ≈ (1/m) Σ vᵢᵀ A vᵢ`` with Rademacher probes
  (Hutchinson 1989); variance ``2 Σ_{i≠j} A_ij²`` per probe.
- :func:`hutch_plus_plus`: Hutch++ (Meyer, Musco, Musco & Woodruff 2021,
  arXiv:2010.09649). A third of the products sketch the range of ``A`` (``Q`` from
  ``A S``), the top part ``tr(Qᵀ A Q)`` is computed exactly, and Hutchinson is applied
  only to the deflated remainder ``(I − QQᵀ) A (I − QQᵀ)``. When the spectrum has a
  few dominant eigenvalues (as neural-network Hessians do) the variance drops sharply.
  With ``range_finder="krylov"`` the subspace is a Lanczos basis instead (Chen &
  Hallman 2023, arXiv:2205.01736): each product both extends it and fills in
  ``Qᵀ A Q``, so a subspace of the same dimension costs half as many products as the
  sketch, leaving more for the probes.

The standard error is the sample standard deviation of the stochastic terms over
the square root of their number; for Hutch++ it is conditional on the sketch ``Q``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

from landaulab.record.observables.base import ObservableError, rademacher, seeded_generator
from landaulab.record.observables.hvp import CurvatureOperator
from landaulab.record.observables.lanczos import krylov_decomposition

RangeFinder = Literal["sketch", "krylov"]
RANGE_FINDERS: tuple[str, ...] = ("sketch", "krylov")
_PROBE_CHUNK = 64  # probes projected together


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
        ``"hutchinson"``, ``"hutch++"`` or ``"krylov hutch++"``.
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


def check_range_finder(range_finder: str) -> None:
    """Raise unless ``range_finder`` is one of :data:`RANGE_FINDERS`."""
    if range_finder not in RANGE_FINDERS:
        raise ObservableError(f"range_finder must be one of {RANGE_FINDERS}, got {range_finder!r}")


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
        v = rademacher(operator.dim, 1, generator, operator.device)[:, 0]
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
    range_finder: RangeFinder = "sketch",
    block_size: int = 1,
    seed: int = 0,
    generator: torch.Generator | None = None,
) -> TraceEstimate:
    """Hutch++ trace estimator, with a sketched or a Krylov range.

    Parameters
    ----------
    operator
        The symmetric matrix.
    num_matvecs
        Total products (at least 4).
    sketch_size
        Dimension of the deflated subspace (default ``num_matvecs // 3``, as in Meyer
        et al.). ``"sketch"`` spends ``2·sketch_size`` products on it (``A S`` and
        ``A Q``), ``"krylov"`` spends ``sketch_size``; the rest are Hutchinson probes
        of the remainder.
    range_finder
        ``"sketch"``: ``Q`` spans ``A S`` for a Rademacher ``S`` (Meyer et al. 2021).
        ``"krylov"``: ``Q`` is a Lanczos basis of ``span{s, As, A²s, …}`` with full
        reorthogonalisation, and ``tr(Qᵀ A Q)`` is the trace of the tridiagonal
        matrix the same products build (Chen & Hallman 2023, arXiv:2205.01736), so
        the subspace costs half the sketch's products. Either pays once the subspace
        can hold the spectrum's outliers, such as the ≈ C − 1 outliers of a C-class
        network's Hessian (Papyan 2019, arXiv:1811.07062).
    block_size
        Start vectors of the Krylov basis (``"krylov"`` only): use ``≥`` the
        multiplicity of repeated dominant eigenvalues, which a single start vector
        deflates only once.
    seed, generator
        Randomness of the subspace and probes.

    Notes
    -----
    The deflated subspace is independent of the probes, so the estimate is unbiased
    whatever ``Q`` is; the standard error is conditional on ``Q``.
    """
    if num_matvecs < 4:
        raise ObservableError(f"hutch++ needs num_matvecs >= 4, got {num_matvecs}")
    check_range_finder(range_finder)
    k = num_matvecs // 3 if sketch_size is None else int(sketch_size)
    k = min(k, operator.dim)
    cost = 2 * k if range_finder == "sketch" else k - k % max(block_size, 1)
    residual_probes = num_matvecs - cost
    if k < 1 or cost < 1 or residual_probes < 2:
        raise ObservableError(
            f"sketch_size={k} leaves {residual_probes} probes; need sketch_size >= "
            f"{max(block_size, 1) if range_finder == 'krylov' else 1} and at least 2 "
            f"of the {num_matvecs} products left for probes"
        )
    generator = generator if generator is not None else seeded_generator(seed, "hutch++")
    start = operator.num_matvecs
    if range_finder == "sketch":
        sketch = rademacher(operator.dim, k, generator, operator.device)
        q, _ = torch.linalg.qr(operator.matmat(sketch))
        top = float(torch.sum(q * operator.matmat(q)))
        rows = q.T
    else:
        rows, projected = krylov_decomposition(
            operator, k, block_size=block_size, generator=generator
        )
        top = float(np.trace(projected))
    samples = []
    for first in range(0, residual_probes, _PROBE_CHUNK):
        count = min(_PROBE_CHUNK, residual_probes - first)
        probes = rademacher(operator.dim, count, generator, operator.device)
        probes = probes - rows.T @ (rows @ probes)  # one BLAS-3 projection per chunk
        for j in range(count):
            g = probes[:, j]
            samples.append(float(g @ operator.matvec(g)))
    return TraceEstimate(
        value=top + float(np.mean(samples)),
        standard_error=_standard_error(samples),
        num_matvecs=operator.num_matvecs - start,
        num_probes=residual_probes,
        method="hutch++" if range_finder == "sketch" else "krylov hutch++",
    )
