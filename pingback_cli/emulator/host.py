"""The local platform: engine + executor + history + platform API (+ the cron clock), wired.

How ``run`` and ``dev`` use it (nothing else of it is theirs to touch)::

    async with stop_on_signals() as stop, Emulator(config, options, stop=stop, on_event=...) as emulator:
        emulator.url                      # the platform API's address
        emulator.functions()              # FunctionSpecs now served
        root = emulator.submit(name, payload=..., has_payload=..., trigger="run")
        drained = await emulator.drain()  # False: ``stop`` was set first
        emulator.interrupt(reason)        # unfinished work ends "interrupted"; returns the roots
        await emulator.reload()           # dev: files changed (ReloadResult)
        emulator.next_runs()              # dev (``options.crons``): each cron's next occurrence
    emulator.interrupted                  # after the block: roots interrupted by the stop

- Entering starts everything: history opened (a corrupt file moved aside, executions a
  killed process left are marked interrupted), the API bound and served, the executor
  (the worker, or ``options.endpoint``'s app) started and its functions published. When
  ``stop`` is set first it raises ``Interrupted`` (nothing left running); a project that
  cannot load raises ``ProjectError``.
- Leaving stops everything: new triggers are refused (``Unavailable``, the API's 503),
  unfinished work ends with ``options.interrupt_reason``, the executor gets
  ``options.stop_grace`` seconds, history is flushed; a history that could not be written
  raises ``HistoryError`` then.
- ``submit`` raises ``UnknownFunction`` (a ``NotFound``) for a name nobody defines, unless
  the executor forwards it (endpoint mode: the app may know it).

The API routes reach it through ``platform_api.EmulatorApi`` (the platform-shaped facade:
trigger, register, jobs, reads); which executor runs the attempts is ``executor_choice``'s.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pingback_cli.emulator import head_start, notices
from pingback_cli.emulator.controls import Controls
from pingback_cli.emulator.executor_choice import choose_executor
from pingback_cli.emulator.hints import Hints
from pingback_cli.emulator.jobs import JobBook
from pingback_cli.emulator.options import EmulatorOptions
from pingback_cli.emulator.recorder import Recorder
from pingback_cli.emulator.server import ApiServer, api_key_for
from pingback_cli.emulator.signals import unless_stopped
from pingback_cli.engine.admission import FAN_OUT_SLICE
from pingback_cli.engine.clock import Clock, SystemClock
from pingback_cli.engine.engine import Engine, Event, Limits, UnknownFunction
from pingback_cli.engine.ports import EVENT_KINDS
from pingback_cli.engine.slots import concurrency_mode
from pingback_cli.errors import Interrupted, Unavailable
from pingback_cli.executors.base import Executor, ReloadRecord, ReloadResult
from pingback_cli.history.jobs import JobStore
from pingback_cli.history.queue import take_over
from pingback_cli.history.store import Store
from pingback_cli.models import Execution, FunctionSpec
from pingback_cli.project.config import ProjectConfig, project_environment
from pingback_cli.project.manifest import write_manifest
from pingback_cli.project.plans import choose_plan

if TYPE_CHECKING:
    from pingback_cli.engine.cron_timer import CronScheduler
    from pingback_cli.executors.spawn import Spawned
    from pingback_cli.protocol import AttemptOutcome, AttemptRequest


class Emulator:
    """The platform on this machine; use as ``async with`` (see the module docstring)."""

    _api: ApiServer
    _executor: Executor
    """Both set on entering; nothing of the emulator's own calls them before."""

    def __init__(
        self,
        config: ProjectConfig,
        options: EmulatorOptions | None = None,
        *,
        on_event: Callable[[Event], None] | None = None,
        on_notice: Callable[[str], None] | None = None,
        clock: Clock | None = None,
        stop: asyncio.Event | None = None,
        events: Collection[str] | None = None,
    ) -> None:
        """``events``: the kinds ``on_event`` acts on (None: all); the engine builds no event that
        neither it, the emulator itself nor a listener would hear."""
        self.config = config
        self.options = options or EmulatorOptions()
        self.clock = clock or SystemClock()
        self.on_event = on_event
        self.on_notice = on_notice
        self.stop = stop
        self.ready = False
        """False while the project loads: the API answers 503 instead of a false 404."""
        self.stopping = False
        """Set when the emulator stops: new triggers are refused (503), not lost."""
        self.interrupted: list[Execution] = []
        """After the ``async with`` block: the roots its stop interrupted (not durable)."""
        self.kept = self.interrupted_at_stop = 0
        """Durable mode, after the stop: executions left queued for the next dev; ended interrupted."""
        self._hints = Hints(self._notice, endpoint_mode=self.options.endpoint is not None)
        self._listeners: list[Callable[[Event], None]] = []
        self.reloading = False
        self.last_reload: ReloadRecord | None = None
        self._recorder = Recorder(config.root, durable=self.options.durable, on_notice=self._notice)
        self._engine = Engine(
            self,  # attempts go through start_attempt below, to the executor
            functions=[],
            clock=self.clock,
            backoff=self.options.backoff,
            limits=self.options.limits or Limits.from_settings(config.settings),
            on_event=self._on_event,
            concurrency=concurrency_mode(self.options.concurrency, config.settings),
            plan=choose_plan(self.options.plan, config.settings),
            fan_out_slice=FAN_OUT_SLICE if isinstance(self.clock, SystemClock) else None,
        )
        if events is not None:  # the emulator's own: _on_event's kinds (succeeded: endpoint mode)
            heard = {"notice", "finished", "retrying", "failed", *events}
            self._engine.quiet = EVENT_KINDS - heard - ({"succeeded"} if self.options.endpoint else set())
        self.jobs: JobBook | None = None  # job state (status, options); set on start
        self.controls = Controls(lambda: self._engine, self.history, self.job_book, self.jobs_changed)
        """pause, resume, retry, cancel: what the API and the dashboard call."""
        self._specs: list[FunctionSpec] = []
        self._engine.job_status = self.controls.status
        self._crons: CronScheduler | None = None
        if self.options.crons:  # `dev`: `run` fires no cron, and never imports the cron grammar
            from pingback_cli.engine.cron_timer import CronScheduler

            self._crons = CronScheduler(
                self._engine, self.clock, on_event=on_event, job_status=self.controls.status
            )
        self._closing = contextlib.AsyncExitStack()

    def listen(self, listener: Callable[[Event], None]) -> None:
        """Tell ``listener`` every engine event from now on, after ``on_event`` (the dashboard's
        live updates): the engine builds every kind again, whatever ``events`` asked for."""
        self._engine.quiet = frozenset()
        self._listeners.append(listener)

    # --- lifecycle ----------------------------------------------------------------

    async def __aenter__(self) -> Emulator:
        try:
            if not await unless_stopped(self._start(), self.stop):
                raise Interrupted("interrupted")
        except BaseException:
            await self._close()
            raise
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self._close()
        if kind is None and (cuts := self._engine.plan_caps.summary()):
            from pingback_cli import state

            if state.first_time(self.config.root, self._engine.plan_caps.SAID_ONCE):
                self._notice(cuts)

    @property
    def concurrency(self) -> str:
        """ "platform" or "documented" (``engine.slots``)."""
        return self._engine.slots.mode

    async def _start(self) -> None:
        # The env files as they are now, read and never written into this process's
        # environment (a value derived from them must not later pass for a real variable).
        environment = project_environment(self.config.root)
        api_key = self.options.api_key or api_key_for(self.options.host, environment)  # refused before work
        closing = self._closing
        self._engine.store = self._recorder.open()
        self._engine.store.admission = self._engine.admission  # a fan-out is written whole
        closing.callback(self._recorder.close)
        self.jobs = JobBook(
            JobStore(self.history()), self.config.root, self.clock.now, on_notice=self._notice
        )
        closing.callback(self._interrupt_unfinished)  # what started while the rest stopped
        # Bind first, so the worker knows the API's address and imports the project
        # while this process imports and starts the web stack.
        options = self.options
        early = head_start.take(self.config, options.host, options.port, worker=options.endpoint is None)
        self._api = ApiServer(options.host, options.port, api_key=api_key)
        closing.push_async_callback(self._api.stop)
        self._api.bind(early.socket if early else None)
        self._executor = self._choose_executor(early.worker if early else None)
        closing.push_async_callback(self._close_executor)
        loading = asyncio.ensure_future(self._executor.start())
        try:
            await self._api.start(lambda: self._make_app(api_key), on_demand=self.options.api_on_demand)
        except BaseException:
            loading.cancel()
            raise
        await loading
        if self.options.durable:
            self._take_over_queue()
            if self._crons is not None and self.jobs is not None:
                self._crons.catch_up(self.functions(), self.jobs.store.last_runs())
        self.ready = True
        flusher = asyncio.get_running_loop().create_task(self._recorder.flush_forever())
        closing.push_async_callback(_cancelled, flusher)

    def _make_app(self, api_key: str | None) -> Any:
        """The API's ASGI app, with the dashboard when served (imported only here)."""
        from pingback_cli.emulator.api import create_app
        from pingback_cli.emulator.platform_api import EmulatorApi

        extra: list[Any] = []
        if self.options.dashboard:
            from pingback_cli.dashboard.app import dashboard_routes
            from pingback_cli.dashboard.source import EmulatorSource

            extra = dashboard_routes(EmulatorSource(self), host=self.options.host, api_key=api_key)
        return create_app(EmulatorApi(self), api_key=api_key, extra=extra)

    def _choose_executor(self, early: Spawned | None) -> Executor:
        return choose_executor(
            self.config,
            self.options,
            api=self._api,
            publish=self._publish,
            on_log=self._engine.on_worker_log,
            on_notice=self._notice,
            on_restart=self.on_notice,
            early=early,
        )

    async def _close(self) -> None:
        """Refuse new work, interrupt what is unfinished, stop the executor, the API and the
        cron clock, close history; raise the first history error."""
        self.stopping = True
        if self._crons is not None:
            self._crons.stop()
        self._interrupt_unfinished()
        await self._closing.aclose()
        if self._recorder.error is not None:
            raise self._recorder.error

    async def _close_executor(self) -> None:
        grace = self.options.stop_grace
        await self._executor.aclose(self.options.grace if grace is None else grace)

    def _interrupt_unfinished(self) -> None:
        """Durable mode keeps the queue (counted in ``kept`` and ``interrupted_at_stop``);
        otherwise unfinished work ends ``interrupted`` (its roots in ``interrupted``)."""
        if not self.options.durable:
            self.interrupted += self.interrupt(self.options.interrupt_reason)
            return
        kept, ended = self._engine.suspend(notices.STOPPED_DURING_ATTEMPT)  # twice: what started meanwhile
        self.kept, self.interrupted_at_stop = self.kept + kept, self.interrupted_at_stop + ended

    def _take_over_queue(self) -> None:
        """Resume what a stopped (or killed) dev left in the durable queue, and say so."""
        trees = take_over(self.history())
        if trees:
            taken = self._engine.resume(trees, reason=notices.STOPPED_DURING_ATTEMPT)
            self._notice(notices.taken_over(taken, self.clock.now()))
            self._recorder.flush()

    # --- what run and dev call ------------------------------------------------------

    @property
    def url(self) -> str:
        """The platform API's address."""
        return self._api.url

    def functions(self) -> list[FunctionSpec]:
        return list(self._engine.functions.values())

    def submit(
        self,
        name: str,
        *,
        payload: Any = None,
        has_payload: bool = False,
        delay: float = 0.0,
        trigger: str = "run",
        replay_of: str | None = None,
        scheduled_at: float | None = None,
    ) -> Execution:
        """Queue a new root of ``name``, starting after ``delay`` seconds; ``scheduled_at``
        (unix seconds, default now + delay) is the ``scheduledAt`` its requests carry.

        Raises Unavailable while stopping, UnknownFunction for a name nobody defines
        (unless the executor forwards it)."""
        if self.stopping:
            raise Unavailable("the emulator is stopping; nothing new is accepted")
        if name not in self._engine.functions and self._executor.forward(name) is None:
            raise UnknownFunction(name)
        execution = self._engine.submit(
            name,
            payload=payload,
            has_payload=has_payload,
            delay=delay,
            scheduled_at=scheduled_at,
            trigger=trigger,
            replay_of=replay_of,
        )
        if self.options.durable:
            self._recorder.flush()  # the trigger is answered once its execution is in the queue on disk
        return execution

    async def drain(self) -> bool:
        """Until nothing is queued, delayed or running: True; False if ``stop`` came first."""
        return await unless_stopped(self._engine.drain(), self.stop)

    def waiting(self) -> tuple[int, int, float | None] | None:
        """``Engine.waiting``: what the queue waits for while nothing runs."""
        return self._engine.waiting()

    def interrupt(self, reason: str) -> list[Execution]:
        """End every unfinished execution as interrupted with ``reason``; returns the roots."""
        return self._engine.interrupt(reason) if self._engine.busy else []

    async def reload(self) -> ReloadResult:
        """Files changed: the executor loads the functions again (a failure keeps the old)."""
        self.reloading = True
        try:
            result = await self._executor.reload()
        finally:
            self.reloading = False
        self.last_reload = ReloadRecord.of(result, self.clock.now())
        return result

    def next_runs(self) -> dict[str, float]:
        """Each cron's next occurrence (epoch seconds); empty unless ``options.crons``."""
        return self._crons.next_runs() if self._crons is not None else {}

    # --- the executor's side ----------------------------------------------------------

    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]:
        return self._executor.start_attempt(request)

    def start_attempt_direct(
        self, request: AttemptRequest, answer: Callable[[AttemptOutcome], None]
    ) -> Callable[[], None] | None:
        """The executor's direct path (``engine.ports.DirectExecutor``) when it has one, else None."""
        direct = getattr(self._executor, "start_attempt_direct", None)
        return None if direct is None else direct(request, answer)

    def _publish(self, specs: list[FunctionSpec]) -> None:
        """The executor's new functions: their jobs follow (``JobBook.load``, endpoint mode
        ``ensure``), the engine and cron clock take them with their jobs' options."""
        self._specs = specs
        if self.jobs is not None:
            (self.jobs.ensure if self.options.endpoint is not None else self.jobs.load)(specs)
        self.jobs_changed()
        write_manifest(self.config.root, specs)

    def jobs_changed(self) -> None:
        """A job changed (paused, patched, registered): the engine and the cron clock follow."""
        specs = self.jobs.effective(self._specs) if self.jobs is not None else self._specs
        self._engine.set_functions(specs)
        if self._crons is not None:
            self._crons.schedule(specs)

    def _on_event(self, event: Event) -> None:
        if event.kind == "notice":  # the engine's one-per-function parity notices
            self._notice(event.detail or "")
            return
        if event.kind == "finished":
            self._recorder.flush_soon()
        elif event.kind == "succeeded":
            self._hints.app_succeeded = True
        elif event.kind in ("retrying", "failed"):
            self._hints.attempt_failed(event.execution, self._api.url)
        if self.on_event is not None:
            self.on_event(event)
        for listener in self._listeners:
            with contextlib.suppress(Exception):
                listener(event)

    def _notice(self, message: str) -> None:
        if self.on_notice is not None:
            self.on_notice(message)

    # --- Platform (what the API calls) --------------------------------------------

    def register_specs(self, specs: list[FunctionSpec]) -> None:
        self._hints.app_registered = True
        self._executor.register(specs)  # endpoint mode: what an app registered; published back

    def job_book(self) -> JobBook:
        """The job state; Unavailable before the emulator has started."""
        if self.jobs is None:
            raise Unavailable("the emulator is not running")
        return self.jobs

    def history(self) -> Store:
        """The open store (its reads flush what is buffered first); Unavailable once closed."""
        return self._recorder.store


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
