"""When to batch ensemble members into one model, and when to run them one after another.

A training step costs a fixed overhead ``o`` (Python, operator dispatch, kernel launches)
plus its arithmetic ``w`` flops at a throughput ``P``. S members run sequentially cost
``S·(o + w/P)``; batched they cost ``o' + S·w/P'``, where ``o' ≈ o`` and, on a CPU, the
batched matrix products run at ``P' ≈ P/2`` (measured for the full-batch grokking MLP:
0.43–0.52× the sequential throughput once a step is compute-bound). Batching therefore
pays on a CPU when ``w ≲ o·P``: with ``o ≈ 2·10⁻⁴ s`` and ``P ≈ 5·10¹⁰ flop/s`` per core,
below about 10⁷ flops per member and step. Tiny models (the solvable tasks) sit far below
that and batch by orders of magnitude better; a full-batch grokking MLP sits above it and
runs sequentially (or in worker processes). On a GPU launch overhead dominates every
model small enough to be swept by the hundred, so batching is chosen there.

The user can force either choice (``batching="batch"`` or ``"sequential"``).
"""

from __future__ import annotations

from typing import Literal

import torch

from landaulab.errors import SpecError
from landaulab.train.device import resolve_device

Batching = Literal["auto", "batch", "sequential"]

CPU_BATCH_FLOPS_LIMIT = 1.0e7
"""Flops per member and step below which batching pays on a CPU (see the module text)."""


def prefers_batching(flops_per_member_step: float | None, device: str = "auto") -> bool:
    """Whether batching pays by default for a model of this size on ``device``.

    Parameters
    ----------
    flops_per_member_step
        Arithmetic of one training step of one member (``None``: unknown, treated as tiny).
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    """
    if resolve_device(device).type != "cpu":
        return True
    return flops_per_member_step is None or flops_per_member_step <= CPU_BATCH_FLOPS_LIMIT


def should_batch(
    members: int,
    *,
    batching: str = "auto",
    flops_per_member_step: float | None = None,
    device: str = "auto",
) -> bool:
    """Decide whether ``members`` runs should train as one batched model.

    Parameters
    ----------
    members
        Number of runs that could share a batch.
    batching
        ``"auto"`` (decide from the cost model), ``"batch"`` (always, when there are at
        least two members) or ``"sequential"`` (never).
    flops_per_member_step
        Arithmetic of one member's training step, for the cost model.
    device
        Where the runs train.

    Raises
    ------
    SpecError
        If ``batching`` is not one of the three choices.
    """
    if batching not in ("auto", "batch", "sequential"):
        raise SpecError(f"batching must be 'auto', 'batch' or 'sequential', got {batching!r}")
    if members < 2 or batching == "sequential":
        return False
    if batching == "batch":
        return True
    return prefers_batching(flops_per_member_step, device)


def cuda_available() -> bool:
    """Whether a CUDA device is present (for tasks deciding their default at import)."""
    return bool(torch.cuda.is_available())
