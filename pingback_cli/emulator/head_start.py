"""`pingback run`'s worker, started first thing, so the two interpreters overlap.

The worker's start (an interpreter, the SDK, the user's project) is the floor of a run;
the CLI's own imports (Typer, asyncio, the engine, history, the emulator) are about as
long again. Started in series they add up; here ``start`` (called by the entry point,
before any of those imports) binds the API's socket and spawns the worker, and the
emulator (``Emulator._start`` via ``take``) adopts both when it is the same project on
the default loopback API. Whatever is not taken is killed at exit (a usage error, an
unknown name), so a head start never outlives the command or prints after it.

Imports only the standard library, ``project.config`` and the light ``sockets`` and
``executors.spawn``.
"""

from __future__ import annotations

import atexit
import contextlib
import socket
import time
from pathlib import Path

from pingback_cli.emulator.sockets import bind_socket, worker_api_url
from pingback_cli.executors.spawn import Spawned, spawn_worker
from pingback_cli.project.config import ProjectConfig, configure
from pingback_cli.record import Record

HOST = "127.0.0.1"
THREADS = 256
GRACE = 5.0
"""The worker settings `pingback run` starts with (``EmulatorOptions``, ``Supervisor``)."""


class HeadStart(Record):
    __slots__ = _fields = ("root", "app", "socket", "worker", "spawned_at")

    root: Path
    app: str | None
    socket: socket.socket
    worker: Spawned
    spawned_at: float
    """``time.monotonic()`` when the worker was started: its import of the project began then."""

    def __init__(
        self, root: Path, app: str | None, socket: socket.socket, worker: Spawned, spawned_at: float
    ) -> None:
        self.root = root
        self.app = app
        self.socket = socket
        self.worker = worker
        self.spawned_at = spawned_at


_waiting: HeadStart | None = None


def start(app: str | None) -> None:
    """Bind the API's socket and spawn the worker for the project ``app`` names (as
    ``--app`` does; None: the usual lookup). Any problem: nothing is started, and the
    command meets it again where it reports it properly."""
    global _waiting
    if _waiting is not None:
        return
    try:
        config = configure(app)
        sock = bind_socket(HOST, 0)
    except Exception:
        return
    spawned_at = time.monotonic()
    try:
        worker = spawn_worker(
            config, worker_api_url(HOST, sock.getsockname()[1]), threads=THREADS, grace=GRACE
        )
    except Exception:
        sock.close()
        return
    _waiting = HeadStart(config.root, config.app, sock, worker, spawned_at)
    atexit.register(discard)


def began() -> float | None:
    """``time.monotonic()`` when the waiting head start's worker began importing the project
    (the moment `run`'s import spinner counts from); None when there is none."""
    return _waiting.spawned_at if _waiting is not None else None


def take(config: ProjectConfig, host: str, port: int, *, worker: bool = True) -> HeadStart | None:
    """The head start, when it was made for this project and this API address and a worker
    is wanted (else it is discarded and None returned); the caller owns its socket and
    worker from then on."""
    global _waiting
    found, _waiting = _waiting, None
    if found is None:
        return None
    if worker and (found.root, found.app, host, port) == (config.root, config.app, HOST, 0):
        return found
    _close(found)
    return None


def discard() -> None:
    """Kill a head start nobody took (the command ended before its emulator started)."""
    global _waiting
    found, _waiting = _waiting, None
    if found is not None:
        _close(found)


def _close(found: HeadStart) -> None:
    found.worker.kill()
    with contextlib.suppress(OSError):
        found.socket.close()
