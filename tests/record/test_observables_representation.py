"""Representations: planted Fourier embeddings and low-rank activations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch import nn

from landaulab.record.observables import (
    FourierObservable,
    ObservableError,
    RepresentationRank,
    effective_rank,
    fourier_concentration,
)

P = 113
FREQUENCIES = (14, 35, 41)


def _planted_embedding(noise: float = 0.0, seed: int = 0):
    """Columns are sums of cosines at FREQUENCIES with random amplitudes and phases."""
    rng = np.random.default_rng(seed)
    dim = 32
    a = np.arange(P)[:, None]
    amplitudes = rng.uniform(0.5, 2.0, size=(len(FREQUENCIES), dim))
    phases = rng.uniform(0, 2 * np.pi, size=(len(FREQUENCIES), dim))
    embedding = sum(
        amplitudes[i] * np.cos(2 * np.pi * k * a / P + phases[i]) for i, k in enumerate(FREQUENCIES)
    )
    return embedding + noise * rng.normal(size=embedding.shape), amplitudes


def test_planted_frequencies_and_exact_ipr_are_recovered():
    embedding, amplitudes = _planted_embedding()
    result = fourier_concentration(embedding, num_frequencies=3)
    assert sorted(result.dominant_frequencies) == sorted(FREQUENCIES)
    power = amplitudes**2  # power of a cosine of amplitude c at its frequency ∝ c²
    q = power / power.sum(axis=0)
    assert result.ipr == pytest.approx(float(np.mean(np.sum(q**2, axis=0))), rel=1e-10)
    assert result.top_fraction == pytest.approx(1.0, abs=1e-12)
    pooled = power.sum(axis=1) / power.sum()
    assert result.pooled_ipr == pytest.approx(float(np.sum(pooled**2)), rel=1e-10)
    assert result.power[0] == 0.0


def test_a_single_frequency_has_ipr_one_and_white_noise_is_flat():
    a = np.arange(P)[:, None]
    single = np.cos(2 * np.pi * 7 * a / P + np.linspace(0, 3, 16))
    result = fourier_concentration(single, num_frequencies=1)
    assert result.ipr == pytest.approx(1.0, abs=1e-12)
    assert result.dominant_frequencies == (7,)
    rng = np.random.default_rng(1)
    noise = fourier_concentration(rng.normal(size=(P, 4000)))
    # flat spectrum over ⌊p/2⌋ = 56 modes: IPR ≈ (1/56)·E[χ²₂²]/E[χ²₂]² = 2/56 per column
    assert noise.ipr == pytest.approx(2 / 56, rel=0.1)
    assert noise.pooled_ipr == pytest.approx(1 / 56, rel=0.05)


def test_noisy_planted_embedding_keeps_its_frequencies():
    embedding, _ = _planted_embedding(noise=0.5, seed=2)
    result = fourier_concentration(embedding, num_frequencies=3)
    assert sorted(result.dominant_frequencies) == sorted(FREQUENCIES)
    assert result.top_fraction > 0.8


class _Modular(nn.Module):
    def __init__(self, embedding: np.ndarray) -> None:
        super().__init__()
        self.embed = nn.Embedding(*embedding.shape).double()
        self.first = nn.Linear(2 * embedding.shape[1], 8, bias=False).double()
        with torch.no_grad():
            self.embed.weight.copy_(torch.as_tensor(embedding))

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        return self.first(self.embed(pairs).flatten(1)) ** 2


def test_fourier_observable_on_embeddings_and_first_layer_blocks():
    embedding, _ = _planted_embedding(seed=3)
    model = _Modular(embedding)
    values = FourierObservable("embed.weight", num_frequencies=3).measure(model, None, 0)
    assert sorted(values[f"fourier_frequency_{i}"] for i in (1, 2, 3)) == sorted(FREQUENCIES)
    one_hot_first_layer = nn.Linear(2 * P, 16, bias=False).double()
    a = np.arange(P)
    with torch.no_grad():
        block = np.cos(2 * np.pi * 5 * a[None, :] / P + np.arange(16)[:, None])
        one_hot_first_layer.weight[:, :P] = torch.as_tensor(block)
    holder = nn.Module()
    holder.first = one_hot_first_layer
    values = FourierObservable(
        "first.weight", residue_axis=1, residues=slice(0, P), num_frequencies=1
    ).measure(holder, None, 0)
    assert values["fourier_frequency_1"] == 5
    assert values["fourier_ipr"] == pytest.approx(1.0)


def test_effective_rank_of_planted_low_rank_activations():
    rng = np.random.default_rng(5)
    basis, _ = np.linalg.qr(rng.normal(size=(64, 3)))
    activations = rng.normal(size=(400, 3)) @ basis.T * np.sqrt(400)
    summary = effective_rank(activations, center=False)
    singular = np.linalg.svd(activations, compute_uv=False)[:3]
    p = singular / singular.sum()
    assert summary.effective_rank == pytest.approx(float(np.exp(-np.sum(p * np.log(p)))), rel=1e-6)
    assert 2.5 < summary.effective_rank <= 3.0 + 1e-9
    equal = effective_rank(np.eye(5) * 3.0, center=False)
    assert equal.effective_rank == pytest.approx(5.0)
    assert equal.participation_ratio == pytest.approx(5.0)


def test_representation_rank_hooks_a_submodule():
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2)).double()
    with torch.no_grad():
        model[0].weight.zero_()
        model[0].weight[:2] = torch.randn(2, 4, dtype=torch.float64)
    x = torch.randn(200, 4, dtype=torch.float64)
    values = RepresentationRank("0").measure(model, (x, None), 0)
    assert 1.0 <= values["representation_effective_rank"] <= 2.0 + 1e-9
    with pytest.raises(ObservableError, match="no submodule"):
        RepresentationRank("9").measure(model, (x, None), 0)


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(3, 40), st.integers(1, 5)),
        elements=st.floats(-1e6, 1e6, allow_nan=False),
    )
)
@settings(max_examples=60, deadline=None)
def test_fourier_concentration_bounds_on_arbitrary_matrices(matrix):
    result = fourier_concentration(matrix)
    modes = matrix.shape[0] // 2
    if result.dominant_frequencies:
        assert 1.0 / modes - 1e-9 <= result.ipr <= 1.0 + 1e-9
        assert 0.0 <= result.top_fraction <= 1.0 + 1e-9
        assert all(1 <= k <= modes for k in result.dominant_frequencies)


@pytest.mark.parametrize(
    "bad", [np.full((5, 2), np.nan), np.ones((2, 3)), np.ones(7), np.array([[np.inf], [0], [1]])]
)
def test_fourier_concentration_rejects_hostile_input(bad):
    with pytest.raises(ObservableError):
        fourier_concentration(bad)


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 12), st.integers(1, 6)),
        elements=st.floats(-1e300, 1e300, allow_nan=False, allow_subnormal=True),
    )
)
@settings(max_examples=60, deadline=None)
def test_effective_rank_bounds_on_arbitrary_activations(matrix):
    summary = effective_rank(matrix)
    limit = min(matrix.shape) + 1e-9
    assert summary.effective_rank == 0.0 or 1.0 - 1e-9 <= summary.effective_rank <= limit
    assert summary.participation_ratio == 0.0 or 1.0 - 1e-9 <= summary.participation_ratio <= limit


@pytest.mark.parametrize("bad", [np.ones(4), np.array([[np.nan, 1.0]]), np.zeros((0, 2))])
def test_effective_rank_rejects_hostile_input(bad):
    with pytest.raises(ObservableError):
        effective_rank(bad)


def test_constant_and_single_row_activations_have_zero_effective_rank():
    assert effective_rank(np.ones((10, 3))).effective_rank == 0.0
    assert effective_rank(np.ones((1, 3))).effective_rank == 0.0
