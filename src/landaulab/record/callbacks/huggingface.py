"""A Hugging Face ``transformers.TrainerCallback`` that records a run into a landaulab store.

::

    from landaulab.record.callbacks import HuggingFaceCallback

    callback = HuggingFaceCallback("runs")
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[callback])
    with callback:          # optional: marks the run failed if train() raises
        trainer.train()

Hyperparameters come from the ``TrainingArguments`` that define the optimisation
(``learning_rate``, ``weight_decay``, the Adam settings, batch size, schedule, ``seed``,
...) and from the model's configuration (the values that differ from the defaults,
under ``model.``), plus the number of trainable parameters; ``params=`` overrides them.

Metrics are what the Trainer logs (``on_log``: ``loss``, ``grad_norm``,
``learning_rate``, ``eval_*``, ...) at ``state.global_step``. Observables run at the end
of each optimizer step when due; the Trainer does not hand the batch to callbacks, so
give them a fixed probe batch (``data=``). Only the main process records.

The run is published when training ends (``done`` or ``diverged``). The Trainer has no
hook for a failed ``train()``: use the callback as a context manager around it to
publish such a run as ``failed``; otherwise it stays incomplete in the store and can be
resumed (``resume="append"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from landaulab.record.callbacks._session import RecorderSession
from landaulab.record.recorder import Resume
from landaulab.serialize import to_json
from landaulab.store.ingest.common import MissingExtraError

try:
    from transformers import TrainerCallback
except ImportError as exc:
    raise MissingExtraError(
        f"the Hugging Face callback needs transformers ({exc}); "
        "install it with: pip install 'landaulab[huggingface]'"
    ) from None

#: The TrainingArguments fields that define the optimisation (kept when present).
TRAINING_ARGUMENTS = (
    "learning_rate",
    "weight_decay",
    "adam_beta1",
    "adam_beta2",
    "adam_epsilon",
    "max_grad_norm",
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "lr_scheduler_type",
    "warmup_ratio",
    "warmup_steps",
    "optim",
    "seed",
    "label_smoothing_factor",
)
_MODEL_SKIP = {"transformers_version", "architectures", "_name_or_path", "torch_dtype", "dtype"}


def huggingface_hyperparameters(args: Any, model: Any = None) -> dict[str, Any]:
    """The parameters of a Trainer run, flat and JSON-safe.

    The optimisation fields of ``args`` (see :data:`TRAINING_ARGUMENTS`), the model
    configuration's non-default scalar values under ``model.``, and ``num_parameters``.
    """
    params: dict[str, Any] = {}
    for key in TRAINING_ARGUMENTS:
        if hasattr(args, key):
            params[key] = to_json(getattr(args, key), nonfinite="string")
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_diff_dict"):
        for key, value in sorted(config.to_diff_dict().items()):
            if key in _MODEL_SKIP or isinstance(value, dict | list | tuple):
                continue
            params[f"model.{key}"] = to_json(value, nonfinite="string")
    if model is not None and hasattr(model, "parameters"):
        params["num_parameters"] = int(
            sum(p.numel() for p in model.parameters() if p.requires_grad)
        )
    return params


class HuggingFaceCallback(TrainerCallback):
    """Record a ``transformers.Trainer`` run (logged metrics, observables, hyperparameters).

    Parameters
    ----------
    store
        A :class:`~landaulab.store.Store` or its path (created if missing).
    params
        Parameters that override those read from the arguments and model config.
    observables
        Observables measured after each optimizer step when due; give them ``data=``.
    metrics
        Names of logged values to record (default: every number in the logs).
    task
        Label stored with the run.
    resume
        ``"restart"`` or ``"append"`` to an incomplete run with the same parameters.
    overwrite
        Record again a run already complete in the store.
    flush_every
        Journal buffered rows every this many logged steps.
    """

    def __init__(
        self,
        store: Any,
        *,
        params: Mapping[str, Any] | None = None,
        observables: Iterable[Any] = (),
        metrics: Iterable[str] | None = None,
        task: str = "huggingface",
        resume: Resume = "restart",
        overwrite: bool = False,
        flush_every: int = 200,
    ) -> None:
        self.session = RecorderSession(
            store,
            params=params,
            observables=observables,
            task=task,
            resume=resume,
            overwrite=overwrite,
            flush_every=flush_every,
            metrics=metrics,
        )
        self._last_run_id: str | None = None

    @property
    def run_id(self) -> str | None:
        """The id of the run being (or last) recorded."""
        return self._last_run_id

    def __enter__(self) -> HuggingFaceCallback:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self.session.finish(exc)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Open the run with the arguments' and model's parameters."""
        if not state.is_world_process_zero:
            return
        total = state.max_steps if getattr(state, "max_steps", 0) > 0 else None
        recorder = self.session.start(
            huggingface_hyperparameters(args, kwargs.get("model")), total_steps=total
        )
        self._last_run_id = recorder.run_id
        if recorder.skipped:
            control.should_training_stop = True  # complete in the store already

    def on_log(
        self, args: Any, state: Any, control: Any, logs: Mapping[str, Any] | None = None, **kw: Any
    ) -> None:
        """Record the logged numbers at the current optimizer step."""
        if logs:
            self.session.log(int(state.global_step), logs)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Measure the observables due at this optimizer step."""
        model = kwargs.get("model")
        if model is not None:
            self.session.observe(int(state.global_step), model, None)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Publish the run (done, or diverged if a value became non-finite)."""
        self.session.finish(None)
