"""TensorBoard import, on event files written by PyTorch's real ``SummaryWriter``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorboard")
from torch.utils.tensorboard import SummaryWriter

from landaulab.store import Store
from landaulab.store.ingest import read_tensorboard
from tests.ingest.conftest import run_cli, store_snapshot

WEIGHT_DECAYS = (0.01, 0.1, 1.0)
STEPS = range(0, 40, 4)


def loss_of(wd: float, step: int) -> float:
    return wd + math.exp(-step / 10)


def write_sweep(root: Path) -> None:
    """One run folder per weight decay, with scalars, add_scalars and add_hparams."""
    for seed, wd in enumerate(WEIGHT_DECAYS):
        writer = SummaryWriter(str(root / f"wd={wd}_seed={seed}"))
        for step in STEPS:
            writer.add_scalar("train/loss", loss_of(wd, step), step)
            writer.add_scalars("accuracy", {"train": step / 40, "test": step / 80}, step)
        writer.add_hparams({"weight_decay": wd, "optimizer": "adamw"}, {"hparam/final": 0.5})
        writer.close()


def test_summary_writer_logs_round_trip_with_hparams(tmp_path: Path, capsys) -> None:
    write_sweep(tmp_path / "logs")
    store = tmp_path / "store"
    status, out, err = run_cli(
        [
            "ingest",
            "tensorboard",
            str(tmp_path / "logs"),
            "--store",
            str(store),
            "--pattern",
            r"seed=(?P<seed>\d+)",
            "--params",
            "lr=0.001",
        ],
        capsys,
    )
    assert (status, err) == (0, ""), err
    assert "imported 3" in out
    frame = Store(store).frame()
    assert sorted(frame["weight_decay"].unique()) == list(WEIGHT_DECAYS)
    assert set(frame["optimizer"]) == {"adamw"} and set(frame["lr"]) == {0.001}
    assert sorted(frame["seed"].unique()) == [0, 1, 2]
    # add_scalars folders become columns of their run; the add_hparams folder is folded in
    assert {"train/loss", "accuracy_train", "accuracy_test"} <= set(frame.columns)
    assert "hparam/final" not in frame.columns
    assert (frame.groupby("run_id").size() == len(STEPS)).all()
    expected = [
        np.float32(loss_of(w, s)) for w, s in zip(frame["weight_decay"], frame["step"], strict=True)
    ]
    np.testing.assert_array_equal(frame["train/loss"].to_numpy(), np.asarray(expected, float))
    np.testing.assert_array_equal(frame["accuracy_test"], (frame["step"] / 80).astype(np.float32))


def test_reading_twice_is_idempotent_and_nan_marks_diverged(tmp_path: Path) -> None:
    writer = SummaryWriter(str(tmp_path / "logs" / "blowup"))
    for step in range(5):
        writer.add_scalar("loss", float("nan") if step == 3 else 1.0 / (step + 1), step)
    writer.close()
    (run,) = read_tensorboard(tmp_path / "logs")
    assert run.name == "blowup"
    assert run.status == "diverged" and run.diverged == {"step": 3, "observable": "loss"}
    from landaulab.store.ingest import ingest_tensorboard

    first = ingest_tensorboard(tmp_path / "logs", tmp_path / "store")
    second = ingest_tensorboard(tmp_path / "logs", tmp_path / "store")
    assert len(first.added) == 1 and second.skipped == first.added
    assert Store(tmp_path / "store").get(first.added[0]).status == "diverged"


def test_a_resumed_run_keeps_the_last_value_per_step(tmp_path: Path) -> None:
    folder = tmp_path / "logs" / "run"
    first = SummaryWriter(str(folder), filename_suffix=".a")
    for step in range(6):
        first.add_scalar("loss", 10.0 + step, step)
    first.close()
    second = SummaryWriter(str(folder), filename_suffix=".b")  # resumed from step 3
    for step in range(3, 8):
        second.add_scalar("loss", float(step), step)
    second.close()
    (run,) = read_tensorboard(tmp_path / "logs")
    assert run.trajectory["step"].tolist() == list(range(8))
    assert run.trajectory["loss"].tolist() == [10.0, 11.0, 12.0, 3.0, 4.0, 5.0, 6.0, 7.0]


@pytest.mark.parametrize("cut", [1, 7, 20])
def test_truncated_event_file_is_refused_whole(tmp_path: Path, capsys, cut: int) -> None:
    write_sweep(tmp_path / "logs")
    store = tmp_path / "store"
    status, _, _ = run_cli(
        ["ingest", "tensorboard", str(tmp_path / "logs" / "wd=0.01_seed=0"), "--store", str(store)],
        capsys,
    )
    assert status == 0
    before = store_snapshot(store)
    victim = max(
        (tmp_path / "logs" / "wd=1.0_seed=2").glob("events.out.tfevents.*"),
        key=lambda p: p.stat().st_size,
    )
    data = victim.read_bytes()
    victim.write_bytes(data[:-cut])
    status, out, err = run_cli(
        ["ingest", "tensorboard", str(tmp_path / "logs"), "--store", str(store)], capsys
    )
    assert status == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert victim.name in err and "truncated or corrupt" in err
    assert store_snapshot(store) == before


def test_corrupt_record_and_empty_folders(tmp_path: Path, capsys) -> None:
    write_sweep(tmp_path / "logs")
    victim = max(
        (tmp_path / "logs" / "wd=0.1_seed=1").glob("events.out.tfevents.*"),
        key=lambda p: p.stat().st_size,
    )
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    status, _, err = run_cli(
        ["ingest", "tensorboard", str(tmp_path / "logs"), "--store", str(tmp_path / "s")], capsys
    )
    assert status == 2 and victim.name in err and "corrupt" in err
    (tmp_path / "empty").mkdir()
    status, _, err = run_cli(
        ["ingest", "tensorboard", str(tmp_path / "empty"), "--store", str(tmp_path / "s")], capsys
    )
    assert status == 2 and "no TensorBoard event files" in err
    status, _, err = run_cli(
        ["ingest", "tensorboard", str(tmp_path / "missing"), "--store", str(tmp_path / "s")],
        capsys,
    )
    assert status == 2 and "no such file or directory" in err
    assert not (tmp_path / "s").exists()
