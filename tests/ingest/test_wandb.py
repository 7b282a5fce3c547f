"""W&B import, on offline run folders written by the real ``wandb`` client."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from landaulab.store import Store
from landaulab.store.ingest import read_wandb
from tests.ingest.conftest import run_cli, store_snapshot

WEIGHT_DECAYS = (0.1, 1.0)


def loss_of(wd: float, step: int) -> float:
    return wd + 1.0 / (step + 1)


@pytest.fixture(scope="module")
def wandb_dir(tmp_path_factory: pytest.TempPathFactory, offline_home: Path) -> Path:
    """Two finished runs of a sweep (one diverges) and one run logged by epoch."""
    wandb = pytest.importorskip("wandb")
    root = tmp_path_factory.mktemp("wandb-logs")
    for seed, wd in enumerate(WEIGHT_DECAYS):
        run = wandb.init(
            project="landau",
            dir=str(root),
            mode="offline",
            name=f"wd-{wd}",
            config={"weight_decay": wd, "seed": seed, "optimizer": {"name": "adam", "beta2": 0.98}},
        )
        for step in range(0, 20, 2):
            value = math.nan if (wd == 1.0 and step == 14) else loss_of(wd, step)
            run.log({"train/loss": value, "lr": 0.01, "media": wandb.Html("<b>x</b>")}, step=step)
        run.summary["best"] = 0.5
        run.finish()
    run = wandb.init(project="landau", dir=str(root), mode="offline", name="by-epoch")
    for epoch in range(3):
        run.log({"epoch": epoch * 10, "val_loss": 1.0 / (epoch + 1)})
    run.finish()
    return root / "wandb"


def test_offline_runs_round_trip_with_config(wandb_dir: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "store"
    status, out, err = run_cli(
        ["ingest", "wandb", str(wandb_dir), "--store", str(store), "--params", "width=64"],
        capsys,
    )
    assert (status, err) == (0, ""), err
    assert "imported 3" in out
    table = Store(store).run_table()
    assert sorted(table["status"]) == ["diverged", "done", "done"]
    frame = Store(store).frame(statuses=("done", "diverged"))
    sweep = frame[frame["weight_decay"].notna()]
    assert sorted(sweep["weight_decay"].unique()) == list(WEIGHT_DECAYS)
    assert set(sweep["optimizer.name"]) == {"adam"} and set(sweep["optimizer.beta2"]) == {0.98}
    assert set(frame["width"]) == {64}
    assert "media" not in frame.columns and "_runtime" not in frame.columns
    finite = sweep[np.isfinite(sweep["train/loss"])]
    expected = [loss_of(w, s) for w, s in zip(finite["weight_decay"], finite["step"], strict=True)]
    np.testing.assert_array_equal(finite["train/loss"].to_numpy(), np.asarray(expected))
    assert sorted(sweep["step"].unique()) == list(range(0, 20, 2))
    diverged = next(r for r in Store(store).records() if r.status == "diverged")
    assert diverged.diverged == {"step": 14, "observable": "train/loss"}
    assert diverged.params["weight_decay"] == 1.0


def test_step_key_can_be_another_logged_value(wandb_dir: Path) -> None:
    (run_folder,) = [
        p.parent for p in wandb_dir.rglob("*.wandb") if "by-epoch" in str(read_wandb(p)[0].name)
    ]
    (run,) = read_wandb(run_folder, step_key="epoch")
    assert run.trajectory["step"].tolist() == [0, 10, 20]
    np.testing.assert_array_equal(run.trajectory["val_loss"], [1.0, 0.5, 1.0 / 3.0])
    (default,) = read_wandb(run_folder)
    assert default.trajectory["step"].tolist() == [0, 1, 2]


@pytest.mark.parametrize("cut", [1, 5, 200])
def test_cut_off_run_log_is_imported_as_failed(wandb_dir: Path, tmp_path: Path, cut: int) -> None:
    import shutil

    copy = tmp_path / "wandb"
    shutil.copytree(wandb_dir, copy, symlinks=True)
    victim = sorted(copy.rglob("*.wandb"))[0]
    (complete,) = read_wandb(victim)
    victim.write_bytes(victim.read_bytes()[:-cut])
    (cut_run,) = read_wandb(victim)
    assert complete.status in ("done", "diverged")
    assert cut_run.status == "failed" and "no exit record" in (cut_run.reason or "")
    assert "ends inside a record" in (cut_run.reason or "")
    kept = cut_run.trajectory
    pd.testing.assert_frame_equal(kept, complete.trajectory.iloc[: len(kept)][kept.columns])


def test_corrupt_run_log_is_refused_whole(wandb_dir: Path, tmp_path: Path, capsys) -> None:
    import shutil

    copy = tmp_path / "wandb"
    shutil.copytree(wandb_dir, copy, symlinks=True)
    victim = sorted(copy.rglob("*.wandb"))[-1]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    store = tmp_path / "store"
    status, out, err = run_cli(["ingest", "wandb", str(copy), "--store", str(store)], capsys)
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert victim.name in err and "corrupt" in err
    assert store_snapshot(store) == {}
    victim.write_bytes(b"not a log")
    status, _, err = run_cli(["ingest", "wandb", str(copy), "--store", str(store)], capsys)
    assert status == 2 and "not a W&B run log" in err


def test_chart_csv_export(tmp_path: Path) -> None:
    """The layout of a chart's 'Export CSV' (Step, '<run> - <metric>', __MIN/__MAX)."""
    steps = np.arange(0, 50, 10)
    export = pd.DataFrame({"Step": steps})
    for run, wd in (("wd-0.1", 0.1), ("wd-1.0", 1.0)):
        values = wd + 1.0 / (steps + 1)
        export[f"{run} - train/loss"] = values
        export[f"{run} - train/loss__MIN"] = values
        export[f"{run} - train/loss__MAX"] = values
    export.loc[2, "wd-1.0 - train/loss"] = np.nan  # not logged at that step
    path = tmp_path / "export.csv"
    export.to_csv(path, index=False)
    runs = read_wandb(path, pattern=r"wd-(?P<weight_decay>[\d.]+)")
    assert [r.name for r in runs] == ["wd-0.1", "wd-1.0"]
    assert [r.params["weight_decay"] for r in runs] == [0.1, 1.0]
    assert runs[0].metrics == ["train/loss"]
    assert runs[1].trajectory["step"].tolist() == [0, 10, 30, 40]
    np.testing.assert_array_equal(runs[0].trajectory["train/loss"], 0.1 + 1.0 / (steps + 1))


def test_folder_without_run_logs(tmp_path: Path, capsys) -> None:
    (tmp_path / "wandb").mkdir()
    status, _, err = run_cli(
        ["ingest", "wandb", str(tmp_path / "wandb"), "--store", str(tmp_path / "s")], capsys
    )
    assert status == 2 and "no W&B run logs" in err


@pytest.mark.slow
def test_run_killed_before_finish_is_imported_as_failed(tmp_path: Path, offline_home: Path) -> None:
    pytest.importorskip("wandb")
    script = (
        "import os, wandb\n"
        f"run = wandb.init(project='landau', dir={str(tmp_path)!r}, mode='offline')\n"
        "for step in range(3000):\n"
        "    run.log({'loss': 1.0 / (step + 1)}, step=step)\n"
        "import time; time.sleep(1)\n"
        "os._exit(1)\n"
    )
    subprocess.run([sys.executable, "-c", script], env=dict(os.environ), timeout=120, check=False)
    (run,) = read_wandb(tmp_path / "wandb")
    assert run.status == "failed" and "exit record" in (run.reason or "")
    steps = run.trajectory["step"].to_numpy()
    assert steps.size > 100 and (steps == np.arange(steps.size)).all()
    np.testing.assert_array_equal(run.trajectory["loss"], 1.0 / (steps + 1))
