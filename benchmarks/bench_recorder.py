"""Overhead of ``Recorder.log`` + ``Recorder.observe`` when no observable is due.

Compared with one full-batch training step of the grokking MLP (p = 97, embedding 64,
width 128, AdamW; Gromov 2023, arXiv:2301.02679), the goal is below 2 %. Both are timed
interleaved, step after step, so that they see the same machine load: the median step
and the mean recorder call, journal flushes (every ``flush_every`` logged steps) included.

Run: ``python benchmarks/bench_recorder.py [--steps N] [--calls K]``; the ratio is
printed last, and the script exits with status 1 (and one line) when it misses the goal.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from _goals import Goals
from landaulab.record.observables import HessianTopEigenvalues, ParameterNorm
from landaulab.record.recorder import Recorder
from landaulab.record.schedule import Schedule
from landaulab.tasks.modular_arithmetic import (
    ModularArithmeticParameters,
    build,
    loss_function,
    make_optimizer,
)

GOAL_RATIO = 0.02
"""The recorder's overhead per call with nothing due, as a fraction of a training step."""


def measure(steps: int, calls: int, store: Path) -> tuple[float, float]:
    """Median seconds of a training step; mean seconds of one log + observe, nothing due."""
    params = ModularArithmeticParameters(p=97, embedding_dim=64, width=128)
    model, data = build(params, seed=0)
    optimizer = make_optimizer(params, model)
    inputs, labels = data.train_inputs, data.train_labels

    def objective(net: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return loss_function(params.loss, net(batch[0]), batch[1])

    never = Schedule(total_steps=10**9, every=10**9)
    observables = [
        ParameterNorm(schedule=never),
        HessianTopEigenvalues(objective, schedule=never),
    ]
    step_times: list[float] = []
    record_times: list[float] = []
    with Recorder(store, params={"benchmark": "recorder"}, observables=observables) as rec:
        for step in range(1, steps + 1):
            start = time.perf_counter()
            loss = objective(model, (inputs, labels))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            value = float(loss.detach())
            step_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            for k in range(calls):
                index = step * calls + k
                rec.log(index, train_loss=value, weight_norm=value)
                rec.observe(index, model, (inputs, labels))
            record_times.append(time.perf_counter() - start)
    # journal flushes happen every few hundred calls: average over all calls, flushes included
    return float(np.median(step_times)), float(np.sum(record_times)) / (steps * calls)


def main() -> None:
    """Print the step time, the recorder time and their ratio (last)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="training steps timed")
    parser.add_argument("--calls", type=int, default=200, help="log+observe calls per step")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as folder:
        step, record = measure(args.steps, args.calls, Path(folder) / "store")
    print(f"grokking MLP training step (median): {step * 1e3:.3f} ms")
    print(f"rec.log + rec.observe, nothing due (mean): {record * 1e6:.2f} us")
    print(f"overhead ratio: {record / step:.6f}")
    goals = Goals()
    goals.at_most("recorder overhead / training step", record / step, GOAL_RATIO)
    goals.finish()


if __name__ == "__main__":
    main()
