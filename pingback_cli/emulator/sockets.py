"""The platform API's listening socket, and the address the project's worker is given.

Light on purpose (``socket`` only): `pingback run` binds it before the CLI imports Typer and
the emulator (``emulator.head_start``); ``server.ApiServer`` binds it otherwise.
"""

from __future__ import annotations

import socket

from pingback_cli.errors import CannotListen

WORKER_PREFIX = "/__worker"
"""The API's routes again under this prefix for the project's own worker: its SDK's
registration is the project's load itself, not a deploy."""


def bind_socket(host: str, port: int) -> socket.socket:
    """A non-blocking TCP socket listening on ``host:port`` (0: any free port); CannotListen
    when the address is taken or not ours."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted sockets only then, and
    # without it every keep-alive request waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CannotListen(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="is another `pingback dev` running? choose another --port",
        ) from None
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def api_url(host: str, port: int) -> str:
    """``http://host:port`` (an IPv6 host in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def worker_api_url(host: str, port: int) -> str:
    """Where the worker's SDK reaches the API: under ``WORKER_PREFIX``, on loopback when the
    API listens on every interface."""
    if host in ("0.0.0.0", "::", ""):
        return f"http://127.0.0.1:{port}{WORKER_PREFIX}"
    return api_url(host, port) + WORKER_PREFIX
