"""Grokking on modular arithmetic: a two-layer MLP learning a ∘ b mod p.

A network trained on a fraction of the table of ``a ∘ b mod p`` first memorises the
training pairs and, much later, generalises to the held-out ones ("grokking").
The model is the two-layer MLP used to study grokking analytically: the two tokens are
embedded (or one-hot encoded), concatenated, passed through one hidden layer with a
quadratic (x²) or ReLU activation and read out linearly, without biases.

References
----------
Power, Burda, Edwards, Babuschkin & Misra 2022, "Grokking: generalization beyond
overfitting on small algorithmic datasets", arXiv:2201.02177.
Gromov 2023, "Grokking modular arithmetic", arXiv:2301.02679.
Doshi, Das, Ziyin & Gromov 2023, "To grok or not to grok: disentangling generalization
and memorization on corrupted algorithmic datasets", arXiv:2310.13061.
Liu, Kitouni, Nolte, Michaud, Tegmark & Williams 2022, "Towards understanding grokking:
an effective theory of representation learning", arXiv:2205.10343.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import reduce
from typing import Any, Literal, cast

import numpy as np
import torch
from pydantic import Field, model_validator
from torch import nn

from landaulab.record.context import RunContext
from landaulab.tasks.registry import TaskParameters, register_task
from landaulab.train.device import resolve_device
from landaulab.train.members import Members
from landaulab.train.optimizers import make_optimizer as make_batched_optimizer
from landaulab.train.policy import cuda_available
from landaulab.train.precision import Precision, autocast
from landaulab.train.stacked import StackedModule
from landaulab.train.trainer import BatchedTrainer

OBSERVABLES = (
    "train_loss",
    "test_loss",
    "train_accuracy",
    "test_accuracy",
    "weight_norm",
    "fourier_concentration",
    "hessian_top",
    "generalisation",
)
CURVATURE_POINTS = 8  # log-spaced steps at which the top Hessian eigenvalue is measured


class ModularArithmeticParameters(TaskParameters):
    """Settings of the modular-arithmetic grokking task (defaults: Gromov 2023 style)."""

    p: int = Field(97, ge=2, description="the modulus (a prime for ÷)")
    operation: Literal["+", "-", "*", "/"] = "+"
    train_fraction: float = Field(0.4, gt=0.0, lt=1.0)
    width: int = Field(128, ge=1, description="hidden units")
    embedding_dim: int = Field(64, ge=0, description="token embedding size; 0 = one-hot")
    activation: Literal["quadratic", "relu"] = "quadratic"
    optimizer: Literal["adamw", "sgd"] = "adamw"
    loss: Literal["cross_entropy", "mse"] = "cross_entropy"
    lr: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(1.0, ge=0.0)
    beta1: float = Field(0.9, ge=0.0, lt=1.0)
    beta2: float = Field(0.98, ge=0.0, lt=1.0)
    momentum: float = Field(0.0, ge=0.0, lt=1.0, description="SGD momentum")
    init_scale: float = Field(1.0, gt=0.0)
    steps: int = Field(5000, ge=1)
    stop_accuracy: float | None = Field(
        0.99, gt=0.0, le=1.0, description="stop once test accuracy stays above this"
    )
    stop_patience: int = Field(3, ge=1, description="consecutive evaluations above it")

    @model_validator(mode="after")
    def _division_needs_prime(self) -> ModularArithmeticParameters:
        if self.operation == "/" and any(self.p % k == 0 for k in range(2, int(self.p**0.5) + 1)):
            raise ValueError(f"operation '/' needs a prime p, got p={self.p}")
        return self


@dataclass(frozen=True)
class ModularData:
    """Train/test split of the full table of ``a ∘ b mod p``."""

    train_inputs: torch.Tensor
    train_labels: torch.Tensor
    test_inputs: torch.Tensor
    test_labels: torch.Tensor


def modular_table(p: int, operation: str) -> tuple[torch.Tensor, torch.Tensor]:
    """All pairs (a, b) and their labels ``a ∘ b mod p`` (b ≠ 0 for division)."""
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    a, b = a.reshape(-1), b.reshape(-1)
    if operation == "/":
        keep = b != 0
        a, b = a[keep], b[keep]
        inverse = torch.tensor([pow(int(x), -1, p) if x else 0 for x in range(p)])
        labels = (a * inverse[b]) % p
    elif operation == "+":
        labels = (a + b) % p
    elif operation == "-":
        labels = (a - b) % p
    elif operation == "*":
        labels = (a * b) % p
    else:
        raise ValueError(f"unknown operation {operation!r}")
    return torch.stack([a, b], dim=1), labels


def split_table(p: int, operation: str, train_fraction: float, seed: int) -> ModularData:
    """Random train/test split of the table, reproducible from ``seed``."""
    inputs, labels = modular_table(p, operation)
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=generator)
    n_train = max(1, min(len(labels) - 1, round(train_fraction * len(labels))))
    train, test = order[:n_train], order[n_train:]
    return ModularData(inputs[train], labels[train], inputs[test], labels[test])


class ModularMLP(nn.Module):
    """Embed both tokens, concatenate, one hidden layer, linear read-out; no biases.

    Parameters
    ----------
    p
        Vocabulary size and number of classes.
    width
        Hidden units.
    embedding_dim
        Size of the learned token embedding; 0 feeds concatenated one-hot vectors.
    activation
        ``"quadratic"`` (x², Gromov 2023) or ``"relu"``.
    init_scale
        Multiplies every initial weight.
    """

    def __init__(
        self, p: int, width: int, embedding_dim: int, activation: str, init_scale: float = 1.0
    ) -> None:
        super().__init__()
        self.p = p
        self.activation = activation
        self.embedding: nn.Embedding | None
        if embedding_dim > 0:
            self.embedding = nn.Embedding(p, embedding_dim)
            nn.init.normal_(self.embedding.weight, std=embedding_dim**-0.5)
            fan_in = 2 * embedding_dim
        else:
            self.embedding = None
            fan_in = 2 * p
        self.hidden = nn.Linear(fan_in, width, bias=False)
        self.readout = nn.Linear(width, p, bias=False)
        nn.init.normal_(self.hidden.weight, std=fan_in**-0.5)
        nn.init.normal_(self.readout.weight, std=width**-0.5)
        if init_scale != 1.0:
            with torch.no_grad():
                for parameter in self.parameters():
                    parameter.mul_(init_scale)

    def features(self, pairs: torch.Tensor) -> torch.Tensor:
        """The concatenated input representation of the pairs ``(a, b)``."""
        if self.embedding is not None:
            return self.embedding(pairs).flatten(1)
        one_hot = nn.functional.one_hot(pairs, self.p).to(self.hidden.weight.dtype)
        return one_hot.flatten(1)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """Logits over the p residues for each pair."""
        h = self.hidden(self.features(pairs))
        h = h * h if self.activation == "quadratic" else torch.relu(h)
        return self.readout(h)


def loss_function(kind: str, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy, or mean squared error against one-hot targets."""
    if kind == "cross_entropy":
        return nn.functional.cross_entropy(logits, labels)
    target = nn.functional.one_hot(labels, logits.shape[-1]).to(logits.dtype)
    return ((logits - target) ** 2).sum(-1).mean()


def make_optimizer(params: ModularArithmeticParameters, model: nn.Module) -> torch.optim.Optimizer:
    """AdamW or SGD (decoupled weight decay for AdamW, L2 for SGD)."""
    if params.optimizer == "adamw":
        return torch.optim.AdamW(
            model.parameters(),
            lr=params.lr,
            betas=(params.beta1, params.beta2),
            weight_decay=params.weight_decay,
        )
    return torch.optim.SGD(
        model.parameters(), lr=params.lr, momentum=params.momentum, weight_decay=params.weight_decay
    )


def build(params: ModularArithmeticParameters, seed: int) -> tuple[ModularMLP, ModularData]:
    """The initial model and the data split of one run, reproducible from ``seed``."""
    data = split_table(params.p, params.operation, params.train_fraction, seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ModularMLP(
            params.p, params.width, params.embedding_dim, params.activation, params.init_scale
        )
    return model, data


@torch.no_grad()
def evaluate(
    model: nn.Module, loss: str, inputs: torch.Tensor, labels: torch.Tensor
) -> tuple[float, float]:
    """Loss and accuracy of ``model`` on a set of pairs."""
    logits = model(inputs)
    return (
        float(loss_function(loss, logits, labels)),
        float((logits.argmax(-1) == labels).float().mean()),
    )


def generalisation(test_accuracy: Any, p: Any) -> Any:
    """The grokking order parameter: test accuracy above chance, rescaled to [0, 1],
    ``clip((accuracy − 1/p) / (1 − 1/p), 0, 1)`` — 0 while the network only memorises
    (chance on the held-out pairs), 1 once it generalises (Power et al. 2022,
    arXiv:2201.02177). Works on floats, numpy arrays, pandas series and tensors."""
    chance = 1.0 / p
    value = (test_accuracy - chance) / (1.0 - chance)
    return value.clip(0.0, 1.0) if hasattr(value, "clip") else min(max(value, 0.0), 1.0)


def weight_norm(model: nn.Module) -> float:
    """Euclidean norm of all parameters together."""
    return float(
        torch.sqrt(reduce(operator.add, ((p.detach() ** 2).sum() for p in model.parameters())))
    )


def embedding_fourier_concentration(model: ModularMLP) -> float:
    """Fourier concentration (inverse participation ratio of the power spectrum over
    residues) of the token embedding, or of the first layer's one-hot columns.

    1 when every embedding direction uses a single frequency, ``1/⌊p/2⌋`` for a flat
    spectrum (Nanda et al. 2023, arXiv:2301.05217; Doshi et al. 2023, arXiv:2310.13061).
    """
    from landaulab.record.observables.representation import fourier_concentration

    if model.embedding is not None:
        weights = model.embedding.weight.detach()
    else:
        weights = model.hidden.weight.detach()[:, : model.p].T
    return float(fourier_concentration(weights).ipr)


def curvature_steps(logged: np.ndarray, points: int) -> set[int]:
    """About ``points`` log-spaced steps among the logged ones (the first included)."""
    if len(logged) == 0:
        return set()
    index = np.unique(np.geomspace(1, len(logged), points).astype(int) - 1)
    return {int(logged[0]), *(int(logged[i]) for i in index)}


def hessian_top_eigenvalue(
    model: nn.Module, loss: str, inputs: torch.Tensor, labels: torch.Tensor
) -> float:
    """Largest eigenvalue of the training-loss Hessian (Lanczos on Hessian-vector
    products, relative accuracy 1e-3)."""
    from landaulab.record.observables.hvp import HessianOperator
    from landaulab.record.observables.lanczos import top_eigenvalues
    from landaulab.record.observables.objective import Objective

    objective = Objective(loss_fn=lambda m, batch: loss_function(loss, m(batch[0]), batch[1]))
    operator = HessianOperator(model, objective, (inputs, labels))
    return float(top_eigenvalues(operator, 1, tol=1e-3).eigenvalues[0])


def _log_member_curvature(
    members: Members,
    stacked: StackedModule,
    runs: list[ModularArithmeticParameters],
    step: int,
    curvature: set[int],
    train_x: torch.Tensor,
    train_y: torch.Tensor,
) -> None:
    """Fourier concentration and (at curvature steps) the top Hessian eigenvalue of each
    live member, measured on a standalone copy exactly as its separate run measures them."""
    wants_fourier = members.ctxs[0].wants("fourier_concentration")
    wants_hessian = members.ctxs[0].wants("hessian_top") and step in curvature
    if not (wants_fourier or wants_hessian):
        return
    live = members.alive.cpu().tolist()
    for i, ctx in enumerate(members.ctxs):
        if not live[i] or getattr(ctx, "diverged", None) is not None:
            continue
        model = stacked.member(i, device=train_x.device)
        if wants_fourier:
            concentration = embedding_fourier_concentration(cast(ModularMLP, model))
            members.log_member(i, step, fourier_concentration=concentration)
        if wants_hessian and getattr(ctx, "diverged", None) is None:
            top = hessian_top_eigenvalue(model, runs[i].loss, train_x[i], train_y[i])
            members.log_member(i, step, hessian_top=top)


def modular_arithmetic_batched(ctxs: list[RunContext], precision: Precision = "fp32") -> None:
    """Train several runs as one model with stacked weights (members may differ in seed,
    lr, weight_decay and init_scale); each member logs, stops early and diverges exactly
    as its separate run does. ``precision="bf16"`` autocasts the forward pass."""
    members = Members(ctxs)
    runs = [
        ModularArithmeticParameters(**{k: v for k, v in c.params.items() if k != "seed"})
        for c in ctxs
    ]
    shared, device = runs[0], members.device
    builds = [build(run, ctx.seed) for run, ctx in zip(runs, ctxs, strict=True)]
    stacked = StackedModule([model.to(device) for model, _ in builds])
    data = [d for _, d in builds]
    train_x, train_y = (
        torch.stack([getattr(d, k) for d in data]).to(device)
        for k in ("train_inputs", "train_labels")
    )
    test_x, test_y = (
        torch.stack([getattr(d, k) for d in data]).to(device)
        for k in ("test_inputs", "test_labels")
    )
    per_member_loss = torch.func.vmap(
        lambda logits, labels: loss_function(shared.loss, logits, labels)
    )
    optimizer = make_batched_optimizer(
        "adamw" if shared.optimizer == "adamw" else "sgd",
        stacked.parameters(),
        members.values("lr"),
        members.values("weight_decay"),
        momentum=shared.momentum,
        betas=(shared.beta1, shared.beta2),
    )
    trainer = BatchedTrainer(
        stacked.parameters(),
        lambda: per_member_loss(stacked(train_x, member_inputs=True), train_y),
        optimizer,
        members,
        precision=precision,
        check_finite=False,
    )
    streaks = [0] * len(ctxs)
    curvature = curvature_steps(ctxs[0].schedule.steps(), CURVATURE_POINTS)
    for step in range(shared.steps + 1):
        if members.due(step):
            with torch.no_grad(), autocast(device, precision):
                measured = {}
                for split, x, y in (("train", train_x, train_y), ("test", test_x, test_y)):
                    logits = stacked(x, member_inputs=True).float()
                    measured[f"{split}_loss"] = per_member_loss(logits, y)
                    measured[f"{split}_accuracy"] = (logits.argmax(-1) == y).float().mean(-1)
            norms = torch.sqrt(
                reduce(
                    operator.add,
                    ((p.detach() ** 2).flatten(1).sum(1) for p in stacked.parameters()),
                )
            )
            live = members.alive.cpu().tolist()
            members.log(
                step,
                **{k: measured[k] for k in OBSERVABLES[:4]},
                weight_norm=norms,
                generalisation=generalisation(measured["test_accuracy"], float(shared.p)),
            )
            _log_member_curvature(members, stacked, runs, step, curvature, train_x, train_y)
            accuracy = measured["test_accuracy"].cpu().tolist()
            for i, run in enumerate(runs):
                if (
                    not live[i]
                    or getattr(ctxs[i], "diverged", None) is not None
                    or run.stop_accuracy is None
                ):
                    continue
                streaks[i] = streaks[i] + 1 if accuracy[i] >= run.stop_accuracy else 0
                if streaks[i] >= run.stop_patience:
                    members.finish_member(i, f"test_accuracy >= {run.stop_accuracy}", step)
            if not members.any_alive():
                break
        if step == shared.steps:
            break
        trainer.step(step)
    members.finish()


@register_task(
    "modular_arithmetic",
    parameters=ModularArithmeticParameters,
    observables=OBSERVABLES,
    summary="grokking: two-layer MLP on a ∘ b mod p (Gromov 2023, arXiv:2301.02679)",
    batched=modular_arithmetic_batched,
    batch_keys=("seed", "lr", "weight_decay", "init_scale"),
    prefers_batching=cuda_available(),  # on a CPU each full-batch step is compute-bound
)
def modular_arithmetic(ctx: RunContext) -> None:
    """Train the modular-arithmetic MLP full-batch, logging when due; may stop early.

    The run stops early, recorded with ``ctx.stop``, once test accuracy has stayed at or
    above ``stop_accuracy`` for ``stop_patience`` consecutive evaluations.
    """
    params = ModularArithmeticParameters(**{k: v for k, v in ctx.params.items() if k != "seed"})
    device = resolve_device(ctx.device)
    model, data = build(params, ctx.seed)
    model.to(device)
    train_x, train_y = data.train_inputs.to(device), data.train_labels.to(device)
    test_x, test_y = data.test_inputs.to(device), data.test_labels.to(device)
    optimizer = make_optimizer(params, model)
    curvature = curvature_steps(ctx.schedule.steps(), CURVATURE_POINTS)
    streak = 0
    for step in range(params.steps + 1):
        if ctx.due(step):
            model.eval()
            train_loss, train_accuracy = evaluate(model, params.loss, train_x, train_y)
            test_loss, test_accuracy = evaluate(model, params.loss, test_x, test_y)
            ctx.log(
                step,
                train_loss=train_loss,
                test_loss=test_loss,
                train_accuracy=train_accuracy,
                test_accuracy=test_accuracy,
                weight_norm=weight_norm(model),
                generalisation=generalisation(test_accuracy, float(params.p)),
            )
            if ctx.wants("fourier_concentration"):
                ctx.log(step, fourier_concentration=embedding_fourier_concentration(model))
            if ctx.wants("hessian_top") and step in curvature:
                ctx.log(
                    step, hessian_top=hessian_top_eigenvalue(model, params.loss, train_x, train_y)
                )
            model.train()
            if params.stop_accuracy is not None:
                streak = streak + 1 if test_accuracy >= params.stop_accuracy else 0
                if streak >= params.stop_patience:
                    ctx.stop(f"test_accuracy >= {params.stop_accuracy}", step)
                    return
        if step == params.steps:
            break
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(params.loss, model(train_x), train_y)
        loss.backward()
        optimizer.step()
