"""Deep linear networks with weight decay: a second-order and a first-order transition.

Ziyin & Ueda 2022 (arXiv:2205.12510). With whitened inputs and a = E[xy] = 1, the
end-to-end map b of a network with D hidden layers minimises
L(b) = b² − 2ab + (D+1)·γ·|b|^(2/(D+1)).

- D = 1: b* = max(a − γ, 0), a second-order transition at γ = a with β = 1.
- D = 2: first order at γ* = (a⁴/16)^(1/3) ≈ 0.397, where b jumps by a/2; a sweep up in
  γ, warm-starting each value from the last, holds the ordered branch up to the
  spinodal ≈ 0.472, and a sweep down from b = 0 never recovers it (hysteresis).

What you should see: the D = 1 ensemble following max(1 − γ, 0) and the analysis calling
it second order near γ = 1; the D = 2 up-sweep dropping to b = 0 near 0.47 and the
down-sweep staying at 0.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import landaulab as ll
from landaulab.spec import parse_spec
from landaulab.tasks.deep_linear import critical_weight_decay, spinodal_weight_decay

SECOND_ORDER = """
task = "deep_linear"
seeds = 4
[settings]
depth = 1
steps = 4000
lr = 0.05
[controls]
weight_decay = { start = 0.5, stop = 1.5, num = 11 }
[record]
every = 100
"""

HYSTERESIS = """
task = "deep_linear_sweep"
seeds = [0]
[settings]
depth = 2
weight_decay_min = 0.3
weight_decay_max = 0.6
sweep_steps = 30
steps = 31000
[controls]
direction = ["up", "down"]
[record]
every = 1000
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store"
        ll.sweep(parse_spec(SECOND_ORDER), store=store, progress=False)
        frame = ll.Store(store).frame()
        final = frame.sort_values("step").groupby("run_id").last()
        by_gamma = final.groupby("weight_decay")["end_to_end"].mean()
        print("D = 1: weight decay, measured b, exact max(1 - γ, 0)")
        for gamma, b in by_gamma.items():
            print(f"  {gamma:5.2f}  {b:8.4f}  {max(1 - gamma, 0):8.4f}")
        result = ll.analyze(
            frame, order_parameter="end_to_end", control="weight_decay", n_bootstrap=200
        )
        print(result)

        hysteresis = Path(folder) / "hysteresis"
        ll.sweep(parse_spec(HYSTERESIS), store=hysteresis, progress=False)
        sweeps = ll.Store(hysteresis).frame()
        print(
            f"D = 2: first order at {critical_weight_decay(1.0, 2):.4f}, "
            f"spinodal {spinodal_weight_decay(1.0, 2):.4f}"
        )
        for direction, run in sweeps.groupby("direction"):
            gamma = run["weight_decay"].to_numpy()
            ordered = gamma[run["end_to_end"].to_numpy() > 0.1]
            edge = f"ordered up to γ = {ordered.max():.3f}" if ordered.size else "never ordered"
            print(f"  sweep {direction}: {edge} (each value relaxed for 1000 steps)")


if __name__ == "__main__":
    main()
