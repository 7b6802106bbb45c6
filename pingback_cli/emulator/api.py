"""The local platform API, served by uvicorn inside the engine's event loop.

The platform's API-key routes, answered as the platform answers them (runpingback/pingback
``apps/platform/src/modules/``; errors in NestJS's shape, see ``emulator/nest.py``):

- ``POST /api/v1/trigger`` -> 201 ``{executionId, task, scheduledAt}`` (projects/trigger.controller.ts)
- ``POST /api/v1/register`` -> 201 ``{jobs: [{name, status}]}`` (projects/registration.controller.ts)
- ``GET /api/v1/jobs``, ``GET/PATCH/DELETE /api/v1/jobs/{id}``, ``GET /api/v1/jobs/{id}/executions``,
  ``GET /api/v1/executions/{id}`` (``emulator/api_jobs.py``)

Local only (the platform has none of these): ``GET /api/v1/project`` (which project this server
runs: ``{projectId, root}``, so `pingback trigger` never sends to another project's dev),
``GET /api/v1/functions``, ``GET /api/v1/executions``
(recent roots), ``GET /api/v1/executions/{id}/tree``, ``POST /api/v1/executions/{id}/cancel`` and
``POST /api/v1/executions/{id}/retry`` (the platform retries only from its dashboard).

Each route is a module-level handler given the request and the app's platform
(``api_base.route``: the API key checked, a bug of ours answered as the platform's JSON 500).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount

from pingback_cli.emulator.api_base import route
from pingback_cli.emulator.api_jobs import EXECUTION_ROUTES, JOB_ROUTES, JobsPlatform
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

    def project_root(self) -> Path | None:
        """The root of the project served (None: not one on disk)."""
        ...


def _loading(platform: Platform) -> None:
    if not platform.ready:
        raise HttpError(503, "the project is still loading; try again in a moment")


async def trigger(request: Request, platform: Platform) -> Response:
    data = await read_json(request)
    body = data if isinstance(data, dict) else {}
    name = body.get("task")
    _loading(platform)
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


async def register(request: Request, platform: Platform) -> Response:
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


async def functions(request: Request, platform: Platform) -> Response:
    _loading(platform)
    return StrictJSONResponse([platform.function_json(spec) for spec in platform.functions()])


async def executions(request: Request, platform: Platform) -> Response:
    raw_limit = request.query_params.get("limit", "20")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 1000:
        raise HttpError(400, "limit must be a whole number from 1 to 1000")
    status = request.query_params.get("status")
    if status is not None and status not in STATUSES:
        raise HttpError(400, f'unknown status "{status}"')
    return StrictJSONResponse(platform.recent(int(raw_limit), request.query_params.get("function"), status))


async def project(request: Request, platform: Platform) -> Response:
    root = platform.project_root()
    if root is None:
        return StrictJSONResponse({"projectId": None, "root": None})
    from pingback_cli.emulator.shapes import project_id

    return StrictJSONResponse({"projectId": project_id(root), "root": str(root.resolve())})


async def tree(request: Request, platform: Platform) -> Response:
    return StrictJSONResponse(platform.tree(request.path_params["execution_id"]))


ROUTES = [
    route("/api/v1/trigger", trigger, "POST"),
    route("/api/v1/register", register, "POST"),
    route("/api/v1/functions", functions, "GET"),
    route("/api/v1/project", project, "GET"),
    route("/api/v1/executions", executions, "GET"),
    route("/api/v1/executions/{execution_id}/tree", tree, "GET"),
    *JOB_ROUTES,
    *EXECUTION_ROUTES,
]
"""Every route of the API, each also served under ``WORKER_PREFIX`` (the worker's own calls)."""


def create_app(
    platform: Platform, *, api_key: str | None = None, extra: list[BaseRoute] | None = None
) -> Starlette:
    """The API for ``platform``; ``api_key`` set: every route requires it. ``extra``: more routes
    on the same port after the API's (the dashboard's)."""
    app = Starlette(
        routes=[*ROUTES, Mount(WORKER_PREFIX, routes=ROUTES), *(extra or [])],
        exception_handlers={
            HttpError: _on_http_error,
            PingbackError: _on_pingback_error,
            HTTPException: _on_routing,
        },
    )
    app.state.platform = platform
    app.state.api_key = api_key
    return app


# Our errors by type: NotFound 404, Unavailable 503, any other PingbackError 400; routing's own
# 404/405 as Express words them.


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpError)
    return respond(exc)


async def _on_pingback_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PingbackError)
    status = 404 if isinstance(exc, NotFound) else 503 if isinstance(exc, Unavailable) else 400
    return respond(HttpError(status, exc.message))


async def _on_routing(request: Request, exc: Exception) -> Response:
    if getattr(exc, "status_code", 500) in (404, 405):
        return respond(route_not_found(request.method, request.url.path))
    return respond(HttpError(getattr(exc, "status_code", 500), str(getattr(exc, "detail", "error"))))
