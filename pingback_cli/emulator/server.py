"""Serve an ASGI app with uvicorn on a socket bound up front, inside the running event loop.

Binding comes first and is cheap, so the worker can be told the API's address and
start importing the project while uvicorn itself is still being imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable, Mapping
from typing import Any

from pingback_cli.emulator.sockets import WORKER_PREFIX, api_url, bind_socket
from pingback_cli.errors import UsageError
from pingback_cli.project.config import DEV_API_KEY

__all__ = ["WORKER_PREFIX", "ApiServer", "api_key_for"]

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def api_key_for(host: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Beyond loopback, every request must carry the project's (non-default) API key, from
    ``environ`` (the project's environment; default ``os.environ``)."""
    if host in LOOPBACK:
        return None
    key = (os.environ if environ is None else environ).get("PINGBACK_API_KEY", "")
    if not key or key == DEV_API_KEY:
        raise UsageError(
            f"refusing to serve the API on {host} without a secret API key",
            hint="set PINGBACK_API_KEY to a secret value (clients send it as a Bearer token), "
            "or keep the default --host 127.0.0.1",
        )
    return key


class ApiServer:
    """One local server: whatever app it serves answers behind ``emulator.guard.RequestGuard``
    (Host, origin and content type checked before any route); ``api_key``: the API's bearer key
    when bound beyond loopback."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, api_key: str | None = None) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self._socket: socket.socket | None = None
        self._server: Any = None
        self._task: asyncio.Task[None] | None = None
        self._starting: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return api_url(self.host, self.port)

    def bind(self, sock: socket.socket | None = None) -> None:
        """Listen on host:port now (CannotListen if that cannot be), or adopt ``sock``, a
        socket ``sockets.bind_socket`` made for them before (the port it got included)."""
        if sock is None:
            sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._socket = sock

    async def serve(self, app: Any) -> None:
        """Start serving ``app`` (behind the request guard) on the bound socket; returns once it
        accepts requests."""
        import uvicorn

        from pingback_cli.emulator.guard import RequestGuard

        class QuietServer(uvicorn.Server):
            """uvicorn without its own signal handlers: the emulator owns Ctrl-C."""

            @contextlib.contextmanager
            def capture_signals(self):  # type: ignore[no-untyped-def]
                yield

        if self._socket is None:
            self.bind()
        config = uvicorn.Config(
            RequestGuard(app, host=self.host, api_key=self.api_key),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = QuietServer(config)
        self._task = asyncio.get_running_loop().create_task(self._server.serve(sockets=[self._socket]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.002)

    async def start(self, make_app: Callable[[], Any], *, on_demand: bool = False) -> None:
        """Serve ``make_app()`` now, or with ``on_demand`` from the first connection on."""
        if on_demand:
            self.serve_on_demand(make_app)
        else:
            await self.serve(make_app())

    def serve_on_demand(self, make_app: Callable[[], Any]) -> None:
        """Serve ``make_app()`` once the first client connects, not before: a one-shot
        `run` whose handlers never call the API never imports the web stack (Starlette,
        uvicorn: about a third of its start-up). The connection waits in the socket's
        backlog meanwhile and is accepted as soon as uvicorn starts."""
        if self._socket is None:
            self.bind()
        sock = self._socket
        assert sock is not None
        loop = asyncio.get_running_loop()

        def first_connection() -> None:
            loop.remove_reader(sock)
            self._starting = loop.create_task(self.serve(make_app()))

        loop.add_reader(sock, first_connection)

    async def stop(self) -> None:
        if self._socket is not None and self._starting is None and self._server is None:
            with contextlib.suppress(ValueError, OSError):
                asyncio.get_running_loop().remove_reader(self._socket)
        if self._starting is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._starting), 5)
        if self._server is None or self._task is None:
            if self._socket is not None:
                self._socket.close()
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._task, 5)
