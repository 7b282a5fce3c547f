"""Train the members of an ensemble: batched through the task's batched path, or one by one."""

from __future__ import annotations

from collections.abc import Sequence

from landaulab.errors import Diverged
from landaulab.record.context import RunContext
from landaulab.tasks.registry import TaskInfo
from landaulab.train.policy import should_batch


def train_members(
    task: TaskInfo,
    ctxs: Sequence[RunContext],
    *,
    batching: str = "auto",
    flops_per_member_step: float | None = None,
) -> bool:
    """Train every member; a member that diverges gets ``ctx.diverged`` and the rest go on.

    Parameters
    ----------
    task
        The task (its ``batched`` path is used when batching is chosen).
    ctxs
        One context per member; in batched mode they must share every setting outside the
        task's ``batch_keys``.
    batching
        ``"auto"``, ``"batch"`` or ``"sequential"`` (see
        :func:`landaulab.train.policy.should_batch`); ``"auto"`` follows the task's
        ``prefers_batching`` unless ``flops_per_member_step`` is given.
    flops_per_member_step
        Arithmetic of one member's step, for the automatic choice.

    Returns
    -------
    Whether the members were trained as one batch.
    """
    ctxs = list(ctxs)
    if flops_per_member_step is None and batching == "auto":
        batched = task.prefers_batching and len(ctxs) > 1
    else:
        batched = should_batch(
            len(ctxs),
            batching=batching,
            flops_per_member_step=flops_per_member_step,
            device=ctxs[0].device if ctxs else "auto",
        )
    if batched and task.batched is not None:
        task.batched(ctxs)
        return True
    for ctx in ctxs:
        try:
            task.function(ctx)
        except Diverged as exc:
            ctx.diverged = exc  # type: ignore[attr-defined]
    return False
