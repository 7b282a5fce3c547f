"""Representations: effective rank of hidden activations; Fourier concentration.

- :func:`effective_rank`: ``exp`` of the entropy of the normalised singular values of
  a (centred) activation matrix (Roy & Vetterli 2007), and the participation ratio
  ``(Σλ)²/Σλ²`` of the covariance eigenvalues (Gao et al. 2017, bioRxiv 214262).
- :func:`fourier_concentration`: for modular-arithmetic tasks, networks that
  generalise represent residues ``a ∈ Z_p`` by a few Fourier modes
  ``cos(2πka/p), sin(2πka/p)`` (Nanda, Chan, Lieberum, Smith & Steinhardt 2023,
  arXiv:2301.05217). Given a matrix whose rows are indexed by residues (embedding
  rows, or first-layer weight columns), each column's power spectrum over the
  one-sided frequencies ``k = 1 … ⌊p/2⌋`` (``k`` and ``p − k`` folded) is normalised
  and its inverse participation ratio ``Σₖ qₖ²`` taken (Doshi, Das, He & Gromov 2023,
  arXiv:2310.13061): 1 for a single frequency, ``1/⌊p/2⌋`` for a flat spectrum.
  The dominant frequencies are those with the most power pooled over columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from landaulab.record.observables.base import Cost, ObservableBase, ObservableError
from landaulab.record.observables.symmetry import WeightSource, resolve_weight


def _finite_matrix(values: Tensor | np.ndarray, what: str) -> np.ndarray:
    array = values.detach().cpu().double().numpy() if isinstance(values, Tensor) else values
    array = np.asarray(array, dtype=float)
    if array.ndim < 2:
        raise ObservableError(f"{what} must have at least two dimensions (examples × features)")
    if array.size == 0:
        raise ObservableError(f"{what} is empty")
    array = array.reshape(array.shape[0], -1)
    if not np.all(np.isfinite(array)):
        raise ObservableError(f"{what} contains NaN or infinite entries")
    return array


@dataclass(frozen=True)
class RankSummary:
    """Effective dimensionality of a representation.

    Attributes
    ----------
    effective_rank
        ``exp(H(σ/Σσ))`` over singular values σ (Roy & Vetterli 2007).
    participation_ratio
        ``(Σλ)²/Σλ²`` over covariance eigenvalues λ = σ²/n.
    """

    effective_rank: float
    participation_ratio: float

    def to_dict(self) -> dict[str, float]:
        """JSON-safe form."""
        return {
            "effective_rank": self.effective_rank,
            "participation_ratio": self.participation_ratio,
        }

    def __str__(self) -> str:
        return (
            f"effective rank {self.effective_rank:.4g}, "
            f"participation ratio {self.participation_ratio:.4g}"
        )


def effective_rank(activations: Tensor | np.ndarray, center: bool = True) -> RankSummary:
    """Effective rank and participation ratio of an ``examples × features`` matrix.

    A zero matrix (or a single row after centring) has effective rank 0.
    """
    x = _finite_matrix(activations, "activations")
    if center:
        x = x - x.mean(axis=0, keepdims=True)
    singular = np.linalg.svd(x, compute_uv=False)
    largest = float(singular.max()) if singular.size else 0.0
    if largest <= 0 or not np.isfinite(largest):
        return RankSummary(0.0, 0.0)
    singular = singular / largest  # scale-free; avoids underflow of tiny values
    p = singular[singular > 0] / float(singular.sum())
    eigen = singular**2
    return RankSummary(
        effective_rank=float(np.exp(-np.sum(p * np.log(p)))),
        participation_ratio=float(eigen.sum() ** 2 / np.sum(eigen**2)),
    )


@dataclass(frozen=True)
class FourierConcentration:
    """Fourier structure of a residue-indexed matrix.

    Attributes
    ----------
    ipr
        Mean over columns of the inverse participation ratio of the normalised power
        spectrum (1: every column a single frequency).
    pooled_ipr
        IPR of the power pooled over columns.
    top_fraction
        Fraction of pooled power in the ``len(dominant_frequencies)`` strongest modes.
    dominant_frequencies
        Strongest frequencies ``k ∈ 1 … ⌊p/2⌋``, strongest first.
    power
        Pooled normalised power per frequency (index ``k``; entry 0 is the constant
        mode, zero when excluded).
    modulus
        ``p``, the number of residues.
    """

    ipr: float
    pooled_ipr: float
    top_fraction: float
    dominant_frequencies: tuple[int, ...]
    power: np.ndarray
    modulus: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "ipr": self.ipr,
            "pooled_ipr": self.pooled_ipr,
            "top_fraction": self.top_fraction,
            "dominant_frequencies": list(self.dominant_frequencies),
            "power": self.power.tolist(),
            "modulus": self.modulus,
        }

    def __str__(self) -> str:
        return (
            f"Fourier IPR {self.ipr:.4g} (pooled {self.pooled_ipr:.4g}); dominant "
            f"frequencies {list(self.dominant_frequencies)} hold {self.top_fraction:.1%} "
            f"of the power (p = {self.modulus})"
        )


def folded_power(matrix: np.ndarray) -> np.ndarray:
    """Power per one-sided frequency ``k = 0 … ⌊p/2⌋`` of each column (``k`` and ``p−k`` summed)."""
    p = matrix.shape[0]
    spectrum = np.abs(np.fft.fft(matrix, axis=0)) ** 2
    half = p // 2
    power = np.zeros((half + 1, matrix.shape[1]))
    power[0] = spectrum[0]
    for k in range(1, half + 1):
        power[k] = spectrum[k] + (spectrum[p - k] if p - k != k else 0.0)
    return power


def fourier_concentration(
    weights: Tensor | np.ndarray,
    *,
    residue_axis: int = 0,
    num_frequencies: int = 5,
    exclude_constant: bool = True,
) -> FourierConcentration:
    """Fourier concentration of a matrix indexed by residues along ``residue_axis``.

    Parameters
    ----------
    weights
        E.g. an embedding ``(p, d)`` (``residue_axis=0``) or the block of a first-layer
        weight acting on a one-hot residue, ``(width, p)`` (``residue_axis=1``).
    residue_axis
        Axis indexing the residues ``0 … p−1``.
    num_frequencies
        How many dominant frequencies to report.
    exclude_constant
        Leave out the constant (k = 0) mode, which carries no residue information.
    """
    array = weights.detach().cpu().double().numpy() if isinstance(weights, Tensor) else weights
    array = np.asarray(array, dtype=float)
    if array.ndim != 2:
        raise ObservableError("Fourier concentration needs a 2-D matrix")
    if residue_axis not in (0, 1, -1, -2):
        raise ObservableError(f"residue_axis must be 0 or 1, got {residue_axis}")
    matrix = np.moveaxis(array, residue_axis, 0)
    if matrix.shape[0] < 3:
        raise ObservableError("Fourier concentration needs at least 3 residues")
    if not np.all(np.isfinite(matrix)):
        raise ObservableError("the matrix contains NaN or infinite entries")
    if num_frequencies < 1:
        raise ObservableError(f"num_frequencies must be >= 1, got {num_frequencies}")
    power = folded_power(matrix)
    if exclude_constant:
        power[0] = 0.0
    column_totals = power.sum(axis=0)
    alive = column_totals > 1e-300
    if not np.any(alive):
        empty = np.zeros(power.shape[0])
        return FourierConcentration(0.0, 0.0, 0.0, (), empty, int(matrix.shape[0]))
    q = power[:, alive] / column_totals[alive]
    ipr = float(np.mean(np.sum(q**2, axis=0)))
    pooled = power.sum(axis=1)
    pooled = pooled / pooled.sum()
    candidates = np.arange(1 if exclude_constant else 0, power.shape[0])
    order = candidates[np.argsort(-pooled[candidates], kind="stable")]
    top = order[: min(num_frequencies, order.size)]
    return FourierConcentration(
        ipr=ipr,
        pooled_ipr=float(np.sum(pooled**2)),
        top_fraction=float(pooled[top].sum()),
        dominant_frequencies=tuple(int(k) for k in top),
        power=pooled,
        modulus=int(matrix.shape[0]),
    )


class FourierObservable(ObservableBase):
    """Fourier concentration of an embedding or first-layer weight (weights only).

    Columns ``<name>_ipr``, ``<name>_pooled_ipr``, ``<name>_top_fraction`` and
    ``<name>_frequency_1`` … ``<name>_frequency_n`` (strongest first).

    Parameters
    ----------
    weight
        Parameter name (e.g. ``"embedding.weight"``) or ``model -> Tensor``.
    residue_axis
        Axis of the weight indexing residues.
    residues
        Optional slice along that axis selecting the ``p`` residue entries (e.g.
        ``slice(0, p)`` for the first operand's block of a one-hot first layer).
    num_frequencies, exclude_constant
        See :func:`fourier_concentration`.
    """

    default_name = "fourier"

    def __init__(
        self,
        weight: WeightSource,
        *,
        residue_axis: int = 0,
        residues: slice | None = None,
        num_frequencies: int = 5,
        exclude_constant: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.weight = weight
        self.residue_axis = int(residue_axis)
        self.residues = residues
        self.num_frequencies = int(num_frequencies)
        self.exclude_constant = bool(exclude_constant)

    def measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        weight = resolve_weight(model, self.weight)
        if self.residues is not None:
            index = [slice(None)] * weight.ndim
            index[self.residue_axis] = self.residues
            weight = weight[tuple(index)]
        result = fourier_concentration(
            weight,
            residue_axis=self.residue_axis,
            num_frequencies=self.num_frequencies,
            exclude_constant=self.exclude_constant,
        )
        values = {
            self.key("ipr"): result.ipr,
            self.key("pooled_ipr"): result.pooled_ipr,
            self.key("top_fraction"): result.top_fraction,
        }
        for i, k in enumerate(result.dominant_frequencies):
            values[self.key(f"frequency_{i + 1}")] = float(k)
        return values

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        raise NotImplementedError  # measure() is overridden: weights only, no batch


class RepresentationRank(ObservableBase):
    """Effective rank of hidden representations on the batch.

    Columns ``<name>_effective_rank`` and ``<name>_participation_ratio``.

    Parameters
    ----------
    module
        Name of the submodule whose output is the representation (captured with a
        forward hook while the model runs on the batch's inputs), or a function
        ``representation(model, batch) -> Tensor (n, ...)``.
    inputs
        Extract inputs from a batch for the hooked forward pass (default: first entry).
    center
        Centre features before the SVD.
    """

    cost: ClassVar[Cost] = "cheap"
    default_name = "representation"

    def __init__(
        self,
        module: str | Callable[[nn.Module, Any], Tensor],
        *,
        inputs: Callable[[Any], Any] | None = None,
        center: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.module = module
        self.inputs = inputs
        self.center = bool(center)

    def _activations(self, model: nn.Module, batch: Any) -> Tensor:
        if callable(self.module):
            with torch.no_grad():
                return self.module(model, batch)
        from landaulab.record.observables.objective import default_inputs

        modules = dict(model.named_modules())
        if self.module not in modules:
            raise ObservableError(
                f"no submodule {self.module!r}; the model has {sorted(n for n in modules if n)}"
            )
        captured: list[Tensor] = []

        def hook(_module: nn.Module, _inputs: Any, output: Any) -> None:
            captured.append(output[0] if isinstance(output, tuple) else output)

        handle = modules[self.module].register_forward_hook(hook)
        try:
            with torch.no_grad():
                model((self.inputs or default_inputs)(batch))
        finally:
            handle.remove()
        if not captured:
            raise ObservableError(f"submodule {self.module!r} did not run in the forward pass")
        return captured[0]

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        if batch is None:
            raise ObservableError(f"{self.name}: no batch to measure on; pass data=...")
        summary = effective_rank(self._activations(model, batch), center=self.center)
        return {
            self.key("effective_rank"): summary.effective_rank,
            self.key("participation_ratio"): summary.participation_ratio,
        }
