"""Deterministic annealing: symmetry breaking at T_c = 2·λ_max and a cascade (about 10 s).

Codevectors with associations p(y|x) ∝ p(y)·exp(−‖x − y‖²/T) (Rose, Gurewitz & Fox 1990;
Rose 1998) sit together at the data mean while T > T_c = 2·λ_max of the data covariance
(the symmetric phase). Cooling through T_c they split along the top principal axis; each
cluster splits again when T falls below 2·λ_max of its own conditional covariance.

What you should see: one codevector above T_c, two just below it, four below the second
critical temperature; the iteration count peaks at each split (critical slowing down);
heating merges them again at the same temperatures (a continuous transition, no
hysteresis).

Run: python examples/variational_deterministic_annealing.py
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from landaulab.record.context import RunContext
from landaulab.record.schedule import Schedule
from landaulab.tasks import get_task
from landaulab.tasks.deterministic_annealing import (
    DEFAULT_CENTERS,
    first_critical_temperature,
    gaussian_mixture_data,
)


def anneal(direction: str) -> pd.DataFrame:
    info = get_task("deterministic_annealing")
    params = info.resolve(
        {"direction": direction, "steps": 60, "temperature_high": 40.0, "temperature_low": 0.2}
    ) | {"seed": 0}
    ctx = RunContext(params, Schedule(total_steps=params["steps"], every=1))
    info.function(ctx)
    return ctx.table()


def main() -> None:
    x = gaussian_mixture_data(DEFAULT_CENTERS, 0.4, 800, 0)
    t_c = first_critical_temperature(x)
    print(f"exact first critical temperature T_c = 2*lambda_max = {t_c:.4f}")
    down = anneal("down")
    print(
        f"\n{'T':>8} {'clusters':>8} {'spread':>8} {'iterations':>10} {'2*lambda_max(C_x|y)':>20}"
    )
    for row in down.iloc[::3].itertuples():
        print(
            f"{row.temperature:8.3f} {int(row.distinct_centroids):8d} {row.centroid_spread:8.4f}"
            f" {int(row.iterations):10d} {row.critical_temperature:20.4f}"
        )
    counts = down["distinct_centroids"].to_numpy()
    temps = down["temperature"].to_numpy()
    for k in np.flatnonzero(np.diff(counts) > 0) + 1:
        print(
            f"split {int(counts[k - 1])} -> {int(counts[k])} between T = {temps[k - 1]:.3f} and"
            f" {temps[k]:.3f}; predicted 2*lambda_max(C_x|y) = "
            f"{down['critical_temperature'].iloc[k - 1]:.4f}"
        )
    up = anneal("up")
    merged = up[up["distinct_centroids"] == 1]["temperature"].min()
    print(f"\nheating: all codevectors merged from T = {merged:.3f} on (T_c = {t_c:.4f})")


if __name__ == "__main__":
    main()
