"""``landaulab watch STORE``: a live page of a store, served on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from landaulab.cli.app import app
from landaulab.errors import LandaulabError

DEFAULT_PORT = 8765


@app.command()
def watch(
    store: Annotated[Path, typer.Argument(help="store directory")] = Path("landaulab-store"),
    host: Annotated[
        str, typer.Option(help="address to listen on (default: this machine only)")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="port (0: pick a free one)")
    ] = DEFAULT_PORT,
    interval: Annotated[
        float, typer.Option(min=0.1, help="seconds between two readings of the store")
    ] = 1.0,
    order_parameter: Annotated[
        str | None,
        typer.Option("--order-parameter", help="order-parameter column (default: chosen)"),
    ] = None,
    control: Annotated[
        str | None, typer.Option("--control", help="control column (default: chosen)")
    ] = None,
    burn_in: Annotated[
        float, typer.Option("--burn-in", help="fraction of each run's steps dropped")
    ] = 0.5,
    analysis_budget: Annotated[
        float,
        typer.Option(
            "--analysis-budget", min=0, help="seconds one live analysis may take (0: no analysis)"
        ),
    ] = 60.0,
) -> None:
    """Serve a live page of STORE: progress, failures, phase diagram, trajectories, verdict."""
    from landaulab.late_time import check_burn_in
    from landaulab.store.store import Store

    Store(store)  # a missing or foreign directory ends here, in one line
    burn_in = check_burn_in(burn_in)
    try:
        from landaulab.watch.server import Watch, is_loopback, serve
    except ImportError as exc:
        raise LandaulabError(
            f"landaulab watch needs {exc.name}: pip install 'landaulab[watch]'"
        ) from None
    view = Watch(
        store,
        interval=interval,
        order_parameter=order_parameter,
        control=control,
        burn_in=burn_in,
        analysis_budget=analysis_budget,
    )
    if not is_loopback(host):
        typer.echo(
            f"warning: listening on {host}: anyone who can reach this machine can read the store",
            err=True,
        )

    def ready(url: str) -> None:
        typer.echo(f"watching {store} at {url} (Ctrl-C stops)")

    serve(view, host=host, port=port, on_ready=ready)
