"""The symmetric plateau of the soft committee machine and its breaking (Saad & Solla
1995; Goldt et al. 2019, arXiv:1906.08632).

K = M = 2 erf units, learning rate 0.5, Q₀ = 0.2·I: the students first learn the
permutation-symmetric average of the teachers (the plateau, ε_g ≈ 0.0146) and only later
specialise, one unit per teacher unit, ε_g → 0. The plateau lasts ≈ 32·ln(1/r₀) in units
of steps/N for an initial asymmetry r₀.

What you should see: the order-parameter ODEs and online SGD at N = 500 both sitting on
the plateau with a specialisation index ≈ 0, then leaving it with specialisation → 1;
`ll.dynamics` detecting the plateau at its level.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import landaulab as ll
from landaulab.spec import parse_spec
from landaulab.tasks.committee import plateau

SPEC = """
task = "committee"
seeds = [0]
[settings]
input_dim = 500
steps = 250000
[controls]
method = ["ode", "sgd"]
[record]
every = 2500
"""


def main() -> None:
    reference = plateau(units=2, lr=0.5)
    print(f"symmetric saddle: generalisation error {reference.generalisation_error:.5f}")
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "store"
        ll.sweep(parse_spec(SPEC), store=store, progress=False)
        frame = ll.Store(store).frame()
        for method, run in frame.groupby("method"):
            run = run.sort_values("time")
            result = ll.dynamics(
                run, order_parameter="generalisation_error", time_col="time", n_bootstrap=50
            )
            plateaus = [p for p in result.to_dict()["plateaus"]["runs"] if not p["final"]]
            if not plateaus:
                print(f"{method}: no plateau detected")
                continue
            first = plateaus[0]
            middle = 0.5 * (first["start"] + first["end"])
            on = run.iloc[(run.time - middle).abs().argmin()]
            print(
                f"{method}: plateau at error {first['level']:.5f} from t = {first['start']:.0f} "
                f"to {first['end']:.0f}; specialisation {on.specialisation:.2f} on it, "
                f"{run.specialisation.iloc[-1]:.2f} at t = {run.time.iloc[-1]:.0f}"
            )


if __name__ == "__main__":
    main()
