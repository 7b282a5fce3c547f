"""The training engine: batched ensembles of S members trained as one model.

- :mod:`~landaulab.train.members` — per-member settings, seeds, logs, divergence masks
- :mod:`~landaulab.train.optimizers` — batched SGD / momentum / Adam / AdamW, per-member
  learning rate and weight decay
- :mod:`~landaulab.train.stacked` — S copies of an ``nn.Module`` via ``functional_call`` + ``vmap``
- :mod:`~landaulab.train.trainer` — one masked gradient step for all members
- :mod:`~landaulab.train.policy` — when batching pays (the cost model, ``Batching``)
- :mod:`~landaulab.train.precision` — optional bf16 autocast
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
from landaulab.train.policy import Batching, cuda_available
from landaulab.train.precision import Precision, autocast, has_fast_bf16
from landaulab.train.stacked import StackedModule
from landaulab.train.trainer import BatchedTrainer

__all__ = [
    "BatchedAdam",
    "BatchedOptimizer",
    "BatchedSGD",
    "BatchedTrainer",
    "Batching",
    "Members",
    "Precision",
    "StackedModule",
    "autocast",
    "cuda_available",
    "has_fast_bf16",
    "make_optimizer",
    "member_generator",
    "per_member",
    "resolve_device",
    "run_single",
]
