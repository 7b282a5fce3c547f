"""The order-to-chaos transition of deep random networks at initialisation (Poole et al.
2016, arXiv:1606.05340; Schoenholz et al. 2017, arXiv:1611.01232).

χ₁ = σ_w²·E[φ'(√q*·z)²] separates an ordered phase (χ₁ < 1: inputs become correlated
with depth) from a chaotic one (χ₁ > 1); at χ₁ = 1 the correlation depth ξ_c diverges.

What you should see: the critical σ_w² of tanh networks at σ_b² = 0, 0.01, 0.05, 0.1, 0.3
equal to 1, 1.4242, 1.7610, 1.9861, 2.5051; ξ_c at σ_b² = 0.05 peaking near the critical
σ_w²; and wide random networks (width 1000) whose measured χ₁ crosses 1 at the same place.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import landaulab as ll
from landaulab.spec import parse_spec
from landaulab.tasks.signal_propagation import correlation_depth, critical_weight_variance

KNOWN = {0.0: 1.0, 0.01: 1.4242, 0.05: 1.7610, 0.1: 1.9861, 0.3: 2.5051}
SPEC = """
task = "signal_propagation"
seeds = [0, 1]
[settings]
width = 1000
depth = 20
bias_variance = 0.05
[controls]
weight_variance = [1.2, 1.5, 1.7, 1.8, 2.0, 3.0]
"""


def main() -> None:
    print("σ_b²   critical σ_w² (quadrature)   known")
    for bias_variance, known in KNOWN.items():
        found = critical_weight_variance(bias_variance, "tanh")
        print(f"{bias_variance:5.2f}   {found:10.4f}                   {known:.4f}")
    print("correlation depth ξ_c at σ_b² = 0.05:")
    for weight_variance in (1.2, 1.5, 1.7, 1.8, 2.0, 3.0):
        print(f"  σ_w² = {weight_variance}: {correlation_depth(weight_variance, 0.05, 'tanh'):.1f}")
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store"
        ll.sweep(parse_spec(SPEC), store=store, progress=False)
        frame = ll.Store(store).frame()
        last = frame.sort_values("step").groupby("run_id").last()
        print("wide networks: σ_w², measured χ₁ (mean over seeds)")
        for weight_variance, chi in last.groupby("weight_variance")["chi1"].mean().items():
            phase = "ordered" if chi < 1 else "chaotic"
            print(f"  {weight_variance:4.2f}  {chi:.3f}  {phase}")


if __name__ == "__main__":
    main()
