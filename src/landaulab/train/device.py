"""Choosing the torch device: GPU when present unless told otherwise."""

from __future__ import annotations

import torch

from landaulab.errors import LandaulabError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Return a ``torch.device``; ``"auto"`` picks CUDA when available, else CPU."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def check_device(device: str) -> str:
    """``device`` if runs can train on it here; checked before any run starts.

    Accepts ``auto``, ``cpu``, ``cuda``, ``cuda:N`` and ``mps``.

    Raises
    ------
    LandaulabError
        The name is not a device, or the device is not available on this machine (a
        CUDA device without CUDA, an index past the last GPU, MPS off Apple silicon).
    """
    if device in ("auto", "cpu"):
        return device
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise LandaulabError(
            f"--device {device!r} is not a device; choose auto, cpu, cuda, cuda:N or mps"
        ) from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise LandaulabError(
                f"--device {device}: CUDA is not available here (torch {torch.__version__}); "
                "use --device auto or cpu"
            )
        count = torch.cuda.device_count()
        if parsed.index is not None and parsed.index >= count:
            raise LandaulabError(
                f"--device {device}: this machine has {count} CUDA device(s), "
                f"cuda:0 to cuda:{count - 1}"
            )
        return device
    if parsed.type == "mps":
        backend = getattr(torch.backends, "mps", None)
        if backend is None or not backend.is_available():
            raise LandaulabError(f"--device {device}: MPS is not available here; use auto or cpu")
        return device
    if parsed.type == "cpu":
        return device
    raise LandaulabError(f"--device {device!r}: choose auto, cpu, cuda, cuda:N or mps")
