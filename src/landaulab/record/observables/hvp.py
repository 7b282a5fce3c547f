"""Curvature matrices as matrix-free linear operators on parameter space.

- :class:`HessianOperator`: Hessian-vector products by double backpropagation
  (Pearlmutter 1994). The loss and its gradient graph are built once; every
  product reuses that first-order graph, so one product costs about two gradients.
- :class:`GaussNewtonOperator`: generalised Gauss–Newton ``Jᵀ H_ℓ J`` (Schraudolph
  2002), with ``J`` the Jacobian of the outputs and ``H_ℓ`` the Hessian of the loss
  with respect to the outputs. For exponential-family losses (squared error,
  cross-entropy) it equals the Fisher information of the model's predictive
  distribution (Martens 2020, arXiv:1412.1193).
- :class:`EmpiricalFisherOperator`: ``(1/n) Σᵢ gᵢ gᵢᵀ`` from per-example gradients
  (Kunstner, Balles & Hennig 2019, arXiv:1905.12558, on how it differs from the Fisher).

All operators take and return float64 vectors; products are computed in the model's
dtype unless ``dtype`` is given (``torch.float64`` for reference accuracy).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

import torch
from torch import Tensor, nn

from landaulab.record.observables.base import ObservableError
from landaulab.record.observables.functional import ParameterSpace, per_example_gradients
from landaulab.record.observables.objective import Batch, Objective, batch_to

CurvatureKind = Literal["hessian", "gauss_newton", "empirical_fisher"]
CURVATURE_KINDS: tuple[str, ...] = ("hessian", "gauss_newton", "empirical_fisher")


class CurvatureOperator(ABC):
    """A symmetric ``dim × dim`` matrix applied to float64 vectors.

    Attributes
    ----------
    dim
        Size of the (parameter) space.
    num_matvecs
        Number of matrix-vector products taken so far.
    device
        Where the vectors live.
    """

    dim: int
    device: torch.device

    def __init__(self) -> None:
        self.num_matvecs = 0

    def matvec(self, vector: Tensor) -> Tensor:
        """The product ``A v`` of a float64 vector of length ``dim``."""
        self.num_matvecs += 1
        return self._matvec(vector).to(torch.float64)

    def matmat(self, vectors: Tensor) -> Tensor:
        """``A V`` for a ``(dim, k)`` matrix, one product per column."""
        if vectors.shape[1] == 0:
            return vectors.clone()
        return torch.stack([self.matvec(vectors[:, j]) for j in range(vectors.shape[1])], dim=1)

    @abstractmethod
    def _matvec(self, vector: Tensor) -> Tensor: ...


class MatrixOperator(CurvatureOperator):
    """A dense symmetric matrix as a :class:`CurvatureOperator` (tests, small models)."""

    def __init__(self, matrix: Tensor) -> None:
        super().__init__()
        matrix = torch.as_tensor(matrix, dtype=torch.float64)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ObservableError(f"expected a square matrix, got shape {tuple(matrix.shape)}")
        self.matrix = matrix
        self.dim = int(matrix.shape[0])
        self.device = matrix.device

    def _matvec(self, vector: Tensor) -> Tensor:
        return self.matrix @ vector


class _ModelOperator(CurvatureOperator):
    def __init__(
        self, model: nn.Module, space: ParameterSpace | None, dtype: torch.dtype | None
    ) -> None:
        super().__init__()
        self.space = space if space is not None else ParameterSpace(model)
        self.dim = self.space.dim
        self.device = self.space.device
        self.compute_dtype = dtype if dtype is not None else self.space.dtype
        if not self.compute_dtype.is_floating_point:
            raise ObservableError(f"dtype must be a floating dtype, got {self.compute_dtype}")

    def _split(self, vector: Tensor) -> list[Tensor]:
        v = vector.to(device=self.device, dtype=self.compute_dtype)
        return list(self.space.unflatten(v).values())

    def _leaf_params(self) -> dict[str, Tensor]:
        return {
            k: v.requires_grad_(True) for k, v in self.space.current(self.compute_dtype).items()
        }


def _grad_or_zeros(
    outputs: list[Tensor], inputs: list[Tensor], grad_outputs: list[Tensor]
) -> list[Tensor]:
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs, strict=True) if o.requires_grad]
    if not pairs:
        return [torch.zeros_like(i) for i in inputs]
    grads = torch.autograd.grad(
        [o for o, _ in pairs],
        inputs,
        grad_outputs=[g for _, g in pairs],
        retain_graph=True,
        allow_unused=True,
    )
    return [torch.zeros_like(i) if g is None else g for g, i in zip(grads, inputs, strict=True)]


class HessianOperator(_ModelOperator):
    """Hessian of the mean loss on one batch, by Hessian-vector products.

    Parameters
    ----------
    model
        The model (its parameters are read, never changed).
    objective
        The loss.
    batch
        The data (on the model's device).
    space
        Which parameters (default: all trainable).
    dtype
        Compute dtype (default: the parameters' dtype).
    loss_dtype
        Evaluate the loss on the model's outputs in this dtype (e.g. ``torch.float64``
        on a float32 model; needs an objective with an outputs/loss split). A loss
        whose derivatives cancel in float32 (the textbook cross-entropy's ``p − y`` on a
        memorised model, magnifying rounding ≈ 1/L at training loss L) limits products
        to ≈ 10⁻⁵; a float64 loss on float32 outputs leaves only the matmuls' rounding
        (≈ 3·10⁻⁶ on the grokking MLP of ``benchmarks/bench_observables.py``) for a
        fraction of the cost of a float64 model.
        ``Objective.cross_entropy()`` with class indices needs no such help: it avoids
        the cancellation in float32.

    Attributes
    ----------
    loss
        The mean loss at the current parameters.
    gradient
        Its gradient (flat, float64), a by-product of building the graph.
    """

    def __init__(
        self,
        model: nn.Module,
        objective: Objective,
        batch: Batch,
        *,
        space: ParameterSpace | None = None,
        dtype: torch.dtype | None = None,
        loss_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(model, space, dtype)
        params = self._leaf_params()
        self._params = list(params.values())
        if dtype is not None:
            batch = batch_to(batch, self.device, dtype)
        buffers = self.space.buffers(dtype)
        if loss_dtype is None:
            loss = self.space.call(objective.mean_loss, params, batch, buffers=buffers)
        else:
            if not loss_dtype.is_floating_point:
                raise ObservableError(f"loss_dtype must be a floating dtype, got {loss_dtype}")
            if not objective.has_outputs:
                raise ObservableError(
                    "loss_dtype needs Objective(loss=(outputs, targets) -> losses); an "
                    "objective built from loss_fn has no outputs to cast"
                )
            outputs = self.space.call(objective.outputs, params, batch, buffers=buffers)
            loss = objective.loss_from_outputs(outputs.to(loss_dtype), batch).mean()
        if loss.ndim != 0:
            raise ObservableError("the objective's mean loss must be a scalar")
        grads = torch.autograd.grad(loss, self._params, create_graph=True, allow_unused=True)
        self._grads = [
            torch.zeros_like(p) if g is None else g
            for g, p in zip(grads, self._params, strict=True)
        ]
        self.loss = float(loss.detach())
        self.gradient = self.space.flatten([g.detach() for g in self._grads]).to(torch.float64)

    def _matvec(self, vector: Tensor) -> Tensor:
        hv = _grad_or_zeros(self._grads, self._params, self._split(vector))
        return self.space.flatten(hv)


class GaussNewtonOperator(_ModelOperator):
    """Generalised Gauss–Newton matrix ``(1/n) Σᵢ Jᵢᵀ H_ℓ,ᵢ Jᵢ`` on one batch.

    Each product takes three backward passes through graphs built once: ``J v`` by
    the double-vector-Jacobian trick, ``H_ℓ (J v)`` on the outputs, and ``Jᵀ(·)``.
    Needs an objective with an outputs/loss split (not one built from ``loss_fn``).
    """

    def __init__(
        self,
        model: nn.Module,
        objective: Objective,
        batch: Batch,
        *,
        space: ParameterSpace | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(model, space, dtype)
        if not objective.has_outputs:
            raise ObservableError(
                "the Gauss-Newton matrix needs Objective(loss=(outputs, targets) -> losses); "
                "an objective built from loss_fn has no outputs"
            )
        params = self._leaf_params()
        self._params = list(params.values())
        if dtype is not None:
            batch = batch_to(batch, self.device, dtype)
        outputs = self.space.call(
            objective.outputs, params, batch, buffers=self.space.buffers(dtype)
        )
        self._outputs = outputs
        z = outputs.detach().requires_grad_(True)
        loss = objective.loss_from_outputs(z, batch).mean()
        (self._loss_grad,) = torch.autograd.grad(loss, z, create_graph=True)
        self._z = z
        self._dummy = torch.zeros_like(outputs, requires_grad=True)
        jtu = torch.autograd.grad(
            outputs, self._params, grad_outputs=self._dummy, create_graph=True, allow_unused=True
        )
        self._used = [i for i, t in enumerate(jtu) if t is not None and t.requires_grad]
        self._jtu = [jtu[i] for i in self._used]
        self.loss = float(loss.detach())

    def _matvec(self, vector: Tensor) -> Tensor:
        if not self._jtu or not self._loss_grad.requires_grad:
            return torch.zeros(self.dim, dtype=self.compute_dtype, device=self.device)
        v = self._split(vector)
        (jv,) = torch.autograd.grad(
            self._jtu, self._dummy, grad_outputs=[v[i] for i in self._used], retain_graph=True
        )
        (hjv,) = torch.autograd.grad(self._loss_grad, self._z, grad_outputs=jv, retain_graph=True)
        out = torch.autograd.grad(
            self._outputs, self._params, grad_outputs=hjv, retain_graph=True, allow_unused=True
        )
        return self.space.flatten(
            [
                torch.zeros_like(p) if g is None else g
                for g, p in zip(out, self._params, strict=True)
            ]
        )


class EmpiricalFisherOperator(_ModelOperator):
    """Empirical Fisher ``(1/n) Σᵢ gᵢ gᵢᵀ`` from per-example loss gradients.

    The ``(n, dim)`` matrix of per-example gradients is formed once (memory
    ``n × dim``); each product costs two matrix-vector products with it.
    """

    def __init__(
        self,
        model: nn.Module,
        objective: Objective,
        batch: Batch,
        *,
        space: ParameterSpace | None = None,
        dtype: torch.dtype | None = None,
        chunk_size: int | None = None,
    ) -> None:
        super().__init__(model, space, dtype)
        self.gradients = per_example_gradients(
            self.space, objective, batch, dtype=self.compute_dtype, chunk_size=chunk_size
        ).to(torch.float64)
        self.num_examples = int(self.gradients.shape[0])

    def _matvec(self, vector: Tensor) -> Tensor:
        v = vector.to(self.gradients.device)
        return self.gradients.T @ (self.gradients @ v) / self.num_examples


def curvature_operator(
    kind: CurvatureKind,
    model: nn.Module,
    objective: Objective,
    batch: Batch,
    *,
    space: ParameterSpace | None = None,
    dtype: torch.dtype | None = None,
    loss_dtype: torch.dtype | None = None,
) -> CurvatureOperator:
    """Build the operator named by ``kind``: hessian, gauss_newton or empirical_fisher.

    ``loss_dtype`` (see :class:`HessianOperator`) applies to the Hessian only.
    """
    if kind not in CURVATURE_KINDS:
        raise ObservableError(f"unknown curvature matrix {kind!r}; choose one of {CURVATURE_KINDS}")
    check_loss_dtype(kind, loss_dtype)
    if kind == "hessian":
        return HessianOperator(
            model, objective, batch, space=space, dtype=dtype, loss_dtype=loss_dtype
        )
    if kind == "gauss_newton":
        return GaussNewtonOperator(model, objective, batch, space=space, dtype=dtype)
    return EmpiricalFisherOperator(model, objective, batch, space=space, dtype=dtype)


def check_loss_dtype(kind: str, loss_dtype: torch.dtype | None) -> None:
    """Raise unless ``loss_dtype`` is unset or ``kind`` is the Hessian (the only user)."""
    if loss_dtype is not None and kind != "hessian":
        raise ObservableError(f"loss_dtype applies to the Hessian only, not to {kind!r}")
