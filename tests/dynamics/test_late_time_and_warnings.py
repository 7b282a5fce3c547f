"""One late-time definition (``burn_in``) and the named warnings of the dynamics."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from landaulab.datasets.langevin import ornstein_uhlenbeck
from landaulab.dynamics import (
    compare_laws,
    critical_slowing_down,
    dynamics,
    fit_tdgl,
    kramers_moyal,
    prepare_trajectories,
    relaxation_time,
)
from landaulab.errors import DataError, FewSamplesWarning, FitWarning
from landaulab.late_time import BURN_IN


@pytest.fixture(scope="module")
def ou_frame() -> pd.DataFrame:
    return ornstein_uhlenbeck(relaxation_time=2.0, runs_per_control=6, n_steps=800, dt=0.5, seed=3)


def test_burn_in_default_is_the_package_late_time(ou_frame: pd.DataFrame) -> None:
    result = dynamics(ou_frame, order_parameter="m", time_col="time", n_bootstrap=10)
    assert result.settings["burn_in"] == BURN_IN
    assert result.settings["late_fraction"] == 1 - BURN_IN
    explicit = dynamics(ou_frame, order_parameter="m", time_col="time", n_bootstrap=10, burn_in=0.5)
    assert explicit.to_dict() == result.to_dict()


def test_late_fraction_is_a_deprecated_alias(ou_frame: pd.DataFrame) -> None:
    modern = dynamics(ou_frame, order_parameter="m", time_col="time", n_bootstrap=10, burn_in=0.75)
    with pytest.warns(DeprecationWarning, match="burn_in"):
        old = dynamics(
            ou_frame, order_parameter="m", time_col="time", n_bootstrap=10, late_fraction=0.25
        )
    assert old.settings["late_fraction"] == 0.25 and old.settings["burn_in"] == 0.75
    assert json.dumps(old.to_dict()["relaxation_time"]) == json.dumps(
        modern.to_dict()["relaxation_time"]
    )
    traj = prepare_trajectories(ou_frame, order_parameter="m", time_col="time")
    with pytest.warns(DeprecationWarning):
        tau_old = relaxation_time(traj, late_fraction=1.0, n_bootstrap=20)
    assert tau_old == relaxation_time(traj, burn_in=0.0, n_bootstrap=20)


def test_burn_in_changes_the_relaxation_window(ou_frame: pd.DataFrame) -> None:
    traj = prepare_trajectories(ou_frame, order_parameter="m", time_col="time")
    half = relaxation_time(traj, n_bootstrap=0)
    whole = relaxation_time(traj, burn_in=0.0, n_bootstrap=0)
    assert half.estimated and whole.estimated and half.tau != whole.tau


@pytest.mark.parametrize("bad", [1.0, -0.1, "half", True])
def test_bad_burn_in_is_a_one_line_error(ou_frame: pd.DataFrame, bad) -> None:
    with pytest.raises(DataError, match="burn_in") as info:
        dynamics(ou_frame, order_parameter="m", time_col="time", burn_in=bad)
    assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="late_fraction"), pytest.warns(DeprecationWarning):
        dynamics(ou_frame, order_parameter="m", time_col="time", late_fraction=0.0)


def test_too_few_samples_warn_without_changing_results() -> None:
    tiny = pd.DataFrame({"run_id": 0, "step": range(4), "m": [0.0, 1.0, 0.5, 0.2]})
    traj = prepare_trajectories(tiny, order_parameter="m")
    with pytest.warns(FewSamplesWarning, match="increments"):
        km = kramers_moyal(traj)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert km.to_dict() == kramers_moyal(traj).to_dict()
    with pytest.warns(FewSamplesWarning, match="need 4"):
        fit = critical_slowing_down([1.0, 2.0], [1.0, 2.0], [0.9, 1.8], [1.1, 2.2])
    assert fit.reason is not None
    with pytest.warns(FewSamplesWarning, match="need 4 points"):
        laws = compare_laws([1.0, 2.0], [3.0, 4.0])
    assert laws.best is None


def test_tdgl_warns_on_collinear_powers_and_on_one_resampling_unit() -> None:
    # m = ±1 only: m^0 and m^2 are the same feature
    flip = pd.DataFrame({"run_id": 0, "step": range(40), "m": np.tile([1.0, -1.0], 20)})
    with pytest.warns(FitWarning, match="collinear"):
        failed = fit_tdgl(prepare_trajectories(flip, order_parameter="m"), powers=(0, 2))
    assert not failed.fitted
    # the increments inside the window all fall in the first block of a lone long run
    ramp = pd.DataFrame({"run_id": 0, "step": range(400), "m": 0.01 * np.arange(400.0) ** 1.1})
    traj = prepare_trajectories(ramp, order_parameter="m")
    with pytest.warns(FewSamplesWarning, match="least-squares"):
        fit = fit_tdgl(traj, powers=(0, 1), window=(0.0, 0.1))
    assert fit.fitted and fit.resampling.startswith("least-squares")


def test_a_failed_law_fit_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    import landaulab.dynamics.laws as laws_module

    controls = np.array([0.1, 0.2, 0.4, 0.8, 1.6, 3.2])
    times = 5.0 - np.log(controls)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FitWarning)
        fitted = compare_laws(controls, times, n_bootstrap=0)
    assert next(f for f in fitted.fits if f.law == "logarithmic").fitted
    monkeypatch.setattr(laws_module, "_levenberg_marquardt", lambda *args, **kwargs: None)
    with pytest.warns(FitWarning, match="logarithmic law could not be fitted"):
        failed = compare_laws(controls, times, n_bootstrap=0)
    assert not next(f for f in failed.fits if f.law == "logarithmic").fitted
