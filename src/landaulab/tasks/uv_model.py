r"""The catapult phase of large-learning-rate gradient descent: the uv model and a ReLU MLP.

Lewkowycz, Bahri, Dyer, Sohl-Dickstein & Gur-Ari 2020, "The large learning rate phase of
deep learning: the catapult mechanism", arXiv:2003.02218.

**uv model.** A width-n linear network :math:`f = v^\top u\,x/\sqrt n` with one training
example :math:`x = 1, y = 0` and loss :math:`L = f^2/2`. Its neural tangent kernel is
:math:`\lambda = (\|u\|^2 + \|v\|^2)/n`, and gradient descent with learning rate η gives
exactly (derived by inserting :math:`u' = u - \eta f v/\sqrt n`, :math:`v' = v - \eta f
u/\sqrt n`)

.. math::

    f' = f\,(1 - \eta\lambda + \eta^2 f^2/n), \qquad
    \lambda' = \lambda + (\eta f^2/n)(\eta\lambda - 4).

Three phases in :math:`\eta\lambda_0`: *lazy* below 2 (the kernel barely moves, the loss
decays), *catapult* between 2 and 4 (the loss first grows exponentially, which drives λ
down until :math:`\eta\lambda < 2`, then converges: with n = 2000, :math:`\eta\lambda_0 =
2.1` peaks at a loss of about 5 and ends at :math:`\eta\lambda \approx 1.89`), and
*divergent* above 4. The final :math:`\eta\lambda` (or the kernel ratio
:math:`\lambda_\infty/\lambda_0`) is the order parameter of the lazy-to-catapult change.

**ReLU MLP.** The same experiment on a fully connected ReLU network in the NTK
parametrisation with MSE loss on a small synthetic data set; λ is the top eigenvalue of
the empirical NTK :math:`JJ^\top/m` (J: the m × P Jacobian of the outputs), measured at
initialisation (:math:`\lambda_0`) and whenever observables are due. The lower edge
:math:`\eta\lambda_0 = 2` is exact for this kernel; the upper edge is empirical (about
:math:`12/\lambda_0` for the deep networks of the paper).

Control parameter: ``lr``, by default in units of the lazy-to-catapult edge
:math:`2/\lambda_0` of each run (``lr_units = "critical"``: lr 1 is the edge, lr 2 the uv
model's divergence edge), or in absolute units (``lr_units = "absolute"``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
from pydantic import ConfigDict, Field

from landaulab.record.context import RunContext
from landaulab.tasks.registry import TaskParameters, register_task
from landaulab.train.members import Members, run_single
from landaulab.train.optimizers import BatchedSGD
from landaulab.train.trainer import BatchedTrainer

UV_OBSERVABLES = ("loss", "output", "ntk", "lr_times_ntk", "ntk_ratio", "max_loss")
MLP_OBSERVABLES = ("loss", "ntk", "lr_times_ntk", "ntk_ratio", "max_loss", "train_accuracy")


class UVModelParameters(TaskParameters):
    """Settings of the uv model (Lewkowycz et al. 2020)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    width: int = Field(2000, ge=1, description="n, the hidden width")
    lr: float = Field(1.05, gt=0.0, description="learning rate (units: see lr_units)")
    lr_units: Literal["critical", "absolute"] = Field(
        "critical", description="'critical': lr in units of 2/λ0 of each run; 'absolute': η"
    )
    init_scale: float = Field(1.0, gt=0.0, description="std of the initial u and v entries")
    steps: int = Field(300, ge=1)


def _learning_rates(
    lr: torch.Tensor, ntk0: torch.Tensor, units: str, members: Members
) -> torch.Tensor:
    """Absolute learning rates η from the ``lr`` setting and each member's λ0.

    A member whose η is not finite (λ0 underflowed to 0) is recorded as diverged at step 0
    and trained with η = 0.
    """
    eta = lr * 2.0 / ntk0 if units == "critical" else lr
    members.check(0, learning_rate=eta)
    return torch.where(torch.isfinite(eta), eta, 0.0)


def _train_and_log(
    members: Members,
    trainer: BatchedTrainer,
    steps: int,
    eta: torch.Tensor,
    ntk0: torch.Tensor,
    measure: Callable[[], dict[str, torch.Tensor]],
) -> None:
    """The catapult experiment's loop: train, and when due log ``measure()`` (with
    ``loss`` and ``ntk``) plus η·λ, λ/λ0 and the running maximum of the loss."""
    max_loss = torch.zeros_like(ntk0)
    for step in range(steps + 1):
        if members.due(step):
            values = measure()
            max_loss = torch.maximum(max_loss, values["loss"])
            lam = values["ntk"]
            members.log(
                step, **values, lr_times_ntk=eta * lam, ntk_ratio=lam / ntk0, max_loss=max_loss
            )
            if not members.any_alive():
                break
        if step == steps:
            break
        losses = trainer.step(step)
        max_loss = torch.maximum(max_loss, torch.nan_to_num(losses, nan=0.0, posinf=0.0))
    members.finish()


def uv_model_batched(ctxs: list[RunContext]) -> None:
    """Train S uv models at once (members may differ in seed, lr and init_scale)."""
    members = Members(ctxs, dtype=torch.float64)
    width = int(members.shared("width"))
    steps = int(members.shared("steps"))
    units = str(members.shared("lr_units"))
    scale = members.values("init_scale").reshape(-1, 1)
    u = members.stack(lambda _, g: torch.randn(width, generator=g, dtype=torch.float64)) * scale
    v = members.stack(lambda _, g: torch.randn(width, generator=g, dtype=torch.float64), 1) * scale
    u.requires_grad_(True)
    v.requires_grad_(True)
    root_n = math.sqrt(width)

    def output() -> torch.Tensor:
        return (u * v).sum(-1) / root_n

    def ntk() -> torch.Tensor:
        return ((u * u).sum(-1) + (v * v).sum(-1)).detach() / width

    # gradient buffers written in place every step: a fresh [S, n] tensor per step costs
    # more (allocation, page faults) than the arithmetic at large S
    grad_u, grad_v = torch.empty_like(u), torch.empty_like(v)

    def gradient() -> tuple[torch.Tensor, list[torch.Tensor]]:
        # L = f²/2 with f = u·v/√n: ∂L/∂u = (f/√n)·v, ∂L/∂v = (f/√n)·u
        with torch.no_grad():
            torch.mul(u, v, out=grad_u)  # scratch for the product before the gradient
            f = grad_u.sum(-1) / root_n  # row-wise: the same for any S
            c = (f / root_n).unsqueeze(-1)
            torch.mul(c, v, out=grad_u)
            torch.mul(c, u, out=grad_v)
            return 0.5 * f * f, [grad_u, grad_v]

    ntk0 = ntk()
    eta = _learning_rates(members.values("lr"), ntk0, units, members)
    optimizer = BatchedSGD([u, v], eta)
    trainer = BatchedTrainer(
        [u, v], lambda: 0.5 * output() ** 2, optimizer, members, gradient=gradient
    )

    def measure() -> dict[str, torch.Tensor]:
        with torch.no_grad():
            f = output()
            return {"loss": 0.5 * f**2, "output": f, "ntk": ntk()}

    _train_and_log(members, trainer, steps, eta, ntk0, measure)


@register_task(
    "uv_model",
    parameters=UVModelParameters,
    observables=UV_OBSERVABLES,
    summary="catapult phase: the uv model at large learning rate (Lewkowycz 2020, 2003.02218)",
    batched=uv_model_batched,
    batch_keys=("seed", "lr", "init_scale"),
    prefers_batching=True,
    extra={"lazy_edge_lr_times_ntk": 2.0, "divergent_edge_lr_times_ntk": 4.0},
)
def uv_model(ctx: RunContext) -> None:
    """The uv model f = vᵀu/√n on one example, gradient descent at learning rate lr."""
    run_single(uv_model_batched, ctx)


def uv_exact_map(
    output: float, ntk: float, lr: float, width: int, steps: int
) -> tuple[list[float], list[float]]:
    """Iterate the exact gradient-descent map of the uv model (the reference dynamics).

    Parameters
    ----------
    output, ntk
        The initial f and λ.
    lr
        The absolute learning rate η.
    width
        n.
    steps
        Number of steps.

    Returns
    -------
    tuple
        The sequences of f and λ, each of length ``steps + 1`` (step 0 included).
    """
    fs, lams = [float(output)], [float(ntk)]
    f, lam = float(output), float(ntk)
    for _ in range(steps):
        f, lam = (
            f * (1.0 - lr * lam + lr * lr * f * f / width),
            lam + (lr * f * f / width) * (lr * lam - 4.0),
        )
        fs.append(f)
        lams.append(lam)
    return fs, lams


# --------------------------------------------------------------------------------------
# ReLU MLP
# --------------------------------------------------------------------------------------


class CatapultMLPParameters(TaskParameters):
    """Settings of the ReLU MLP catapult experiment (Lewkowycz et al. 2020)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    width: int = Field(512, ge=1, description="hidden units per layer")
    depth: int = Field(1, ge=1, description="number of hidden layers")
    input_dim: int = Field(16, ge=1)
    samples: int = Field(32, ge=1, description="training examples (full batch)")
    lr: float = Field(1.5, gt=0.0, description="learning rate (units: see lr_units)")
    lr_units: Literal["critical", "absolute"] = "critical"
    init_scale: float = Field(1.0, gt=0.0, description="σ_w of the NTK-parametrised weights")
    steps: int = Field(300, ge=1)


def _mlp_output(weights: list[torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
    """Outputs ``[S, m]`` of S ReLU networks in NTK parametrisation on inputs ``[S, m, d]``."""
    h = inputs
    for w in weights[:-1]:
        h = torch.relu(torch.bmm(h, w.transpose(1, 2)) / math.sqrt(w.shape[-1]))
    readout = weights[-1]  # [S, width]
    return torch.bmm(h, readout.unsqueeze(-1)).squeeze(-1) / math.sqrt(readout.shape[-1])


def ntk_gram(weights: list[torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
    """The empirical NTK ``J Jᵀ / m`` of each member, shape ``[S, m, m]``.

    For a layer ``z = a Wᵀ / √fan_in`` the per-example gradient is ``δ ⊗ a / √fan_in``,
    so the kernel between examples i and j is ``Σ_layers (δ_i·δ_j)(a_i·a_j) / fan_in``,
    where ``δ_i = ∂f_i/∂z`` comes for every example from one backward pass of ``Σ_i f_i``
    (example i's output depends only on its own input).
    """
    params = [w.detach() for w in weights]
    with torch.enable_grad():
        h = inputs
        activations, preacts = [], []
        for w in params[:-1]:
            activations.append(h)
            z = (torch.bmm(h, w.transpose(1, 2)) / math.sqrt(w.shape[-1])).requires_grad_()
            preacts.append(z)
            h = torch.relu(z)
        readout = params[-1]
        outputs = torch.bmm(h, readout.unsqueeze(-1)).squeeze(-1) / math.sqrt(readout.shape[-1])
        deltas = torch.autograd.grad(outputs.sum(), preacts)
    kernel = torch.bmm(h, h.transpose(1, 2)) / readout.shape[-1]
    for a, delta, w in zip(activations, deltas, params[:-1], strict=True):
        kernel = (
            kernel
            + torch.bmm(delta, delta.transpose(1, 2))
            * torch.bmm(a, a.transpose(1, 2))
            / w.shape[-1]
        )
    return kernel.detach() / inputs.shape[1]


def top_ntk_eigenvalue(weights: list[torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
    """Top eigenvalue of the empirical NTK ``J Jᵀ / m`` of each member, shape ``[S]``.

    For the loss ``Σ (f − y)² / (2m)`` gradient descent on the outputs is linear with
    kernel ``J Jᵀ / m`` near initialisation, so it is stable for ``η λ < 2``. A member whose
    weights or kernel are not finite gets ``inf``.
    """
    finite = torch.stack([torch.isfinite(w).flatten(1).all(1) for w in weights]).all(0)
    safe = [
        torch.where(finite.reshape((-1,) + (1,) * (w.dim() - 1)), w.detach(), 0.0) for w in weights
    ]
    kernel = ntk_gram(safe, inputs)
    finite = finite & torch.isfinite(kernel).flatten(1).all(1)
    kernel = torch.where(finite.reshape(-1, 1, 1), kernel, 0.0)
    top = torch.linalg.eigvalsh(kernel)[:, -1]
    return torch.where(finite, top, torch.inf)


def catapult_mlp_batched(ctxs: list[RunContext]) -> None:
    """Train S ReLU MLPs at once (members may differ in seed, lr and init_scale)."""
    members = Members(ctxs, dtype=torch.float64)
    width = int(members.shared("width"))
    depth = int(members.shared("depth"))
    d = int(members.shared("input_dim"))
    m = int(members.shared("samples"))
    steps = int(members.shared("steps"))
    units = str(members.shared("lr_units"))
    scale = members.values("init_scale")

    inputs = members.stack(lambda _, g: torch.randn(m, d, generator=g, dtype=torch.float64), 1)
    inputs = inputs / inputs.norm(dim=-1, keepdim=True) * math.sqrt(d)  # ‖x‖² = d
    teacher = members.stack(lambda _, g: torch.randn(d, generator=g, dtype=torch.float64), 2)
    targets = torch.sign(torch.einsum("smd,sd->sm", inputs, teacher))
    targets[targets == 0] = 1.0

    shapes = [(width, d)] + [(width, width)] * (depth - 1) + [(width,)]
    weights = []
    for layer, shape in enumerate(shapes):
        w = members.gaussian(shape, stream=10 + layer, dtype=torch.float64)
        w = w * scale.reshape((-1,) + (1,) * len(shape))
        weights.append(w.requires_grad_(True))

    def losses() -> torch.Tensor:
        return 0.5 * ((_mlp_output(weights, inputs) - targets) ** 2).mean(-1)

    ntk0 = top_ntk_eigenvalue(weights, inputs)
    eta = _learning_rates(members.values("lr"), ntk0, units, members)
    trainer = BatchedTrainer(weights, losses, BatchedSGD(weights, eta), members)

    def measure() -> dict[str, torch.Tensor]:
        with torch.no_grad():
            outputs = _mlp_output(weights, inputs)
            loss = 0.5 * ((outputs - targets) ** 2).mean(-1)
            accuracy = (torch.sign(outputs) == targets).double().mean(-1)
        return {
            "loss": loss,
            "train_accuracy": accuracy,
            "ntk": top_ntk_eigenvalue(weights, inputs),
        }

    _train_and_log(members, trainer, steps, eta, ntk0, measure)


@register_task(
    "catapult_mlp",
    parameters=CatapultMLPParameters,
    observables=MLP_OBSERVABLES,
    summary="catapult phase of a ReLU MLP, lr in units of 2/λ0 (Lewkowycz 2020, 2003.02218)",
    batched=catapult_mlp_batched,
    batch_keys=("seed", "lr", "init_scale"),
    prefers_batching=True,
    extra={"lazy_edge_lr_times_ntk": 2.0},
)
def catapult_mlp(ctx: RunContext) -> None:
    """A ReLU MLP (NTK parametrisation, MSE) trained full-batch at learning rate lr."""
    run_single(catapult_mlp_batched, ctx)
