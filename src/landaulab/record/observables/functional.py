"""Trainable parameters as one flat vector, and functional evaluation of a model.

:class:`ParameterSpace` evaluates any ``fn(model, *args)`` at a parameter dict other
than the model's own (``torch.func.functional_call``), without touching the model's
parameters or their gradients. Per-example gradients and per-example output
Jacobians use ``torch.func.vmap`` over examples, each evaluated as a batch of one.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from landaulab.record.observables.base import ObservableError
from landaulab.record.observables.objective import (
    Batch,
    Objective,
    batch_size,
    batch_to,
    select_examples,
    tree_map,
)


class _Bound(nn.Module):
    """Holds a model so that ``functional_call`` can run any function of it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, fn: Callable[..., Any], *args: Any) -> Any:
        return fn(self.model, *args)


class ParameterSpace:
    """The trainable parameters of a model, viewed as one flat vector.

    Parameters
    ----------
    model
        The model; parameters with ``requires_grad=False`` are left out.
    names
        Restrict to these parameter names (default: all trainable parameters).
    """

    def __init__(self, model: nn.Module, names: Sequence[str] | None = None) -> None:
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        if names is not None:
            wanted = list(names)
            available = {n for n, _ in named}
            missing = [n for n in wanted if n not in available]
            if missing:
                raise ObservableError(
                    f"unknown or frozen parameters {missing}; trainable ones: {sorted(available)}"
                )
            named = [(n, p) for n, p in named if n in set(wanted)]
        if not named:
            raise ObservableError("the model has no trainable parameters to measure")
        self.model = model
        self.names: list[str] = [n for n, _ in named]
        self.shapes: list[torch.Size] = [p.shape for _, p in named]
        self.numels: list[int] = [p.numel() for _, p in named]
        self.dim: int = sum(self.numels)
        self.dtype: torch.dtype = named[0][1].dtype
        self.device: torch.device = named[0][1].device
        self._bound = _Bound(model)

    def current(self, dtype: torch.dtype | None = None) -> dict[str, Tensor]:
        """Detached copies of the current parameters (optionally cast to ``dtype``)."""
        params = dict(self.model.named_parameters())
        return {
            name: params[name].detach().to(dtype or params[name].dtype).clone()
            for name in self.names
        }

    def flatten(self, tensors: Mapping[str, Tensor] | Sequence[Tensor]) -> Tensor:
        """Concatenate per-parameter tensors into one vector (order of ``names``)."""
        items = [tensors[n] for n in self.names] if isinstance(tensors, Mapping) else tensors
        return torch.cat([t.reshape(-1) for t in items])

    def flatten_batched(self, tensors: Mapping[str, Tensor], lead: int = 1) -> Tensor:
        """Concatenate tensors with ``lead`` leading batch dimensions along the last axis."""
        pieces = []
        for name in self.names:
            t = tensors[name]
            pieces.append(t.reshape(*t.shape[:lead], -1))
        return torch.cat(pieces, dim=-1)

    def unflatten(self, flat: Tensor) -> dict[str, Tensor]:
        """Split a flat vector into per-parameter tensors."""
        if flat.ndim != 1 or flat.numel() != self.dim:
            raise ObservableError(f"expected a flat vector of {self.dim} entries")
        chunks = torch.split(flat, self.numels)
        return {
            name: chunk.reshape(shape)
            for name, chunk, shape in zip(self.names, chunks, self.shapes, strict=True)
        }

    def buffers(self, dtype: torch.dtype | None = None) -> dict[str, Tensor]:
        """The model's floating-point buffers cast to ``dtype`` (empty when no cast)."""
        if dtype is None:
            return {}
        return {
            f"model.{name}": b.to(dtype)
            for name, b in self.model.named_buffers()
            if b.dtype.is_floating_point and b.dtype != dtype
        }

    def call(
        self,
        fn: Callable[..., Any],
        params: Mapping[str, Tensor],
        *args: Any,
        buffers: Mapping[str, Tensor] | None = None,
    ) -> Any:
        """Evaluate ``fn(model, *args)`` with the model's parameters replaced by ``params``."""
        state = {f"model.{name}": value for name, value in params.items()}
        if buffers:
            state.update(buffers)
        return functional_call(self._bound, state, (fn, *args), strict=False)


def _example_in_dims(batch: Batch) -> Any:
    return tree_map(lambda t: 0 if isinstance(t, Tensor) and t.ndim > 0 else None, batch)


def _as_batch_of_one(example: Batch, in_dims: Any) -> Batch:
    if isinstance(example, tuple | list):
        return type(example)(_as_batch_of_one(e, d) for e, d in zip(example, in_dims, strict=True))
    if isinstance(example, Mapping):
        return {k: _as_batch_of_one(v, in_dims[k]) for k, v in example.items()}
    return example.unsqueeze(0) if in_dims == 0 else example


def _replicated(params: dict[str, Tensor], count: int) -> dict[str, Tensor]:
    """``count`` independent leaf copies of each parameter, stacked on a leading axis."""
    return {
        k: v.unsqueeze(0).expand(count, *v.shape).clone().requires_grad_(True)
        for k, v in params.items()
    }


def _chunks(n: int, chunk_size: int | None) -> list[slice]:
    if chunk_size is not None and chunk_size < 1:
        raise ObservableError(f"chunk_size must be >= 1, got {chunk_size}")
    size = n if chunk_size is None else chunk_size
    return [slice(start, min(n, start + size)) for start in range(0, n, size)]


def _grads_or_zeros(output: Tensor, leaves: list[Tensor], retain_graph: bool) -> list[Tensor]:
    grads = torch.autograd.grad(output, leaves, retain_graph=retain_graph, allow_unused=True)
    return [torch.zeros_like(x) if g is None else g for g, x in zip(grads, leaves, strict=True)]


def per_example_gradients(
    space: ParameterSpace,
    objective: Objective,
    batch: Batch,
    *,
    dtype: torch.dtype | None = None,
    chunk_size: int | None = None,
) -> Tensor:
    """Gradients of each example's loss, one row per example: shape ``(n, dim)``.

    Each example is evaluated as a batch of one with its own copy of the parameters
    (``vmap`` over examples and copies); one backward pass through the summed losses
    then yields every example's gradient. Batch-coupled layers (batch norm in training
    mode) are therefore evaluated per example. Models that ``vmap`` cannot trace fall
    back to a loop over examples.

    Parameters
    ----------
    space
        The parameters to differentiate.
    objective
        Gives per-example losses.
    batch
        The examples (on the model's device).
    dtype
        Compute in this floating dtype (default: the parameters' dtype).
    chunk_size
        Examples per vectorised chunk (bounds memory to ``3 · chunk_size · dim``).
    """
    params = space.current(dtype)
    buffers = space.buffers(dtype)
    if dtype is not None:
        batch = batch_to(batch, space.device, dtype)
    in_dims = _example_in_dims(batch)

    def single(p: dict[str, Tensor], example: Batch) -> Tensor:
        one = _as_batch_of_one(example, in_dims)
        return space.call(objective.per_example_loss, p, one, buffers=buffers)[0]

    rows = []
    try:
        for part in _chunks(batch_size(batch), chunk_size):
            chunk = select_examples(batch, part)
            copies = _replicated(params, part.stop - part.start)
            losses = vmap(single, in_dims=(0, in_dims))(copies, chunk)
            grads = _grads_or_zeros(losses.sum(), list(copies.values()), retain_graph=False)
            rows.append(space.flatten_batched(dict(zip(copies, grads, strict=True))))
        return torch.cat(rows)
    except (RuntimeError, ValueError, NotImplementedError) as error:
        warnings.warn(
            f"vmap could not trace the model ({type(error).__name__}: {error}); "
            "per-example gradients fall back to a loop over examples",
            RuntimeWarning,
            stacklevel=2,
        )
    rows = []
    for i in range(batch_size(batch)):
        leaves = {k: v.clone().requires_grad_(True) for k, v in params.items()}
        example = select_examples(batch, slice(i, i + 1))
        loss = space.call(objective.per_example_loss, leaves, example, buffers=buffers)[0]
        rows.append(space.flatten(_grads_or_zeros(loss, list(leaves.values()), False)))
    return torch.stack(rows)


def per_example_jacobians(
    space: ParameterSpace,
    objective: Objective,
    batch: Batch,
    *,
    dtype: torch.dtype | None = None,
    chunk_size: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Jacobians of each example's (flattened) outputs: shape ``(n, outputs, dim)``.

    One backward pass per output coordinate, over per-example parameter copies.

    Returns
    -------
    jacobians, outputs
        ``(n, c, dim)`` and the outputs they belong to (unflattened, ``(n, ...)``).
    """
    params = space.current(dtype)
    buffers = space.buffers(dtype)
    if dtype is not None:
        batch = batch_to(batch, space.device, dtype)
    in_dims = _example_in_dims(batch)

    def single(p: dict[str, Tensor], example: Batch) -> Tensor:
        one = _as_batch_of_one(example, in_dims)
        return space.call(objective.outputs, p, one, buffers=buffers)[0]

    jacobians, outputs = [], []
    for part in _chunks(batch_size(batch), chunk_size):
        chunk = select_examples(batch, part)
        copies = _replicated(params, part.stop - part.start)
        leaves = list(copies.values())
        out = vmap(single, in_dims=(0, in_dims))(copies, chunk)
        flat = out.reshape(out.shape[0], -1)
        columns = []
        for c in range(flat.shape[1]):
            grads = _grads_or_zeros(flat[:, c].sum(), leaves, retain_graph=True)
            columns.append(space.flatten_batched(dict(zip(copies, grads, strict=True))))
        jacobians.append(torch.stack(columns, dim=1))
        outputs.append(out.detach())
    return torch.cat(jacobians), torch.cat(outputs)
