"""What a model is trained on: model outputs, per-example losses and correctness.

Observables that need a loss (gradient norm, Hessian, Fisher, the local learning
coefficient, SGD noise) take an :class:`Objective`. It splits a batch into inputs and
targets, runs the model, and turns outputs into *per-example* losses, so that the
same object serves the mean loss (Hessian), per-example gradients (empirical Fisher,
SGD noise) and the loss-on-outputs split (Gauss–Newton, NTK, true Fisher).

A batch is a tensor, a tuple/list ``(inputs, targets, ...)`` or a dict with keys such
as ``"inputs"``/``"x"`` and ``"targets"``/``"y"``; tensors share the leading
(example) dimension.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from landaulab.record.observables.base import ObservableError
from landaulab.record.observables.base import batch_to as batch_to
from landaulab.record.observables.base import tree_map as tree_map

Batch = Any
LossFn = Callable[[nn.Module, Batch], Tensor]

_INPUT_KEYS = ("inputs", "input", "x", "features")
_TARGET_KEYS = ("targets", "target", "y", "labels", "label")


def default_inputs(batch: Batch) -> Any:
    """The inputs of a batch: ``batch[0]`` of a tuple, ``batch["inputs"]``/``["x"]``, or itself."""
    if isinstance(batch, tuple | list):
        if not batch:
            raise ObservableError("the batch is an empty sequence; pass (inputs, targets)")
        return batch[0]
    if isinstance(batch, Mapping):
        for key in _INPUT_KEYS:
            if key in batch:
                return batch[key]
        raise ObservableError(
            f"the batch dict has no inputs key (one of {_INPUT_KEYS}); "
            "rename the key or pass Objective(inputs=...)"
        )
    return batch


def default_targets(batch: Batch) -> Any:
    """The targets: ``batch[1]`` of a tuple, ``batch["targets"]``/``["y"]``, else None."""
    if isinstance(batch, tuple | list):
        return batch[1] if len(batch) > 1 else None
    if isinstance(batch, Mapping):
        for key in _TARGET_KEYS:
            if key in batch:
                return batch[key]
    return None


def call_model(model: nn.Module, inputs: Any) -> Tensor:
    """Run ``model(inputs)``."""
    return model(inputs)


def _cross_entropy(outputs: Tensor, targets: Tensor) -> Tensor:
    """Per-example softmax cross-entropy, accurate when the target's probability ``p_y → 1``.

    With class indices the loss is ``softplus(log Σ_{c≠y} exp(z_c) − z_y)``, which is
    ``log(1 + Σ_{c≠y} exp(z_c − z_y))``: the log-sum-exp is taken relative to the
    target logit, as Blanchard, Higham & Higham (2021), "Accurately computing the
    log-sum-exp and softmax functions" (IMA J. Numer. Anal. 41(4):2311–2330,
    arXiv:1909.03469) do relative to the largest. Its gradient is then
    ``p_c`` for ``c ≠ y`` and ``−σ(·) = −Σ_{c≠y} p_c`` for the target, never
    ``p_y − 1``; on a memorised model ``1 − p_y`` is the size of the loss and the
    difference loses ``ε/(1 − p_y)`` relative accuracy in float32 (at a loss of 1e-4
    the gradient keeps about three digits). Second derivatives keep the same form, so
    float32 Hessian products keep the matmuls' accuracy. Written with plain
    differentiable ops, so ``vmap``, ``grad`` and double backward apply unchanged;
    ``F.cross_entropy`` is also avoided because under ``vmap`` (per-example gradients,
    SGLD chains) its fused kernel goes through a slow decomposition.
    """
    if targets.dtype.is_floating_point:  # class probabilities
        log_probabilities = torch.log_softmax(outputs, dim=-1)
        return -(targets * log_probabilities).sum(dim=-1)
    index = targets.unsqueeze(-1)
    target_logit = outputs.gather(-1, index).squeeze(-1)
    # The most negative finite number (not -inf) drops the target from the sum and
    # keeps the gradient finite when no other class is finite (one class, masks).
    others = outputs.scatter(-1, index, torch.finfo(outputs.dtype).min)
    excess = torch.logsumexp(others, dim=-1) - target_logit  # log Σ_{c≠y} exp(z_c − z_y)
    # softplus's linear branch above the threshold is exact to float64 from 40 on
    return torch.nn.functional.softplus(excess, threshold=40.0)


def _argmax_correct(outputs: Tensor, targets: Tensor) -> Tensor:
    predicted = outputs.argmax(dim=-1)
    if targets.dtype.is_floating_point and targets.shape == outputs.shape:
        targets = targets.argmax(dim=-1)
    return predicted == targets


def _mean_squared_error(outputs: Tensor, targets: Tensor) -> Tensor:
    diff = (outputs - targets).reshape(outputs.shape[0], -1)
    return diff.pow(2).mean(dim=1)


@dataclass(frozen=True)
class _GaussianLoss:
    sigma: float

    def __call__(self, outputs: Tensor, targets: Tensor) -> Tensor:
        diff = (outputs - targets).reshape(outputs.shape[0], -1)
        return 0.5 * diff.pow(2).sum(dim=1) / self.sigma**2


@dataclass(frozen=True)
class _FromLossFn:
    function: LossFn

    def __call__(self, model: nn.Module, batch: Batch) -> Tensor:
        return self.function(model, batch)


@dataclass(frozen=True)
class Objective:
    """Model outputs and per-example losses of a batch.

    Parameters
    ----------
    loss
        ``loss(outputs, targets) -> Tensor`` of shape ``(n,)``: one loss per example
        (no reduction). The training loss is its mean.
    forward
        ``forward(model, inputs) -> outputs``; default ``model(inputs)``.
    inputs, targets
        Extract inputs and targets from a batch (defaults: :func:`default_inputs`,
        :func:`default_targets`).
    correct
        Optional ``correct(outputs, targets) -> bool Tensor (n,)`` for accuracies.
    loss_fn
        Alternative to ``loss``: ``loss_fn(model, batch)`` returning per-example losses
        ``(n,)`` or a scalar. Such an objective has no outputs/loss split, so the
        Gauss–Newton matrix, the true Fisher and the NTK are unavailable; a scalar
        ``loss_fn`` also rules out per-example quantities.
    name
        Label used in messages.

    Examples
    --------
    >>> objective = Objective.cross_entropy()
    >>> objective = Objective.gaussian(sigma=1.0)  # negative log-likelihood, for the LLC
    >>> objective = Objective(loss_fn=lambda model, batch: my_loss(model, batch))
    """

    loss: Callable[[Tensor, Any], Tensor] | None = None
    forward: Callable[[nn.Module, Any], Tensor] = call_model
    inputs: Callable[[Batch], Any] = default_inputs
    targets: Callable[[Batch], Any] = default_targets
    correct: Callable[[Tensor, Any], Tensor] | None = None
    loss_fn: LossFn | None = None
    name: str = "objective"

    def __post_init__(self) -> None:
        if (self.loss is None) == (self.loss_fn is None):
            raise ObservableError(
                "give exactly one of loss=(outputs, targets) -> losses or loss_fn=(model, batch)"
            )

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def cross_entropy(cls, **kwargs: Any) -> Objective:
        """Softmax cross-entropy on class-index targets, with argmax accuracy.

        With class indices the loss and all its derivatives avoid forming ``1 − p_y``
        (``log(1 + Σ_{c≠y} exp(z_c − z_y))``), so float32 gradients and Hessian
        products of a memorised model keep full precision; class-probability targets
        use ``log_softmax``.
        """
        kwargs.setdefault("correct", _argmax_correct)
        kwargs.setdefault("name", "cross_entropy")
        return cls(loss=_cross_entropy, **kwargs)

    @classmethod
    def mean_squared_error(cls, **kwargs: Any) -> Objective:
        """Squared error averaged over output dimensions (``F.mse_loss`` per example).

        Accuracy is argmax agreement when targets are one-hot vectors.
        """
        kwargs.setdefault("correct", _argmax_correct)
        kwargs.setdefault("name", "mean_squared_error")
        return cls(loss=_mean_squared_error, **kwargs)

    @classmethod
    def gaussian(cls, sigma: float = 1.0, **kwargs: Any) -> Objective:
        """Gaussian negative log-likelihood ``½‖f(x) − y‖²/σ²`` (constant dropped).

        This is the loss whose learning coefficient the singular-learning-theory
        results refer to (regular models: d/2).
        """
        if not sigma > 0:
            raise ObservableError(f"sigma must be positive, got {sigma}")
        kwargs.setdefault("name", "gaussian")
        return cls(loss=_GaussianLoss(float(sigma)), **kwargs)

    @classmethod
    def from_loss_fn(cls, loss_fn: LossFn, name: str = "loss_fn") -> Objective:
        """Wrap ``loss_fn(model, batch)`` (per-example ``(n,)`` or scalar loss)."""
        if not callable(loss_fn):
            raise ObservableError("loss_fn must be callable as loss_fn(model, batch)")
        return cls(loss_fn=_FromLossFn(loss_fn), name=name)

    # -- evaluation ---------------------------------------------------------------------
    @property
    def has_outputs(self) -> bool:
        """Whether the objective separates model outputs from the loss on them."""
        return self.loss is not None

    def outputs(self, model: nn.Module, batch: Batch) -> Tensor:
        """Model outputs on the batch's inputs."""
        if not self.has_outputs:
            raise ObservableError(
                f"objective {self.name!r} was built from a loss_fn and has no model outputs; "
                "build it as Objective(loss=..., forward=...) for Gauss-Newton, Fisher or NTK"
            )
        return self.forward(model, self.inputs(batch))

    def loss_from_outputs(self, outputs: Tensor, batch: Batch) -> Tensor:
        """Per-example losses ``(n,)`` given outputs already computed."""
        assert self.loss is not None
        return _as_per_example(self.loss(outputs, self.targets(batch)), self.name)

    def per_example_loss(self, model: nn.Module, batch: Batch) -> Tensor:
        """Per-example losses ``(n,)``."""
        if self.loss_fn is not None:
            value = self.loss_fn(model, batch)
            if value.ndim == 0:
                raise ObservableError(
                    f"objective {self.name!r} returns a scalar loss; per-example quantities "
                    "(Fisher, SGD noise) need loss_fn to return one loss per example"
                )
            return _as_per_example(value, self.name)
        return self.loss_from_outputs(self.outputs(model, batch), batch)

    def mean_loss(self, model: nn.Module, batch: Batch) -> Tensor:
        """The scalar training loss: mean of the per-example losses."""
        if self.loss_fn is not None:
            value = self.loss_fn(model, batch)
            return value if value.ndim == 0 else value.mean()
        return self.per_example_loss(model, batch).mean()

    def accuracy(self, model: nn.Module, batch: Batch) -> Tensor | None:
        """Fraction of examples classified correctly, or None without ``correct``."""
        if self.correct is None or not self.has_outputs:
            return None
        outputs = self.outputs(model, batch)
        return self.correct(outputs, self.targets(batch)).float().mean()


def _as_per_example(value: Tensor, name: str) -> Tensor:
    if value.ndim == 0:
        raise ObservableError(
            f"objective {name!r}: the loss must not reduce over examples; "
            "use reduction='none' so it returns shape (n,)"
        )
    if value.ndim > 1:
        value = value.reshape(value.shape[0], -1).sum(dim=1)
    return value


def as_objective(objective: Objective | LossFn) -> Objective:
    """Accept an :class:`Objective` or a plain ``loss_fn(model, batch)``."""
    if isinstance(objective, Objective):
        return objective
    if callable(objective):
        return Objective.from_loss_fn(objective)
    raise ObservableError(
        f"expected an Objective or a loss_fn(model, batch), got {type(objective).__name__}"
    )


def batch_size(batch: Batch) -> int:
    """Number of examples: the leading dimension shared by the batch's tensors."""
    sizes = {int(t.shape[0]) for t in tree_leaves(batch) if isinstance(t, Tensor) and t.ndim > 0}
    if not sizes:
        raise ObservableError("the batch holds no tensor with an example dimension")
    if len(sizes) > 1:
        raise ObservableError(
            f"the batch's tensors disagree on the number of examples: {sorted(sizes)}"
        )
    return sizes.pop()


def tree_leaves(tree: Any) -> list[Any]:
    """Leaves of a nested tuple/list/dict."""
    if isinstance(tree, tuple | list):
        return [leaf for item in tree for leaf in tree_leaves(item)]
    if isinstance(tree, Mapping):
        return [leaf for item in tree.values() for leaf in tree_leaves(item)]
    return [tree]


def select_examples(batch: Batch, index: Tensor | slice) -> Batch:
    """The sub-batch of examples ``index`` (tensors with an example dimension only)."""
    return tree_map(lambda t: t[index] if isinstance(t, Tensor) and t.ndim > 0 else t, batch)
