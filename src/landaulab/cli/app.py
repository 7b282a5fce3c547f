"""The typer application every command module attaches to."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="landaulab",
    help="Landau theory of phase transitions for neural-network training dynamics.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from landaulab import __version__

        typer.echo(f"landaulab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="print the version and exit",
        ),
    ] = False,
) -> None:
    """Landau theory of phase transitions for neural-network training dynamics."""
