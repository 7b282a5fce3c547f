"""The typer application every command module attaches to."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="landaulab",
    help="Landau theory of phase transitions for neural-network training dynamics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
