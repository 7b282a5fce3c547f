"""Extreme eigenvalues and spectral densities of symmetric operators by Lanczos.

- :func:`top_eigenvalues`: (block) Lanczos with full reorthogonalisation (Lanczos 1950;
  Parlett, *The Symmetric Eigenvalue Problem*, 1998). Every new Krylov vector is
  orthogonalised twice against the whole basis ("twice is enough", Giraud et al.
  2005), so no spurious copies of converged eigenvalues appear. Iteration stops when
  the a-posteriori error estimate ``min(r, r²/gap)`` of each wanted Ritz value (``r``
  the residual norm, ``gap`` the distance to the nearest other Ritz value) is below
  ``tol`` times its magnitude. A block size ``b > 1`` resolves eigenvalues of
  multiplicity up to ``b`` (a single start vector sees each distinct eigenvalue once).
- :func:`spectral_density`: stochastic Lanczos quadrature (Golub & Meurant 1994;
  Ubaru, Chen & Saad 2017; Ghorbani, Krishnan & Xiao 2019, arXiv:1901.10159): for each
  random probe ``v``, the Ritz values of the Krylov space of ``v`` and the squared first
  components of their eigenvectors form a Gauss quadrature of ``vᵀ g(A) v``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from landaulab.record.observables.base import ObservableError, rademacher, seeded_generator
from landaulab.record.observables.hvp import CurvatureOperator

Which = Literal["largest", "smallest", "magnitude"]
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class EigenResult:
    """Eigenvalues found by Lanczos.

    Attributes
    ----------
    eigenvalues
        The wanted eigenvalues, in the order asked for (``largest``: descending).
    error_bounds
        A-posteriori error estimates ``min(r, r²/gap)`` of each eigenvalue.
    residuals
        Residual norms ``‖A y − θ y‖`` of the Ritz pairs.
    num_matvecs
        Operator products used.
    num_iterations
        Size of the Krylov basis.
    converged
        Whether every error estimate met the tolerance.
    eigenvectors
        ``(dim, k)`` unit Ritz vectors (float64) when requested, else ``None``.
    """

    eigenvalues: np.ndarray
    error_bounds: np.ndarray
    residuals: np.ndarray
    num_matvecs: int
    num_iterations: int
    converged: bool
    eigenvectors: Tensor | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, object]:
        """JSON-safe summary (no eigenvectors)."""
        return {
            "eigenvalues": [float(x) for x in self.eigenvalues],
            "error_bounds": [float(x) for x in self.error_bounds],
            "residuals": [float(x) for x in self.residuals],
            "num_matvecs": self.num_matvecs,
            "num_iterations": self.num_iterations,
            "converged": self.converged,
        }

    def __str__(self) -> str:
        values = ", ".join(
            f"{v:.8g} (±{e:.1e})" for v, e in zip(self.eigenvalues, self.error_bounds, strict=True)
        )
        state = "converged" if self.converged else "NOT converged"
        return f"eigenvalues: {values}; {self.num_matvecs} products, {state}"


class _KrylovBasis:
    """Orthonormal Krylov basis with the projected matrix T = Qᵀ A Q kept dense."""

    def __init__(self, operator: CurvatureOperator, capacity: int, generator: torch.Generator):
        self.operator = operator
        self.dim = operator.dim
        self.capacity = capacity
        self.generator = generator
        self.basis = torch.empty(capacity, self.dim, dtype=torch.float64, device=operator.device)
        self.projected = np.zeros((capacity, capacity))
        self.size = 0
        self.last_block: tuple[int, int] = (0, 0)
        self.coupling = np.zeros((0, 0))  # rows of T linking the new block to the last
        self.residual_coupling = np.zeros((0, 0))
        self._pending = (0, 0)

    def random_vectors(self, count: int) -> Tensor:
        v = torch.randn(count, self.dim, generator=self.generator, dtype=torch.float64)
        return v.to(self.operator.device)

    def orthogonalise(self, block: Tensor) -> tuple[Tensor, np.ndarray]:
        """Remove the span of the basis from rows of ``block`` (twice); return coefficients."""
        coefficients = np.zeros((self.size, block.shape[0]))
        if self.size:
            q = self.basis[: self.size]
            for _ in range(2):
                c = q @ block.T
                block = block - c.T @ q
                coefficients += c.cpu().numpy()
        return block, coefficients

    def add_block(self, block: Tensor, reference: float, *, orthogonal: bool = False) -> int:
        """Orthonormalise rows of ``block`` against the basis and append them.

        ``reference`` is the scale of the operator's products: directions whose
        remaining norm is at rounding level relative to it are replaced by random
        vectors orthogonal to the basis (a restart after an invariant subspace).
        ``orthogonal=True`` says the rows are already orthogonal to the basis.
        Returns the number of rows appended.
        """
        if not orthogonal:
            block, _ = self.orthogonalise(block)
        if block.shape[0] == 1:  # a QR of one column is its normalisation
            norm = block.norm()
            q_factor = (block / norm).T if float(norm) > 0 else block.T
            coupling = np.array([[float(norm)]])
        else:
            q_factor, r_factor = torch.linalg.qr(block.T)  # (dim, b), (b, b)
            coupling = r_factor.cpu().numpy()
        self.residual_coupling = coupling.copy()
        room = max(0, min(block.shape[0], self.dim - self.size, self.capacity - self.size))
        threshold = 1e3 * _EPS * math.sqrt(self.dim) * max(reference, 1e-300)
        rows: list[Tensor] = []
        for i in range(room):
            vector = q_factor[:, i]
            if abs(coupling[i, i]) <= threshold:
                coupling[i, :] = 0.0
                vector = self._fresh_direction(rows)
            rows.append(vector)
        self.coupling = coupling[:room]
        start = self.size
        for vector in rows:
            self.basis[self.size] = vector
            self.size += 1
        self.last_block = (start, self.size)
        return room

    def _fresh_direction(self, pending: list[Tensor]) -> Tensor:
        for _ in range(5):
            v = self.random_vectors(1)
            v, _ = self.orthogonalise(v)
            v = v[0]
            for p in pending:
                v = v - (p @ v) * p
            norm = float(v.norm())
            if norm > 1e-8:
                return v / norm
        raise ObservableError("could not extend the Krylov basis; the space is exhausted")

    def expand(self) -> int:
        """Apply the operator to the last block and append the next block."""
        start, stop = self.last_block
        products = torch.stack([self.operator.matvec(self.basis[i]) for i in range(start, stop)])
        reference = float(products.norm(dim=1).max())
        block, coefficients = self.orthogonalise(products)
        # Column block [start, stop) of T: projections on the basis.
        self.projected[: self.size, start:stop] = coefficients
        self.projected[start:stop, : self.size] = coefficients.T
        old_size = self.size
        added = self.add_block(block, reference, orthogonal=True)
        if added:
            self.projected[old_size : self.size, start:stop] = self.coupling
            self.projected[start:stop, old_size : self.size] = self.coupling.T
        self._pending = (start, stop)
        return added

    @property
    def processed(self) -> int:
        """Basis vectors whose products are known (rows of ``T`` filled in)."""
        return self._pending[1]

    def ritz(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ritz values, vectors in the basis, and residual norms for the processed part."""
        start, stop = self._pending
        t = self.projected[:stop, :stop]  # rows whose products are known
        theta, s = np.linalg.eigh(0.5 * (t + t.T))
        residuals = np.linalg.norm(self.residual_coupling @ s[start:stop, :], axis=0)
        return theta, s, residuals


def krylov_decomposition(
    operator: CurvatureOperator,
    num_matvecs: int,
    *,
    block_size: int = 1,
    generator: torch.Generator,
    start: Tensor | None = None,
) -> tuple[Tensor, np.ndarray]:
    """An orthonormal Krylov basis ``Q`` from a start block and ``T = Qᵀ A Q``.

    ``num_matvecs`` products (rounded down to a multiple of ``block_size``) give a
    basis of that many vectors, and the projected matrix on it comes with them: the
    Lanczos recurrence fills ``T`` from the same products that extend the basis.
    ``start`` is the ``(block_size, dim)`` start block (default: Gaussian rows drawn
    from ``generator``, which also supplies restarts after an invariant subspace).

    Returns
    -------
    tuple
        ``(Q, T)``: ``Q`` a ``(m, dim)`` float64 tensor of orthonormal rows, ``T`` the
        ``(m, m)`` symmetric matrix ``Q A Qᵀ``.
    """
    if block_size < 1:
        raise ObservableError(f"block_size must be >= 1, got {block_size}")
    steps = num_matvecs // block_size
    if steps < 1:
        raise ObservableError(
            f"a Krylov basis needs num_matvecs >= block_size ({block_size}), got {num_matvecs}"
        )
    size = min(operator.dim, steps * block_size)
    krylov = _KrylovBasis(operator, min(operator.dim, size + block_size), generator)
    if start is None:
        start = krylov.random_vectors(min(block_size, operator.dim))
    krylov.add_block(start, float(start.norm(dim=1).max()))
    while krylov.processed < size:
        if krylov.expand() == 0:
            break
    processed = krylov.processed
    projected = krylov.projected[:processed, :processed]
    return krylov.basis[:processed], 0.5 * (projected + projected.T)


def _order(theta: np.ndarray, which: Which) -> np.ndarray:
    if which == "largest":
        return np.argsort(-theta, kind="stable")
    if which == "smallest":
        return np.argsort(theta, kind="stable")
    if which == "magnitude":
        return np.argsort(-np.abs(theta), kind="stable")
    raise ObservableError(f"which must be 'largest', 'smallest' or 'magnitude', got {which!r}")


def _error_bounds(theta: np.ndarray, residuals: np.ndarray, index: np.ndarray) -> np.ndarray:
    bounds = np.empty(len(index))
    for out, i in enumerate(index):
        others = np.delete(theta, i)
        r = float(residuals[i])
        if others.size == 0:  # no estimate of the gap yet
            bounds[out] = r
            continue
        gap = float(np.min(np.abs(others - theta[i])))
        bounds[out] = min(r, r * r / gap) if gap > 0 else r
    return bounds


def top_eigenvalues(
    operator: CurvatureOperator,
    k: int = 1,
    *,
    which: Which = "largest",
    tol: float = 1e-6,
    max_iterations: int | None = None,
    block_size: int = 1,
    seed: int = 0,
    generator: torch.Generator | None = None,
    return_eigenvectors: bool = False,
    refine: CurvatureOperator | None = None,
) -> EigenResult:
    """The ``k`` extreme eigenvalues of a symmetric operator.

    Parameters
    ----------
    operator
        The matrix (Hessian, Gauss–Newton, Fisher or a dense matrix).
    k
        Number of eigenvalues.
    which
        ``"largest"`` (algebraic; the sharpness), ``"smallest"`` or ``"magnitude"``.
    tol
        Relative accuracy wanted for each eigenvalue (error estimate ≤ ``tol·|λ|``).
    max_iterations
        Largest Krylov basis (default ``min(dim, max(100, 20·k))``).
    block_size
        Start vectors per block; use ``≥`` the expected multiplicity of the wanted
        eigenvalues (e.g. at a permutation-symmetric point).
    seed, generator
        Randomness of the start block (``generator`` wins when given).
    return_eigenvectors
        Also return the Ritz vectors.
    refine
        A more accurate version of the same operator (e.g. the Hessian with float64
        products when ``operator`` uses float32). The Ritz vectors are then re-scored
        by their Rayleigh quotients on ``refine`` (one product each), removing the
        rounding error of the cheap products: the refined error is ``≈ r²/gap`` with
        ``r`` the residual measured on ``refine``.

    Returns
    -------
    EigenResult
    """
    dim = operator.dim
    if not 1 <= k <= dim:
        raise ObservableError(f"k must be between 1 and the dimension {dim}, got {k}")
    if block_size < 1:
        raise ObservableError(f"block_size must be >= 1, got {block_size}")
    if not tol > 0:
        raise ObservableError(f"tol must be positive, got {tol}")
    capacity = min(dim, max_iterations if max_iterations is not None else max(100, 20 * k))
    capacity = max(capacity, min(dim, k + block_size))
    generator = generator if generator is not None else seeded_generator(seed, "lanczos")
    krylov = _KrylovBasis(operator, capacity, generator)
    start_block = krylov.random_vectors(min(block_size, dim))
    krylov.add_block(start_block, float(start_block.norm(dim=1).max()))
    start_products = operator.num_matvecs
    converged = False
    while True:
        added = krylov.expand()
        theta, s, residuals = krylov.ritz()
        wanted = _order(theta, which)[: min(k, len(theta))]
        bounds = _error_bounds(theta, residuals, wanted)
        scale = max(float(np.max(np.abs(theta))), 1e-300)
        limits = tol * np.maximum(np.abs(theta[wanted]), 1e-8 * scale)
        exhausted = added == 0
        if len(wanted) == k and (np.all(bounds <= limits) or exhausted):
            converged = bool(np.all(bounds <= limits)) or krylov.size >= dim
            break
        if exhausted:
            break
    vectors = None
    if return_eigenvectors or refine is not None:
        m = len(theta)
        vectors = krylov.basis[:m].T @ torch.as_tensor(
            s[:, wanted], dtype=torch.float64, device=operator.device
        )
    result = EigenResult(
        eigenvalues=theta[wanted].copy(),
        error_bounds=bounds,
        residuals=residuals[wanted].copy(),
        num_matvecs=operator.num_matvecs - start_products,
        num_iterations=len(theta),
        converged=converged,
        eigenvectors=vectors,
    )
    if refine is None:
        return result
    refined = rayleigh_refine(refine, result, tol=tol, others=np.delete(theta, wanted))
    if not return_eigenvectors:
        refined = replace(refined, eigenvectors=None)
    return refined


def rayleigh_refine(
    operator: CurvatureOperator,
    result: EigenResult,
    *,
    tol: float | None = None,
    others: np.ndarray | None = None,
) -> EigenResult:
    """Re-score Ritz vectors by their Rayleigh quotients on a more accurate operator.

    Parameters
    ----------
    operator
        The accurate operator (one product per vector).
    result
        A result holding ``eigenvectors``.
    tol
        Relative accuracy for the ``converged`` flag (default: keep the run's flag).
    others
        Other Ritz values of the run, used with the refined values for the gaps.

    Returns
    -------
    EigenResult
        Eigenvalues ``vᵀAv``, residuals ``‖Av − (vᵀAv)v‖`` and error estimates
        ``min(r, r²/gap)`` measured on ``operator``; ``num_matvecs`` includes the
        refinement products.
    """
    if result.eigenvectors is None:
        raise ObservableError("refinement needs the Ritz vectors (return_eigenvectors=True)")
    vectors = result.eigenvectors.to(operator.device)
    vectors = vectors / vectors.norm(dim=0, keepdim=True)
    values, residuals = [], []
    for j in range(vectors.shape[1]):
        v = vectors[:, j]
        w = operator.matvec(v)
        rho = float(v @ w)
        values.append(rho)
        residuals.append(float((w - rho * v).norm()))
    values_array = np.asarray(values)
    residual_array = np.asarray(residuals)
    pool = np.concatenate([values_array, others if others is not None else np.zeros(0)])
    order = np.arange(len(values_array))
    bounds = _error_bounds(
        pool, np.concatenate([residual_array, np.zeros(len(pool) - len(order))]), order
    )
    converged = result.converged
    if tol is not None:
        scale = max(float(np.max(np.abs(pool))), 1e-300)
        converged = bool(np.all(bounds <= tol * np.maximum(np.abs(values_array), 1e-8 * scale)))
    return replace(
        result,
        eigenvalues=values_array,
        residuals=residual_array,
        error_bounds=bounds,
        num_matvecs=result.num_matvecs + vectors.shape[1],
        eigenvectors=vectors,
        converged=converged,
    )


@dataclass(frozen=True)
class SpectralDensity:
    """Stochastic Lanczos quadrature of a symmetric operator's spectrum.

    Attributes
    ----------
    nodes
        ``(probes, m)`` Ritz values per probe.
    weights
        ``(probes, m)`` quadrature weights per probe (each row sums to 1).
    dim
        Size of the matrix (the number of eigenvalues).
    """

    nodes: np.ndarray
    weights: np.ndarray
    dim: int

    def density(self, grid: np.ndarray, width: float) -> np.ndarray:
        """Spectral density on ``grid``, smoothed by Gaussians of std ``width``.

        Normalised to integrate to one; multiply by ``dim`` for eigenvalues per unit.
        """
        if not width > 0:
            raise ObservableError(f"width must be positive, got {width}")
        grid = np.asarray(grid, dtype=float)
        diff = grid[:, None, None] - self.nodes[None]
        kernel = np.exp(-0.5 * (diff / width) ** 2) / (width * math.sqrt(2 * math.pi))
        return np.mean(np.sum(self.weights[None] * kernel, axis=2), axis=1)

    @property
    def trace(self) -> float:
        """Trace estimate ``dim · mean_v Σⱼ τⱼ θⱼ``."""
        return float(self.dim * np.mean(np.sum(self.weights * self.nodes, axis=1)))

    def fraction_below(self, threshold: float = 0.0) -> float:
        """Estimated fraction of eigenvalues below ``threshold`` (e.g. negative ones)."""
        return float(np.mean(np.sum(self.weights * (self.nodes < threshold), axis=1)))

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form."""
        return {
            "nodes": self.nodes.tolist(),
            "weights": self.weights.tolist(),
            "dim": self.dim,
            "trace": self.trace,
        }

    def __str__(self) -> str:
        low, high = float(self.nodes.min()), float(self.nodes.max())
        return (
            f"spectral density of a {self.dim}-dimensional operator: support "
            f"[{low:.4g}, {high:.4g}], trace ≈ {self.trace:.4g}, "
            f"{self.nodes.shape[0]} probes × {self.nodes.shape[1]} nodes"
        )


def spectral_density(
    operator: CurvatureOperator,
    *,
    num_iterations: int = 40,
    num_probes: int = 4,
    seed: int = 0,
    generator: torch.Generator | None = None,
) -> SpectralDensity:
    """Stochastic Lanczos quadrature with Rademacher probes.

    Parameters
    ----------
    operator
        The symmetric matrix.
    num_iterations
        Lanczos steps per probe (quadrature nodes; capped at the dimension).
    num_probes
        Independent probes averaged.
    seed, generator
        Randomness of the probes.
    """
    if num_iterations < 1 or num_probes < 1:
        raise ObservableError("num_iterations and num_probes must be >= 1")
    generator = generator if generator is not None else seeded_generator(seed, "slq")
    m = min(num_iterations, operator.dim)
    nodes = np.zeros((num_probes, m))
    weights = np.zeros((num_probes, m))
    for probe in range(num_probes):
        probe_vector = rademacher(operator.dim, 1, generator, operator.device).T
        _, projected = krylov_decomposition(operator, m, generator=generator, start=probe_vector)
        theta, s = np.linalg.eigh(projected)
        size = len(theta)
        nodes[probe, :size] = theta
        weights[probe, :size] = s[0, :] ** 2
        if size < m:  # exhausted: pad with zero-weight copies of a node
            nodes[probe, size:] = theta[-1]
    return SpectralDensity(nodes=nodes, weights=weights, dim=operator.dim)
