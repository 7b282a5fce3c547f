"""Abrupt changes in training curves: planted logistic steps are found, nulls stay silent.

Planted curves: a logistic step of size 1 (random sign) at a random position, with a random
10–90 % width from a tenth of a sample to half the record, in white noise of random level;
a quarter of them rise within the first two logged samples (memorisation: the onset is
before the first sample). Null curves: white noise, and a slow linear drift in noise.

Tolerances are derived from the statistics, not tuned: a midpoint or onset is right when
it lies within four Cramér–Rao standard errors (from the Fisher information of the
four-parameter logistic at the curve's own samples) plus one sample interval (a step
sharper than the sampling is only located between two samples). Recall must be
compatible with at least 95 %, the false-main rate with at most 5 %: the counts are held
against the 1 % quantiles of the binomial distributions, so a detector with 90 % recall
or a 10 % false-main rate fails (P ≈ 0.99 at these sample sizes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from scipy.stats import binom

from landaulab.dynamics import prepare_trajectories, run_profile, transition_times
from landaulab.dynamics.change_points import find_changes, white_noise_sd
from landaulab.dynamics.transition_times import TransitionTimes, detect_transitions
from landaulab.errors import DataError

LN9 = float(np.log(9.0))
N_PLANTED = 160
N_NULL = 160


def planted(seed: int) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    rng = np.random.default_rng(seed)
    n = int(rng.choice([60, 120, 200]))
    t = np.arange(n, dtype=float)
    width = float(np.exp(rng.uniform(np.log(0.1), np.log(0.5 * (n - 1)))))
    if seed % 4 == 0:  # memorisation: the rise happens within the first two samples
        width = min(width, 1.5)
        mid = float(rng.uniform(0.2, 1.5))
    else:
        half = 0.5 * width
        mid = float(rng.uniform(half, n - 1 - half)) if width > 0.1 * n else rng.uniform(2, n - 3)
    amp = float(rng.choice([-1.0, 1.0]))
    sigma = float(rng.uniform(0.01, 0.1))
    y = amp * expit((t - mid) * 2 * LN9 / width) + sigma * rng.standard_normal(n)
    return t, y, {"mid": mid, "width": width, "amp": amp, "sigma": sigma}


def cramer_rao(t: np.ndarray, truth: dict[str, float]) -> tuple[float, float]:
    """Standard errors of the midpoint and the onset of a logistic step in white noise."""
    w = max(truth["width"] / (2 * LN9), 0.25)  # sharper than the sampling: half a sample
    s = expit((t - truth["mid"]) / w)
    ds = truth["amp"] * s * (1 - s) / w
    jac = np.column_stack([np.ones_like(t), s, -ds, -ds * (t - truth["mid"]) / w])
    cov = truth["sigma"] ** 2 * np.linalg.pinv(jac.T @ jac)
    grad = np.array([0.0, 0.0, 1.0, -LN9])
    return float(np.sqrt(cov[2, 2])), float(np.sqrt(grad @ cov @ grad))


def test_planted_steps_are_found_with_their_times() -> None:
    found = 0
    misses = []
    for seed in range(N_PLANTED):
        t, y, truth = planted(seed)
        changes = find_changes(t, y, scale=1.0)
        se_mid, se_onset = cramer_rao(t, truth)
        onset = truth["mid"] - 0.5 * truth["width"]
        ok = False
        for c in changes:
            if not c.main_eligible or np.sign(c.size) != truth["amp"]:
                continue
            mid_ok = abs(c.midpoint - truth["mid"]) <= 4 * se_mid + 1.0
            if c.censored_start:  # the onset is not seen: it must be near the start
                onset_ok = onset - t[0] <= 4 * se_onset + 1.0
            elif onset < t[0]:
                onset_ok = c.onset - t[0] <= 4 * se_onset + 1.0
            else:
                onset_ok = abs(c.onset - onset) <= 4 * se_onset + 1.0
            ok = ok or (mid_ok and onset_ok)
        found += ok
        if not ok:
            misses.append((seed, truth, [(c.onset, c.midpoint, c.size) for c in changes]))
    assert found >= binom.ppf(0.01, N_PLANTED, 0.95), misses


def test_memorisation_is_reported_with_a_censored_onset() -> None:
    t = np.arange(60.0)
    rng = np.random.default_rng(0)
    y = 0.02 + 0.97 * expit((t - 0.5) * 4) + 0.01 * rng.standard_normal(t.size)
    changes = find_changes(t, y, scale=1.0)
    assert len(changes) == 1
    first = changes[0]
    assert first.censored_start and first.onset == t[0]
    assert first.main_eligible and first.size > 0.8
    assert 0.0 <= first.midpoint <= 1.0


def test_slow_sigmoid_filling_half_the_record_is_found() -> None:
    t = np.arange(100.0)
    rng = np.random.default_rng(1)
    y = expit((t - 50) * 2 * LN9 / 50) + 0.03 * rng.standard_normal(t.size)
    (change,) = find_changes(t, y, scale=1.0)
    # the sigmoid's slope barely moves the differences' median: the noise is not inflated
    assert white_noise_sd(y) == pytest.approx(0.03, rel=0.35)
    assert change.midpoint == pytest.approx(
        50, abs=4 * cramer_rao(t, dict(mid=50, width=50, amp=1, sigma=0.03))[0] + 1
    )
    assert change.width == pytest.approx(50, rel=0.3)


def null_curve(seed: int) -> np.ndarray:
    rng = np.random.default_rng(10_000 + seed)
    n = int(rng.choice([60, 120, 200]))
    sigma = float(rng.uniform(0.002, 0.05))
    y = 0.5 + sigma * rng.standard_normal(n)
    if seed % 2:  # a slow drift, from 1 % of the scale up to the whole scale
        y += float(np.exp(rng.uniform(np.log(0.01), 0.0))) * np.linspace(0, 1, n)
    return y


def test_null_runs_have_no_main_transition() -> None:
    false_main = 0
    for seed in range(N_NULL):
        y = null_curve(seed)
        changes = find_changes(np.arange(y.size, dtype=float), y, scale=1.0)
        false_main += any(c.main_eligible for c in changes)
    assert false_main <= binom.ppf(0.99, N_NULL, 0.05)


def test_a_one_percent_drift_is_never_main_among_grokking_runs() -> None:
    t = np.arange(0.0, 3000.0, 50.0)
    rng = np.random.default_rng(3)
    rows = []
    for run in range(6):
        if run < 3:
            y = 0.02 + 0.97 * expit((t - 1000 - 300 * run) / 60)
        else:
            y = 0.02 + 0.01 * t / t[-1]
        y = y + 0.003 * rng.standard_normal(t.size)
        rows.append(pd.DataFrame({"run_id": run, "step": t, "acc": y}))
    traj = prepare_trajectories(pd.concat(rows), order_parameter="acc", time_col="step")
    times = transition_times(traj, n_bootstrap=0)
    assert sorted(tr.run for tr in times.main) == [0, 1, 2]
    for tr in times.main:
        assert tr.time == pytest.approx(1000 + 300 * tr.run, abs=50)
    again = TransitionTimes.from_dict(times.to_dict())
    assert again.to_dict() == times.to_dict()
    assert times.to_dict()["method"] == "pelt"


def test_both_methods_and_bad_method() -> None:
    t = np.arange(400.0)
    rng = np.random.default_rng(4)
    y = expit((t - 200) / 5) + 0.02 * rng.standard_normal(t.size)
    profile = run_profile(t, y)
    for method in ("pelt", "rate"):
        (found,) = detect_transitions(profile, method=method)
        assert found.time == pytest.approx(200, abs=5)
    with pytest.raises(DataError):
        detect_transitions(profile, method="magic")


@pytest.mark.slow
def test_real_modular_addition_memorisation_and_no_false_grokking() -> None:
    """Real runs of the x² MLP on a + b mod 23: train accuracy rises within the first few
    logged samples (memorisation, onset censored at the start); in this short budget the
    test accuracy stays near chance and must get no main transition."""
    torch = pytest.importorskip("torch")
    from landaulab.tasks.modular_arithmetic import (
        ModularArithmeticParameters,
        build,
        evaluate,
        loss_function,
        make_optimizer,
    )

    torch.set_num_threads(1)
    for seed in (0, 1):
        prm = ModularArithmeticParameters(
            p=23, train_fraction=0.5, width=64, embedding_dim=16, lr=3e-3, weight_decay=1.0
        )
        model, data = build(prm, seed)
        optimiser = make_optimizer(prm, model)
        steps, train, test = [], [], []
        for step in range(1000):
            if step % 25 == 0:
                steps.append(step)
                train.append(evaluate(model, prm.loss, data.train_inputs, data.train_labels)[1])
                test.append(evaluate(model, prm.loss, data.test_inputs, data.test_labels)[1])
            optimiser.zero_grad()
            loss_function(prm.loss, model(data.train_inputs), data.train_labels).backward()
            optimiser.step()
        t = np.array(steps, dtype=float)
        memorised = [c for c in find_changes(t, np.array(train), scale=1.0) if c.main_eligible]
        assert len(memorised) == 1 and memorised[0].censored_start
        assert memorised[0].size > 0.8 and memorised[0].end < 250
        if max(test) < 0.2:  # not generalised in this budget
            assert not any(c.main_eligible for c in find_changes(t, np.array(test), scale=1.0))
