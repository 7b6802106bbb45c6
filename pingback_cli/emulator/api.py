"""The local platform API, served by uvicorn inside the engine's event loop.

The platform's API-key routes, answered as the platform answers them (runpingback/pingback
``apps/platform/src/modules/``; errors in NestJS's shape, see ``emulator/nest.py``):

- ``POST /api/v1/trigger`` -> 201 ``{executionId, task, scheduledAt}`` (projects/trigger.controller.ts)
- ``POST /api/v1/register`` -> 201 ``{jobs: [{name, status}]}`` (projects/registration.controller.ts)
- ``GET /api/v1/jobs``, ``GET/PATCH/DELETE /api/v1/jobs/{id}``, ``GET /api/v1/jobs/{id}/executions``,
  ``GET /api/v1/executions/{id}`` (``emulator/api_jobs.py``)

Local only (the platform has none of these): ``GET /api/v1/functions``, ``GET /api/v1/executions``
(recent roots), ``GET /api/v1/executions/{id}/tree``, ``POST /api/v1/executions/{id}/cancel`` and
``POST /api/v1/executions/{id}/retry`` (the platform retries only from its dashboard).
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from pingback_cli.emulator.api_jobs import Endpoint, JobsPlatform, execution_routes, job_routes
from pingback_cli.emulator.nest import (
    HttpError,
    StrictJSONResponse,
    internal_error,
    read_json,
    respond,
    route_not_found,
)
from pingback_cli.emulator.server import WORKER_PREFIX
from pingback_cli.errors import NotFound, PingbackError, Unavailable
from pingback_cli.models import Execution, FunctionSpec, iso
from pingback_cli.project.delay import DelayError, js_string, parse_delay

if TYPE_CHECKING:
    from pingback_cli.project.registration import Outcome, Registered

logger = logging.getLogger(__name__)

STATUSES = ("pending", "running", "success", "failed", "interrupted", "cancelled")


class Platform(JobsPlatform, Protocol):
    """What the API needs from the emulator that serves it."""

    ready: bool
    """False while the project is still loading: triggers get 503, not a false 404."""

    def functions(self) -> list[FunctionSpec]: ...

    def knows(self, name: str) -> bool:
        """Would a trigger of ``name`` find a job (or, in endpoint mode, be sent to the app)?"""
        ...

    def trigger(self, name: str, payload: Any, has_payload: bool, delay: float) -> Execution: ...

    def register(
        self, functions: list[Registered], endpoint_url: str | None, *, from_worker: bool = False
    ) -> Outcome:
        """``from_worker``: the project's own worker registering what it loaded."""
        ...

    def function_json(self, spec: FunctionSpec) -> dict[str, Any]: ...

    def recent(self, limit: int, function: str | None, status: str | None) -> list[dict[str, Any]]: ...

    def tree(self, id_or_prefix: str) -> dict[str, Any]: ...


def guarded(endpoint: Endpoint) -> Endpoint:
    """A bug of ours answers the platform's JSON 500 (never text, never a dropped connection);
    the traceback goes to the server's log, not to the client."""

    @functools.wraps(endpoint)
    async def call(request: Request) -> Response:
        try:
            return await endpoint(request)
        except (HttpError, PingbackError, HTTPException):
            raise
        except Exception:
            logger.error("internal error serving %s %s", request.method, request.url.path, exc_info=True)
            return internal_error()

    return call


def authorizer(api_key: str | None) -> Callable[[Request], None]:
    """With ``api_key`` set, every route needs ``Authorization: Bearer <api_key>``: none is
    passport's bare 401, a wrong one is api-key.strategy.ts:41's "Invalid API key"."""

    def authorize(request: Request) -> None:
        if api_key is None:
            return
        header = request.headers.get("authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if hmac.compare_digest(given.encode(), api_key.encode()):  # every check: constant time
            return
        raise HttpError(401, "Invalid API key") if given else HttpError(401)

    return authorize


def create_app(
    platform: Platform, *, api_key: str | None = None, extra: list[BaseRoute] | None = None
) -> Starlette:
    """The API for ``platform``; ``api_key`` set: every route requires it. ``extra``: more routes
    on the same port after the API's (the dashboard's)."""
    authorize = authorizer(api_key)

    def loading() -> None:
        if not platform.ready:
            raise HttpError(503, "the project is still loading; try again in a moment")

    async def trigger(request: Request) -> Response:
        authorize(request)
        data = await read_json(request)
        body = data if isinstance(data, dict) else {}
        name = body.get("task")
        loading()
        # trigger.controller.ts:41-47: the job first (whatever its status), then the delay.
        if not isinstance(name, str) or not platform.knows(name):
            # The platform's TypeORM drops an undefined name from the query and picks any job;
            # we answer its 404 instead.
            raise HttpError(
                404,
                f'Task "{js_string(name) if name is not None else "undefined"}" not found in this project',
            )
        try:
            delay = parse_delay(body.get("delay"))
        except DelayError as exc:
            raise HttpError(400, str(exc)) from None
        execution = platform.trigger(name, body.get("payload"), "payload" in body, delay)
        return StrictJSONResponse(
            {"executionId": execution.id, "task": name, "scheduledAt": iso(execution.scheduled_at)},
            status_code=201,
        )

    async def register(request: Request) -> Response:
        authorize(request)
        from pingback_cli.project.registration import RegistrationInvalid, read_body

        try:
            functions, endpoint = read_body(await read_json(request))
        except RegistrationInvalid as exc:
            raise HttpError(400, exc.messages) from None
        from_worker = request.scope.get("root_path", "").endswith(WORKER_PREFIX)
        outcome = platform.register(functions, endpoint, from_worker=from_worker)
        if outcome.error is not None:
            status, message = outcome.error.status, outcome.error.message
            if status == 500:
                return internal_error()
            raise HttpError(status, message)
        return StrictJSONResponse({"jobs": outcome.jobs}, status_code=201)

    async def functions(request: Request) -> Response:
        authorize(request)
        loading()
        return StrictJSONResponse([platform.function_json(spec) for spec in platform.functions()])

    async def executions(request: Request) -> Response:
        authorize(request)
        raw_limit = request.query_params.get("limit", "20")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 1000:
            raise HttpError(400, "limit must be a whole number from 1 to 1000")
        status = request.query_params.get("status")
        if status is not None and status not in STATUSES:
            raise HttpError(400, f'unknown status "{status}"')
        return StrictJSONResponse(
            platform.recent(int(raw_limit), request.query_params.get("function"), status)
        )

    async def tree(request: Request) -> Response:
        authorize(request)
        return StrictJSONResponse(platform.tree(request.path_params["execution_id"]))

    routes = [
        Route("/api/v1/trigger", guarded(trigger), methods=["POST"]),
        Route("/api/v1/register", guarded(register), methods=["POST"]),
        Route("/api/v1/functions", guarded(functions), methods=["GET"]),
        Route("/api/v1/executions", guarded(executions), methods=["GET"]),
        Route("/api/v1/executions/{execution_id}/tree", guarded(tree), methods=["GET"]),
        *job_routes(platform, authorize, guarded),
        *execution_routes(platform, authorize, guarded),
    ]
    return Starlette(
        routes=[*routes, Mount(WORKER_PREFIX, routes=routes), *(extra or [])],
        exception_handlers=_exception_handlers(),
    )


def _exception_handlers() -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    """Our errors by type: NotFound 404, Unavailable 503, any other PingbackError 400; routing's
    own 404/405 as Express words them."""

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HttpError)
        return respond(exc)

    async def on_pingback_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PingbackError)
        status = 404 if isinstance(exc, NotFound) else 503 if isinstance(exc, Unavailable) else 400
        return respond(HttpError(status, exc.message))

    async def on_routing(request: Request, exc: Exception) -> Response:
        if getattr(exc, "status_code", 500) in (404, 405):
            return respond(route_not_found(request.method, request.url.path))
        return respond(HttpError(getattr(exc, "status_code", 500), str(getattr(exc, "detail", "error"))))

    return {HttpError: on_http_error, PingbackError: on_pingback_error, HTTPException: on_routing}
