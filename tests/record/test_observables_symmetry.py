"""Symmetry breaking: committee-machine overlaps, specialisation, clusters, Z₂ parity."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch import nn

from landaulab.record.observables import (
    ObservableError,
    UnitSymmetry,
    Z2Symmetry,
    count_unit_clusters,
    matched_overlap,
    specialisation_index,
    unit_differentiation,
    unit_overlaps,
    z2_breaking_fraction,
)

N = 500


def _teacher(m: int = 2, seed: int = 0) -> np.ndarray:
    """Orthogonal teacher vectors of squared norm N, so T = I exactly."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(N, m)))
    return q.T * np.sqrt(N)


def test_symmetric_plateau_has_zero_specialisation():
    teacher = _teacher()
    # every student unit is the same mixture of both teacher units: R constant
    unit = 0.3 * (teacher[0] + teacher[1])
    student = np.stack([unit, unit])
    overlaps = unit_overlaps(student, teacher)
    np.testing.assert_allclose(overlaps.T, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(overlaps.R, 0.3 * np.ones((2, 2)), atol=1e-12)
    assert specialisation_index(overlaps) == pytest.approx(0.0, abs=1e-12)
    assert matched_overlap(overlaps) == pytest.approx(1 / np.sqrt(2), abs=1e-12)
    assert unit_differentiation(student) == pytest.approx(0.0, abs=1e-12)
    assert count_unit_clusters(student) == 1


def test_permuted_teacher_student_is_fully_specialised():
    teacher = _teacher(3, seed=1)
    student = 0.8 * teacher[[2, 0, 1]]
    overlaps = unit_overlaps(student, teacher)
    assert specialisation_index(overlaps) == pytest.approx(1.0, abs=1e-12)
    assert matched_overlap(overlaps) == pytest.approx(1.0, abs=1e-12)
    assert unit_differentiation(student) == pytest.approx(1.0, abs=1e-12)
    assert count_unit_clusters(student) == 3


def test_specialisation_grows_monotonically_between_the_phases():
    teacher = _teacher()
    mixture = 0.5 * (teacher[0] + teacher[1])
    indices = []
    for alpha in np.linspace(0, 1, 11):
        student = np.stack(
            [(1 - alpha) * mixture + alpha * teacher[0], (1 - alpha) * mixture + alpha * teacher[1]]
        )
        indices.append(specialisation_index(unit_overlaps(student, teacher)))
    assert indices[0] == pytest.approx(0.0, abs=1e-12)
    assert indices[-1] == pytest.approx(1.0, abs=1e-12)
    assert np.all(np.diff(indices) > 0)


def test_noisy_students_give_the_expected_specialisation():
    """Random directions orthogonal to the teacher do not change the index; a small
    leak of the other teacher unit lowers it to (c₁² − c₂²)/(c₁² + c₂²) per unit."""
    teacher = _teacher(2, seed=2)
    rng = np.random.default_rng(3)
    noise = rng.normal(size=(2, N))
    noise -= noise @ teacher.T @ teacher / N  # project out the teacher directions
    student = np.stack([teacher[0] + 0.1 * teacher[1], teacher[1] + 0.1 * teacher[0]]) + noise
    expected = (1 - 0.01) / (1 + 0.01)
    assert specialisation_index(unit_overlaps(student, teacher)) == pytest.approx(
        expected, rel=1e-10
    )


def test_clusters_count_groups_and_respect_sign_invariance():
    rng = np.random.default_rng(4)
    directions = rng.normal(size=(3, 50))
    units = np.concatenate(
        [directions[[0]] * s for s in (1, 2, 3)]
        + [directions[[1]], -directions[[1]], directions[[2]]]
    )
    assert count_unit_clusters(units) == 4  # −w is its own cluster
    assert count_unit_clusters(units, sign_invariant=True) == 3
    dead = np.vstack([units, np.zeros((2, 50))])
    assert count_unit_clusters(dead, sign_invariant=True) == 4


def test_z2_breaking_fraction_for_odd_even_and_mixed_functions():
    x = torch.linspace(-2, 2, 41, dtype=torch.float64).unsqueeze(1)
    assert z2_breaking_fraction(torch.sin(x), torch.sin(-x), "odd") == pytest.approx(0.0, abs=1e-15)
    assert z2_breaking_fraction(torch.cos(x), torch.cos(-x), "odd") == pytest.approx(1.0)
    assert z2_breaking_fraction(torch.cos(x), torch.cos(-x), "even") == pytest.approx(
        0.0, abs=1e-15
    )
    f = x + 1.0  # odd part x, even part 1
    expected = float(
        (torch.ones_like(x) ** 2).sum() / ((x**2).sum() + (torch.ones_like(x) ** 2).sum())
    )
    assert z2_breaking_fraction(f, -x + 1.0, "odd") == pytest.approx(expected)


class _Committee(nn.Module):
    def __init__(self, weights: np.ndarray) -> None:
        super().__init__()
        self.hidden = nn.Linear(weights.shape[1], weights.shape[0], bias=False).double()
        with torch.no_grad():
            self.hidden.weight.copy_(torch.as_tensor(weights))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.erf(self.hidden(x) / np.sqrt(2)).sum(dim=1, keepdim=True)


def test_unit_symmetry_observable_reads_the_weights():
    teacher = _teacher()
    model = _Committee(teacher[[1, 0]] * 0.5)
    values = UnitSymmetry("hidden.weight", teacher=teacher, record_matrices=True).measure(
        model, None, 0
    )
    assert values["units_specialisation_index"] == pytest.approx(1.0)
    assert values["units_clusters"] == 2
    assert values["units_R_0_1"] == pytest.approx(0.5)
    assert values["units_R_0_0"] == pytest.approx(0.0, abs=1e-12)
    z2 = Z2Symmetry("odd").measure(model, torch.randn(64, N, dtype=torch.float64), 0)
    assert z2["z2_breaking_fraction"] == pytest.approx(0.0, abs=1e-20)  # erf units: odd


def test_unit_symmetry_rejects_unknown_weights_and_teacher_mismatch():
    model = _Committee(_teacher())
    with pytest.raises(ObservableError, match="no parameter"):
        UnitSymmetry("missing.weight").measure(model, None, 0)
    with pytest.raises(ObservableError, match="input dimension"):
        UnitSymmetry("hidden.weight", teacher=np.ones((2, 3))).measure(model, None, 0)


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 6), st.integers(1, 8)),
        elements=st.floats(-1e3, 1e3, allow_nan=False),
    )
)
@settings(max_examples=60, deadline=None)
def test_symmetry_measures_stay_in_range_on_arbitrary_weights(weights):
    assert 0.0 <= unit_differentiation(weights) <= 1.0 + 1e-12
    assert 1 <= count_unit_clusters(weights) <= weights.shape[0]
    teacher = np.eye(2, weights.shape[1]) if weights.shape[1] >= 2 else None
    if teacher is not None:
        overlaps = unit_overlaps(weights, teacher)
        assert -1e-12 <= specialisation_index(overlaps) <= 1.0 + 1e-12
        assert 0.0 <= matched_overlap(overlaps) <= 1.0 + 1e-12


@pytest.mark.parametrize("bad", [np.array([[np.nan, 1.0]]), np.zeros((0, 3)), np.ones(3)])
def test_symmetry_measures_reject_hostile_weights(bad):
    with pytest.raises(ObservableError):
        unit_differentiation(bad)
