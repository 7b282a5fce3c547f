"""Models and data with known curvature, Fisher information and learning coefficients."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class QuadraticModel(nn.Module):
    """Loss ``½ θᵀ A θ + bᵀ θ`` with θ split over two parameter tensors (Hessian = A)."""

    def __init__(self, matrix: np.ndarray, linear: np.ndarray, seed: int = 0) -> None:
        super().__init__()
        dim = matrix.shape[0]
        generator = torch.Generator().manual_seed(seed)
        theta = torch.randn(dim, generator=generator, dtype=torch.float64)
        self.first = nn.Parameter(theta[:12].reshape(3, 4).clone())
        self.second = nn.Parameter(theta[12:].clone())
        self.register_buffer("matrix", torch.as_tensor(matrix, dtype=torch.float64))
        self.register_buffer("linear", torch.as_tensor(linear, dtype=torch.float64))

    def theta(self) -> torch.Tensor:
        return torch.cat([self.first.reshape(-1), self.second])

    def loss(self) -> torch.Tensor:
        theta = self.theta()
        return 0.5 * theta @ self.matrix @ theta + self.linear @ theta


def quadratic_loss(model: QuadraticModel, batch: object) -> torch.Tensor:
    """The quadratic loss; the batch is ignored."""
    return model.loss()


def symmetric_with_spectrum(eigenvalues: np.ndarray, seed: int = 0) -> np.ndarray:
    """A random orthogonal conjugate of ``diag(eigenvalues)``."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(len(eigenvalues), len(eigenvalues))))
    return q @ np.diag(eigenvalues) @ q.T


def whitened_regression(
    n: int, inputs: int, outputs: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs with ``XᵀX/n = I`` and targets with ``YᵀY/n = I``, ``XᵀY = 0``.

    With these, the empirical Gaussian loss of any linear map ``W`` is exactly its
    population loss ``½‖W‖²_F + const``: the true map is zero and there is no
    sampling noise in the loss.
    """
    generator = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(
        torch.randn(n, inputs + outputs, generator=generator, dtype=torch.float64)
    )
    scale = n**0.5
    return q[:, :inputs] * scale, q[:, inputs:] * scale
