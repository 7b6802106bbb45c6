"""The local platform: engine + worker supervisor + history + platform API, wired together.

``pingback run`` starts one for a single execution tree, ``pingback dev`` keeps
one running. It is also the ``Platform`` the API routes call into.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pingback_cli.emulator.server import ApiServer
from pingback_cli.engine.clock import Clock, SystemClock
from pingback_cli.engine.engine import Engine, Event, Limits, Unavailable
from pingback_cli.errors import HistoryError
from pingback_cli.executors.worker import ReloadResult, Supervisor
from pingback_cli.history.queue import DEV_QUEUE, take_over
from pingback_cli.history.store import Store, history_path
from pingback_cli.models import Execution, FunctionSpec
from pingback_cli.project.config import DEV_CRON_SECRET, ProjectConfig
from pingback_cli.project.durations import DEFAULT_TIMEOUT_SECONDS
from pingback_cli.project.manifest import write_manifest
from pingback_cli.project.specs import build_specs

if TYPE_CHECKING:
    from pingback_cli.executors.http import HttpExecutor

FLUSH_INTERVAL = 0.1


@dataclass
class EmulatorOptions:
    backoff: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    api_key: str | None = None
    """Required from clients when set (always set when binding beyond loopback)."""
    limits: Limits | None = None
    """None: from ``[tool.pingback]`` (max-depth, max-executions-per-root), else the defaults."""
    grace: float = 5.0
    endpoint: str | None = None
    """Endpoint mode: attempts are signed POSTs to this URL (the user's running app), no worker."""
    secret: str | None = None
    """The cron secret requests to ``endpoint`` are signed with; default PINGBACK_CRON_SECRET."""
    durable: bool = False
    """Keep unfinished work in history's durable queue (``pingback dev``): take over what a
    stopped dev left at start, keep what is unfinished at stop (``history.queue``)."""
    dashboard: bool = False
    """Serve the web dashboard on the API's port (`pingback dev`); `run` does not."""


STOPPED_DURING_ATTEMPT = "pingback dev stopped during this attempt"


@dataclass
class ReloadRecord:
    """The last reload, as the dashboard's header shows it."""

    at: float
    changes: str | None
    error: str | None


class Emulator:
    def __init__(
        self,
        config: ProjectConfig,
        options: EmulatorOptions | None = None,
        *,
        on_event: Callable[[Event], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.options = options or EmulatorOptions()
        self.clock = clock or SystemClock()
        self.on_event = on_event
        self.on_notice = on_notice
        self.registered: dict[str, FunctionSpec] = {}
        self.store: Store | None = None
        self.api: ApiServer | None = None
        self.supervisor: Supervisor | None = None
        self.engine: Engine | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._flush_scheduled = False
        self.ready = False
        self.stopping = False
        """Set by ``stop()``: the API refuses new triggers (503)."""
        self.history_error: HistoryError | None = None
        """The first failure to write history; ``stop()`` raises it."""
        self.http: HttpExecutor | None = None
        """Endpoint mode's executor (None in worker mode)."""
        self.discovered: list[FunctionSpec] = []
        self.language = "python"
        self.forwarded: dict[str, FunctionSpec] = {}
        self.warnings: list[str] = []
        self.kept = 0
        """Durable mode: how many executions ``stop()`` left queued for the next dev."""
        self.interrupted_at_stop = 0
        """Durable mode: how many ``stop()`` ended ``interrupted`` (a running attempt, no retries left)."""
        self.on_functions: Callable[[list[FunctionSpec]], None] | None = None
        """Called when endpoint mode's function list changes (the cron clock re-arms)."""
        self.listeners: list[Callable[[Event], None]] = []
        """Also told every engine event (the dashboard's live updates), after ``on_event``."""
        self.reloading = False
        self.last_reload: ReloadRecord | None = None

    # --- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        self.store = Store(history_path(self.config.root), queue=DEV_QUEUE if self.options.durable else None)
        if self.store.moved_aside is not None:
            self._notice(f"the history file was corrupt: moved it to {self.store.moved_aside}")
        recovered = self.store.recover()
        if recovered:
            self._notice(
                f"{recovered} execution{'s' if recovered != 1 else ''} left unfinished by a pingback "
                "process that was killed are now marked interrupted"
            )
        self.engine = Engine(
            self,  # attempts go through start_attempt below, to whichever worker is current
            functions=[],
            clock=self.clock,
            store=self.store,
            backoff=self.options.backoff,
            limits=self.options.limits or Limits.from_settings(self.config.settings),
            on_event=self._on_event,
        )
        # Bind first, so the worker knows the API's address and imports the project
        # while this process imports and starts the web stack.
        self.api = ApiServer(self.options.host, self.options.port)
        self.api.bind()
        loading: asyncio.Future[list[dict[str, Any]]] | None = None
        if self.options.endpoint is None:
            self.supervisor = Supervisor(
                self.config,
                self._worker_api_url(),
                on_log=self.engine.on_worker_log,
                on_restart=self.on_notice,
                grace=self.options.grace,
            )
            loading = asyncio.ensure_future(self.supervisor.start())
        try:
            from pingback_cli.emulator.api import create_app

            await self.api.serve(create_app(self, api_key=self.options.api_key, extra=self._dashboard()))
        except BaseException:
            if loading is not None:
                loading.cancel()
            raise
        if loading is None:
            assert self.options.endpoint is not None
            self._start_endpoint(self.options.endpoint)
        else:
            self._set_functions(build_specs(await loading))
        if self.options.durable:
            self._take_over_queue()
        self.ready = True
        self._flusher = asyncio.get_running_loop().create_task(self._flush_forever())

    def _take_over_queue(self) -> None:
        """Resume what a stopped (or killed) dev left in the durable queue, and say so."""
        assert self.engine is not None and self.store is not None
        trees = take_over(self.store)
        if not trees:
            return
        taken = self.engine.resume(trees, reason=STOPPED_DURING_ATTEMPT)
        now = self.clock.now()
        waiting = [e for e in taken if not e.finished]
        overdue = sum(1 for e in waiting if (e.due_at or now) <= now)
        ended = len(taken) - len(waiting)
        parts = [f"{len(waiting)} queued execution{'s' if len(waiting) != 1 else ''} taken over"]
        if waiting:
            parts[0] += f" ({overdue} due now, {len(waiting) - overdue} later)"
        if ended:
            parts.append(f"{ended} interrupted (no retries left)")
        self._notice("from the last `pingback dev`: " + "; ".join(parts))
        self._flush()

    def _dashboard(self) -> list[Any]:
        """The dashboard's routes when it is served (imported only then: `run` stays light)."""
        if not self.options.dashboard:
            return []
        from pingback_cli.dashboard.app import dashboard_routes
        from pingback_cli.dashboard.source import EmulatorSource

        return dashboard_routes(EmulatorSource(self), host=self.options.host, api_key=self.options.api_key)

    def _on_event(self, event: Event) -> None:
        if event.kind == "finished":
            self._flush_soon()
        if self.on_event is not None:
            self.on_event(event)
        for listener in self.listeners:
            with contextlib.suppress(Exception):
                listener(event)

    def _flush_soon(self) -> None:
        """A finished tree is in history within a loop turn, not at the next periodic flush."""
        if not self._flush_scheduled and self.store is not None:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_now)

    def _flush_now(self) -> None:
        self._flush_scheduled = False
        self._flush()

    def _flush(self) -> None:
        """Write what is buffered. A history that cannot be written (locked past the busy
        timeout, read-only) is said once and kept: ``stop()`` raises it, so the command ends
        with that error instead of a traceback in a loop callback and a quiet exit 0."""
        if self.store is None:
            return
        try:
            self.store.flush()
        except HistoryError as exc:
            if self.history_error is None:
                self.history_error = exc
                self._notice(f"history is not being saved: {exc.message}")

    def _notice(self, message: str) -> None:
        if self.on_notice is not None:
            self.on_notice(message)

    def _set_functions(self, specs: list[FunctionSpec]) -> None:
        """Use a successful load's functions, and refresh the completion manifest."""
        assert self.engine is not None
        self.engine.set_functions(specs)
        write_manifest(self.config.root, specs)

    def _worker_api_url(self) -> str:
        assert self.api is not None
        if self.options.host in ("0.0.0.0", "::", ""):
            return f"http://127.0.0.1:{self.api.port}"
        return self.api.url

    def start_attempt(self, request: Any) -> asyncio.Future[Any]:
        if self.http is not None:
            return self.http.start_attempt(request)
        assert self.supervisor is not None
        return self.supervisor.start_attempt(request)

    async def reload(self) -> ReloadResult:
        if self.http is not None:
            return self._rediscover()
        assert self.supervisor is not None
        self.reloading = True
        try:
            # Invalid options after a save refuse the new worker; the old one keeps serving.
            result = await self.supervisor.reload(accept=lambda raw: self._set_functions(build_specs(raw)))
        finally:
            self.reloading = False
        self._record_reload(result)
        return result

    def _record_reload(self, result: ReloadResult) -> None:
        changes = "; ".join(
            f"{label}: {', '.join(names)}"
            for label, names in (
                ("added", result.added),
                ("removed", result.removed),
                ("changed", result.changed),
            )
            if names
        )
        error = None if result.ok else (result.error.message if result.error else "unknown error")
        self.last_reload = ReloadRecord(self.clock.now(), changes or None, error)

    async def _flush_forever(self) -> None:
        """Write buffered executions on the loop, where they change.

        Not on a thread: the sqlite module takes the GIL back for every row it binds,
        and the loop then waits up to a switch interval after each of its own syscalls.
        """
        assert self.store is not None
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            self._flush()

    async def stop(
        self, reason: str = "interrupted: the emulator stopped", *, grace: float | None = None
    ) -> list[Execution]:
        """Interrupt what is unfinished, stop the worker and the API, flush history.

        ``grace`` overrides how long handlers still running in the worker may finish."""
        interrupted: list[Execution] = []
        self.stopping = True  # triggers arriving from now on are refused (503), not lost
        interrupted = self._halt(reason)
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        if self.supervisor is not None:
            await self.supervisor.aclose(grace)
        if self.http is not None:
            await self.http.aclose()
        if self.api is not None:
            await self.api.stop()
        interrupted += self._halt(reason)  # what started while the worker stopped
        if self.store is not None:
            store, self.store = self.store, None  # a flush scheduled meanwhile finds no store
            try:
                store.close()
            except HistoryError as exc:
                self.history_error = self.history_error or exc
        if self.history_error is not None:
            raise self.history_error
        return interrupted

    def _halt(self, reason: str) -> list[Execution]:
        """Stop the engine: durable mode keeps the queue (counted in ``kept`` and
        ``interrupted_at_stop``); otherwise unfinished work ends ``interrupted`` (its roots)."""
        if self.engine is None:
            return []
        if self.options.durable:
            kept, ended = self.engine.suspend(STOPPED_DURING_ATTEMPT)
            self.kept += kept
            self.interrupted_at_stop += ended
            return []
        return self.engine.interrupt(reason) if self.engine.busy else []

    # --- endpoint mode --------------------------------------------------------------

    def _start_endpoint(self, endpoint: str) -> None:
        from pingback_cli.executors.http import HttpExecutor
        from pingback_cli.project.discovery import discover_project

        secret = self.options.secret or os.environ.get("PINGBACK_CRON_SECRET") or DEV_CRON_SECRET
        self.http = HttpExecutor(endpoint, secret)
        found = discover_project(self.config, lenient=True)
        self.discovered, self.language = found.specs, found.language
        for warning in found.warnings:
            self._warn(warning)
        self._publish()

    def _warn(self, message: str) -> None:
        """Endpoint mode's discovery notes (skipped calls, forwarded names), said once each."""
        if message not in self.warnings:
            self.warnings.append(message)
            self._notice(message)

    def _publish(self) -> None:
        """Endpoint mode's functions: those found in the project, then those the app
        registered (which win), then names forwarded without being known."""
        merged = {spec.name: spec for spec in self.discovered}
        merged.update(self.registered)
        for name, spec in self.forwarded.items():
            merged.setdefault(name, spec)
        self._set_functions(list(merged.values()))
        if self.on_functions is not None:
            self.on_functions(list(merged.values()))

    def forward(self, name: str) -> FunctionSpec:
        """Endpoint mode: accept a name the project does not declare, with the platform's
        default options; the app answers 404 if it has no such function either."""
        spec = FunctionSpec(
            name=name,
            type="task",
            schedule=None,
            retries=0,
            timeout=None,
            timeout_seconds=DEFAULT_TIMEOUT_SECONDS,
            concurrency=1,
        )
        self.forwarded[name] = spec
        self._warn(
            f'"{name}" is not among the functions found in the project; sending it to the app '
            "with default options (retries 0, timeout 30s, concurrency 1)"
        )
        self._publish()
        return spec

    def _rediscover(self) -> ReloadResult:
        """A file changed in endpoint mode: scan the JS/TS sources again. A Python project is
        not re-imported in this process; the app registers again when it restarts."""
        from pingback_cli.project.discovery import discover_project

        before = {spec.name: spec for spec in self.discovered}
        if self.language != "python":
            found = discover_project(self.config, lenient=True)
            self.discovered, self.language = found.specs, found.language
            for warning in found.warnings:
                self._warn(warning)
            self._publish()
        after = {spec.name: spec for spec in self.discovered}
        return ReloadResult(
            True,
            added=sorted(after.keys() - before.keys()),
            removed=sorted(before.keys() - after.keys()),
            changed=sorted(n for n in after.keys() & before.keys() if after[n] != before[n]),
            functions=[spec.to_json() for spec in self.discovered],
        )

    # --- Platform (what the API calls) --------------------------------------------

    def functions(self) -> list[FunctionSpec]:
        assert self.engine is not None
        return list(self.engine.functions.values())

    def trigger(self, name: str, payload: Any, has_payload: bool, delay: float) -> Execution:
        """Raises UnknownFunction for a name nobody defines, except in endpoint mode, where
        the app may know it (its own 404 then says so)."""
        if self.stopping:
            raise Unavailable("the emulator is stopping; nothing new is accepted")
        assert self.engine is not None
        if self.options.endpoint is not None and name not in self.engine.functions:
            self.forward(name)
        execution = self.engine.submit(
            name, payload=payload, has_payload=has_payload, delay=delay, trigger="trigger"
        )
        if self.options.durable:
            self._flush()  # the trigger is answered once its execution is in the queue on disk
        return execution

    def register(self, functions: list[FunctionSpec], endpoint_url: str | None) -> list[dict[str, str]]:
        known = {spec.name for spec in self.functions()}
        jobs = []
        for spec in functions:
            status = "updated" if spec.name in self.registered or spec.name in known else "created"
            self.registered[spec.name] = spec
            jobs.append({"name": spec.name, "status": status})
        if self.http is not None:  # endpoint mode: the app says what it runs
            self._publish()
        return jobs

    def function_json(self, spec: FunctionSpec) -> dict[str, Any]:
        from pingback_cli.render import function_json

        return function_json(spec, self.clock.now())

    def recent(self, limit: int, function: str | None, status: str | None) -> list[dict[str, Any]]:
        assert self.store is not None  # its reads flush what is buffered first
        return [s.to_json() for s in self.store.recent_roots(limit, function=function, status=status)]

    def tree(self, id_or_prefix: str) -> dict[str, Any]:
        assert self.store is not None
        return self.store.tree(id_or_prefix).to_json()
