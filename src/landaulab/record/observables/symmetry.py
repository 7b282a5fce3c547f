"""Symmetry breaking among hidden units: overlaps, specialisation, clusters, Z₂ parity.

For a layer whose incoming weights are the rows ``wᵢ`` of ``W`` (``K × N``) and an
optional teacher ``W*`` (``M × N``), the order parameters of the soft committee
machine (Saad & Solla 1995; Goldt, Advani, Saxe, Krzakala & Zdeborová 2019,
arXiv:1906.08632) are ``Q = W Wᵀ/N``, ``R = W W*ᵀ/N`` and ``T = W* W*ᵀ/N``.
On the symmetric plateau every student unit overlaps equally with every teacher unit
(``R`` constant); after specialisation ``R`` is a scaled permutation matrix.

- :func:`specialisation_index`: with ``Cᵢⱼ = Rᵢⱼ/√(QᵢᵢTⱼⱼ)`` and
  ``pᵢⱼ = Cᵢⱼ²/Σⱼ Cᵢⱼ²``, each unit scores ``(maxⱼ pᵢⱼ − 1/M)/(1 − 1/M)``: 0 when it
  overlaps all teacher units equally, 1 when it overlaps one only. The index is the
  mean over units.
- :func:`matched_overlap`: mean ``|Cᵢπ(i)|`` over the best one-to-one assignment π of
  students to teacher units (Hungarian algorithm): 1 when every teacher unit is
  reproduced by its own student unit.
- :func:`unit_differentiation` (no teacher needed): ``1 −`` mean ``|cos|`` between
  distinct units; 0 when all units are identical.
- :func:`count_unit_clusters`: connected components of the graph joining units with
  cosine similarity above a threshold.
- :func:`z2_breaking_fraction`: for a task symmetric under ``x → −x`` with odd (or
  even) target, the fraction of output power in the even (odd) part of ``f``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components
from torch import Tensor, nn

from landaulab.record.observables.base import Cost, ObservableBase, ObservableError
from landaulab.record.observables.objective import default_inputs

WeightSource = str | Callable[[nn.Module], Tensor]


def _matrix(weights: Tensor | np.ndarray, what: str) -> np.ndarray:
    array = weights.detach().cpu().double().numpy() if isinstance(weights, Tensor) else weights
    array = np.asarray(array, dtype=float)
    if array.ndim != 2 or array.shape[0] < 1 or array.shape[1] < 1:
        raise ObservableError(f"{what} must be a non-empty (units × inputs) matrix")
    if not np.all(np.isfinite(array)):
        raise ObservableError(f"{what} contains NaN or infinite entries")
    return array


@dataclass(frozen=True)
class UnitOverlaps:
    """Overlap matrices ``Q``, ``R`` (``None`` without teacher) and ``T``."""

    Q: np.ndarray
    R: np.ndarray | None
    T: np.ndarray | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "Q": self.Q.tolist(),
            "R": None if self.R is None else self.R.tolist(),
            "T": None if self.T is None else self.T.tolist(),
        }

    def __str__(self) -> str:
        text = f"Q =\n{np.array2string(self.Q, precision=4)}"
        if self.R is not None:
            text += f"\nR =\n{np.array2string(self.R, precision=4)}"
        return text


def unit_overlaps(
    student: Tensor | np.ndarray, teacher: Tensor | np.ndarray | None = None
) -> UnitOverlaps:
    """``Q = W Wᵀ/N``, ``R = W W*ᵀ/N``, ``T = W* W*ᵀ/N`` for rows as units.

    Parameters
    ----------
    student
        ``K × N`` incoming weights of the student's hidden units.
    teacher
        Optional ``M × N`` teacher weights.
    """
    w = _matrix(student, "student weights")
    n = w.shape[1]
    if teacher is None:
        return UnitOverlaps(Q=w @ w.T / n, R=None, T=None)
    t = _matrix(teacher, "teacher weights")
    if t.shape[1] != n:
        raise ObservableError(
            f"student and teacher disagree on the input dimension: {n} vs {t.shape[1]}"
        )
    return UnitOverlaps(Q=w @ w.T / n, R=w @ t.T / n, T=t @ t.T / n)


def _cosines(overlaps: UnitOverlaps) -> np.ndarray:
    if overlaps.R is None or overlaps.T is None:
        raise ObservableError("this measure needs a teacher (R and T)")
    q = np.sqrt(np.clip(np.diag(overlaps.Q), 0, None))
    t = np.sqrt(np.clip(np.diag(overlaps.T), 0, None))
    denominator = np.outer(q, t)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, overlaps.R / denominator, 0.0)


def specialisation_index(overlaps: UnitOverlaps) -> float:
    """Mean over student units of ``(maxⱼ pᵢⱼ − 1/M)/(1 − 1/M)``; 0 symmetric, 1 specialised.

    Units with zero weight (or zero overlap with every teacher unit) score 0.
    """
    c = _cosines(overlaps)
    m = c.shape[1]
    if m < 2:
        raise ObservableError("specialisation needs at least two teacher units")
    power = c**2
    totals = power.sum(axis=1)
    scores = np.zeros(c.shape[0])
    alive = totals > 0
    p = power[alive] / totals[alive, None]
    scores[alive] = (p.max(axis=1) - 1.0 / m) / (1.0 - 1.0 / m)
    return float(np.clip(np.mean(scores), 0.0, 1.0))


def matched_overlap(overlaps: UnitOverlaps) -> float:
    """Mean ``|cos|`` over the best one-to-one matching of student and teacher units."""
    c = np.abs(_cosines(overlaps))
    rows, cols = linear_sum_assignment(-c)
    return float(np.mean(c[rows, cols]))


def _unit_cosines(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = np.linalg.norm(weights, axis=1)
    alive = norms > 1e-12 * max(float(norms.max()), 1e-300)
    unit = np.zeros_like(weights)
    unit[alive] = weights[alive] / norms[alive, None]
    return unit @ unit.T, alive


def unit_differentiation(student: Tensor | np.ndarray) -> float:
    """``1 −`` mean ``|cos(wᵢ, wₖ)|`` over pairs of distinct units (0: all identical).

    A single unit scores 0.
    """
    w = _matrix(student, "student weights")
    k = w.shape[0]
    if k < 2:
        return 0.0
    cos, _ = _unit_cosines(w)
    off = np.abs(cos[~np.eye(k, dtype=bool)])
    return float(np.clip(1.0 - off.mean(), 0.0, 1.0))  # clip rounding at the ends


def count_unit_clusters(
    student: Tensor | np.ndarray, threshold: float = 0.9, sign_invariant: bool = False
) -> int:
    """Number of groups of units whose directions agree (cosine ≥ ``threshold``).

    Units are joined when their cosine similarity (its absolute value with
    ``sign_invariant``, for odd activations where ``w`` and ``−w`` are equivalent) is
    at least ``threshold``; clusters are connected components. Dead (zero) units form
    one cluster of their own.
    """
    if not -1.0 <= threshold <= 1.0:
        raise ObservableError(f"threshold must be a cosine in [-1, 1], got {threshold}")
    w = _matrix(student, "student weights")
    cos, alive = _unit_cosines(w)
    similarity = np.abs(cos) if sign_invariant else cos
    adjacency = similarity >= threshold
    adjacency[~alive, :] = False
    adjacency[:, ~alive] = False
    dead = ~alive
    adjacency[np.ix_(dead, dead)] = True
    count, _ = connected_components(adjacency, directed=False)
    return int(count)


def z2_breaking_fraction(
    outputs: Tensor, mirrored: Tensor, parity: Literal["odd", "even"]
) -> float:
    """Fraction of output power breaking the parity ``f(−x) = ∓f(x)``.

    Parameters
    ----------
    outputs, mirrored
        ``f(x)`` and ``f(−x)`` on the same inputs.
    parity
        ``"odd"``: the symmetric solution has ``f(−x) = −f(x)``, the breaking part is
        the even part ``(f(x) + f(−x))/2``; ``"even"``: the reverse.
    """
    if parity not in ("odd", "even"):
        raise ObservableError(f"parity must be 'odd' or 'even', got {parity!r}")
    f = outputs.detach().double()
    g = mirrored.detach().double()
    even = 0.5 * (f + g)
    odd = 0.5 * (f - g)
    total = float(even.pow(2).sum() + odd.pow(2).sum())
    if total == 0.0:
        return 0.0
    breaking = even if parity == "odd" else odd
    return float(breaking.pow(2).sum()) / total


def resolve_weight(model: nn.Module, source: WeightSource) -> Tensor:
    """A weight matrix named by a parameter name or returned by ``source(model)``."""
    if callable(source):
        weight = source(model)
    else:
        params = dict(model.named_parameters())
        if source not in params:
            raise ObservableError(f"no parameter {source!r}; the model has {sorted(params)}")
        weight = params[source]
    if not isinstance(weight, Tensor):
        raise ObservableError("the weight source must give a torch.Tensor")
    return weight.detach()


class UnitSymmetry(ObservableBase):
    """Symmetry-breaking order parameters of one layer's hidden units.

    Columns: ``<name>_differentiation``, ``<name>_clusters`` and, with a teacher,
    ``<name>_specialisation_index`` and ``<name>_matched_overlap``; with
    ``record_matrices`` also ``<name>_Q_i_j`` and ``<name>_R_i_j``.

    Parameters
    ----------
    weight
        Parameter name of the ``K × N`` incoming weights (e.g. ``"hidden.weight"``) or
        a function ``model -> Tensor``.
    teacher
        Optional ``M × N`` teacher weights.
    threshold, sign_invariant
        Clustering settings (see :func:`count_unit_clusters`).
    record_matrices
        Also record every entry of ``Q`` and ``R`` (for small layers).
    """

    default_name = "units"

    def __init__(
        self,
        weight: WeightSource,
        *,
        teacher: Tensor | np.ndarray | None = None,
        threshold: float = 0.9,
        sign_invariant: bool = False,
        record_matrices: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.weight = weight
        self.teacher = None if teacher is None else _matrix(teacher, "teacher weights")
        self.threshold = float(threshold)
        self.sign_invariant = bool(sign_invariant)
        self.record_matrices = bool(record_matrices)

    def measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        student = _matrix(resolve_weight(model, self.weight), "student weights")
        overlaps = unit_overlaps(student, self.teacher)
        values = {
            self.key("differentiation"): unit_differentiation(student),
            self.key("clusters"): float(
                count_unit_clusters(student, self.threshold, self.sign_invariant)
            ),
        }
        if self.teacher is not None:
            if self.teacher.shape[0] >= 2:
                values[self.key("specialisation_index")] = specialisation_index(overlaps)
            values[self.key("matched_overlap")] = matched_overlap(overlaps)
        if self.record_matrices:
            for name, matrix in (("Q", overlaps.Q), ("R", overlaps.R)):
                if matrix is None:
                    continue
                for (i, j), value in np.ndenumerate(matrix):
                    values[self.key(f"{name}_{i}_{j}")] = float(value)
        return values

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        raise NotImplementedError  # measure() is overridden: weights only, no batch


class Z2Symmetry(ObservableBase):
    """Fraction of output power that breaks an ``x → −x`` parity (column ``<name>``).

    Parameters
    ----------
    parity
        ``"odd"`` when the symmetric solution is odd (``f(−x) = −f(x)``), ``"even"``
        when it is even.
    inputs
        Extract inputs from a batch (default: :func:`default_inputs`).
    forward
        ``forward(model, inputs)`` (default ``model(inputs)``).
    """

    cost: ClassVar[Cost] = "cheap"
    default_name = "z2_breaking_fraction"

    def __init__(
        self,
        parity: Literal["odd", "even"] = "odd",
        *,
        inputs: Callable[[Any], Tensor] = default_inputs,
        forward: Callable[[nn.Module, Tensor], Tensor] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if parity not in ("odd", "even"):
            raise ObservableError(f"parity must be 'odd' or 'even', got {parity!r}")
        self.parity: Literal["odd", "even"] = parity
        self.inputs = inputs
        self.forward = forward

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        if batch is None:
            raise ObservableError(f"{self.name}: no batch to measure on; pass data=...")
        x = self.inputs(batch)
        run = self.forward if self.forward is not None else (lambda m, inputs: m(inputs))
        with torch.no_grad():
            value = z2_breaking_fraction(run(model, x), run(model, -x), self.parity)
        return {self.name: value}
