"""SGD noise temperature: learning rate × trace of the gradient covariance / batch size.

A minibatch gradient of size B is the full gradient plus noise of covariance Σ/B,
with Σ the covariance of per-example gradients. Viewed as a Langevin process, SGD
with learning rate η samples at an effective temperature proportional to
``η tr(Σ) / B`` (Mandt, Hoffman & Blei 2017, arXiv:1704.04289; Jastrzębski et al.
2017, arXiv:1711.04623, whose control parameter is η/B). The per-example gradients
are formed in chunks, so memory stays ``chunk_size × dim``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from landaulab.record.observables.base import (
    Cost,
    LearningRate,
    ObservableBase,
    ObservableError,
    learning_rate_at,
    model_device,
)
from landaulab.record.observables.functional import ParameterSpace, per_example_gradients
from landaulab.record.observables.objective import (
    Batch,
    LossFn,
    Objective,
    as_objective,
    batch_size,
    batch_to,
    select_examples,
)


@dataclass(frozen=True)
class GradientNoise:
    """Per-example gradient statistics of a batch.

    Attributes
    ----------
    covariance_trace
        ``tr Σ`` with the unbiased (n − 1) normalisation.
    mean_gradient_norm
        ``‖ḡ‖``, the norm of the batch-mean gradient.
    mean_squared_norm
        ``(1/n) Σ ‖gᵢ‖²`` (the trace of the empirical Fisher).
    num_examples
        ``n``.
    """

    covariance_trace: float
    mean_gradient_norm: float
    mean_squared_norm: float
    num_examples: int

    def to_dict(self) -> dict[str, float | int]:
        """JSON-safe form."""
        return {
            "covariance_trace": self.covariance_trace,
            "mean_gradient_norm": self.mean_gradient_norm,
            "mean_squared_norm": self.mean_squared_norm,
            "num_examples": self.num_examples,
        }

    def __str__(self) -> str:
        return (
            f"gradient noise over {self.num_examples} examples: tr Σ = "
            f"{self.covariance_trace:.4g}, ‖mean gradient‖ = {self.mean_gradient_norm:.4g}"
        )


def gradient_noise(
    model: nn.Module,
    objective: Objective | LossFn,
    batch: Batch,
    *,
    chunk_size: int = 64,
    parameters: Sequence[str] | None = None,
    dtype: torch.dtype | None = None,
) -> GradientNoise:
    """Trace of the per-example gradient covariance on ``batch`` (at least 2 examples)."""
    objective = as_objective(objective)
    n = batch_size(batch)
    if n < 2:
        raise ObservableError("the gradient covariance needs a batch of at least 2 examples")
    if chunk_size < 1:
        raise ObservableError(f"chunk_size must be >= 1, got {chunk_size}")
    space = ParameterSpace(model, parameters)
    total = torch.zeros(space.dim, dtype=torch.float64, device=space.device)
    squared = 0.0
    for start in range(0, n, chunk_size):
        chunk = select_examples(batch, slice(start, min(n, start + chunk_size)))
        grads = per_example_gradients(space, objective, chunk, dtype=dtype).to(torch.float64)
        total += grads.sum(dim=0)
        squared += float(grads.pow(2).sum())
    mean = total / n
    mean_sq = float(mean.pow(2).sum())
    trace = (squared - n * mean_sq) / (n - 1)
    return GradientNoise(
        covariance_trace=max(trace, 0.0),
        mean_gradient_norm=mean_sq**0.5,
        mean_squared_norm=squared / n,
        num_examples=n,
    )


class SGDNoiseTemperature(ObservableBase):
    """``η · tr(Σ) / B``, with Σ the per-example gradient covariance on the batch.

    Columns ``<name>`` (default ``sgd_noise_temperature``) and
    ``<name>_covariance_trace``.

    Parameters
    ----------
    objective
        The loss (per-example losses needed).
    learning_rate
        A float, a ``step -> lr`` function, or the optimizer.
    batch_size
        The training batch size B. Default: the size of the batch passed to
        ``measure`` (required when a fixed probe ``data`` batch is used).
    chunk_size
        Examples per vectorised chunk of per-example gradients.
    """

    cost: ClassVar[Cost] = "expensive"
    default_name = "sgd_noise_temperature"

    def __init__(
        self,
        objective: Objective | LossFn,
        learning_rate: LearningRate,
        *,
        batch_size: int | None = None,
        chunk_size: int = 64,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.objective = as_objective(objective)
        self.learning_rate = learning_rate
        if batch_size is not None and batch_size < 1:
            raise ObservableError(f"batch_size must be >= 1, got {batch_size}")
        if batch_size is None and self.data is not None:
            raise ObservableError(
                "with a fixed probe batch (data=...), give the training batch_size as well"
            )
        self.batch_size = batch_size
        self.chunk_size = int(chunk_size)

    def measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        data = self.data if self.data is not None else batch
        if data is None:
            raise ObservableError(f"{self.name}: no batch to measure on")
        size = self.batch_size if self.batch_size is not None else batch_size(batch)
        noise = gradient_noise(
            model,
            self.objective,
            batch_to(data, model_device(model)),
            chunk_size=self.chunk_size,
        )
        lr, _ = learning_rate_at(self.learning_rate, int(step))
        return {
            self.name: lr * noise.covariance_trace / size,
            self.key("covariance_trace"): noise.covariance_trace,
        }

    def _measure(self, model: nn.Module, batch: Any, step: int) -> dict[str, float]:
        raise NotImplementedError  # measure() is overridden
