"""The local platform: engine + worker supervisor + history + platform API, wired together.

``pingback run`` starts one for a single execution tree, ``pingback dev`` keeps
one running. It is also the ``Platform`` the API routes call into.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pingback_cli.api import ApiServer, create_app
from pingback_cli.clock import Clock, SystemClock
from pingback_cli.engine import Engine, Event, Limits
from pingback_cli.functions import build_specs
from pingback_cli.models import Execution, FunctionSpec
from pingback_cli.project import ProjectConfig
from pingback_cli.store import Store, history_path
from pingback_cli.supervisor import ReloadResult, Supervisor

FLUSH_INTERVAL = 0.1


@dataclass
class EmulatorOptions:
    backoff: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    api_key: str | None = None
    """Required from clients when set (always set when binding beyond loopback)."""
    limits: Limits = field(default_factory=Limits)
    grace: float = 5.0


class Emulator:
    def __init__(
        self,
        config: ProjectConfig,
        options: EmulatorOptions | None = None,
        *,
        on_event: Callable[[Event], None] | None = None,
        on_restart: Callable[[str], None] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self.options = options or EmulatorOptions()
        self.clock = clock or SystemClock()
        self.on_event = on_event
        self.on_restart = on_restart
        self.registered: dict[str, FunctionSpec] = {}
        self.store: Store | None = None
        self.api: ApiServer | None = None
        self.supervisor: Supervisor | None = None
        self.engine: Engine | None = None
        self._flusher: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        self.store = Store(history_path(self.config.root))
        self.engine = Engine(
            self,  # attempts go through start_attempt below, to whichever worker is current
            functions=[],
            clock=self.clock,
            store=self.store,
            backoff=self.options.backoff,
            limits=self.options.limits,
            on_event=self.on_event,
        )
        self.api = ApiServer(
            create_app(self, api_key=self.options.api_key), self.options.host, self.options.port
        )
        await self.api.start()
        self.supervisor = Supervisor(
            self.config,
            self._worker_api_url(),
            on_log=self.engine.on_worker_log,
            on_restart=self.on_restart,
            grace=self.options.grace,
        )
        raw = await self.supervisor.start()
        self.engine.set_functions(build_specs(raw))
        self._flusher = asyncio.get_running_loop().create_task(self._flush_forever())

    def _worker_api_url(self) -> str:
        assert self.api is not None
        if self.options.host in ("0.0.0.0", "::", ""):
            return f"http://127.0.0.1:{self.api.port}"
        return self.api.url

    def start_attempt(self, request: Any) -> asyncio.Future[Any]:
        assert self.supervisor is not None
        return self.supervisor.start_attempt(request)

    async def reload(self) -> ReloadResult:
        assert self.supervisor is not None and self.engine is not None
        result = await self.supervisor.reload()
        if result.ok:
            try:
                self.engine.set_functions(build_specs(result.functions))
            except Exception as exc:  # invalid options after a save: keep the old ones
                from pingback_cli.errors import ProjectError

                result.ok = False
                result.error = exc if isinstance(exc, ProjectError) else ProjectError(str(exc))
        return result

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            if self.store is not None:
                self.store.flush()

    async def stop(self, reason: str = "interrupted: the emulator stopped") -> list[Execution]:
        """Interrupt what is unfinished, stop the worker and the API, flush history."""
        interrupted: list[Execution] = []
        if self.engine is not None and self.engine.busy:
            interrupted = self.engine.interrupt(reason)
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        if self.supervisor is not None:
            await self.supervisor.aclose()
        if self.api is not None:
            await self.api.stop()
        if self.store is not None:
            self.store.close()
        return interrupted

    # --- Platform (what the API calls) --------------------------------------------

    def functions(self) -> list[FunctionSpec]:
        assert self.engine is not None
        return list(self.engine.functions.values())

    def trigger(self, name: str, payload: Any, has_payload: bool, delay: float) -> Execution:
        assert self.engine is not None
        return self.engine.submit(
            name, payload=payload, has_payload=has_payload, delay=delay, trigger="trigger"
        )

    def register(self, functions: list[FunctionSpec], endpoint_url: str | None) -> list[dict[str, str]]:
        known = {spec.name for spec in self.functions()}
        jobs = []
        for spec in functions:
            status = "updated" if spec.name in self.registered or spec.name in known else "created"
            self.registered[spec.name] = spec
            jobs.append({"name": spec.name, "status": status})
        return jobs

    def function_json(self, spec: FunctionSpec) -> dict[str, Any]:
        from pingback_cli.render import function_json

        return function_json(spec, self.clock.now())

    def recent(self, limit: int, function: str | None, status: str | None) -> list[dict[str, Any]]:
        assert self.store is not None
        self.store.flush()
        return [summary_json(s) for s in self.store.recent_roots(limit, function=function, status=status)]

    def tree(self, id_or_prefix: str) -> dict[str, Any]:
        assert self.store is not None
        self.store.flush()
        return self.store.tree(id_or_prefix).to_json()


def summary_json(summary: Any) -> dict[str, Any]:
    data = summary.execution.to_json(children=False)
    data["descendants"] = summary.descendants
    data["failedDescendants"] = summary.failed_descendants
    data["unfinishedDescendants"] = summary.unfinished_descendants
    return data
