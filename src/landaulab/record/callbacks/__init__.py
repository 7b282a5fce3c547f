"""Framework callbacks that record training into a store through a Recorder.

- :class:`LightningCallback` (``landaulab[lightning]``) for PyTorch Lightning,
- :class:`HuggingFaceCallback` (``landaulab[huggingface]``) for ``transformers.Trainer``.

Each framework is imported only when its callback is first used; a missing one raises
:class:`~landaulab.store.ingest.common.MissingExtraError` naming the extra to install.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "LightningCallback": "landaulab.record.callbacks.lightning",
    "lightning_hyperparameters": "landaulab.record.callbacks.lightning",
    "HuggingFaceCallback": "landaulab.record.callbacks.huggingface",
    "huggingface_hyperparameters": "landaulab.record.callbacks.huggingface",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = sorted(_EXPORTS)
