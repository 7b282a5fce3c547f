"""Grokking on modular addition as a function of the training fraction (Power et al.
2022, arXiv:2201.02177; Liu et al. 2022, arXiv:2205.10343; Gromov 2023, arXiv:2301.02679).

A two-layer MLP on a + b mod 31 memorises its training pairs within a few hundred steps
at every training fraction; it generalises only above a critical fraction, and the
closer to it, the longer after memorisation ("grokking"). `landaulab demo` runs the
full phase diagram over weight decay × training fraction and writes a report.

What you should see: every run memorised by a few hundred steps; the smallest fractions
never generalising within the budget (memorisation phase); above them, a generalisation
step that grows as the fraction falls towards the boundary.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import landaulab as ll
from landaulab.spec import parse_spec
from landaulab.study.phases import classify_phases

SPEC = """
task = "modular_arithmetic"
seeds = [0, 1]
[settings]
p = 31
width = 64
embedding_dim = 32
lr = 0.003
weight_decay = 1.0
steps = 3000
[controls]
train_fraction = [0.3, 0.4, 0.5, 0.6, 0.7]
[record]
every = 25
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store"
        ll.sweep(parse_spec(SPEC), store=store, progress=False)
        frame = ll.Store(store).frame()
        phases = classify_phases(frame).merge(
            frame.groupby("run_id")[["train_fraction", "seed"]].first().reset_index()
        )
        columns = ["train_fraction", "seed", "memorisation_step", "generalisation_step", "phase"]
        print(phases[columns].sort_values(["train_fraction", "seed"]).to_string(index=False))


if __name__ == "__main__":
    main()
