"""Start the worker subprocess (``python -m pingback_cli.worker``) with its two pipes.

Light on purpose (the standard library and ``project.config``): ``pingback run`` calls it
before the CLI imports Typer and the emulator (``emulator.head_start``), so the worker
imports the user's project while this process imports the rest.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from typing import Any

from pingback_cli.project.config import ProjectConfig, project_environment
from pingback_cli.record import Record
from pingback_cli.worker import API_ENV, APP_ENV, FDS_ENV, GRACE_ENV, MARKER_ENV, ROOT_ENV, THREADS_ENV

Identity = tuple[str, str, str, int, float]


class Spawned(Record):
    """A worker process and this side's ends of its pipes (file descriptors)."""

    __slots__ = _fields = ("process", "to_worker", "from_worker", "identity")

    process: subprocess.Popen[bytes]
    to_worker: int
    from_worker: int
    identity: Identity
    """(root, app, API URL, threads, grace): what it was started for."""

    def __init__(
        self, process: subprocess.Popen[bytes], to_worker: int, from_worker: int, identity: Identity
    ) -> None:
        self.process = process
        self.to_worker = to_worker
        self.from_worker = from_worker
        self.identity = identity

    def is_for(self, config: ProjectConfig, api_url: str, threads: int, grace: float) -> bool:
        return self.identity == _identity(config, api_url, threads, grace)

    def kill(self) -> None:
        """The worker's whole process group goes at once; the pipes close; it is reaped."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        for fd in (self.to_worker, self.from_worker):
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def _identity(
    config: ProjectConfig, api_url: str, threads: int, grace: float
) -> tuple[str, str, str, int, float]:
    return (str(config.root), config.app or "", api_url, threads, grace)


def spawn_worker(config: ProjectConfig, api_url: str, *, threads: int, grace: float) -> Spawned:
    """A new worker in its own session, importing ``config``'s project with its SDK pointed at
    ``api_url``; its stdout (the user's prints) goes to our stderr. OSError if it cannot start."""
    to_worker_read, to_worker_write = os.pipe()
    from_worker_read, from_worker_write = os.pipe()
    # The real environment plus the env files as they are now (never values an earlier
    # load derived from them): a reload after editing .env sees the edit.
    env = project_environment(config.root)
    env.update(
        {
            FDS_ENV: f"{to_worker_read},{from_worker_write}",
            ROOT_ENV: str(config.root),
            APP_ENV: config.app or "",
            MARKER_ENV: config.marker or "",
            API_ENV: api_url,
            THREADS_ENV: str(threads),
            GRACE_ENV: str(grace),
            "PYTHONUNBUFFERED": "1",
        }
    )
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "pingback_cli.worker"],
            cwd=config.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr.fileno() if _has_fileno(sys.stderr) else None,
            pass_fds=(to_worker_read, from_worker_write),
            start_new_session=True,
        )
    except BaseException:
        os.close(to_worker_write)
        os.close(from_worker_read)
        raise
    finally:
        os.close(to_worker_read)
        os.close(from_worker_write)
    return Spawned(process, to_worker_write, from_worker_read, _identity(config, api_url, threads, grace))


def _has_fileno(stream: Any) -> bool:
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True
