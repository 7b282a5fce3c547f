"""The report's per-run dots and the analysis' ensemble means use one late window: the
analysis' burn-in, applied through :mod:`landaulab.late_time` by both."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from landaulab.api import findings
from tests.cli.conftest import two_decays


@pytest.mark.parametrize("burn_in", [None, 0.7])
def test_per_run_dots_average_to_the_ensemble_means(burn_in: float | None) -> None:
    options: dict[str, object] = {"n_bootstrap": 10}
    if burn_in is not None:
        options["burn_in"] = burn_in
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = findings(
            two_decays(n_seeds=2),
            order_parameter="m",
            control="train_fraction",
            analysis_options=options,
            dynamics_options={"n_bootstrap": 5},
        )
    assert found.analysis is not None
    if burn_in is not None:
        assert found.analysis.inputs["burn_in"] == burn_in
    dots = found.runs[found.runs["in_slice"]].groupby("train_fraction")["value"].mean()
    table = found.analysis.table.set_index("control")["mean"]
    assert np.allclose(dots.to_numpy(), table.loc[dots.index].to_numpy(), rtol=1e-9, atol=1e-12)
