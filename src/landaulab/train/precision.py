"""Numerical precision of the forward pass: fp32 by default, optional bf16 autocast.

bf16 autocast runs matrix products in bfloat16 while the parameters and the optimizer
stay in fp32 (mixed precision). It pays on hardware with bf16 matrix units (GPU tensor
cores, CPUs with AMX); on a CPU without them bf16 matrix products are emulated and far
slower than fp32, so it is off by default.

Reference
---------
Kalamkar et al. 2019, "A study of BFLOAT16 for deep learning training", arXiv:1905.12322.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

import torch

from landaulab.errors import TaskError

Precision = Literal["fp32", "bf16"]


@contextlib.contextmanager
def autocast(device: torch.device | str, precision: Precision = "fp32") -> Iterator[None]:
    """Run the enclosed forward pass in the requested precision.

    Parameters
    ----------
    device
        The device the computation runs on (its type picks the autocast backend).
    precision
        ``"fp32"`` (no autocast) or ``"bf16"`` (autocast to bfloat16).

    Raises
    ------
    TaskError
        If ``precision`` is not one of ``"fp32"``, ``"bf16"``.
    """
    if precision not in ("fp32", "bf16"):
        raise TaskError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
    if precision == "fp32":
        yield
        return
    device_type = torch.device(device).type
    with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
        yield


def has_fast_bf16(device: torch.device | str) -> bool:
    """Whether bf16 matrix products are natively fast on ``device`` (GPU with bf16 support,
    or a CPU with AMX-BF16 / AVX512-BF16 instructions)."""
    device = torch.device(device)
    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            flags = handle.read()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags
