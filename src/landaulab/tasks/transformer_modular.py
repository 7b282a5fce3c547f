r"""Grokking modular addition with the one-layer transformer of Nanda et al. (for GPUs).

Nanda, Chan, Lieberum, Smith & Steinhardt 2023, "Progress measures for grokking via
mechanistic interpretability", arXiv:2301.05217. Power et al. 2022, arXiv:2201.02177.

The input is the token sequence ``a b =`` (vocabulary: the p residues and ``=``); a
one-layer transformer without LayerNorm (d_model 128, 4 heads of 32, causal attention,
a ReLU MLP of width 512, learned positional embeddings) predicts ``a ∘ b mod p`` at the
last position. Trained full batch on 30 % of the table with AdamW (lr 1e-3, weight decay
1, betas (0.9, 0.98)) it memorises early and generalises after about 10⁴ epochs, when
the embedding concentrates on a few key frequencies (p = 113: {14, 35, 41, 42, 52}).

Besides losses and accuracies the task logs ``fourier_concentration``: the fraction of
the token embedding's power (over nonzero frequencies of the discrete Fourier transform
along the residue axis) held by its ``key_frequencies`` strongest frequencies, an order
parameter of the circuit that generalises (≈ key_frequencies/((p−1)/2) for a random
embedding, near 1 once it groks).

Members of a batch (different seeds, learning rates, weight decays, init scales) train as
one model with stacked weights; this pays on a GPU. Each step costs about
``6 · n_train · 3 · parameters`` flops, far above the CPU batching threshold.
"""

from __future__ import annotations

import math
import operator
from functools import reduce
from typing import Literal

import torch
from pydantic import ConfigDict, Field, model_validator

from landaulab.record.context import RunContext
from landaulab.tasks.modular_arithmetic import split_table
from landaulab.tasks.registry import TaskParameters, register_task
from landaulab.train.members import Members, run_single
from landaulab.train.optimizers import BatchedAdam
from landaulab.train.policy import cuda_available
from landaulab.train.precision import Precision, autocast
from landaulab.train.trainer import BatchedTrainer

OBSERVABLES = (
    "train_loss",
    "test_loss",
    "train_accuracy",
    "test_accuracy",
    "weight_norm",
    "fourier_concentration",
)


class TransformerModularParameters(TaskParameters):
    """Settings of the one-layer transformer on modular arithmetic (Nanda et al. 2023)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    p: int = Field(113, ge=3, description="the modulus")
    operation: Literal["+", "-", "*", "/"] = "+"
    train_fraction: float = Field(0.3, gt=0.0, lt=1.0)
    d_model: int = Field(128, ge=1)
    heads: int = Field(4, ge=1)
    d_mlp: int = Field(512, ge=1)
    lr: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(1.0, ge=0.0)
    beta1: float = Field(0.9, ge=0.0, lt=1.0)
    beta2: float = Field(0.98, ge=0.0, lt=1.0)
    init_scale: float = Field(1.0, gt=0.0, description="multiplies every initial weight")
    steps: int = Field(20_000, ge=1)
    precision: Precision = "fp32"
    key_frequencies: int = Field(5, ge=1, description="k of the Fourier concentration")

    @model_validator(mode="after")
    def _heads_divide_width(self) -> TransformerModularParameters:
        if self.d_model % self.heads:
            raise ValueError(f"heads ({self.heads}) must divide d_model ({self.d_model})")
        return self


def _init(members: Members, p: int, d: int, heads: int, d_mlp: int) -> dict[str, torch.Tensor]:
    """Stacked initial weights (Nanda et al.'s scales), one independent stream per member."""
    d_head = d // heads
    shapes = {
        "embed": ((p + 1, d), d**-0.5),
        "position": ((3, d), d**-0.5),
        "query": ((heads, d, d_head), d**-0.5),
        "key": ((heads, d, d_head), d**-0.5),
        "value": ((heads, d, d_head), d**-0.5),
        "output": ((heads, d_head, d), d**-0.5),
        "mlp_in": ((d, d_mlp), d**-0.5),
        "mlp_in_bias": ((d_mlp,), 0.0),
        "mlp_out": ((d_mlp, d), d_mlp**-0.5),
        "mlp_out_bias": ((d,), 0.0),
        "unembed": ((d, p), d**-0.5),
    }
    scale = members.values("init_scale")
    weights = {}
    for index, (name, (shape, std)) in enumerate(shapes.items()):
        w = members.gaussian(shape, stream=index) * (std if std else 0.0)
        w = w * scale.reshape((-1,) + (1,) * len(shape))
        weights[name] = w.requires_grad_(True)
    return weights


def transformer_logits(weights: dict[str, torch.Tensor], tokens: torch.Tensor) -> torch.Tensor:
    """Logits at the last position, ``[S, B, p]``, for token triples ``[S, B, 3]``."""
    embed = weights["embed"]
    s, b, t = tokens.shape
    index = tokens.reshape(s, b * t, 1).expand(s, b * t, embed.shape[-1])
    x = torch.gather(embed, 1, index).reshape(s, b, t, -1) + weights["position"][:, None]
    q = torch.einsum("sbtd,shde->sbhte", x, weights["query"])
    k = torch.einsum("sbtd,shde->sbhte", x, weights["key"])
    v = torch.einsum("sbtd,shde->sbhte", x, weights["value"])
    scores = torch.einsum("sbhte,sbhue->sbhtu", q, k) / math.sqrt(q.shape[-1])
    causal = torch.ones(t, t, dtype=torch.bool, device=tokens.device).tril()
    scores = scores.masked_fill(~causal, float("-inf"))
    attended = torch.einsum("sbhtu,sbhue->sbhte", scores.softmax(-1), v)
    x = x + torch.einsum("sbhte,shed->sbtd", attended, weights["output"])
    last = x[:, :, -1]  # [S, B, d]
    hidden = torch.relu(
        torch.einsum("sbd,sdm->sbm", last, weights["mlp_in"]) + weights["mlp_in_bias"][:, None]
    )
    last = last + torch.einsum("sbm,smd->sbd", hidden, weights["mlp_out"])
    last = last + weights["mlp_out_bias"][:, None]
    return torch.einsum("sbd,sdp->sbp", last, weights["unembed"])


def fourier_concentration(embed: torch.Tensor, p: int, k: int) -> torch.Tensor:
    """Fraction of the residue embeddings' power in the k strongest nonzero frequencies.

    Parameters
    ----------
    embed
        Embeddings ``[S, ≥p, d]`` (rows 0..p−1 are the residues).
    p, k
        Modulus and number of key frequencies.
    """
    spectrum = torch.fft.rfft(embed[:, :p].double(), dim=1)  # [S, p//2 + 1, d]
    power = (spectrum.abs() ** 2).sum(-1)[:, 1:]  # drop frequency 0
    top = power.topk(min(k, power.shape[1]), dim=1).values.sum(1)
    return top / power.sum(1)


def _cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy per member, ``[S]``."""
    logp = torch.log_softmax(logits.float(), dim=-1)
    return -torch.gather(logp, -1, labels.unsqueeze(-1)).squeeze(-1).mean(-1)


def transformer_modular_batched(ctxs: list[RunContext]) -> None:
    """Train S one-layer transformers at once (members may differ in seed, lr, weight
    decay and init scale)."""
    members = Members(ctxs)
    p = int(members.shared("p"))
    operation = str(members.shared("operation"))
    fraction = float(members.shared("train_fraction"))
    d, heads, d_mlp = (int(members.shared(k)) for k in ("d_model", "heads", "d_mlp"))
    steps = int(members.shared("steps"))
    precision = members.shared("precision")
    k = int(members.shared("key_frequencies"))
    betas = (float(members.shared("beta1")), float(members.shared("beta2")))
    splits = [split_table(p, operation, fraction, ctx.seed) for ctx in ctxs]
    equals = torch.full((1,), p, dtype=torch.long)

    def triples(pairs: torch.Tensor) -> torch.Tensor:
        return torch.cat([pairs, equals.expand(len(pairs), 1)], dim=1)

    device = members.device
    train_x = torch.stack([triples(s.train_inputs) for s in splits]).to(device)
    train_y = torch.stack([s.train_labels for s in splits]).to(device)
    test_x = torch.stack([triples(s.test_inputs) for s in splits]).to(device)
    test_y = torch.stack([s.test_labels for s in splits]).to(device)
    weights = _init(members, p, d, heads, d_mlp)
    params = list(weights.values())
    optimizer = BatchedAdam(
        params,
        members.values("lr"),
        members.values("weight_decay"),
        betas=betas,
        decoupled=True,
    )
    trainer = BatchedTrainer(
        params,
        lambda: _cross_entropy(transformer_logits(weights, train_x), train_y),
        optimizer,
        members,
        precision=precision,
    )
    for step in range(steps + 1):
        if members.due(step):
            with torch.no_grad(), autocast(device, precision):
                train_logits = transformer_logits(weights, train_x)
                test_logits = transformer_logits(weights, test_x)
            members.log(
                step,
                train_loss=_cross_entropy(train_logits, train_y),
                test_loss=_cross_entropy(test_logits, test_y),
                train_accuracy=(train_logits.argmax(-1) == train_y).float().mean(-1),
                test_accuracy=(test_logits.argmax(-1) == test_y).float().mean(-1),
                weight_norm=torch.sqrt(
                    reduce(operator.add, ((w.detach() ** 2).flatten(1).sum(1) for w in params))
                ),
                fourier_concentration=fourier_concentration(weights["embed"].detach(), p, k),
            )
            if not members.any_alive():
                break
        if step == steps:
            break
        trainer.step(step)
    members.finish()


@register_task(
    "transformer_modular",
    parameters=TransformerModularParameters,
    observables=OBSERVABLES,
    summary="grokking with a one-layer transformer, for GPUs (Nanda et al. 2023, 2301.05217)",
    batched=transformer_modular_batched,
    batch_keys=("seed", "lr", "weight_decay", "init_scale"),
    prefers_batching=cuda_available(),
    extra={"key_frequencies_p113": [14, 35, 41, 42, 52]},
)
def transformer_modular(ctx: RunContext) -> None:
    """Full-batch AdamW on a one-layer transformer learning a ∘ b mod p."""
    run_single(transformer_modular_batched, ctx)
