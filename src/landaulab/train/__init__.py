"""The training engine: batched ensembles of S members trained as one model.

- :mod:`~landaulab.train.members` — per-member settings, seeds, logs, divergence masks
- :mod:`~landaulab.train.optimizers` — batched SGD / momentum / Adam / AdamW, per-member
  learning rate and weight decay
- :mod:`~landaulab.train.stacked` — S copies of an ``nn.Module`` via ``functional_call`` + ``vmap``
- :mod:`~landaulab.train.trainer` — one masked gradient step for all members
- :mod:`~landaulab.train.policy` — when batching pays (``should_batch``)
- :mod:`~landaulab.train.precision` — optional bf16 autocast
- :mod:`~landaulab.train.ensemble` — run members batched or one by one
- :mod:`~landaulab.train.device` — device choice
"""

from landaulab.train.device import resolve_device
from landaulab.train.members import Members, member_generator, run_single
from landaulab.train.optimizers import (
    BatchedAdam,
    BatchedOptimizer,
    BatchedSGD,
    make_optimizer,
    per_member,
)
from landaulab.train.policy import (
    CPU_BATCH_FLOPS_LIMIT,
    Batching,
    prefers_batching,
    should_batch,
)
from landaulab.train.precision import Precision, autocast, has_fast_bf16
from landaulab.train.stacked import StackedModule
from landaulab.train.trainer import BatchedTrainer

__all__ = [
    "CPU_BATCH_FLOPS_LIMIT",
    "BatchedAdam",
    "BatchedOptimizer",
    "BatchedSGD",
    "BatchedTrainer",
    "Batching",
    "Members",
    "Precision",
    "StackedModule",
    "autocast",
    "has_fast_bf16",
    "make_optimizer",
    "member_generator",
    "per_member",
    "prefers_batching",
    "resolve_device",
    "run_single",
    "should_batch",
]
