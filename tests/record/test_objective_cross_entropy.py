"""The cross-entropy objective keeps float32 precision on confident predictions.

Reference values come from float64 evaluations: the float32 result must agree with
them to float32 rounding *relative to the quantity itself* (the loss, the gradient,
a Hessian product), which the textbook form ``p_y − 1`` cannot do once ``1 − p_y``
approaches the float32 unit roundoff ε ≈ 6e-8.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.func import grad, vmap

from landaulab.record.observables import HessianOperator, Objective
from landaulab.record.observables.objective import _cross_entropy

EPS32 = float(torch.finfo(torch.float32).eps)


def _naive_cross_entropy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return -torch.log_softmax(outputs, dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)


def _gradient(loss, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    leaf = outputs.clone().requires_grad_(True)
    return torch.autograd.grad(loss(leaf, targets).sum(), leaf)[0]


def test_confident_gradient_keeps_float32_precision():
    """Margin m between the target logit and C − 1 equal others: 1 − p_y ≈ (C−1)e^{−m}.
    At m = 14 with C = 10 that is 7.4e-6, so the textbook gradient p_y − 1 carries a
    relative error ≈ ε/7.4e-6 ≈ 1e-2 while the stable one keeps a few ε."""
    classes, margin = 10, 14.0
    outputs = torch.zeros(4, classes, dtype=torch.float64)
    targets = torch.tensor([0, 3, 7, 9])
    outputs[torch.arange(4), targets] = margin
    outputs += 1e-3 * torch.randn(4, classes, generator=torch.Generator().manual_seed(0))
    exact = _gradient(_cross_entropy, outputs, targets)
    reference = torch.softmax(outputs, -1) - nn.functional.one_hot(targets, classes)
    assert torch.allclose(exact, reference, rtol=1e-10, atol=0)

    def relative_error(loss) -> float:
        g = _gradient(loss, outputs.float(), targets).double()
        return float(((g - exact).abs() / exact.abs()).max())

    # inputs rounded to float32 (ε/2 relative on logits ≈ 14) move p by ≈ 14·ε/2
    allowance = 16 * margin * EPS32
    assert relative_error(_cross_entropy) <= allowance
    assert relative_error(_naive_cross_entropy) > 10 * allowance
    loss32 = _cross_entropy(outputs.float(), targets).double()
    loss64 = _cross_entropy(outputs, targets)
    assert torch.allclose(loss32, loss64, rtol=allowance, atol=0)


@settings(max_examples=60, deadline=None)
@given(
    classes=st.integers(min_value=1, max_value=12),
    masked=st.booleans(),
    scale=st.sampled_from([1e-3, 1.0, 30.0, 1e3, 1e5]),
    seed=st.integers(min_value=0, max_value=2**31 - 1),
)
def test_cross_entropy_matches_the_textbook_form_on_hostile_logits(classes, masked, scale, seed):
    """In float64 the stable loss equals logsumexp(z) − z_y and its gradient softmax − onehot,
    for one class, huge logits, masked (−inf) classes and any target; both stay finite."""
    generator = torch.Generator().manual_seed(seed)
    outputs = scale * torch.randn(6, classes, generator=generator, dtype=torch.float64)
    targets = torch.randint(0, classes, (6,), generator=generator)
    if masked:  # every class but the target masked out in the first row, half in the rest
        outputs[0] = float("-inf")
        outputs[1:, : classes // 2] = float("-inf")
        targets[1:] = torch.randint(classes // 2, classes, (5,), generator=generator)
        outputs[torch.arange(6), targets] = scale * torch.randn(6, dtype=torch.float64)
    loss = _cross_entropy(outputs, targets)
    textbook = torch.logsumexp(outputs, -1) - outputs.gather(-1, targets[:, None]).squeeze(-1)
    # logits of size s carry rounding s·ε/2, which moves log-sum-exps and probabilities
    # by ≈ s·ε (relative for probabilities); 4 s·ε allows both forms their own rounding
    allowance = 4 * torch.finfo(torch.float64).eps * outputs.nan_to_num(neginf=0.0).abs().amax(-1)
    allowance = allowance.clamp(min=4 * torch.finfo(torch.float64).eps)
    assert torch.isfinite(loss).all() and (loss >= 0).all()
    assert ((loss - textbook).abs() <= allowance).all()
    g = _gradient(_cross_entropy, outputs, targets)
    expected = torch.softmax(outputs, -1) - nn.functional.one_hot(targets, classes)
    assert torch.isfinite(g).all()
    assert ((g - expected).abs() <= allowance[:, None]).all()


def test_second_derivatives_and_per_example_gradients_are_exact():
    generator = torch.Generator().manual_seed(3)
    outputs = 4 * torch.randn(5, 6, generator=generator, dtype=torch.float64)
    targets = torch.randint(0, 6, (5,), generator=generator)
    assert torch.autograd.gradgradcheck(
        lambda z: _cross_entropy(z, targets), (outputs.clone().requires_grad_(True),)
    )
    per_example = vmap(grad(lambda z, y: _cross_entropy(z[None], y[None])[0]))(outputs, targets)
    assert torch.allclose(per_example, _gradient(_cross_entropy, outputs, targets), atol=1e-15)


class _SquaredActivationMLP(nn.Module):
    """Modular addition, embedding → linear → x² → linear (Gromov 2023, arXiv:2301.02679)."""

    def __init__(self, p: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(p, 16)
        self.hidden = nn.Linear(32, 64, bias=False)
        self.out = nn.Linear(64, p, bias=False)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        h = self.hidden(self.embed(pairs).flatten(1))
        return self.out(h * h)


def test_float32_hessian_products_of_a_memorised_model_keep_precision():
    """At training loss L the textbook loss gradient p − y is a difference of numbers ≈ 1
    that agree to ≈ L, so float32 rounding is magnified ≈ 1/L ≈ 10³ in a Hessian product.
    The stable cross-entropy (and, for any loss, a float64 loss on float32 outputs)
    leaves only the matmuls' rounding, ≈ 10⁻⁶."""
    p = 23
    torch.manual_seed(0)
    a, b = torch.meshgrid(torch.arange(p), torch.arange(p), indexing="ij")
    x = torch.stack([a.reshape(-1), b.reshape(-1)], dim=1)
    y = (x[:, 0] + x[:, 1]) % p
    model = _SquaredActivationMLP(p)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(300):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
    assert float(loss.detach()) < 1e-2  # memorised
    stable = Objective.cross_entropy()
    textbook = Objective(loss=_naive_cross_entropy, name="textbook")
    generator = torch.Generator().manual_seed(1)
    v = torch.randn(sum(t.numel() for t in model.parameters()), generator=generator)
    v = (v / v.norm()).to(torch.float64)
    exact = HessianOperator(model, stable, (x, y), dtype=torch.float64).matvec(v)

    def error(objective: Objective, **kwargs) -> float:
        product = HessianOperator(model, objective, (x, y), **kwargs).matvec(v)
        return float((product - exact).norm() / exact.norm())

    naive = error(textbook)
    assert error(stable) <= 1e-5 and error(stable) < naive / 5
    assert error(textbook, loss_dtype=torch.float64) <= 1e-5
    assert np.isfinite(naive)
