"""The catapult phase of the uv model at large learning rate (Lewkowycz et al. 2020,
arXiv:2003.02218).

f = vᵀu·x/√n on one example, NTK λ = (‖u‖² + ‖v‖²)/n, learning rate η in units of
2/λ₀ (`lr = 1` is ηλ₀ = 2). Lazy for ηλ₀ < 2; catapult for 2 < ηλ₀ < 4: the loss spikes,
λ falls below 2/η, then training converges; divergent above 4.

What you should see (n = 2000): ηλ₀ = 1.8 stays lazy (no spike, ηλ unchanged);
ηλ₀ = 2.1 spikes to a loss of about 5 and ends at ηλ ≈ 1.89; ηλ₀ = 3 spikes to a few
hundred and ends at ηλ ≈ 0.19; ηλ₀ = 4.2 diverges. (The peak heights depend on the
initial output, so on the seed.)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import landaulab as ll
from landaulab.spec import parse_spec

SPEC = """
task = "uv_model"
seeds = [0]
[settings]
width = 2000
steps = 300
[controls]
lr = [0.9, 1.05, 1.5, 2.1]
[record]
every = 1
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store"
        ll.sweep(parse_spec(SPEC), store=store, progress=False)
        runs = {r.run_id: r for r in ll.Store(store).records()}
        frame = ll.Store(store).frame(statuses=("done", "diverged"))
        print("ηλ₀    status    peak loss   final ηλ")
        order = sorted(runs, key=lambda run_id: runs[run_id].params["lr"])
        for run_id in order:
            run, record = frame[frame.run_id == run_id], runs[run_id]
            last = run.sort_values("step").iloc[-1]
            print(
                f"{2 * record.params['lr']:4.1f}  {record.status:9s} "
                f"{run['loss'].max():10.4g}  {last['lr_times_ntk']:8.3f}"
            )


if __name__ == "__main__":
    main()
