"""Cheap observables: loss, accuracy, parameter norms, gradient norm, update size.

All are measured every step by default. None of them changes the model's
parameters or their ``.grad``.
"""

from __future__ import annotations

import re
from typing import Any

import torch
from torch import nn

from landaulab.record.observables.base import ObservableBase, ObservableError
from landaulab.record.observables.functional import ParameterSpace
from landaulab.record.observables.objective import LossFn, Objective, as_objective


def column_safe(name: str) -> str:
    """A parameter name as a column suffix: non-alphanumerics become ``_``."""
    return re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_")


class Loss(ObservableBase):
    """Mean loss, and accuracy when the objective defines correctness.

    Columns ``<name>`` and ``<name without "loss">accuracy``: with the default name
    ``"loss"`` these are ``loss`` and ``accuracy``; with ``name="test_loss"`` they are
    ``test_loss`` and ``test_accuracy``.

    Parameters
    ----------
    objective
        The loss (an :class:`Objective` or ``loss_fn(model, batch)``).
    accuracy
        Also report the accuracy (when the objective has ``correct``).
    name, schedule, data, seed
        See :class:`~landaulab.record.observables.base.ObservableBase`; pass a held-out
        batch as ``data`` for test metrics.
    """

    default_name = "loss"

    def __init__(self, objective: Objective | LossFn, *, accuracy: bool = True, **kwargs: Any):
        super().__init__(**kwargs)
        self.objective = as_objective(objective)
        self.report_accuracy = bool(accuracy)

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        if batch is None:
            raise ObservableError(f"{self.name}: no batch to measure on; pass data=...")
        objective = self.objective
        with torch.no_grad():
            if not objective.has_outputs:
                return {self.name: float(objective.mean_loss(model, batch))}
            outputs = objective.outputs(model, batch)  # one forward pass for both
            values = {self.name: float(objective.loss_from_outputs(outputs, batch).mean())}
            if self.report_accuracy and objective.correct is not None:
                correct = objective.correct(outputs, objective.targets(batch))
                values[self._accuracy_key()] = float(correct.float().mean())
        return values

    def _accuracy_key(self) -> str:
        if self.name.endswith("loss"):
            return self.name[: -len("loss")] + "accuracy"
        return self.key("accuracy")


class ParameterNorm(ObservableBase):
    """Euclidean norm of all trainable parameters, and of each parameter tensor.

    Columns ``<name>`` (total) and ``<name>_<parameter>`` (e.g.
    ``param_norm_fc1_weight``) when ``per_layer``.
    """

    default_name = "param_norm"

    def __init__(self, *, per_layer: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.per_layer = bool(per_layer)

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        values: dict[str, float] = {}
        total = 0.0
        with torch.no_grad():
            for name, p in model.named_parameters():
                if not p.requires_grad:
                    continue
                squared = float(p.detach().double().pow(2).sum())
                total += squared
                if self.per_layer:
                    values[self.key(column_safe(name))] = squared**0.5
        values[self.name] = total**0.5
        return values


class GradientNorm(ObservableBase):
    """Norm of the gradient of the mean loss on the batch (recomputed, ``.grad`` untouched).

    Column ``<name>`` (default ``grad_norm``).
    """

    default_name = "grad_norm"

    def __init__(self, objective: Objective | LossFn, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.objective = as_objective(objective)

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        space = ParameterSpace(model)
        params = {k: v.requires_grad_(True) for k, v in space.current().items()}
        loss = space.call(self.objective.mean_loss, params, batch)
        grads = torch.autograd.grad(loss, list(params.values()), allow_unused=True)
        squared = sum(float(g.double().pow(2).sum()) for g in grads if g is not None)
        return {self.name: squared**0.5}


class UpdateToWeightRatio(ObservableBase):
    """Relative parameter change ``‖θ_t − θ_s‖ / ‖θ_s‖`` since the previous measurement s.

    Measured every step (the default) this is the per-step update-to-weight ratio.
    The first measurement only stores the parameters and returns nothing. Column
    ``<name>`` (default ``update_to_weight_ratio``).
    """

    default_name = "update_to_weight_ratio"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._previous: torch.Tensor | None = None

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        with torch.no_grad():
            current = torch.cat(
                [p.detach().reshape(-1).double() for p in model.parameters() if p.requires_grad]
            )
        previous, self._previous = self._previous, current.clone()
        if previous is None or previous.shape != current.shape:
            return {}
        norm = float(previous.norm())
        if norm == 0.0:
            return {}
        return {self.name: float((current - previous).norm()) / norm}

    def reset(self) -> None:
        """Forget the stored parameters (e.g. between runs)."""
        self._previous = None
