"""Curvature observables: top eigenvalues, trace, spectral density, sharpness vs 2/lr.

Each builds a curvature operator on the measured batch (Hessian, generalised
Gauss–Newton or empirical Fisher; see :mod:`~landaulab.record.observables.hvp`) and
applies :mod:`~landaulab.record.observables.lanczos` or
:mod:`~landaulab.record.observables.trace` to it. Columns are prefixed by the
observable's name, which defaults to the matrix kind (``hessian_eigenvalue_1``,
``hessian_trace``, ``gauss_newton_trace``, ...).

Edge of stability (Cohen, Kaur, Li, Kolter & Talwalkar 2021, arXiv:2103.00065):
gradient descent with learning rate η drives the sharpness λ_max up to 2/η (with
heavy-ball momentum β: (2 + 2β)/η) and hovers there; ``sharpness_edge_ratio`` is
λ_max divided by that threshold, ≈ 1 at the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from landaulab.record.observables.base import (
    Cost,
    LearningRate,
    ObservableBase,
    ObservableError,
    learning_rate_at,
)
from landaulab.record.observables.functional import ParameterSpace
from landaulab.record.observables.hvp import (
    CURVATURE_KINDS,
    CurvatureKind,
    CurvatureOperator,
    check_loss_dtype,
    curvature_operator,
)
from landaulab.record.observables.lanczos import Which, spectral_density, top_eigenvalues
from landaulab.record.observables.objective import LossFn, Objective, as_objective
from landaulab.record.observables.trace import (
    RangeFinder,
    check_range_finder,
    hutch_plus_plus,
    hutchinson,
)


class _CurvatureObservable(ObservableBase):
    cost: ClassVar[Cost] = "expensive"
    suffix: ClassVar[str] = ""

    def __init__(
        self,
        objective: Objective | LossFn,
        *,
        matrix: CurvatureKind = "hessian",
        dtype: torch.dtype | None = None,
        loss_dtype: torch.dtype | None = None,
        parameters: Sequence[str] | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> None:
        if matrix not in CURVATURE_KINDS:
            raise ObservableError(f"unknown matrix {matrix!r}; choose one of {CURVATURE_KINDS}")
        default = matrix + self.suffix
        super().__init__(name=default if name is None else name, **kwargs)
        self.objective = as_objective(objective)
        self.matrix: CurvatureKind = matrix
        self.dtype = dtype
        check_loss_dtype(matrix, loss_dtype)
        self.loss_dtype = loss_dtype
        self.parameters = None if parameters is None else list(parameters)

    def operator(
        self, model: nn.Module, batch: Any, dtype: torch.dtype | None = None
    ) -> CurvatureOperator:
        """The curvature operator at the model's current parameters on ``batch``."""
        space = ParameterSpace(model, self.parameters)
        return curvature_operator(
            self.matrix,
            model,
            self.objective,
            batch,
            space=space,
            dtype=dtype or self.dtype,
            loss_dtype=self.loss_dtype,
        )


class HessianTopEigenvalues(_CurvatureObservable):
    """Top-k eigenvalues of the Hessian (or Gauss–Newton / empirical Fisher) by Lanczos.

    Columns ``<name>_eigenvalue_1`` ... ``<name>_eigenvalue_k`` (largest first).

    Parameters
    ----------
    objective
        The loss (an :class:`Objective` or ``loss_fn(model, batch)``).
    k
        Number of eigenvalues.
    matrix
        ``"hessian"``, ``"gauss_newton"`` or ``"empirical_fisher"``.
    which
        ``"largest"``, ``"smallest"`` or ``"magnitude"``.
    tol
        Relative accuracy of each eigenvalue.
    max_iterations, block_size
        See :func:`~landaulab.record.observables.lanczos.top_eigenvalues`.
    dtype
        Compute dtype of the products (``torch.float64`` for reference accuracy).
    loss_dtype
        Hessian only: the loss on the outputs in this dtype (see
        :class:`~landaulab.record.observables.hvp.HessianOperator`).
    refine_dtype
        Re-score the Ritz vectors with one product each in this dtype (e.g.
        ``torch.float64`` on a float32 model): float32 speed, float64 accuracy.
    parameters
        Restrict to these parameter names.
    name, schedule, data, seed
        See :class:`~landaulab.record.observables.base.ObservableBase`.
    """

    def __init__(
        self,
        objective: Objective | LossFn,
        k: int = 1,
        *,
        matrix: CurvatureKind = "hessian",
        which: Which = "largest",
        tol: float = 1e-4,
        max_iterations: int | None = None,
        block_size: int = 1,
        refine_dtype: torch.dtype | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(objective, matrix=matrix, **kwargs)
        self.refine_dtype = refine_dtype
        if k < 1:
            raise ObservableError(f"k must be >= 1, got {k}")
        self.k = int(k)
        self.which = which
        self.tol = float(tol)
        self.max_iterations = max_iterations
        self.block_size = int(block_size)

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        operator = self.operator(model, batch)
        k = min(self.k, operator.dim)
        result = top_eigenvalues(
            operator,
            k,
            which=self.which,
            tol=self.tol,
            max_iterations=self.max_iterations,
            block_size=self.block_size,
            generator=self.generator(step),
            refine=None
            if self.refine_dtype is None
            else self.operator(model, batch, self.refine_dtype),
        )
        return {self.key(f"eigenvalue_{i + 1}"): float(v) for i, v in enumerate(result.eigenvalues)}


class HessianTrace(_CurvatureObservable):
    """Trace of the Hessian (or Gauss–Newton / empirical Fisher) with its standard error.

    Columns ``<name>`` and ``<name>_se``; ``name`` defaults to ``<matrix>_trace``.

    Parameters
    ----------
    objective
        The loss.
    matrix
        ``"hessian"``, ``"gauss_newton"`` or ``"empirical_fisher"``.
    method
        ``"hutch++"`` (default) or ``"hutchinson"``.
    num_matvecs
        Operator products per measurement.
    range_finder, sketch_size
        Hutch++'s deflated subspace (see
        :func:`~landaulab.record.observables.trace.hutch_plus_plus`); ``"krylov"``
        pays off when the spectrum has a group of outliers and the budget is large
        enough to resolve them.
    """

    suffix: ClassVar[str] = "_trace"

    def __init__(
        self,
        objective: Objective | LossFn,
        *,
        matrix: CurvatureKind = "hessian",
        method: str = "hutch++",
        num_matvecs: int = 30,
        range_finder: RangeFinder = "sketch",
        sketch_size: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(objective, matrix=matrix, **kwargs)
        if method not in ("hutch++", "hutchinson"):
            raise ObservableError(f"method must be 'hutch++' or 'hutchinson', got {method!r}")
        check_range_finder(range_finder)
        self.method = method
        self.num_matvecs = int(num_matvecs)
        self.range_finder: RangeFinder = range_finder
        self.sketch_size = sketch_size

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        operator = self.operator(model, batch)
        if self.method == "hutch++":
            result = hutch_plus_plus(
                operator,
                self.num_matvecs,
                sketch_size=self.sketch_size,
                range_finder=self.range_finder,
                generator=self.generator(step),
            )
        else:
            result = hutchinson(operator, self.num_matvecs, generator=self.generator(step))
        values = {self.name: result.value}
        if result.standard_error is not None:
            values[self.key("se")] = result.standard_error
        return values


class HessianSpectralDensity(_CurvatureObservable):
    """Summary of the spectral density by stochastic Lanczos quadrature.

    Columns ``<name>_negative_fraction`` (estimated fraction of negative eigenvalues,
    a measure of how far from a minimum training is) and ``<name>_trace``; ``name``
    defaults to ``<matrix>_spectrum``. The full density is available from
    :func:`~landaulab.record.observables.lanczos.spectral_density`.
    """

    suffix: ClassVar[str] = "_spectrum"

    def __init__(
        self,
        objective: Objective | LossFn,
        *,
        matrix: CurvatureKind = "hessian",
        num_iterations: int = 40,
        num_probes: int = 2,
        **kwargs: Any,
    ) -> None:
        super().__init__(objective, matrix=matrix, **kwargs)
        self.num_iterations = int(num_iterations)
        self.num_probes = int(num_probes)

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        density = spectral_density(
            self.operator(model, batch),
            num_iterations=self.num_iterations,
            num_probes=self.num_probes,
            generator=self.generator(step),
        )
        return {
            self.key("negative_fraction"): density.fraction_below(0.0),
            self.key("trace"): density.trace,
        }


class Sharpness(_CurvatureObservable):
    """Top Hessian eigenvalue and its ratio to the edge-of-stability threshold.

    Columns ``<name>`` (λ_max) and ``<name>_edge_ratio`` = λ_max·η / (2 + 2β), which
    is ≈ 1 at the edge of stability of (heavy-ball) gradient descent.

    Parameters
    ----------
    objective
        The loss.
    learning_rate
        A float, a ``step -> lr`` function, or the optimizer (its first parameter
        group's ``lr``; for ``torch.optim.SGD`` also its ``momentum``).
    momentum
        Heavy-ball momentum β when ``learning_rate`` is not an SGD optimizer.
    tol
        Relative accuracy of λ_max.
    refine_dtype
        As for :class:`HessianTopEigenvalues`.

    Notes
    -----
    For adaptive optimizers (Adam) the relevant quantity is the preconditioned
    sharpness (Cohen et al. 2022, arXiv:2207.14484), which this ratio does not measure.
    """

    def __init__(
        self,
        objective: Objective | LossFn,
        learning_rate: LearningRate,
        *,
        momentum: float | None = None,
        tol: float = 1e-4,
        refine_dtype: torch.dtype | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", "sharpness")
        super().__init__(objective, matrix="hessian", **kwargs)
        self.refine_dtype = refine_dtype
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.tol = float(tol)
        learning_rate_at(learning_rate, 0)  # validate early

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        refine = None
        if self.refine_dtype is not None:
            refine = self.operator(model, batch, self.refine_dtype)
        result = top_eigenvalues(
            self.operator(model, batch),
            1,
            tol=self.tol,
            generator=self.generator(step),
            refine=refine,
        )
        sharpness = float(result.eigenvalues[0])
        lr, momentum = learning_rate_at(self.learning_rate, step)
        if self.momentum is not None:
            momentum = float(self.momentum)
        return {self.name: sharpness, self.key("edge_ratio"): sharpness * lr / (2 + 2 * momentum)}
