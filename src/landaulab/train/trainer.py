"""One gradient step for every member of a batched ensemble.

:class:`BatchedTrainer` evaluates the members' losses (shape ``[S]``) in one pass, masks
members whose loss is no longer finite, back-propagates the sum of the remaining losses
(the members share no parameters, so each receives exactly its own gradient) and lets a
batched optimizer update the live members.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from landaulab.errors import TaskError
from landaulab.train.members import Members
from landaulab.train.optimizers import BatchedOptimizer
from landaulab.train.precision import Precision, autocast


class BatchedTrainer:
    """Gradient steps on stacked parameters.

    Parameters
    ----------
    params
        Leaf tensors of shape ``[S, ...]`` that require grad.
    loss
        ``loss()`` returns the members' losses, shape ``[S]``, from the current parameters.
    optimizer
        A batched optimizer over ``params``.
    members
        The members' bookkeeping (alive mask, divergence records).
    precision
        ``"fp32"``, or ``"bf16"`` to autocast the loss evaluation.
    gradient
        Optional ``gradient()`` returning ``(losses, grads)``: the members' losses and
        the exact gradient of each member's loss, derived by hand, in place of autograd
        (for tiny models, where autograd's fixed cost dominates a step).
    check_finite
        Watch every step's losses for non-finite values (the divergence is then recorded
        at the exact step, as ``loss``). When false, divergence is detected by
        :meth:`Members.log` at the next logging step, as a task's separate run would.
    """

    def __init__(
        self,
        params: Sequence[torch.Tensor],
        loss: Callable[[], torch.Tensor],
        optimizer: BatchedOptimizer,
        members: Members,
        precision: Precision = "fp32",
        gradient: Callable[[], tuple[torch.Tensor, Sequence[torch.Tensor]]] | None = None,
        check_finite: bool = True,
    ) -> None:
        self.params = list(params)
        if gradient is None and not all(p.requires_grad for p in self.params):
            raise TaskError("every trained parameter must require grad")
        self.gradient = gradient
        self.check_finite = check_finite
        self.loss = loss
        self.optimizer = optimizer
        self.members = members
        self.precision = precision

    def step(self, step: int) -> torch.Tensor:
        """Take one step; returns the members' losses before it (detached, fp32 or wider).

        A member whose loss is non-finite is recorded as diverged at ``step`` and frozen
        from the next synchronisation of ``members`` on (members share no computation, so
        its values never reach the others).
        """
        if self.gradient is not None:
            losses, grads = self.gradient()
            if self.check_finite:
                self.members.check(step, loss=losses)
            self.optimizer.step(grads, self.members.alive if self.members.known_dead else None)
            return losses.detach()
        with autocast(self.members.device, self.precision):
            losses = self.loss()
        if losses.dtype in (torch.bfloat16, torch.float16):
            losses = losses.float()
        if self.check_finite:
            self.members.check(step, loss=losses)
        if self.members.known_dead:  # mask members found diverged at the last synchronisation
            alive = self.members.alive
            total = torch.where(alive, losses, torch.zeros_like(losses)).sum()
            grads = torch.autograd.grad(total, self.params, allow_unused=True)
            self.optimizer.step(grads, active=alive)
        else:
            grads = torch.autograd.grad(losses.sum(), self.params, allow_unused=True)
            self.optimizer.step(grads)
        return losses.detach()
