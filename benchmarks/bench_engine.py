"""Throughput of the batched ensemble engine against a sequential loop over members.

1. Tiny solvable tasks (deep linear network, uv model, soft committee machine): S members
   trained as one batched model vs the same members one after another (each through the
   task's single-run entry point), in member-steps per second. Goal: ≥ 20× at S = 256.
2. The grokking MLP (p = 97, embedding 64, width 128, full-batch AdamW; Gromov 2023,
   arXiv:2301.02679): batched vs sequential members and the sweep's automatic choice
   (the task's ``prefers_batching``, which ``group_units`` follows under
   ``batching="auto"``), which must never be slower than the sequential loop; the training
   step's achieved GFLOP/s as a fraction of the fp32 matrix product peak measured in the
   same run; and 2 worker processes vs 1 on independent
   sequential runs (goal ≥ 1.8× on two free cores). On a GPU the same script measures
   batched vs sequential grokking members (goal ≥ 20× at 64 members).

Every rate is measured against its baseline in the same run. Run:
``python benchmarks/bench_engine.py [--members 256] [--grok-members N] [--quick]``; the
last line prints the smallest tiny-task speed-up at the tasks' default sizes. A missed
goal (the 20× at the default sizes with S = 256, the automatic choice never slower than
the sequential loop, 1.8× from two workers on a machine with two cores or more, 20× for
64 grokking members on a GPU) ends the script with status 1 and one line naming it;
``--quick`` runs are not judged.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import multiprocessing
import os
import time

import torch

from _goals import Goals
from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks.modular_arithmetic import ModularArithmeticParameters, build
from landaulab.train.device import resolve_device

# (label, task, settings, steps); the first three are the tasks' default sizes, the last
# two show how the speed-up grows as the per-member work per step shrinks
TINY = [
    ("deep_linear", "deep_linear", {"depth": 2, "width": 4}, 300),
    ("uv_model n=2000", "uv_model", {"width": 2000, "lr": 0.9}, 200),
    ("committee N=500", "committee", {"input_dim": 500}, 1024),
    ("uv_model n=200", "uv_model", {"width": 200, "lr": 0.9}, 200),
    ("committee N=100", "committee", {"input_dim": 100}, 1024),
]
DEFAULT_SIZES = 3
TINY_GOAL = 20.0  # batched / sequential member-steps per second at S = 256
GPU_GROKKING_GOAL = 20.0  # batched / sequential grokking members, 64 on a GPU
WORKERS_GOAL = 1.8  # 2 worker processes / 1, on two free cores


def _contexts(task: str, settings: dict, steps: int, members: int, device: str) -> list:
    info = get_task(task)
    params = info.resolve({**settings, info.steps_key: steps})
    return [
        RunContext({**params, "seed": s}, Schedule(steps, every=steps), device=device)
        for s in range(members)
    ]


def _timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def tiny_task(
    task: str, settings: dict, steps: int, members: int, sample: int, device: str, rounds: int
) -> tuple[float, float]:
    """Member-steps per second: sequential (``sample`` members) and batched (``members``).

    The two are timed alternately ``rounds`` times and the fastest of each kept, so that
    both see the same machine load and interference from other processes drops out.
    """
    info = get_task(task)
    warm = _contexts(task, settings, 2, 2, device)  # one-time set-up costs
    info.function(warm[0])
    info.batched(warm)
    sequential = batched = math.inf
    for _ in range(rounds):
        ctxs = _contexts(task, settings, steps, sample, device)
        sequential = min(sequential, _timed(lambda ctxs=ctxs: [info.function(c) for c in ctxs]))
        ctxs = _contexts(task, settings, steps, members, device)
        batched = min(batched, _timed(lambda ctxs=ctxs: info.batched(ctxs)))
    return sample * steps / sequential, members * steps / batched


def matmul_peak(device: torch.device) -> float:
    """fp32 matrix-product GFLOP/s on ``device`` (best of a few square products)."""
    size = 4096 if device.type == "cuda" else 1024
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    best = math.inf
    for _ in range(4):
        _sync(device)
        start = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def grokking_flops_per_step() -> float:
    """Matrix-product flops of one full-batch training step of the grokking MLP.

    Forward: n·(2e·w + w·p) multiply-adds; backward: twice that (gradients with respect to
    activations and weights), the embedding gradient being a scatter.
    """
    params = ModularArithmeticParameters(p=97, embedding_dim=64, width=128)
    n_train = round(params.train_fraction * params.p**2)
    forward = n_train * (2 * params.embedding_dim * params.width + params.width * params.p)
    return 3 * 2 * forward


def _grok_contexts(members: int, steps: int, device: str) -> list:
    """Contexts timing training itself: losses and accuracies at the first and last step,
    without the costlier curvature observables."""
    info = get_task("modular_arithmetic")
    params = info.resolve({"p": 97, "steps": steps, "stop_accuracy": None})
    cheap = ("train_loss", "test_loss", "train_accuracy", "test_accuracy", "weight_norm")
    return [
        RunContext({**params, "seed": s}, Schedule(steps, every=steps), cheap, device=device)
        for s in range(members)
    ]


def grokking(members: int, steps: int, device: str, rounds: int) -> dict[str, float]:
    """Sequential vs batched grokking members (fastest of alternating rounds), GFLOP/s."""
    info = get_task("modular_arithmetic")
    dev = resolve_device(device)
    warm = _grok_contexts(2, 1, device)  # one-time set-up costs (lazy imports, allocators)
    info.function(warm[0])
    info.batched(warm)

    def sequential_run() -> None:
        for ctx in _grok_contexts(members, steps, device):
            info.function(ctx)
        _sync(dev)

    def batched_run() -> None:
        info.batched(_grok_contexts(members, steps, device))
        _sync(dev)

    sequential = batched = math.inf
    for _ in range(rounds):
        sequential = min(sequential, _timed(sequential_run))
        batched = min(batched, _timed(batched_run))
    flops = grokking_flops_per_step()
    auto = members > 1 and info.prefers_batching
    return {
        "sequential_s": sequential,
        "batched_s": batched,
        "auto_batches": float(auto),
        "auto_s": batched if auto else sequential,
        "gflops": members * steps * flops / sequential / 1e9,
    }


def _one_grokking_run(args: tuple[int, int]) -> float:
    seed, steps = args
    torch.set_num_threads(1)
    params = ModularArithmeticParameters(p=97, embedding_dim=64, width=128)
    model, data = build(params, seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0)
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(data.train_inputs), data.train_labels)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def workers_speedup(runs: int, steps: int, rounds: int) -> float:
    """Throughput of 2 worker processes over 1 on ``runs`` independent CPU runs."""
    context = multiprocessing.get_context("spawn")
    jobs = [(seed, steps) for seed in range(runs)]
    timings = {1: math.inf, 2: math.inf}
    with (
        concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as one,
        concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as two,
    ):
        for pool, workers in ((one, 1), (two, 2)):
            list(pool.map(_one_grokking_run, [(0, 2)] * workers))  # start the workers
        for _ in range(rounds):
            for pool, workers in ((one, 1), (two, 2)):
                elapsed = _timed(lambda pool=pool: list(pool.map(_one_grokking_run, jobs)))
                timings[workers] = min(timings[workers], elapsed)
    return timings[1] / timings[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=256, help="tiny-task ensemble size")
    parser.add_argument("--sample", type=int, default=8, help="members timed sequentially")
    parser.add_argument("--grok-members", type=int, default=None, help="grokking members")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--rounds", type=int, default=3, help="alternating timing rounds")
    parser.add_argument("--quick", action="store_true", help="fewer steps (a smoke run)")
    args = parser.parse_args()
    torch.set_num_threads(1 if resolve_device(args.device).type == "cpu" else os.cpu_count() or 1)
    device = resolve_device(args.device)
    print(f"device: {device}; torch {torch.__version__}; threads {torch.get_num_threads()}")

    ratios = []
    for label, task, settings, steps in TINY:
        sequential, batched = tiny_task(
            task, settings, steps, args.members, args.sample, args.device, args.rounds
        )
        ratios.append(batched / sequential)
        print(
            f"{label:16s} sequential {sequential:11,.0f} member-steps/s   "
            f"batched x{args.members} {batched:11,.0f}   speed-up {ratios[-1]:6.1f}x"
        )

    grok_members = args.grok_members or (64 if device.type == "cuda" else 4)
    grok_steps = 10 if args.quick else 30
    result = grokking(grok_members, grok_steps, args.device, args.rounds)
    peak = matmul_peak(device)
    print(
        f"grokking MLP x{grok_members}: sequential {result['sequential_s']:.2f} s, "
        f"batched {result['batched_s']:.2f} s "
        f"(batched/sequential speed {result['sequential_s'] / result['batched_s']:.2f}x); "
        f"auto chooses {'batch' if result['auto_batches'] else 'sequential'}: "
        f"{result['sequential_s'] / result['auto_s']:.2f}x the sequential loop"
    )
    print(
        f"grokking step: {result['gflops']:.1f} GFLOP/s = "
        f"{100 * result['gflops'] / peak:.0f}% of the fp32 matmul peak ({peak:.1f} GFLOP/s)"
    )
    goals = Goals(judged=not args.quick)
    goals.at_least(
        "grokking: automatic choice / sequential loop",
        result["sequential_s"] / result["auto_s"],
        1.0,
        "x",
    )
    if device.type == "cuda" and grok_members == 64:
        goals.at_least(
            "grokking x64 on a GPU: batched / sequential",
            result["sequential_s"] / result["batched_s"],
            GPU_GROKKING_GOAL,
            "x",
        )
    if device.type == "cpu":
        speedup = workers_speedup(runs=4, steps=grok_steps, rounds=args.rounds)
        print(f"2 worker processes vs 1: {speedup:.2f}x throughput")
        if (os.cpu_count() or 1) >= 2:
            goals.at_least("2 worker processes / 1", speedup, WORKERS_GOAL, "x")
    smallest = min(ratios[:DEFAULT_SIZES])
    if args.members == 256:
        goals.at_least(
            "smallest tiny-task speed-up at the default sizes (S = 256)", smallest, TINY_GOAL, "x"
        )
    print(f"ratio {smallest:.2f}")
    goals.finish()


if __name__ == "__main__":
    main()
