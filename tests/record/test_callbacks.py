"""Lightning and Hugging Face callbacks, on tiny models trained by the real frameworks."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from landaulab.record.observables import ParameterNorm
from landaulab.record.schedule import Schedule
from landaulab.store import Store

OFFLINE = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "WANDB_DISABLED": "true",
    "WANDB_MODE": "disabled",
    "DISABLE_MLFLOW_INTEGRATION": "TRUE",
    "TOKENIZERS_PARALLELISM": "false",
}


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))


def _regression_data(n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(n, 2, generator=generator)
    return x, x.sum(1, keepdim=True)


# ------------------------------------------------------------------------ Lightning
def _lightning_module(fail_at: int | None = None):
    pl = pytest.importorskip("lightning.pytorch")

    class Regression(pl.LightningModule):
        def __init__(self, lr: float = 0.1, weight_decay: float = 0.01, width: int = 4) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(2, width), torch.nn.Tanh(), torch.nn.Linear(width, 1)
            )

        def training_step(self, batch, batch_idx):
            if fail_at is not None and self.global_step == fail_at:
                raise RuntimeError("loss exploded")
            x, y = batch
            loss = ((self.net(x) - y) ** 2).mean()
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            self.log("always_one", 1.0, on_step=True, on_epoch=False)
            return loss

        def validation_step(self, batch, batch_idx):
            x, y = batch
            self.log("val_loss", ((self.net(x) - y) ** 2).mean())

        def configure_optimizers(self):
            return torch.optim.SGD(
                self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay
            )

    return pl, Regression


def _fit(pl, module, callback, tmp_path: Path, loggers=False) -> None:
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(*_regression_data()), batch_size=8)
    trainer = pl.Trainer(
        max_epochs=2,
        accelerator="cpu",
        devices=1,
        logger=loggers,
        log_every_n_steps=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[callback],
        default_root_dir=str(tmp_path),
    )
    trainer.fit(module, loader, loader)


def test_lightning_callback_records_metrics_params_and_observables(tmp_path: Path) -> None:
    pl, Regression = _lightning_module()
    from lightning.pytorch.loggers import TensorBoardLogger

    from landaulab.record.callbacks import LightningCallback

    pl.seed_everything(3, verbose=False)
    norm = ParameterNorm(per_layer=False, schedule=Schedule(total_steps=8, every=4))
    callback = LightningCallback(tmp_path / "store", observables=[norm], params={"tag": "x"})
    tensorboard = TensorBoardLogger(str(tmp_path / "tb"), name="regression")
    module = Regression(lr=0.05, weight_decay=0.001)
    _fit(pl, module, callback, tmp_path, loggers=[tensorboard])

    store = Store(tmp_path / "store")
    record = store.get(callback.run_id)
    assert record is not None and record.status == "done" and record.task == "lightning"
    params = record.params
    assert (params["lr"], params["weight_decay"], params["width"]) == (0.05, 0.001, 4)
    assert params["trainer.max_epochs"] == 2 and params["optimizer"] == "SGD"
    assert params["seed"] == 3 and params["tag"] == "x" and params["num_parameters"] == 17
    table = store.trajectory(callback.run_id).set_index("step")
    # step-level values at every optimizer step, epoch-level ones at the end of each epoch
    assert table["train_loss_step"].dropna().index.tolist() == list(range(1, 9))
    assert table["always_one"].dropna().index.tolist() == list(range(1, 9))
    assert table["val_loss"].dropna().index.tolist() == [4, 8]  # the sanity check is left out
    assert table["train_loss_epoch"].dropna().index.tolist() == [4, 8]
    assert "train_loss" not in table.columns  # the alias of _step/_epoch
    assert table["param_norm"].dropna().index.tolist() == [4, 8]
    final = torch.sqrt(sum(p.detach().double().pow(2).sum() for p in module.parameters()))
    assert table["param_norm"].loc[8] == pytest.approx(float(final), rel=1e-12)
    # The same numbers reached TensorBoard through Lightning's own logger.
    from landaulab.store.ingest import read_tensorboard

    (logged,) = read_tensorboard(tmp_path / "tb")
    assert logged.params["lr"] == 0.05  # Lightning's hparams.yaml / HParams plugin
    ours = table["train_loss_step"].dropna().to_numpy(dtype=np.float32)
    theirs = logged.trajectory.set_index("step")["train_loss_step"].dropna().to_numpy()
    np.testing.assert_array_equal(ours, theirs.astype(np.float32))
    val = logged.trajectory.set_index("step")["val_loss"].dropna()
    np.testing.assert_array_equal(
        table["val_loss"].dropna().to_numpy(dtype=np.float32), val.to_numpy(dtype=np.float32)
    )


def test_lightning_failure_is_published_as_failed(tmp_path: Path) -> None:
    pl, Regression = _lightning_module(fail_at=5)
    from landaulab.record.callbacks import LightningCallback

    callback = LightningCallback(tmp_path / "store")
    with pytest.raises(RuntimeError, match="loss exploded"):
        _fit(pl, Regression(), callback, tmp_path)
    record = Store(tmp_path / "store").get(callback.run_id)
    assert record.status == "failed" and "loss exploded" in record.reason
    steps = Store(tmp_path / "store").trajectory(callback.run_id)["step"]
    assert steps.max() == 5


# ---------------------------------------------------------------------- Hugging Face
def _tiny_bert(seed: int = 0):
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    config = transformers.BertConfig(
        vocab_size=16,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=1,
        intermediate_size=8,
        max_position_embeddings=8,
        num_labels=2,
    )
    torch.manual_seed(seed)
    return transformers, transformers.BertForSequenceClassification(config)


class Tokens(torch.utils.data.Dataset):
    """Random token sequences labelled by their first token (learnable)."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        generator = torch.Generator().manual_seed(n)
        self.x = torch.randint(0, 16, (n, 6), generator=generator)
        self.y = (self.x[:, 0] > 7).long()
        self.fail_at = fail_at

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        if self.fail_at is not None and i == self.fail_at:
            raise ValueError("corrupt example")
        return {"input_ids": self.x[i], "labels": self.y[i]}


def _arguments(transformers, tmp_path: Path, **changes):
    settings = {
        "output_dir": str(tmp_path / "out"),
        "max_steps": 6,
        "per_device_train_batch_size": 8,
        "learning_rate": 1e-3,
        "weight_decay": 0.1,
        "logging_steps": 1,
        "eval_strategy": "steps",
        "eval_steps": 3,
        "report_to": "none",
        "save_strategy": "no",
        "use_cpu": True,
        "disable_tqdm": True,
        "seed": 1,
        "dataloader_num_workers": 0,
    }
    settings.update(changes)
    return transformers.TrainingArguments(**settings)


def test_huggingface_callback_records_logs_params_and_observables(tmp_path: Path) -> None:
    transformers, model = _tiny_bert()
    from landaulab.record.callbacks import HuggingFaceCallback

    norm = ParameterNorm(per_layer=False, schedule=Schedule(total_steps=6, every=3))
    callback = HuggingFaceCallback(tmp_path / "store", observables=[norm])
    trainer = transformers.Trainer(
        model=model,
        args=_arguments(transformers, tmp_path),
        train_dataset=Tokens(32),
        eval_dataset=Tokens(16),
        callbacks=[callback],
    )
    trainer.train()

    store = Store(tmp_path / "store")
    record = store.get(callback.run_id)
    assert record is not None and record.status == "done" and record.task == "huggingface"
    params = record.params
    assert (params["learning_rate"], params["weight_decay"], params["seed"]) == (1e-3, 0.1, 1)
    assert params["model.hidden_size"] == 8 and params["model.model_type"] == "bert"
    assert params["num_parameters"] == sum(p.numel() for p in model.parameters())
    assert params["max_steps"] == 6 and isinstance(params["lr_scheduler_type"], str)
    table = store.trajectory(callback.run_id).set_index("step")
    history = [h for h in trainer.state.log_history if "loss" in h and "eval_loss" not in h]
    assert (
        table["loss"].dropna().index.tolist() == [h["step"] for h in history] == list(range(1, 7))
    )
    np.testing.assert_array_equal(table["loss"].dropna().to_numpy(), [h["loss"] for h in history])
    assert table["eval_loss"].dropna().index.tolist() == [3, 6]
    assert table["param_norm"].dropna().index.tolist() == [3, 6]
    final = torch.sqrt(sum(p.detach().double().pow(2).sum() for p in model.parameters()))
    assert table["param_norm"].loc[6] == pytest.approx(float(final), rel=1e-12)


def test_huggingface_failure_inside_the_context_is_published_as_failed(tmp_path: Path) -> None:
    transformers, model = _tiny_bert()
    from landaulab.record.callbacks import HuggingFaceCallback

    callback = HuggingFaceCallback(tmp_path / "store")
    trainer = transformers.Trainer(
        model=model,
        args=_arguments(transformers, tmp_path, eval_strategy="no", per_device_train_batch_size=4),
        train_dataset=Tokens(
            32, fail_at=int(torch.randperm(32, generator=torch.Generator().manual_seed(1))[9])
        ),
        callbacks=[callback],
    )
    with pytest.raises(ValueError, match="corrupt example"), callback:
        trainer.train()
    record = Store(tmp_path / "store").get(callback.run_id)
    assert record.status == "failed" and "corrupt example" in record.reason


# ------------------------------------------------------------------- missing extras
@pytest.mark.parametrize(
    ("module", "blocked", "extra"),
    [
        ("landaulab.record.callbacks.lightning", ("lightning", "pytorch_lightning"), "lightning"),
        ("landaulab.record.callbacks.huggingface", ("transformers",), "huggingface"),
    ],
)
def test_missing_framework_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, blocked: tuple[str, ...], extra: str
) -> None:
    from landaulab.store.ingest.common import MissingExtraError

    for name in list(sys.modules):
        if name == module or any(name == b or name.startswith(b + ".") for b in blocked):
            monkeypatch.delitem(sys.modules, name)
    for name in blocked:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name` fail
    with pytest.raises(MissingExtraError, match=rf"pip install 'landaulab\[{extra}\]'"):
        importlib.import_module(module)
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
