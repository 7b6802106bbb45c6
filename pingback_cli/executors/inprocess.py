"""The in-process executor: each attempt runs in this process through the SDK's own
``pb.handle()``, with a body signed by the function's cron secret, as a deployed app runs it.

For tests (``pingback_cli.testing``): the handler shares the test's process, so what the test
monkeypatches is what the handler sees. Attempts are queued by ``start_attempt`` and run by
``run_pending()``, which the caller invokes outside any running event loop, so a handler may
itself call ``asyncio.run()``. There is no crash containment: a handler that calls
``os._exit()`` ends the test process (the worker executor is for that).

A handler cannot be stopped here, so its timeout is held against its real run time once it
returns: an attempt that ran longer than its function's timeout is left unanswered, and the
engine's timeout timer (on the caller's clock) fails it at the timeout, as the platform's
``context.WithTimeout`` on the request does (runpingback/worker
``internal/processor/dispatch.go:70``). What it did meanwhile is done, as an app's handler
that the platform stopped waiting for goes on to the end.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from pingback_cli.executors.base import ReloadResult
from pingback_cli.models import FunctionSpec
from pingback_cli.project.loader import RawFunction
from pingback_cli.project.specs import build_specs
from pingback_cli.protocol import (
    AttemptOutcome,
    AttemptRequest,
    json_plain,
    not_json_reason,
    signed_headers,
)
from pingback_cli.worker.tracebacks import brief


class InProcessExecutor:
    """Runs queued attempts on demand, one after another, in the calling thread."""

    def __init__(
        self,
        functions: list[RawFunction],
        loop: asyncio.AbstractEventLoop,
        *,
        publish: Callable[[list[FunctionSpec]], None] | None = None,
        on_queued: Callable[[], None] | None = None,
        real_time: Callable[[], float] = time.monotonic,
    ) -> None:
        self.loop = loop
        self.real_time = real_time
        """Seconds, for how long a handler ran (held against its timeout)."""
        self._timeouts: dict[str, float] = {}
        self.overran: list[asyncio.Future[AttemptOutcome]] = []
        """Attempts whose handler ran past its timeout, left unanswered for the timeout timer."""
        self.publish = publish
        self.on_queued = on_queued
        self.functions = [function.to_json() for function in functions]
        self._instances = {function.name: function.instance for function in functions}
        self._fallback = functions[0].instance if functions else None
        self._queue: deque[tuple[AttemptRequest, asyncio.Future[AttemptOutcome]]] = deque()
        self._traceback: str | None = None
        self._originals: list[tuple[dict[str, Any], Any]] = []
        for function in functions:
            handler = function.definition.get("handler")
            if callable(handler):
                self._originals.append((function.definition, handler))
                function.definition["handler"] = self._traced(handler)

    async def start(self) -> None:
        """Publish the functions (validated; ProjectError for invalid options)."""
        specs = build_specs(self.functions)
        self._timeouts = {spec.name: spec.timeout_seconds for spec in specs}
        if self.publish is not None:
            self.publish(specs)

    async def reload(self) -> ReloadResult:
        """Code in this process is not imported again: the functions stay as they are."""
        return ReloadResult.compare(self.functions, self.functions)

    def register(self, specs: list[FunctionSpec]) -> None:
        """The project's own functions run here: a registration changes nothing."""

    def forward(self, name: str) -> FunctionSpec | None:
        """A name the project does not define cannot run in this process."""
        return None

    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]:
        future: asyncio.Future[AttemptOutcome] = self.loop.create_future()
        self._queue.append((request, future))
        if self.on_queued is not None:
            self.on_queued()
        return future

    @property
    def queued(self) -> int:
        return len(self._queue)

    def run_pending(self) -> int:
        """Run every queued attempt (and those they queue meanwhile); returns how many ran."""
        ran = 0
        while self._queue:
            request, future = self._queue.popleft()
            if future.done():
                continue  # interrupted before it started
            began = self.real_time()
            outcome = self._execute(request)
            ran += 1
            if future.done():
                continue
            timeout = self._timeouts.get(request.function)
            if timeout is not None and self.real_time() - began > timeout:
                self.overran.append(future)  # the platform stopped waiting at the timeout
                future.add_done_callback(self.overran.remove)
                continue
            future.set_result(outcome)
        return ran

    async def aclose(self, grace: float | None = None) -> None:
        """Give the SDK its handlers back and drop what never ran."""
        for definition, handler in self._originals:
            definition["handler"] = handler
        self._originals.clear()
        for _, future in self._queue:
            future.cancel()
        self._queue.clear()

    def _execute(self, request: AttemptRequest) -> AttemptOutcome:
        instance = self._instances.get(request.function, self._fallback)
        if instance is None:
            return AttemptOutcome(None, error="the project defines no function")
        body = request.encode()
        headers = signed_headers(str(instance.cron_secret or ""), body)
        self._traceback = None
        try:
            response = instance.handle(body, headers)
        except (Exception, SystemExit) as exc:  # the SDK only catches Exception from the handler
            response = {"_status": 500, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
            self._traceback = self._traceback or brief(exc, skip_frames=0)
        status = response.pop("_status", 200)
        duration = response.get("durationMs")
        try:
            # Through JSON, as over the wire: the result a test sees is what the platform stores.
            decoded = json.loads(json.dumps(response, ensure_ascii=False, allow_nan=False))
        except (TypeError, ValueError) as exc:
            return AttemptOutcome(
                500,
                response={
                    "status": "error",
                    "error": f"the handler's response is not JSON: {not_json_reason(response, exc)}",
                    "logs": json_plain(response.get("logs") or []),
                },
            )
        return AttemptOutcome(
            http_status=status,
            response=decoded,
            traceback=self._traceback if status >= 300 else None,
            duration_ms=duration if isinstance(duration, int) else None,
        )

    def _traced(self, handler: Any) -> Any:
        """Keep the handler's traceback: the SDK only answers ``str(exc)``."""
        import functools

        @functools.wraps(handler)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return handler(*args, **kwargs)
            except BaseException as exc:
                self._traceback = brief(exc)
                raise

        return call
