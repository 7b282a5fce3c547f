"""Gaussian information bottleneck: encoder dimensions switch on at β_i (about 15 s).

For jointly Gaussian (x, y) the optimal bottleneck t = Ax + ξ projects onto eigenvectors
of Σ_{x|y}Σ_x⁻¹ (Chechik, Globerson, Tishby & Weiss 2005); dimension i switches on at
β_i = 1/(1 − λ_i) with encoder norm sqrt((β(1 − λ_i) − 1)/λ_i). Here a variational IB
encoder (Alemi et al. 2017, arXiv:1612.00410) is trained by gradient descent at each β.

What you should see: the number of active dimensions steps up by one at each β_i, the
measured encoder norms equal the exact ones, and the information plane point
(I(T;X), I(T;Y)) moves along the exact IB curve.

Run: python examples/variational_information_bottleneck.py
"""

from __future__ import annotations

import numpy as np

from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks.information_bottleneck import (
    ib_spectrum,
    information_bottleneck_optimum,
    planted_ib_data,
)

SPECTRUM = (0.1, 0.25, 0.45, 0.65)


def main() -> None:
    data = planted_ib_data(SPECTRUM, 5000, 0)
    lam, _ = ib_spectrum(data.cov_x, data.cov_x_given_y)
    print("eigenvalues of Sigma_x|y Sigma_x^-1:", np.round(lam, 4))
    print("exact critical betas 1/(1 - lambda_i):", np.round(1 / (1 - lam), 4))
    info = get_task("information_bottleneck")
    print(f"\n{'beta':>6}  {'on':>2}  measured encoder norms (exact)            I(T;X)  I(T;Y)")
    for beta in (1.05, 1.2, 1.3, 1.5, 1.8, 2.2, 2.8, 3.5):
        params = info.resolve({"beta": beta, "steps": 3000}) | {"seed": 0}
        ctx = RunContext(params, Schedule(total_steps=params["steps"], every=3000))
        info.function(ctx)
        row = ctx.table().iloc[-1]
        exact = information_bottleneck_optimum(lam, beta, 4)
        norms = [float(row[f"encoder_norm_{i}"]) for i in range(1, 5)]
        on = sum(v > 1e-3 for v in norms)
        pairs = " ".join(
            f"{m:.3f}({e:.3f})" for m, e in zip(norms, exact.encoder_norms, strict=True)
        )
        print(
            f"{beta:6.2f}  {on:2d}  {pairs}  {row['information_x']:.3f}({exact.information_x:.3f})"
            f" {row['information_y']:.3f}({exact.information_y:.3f})"
        )


if __name__ == "__main__":
    main()
