"""``pingback dev``: the emulator loop. Crons fire on schedule, the API takes triggers,
saves reload the worker, and everything lands in history until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pingback_cli import state as devstate
from pingback_cli.emulator.host import Emulator, EmulatorOptions
from pingback_cli.engine.cron_timer import CronScheduler
from pingback_cli.engine.engine import Event, Limits
from pingback_cli.errors import UsageError
from pingback_cli.executors.worker import ReloadResult
from pingback_cli.history.store import history_path
from pingback_cli.models import FunctionSpec
from pingback_cli.project.config import DEV_API_KEY, ProjectConfig

STOPPED = "interrupted: pingback dev stopped before this finished"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
WATCHED_NAMES = frozenset({".env", ".env.local", "pyproject.toml"})
IGNORED_DIRS = (".pingback", "venv", "env", "build", "dist", "site-packages", ".ruff_cache", ".next")
JS_EXTENSIONS = (".ts", ".tsx", ".js", ".mjs", ".cjs", ".mts", ".cts")
"""Watched too in endpoint mode, where a JS/TS project's functions come from a scan."""


@dataclass
class DevOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    reload: bool = True
    backoff: bool = True
    limits: Limits | None = None
    endpoint: str | None = None
    """Send executions to this running app instead of a worker (``--endpoint``)."""
    secret: str | None = None


@dataclass
class DevInfo:
    root: Path
    functions: list[FunctionSpec]
    api_url: str
    reload: bool
    history: Path
    next_runs: dict[str, float]
    endpoint: str | None = None


class DevView(Protocol):
    """How the emulator reports; the CLI renders, tests record."""

    def ready(self, info: DevInfo) -> None: ...

    def event(self, event: Event) -> None: ...

    def reloading(self, paths: list[str]) -> None: ...

    def reloaded(self, result: ReloadResult, seconds: float) -> None: ...

    def worker_restarted(self, message: str) -> None: ...

    def stopped(self, interrupted: int, kept: int = 0) -> None:
        """``kept``: executions left in the durable queue for the next dev."""
        ...


def serve(config: ProjectConfig, options: DevOptions, view: DevView) -> None:
    """Run the emulator until SIGINT or SIGTERM."""
    asyncio.run(_serve(config, options, view))


def _api_key_for(host: str) -> str | None:
    """Beyond loopback, every request must carry the project's (non-default) API key."""
    if host in LOOPBACK:
        return None
    key = os.environ.get("PINGBACK_API_KEY", "")
    if not key or key == DEV_API_KEY:
        raise UsageError(
            f"refusing to serve the API on {host} without a secret API key",
            hint="set PINGBACK_API_KEY to a secret value (clients send it as a Bearer token), "
            "or keep the default --host 127.0.0.1",
        )
    return key


async def _serve(config: ProjectConfig, options: DevOptions, view: DevView) -> None:
    """One dev per project: the lock is held from before the queue is taken over until the
    emulator has stopped (EmulatorRunning when another dev holds it)."""
    lock = devstate.DevLock(config.root)
    try:
        lock.acquire()
    except OSError as exc:
        raise UsageError(
            f"cannot create {lock.path.parent}: {exc.strerror or exc}",
            hint="check that the project directory is writable",
        ) from exc
    try:
        await _serve_locked(config, options, view)
    finally:
        lock.release()


async def _serve_locked(config: ProjectConfig, options: DevOptions, view: DevView) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    emulator = Emulator(
        config,
        EmulatorOptions(
            backoff=options.backoff,
            host=options.host,
            port=options.port,
            api_key=_api_key_for(options.host),
            limits=options.limits,
            grace=2.0,
            endpoint=options.endpoint,
            secret=options.secret,
            durable=True,
            dashboard=True,
        ),
        on_event=view.event,
        on_notice=view.worker_restarted,
    )
    watcher: asyncio.Task[None] | None = None
    scheduler: CronScheduler | None = None
    serving = asyncio.Event()

    async def reload(paths: list[str]) -> None:
        assert scheduler is not None
        view.reloading(paths)
        started = time.perf_counter()
        result = await emulator.reload()
        if result.ok:
            scheduler.schedule(emulator.functions())
        view.reloaded(result, time.perf_counter() - started)

    try:
        if options.reload:
            # Watch from the start: a save while the project imports (or right after the API
            # answers) is reloaded once serving, not missed.
            js = options.endpoint is not None
            watcher = loop.create_task(
                _watch(config.root, serving, stop, reload, js=js, on_failure=view.worker_restarted)
            )
        starting = asyncio.ensure_future(emulator.start())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await starting
            return
        starting.result()
        assert emulator.engine is not None and emulator.api is not None
        scheduler = CronScheduler(emulator.engine, emulator.clock, on_event=view.event)
        scheduler.schedule(emulator.functions())
        emulator.on_functions = scheduler.schedule  # endpoint mode: the app registered
        view.ready(
            DevInfo(
                root=config.root,
                functions=emulator.functions(),
                api_url=emulator.api.url,
                reload=options.reload,
                history=history_path(config.root),
                next_runs=scheduler.next_runs(),
                endpoint=options.endpoint,
            )
        )
        devstate.announce(config.root, emulator.api.url)
        serving.set()
        await stopping
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if scheduler is not None:
            scheduler.stop()
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        devstate.withdraw(config.root)
        await emulator.stop(STOPPED)
        view.stopped(emulator.interrupted_at_stop, emulator.kept)


def watch_filter(root: Path, *, js: bool = False):  # type: ignore[no-untyped-def]
    """Project sources, .env files and pyproject.toml; never history, caches or virtualenvs."""
    from watchfiles import DefaultFilter

    class ProjectFilter(DefaultFilter):
        def __init__(self) -> None:
            super().__init__(ignore_dirs=(*DefaultFilter.ignore_dirs, *IGNORED_DIRS))
            self._venvs: dict[Path, bool] = {}

        def __call__(self, change: object, path: str) -> bool:
            name = os.path.basename(path)
            if not (name.endswith(".py") or name in WATCHED_NAMES or (js and name.endswith(JS_EXTENSIONS))):
                return False
            # Judge only the part inside the project: a project that lives under a folder
            # named build/, env/ or dist/ (or inside a virtualenv) still reloads.
            try:
                inside = Path(path).relative_to(root)
            except ValueError:
                return False
            if not super().__call__(change, str(inside)):  # type: ignore[arg-type]
                return False
            return not any(self._is_venv(root / parent) for parent in inside.parents if parent != Path("."))

        def _is_venv(self, folder: Path) -> bool:
            if folder not in self._venvs:
                self._venvs[folder] = (folder / "pyvenv.cfg").exists()
            return self._venvs[folder]

    return ProjectFilter()


async def _watch(
    root: Path,
    serving: asyncio.Event,
    stop: asyncio.Event,
    reload: Callable[[list[str]], Awaitable[None]],
    *,
    js: bool = False,
    on_failure: Callable[[str], None] | None = None,
) -> None:
    """Reload on each batch of changes; changes seen before ``serving`` wait for it."""
    from watchfiles import awatch

    try:
        async for changes in awatch(root, watch_filter=watch_filter(root, js=js), step=20, stop_event=stop):
            await serving.wait()
            await reload(sorted({_relative(path, root) for _, path in changes}))
    except Exception as exc:  # e.g. the system's limit on watched files: say so, keep serving
        if on_failure is not None:
            on_failure(
                f"watching files stopped ({type(exc).__name__}: {exc}); saves no longer reload, "
                "restart `pingback dev` to watch again"
            )


def _relative(path: str, root: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(root))
    return path
