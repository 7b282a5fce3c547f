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

Each task states its default as ``prefers_batching`` (the tasks whose full-batch step
sits above the CPU limit use :func:`cuda_available`); the sweep groups members into
batches by it (:func:`landaulab.execute.sweep.group_units`), and the user can force
either choice (``batching="batch"`` or ``"sequential"``).
"""

from __future__ import annotations

from typing import Literal

import torch

Batching = Literal["auto", "batch", "sequential"]


def cuda_available() -> bool:
    """Whether a CUDA device is present (for tasks deciding their default at import)."""
    return bool(torch.cuda.is_available())
