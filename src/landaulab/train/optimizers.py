"""Batched optimizers: one update for S ensemble members, each with its own lr and weight decay.

Every parameter tensor carries the members along its first dimension (shape ``[S, ...]``).
The learning rate and weight decay are tensors of shape ``[S]`` (a float is broadcast), so
one ensemble can span a grid of learning rates and weight decays. An ``active`` mask of
shape ``[S]`` freezes members (diverged ones, or ones that have converged): a frozen
member's parameters and optimizer state are left exactly as they were.

The arithmetic follows ``torch.optim.SGD``, ``torch.optim.Adam`` and ``torch.optim.AdamW``
step by step, so a member's trajectory equals a separate run with the torch optimizer to
float tolerance.

References
----------
Kingma & Ba 2015, "Adam: a method for stochastic optimization", arXiv:1412.6980.
Loshchilov & Hutter 2019, "Decoupled weight decay regularization", arXiv:1711.05101.
Polyak 1964, "Some methods of speeding up the convergence of iteration methods"
(heavy-ball momentum).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import torch

from landaulab.errors import TaskError

OptimizerName = Literal["sgd", "adam", "adamw"]


def per_member(value: float | Sequence[float] | torch.Tensor, members: int) -> torch.Tensor:
    """A float64 CPU tensor of shape ``[members]`` from a scalar, a sequence or a tensor.

    Raises
    ------
    TaskError
        If the number of values is not ``members``.
    """
    tensor = torch.as_tensor(value, dtype=torch.float64).detach().cpu().reshape(-1)
    if tensor.numel() == 1:
        return tensor.expand(members).clone()
    if tensor.numel() != members:
        raise TaskError(
            f"got {tensor.numel()} per-member values for an ensemble of {members} members; "
            "give one value per member or a single value for all"
        )
    return tensor.clone()


def _shape_for(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``values`` of shape ``[S]`` reshaped to broadcast against ``like`` (``[S, ...]``)."""
    return values.to(device=like.device, dtype=like.dtype).reshape((-1,) + (1,) * (like.dim() - 1))


class BatchedOptimizer:
    """Base class: holds the stacked parameters and per-member hyperparameters.

    Parameters
    ----------
    params
        Leaf tensors of shape ``[S, ...]`` (the members along the first dimension).
    lr
        Learning rate: a float, or one value per member.
    weight_decay
        Weight decay: a float, or one value per member.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float | Sequence[float] | torch.Tensor,
        weight_decay: float | Sequence[float] | torch.Tensor = 0.0,
    ) -> None:
        self.params = list(params)
        if not self.params:
            raise TaskError("an optimizer needs at least one parameter tensor")
        self.members = int(self.params[0].shape[0])
        for p in self.params:
            if p.dim() == 0 or p.shape[0] != self.members:
                raise TaskError(
                    "every parameter must carry the members along its first dimension; "
                    f"got shapes {[tuple(q.shape) for q in self.params]}"
                )
        self.lr = torch.zeros(self.members, dtype=torch.float64)
        self.weight_decay = torch.zeros(self.members, dtype=torch.float64)
        self.decays = False
        self.set_hyperparameters(lr, weight_decay)

    def set_hyperparameters(
        self,
        lr: float | Sequence[float] | torch.Tensor | None = None,
        weight_decay: float | Sequence[float] | torch.Tensor | None = None,
    ) -> None:
        """Change the learning rates and/or weight decays (e.g. along a sweep of the control).

        Raises
        ------
        TaskError
            If a value is negative or the number of values is not the number of members.
        """
        device = self.params[0].device
        if lr is not None:
            values = per_member(lr, self.members)
            if not bool(torch.isfinite(values).all()) or bool((values < 0).any()):
                raise TaskError("learning rates must be finite and >= 0")
            self.lr = values.to(device)  # float64 on the parameters' device
        if weight_decay is not None:
            values = per_member(weight_decay, self.members)
            if not bool(torch.isfinite(values).all()) or bool((values < 0).any()):
                raise TaskError("weight decays must be finite and >= 0")
            self.decays = bool((values != 0).any())
            self.weight_decay = values.to(device)
        # per-parameter broadcast copies, so a step moves and reshapes nothing
        self._lr = [_shape_for(self.lr, p) for p in self.params]
        self._neg_lr = [-lr for lr in self._lr]
        self._wd = [_shape_for(self.weight_decay, p) for p in self.params]
        self._hyperparameters_changed()

    def _hyperparameters_changed(self) -> None:
        """Hook for subclasses caching quantities derived from lr and weight decay."""

    def step(
        self, grads: Sequence[torch.Tensor | None], active: torch.Tensor | None = None
    ) -> None:
        """Update every parameter from its gradient; members with ``active == False`` freeze.

        Parameters
        ----------
        grads
            One gradient per parameter (``None`` counts as zero).
        active
            Boolean mask of shape ``[S]``; ``None`` updates every member.
        """
        with torch.no_grad():
            self._before_step(active)
            for index, (param, grad) in enumerate(zip(self.params, grads, strict=True)):
                g = torch.zeros_like(param) if grad is None else grad.detach()
                if active is None:
                    self._update(index, param, g, None)
                else:
                    mask = active.reshape((-1,) + (1,) * (param.dim() - 1))
                    self._update(index, param, g, mask)
            self._after_step(active)

    def _update(
        self, index: int, param: torch.Tensor, grad: torch.Tensor, mask: torch.Tensor | None
    ) -> None:
        raise NotImplementedError

    def _before_step(self, active: torch.Tensor | None) -> None:
        """Hook run once per step before any parameter is updated."""

    def _after_step(self, active: torch.Tensor | None) -> None:
        """Hook run once per step after every parameter was updated."""

    @staticmethod
    def _assign(target: torch.Tensor, value: torch.Tensor, mask: torch.Tensor | None) -> None:
        if mask is None:
            target.copy_(value)
        else:
            target.copy_(torch.where(mask, value, target))


class BatchedSGD(BatchedOptimizer):
    """Stochastic gradient descent with optional heavy-ball momentum and L2 weight decay.

    The update (per member, as ``torch.optim.SGD`` with ``dampening=0``)::

        g = grad + weight_decay * p
        buf = momentum * buf + g          (buf = g at the first step)
        p = p - lr * (g + momentum * buf if nesterov else buf)

    Parameters
    ----------
    params, lr, weight_decay
        See :class:`BatchedOptimizer`.
    momentum
        Heavy-ball momentum in ``[0, 1)`` (shared by all members).
    nesterov
        Nesterov momentum.
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float | Sequence[float] | torch.Tensor,
        weight_decay: float | Sequence[float] | torch.Tensor = 0.0,
        momentum: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        if not 0.0 <= momentum < 1.0:
            raise TaskError(f"momentum must lie in [0, 1), got {momentum}")
        if nesterov and momentum == 0.0:
            raise TaskError("nesterov momentum needs momentum > 0")
        self.momentum = float(momentum)
        self.nesterov = nesterov
        self.buffers = [torch.zeros_like(p) for p in self.params] if momentum else []

    def _update(
        self, index: int, param: torch.Tensor, grad: torch.Tensor, mask: torch.Tensor | None
    ) -> None:
        g = grad
        if self.decays:
            g = torch.addcmul(g, self._wd[index], param)
        if self.momentum:
            buf = self.buffers[index]
            new_buf = buf * self.momentum + g
            self._assign(buf, new_buf, mask)
            g = g + self.momentum * new_buf if self.nesterov else new_buf
        if mask is None:
            param.addcmul_(self._neg_lr[index], g)  # one pass over the parameter
        else:
            param.copy_(torch.where(mask, param - self._lr[index] * g, param))


class BatchedAdam(BatchedOptimizer):
    """Adam with L2 weight decay (``decoupled=False``) or AdamW (``decoupled=True``).

    Per member, as ``torch.optim.Adam`` / ``torch.optim.AdamW``::

        p = p * (1 - lr * weight_decay)                  (AdamW only)
        g = grad + weight_decay * p                      (Adam only)
        m = m + (1 - beta1) * (g - m);  v = beta2 * v + (1 - beta2) * g²
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    with ``t`` the member's own step count (frozen members do not advance it).

    Parameters
    ----------
    params, lr, weight_decay
        See :class:`BatchedOptimizer`.
    betas
        Decay rates of the first and second moment estimates (shared by all members).
    eps
        Added to the denominator for numerical stability.
    decoupled
        Decoupled weight decay (AdamW) instead of L2 (Adam).
    """

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float | Sequence[float] | torch.Tensor,
        weight_decay: float | Sequence[float] | torch.Tensor = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        decoupled: bool = False,
    ) -> None:
        beta1, beta2 = betas
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise TaskError(f"betas must lie in [0, 1), got {betas}")
        if eps <= 0:
            raise TaskError(f"eps must be > 0, got {eps}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.decoupled = decoupled
        super().__init__(params, lr, weight_decay)
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.steps = torch.zeros(self.members, dtype=torch.float64, device=self.lr.device)
        self._step_size: list[torch.Tensor] = []
        self._bias_correction2_sqrt: list[torch.Tensor] = []

    def _hyperparameters_changed(self) -> None:
        factor = 1.0 - self.lr * self.weight_decay
        self._decay_factor = [_shape_for(factor, p) for p in self.params]

    def _before_step(self, active: torch.Tensor | None) -> None:
        t = self.steps + 1.0  # the step count this update brings every member to
        # per-member scalars in float64, as torch computes them in Python floats
        step_size = self.lr / (1.0 - self.beta1**t)
        correction = (1.0 - self.beta2**t).sqrt()
        self._step_size = [_shape_for(step_size, p) for p in self.params]
        self._bias_correction2_sqrt = [_shape_for(correction, p) for p in self.params]

    def _update(
        self, index: int, param: torch.Tensor, grad: torch.Tensor, mask: torch.Tensor | None
    ) -> None:
        g = grad
        if self.decays and not self.decoupled:
            g = g + self._wd[index] * param
        m, v = self.exp_avg[index], self.exp_avg_sq[index]
        if mask is None:
            if self.decays and self.decoupled:
                param.mul_(self._decay_factor[index])
            m.lerp_(g, 1.0 - self.beta1)
            v.mul_(self.beta2).addcmul_(g, g, value=1.0 - self.beta2)
            denom = (v.sqrt() / self._bias_correction2_sqrt[index]).add_(self.eps)
            param.sub_(self._step_size[index] * (m / denom))
            return
        p = param * self._decay_factor[index] if self.decays and self.decoupled else param
        new_m = m.lerp(g, 1.0 - self.beta1)
        new_v = v * self.beta2 + (1.0 - self.beta2) * g * g
        denom = new_v.sqrt() / self._bias_correction2_sqrt[index] + self.eps
        p = p - self._step_size[index] * (new_m / denom)
        self._assign(m, new_m, mask)
        self._assign(v, new_v, mask)
        self._assign(param, p, mask)

    def _after_step(self, active: torch.Tensor | None) -> None:
        if active is None:
            self.steps += 1.0
        else:
            self.steps += active.detach().to(self.steps.dtype)


def make_optimizer(
    name: OptimizerName,
    params: Iterable[torch.Tensor],
    lr: float | Sequence[float] | torch.Tensor,
    weight_decay: float | Sequence[float] | torch.Tensor = 0.0,
    *,
    momentum: float = 0.0,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
) -> BatchedOptimizer:
    """A batched optimizer by name: ``"sgd"`` (with ``momentum``), ``"adam"`` or ``"adamw"``.

    Raises
    ------
    TaskError
        If the name is unknown or a hyperparameter is out of range.
    """
    if name == "sgd":
        return BatchedSGD(params, lr, weight_decay, momentum=momentum)
    if name in ("adam", "adamw"):
        return BatchedAdam(
            params, lr, weight_decay, betas=betas, eps=eps, decoupled=(name == "adamw")
        )
    raise TaskError(f"unknown optimizer {name!r}; choose sgd, adam or adamw")
