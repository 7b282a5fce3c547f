"""TensorBoard hparams: an integral number reads as an int, as it does from --pattern."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("tensorboard")
from torch.utils.tensorboard import SummaryWriter

from landaulab.store.ingest import read_tensorboard


def test_seed_is_an_int_from_hparams_and_from_the_pattern(tmp_path: Path) -> None:
    writer = SummaryWriter(str(tmp_path / "logs" / "hp"))
    writer.add_scalar("loss", 1.0, 0)
    writer.add_hparams({"seed": 3, "lr": 0.5, "width": 64.0}, {"hparam/x": 0.0})
    writer.close()
    writer = SummaryWriter(str(tmp_path / "logs" / "seed=4"))
    writer.add_scalar("loss", 1.0, 0)
    writer.close()
    runs = {r.name: r for r in read_tensorboard(tmp_path / "logs")}
    hp = runs["hp"].params
    assert hp["seed"] == 3 and type(hp["seed"]) is int
    assert hp["lr"] == 0.5 and type(hp["lr"]) is float
    assert type(hp["width"]) is int
    (named,) = read_tensorboard(tmp_path / "logs" / "seed=4", pattern=r"seed=(?P<seed>\d+)")
    assert type(named.params["seed"]) is int
