"""A PyTorch Lightning callback that records a ``Trainer.fit`` run into a landaulab store.

::

    from landaulab.record.callbacks import LightningCallback

    trainer = lightning.pytorch.Trainer(callbacks=[LightningCallback("runs")])
    trainer.fit(model, datamodule)

Hyperparameters come from ``pl_module.hparams`` (``save_hyperparameters``), the
datamodule's ``hparams``, the trainer's settings (``trainer.max_epochs``, ...), the first
optimizer (its class, ``lr``, ``weight_decay``, ``momentum``, ``betas`` when the module's
hparams do not name them) and the seed set by ``seed_everything``; ``params=`` overrides
them. The run id is their hash, so the same configuration is the same run.

Metrics are what ``self.log`` puts in ``trainer.callback_metrics``: step-level values at
each ``on_train_batch_end``, epoch-level ones (validation, ``on_epoch=True``) at the end
of the epoch or validation, all keyed by ``trainer.global_step`` (optimizer steps taken).
Only values logged since the hook's start are taken, so a stale validation loss is not
repeated at every step. When a metric is logged with both ``on_step`` and ``on_epoch``,
its ``_step`` and ``_epoch`` columns are kept and the bare alias dropped. Observables run
on the training batch when due. Only the global-zero process records.

The run is published as ``done`` (or ``diverged``) when fitting ends, as ``failed`` when
it raises, and is left incomplete (resumable) on Ctrl-C.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from landaulab.record.callbacks._session import RecorderSession
from landaulab.record.recorder import Resume
from landaulab.serialize import to_json
from landaulab.store.ingest.common import MissingExtraError, flatten_params

try:
    import lightning.pytorch as pl
except ImportError:
    try:
        import pytorch_lightning as pl  # type: ignore[no-redef]
    except ImportError as exc:
        raise MissingExtraError(
            f"the Lightning callback needs PyTorch Lightning ({exc}); "
            "install it with: pip install 'landaulab[lightning]'"
        ) from None

_OPTIMIZER_KEYS = ("lr", "weight_decay", "momentum", "betas", "eps", "dampening", "nesterov")
_TRAINER_KEYS = (
    "max_epochs",
    "max_steps",
    "accumulate_grad_batches",
    "gradient_clip_val",
    "gradient_clip_algorithm",
    "precision",
)


def lightning_hyperparameters(trainer: Any, pl_module: Any) -> dict[str, Any]:
    """The parameters of a Lightning run, flat and JSON-safe.

    Module ``hparams`` first, then the datamodule's (without overriding), the trainer's
    settings under ``trainer.``, the first optimizer's settings, the global seed and the
    number of trainable parameters (``num_parameters``).
    """
    params: dict[str, Any] = {}
    hparams = getattr(pl_module, "hparams", None)
    if hparams:
        params.update(flatten_params(dict(hparams)))
    datamodule = getattr(trainer, "datamodule", None)
    if datamodule is not None and getattr(datamodule, "hparams", None):
        for key, value in flatten_params(dict(datamodule.hparams)).items():
            params.setdefault(key, value)
    for key in _TRAINER_KEYS:
        if hasattr(trainer, key):
            params[f"trainer.{key}"] = to_json(getattr(trainer, key), nonfinite="string")
    optimizers = getattr(trainer, "optimizers", None) or []
    if optimizers:
        optimizer = optimizers[0]
        params.setdefault("optimizer", type(optimizer).__name__)
        group = optimizer.param_groups[0] if optimizer.param_groups else {}
        for key in _OPTIMIZER_KEYS:
            if key not in group:
                continue
            value = group.get("initial_lr", group[key]) if key == "lr" else group[key]
            name = key if key not in params else f"optimizer.{key}"
            params.setdefault(name, to_json(value, nonfinite="string"))
    seed = os.environ.get("PL_GLOBAL_SEED")
    if seed is not None and "seed" not in params:
        params["seed"] = int(seed) if seed.lstrip("-").isdigit() else seed
    params.setdefault(
        "num_parameters", int(sum(p.numel() for p in pl_module.parameters() if p.requires_grad))
    )
    return params


class LightningCallback(pl.Callback):
    """Record a Lightning training run (metrics, observables, hyperparameters).

    Parameters
    ----------
    store
        A :class:`~landaulab.store.Store` or its path (created if missing).
    params
        Parameters that override those read from the module, datamodule and trainer.
    observables
        Observables measured on the training batch when due
        (:mod:`landaulab.record.observables`).
    metrics
        Names of logged metrics to record (default: all scalars in
        ``trainer.callback_metrics``).
    task
        Label stored with the run.
    resume
        ``"restart"`` or ``"append"`` to an incomplete run with the same parameters.
    overwrite
        Record again a run already complete in the store.
    flush_every
        Journal buffered rows every this many steps.
    """

    def __init__(
        self,
        store: Any,
        *,
        params: Mapping[str, Any] | None = None,
        observables: Iterable[Any] = (),
        metrics: Iterable[str] | None = None,
        task: str = "lightning",
        resume: Resume = "restart",
        overwrite: bool = False,
        flush_every: int = 200,
    ) -> None:
        super().__init__()
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
        self._before: dict[str, Any] = {}

    @property
    def run_id(self) -> str | None:
        """The id of the run being (or last) recorded."""
        recorder = self.session.recorder
        if recorder is not None:
            return recorder.run_id
        return getattr(self, "_last_run_id", None)

    # ------------------------------------------------------------------ helpers
    def _snapshot(self, trainer: Any) -> None:
        self._before = dict(trainer.callback_metrics)

    def _fresh(self, trainer: Any) -> dict[str, Any]:
        """Metrics logged since the last snapshot (a new value object), aliases dropped."""
        current = dict(trainer.callback_metrics)
        fresh = {k: v for k, v in current.items() if self._before.get(k) is not v}
        for name in list(fresh):
            if f"{name}_step" in current or f"{name}_epoch" in current:
                del fresh[name]
        return fresh

    # -------------------------------------------------------------------- hooks
    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        """Open the run with the module's, datamodule's and trainer's parameters."""
        if not trainer.is_global_zero:
            return
        max_steps = getattr(trainer, "max_steps", -1)
        total = max_steps if isinstance(max_steps, int) and max_steps > 0 else None
        recorder = self.session.start(
            lightning_hyperparameters(trainer, pl_module), total_steps=total
        )
        self._last_run_id = recorder.run_id
        if recorder.skipped:
            trainer.should_stop = True  # complete in the store already

    def on_train_batch_start(self, trainer: Any, *args: Any, **kwargs: Any) -> None:
        """Remember which metric values exist before the step."""
        if self.session.active:
            self._snapshot(trainer)

    def on_train_batch_end(
        self, trainer: Any, pl_module: Any, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        """Log the step's metrics and measure the observables due."""
        if not self.session.active:
            return
        step = int(trainer.global_step)
        self.session.log(step, self._fresh(trainer))
        self.session.observe(step, pl_module, batch)

    def on_train_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        """Remember metric values before the epoch."""
        if self.session.active:
            self._snapshot(trainer)

    def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        """Log epoch-level training metrics."""
        if self.session.active:
            self.session.log(int(trainer.global_step), self._fresh(trainer))

    def on_validation_start(self, trainer: Any, pl_module: Any) -> None:
        """Remember metric values before validation."""
        if self.session.active and not trainer.sanity_checking:
            self._snapshot(trainer)

    def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
        """Log validation metrics (not those of the sanity check)."""
        if self.session.active and not trainer.sanity_checking:
            self.session.log(int(trainer.global_step), self._fresh(trainer))

    def on_fit_end(self, trainer: Any, pl_module: Any) -> None:
        """Publish the run (done, or diverged if a value became non-finite)."""
        self.session.finish(None)

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        """Publish the run as failed, or leave it incomplete on Ctrl-C."""
        self.session.finish(exception)
