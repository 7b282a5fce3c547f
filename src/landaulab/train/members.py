"""The members of a batched ensemble: their settings, random streams, logs and divergences.

A batched task receives one :class:`~landaulab.record.context.RunContext` per member.
:class:`Members` turns their settings into per-member tensors, gives each member the
random stream a separate run with its seed would use, and keeps the logs apart: each
member's observables go to its own context, and a member whose loss or observable
becomes non-finite is masked (frozen) and recorded as diverged on its context
(``ctx.diverged``) while the others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from landaulab.errors import Diverged, TaskError
from landaulab.record.context import RunContext
from landaulab.train.device import resolve_device


def member_generator(seed: int, stream: int = 0) -> torch.Generator:
    """A CPU generator for one member: the same for a batched member and a separate run.

    Parameters
    ----------
    seed
        The run's seed.
    stream
        Separates independent uses of one seed (e.g. 0 for the initial weights, 1 for the
        data); the generator is seeded with ``seed * 1_000_003 + stream``.
    """
    return torch.Generator().manual_seed(int(seed) * 1_000_003 + int(stream))


class Members:
    """Bookkeeping for the S members of a batched run.

    Parameters
    ----------
    ctxs
        One run context per member; they share every setting outside the task's
        ``batch_keys`` (and so the schedule and the device).
    dtype
        Floating-point type of the per-member setting tensors.
    """

    def __init__(self, ctxs: Sequence[RunContext], dtype: torch.dtype = torch.float32) -> None:
        if not ctxs:
            raise TaskError("a batched run needs at least one member")
        self.ctxs = list(ctxs)
        self.size = len(self.ctxs)
        self.device = resolve_device(self.ctxs[0].device)
        self.dtype = dtype
        # first step at which each watched value became non-finite (-1: not yet), per name
        self._first_bad: dict[str, torch.Tensor] = {}
        self._logged_dead = torch.zeros(self.size, dtype=torch.bool, device=self.device)
        self._finished = torch.zeros(self.size, dtype=torch.bool, device=self.device)
        self.known_dead = False
        """Whether some member stopped training (diverged, as seen at the last
        synchronisation, or finished early): the trainer then masks updates."""
        for ctx in self.ctxs:
            if getattr(ctx, "diverged", None) is None:
                ctx.diverged = None

    # -- settings ---------------------------------------------------------------------
    @property
    def seeds(self) -> list[int]:
        """Each member's seed."""
        return [ctx.seed for ctx in self.ctxs]

    def shared(self, key: str) -> Any:
        """A setting every member shares (raises if the members disagree)."""
        values = [ctx.params.get(key) for ctx in self.ctxs]
        if any(v != values[0] for v in values[1:]):
            raise TaskError(
                f"setting {key!r} differs between members of one batch ({values[:4]}...); "
                "batch only members that share it"
            )
        return values[0]

    def values(self, key: str, dtype: torch.dtype | None = None) -> torch.Tensor:
        """The setting ``key`` of every member as a tensor of shape ``[S]`` on the device."""
        try:
            raw = [float(ctx.params[key]) for ctx in self.ctxs]
        except KeyError:
            raise TaskError(f"setting {key!r} is missing from a member's parameters") from None
        return torch.tensor(raw, dtype=dtype or self.dtype, device=self.device)

    def generators(self, stream: int = 0) -> list[torch.Generator]:
        """One CPU generator per member (see :func:`member_generator`)."""
        return [member_generator(seed, stream) for seed in self.seeds]

    def stack(
        self, make: Callable[[int, torch.Generator], torch.Tensor], stream: int = 0
    ) -> torch.Tensor:
        """Stack ``make(member_index, generator)`` over members into ``[S, ...]`` on the device."""
        parts = [make(i, g) for i, g in enumerate(self.generators(stream))]
        return torch.stack(parts).to(self.device)

    def gaussian(
        self, shape: Sequence[int], stream: int = 0, dtype: torch.dtype | None = None
    ) -> torch.Tensor:
        """``[S, *shape]`` standard normal draws, each member's from its own ``stream``.

        The same draws as :meth:`stack` with ``torch.randn(*shape, generator=g)``.
        """
        size = tuple(shape)
        return self.stack(lambda _, g: torch.randn(size, generator=g, dtype=dtype), stream)

    # -- schedule and logs ------------------------------------------------------------
    def due(self, step: int) -> bool:
        """Whether observables are due at ``step`` (the members share one schedule)."""
        return self.ctxs[0].due(step)

    @property
    def alive(self) -> torch.Tensor:
        """Boolean mask ``[S]`` of members still training: not diverged, not finished."""
        alive = ~(self._logged_dead | self._finished)
        for first in self._first_bad.values():
            alive = alive & (first < 0)
        return alive

    def finish_member(self, index: int, reason: str, step: int) -> None:
        """Stop member ``index`` early (its outcome decided), recorded with ``ctx.stop``.

        It is frozen and logs nothing more, exactly as its separate run would return.
        """
        self.ctxs[index].stop(reason, step)
        finished = torch.zeros(self.size, dtype=torch.bool)
        finished[index] = True
        self._finished = self._finished | finished.to(self.device)
        self.known_dead = True

    def check(self, step: int, **values: torch.Tensor) -> None:
        """Note members whose value became non-finite at ``step`` (no host synchronisation).

        The divergence is written to the member's context, and the member masked, at the
        next :meth:`log`, :meth:`any_alive` or :meth:`finish`. Until then its non-finite
        values cannot reach other members: members share no computation.
        """
        for name, value in values.items():
            first = self._first_bad.get(name)
            if first is None:
                first = torch.full((self.size,), -1, dtype=torch.int64, device=self.device)
            keep = torch.isfinite(value.detach().reshape(self.size)) | (first >= 0)
            self._first_bad[name] = torch.where(keep, first, step)

    def _record_divergences(self) -> np.ndarray:
        """Write newly seen divergences to the contexts; returns the alive mask on the host."""
        if self._first_bad:
            names = list(self._first_bad)
            firsts = torch.stack([self._first_bad[n] for n in names]).cpu().numpy()
            for i, ctx in enumerate(self.ctxs):
                bad = firsts[:, i] >= 0
                if bad.any() and ctx.diverged is None:
                    steps = np.where(bad, firsts[:, i], np.iinfo(np.int64).max)
                    k = int(np.argmin(steps))
                    ctx.diverged = Diverged(int(firsts[k, i]), names[k])
        alive = self.alive.cpu().numpy()
        self.known_dead = not bool(alive.all())
        return alive

    def log(self, step: int, **values: torch.Tensor | float | np.ndarray) -> None:
        """Log each member's values (shape ``[S]`` or scalars) into its own context.

        A member whose value is non-finite is recorded as diverged and masked; members
        already diverged are skipped.
        """
        arrays: dict[str, np.ndarray] = {}
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                array = value.detach().to("cpu", torch.float64).numpy().reshape(-1)
            else:
                array = np.asarray(value, dtype=np.float64).reshape(-1)
            arrays[name] = np.broadcast_to(array, (self.size,)) if array.size == 1 else array
        alive = self._record_divergences()
        newly_dead: list[int] = []
        for i, ctx in enumerate(self.ctxs):
            if not alive[i]:
                continue
            try:
                ctx.log_values(step, {name: float(array[i]) for name, array in arrays.items()})
            except Diverged as exc:
                ctx.diverged = exc
                newly_dead.append(i)
        if newly_dead:
            dead = torch.zeros(self.size, dtype=torch.bool)
            dead[newly_dead] = True
            self._logged_dead = self._logged_dead | dead.to(self.device)
            self.known_dead = True

    def log_member(self, index: int, step: int, **values: float) -> None:
        """Log values measured for member ``index`` alone (e.g. on a standalone copy).

        A non-finite value records the member as diverged and masks it.
        """
        ctx = self.ctxs[index]
        try:
            ctx.log_values(step, values)
        except Diverged as exc:
            ctx.diverged = exc
            dead = torch.zeros(self.size, dtype=torch.bool)
            dead[index] = True
            self._logged_dead = self._logged_dead | dead.to(self.device)
            self.known_dead = True

    def any_alive(self) -> bool:
        """Whether some member is still training (synchronises with the device).

        Also records divergences seen since the last synchronisation.
        """
        return bool(self._record_divergences().any())

    def finish(self) -> None:
        """Record every divergence seen so far on the members' contexts."""
        self._record_divergences()


def run_single(batched: Callable[[list[RunContext]], None], ctx: RunContext) -> None:
    """Train one run through a task's batched path, as a batch of one member.

    Raises
    ------
    Diverged
        If the member diverged (the executor records the run as diverged).
    """
    batched([ctx])
    diverged = getattr(ctx, "diverged", None)
    if diverged is not None:
        raise diverged
