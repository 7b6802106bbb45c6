"""``pingback dev``: the emulator loop. Crons fire on schedule, the API takes triggers,
saves reload the worker, and everything lands in history until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from pingback_cli import state as devstate
from pingback_cli.emulator.host import Emulator
from pingback_cli.emulator.options import EmulatorOptions
from pingback_cli.emulator.server import LOOPBACK
from pingback_cli.emulator.signals import stop_on_signals
from pingback_cli.engine.engine import Event
from pingback_cli.errors import CannotListen, UsageError
from pingback_cli.executors.base import ReloadResult
from pingback_cli.history.store import history_path
from pingback_cli.models import FunctionSpec
from pingback_cli.project.config import ProjectConfig, project_environment
from pingback_cli.record import Record

STOPPED = "interrupted: pingback dev stopped before this finished"
WATCHED_NAMES = frozenset({".env", ".env.local", "pyproject.toml"})


class DevOptions(EmulatorOptions):
    """The emulator's options with ``dev``'s defaults, and whether saves reload."""

    __slots__ = ("reload",)
    _fields = (*EmulatorOptions._fields, "reload")

    def __init__(
        self, *, port: int = 8765, grace: float = 2.0, crons: bool = True, interrupt_reason: str = STOPPED,
        durable: bool = True, dashboard: bool = True, reload: bool = True, restart_at_once: bool = True,
        **others: Any,
    ) -> None:  # fmt: skip
        super().__init__(
            port=port, grace=grace, crons=crons, interrupt_reason=interrupt_reason, durable=durable,
            dashboard=dashboard, restart_at_once=restart_at_once, **others,
        )  # fmt: skip
        self.reload = reload


class DevInfo(Record):
    __slots__ = _fields = (
        "root", "functions", "api_url", "reload", "history", "next_runs", "endpoint", "concurrency"
    )  # fmt: skip

    root: Path
    functions: list[FunctionSpec]
    api_url: str
    reload: bool
    history: Path
    next_runs: dict[str, float]
    endpoint: str | None
    concurrency: str
    """"platform" or "documented" (``engine.slots``)."""

    def __init__(
        self, root: Path, functions: list[FunctionSpec], api_url: str, reload: bool, history: Path,
        next_runs: dict[str, float], endpoint: str | None = None, concurrency: str = "platform",
    ) -> None:  # fmt: skip
        self.root = root
        self.functions = functions
        self.api_url = api_url
        self.reload = reload
        self.history = history
        self.next_runs = next_runs
        self.endpoint = endpoint
        self.concurrency = concurrency


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
    """Run the emulator until SIGINT or SIGTERM.

    Raises UsageError (e.g. a host beyond loopback without an API key), ProjectError (the
    project cannot load), Interrupted (stopped before it was serving)."""
    with devstate.kept_only_for_a_project(config.root):
        try:
            asyncio.run(_serve(config, options, view))
        except CannotListen:
            # The API binds while the worker imports the project (a faster start), so a taken
            # port is found first: in a folder that is no project, that is the error to fix.
            if options.endpoint is None:
                from pingback_cli.project.discovery import ensure_project

                ensure_project(config)
            raise


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
    async with stop_on_signals() as stop:
        emulator = Emulator(config, options, on_event=view.event, on_notice=view.worker_restarted, stop=stop)
        serving = asyncio.Event()

        settings = _start_settings(config, options)

        async def reload(paths: list[str]) -> None:
            view.reloading(paths)
            started = time.perf_counter()
            result = await emulator.reload()  # the new worker reads the env files as they are now
            view.reloaded(result, time.perf_counter() - started)
            if ENV_FILE_NAMES & {Path(path).name for path in paths}:
                for message in _settings_needing_restart(config, settings):
                    view.worker_restarted(message)

        # Watch from the start: a save while the project imports (or right after the API
        # answers) is reloaded once serving, not missed.
        watcher = (
            asyncio.get_running_loop().create_task(
                _watch(
                    config.root,
                    serving,
                    stop,
                    reload,
                    js=options.endpoint is not None,
                    on_failure=view.worker_restarted,
                )
            )
            if options.reload
            else None
        )
        try:
            async with emulator:
                # Found before the banner says so: a `pingback trigger` run on seeing it finds dev.
                devstate.announce(config.root, emulator.url)
                try:
                    view.ready(_info(config, options, emulator))
                    serving.set()
                    await stop.wait()
                finally:
                    await _cancel(watcher)
                    devstate.withdraw(config.root)
        finally:
            await _cancel(watcher)
        unfinished = [e for root in emulator.interrupted for e in root.walk() if e.status == "interrupted"]
        view.stopped(len(unfinished) + emulator.interrupted_at_stop, emulator.kept)


def _info(config: ProjectConfig, options: DevOptions, emulator: Emulator) -> DevInfo:
    return DevInfo(
        root=config.root,
        functions=emulator.functions(),
        api_url=emulator.url,
        reload=options.reload,
        history=history_path(config.root),
        next_runs=emulator.next_runs(),
        endpoint=options.endpoint,
        concurrency=emulator.concurrency,
    )


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None and not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


ENV_FILE_NAMES = frozenset({".env", ".env.local"})

_SETTING_USES = {
    "PINGBACK_API_KEY": "the key the API requires beyond loopback",
    "PINGBACK_CRON_SECRET": "the secret requests to --endpoint are signed with",
    "PINGBACK_APP": "which code is loaded",
}


def _start_settings(config: ProjectConfig, options: DevOptions) -> dict[str, str | None]:
    """The env values the engine itself read at start (the worker rereads its own on reload)."""
    environment = project_environment(config.root)
    keys = []
    if options.host not in LOOPBACK:
        keys.append("PINGBACK_API_KEY")
    if options.endpoint is not None and options.secret is None:
        keys.append("PINGBACK_CRON_SECRET")
    if config.app is not None and config.app == environment.get("PINGBACK_APP"):
        keys.append("PINGBACK_APP")
    return {key: environment.get(key) for key in keys}


def _settings_needing_restart(config: ProjectConfig, started: dict[str, str | None]) -> list[str]:
    """One line per engine setting whose env value changed since start: it needs a restart."""
    now = project_environment(config.root)
    return [
        f"{key} changed in the env files; pingback dev still uses the value it started with for "
        f"{_SETTING_USES[key]}: restart it to apply"
        for key, value in started.items()
        if now.get(key) != value
    ]


def watch_filter(root: Path, *, js: bool = False):  # type: ignore[no-untyped-def]
    """Sources, .env files and pyproject.toml in the folders the project's file rule keeps
    (``project/files.py``: the same rule discovery follows, symlinked folders included);
    never history, caches, builds or virtualenvs; never editor swap files."""
    from watchfiles import DefaultFilter

    from pingback_cli.project.files import JS_EXTENSIONS, belongs  # JS: watched in endpoint mode

    class ProjectFilter(DefaultFilter):
        def __init__(self) -> None:
            super().__init__(ignore_dirs=())  # folders are the file rule's to judge

        def __call__(self, change: object, path: str) -> bool:
            name = os.path.basename(path)
            if not (name.endswith(".py") or name in WATCHED_NAMES or (js and name.endswith(JS_EXTENSIONS))):
                return False
            # Judge only the part inside the project: a project that lives under a folder
            # named build/, env/ or dist/ (or inside a virtualenv) still reloads.
            if not belongs(root, Path(path)):
                return False
            return bool(super().__call__(change, name))  # type: ignore[arg-type]

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
