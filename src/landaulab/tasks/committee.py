r"""Teacher–student soft committee machine trained by online SGD, and its exact ODEs.

Saad & Solla 1995, "On-line learning in soft committee machines", Phys. Rev. E 52, 4225;
Biehl & Schwarze 1995, J. Phys. A 28, 643; Goldt, Advani, Saxe, Krzakala & Zdeborová
2019, "Dynamics of stochastic gradient descent for two-layer neural networks in the
teacher-student setup", arXiv:1906.08632.

A student :math:`\phi(x) = \sum_{k=1}^{K} g(w_k\cdot x/\sqrt N)` learns from a teacher with
M hidden units :math:`y = \sum_{m=1}^{M} g(w^*_m\cdot x/\sqrt N) + \sigma\xi`
(``label_noise`` = σ) on fresh Gaussian inputs :math:`x\sim N(0, I_N)`, one example per
step, with :math:`g(x) = \mathrm{erf}(x/\sqrt 2)` and the update
:math:`w_k \leftarrow w_k - (\eta/\sqrt N)\,(\phi(x) - y)\,g'(\lambda_k)\,x`. Time is
:math:`t = \text{step}/N`. The order parameters are the overlaps :math:`Q = ww^\top/N`,
:math:`R = ww^{*\top}/N` and :math:`T = w^*w^{*\top}/N` (here T = I exactly); the
generalisation error is a function of them alone,

.. math::

    \epsilon_g = \frac{1}{\pi}\sum_{a,b} s_a s_b
        \arcsin\frac{C_{ab}}{\sqrt{(1 + C_{aa})(1 + C_{bb})}},

with C the joint overlap matrix of students (:math:`s = -1`) and teachers (:math:`s = +1`).
As N → ∞ the overlaps follow deterministic ODEs (Saad & Solla 1995) whose right-hand sides
are the Gaussian averages :math:`I_3 = E[g'(u)\,v\,g(w)]` and
:math:`I_4 = E[g'(u)g'(v)g(w)g(z)]`, known in closed form for this g;
:func:`integrate_overlaps` integrates them (the exact reference for ``method = "sgd"``).

From a small initial overlap the student first reaches the *symmetric plateau* (all
:math:`R_{in}` equal: no hidden unit has specialised on a teacher unit), a saddle of the
ODEs with one unstable direction; the plateau length grows as :math:`\ln(1/r_0)/\mu` with
:math:`r_0` the initial asymmetry and μ the unstable eigenvalue (:func:`plateau`). Leaving
it breaks the permutation symmetry of the hidden units (specialisation: R → a permutation
matrix, ε_g → 0). With K = M = 2, η = 0.5, Q₀ = 0.2·I these ODEs give a plateau at
ε_g = 0.014645 (symmetric fixed point) and μ = 0.03162, i.e. 72.8 time units per decade of
:math:`r_0`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from pydantic import ConfigDict, Field, model_validator
from scipy.integrate import solve_ivp
from scipy.optimize import fsolve

from landaulab.errors import TaskError
from landaulab.record.context import RunContext
from landaulab.tasks.registry import TaskParameters, register_task
from landaulab.train.members import Members, member_generator, run_single

CHUNK = 64
"""Inputs are drawn in blocks of this many steps (fixed, so a member's stream of inputs
does not depend on how many members share its batch). They are drawn in float32, whose
vectorised normal sampler is several times faster than float64's, then widened."""


class CommitteeParameters(TaskParameters):
    """Settings of the soft-committee teacher–student task (Saad & Solla 1995)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    input_dim: int = Field(500, ge=2, description="N, the input dimension")
    student_units: int = Field(2, ge=1, description="K, hidden units of the student")
    teacher_units: int = Field(2, ge=1, description="M, hidden units of the teacher")
    lr: float = Field(0.5, gt=0.0, description="η")
    init_scale: float = Field(
        math.sqrt(0.2), gt=0.0, description="initial ‖w_k‖/√N, so Q_kk(0) = init_scale²"
    )
    initial_asymmetry: float | None = Field(
        None,
        ge=0.0,
        description="r₀: start from R = r₀·I, Q = init_scale²·I exactly (None: random init)",
    )
    label_noise: float = Field(0.0, ge=0.0, description="σ, std of the teacher's output noise")
    steps: int = Field(100_000, ge=1, description="SGD steps (time t = steps / N)")
    method: Literal["sgd", "ode"] = Field(
        "sgd", description="'sgd': simulate the network; 'ode': integrate the overlap ODEs"
    )

    @model_validator(mode="after")
    def _valid_start(self) -> CommitteeParameters:
        if self.initial_asymmetry is not None:
            if self.initial_asymmetry >= self.init_scale:
                raise ValueError("initial_asymmetry must be smaller than init_scale")
            if self.student_units + self.teacher_units > self.input_dim:
                raise ValueError("input_dim must be at least student_units + teacher_units")
        return self


# --------------------------------------------------------------------------------------
# Order parameters and the ODEs
# --------------------------------------------------------------------------------------


def _joint(q: np.ndarray, r: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Joint overlap matrix C (students first) and the signs s (−1 students, +1 teachers)."""
    c = np.block([[q, r], [r.T, t]])
    s = np.concatenate([-np.ones(q.shape[0]), np.ones(t.shape[0])])
    return c, s


def generalisation_error(q: np.ndarray, r: np.ndarray, t: np.ndarray) -> float:
    """ε_g = ½ E[(φ(x) − y)²] of the noise-free teacher, from the overlaps (exact)."""
    c, s = _joint(np.asarray(q), np.asarray(r), np.asarray(t))
    d = np.sqrt(1.0 + np.diag(c))
    return float(np.einsum("a,b,ab->", s, s, np.arcsin(c / np.outer(d, d))) / math.pi)


def gaussian_averages(c: np.ndarray, students: int) -> tuple[np.ndarray, np.ndarray]:
    """The averages I₃ and I₄ for g = erf(·/√2) (Saad & Solla 1995, closed forms).

    Parameters
    ----------
    c
        Joint covariance of the local fields (students first), shape ``[L, L]``.
    students
        K, the number of student units.

    Returns
    -------
    i3, i4
        ``i3[a, b, c] = E[g'(u_a) u_b g(u_c)]`` for student a, any b, c (shape
        ``[K, L, L]``) and ``i4[a, b, c, d] = E[g'(u_a) g'(u_b) g(u_c) g(u_d)]`` for
        students a, b (shape ``[K, K, L, L]``).
    """
    k = students
    diag = np.diag(c)
    caa = diag[:k, None, None]
    ccc = diag[None, None, :]
    cac = c[:k, None, :]
    cab = c[:k, :, None]
    cbc = c[None, :, :]
    lambda3 = (1.0 + caa) * (1.0 + ccc) - cac**2
    i3 = 2.0 / math.pi / np.sqrt(lambda3) * (cbc * (1.0 + caa) - cab * cac) / (1.0 + caa)

    a_ = diag[:k, None, None, None]
    b_ = diag[None, :k, None, None]
    cab4 = c[:k, :k, None, None]
    cac4 = c[:k, None, :, None]
    cad4 = c[:k, None, None, :]
    cbc4 = c[None, :k, :, None]
    cbd4 = c[None, :k, None, :]
    ccd4 = c[None, None, :, :]
    ccc4 = diag[None, None, :, None]
    cdd4 = diag[None, None, None, :]
    lambda4 = (1.0 + a_) * (1.0 + b_) - cab4**2
    lambda0 = (
        lambda4 * ccd4
        - cbc4 * cbd4 * (1.0 + a_)
        - cac4 * cad4 * (1.0 + b_)
        + cab4 * cac4 * cbd4
        + cab4 * cad4 * cbc4
    )
    lambda1 = lambda4 * (1.0 + ccc4) - cbc4**2 * (1.0 + a_) - cac4**2 * (1.0 + b_)
    lambda1 = lambda1 + 2.0 * cab4 * cac4 * cbc4
    lambda2 = lambda4 * (1.0 + cdd4) - cbd4**2 * (1.0 + a_) - cad4**2 * (1.0 + b_)
    lambda2 = lambda2 + 2.0 * cab4 * cad4 * cbd4
    ratio = np.clip(lambda0 / np.sqrt(lambda1 * lambda2), -1.0, 1.0)
    i4 = 4.0 / math.pi**2 / np.sqrt(lambda4) * np.arcsin(ratio)
    return i3, i4


def overlap_derivatives(
    q: np.ndarray, r: np.ndarray, t: np.ndarray, lr: float, label_noise: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """dQ/dt and dR/dt of online SGD in the limit N → ∞ (Saad & Solla 1995).

    ``dR_in/dt = η Σ_c s_c I₃(i, n, c)``;
    ``dQ_ik/dt = η Σ_c s_c [I₃(i, k, c) + I₃(k, i, c)] + η² Σ_cd s_c s_d I₄(i, k, c, d)
    + η² σ² E[g'(λ_i) g'(λ_k)]``.
    """
    k = q.shape[0]
    c, s = _joint(q, r, t)
    i3, i4 = gaussian_averages(c, k)
    drift = np.einsum("c,abc->ab", s, i3)  # [K, L]: η-free E[δ_a u_b] with δ = g'·(y − φ)
    dr = lr * drift[:, k:]
    dq = lr * (drift[:, :k] + drift[:, :k].T) + lr**2 * np.einsum("c,d,abcd->ab", s, s, i4)
    if label_noise:
        dq = dq + lr**2 * label_noise**2 * (2.0 / math.pi) / np.sqrt(
            (1.0 + np.diag(q))[:, None] * (1.0 + np.diag(q))[None, :] - q**2
        )
    return dq, dr


def integrate_overlaps(
    q0: np.ndarray,
    r0: np.ndarray,
    t: np.ndarray,
    lr: float,
    times: np.ndarray,
    label_noise: float = 0.0,
    rtol: float = 1e-10,
    atol: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    """Integrate the overlap ODEs (8th-order Dormand–Prince with dense output).

    Parameters
    ----------
    q0, r0
        Initial Q (K × K) and R (K × M).
    t
        Teacher overlaps T (M × M).
    lr
        η.
    times
        Increasing times (in units of N steps) at which to report the overlaps.
    label_noise
        σ.
    rtol, atol
        Integration tolerances.

    Returns
    -------
    q, r
        Arrays of shape ``[len(times), K, K]`` and ``[len(times), K, M]``.
    """
    k, m = r0.shape

    def rhs(_: float, y: np.ndarray) -> np.ndarray:
        q = y[: k * k].reshape(k, k)
        q = 0.5 * (q + q.T)
        r = y[k * k :].reshape(k, m)
        dq, dr = overlap_derivatives(q, r, t, lr, label_noise)
        return np.concatenate([dq.ravel(), dr.ravel()])

    times = np.asarray(times, dtype=np.float64)
    y0 = np.concatenate([np.asarray(q0, float).ravel(), np.asarray(r0, float).ravel()])
    end = float(times[-1]) if len(times) else 0.0
    if end <= 0.0:
        ys = np.repeat(y0[None, :], len(times), axis=0)
    else:
        solution = solve_ivp(
            rhs, (0.0, end), y0, method="DOP853", t_eval=times, rtol=rtol, atol=atol
        )
        if not solution.success:
            raise TaskError(f"the overlap ODEs could not be integrated: {solution.message}")
        ys = solution.y.T
    return ys[:, : k * k].reshape(-1, k, k), ys[:, k * k :].reshape(-1, k, m)


def specialisation(q: np.ndarray, r: np.ndarray, t: np.ndarray) -> float:
    """Specialisation index: 0 on the symmetric plateau, 1 for R a permutation matrix.

    Mean over student units of (largest normalised overlap − mean of the others), with
    the normalised overlap ``R_in / √(Q_ii T_nn)``. Needs M ≥ 2.
    """
    norm = r / np.sqrt(np.outer(np.diag(q), np.diag(t)))
    m = norm.shape[1]
    top = norm.max(axis=1)
    rest = (norm.sum(axis=1) - top) / (m - 1)
    return float(np.mean(top - rest))


@dataclass(frozen=True)
class Plateau:
    """The symmetric fixed point of the overlap ODEs (K = M, T = I).

    Attributes
    ----------
    q_diagonal, q_offdiagonal, r
        The overlaps Q_ii, Q_ik (i ≠ k) and R_in (all equal) at the fixed point.
    generalisation_error
        ε_g on the plateau.
    unstable_rate
        μ, the largest eigenvalue of the ODEs' Jacobian there (the escape rate).
    """

    q_diagonal: float
    q_offdiagonal: float
    r: float
    generalisation_error: float
    unstable_rate: float

    def to_dict(self) -> dict[str, float]:
        """JSON-safe dictionary of the fields."""
        return {
            "q_diagonal": self.q_diagonal,
            "q_offdiagonal": self.q_offdiagonal,
            "r": self.r,
            "generalisation_error": self.generalisation_error,
            "unstable_rate": self.unstable_rate,
        }


def plateau(units: int = 2, lr: float = 0.5) -> Plateau:
    """Locate the symmetric plateau of K = M = ``units`` with T = I and its escape rate.

    Raises
    ------
    TaskError
        If the fixed-point iteration fails.
    """
    k = units
    t = np.eye(k)

    def symmetric(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        qd, qo, r = x
        q = np.full((k, k), qo) + np.eye(k) * (qd - qo)
        return q, np.full((k, k), r)

    def residual(x: np.ndarray) -> list[float]:
        q, r = symmetric(x)
        dq, dr = overlap_derivatives(q, r, t, lr)
        return [dq[0, 0], dq[0, 1] if k > 1 else 0.0, dr[0, 0]]

    x, _, ok, message = fsolve(residual, [0.37, 0.33, 0.41], xtol=1e-13, full_output=True)
    if ok != 1:
        raise TaskError(f"the symmetric plateau was not found: {message}")
    q, r = symmetric(x)
    y = np.concatenate([q.ravel(), r.ravel()])
    n = len(y)
    jacobian = np.zeros((n, n))
    step = 1e-6

    def flat(v: np.ndarray) -> np.ndarray:
        qq = v[: k * k].reshape(k, k)
        qq = 0.5 * (qq + qq.T)
        dq, dr = overlap_derivatives(qq, v[k * k :].reshape(k, k), t, lr)
        return np.concatenate([dq.ravel(), dr.ravel()])

    for j in range(n):
        e = np.zeros(n)
        e[j] = step
        jacobian[:, j] = (flat(y + e) - flat(y - e)) / (2 * step)
    rate = float(np.max(np.linalg.eigvals(jacobian).real))
    return Plateau(float(x[0]), float(x[1]), float(x[2]), generalisation_error(q, r, t), rate)


# --------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------


def _observables(q: np.ndarray, r: np.ndarray, t: np.ndarray) -> dict[str, float]:
    k, m = r.shape
    values = {"generalisation_error": generalisation_error(q, r, t)}
    for i in range(k):
        for j in range(i, k):
            values[f"Q_{i + 1}_{j + 1}"] = float(q[i, j])
        for n in range(m):
            values[f"R_{i + 1}_{n + 1}"] = float(r[i, n])
    if m >= 2:
        values["specialisation"] = specialisation(q, r, t)
    return values


def observable_names(student_units: int = 2, teacher_units: int = 2) -> tuple[str, ...]:
    """Names of the observables logged for K student and M teacher units."""
    q, r = np.eye(student_units), np.ones((student_units, teacher_units))
    return ("time", *_observables(q, r, np.eye(teacher_units)))


def _initial_weights(
    seed: int, n: int, k: int, m: int, init_scale: float, asymmetry: float | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Teacher (T = I exactly) and student weights of one run, in float64."""
    g = member_generator(seed, 0)
    if asymmetry is None:
        teacher_raw = torch.randn(n, m, generator=g, dtype=torch.float64)
        teacher = torch.linalg.qr(teacher_raw).Q.T * math.sqrt(n)  # orthonormal rows · √N
        student = torch.randn(k, n, generator=g, dtype=torch.float64)
        student = student / student.norm(dim=1, keepdim=True) * init_scale * math.sqrt(n)
        return teacher, student
    # exact start: R = r0·I, Q = init_scale²·I, from m + k orthonormal directions
    basis = torch.linalg.qr(torch.randn(n, m + k, generator=g, dtype=torch.float64)).Q.T
    teacher = basis[:m] * math.sqrt(n)
    student = basis[m:] * (init_scale * math.sqrt(n))
    rest = math.sqrt(init_scale**2 - asymmetry**2) / init_scale
    for i in range(min(k, m)):
        student[i] = student[i] * rest + asymmetry * teacher[i]
    return teacher, student


def _overlaps(student: torch.Tensor, teacher: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    n = student.shape[-1]
    q = (student @ student.transpose(-1, -2) / n).cpu().numpy()
    r = (student @ teacher.transpose(-1, -2) / n).cpu().numpy()
    return q, r


def committee_batched(ctxs: list[RunContext]) -> None:
    """Online SGD for S teacher–student pairs at once (members may differ in seed, lr,
    init_scale, initial_asymmetry and label_noise), or the overlap ODEs per member."""
    members = Members(ctxs, dtype=torch.float64)
    n = int(members.shared("input_dim"))
    k, m = int(members.shared("student_units")), int(members.shared("teacher_units"))
    steps = int(members.shared("steps"))
    method = members.shared("method")
    t_matrix = np.eye(m)
    starts = [
        _initial_weights(
            ctx.seed,
            n,
            k,
            m,
            float(ctx.params["init_scale"]),
            ctx.params.get("initial_asymmetry"),
        )
        for ctx in ctxs
    ]
    if method == "ode":
        _integrate_members(members, starts, n, steps, t_matrix)
        return
    device = members.device
    # Work with w' = w/√(2N): the argument of erf(λ/√2) is then z = w'·x, g'(λ) ∝ exp(−z²),
    # and the update w ← w − (η/√N)(φ − y)·g'(λ)·x becomes
    # w' ← w' − η/(N√π)·(φ − y)·exp(−z²)·x, with no pass over the inputs to rescale them.
    scale = 1.0 / math.sqrt(2.0 * n)
    teacher = torch.stack([s[0] for s in starts]).to(device) * scale  # [S, M, N]
    student = torch.stack([s[1] for s in starts]).to(device) * scale  # [S, K, N]
    step_scale = -1.0 / (n * math.sqrt(math.pi)) * members.values("lr").reshape(-1, 1, 1)
    noise = members.values("label_noise").reshape(-1, 1)
    inputs_rng = members.generators(stream=1)
    noise_rng = members.generators(stream=2)
    size = members.size
    draw = torch.empty(size, CHUNK, n, dtype=torch.float32)
    draw_noise = torch.empty(size, CHUNK, dtype=torch.float32)
    x = torch.empty(size, CHUNK, n, dtype=torch.float64, device=device)  # reused: no page faults
    for start in range(0, steps + 1, CHUNK):
        for i, g in enumerate(inputs_rng):
            torch.randn(CHUNK, n, generator=g, out=draw[i])
        for i, g in enumerate(noise_rng):
            torch.randn(CHUNK, generator=g, out=draw_noise[i])
        x.copy_(draw)
        teacher_z = torch.bmm(x, teacher.transpose(1, 2))  # [S, C, M]
        labels = torch.erf(teacher_z).sum(-1) + noise * draw_noise.to(device, torch.float64)
        rows = x.unsqueeze(2).unbind(1)  # C views [S, 1, N]
        targets = labels.unsqueeze(-1).unsqueeze(-1).unbind(1)  # C views [S, 1, 1]
        for j in range(CHUNK):
            step = start + j
            if step > steps:
                break
            if members.due(step):
                _log_sgd(members, step, student / scale, teacher / scale, n, t_matrix)
                if not members.any_alive():
                    members.finish()
                    return
                # diverged members stop moving
                step_scale = step_scale * members.alive.reshape(-1, 1, 1).to(step_scale.dtype)
            if step == steps:
                break
            z = (student * rows[j]).sum(-1, keepdim=True)  # [S, K, 1]; faster than bmm here
            error = torch.erf(z).sum(1, keepdim=True).sub_(targets[j]).mul_(step_scale)
            student.baddbmm_(torch.exp(z.square_().neg_()).mul_(error), rows[j])
    members.finish()


def _log_sgd(
    members: Members,
    step: int,
    student: torch.Tensor,
    teacher: torch.Tensor,
    n: int,
    t_matrix: np.ndarray,
) -> None:
    q, r = _overlaps(student, teacher)
    names = observable_names(*r.shape[1:])[1:]
    values = {name: np.full(members.size, math.nan) for name in names}
    for i in range(members.size):
        if np.all(np.isfinite(q[i])) and np.all(np.isfinite(r[i])):
            for name, value in _observables(0.5 * (q[i] + q[i].T), r[i], t_matrix).items():
                values[name][i] = value
    members.log(step, time=step / n, **values)


def _integrate_members(
    members: Members,
    starts: list[tuple[torch.Tensor, torch.Tensor]],
    n: int,
    steps: int,
    t_matrix: np.ndarray,
) -> None:
    schedule = members.ctxs[0].schedule.steps()
    schedule = schedule[schedule <= steps]
    for ctx, (teacher, student) in zip(members.ctxs, starts, strict=True):
        q0, r0 = _overlaps(student, teacher)
        lr = float(ctx.params["lr"])
        sigma = float(ctx.params["label_noise"])
        q, r = integrate_overlaps(q0, r0, t_matrix, lr, schedule / n, sigma)
        for index, step in enumerate(schedule):
            values = _observables(0.5 * (q[index] + q[index].T), r[index], t_matrix)
            ctx.log_values(int(step), {"time": float(step) / n, **values})
    members.finish()


@register_task(
    "committee",
    parameters=CommitteeParameters,
    observables=observable_names(2, 2),
    summary="soft committee machine, online SGD: plateau and specialisation (Saad & Solla 1995)",
    batched=committee_batched,
    batch_keys=("seed", "lr", "init_scale", "initial_asymmetry", "label_noise"),
    prefers_batching=True,
    extra={"order_parameter": "specialisation", "control": "lr"},
)
def committee(ctx: RunContext) -> None:
    """Online SGD of a soft committee machine on a teacher (or the overlap ODEs)."""
    run_single(committee_batched, ctx)
