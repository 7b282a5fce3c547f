"""The watch page's server: a Starlette application served by uvicorn.

Routes:

``GET /``
    The page (its script and style are served by the package, never from elsewhere).
``GET /api/state?observable=NAME``
    Everything the page shows, as JSON (see :meth:`StoreView.snapshot`), plus the analysis
    state under ``analysis``.
``GET /api/events``
    Server-sent events: an event ``state`` with ``{"version": n}`` whenever the store or
    the analysis changed; the page then fetches ``/api/state``.

A background task re-reads the store every ``interval`` seconds (in a worker thread, so the
event loop never waits on the disk) and hands the number of finished runs to the analysis
worker (:class:`~landaulab.watch.verdict.Verdicts`), which runs off the request path.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from landaulab.errors import LandaulabError
from landaulab.late_time import BURN_IN
from landaulab.watch.page import PAGE, SCRIPT, STYLE
from landaulab.watch.state import StoreView
from landaulab.watch.verdict import BUDGET_S, Runner, Verdicts

#: Default port of ``landaulab watch``.
DEFAULT_PORT = 8765
#: Seconds between two readings of the store.
INTERVAL_S = 1.0
#: Seconds between two checks of an event stream for news.
EVENT_CHECK_S = 0.2

_HEADERS = {
    "Cache-Control": "no-store",
    # Everything the page loads comes from this server; nothing is fetched elsewhere.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
}


class Watch:
    """A store view, its analysis worker, and the loop that keeps both current."""

    def __init__(
        self,
        store: str | os.PathLike[str],
        *,
        interval: float = INTERVAL_S,
        order_parameter: str | None = None,
        control: str | None = None,
        burn_in: float = BURN_IN,
        analysis_budget: float = BUDGET_S,
        runner: Runner | None = None,
    ) -> None:
        self.view = StoreView(
            store, order_parameter=order_parameter, control=control, burn_in=burn_in
        )
        self.interval = interval
        self.verdicts = Verdicts(
            {
                "path": str(self.view.store.path.resolve()),
                "order_parameter": order_parameter,
                "control": control,
                "burn_in": burn_in,
            },
            budget=analysis_budget,
            on_change=self.view.bump,
            runner=runner,
        )
        self.verdicts.update(self.view.finished_key)

    @property
    def version(self) -> int:
        """Grows whenever what the page shows changed."""
        return self.view.version

    def refresh(self) -> bool:
        """Re-read the store if it changed (and start the analysis of a new state)."""
        changed = self.view.refresh()
        if changed:
            self.verdicts.update(self.view.finished_key)
        return changed

    def state(self, observable: str | None = None) -> dict[str, Any]:
        """The JSON of ``/api/state``."""
        snapshot = self.view.snapshot(observable)
        snapshot["analysis"] = self.verdicts.state()
        return snapshot

    async def run(self) -> None:
        """Re-read the store every ``interval`` seconds (or twice the time the last reading
        took, when that is longer), forever.

        A reading that fails (a run being replaced right now, a file that cannot be read)
        is reported once on stderr and tried again at the next interval, so the page keeps
        its last state instead of freezing.
        """
        last_problem = None
        took = 0.0
        while True:
            # a large store that takes long to read is read less often (at most half the time)
            await asyncio.sleep(max(self.interval, 2 * took))
            start = time.monotonic()
            try:
                await run_in_threadpool(self.refresh)
            except Exception as exc:
                problem = f"{type(exc).__name__}: {exc}".splitlines()[0]
                if problem != last_problem:
                    print(f"warning: reading the store failed ({problem})", file=sys.stderr)
                last_problem = problem
            else:
                last_problem = None
            took = time.monotonic() - start

    def close(self) -> None:
        """Stop the running analysis and start no further ones."""
        self.verdicts.close()


def create_app(watch: Watch, *, allowed_hosts: list[str] | None = None) -> Starlette:
    """The ASGI application of ``watch``.

    Parameters
    ----------
    watch
        What to serve.
    allowed_hosts
        Host names the page answers to (guards a loopback server against DNS
        rebinding); ``None`` for any.
    """

    async def page(request: Request) -> Response:
        return Response(PAGE, media_type="text/html; charset=utf-8", headers=_HEADERS)

    async def script(request: Request) -> Response:
        return Response(SCRIPT, media_type="text/javascript; charset=utf-8", headers=_HEADERS)

    async def style(request: Request) -> Response:
        return Response(STYLE, media_type="text/css; charset=utf-8", headers=_HEADERS)

    async def state(request: Request) -> Response:
        observable = request.query_params.get("observable") or None
        payload = await run_in_threadpool(watch.state, observable)
        return JSONResponse(payload, headers=_HEADERS)

    async def events(request: Request) -> Response:
        async def stream() -> AsyncIterator[dict[str, str]]:
            last = None
            while True:
                version = watch.version
                if version != last:
                    last = version
                    yield {"event": "state", "data": json.dumps({"version": version})}
                await asyncio.sleep(EVENT_CHECK_S)

        return EventSourceResponse(stream(), ping=15, headers={"Cache-Control": "no-store"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(watch.run())
        try:
            yield
        finally:
            watch.close()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    middleware = []
    if allowed_hosts is not None:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    routes = [
        Route("/", page),
        Route("/watch.js", script),
        Route("/watch.css", style),
        Route("/api/state", state),
        Route("/api/events", events),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.watch = watch
    return app


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (``127.0.0.1``, ``::1``, ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts_for(host: str) -> list[str] | None:
    """The Host headers accepted when listening on ``host`` (``None``: any, for a wildcard
    address such as ``0.0.0.0``, which any name of the machine may reach)."""
    bare = host.strip("[]")
    try:
        if ipaddress.ip_address(bare).is_unspecified:
            return None
    except ValueError:
        pass
    names = {bare, f"[{bare}]" if ":" in bare else bare}
    if is_loopback(host):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    return sorted(names)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free port).

    Raises
    ------
    LandaulabError
        The address cannot be used (taken, not this machine's, unknown name).
    """
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise LandaulabError(f"--host {host}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise LandaulabError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The page's address on a bound socket."""
    host, port = sock.getsockname()[:2]
    if ipaddress.ip_address(host).is_unspecified:
        host = "127.0.0.1" if sock.family == socket.AF_INET else "::1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(
    watch: Watch,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    on_ready: Callable[[str], None] = print,
) -> None:
    """Serve the page of ``watch`` until interrupted; ``on_ready`` gets its address.

    Raises
    ------
    LandaulabError
        The address cannot be used.
    """
    import uvicorn

    sock = bind(host, port)
    app = create_app(watch, allowed_hosts=allowed_hosts_for(host))
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        server_header=False,
    )
    server = uvicorn.Server(config)
    on_ready(url_of(sock))
    try:
        server.run(sockets=[sock])
    finally:
        watch.close()
        sock.close()
