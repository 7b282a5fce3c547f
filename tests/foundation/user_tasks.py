"""A user task given as ``package.module:function`` in sweep specs of the tests."""

from __future__ import annotations

from landaulab.record.context import RunContext


def flaky(ctx: RunContext) -> None:
    """Log a decaying signal; raise part-way when ``fail`` is set."""
    for step in range(int(ctx.params["steps"]) + 1):
        if ctx.params.get("fail") and step == 7:
            raise RuntimeError("simulated failure in a user's training loop")
        if ctx.due(step):
            ctx.log(step, m=1.0 / (1.0 + step + ctx.seed))
