r"""Deep linear network with weight decay: second-order (one hidden layer) or first-order
(two or more) collapse of the learned map.

Ziyin & Ueda 2022, "Exact phase transitions in deep learning", arXiv:2205.12510.

A scalar-input, scalar-output linear network with D hidden layers of width d (D + 1
weight matrices :math:`W_1, …, W_{D+1}`) is trained by full-batch gradient descent on the
population objective for whitened inputs and a noise-free teacher :math:`y = a\,x`
(``signal`` = a = E[xy]),

.. math::

    \mathcal L = E[(f(x) - y)^2] + \gamma \sum_i \|W_i\|_F^2
              = (b - a)^2 + \gamma \sum_i \|W_i\|_F^2,

where :math:`b = W_{D+1}\cdots W_1` is the end-to-end map (the order parameter) and γ is
the weight decay (``weight_decay``; implemented as the coupled L2 decay 2γ of the
optimizer, the gradient of the penalty). Stationary points with γ > 0 are balanced, which
reduces the objective to (derived)

.. math::

    \mathcal L(b) = (b - a)^2 + (D + 1)\,\gamma\,|b|^{2/(D+1)}.

* D = 0: convex, no transition.
* D = 1: :math:`b^* = \max(a - \gamma, 0)`, a continuous (second-order) transition at
  :math:`\gamma_c = a` with b vanishing linearly.
* D ≥ 2: b = 0 is a local minimum for every γ > 0 and the ordered branch solves
  :math:`\gamma = (a - b)\,b^{(D-1)/(D+1)}`. The branches exchange stability at
  :math:`b_c = a(D-1)/D`, :math:`\gamma_c = (a/D)\,b_c^{(D-1)/(D+1)}` (first order: a jump
  of :math:`b_c`; D = 2, a = 1: γ_c = 0.39685, jump 1/2), and the ordered branch ends at
  the spinodal :math:`b_s = a(D-1)/(2D)`, :math:`\gamma_s = (a - b_s)\,b_s^{(D-1)/(D+1)}`
  (D = 2: 0.47247). Warm-started gradient descent along increasing γ holds the ordered
  branch up to γ_s; coming down from b = 0 it never recovers: hysteresis.

Two tasks are registered: ``deep_linear`` trains at one weight decay (the trajectory is
over gradient-descent steps), and ``deep_linear_sweep`` steps the weight decay through
``sweep_steps + 1`` evenly spaced values in one direction (``direction = "up"`` or
``"down"``), warm-starting each value from the previous solution. Its trajectory is over
gradient steps too, shared evenly by the values, and logs the weight decay in force as the
observable ``weight_decay``: the control column of the tidy frame, which an analysis splits
into one segment per value (each holding the relaxation at that value), with ``direction``
marking the two branches. Each new value starts with a small random kick to the weights
(``perturbation``), standing in for the noise of real training, so that an unstable state
is left as it would be in practice.
"""

from __future__ import annotations

import math
import operator
from functools import reduce
from typing import Literal

import torch
from pydantic import ConfigDict, Field, model_validator

from landaulab.record.context import RunContext
from landaulab.tasks.registry import TaskParameters, register_task
from landaulab.train.members import Members, run_single
from landaulab.train.optimizers import BatchedSGD
from landaulab.train.trainer import BatchedTrainer

OBSERVABLES = ("end_to_end", "loss", "data_loss", "weight_norm", "gradient_norm")
SWEEP_OBSERVABLES = ("weight_decay", *OBSERVABLES)


# --------------------------------------------------------------------------------------
# Theory (derived in the module docstring)
# --------------------------------------------------------------------------------------


def balanced_objective(b: float, signal: float, weight_decay: float, depth: int) -> float:
    """The objective at balanced weights with end-to-end map ``b``."""
    return (b - signal) ** 2 + (depth + 1) * weight_decay * abs(b) ** (2.0 / (depth + 1))


def critical_weight_decay(signal: float = 1.0, depth: int = 2) -> float:
    """γ_c where the ordered and the collapsed (b = 0) minima exchange stability."""
    if depth < 1:
        raise ValueError("a deep linear network with depth 0 has no transition")
    if depth == 1:
        return float(signal)
    b_c = signal * (depth - 1) / depth
    return (signal - b_c) * b_c ** ((depth - 1) / (depth + 1))


def jump(signal: float = 1.0, depth: int = 2) -> float:
    """The jump of b at γ_c (0 for the continuous transition at depth 1)."""
    if depth < 1:
        raise ValueError("a deep linear network with depth 0 has no transition")
    return signal * (depth - 1) / depth


def spinodal_weight_decay(signal: float = 1.0, depth: int = 2) -> float:
    """γ_s, the largest weight decay at which the ordered branch exists (γ_c at depth 1)."""
    if depth <= 1:
        return critical_weight_decay(signal, depth)
    b_s = signal * (depth - 1) / (2 * depth)
    return (signal - b_s) * b_s ** ((depth - 1) / (depth + 1))


def ordered_branch(signal: float, weight_decay: float, depth: int) -> float | None:
    """The nonzero local minimum b of the balanced objective, or ``None`` if there is none.

    Solves ``γ = (a − b)·b^((D−1)/(D+1))`` on the stable side ``b > b_s`` by bisection.
    """
    a, gamma = float(signal), float(weight_decay)
    if depth == 0:
        return a / (1.0 + gamma)
    if depth == 1:
        return a - gamma if gamma < a else None
    if gamma > spinodal_weight_decay(a, depth):
        return None
    p = (depth - 1) / (depth + 1)
    lo, hi = a * (depth - 1) / (2 * depth), a  # g(b) = (a-b) b^p decreases on [lo, hi]
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if (a - mid) * mid**p > gamma:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def global_minimum(signal: float, weight_decay: float, depth: int) -> float:
    """The end-to-end map b at the global minimum of the balanced objective."""
    b = ordered_branch(signal, weight_decay, depth)
    if b is None:
        return 0.0
    zero = balanced_objective(0.0, signal, weight_decay, depth)
    return b if balanced_objective(b, signal, weight_decay, depth) < zero else 0.0


# --------------------------------------------------------------------------------------
# The network
# --------------------------------------------------------------------------------------


class DeepLinearParameters(TaskParameters):
    """Settings of the deep linear network at one weight decay (Ziyin & Ueda 2022)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    depth: int = Field(2, ge=0, description="D, hidden layers (D + 1 weight matrices)")
    width: int = Field(4, ge=1, description="hidden width")
    signal: float = Field(1.0, gt=0.0, description="a = E[xy], the teacher's strength")
    weight_decay: float = Field(0.3, ge=0.0, description="γ, the control parameter")
    lr: float = Field(0.05, gt=0.0)
    init_scale: float = Field(1.0, gt=0.0, description="weights ~ N(0, init_scale²/fan_in)")
    steps: int = Field(5000, ge=1)


class DeepLinearSweepParameters(TaskParameters):
    """Settings of a warm-started sweep of the weight decay (Ziyin & Ueda 2022)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    depth: int = Field(2, ge=0, description="D, hidden layers (D + 1 weight matrices)")
    width: int = Field(4, ge=1, description="hidden width")
    signal: float = Field(1.0, gt=0.0, description="a = E[xy], the teacher's strength")
    weight_decay_min: float = Field(0.05, ge=0.0)
    weight_decay_max: float = Field(0.6, ge=0.0)
    sweep_steps: int = Field(22, ge=1, description="increments of the weight decay")
    direction: Literal["up", "down"] = "up"
    steps: int = Field(
        23_000, ge=2, description="gradient steps of the sweep, shared evenly by the values"
    )
    initial_steps: int = Field(
        5000, ge=0, description="settling steps at the first value before step 0 (not logged)"
    )
    perturbation: float = Field(
        1e-6, ge=0.0, description="std of a random kick to every weight at each new value"
    )
    lr: float = Field(0.1, gt=0.0)
    init_scale: float = Field(1.0, gt=0.0, description="weights ~ N(0, init_scale²/fan_in)")

    @model_validator(mode="after")
    def _ordered_range(self) -> DeepLinearSweepParameters:
        if self.weight_decay_max <= self.weight_decay_min:
            raise ValueError("weight_decay_max must be larger than weight_decay_min")
        if self.steps < self.sweep_steps + 1:
            raise ValueError("steps must be at least sweep_steps + 1 (one step per value)")
        return self


def _shapes(depth: int, width: int) -> list[tuple[int, int]]:
    if depth == 0:
        return [(1, 1)]
    return [(width, 1)] + [(width, width)] * (depth - 1) + [(1, width)]


def _initial_weights(members: Members, depth: int, width: int) -> list[torch.Tensor]:
    scale = members.values("init_scale")
    weights = []
    for layer, (rows, cols) in enumerate(_shapes(depth, width)):
        w = members.gaussian((rows, cols), stream=layer, dtype=torch.float64)
        w = w * (scale / math.sqrt(cols)).reshape(-1, 1, 1)
        weights.append(w.requires_grad_(True))
    return weights


def end_to_end(weights: list[torch.Tensor]) -> torch.Tensor:
    """The end-to-end map b of each member, shape ``[S]``."""
    product = weights[0]
    for w in weights[1:]:
        product = torch.bmm(w, product)
    return product.reshape(-1)


def data_loss_gradient(
    weights: list[torch.Tensor], signal: torch.Tensor
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Each member's data loss ``(b − a)²`` and its gradient with respect to every weight."""
    with torch.no_grad():
        prefix = [weights[0]]
        for w in weights[1:]:
            prefix.append(torch.bmm(w, prefix[-1]))
        residual = prefix[-1].reshape(-1) - signal
        suffix = (2.0 * residual).reshape(-1, 1, 1)  # ∂L/∂b, then times W_{D+1} ⋯ W_{i+1}
        grads: list[torch.Tensor] = [residual] * len(weights)
        for i in range(len(weights) - 1, -1, -1):
            if i == 0:
                grads[i] = suffix.transpose(1, 2)
            else:
                grads[i] = torch.bmm(suffix.transpose(1, 2), prefix[i - 1].transpose(1, 2))
                suffix = torch.bmm(suffix, weights[i])
    return residual**2, grads


def _penalty(weights: list[torch.Tensor]) -> torch.Tensor:
    return sum((w * w).flatten(1).sum(1) for w in weights)  # type: ignore[return-value]


class _Network:
    """The members' weights, their optimizer and the measurements."""

    def __init__(self, members: Members, depth: int, width: int, lr: torch.Tensor) -> None:
        self.members = members
        self.signal = members.values("signal")
        self.weights = _initial_weights(members, depth, width)
        self.gamma = torch.zeros_like(self.signal)
        self.optimizer = BatchedSGD(self.weights, lr)
        self.trainer = BatchedTrainer(
            self.weights, self.data_loss, self.optimizer, members, gradient=self.gradient
        )

    def data_loss(self) -> torch.Tensor:
        return (end_to_end(self.weights) - self.signal) ** 2

    def gradient(self) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Data loss and its exact gradient (the decay is the optimizer's), by hand.

        With prefix products ``P_i = W_i ⋯ W_1`` and ``b = P_{D+1}``, the gradient of
        ``(b − a)²`` with respect to ``W_i`` is ``2(b − a)·(W_{D+1} ⋯ W_{i+1})ᵀ P_{i−1}ᵀ``.
        """
        return data_loss_gradient(self.weights, self.signal)

    def set_weight_decay(self, gamma: torch.Tensor) -> None:
        self.gamma = gamma
        self.optimizer.set_hyperparameters(weight_decay=2.0 * gamma)

    def measure(self) -> dict[str, torch.Tensor]:
        with torch.enable_grad():
            data = self.data_loss()
            penalty = _penalty(self.weights)
            objective = data + self.gamma * penalty
            grads = torch.autograd.grad(objective.sum(), self.weights)
        gradient_norm = torch.sqrt(reduce(operator.add, ((g * g).flatten(1).sum(1) for g in grads)))
        return {
            "end_to_end": end_to_end(self.weights).detach(),
            "loss": objective.detach(),
            "data_loss": data.detach(),
            "weight_norm": penalty.detach().sqrt(),
            "gradient_norm": gradient_norm.detach(),  # type: ignore[union-attr]
        }


def deep_linear_batched(ctxs: list[RunContext]) -> None:
    """Train S deep linear networks at once (members may differ in seed, lr, weight decay,
    init scale and signal)."""
    members = Members(ctxs, dtype=torch.float64)
    depth, width = int(members.shared("depth")), int(members.shared("width"))
    steps = int(members.shared("steps"))
    net = _Network(members, depth, width, members.values("lr"))
    net.set_weight_decay(members.values("weight_decay"))
    for step in range(steps + 1):
        if members.due(step):
            members.log(step, **net.measure())
            if not members.any_alive():
                break
        if step == steps:
            break
        net.trainer.step(step)
    members.finish()


def sweep_value_index(step: int, steps: int, sweep_steps: int) -> int:
    """Index (0 … sweep_steps) of the weight-decay value in force at gradient step ``step``.

    Each of the ``sweep_steps + 1`` values holds for ``steps // (sweep_steps + 1)`` steps;
    the last one also takes the remainder.
    """
    per_value = steps // (sweep_steps + 1)
    return min(step // per_value, sweep_steps)


def deep_linear_sweep_batched(ctxs: list[RunContext]) -> None:
    """Sweep the weight decay of S deep linear networks at once, warm-starting each value
    (members may differ in seed, lr, init scale, signal and direction)."""
    members = Members(ctxs, dtype=torch.float64)
    depth, width = int(members.shared("depth")), int(members.shared("width"))
    increments = int(members.shared("sweep_steps"))
    steps = int(members.shared("steps"))
    initial_steps = int(members.shared("initial_steps"))
    perturbation = float(members.shared("perturbation"))
    low, high = members.values("weight_decay_min"), members.values("weight_decay_max")
    down = torch.tensor([ctx.params["direction"] == "down" for ctx in ctxs], device=members.device)
    net = _Network(members, depth, width, members.values("lr"))
    kicks = members.generators(stream=1000)

    def gamma_at(index: int) -> torch.Tensor:
        # the same floats up and down: value j is low + (high − low)·j/increments
        up_value = low + (high - low) * (index / increments)
        down_value = low + (high - low) * ((increments - index) / increments)
        return torch.where(down, down_value, up_value)

    net.set_weight_decay(gamma_at(0))
    for _ in range(initial_steps):
        net.trainer.step(0)
    current = 0
    for step in range(steps + 1):
        index = sweep_value_index(step, steps, increments)
        if index != current:
            current = index
            net.set_weight_decay(gamma_at(index))
            if perturbation > 0.0:
                with torch.no_grad():
                    for w in net.weights:
                        noise = torch.stack(
                            [torch.randn(w.shape[1:], generator=g, dtype=w.dtype) for g in kicks]
                        ).to(w.device)
                        w.add_(perturbation * noise)
        if members.due(step):
            members.log(step, weight_decay=net.gamma, **net.measure())
            if not members.any_alive():
                break
        if step == steps:
            break
        net.trainer.step(step)
    members.finish()


_THEORY = {
    "critical_weight_decay": {
        str(d): round(critical_weight_decay(1.0, d), 5) for d in (1, 2, 3, 4)
    },
    "spinodal_weight_decay": {str(d): round(spinodal_weight_decay(1.0, d), 5) for d in (2, 3, 4)},
    "jump": {str(d): round(jump(1.0, d), 5) for d in (1, 2, 3, 4)},
}


@register_task(
    "deep_linear",
    parameters=DeepLinearParameters,
    observables=OBSERVABLES,
    summary="deep linear net + weight decay: exact 1st/2nd-order transitions (Ziyin 2205.12510)",
    batched=deep_linear_batched,
    batch_keys=("seed", "lr", "weight_decay", "init_scale", "signal"),
    prefers_batching=True,
    extra={"order_parameter": "end_to_end", "control": "weight_decay", **_THEORY},
)
def deep_linear(ctx: RunContext) -> None:
    """Gradient descent on a deep linear network with weight decay, at one weight decay."""
    run_single(deep_linear_batched, ctx)


@register_task(
    "deep_linear_sweep",
    parameters=DeepLinearSweepParameters,
    observables=SWEEP_OBSERVABLES,
    summary="warm-started weight-decay sweep of a deep linear net: hysteresis (2205.12510)",
    batched=deep_linear_sweep_batched,
    batch_keys=("seed", "lr", "init_scale", "signal", "direction"),
    prefers_batching=True,
    extra={
        "order_parameter": "end_to_end",
        "control": "weight_decay",
        "direction": "direction",
        **_THEORY,
    },
)
def deep_linear_sweep(ctx: RunContext) -> None:
    """Step the weight decay up or down through a range, warm-starting each value."""
    run_single(deep_linear_sweep_batched, ctx)
