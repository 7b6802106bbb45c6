"""The worker executor: the ``Supervisor`` keeps one current ``WorkerProcess``
(``executors.process``) and is the executor the engine sees (``executors.base.Executor``):
it keeps one current worker, replaces it on reload (the old one finishes what it
runs), and starts a new one when a handler kills the process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from functools import partial
from typing import Any

from pingback_cli.errors import ProjectError
from pingback_cli.executors.base import Publish, ReloadResult
from pingback_cli.executors.process import MAX_ABANDONED, Answer, LogCallback, WorkerProcess, describe_exit
from pingback_cli.executors.spawn import Spawned
from pingback_cli.models import FunctionSpec
from pingback_cli.project.config import ProjectConfig
from pingback_cli.project.specs import build_specs
from pingback_cli.protocol import AttemptOutcome, AttemptRequest

__all__ = ["ReloadResult", "Supervisor"]


class Supervisor:
    """The worker executor: routes attempts to the current worker, restarts and reloads it.

    The functions are the project's own, as the worker imported them; ``publish`` gets
    them (as FunctionSpecs) at start and after each reload, before the switch."""

    def __init__(
        self,
        config: ProjectConfig,
        api_url: str,
        *,
        publish: Publish | None = None,
        on_log: LogCallback | None = None,
        on_restart: Callable[[str], None] | None = None,
        grace: float = 5.0,
        threads: int = 256,
        early: Spawned | None = None,
        restart_at_once: bool = True,
    ) -> None:
        self.config = config
        self.restart_at_once = restart_at_once
        """Replace a worker a handler killed at once; else when the next attempt needs one."""
        self.early = early
        """A worker started before the emulator for this project (``emulator.head_start``):
        the first start takes it instead of spawning one."""
        self.api_url = api_url
        self.publish = publish
        self.on_log = on_log
        self.on_restart = on_restart
        self.grace = grace
        self.threads = threads
        self.current: WorkerProcess | None = None
        self.closing = False
        self.functions: list[dict[str, Any]] = []
        self._starting: asyncio.Task[WorkerProcess] | None = None
        self._recycling = False
        self._retiring: set[asyncio.Task[None]] = set()
        self._told: set[str] = set()

    async def start(self) -> None:
        """Start the first worker and publish its functions (ProjectError if it cannot)."""
        early, self.early = self.early, None
        worker = await self._spawn(early)
        self.current = worker
        self.functions = worker.functions
        self._accept(worker.functions)
        self._tell(worker.notices)

    def _tell(self, notices: list[str]) -> None:
        """Folders the file rule skipped that use pingback: each named once per session."""
        for notice in notices:
            if notice not in self._told and self.on_restart is not None:
                self._told.add(notice)
                self.on_restart(notice)

    def _accept(self, functions: list[dict[str, Any]]) -> None:
        if self.publish is not None:
            self.publish(build_specs(functions))

    def register(self, specs: list[FunctionSpec]) -> None:
        """The worker runs the project's own functions: a registration changes nothing."""

    def forward(self, name: str) -> FunctionSpec | None:
        """A name the project does not define cannot run in its worker."""
        return None

    async def _spawn(self, early: Spawned | None = None) -> WorkerProcess:
        worker = WorkerProcess(
            self.config,
            self.api_url,
            on_log=self.on_log,
            threads=self.threads,
            grace=self.grace,
            on_exit=self._worker_exited,
        )
        await worker.start(early=early)
        return worker

    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]:
        worker = self.current
        if worker is not None and worker.alive:
            if worker.busy_abandoned >= MAX_ABANDONED and not self._recycling:
                self._recycle(worker)
            return worker.execute(request)
        outer: asyncio.Future[AttemptOutcome] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().create_task(self._execute_after_restart(request, outer))
        return outer

    def start_attempt_direct(self, request: AttemptRequest, answer: Answer) -> Callable[[], None] | None:
        """Run one attempt on the current worker, ``answer`` called once with its outcome as the
        worker's answers are read (``WorkerProcess.run``); returns the function that abandons it.
        None when no worker is alive: use ``start_attempt`` (which starts one)."""
        worker = self.current
        if worker is None or not worker.alive:
            return None
        if worker.busy_abandoned >= MAX_ABANDONED and not self._recycling:
            self._recycle(worker)
        return partial(worker.abandon, worker.run(request, answer))

    async def _execute_after_restart(
        self, request: AttemptRequest, outer: asyncio.Future[AttemptOutcome]
    ) -> None:
        try:
            worker = await self._replacement()
        except ProjectError as exc:
            if not outer.done():
                outer.set_result(AttemptOutcome(None, error=f"the worker could not restart: {exc.message}"))
            return
        if outer.done():
            return
        inner = worker.execute(request)
        inner.add_done_callback(lambda done: outer.done() or outer.set_result(done.result()))
        outer.add_done_callback(lambda _: inner.done() or inner.cancel())

    def _worker_exited(self, worker: WorkerProcess) -> None:
        """A worker died on its own (a handler crashed it): start the next one now, or (not
        ``restart_at_once``) when an attempt comes (``start_attempt``)."""
        if worker is not self.current or self.closing or not self.restart_at_once:
            return
        task = asyncio.get_running_loop().create_task(self._replacement())
        task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _replacement(self) -> WorkerProcess:
        if self._starting is None or self._starting.done():
            dead = self.current
            self._starting = asyncio.get_running_loop().create_task(self._spawn())
            worker = await self._starting
            self.current = worker
            if self.on_restart is not None and dead is not None:
                how = describe_exit(dead.exited.result() if dead.exited.done() else None)
                self.on_restart(f"the worker process {how}; a new worker (pid {worker.pid}) took over")
            return worker
        return await self._starting

    def _recycle(self, worker: WorkerProcess) -> None:
        """Too many handlers hang past their timeouts: a fresh worker takes new work, the old
        one finishes what still has a chance, then goes (with the hung threads)."""
        self._recycling = True

        async def swap() -> None:
            try:
                fresh = await self._spawn()
            except ProjectError:
                return
            finally:
                self._recycling = False
            if self.current is worker:
                self.current = fresh
                self._retire_later(worker)
                if self.on_restart is not None:
                    self.on_restart(
                        f"{worker.busy_abandoned} handlers are still running past their timeouts; "
                        f"a fresh worker (pid {fresh.pid}) takes new work"
                    )
            else:
                await fresh.stop(grace=0)

        task = asyncio.get_running_loop().create_task(swap())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    def _retire_later(self, worker: WorkerProcess) -> None:
        task = asyncio.get_running_loop().create_task(self._retire(worker))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def reload(self) -> ReloadResult:
        """Start a fresh worker; switch to it only once it has reported its functions and
        ``publish`` took them (invalid options refuse it: the old worker keeps serving)."""
        try:
            fresh = await self._spawn()
        except ProjectError as exc:
            return ReloadResult.refused(self.functions, exc)
        try:
            self._accept(fresh.functions)
        except ProjectError as exc:
            await fresh.stop(grace=0)
            return ReloadResult.refused(self.functions, exc)
        result = ReloadResult.compare(self.functions, fresh.functions)
        old, self.current = self.current, fresh
        self.functions = fresh.functions
        self._tell(fresh.notices)
        if old is not None:
            self._retire_later(old)
        return result

    async def _retire(self, worker: WorkerProcess) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.grace
        while worker.in_flight and loop.time() < deadline:
            await asyncio.sleep(0.05)
        await worker.stop(grace=1.0)

    async def aclose(self, grace: float | None = None) -> None:
        """Stop every worker; ``grace`` overrides how long running handlers may finish."""
        self.closing = True
        if self.early is not None:  # closed before it started
            self.early.kill()
            self.early = None
        if self._starting is not None and not self._starting.done():
            with contextlib.suppress(BaseException):
                await self._starting
        workers = [self.current] if self.current is not None else []
        await asyncio.gather(*(task for task in self._retiring), return_exceptions=True)
        for worker in workers:
            await worker.stop(grace=self.grace if grace is None else grace)
