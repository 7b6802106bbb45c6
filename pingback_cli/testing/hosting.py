"""What the virtual platform touches outside itself, and puts back: where handlers run (this
process, or a worker subprocess with a loopback API), urllib's opener for ``pb.trigger()``,
the environment (``.env`` and the local secrets), and the history file when one is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pingback_cli.errors import NotFound, Unavailable
from pingback_cli.executors.inprocess import InProcessExecutor
from pingback_cli.models import Execution as Record
from pingback_cli.models import FunctionSpec
from pingback_cli.project.config import ProjectConfig
from pingback_cli.testing.driver import Driver
from pingback_cli.testing.project import EnvironmentPatch, load_here
from pingback_cli.testing.transport import PLATFORM_URL, InstalledOpener, PlatformTransport

if TYPE_CHECKING:
    from pingback_cli.engine.engine import Engine
    from pingback_cli.history.store import Store
    from pingback_cli.testing.clock import VirtualClock
    from pingback_cli.testing.execution import Execution


class VirtualPlatform(Protocol):
    """What hosting needs of ``testing.platform.VirtualPlatform``."""

    engine: Engine | None
    clock: VirtualClock

    @property
    def functions(self) -> dict[str, FunctionSpec]: ...

    @property
    def executions(self) -> list[Execution]: ...

    def submit_trigger(self, name: str, payload: Any, has_payload: bool, seconds: float) -> Record: ...


class Hosting:
    def __init__(self, driver: Driver, platform: VirtualPlatform) -> None:
        self.driver = driver
        self.platform = platform
        self.isolated = False
        self.store: Store | None = None
        self._env: EnvironmentPatch | None = None
        self._opener: InstalledOpener | None = None
        self._api: Any = None

    def start(self, config: ProjectConfig) -> list[FunctionSpec]:
        """Load the project where its handlers will run; returns its validated functions."""
        self._env = EnvironmentPatch(config.root)
        if self.isolated:
            return self._start_worker(config)
        # Installed first: a module that calls pb.register() as it imports reaches the platform.
        self._opener = InstalledOpener(PlatformTransport(self._app, self.driver.loop))
        published: list[FunctionSpec] = []
        executor = InProcessExecutor(
            load_here(config, PLATFORM_URL), self.driver.loop, publish=published.extend
        )
        self.driver.use(executor)
        self.driver.call(executor.start())
        return published

    def _start_worker(self, config: ProjectConfig) -> list[FunctionSpec]:
        from pingback_cli.emulator.server import ApiServer
        from pingback_cli.executors.worker import Supervisor

        self._api = ApiServer("127.0.0.1", 0)
        self._api.bind()
        published: list[FunctionSpec] = []
        supervisor = Supervisor(config, self._api.url, publish=published.extend, on_log=self._on_log, grace=0)
        self.driver.use(supervisor)
        self.driver.call(self._api.serve(self._app()))
        self.driver.call(supervisor.start())  # publishes the worker's functions as specs
        return published

    def _on_log(self, execution_id: str, attempt: int, entry: dict[str, Any]) -> None:
        if self.platform.engine is not None:
            self.platform.engine.on_worker_log(execution_id, attempt, entry)

    def _app(self) -> Any:
        from pingback_cli.emulator.api import create_app

        return create_app(ApiPlatform(self.platform))

    def record(
        self, path: Path | None, root: Path, engine: Engine | None, *, root_trigger: str | None = None
    ) -> Path:
        """Write executions to ``path`` (default: the project's history file) from now on, roots
        with ``root_trigger`` as their trigger when given (see ``Store.root_trigger``)."""
        from pingback_cli.history.store import Store, history_path

        if self.store is not None:
            raise RuntimeError(f"history is already recorded in {self.store.path}")
        self.store = Store(path or history_path(root), root_trigger=root_trigger, simulated=True)
        if engine is not None:
            engine.store = self.store
        return self.store.path

    def flush(self) -> None:
        if self.store is not None:
            self.store.flush()

    def close(self) -> None:
        """Stop the executor and the API, flush history, put urllib and the environment back."""
        try:
            inner = self.driver.inner
            if inner is not None and not self.driver.loop.is_closed():
                self.driver.call(inner.aclose(grace=0))
            if self._api is not None:
                self.driver.call(self._api.stop())
        finally:
            if self._opener is not None:
                self._opener.restore()
            if self._env is not None:
                self._env.restore()
            if self.store is not None:
                store, self.store = self.store, None
                store.close()
            self.driver.close()


class ApiPlatform:
    """The virtual platform as the platform API routes (``emulator/api.py``) see it."""

    def __init__(self, platform: VirtualPlatform) -> None:
        self.platform = platform

    @property
    def ready(self) -> bool:
        """False while the project imports: a trigger then is answered 503, as by ``dev``."""
        return self.platform.engine is not None

    def functions(self) -> list[FunctionSpec]:
        return list(self.platform.functions.values())

    def project_root(self) -> Path | None:
        config = self.platform.config
        return config.root if config is not None else None

    def trigger(self, name: str, payload: Any, has_payload: bool, delay: float) -> Record:
        return self.platform.submit_trigger(name, payload, has_payload, delay)

    jobs = None
    """No job state on the virtual platform: the jobs routes answer 503."""

    def knows(self, name: str) -> bool:
        return name in self.platform.functions

    def register(self, functions: list[Any], endpoint_url: str | None, *, from_worker: bool = False) -> Any:
        """The project is loaded already: a registration is acknowledged and changes nothing."""
        from pingback_cli.project.registration import Outcome

        return Outcome(jobs=[{"name": fn.name, "status": "active"} for fn in functions])

    def execution(self, id_or_prefix: str) -> dict[str, Any]:
        raise Unavailable("the virtual platform has no platform-shaped executions; use the tree")

    def job_executions(self, job_id: str, page: int, limit: int) -> dict[str, Any]:
        raise Unavailable("the virtual platform keeps no jobs")

    def cancel(self, id_or_prefix: str) -> dict[str, Any]:
        raise Unavailable("the virtual platform has no cancel")

    def retry(self, id_or_prefix: str) -> dict[str, Any]:
        raise Unavailable("the virtual platform has no retry")

    def function_json(self, spec: FunctionSpec) -> dict[str, Any]:
        from pingback_cli.render.functions import function_json

        return function_json(spec, self.platform.clock.now())

    def recent(self, limit: int, function: str | None, status: str | None) -> list[dict[str, Any]]:
        roots = [e.record for e in reversed(self.platform.executions)]
        chosen = [r for r in roots if function in (None, r.function) and status in (None, r.status)]
        return [record.to_json(children=False) for record in chosen[:limit]]

    def tree(self, id_or_prefix: str) -> dict[str, Any]:
        for root in self.platform.executions:
            for record in root.record.walk():
                if record.id.startswith(id_or_prefix):
                    return record.to_json()
        raise NotFound(f'no execution matches "{id_or_prefix}"')
