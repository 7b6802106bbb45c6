"""The local platform API, served by uvicorn inside the engine's event loop.

Same routes and shapes as the hosted platform (``/api/v1/trigger``,
``/api/v1/register``), plus read routes for functions and history.
"""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from pingback_cli.errors import NotFound, PingbackError, Unavailable
from pingback_cli.models import Execution, FunctionSpec, iso
from pingback_cli.project.delay import DelayError, parse_delay
from pingback_cli.protocol import strict_dumps, strict_loads

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 10 * 1024 * 1024
"""Largest request body the API accepts (413 beyond)."""


class Platform(Protocol):
    """What the API needs from the emulator that serves it."""

    ready: bool
    """False while the project is still loading: triggers get 503, not a false 404."""

    def functions(self) -> list[FunctionSpec]: ...

    def trigger(self, name: str, payload: Any, has_payload: bool, delay: float) -> Execution: ...

    def register(self, functions: list[FunctionSpec], endpoint_url: str | None) -> list[dict[str, str]]: ...

    def function_json(self, spec: FunctionSpec) -> dict[str, Any]: ...

    def recent(self, limit: int, function: str | None, status: str | None) -> list[dict[str, Any]]: ...

    def tree(self, id_or_prefix: str) -> dict[str, Any]: ...


class StrictJSONResponse(JSONResponse):
    """Starlette's JSONResponse, but a NaN or Infinity in recorded data is written as a string
    (``protocol.json_safe``) instead of failing the whole response with a 500."""

    def render(self, content: Any) -> bytes:
        return strict_dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def status_of(error: PingbackError) -> int:
    """The HTTP status of one of our errors, by its type: NotFound 404, Unavailable 503,
    anything else the client's fault (400)."""
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Unavailable):
        return 503
    return 400


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JSONResponse:
    return StrictJSONResponse({"error": message}, status_code=status)


async def _json_body(request: Request) -> Any:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiError(413, f"request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        # Strict as the platform's JSON.parse: NaN and Infinity are refused, not stored.
        return strict_loads(body or b"null")
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "request body is nested too deeply to decode") from None


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApiError(400, "request body must be a JSON object")
    return data


def _guarded(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A bug of ours answers JSON 500 like every other error (never text, never a dropped
    connection), and the traceback goes to the server's log, not to the client."""

    @functools.wraps(endpoint)
    async def call(request: Request) -> Response:
        try:
            return await endpoint(request)
        except (ApiError, PingbackError, HTTPException):
            raise
        except Exception as exc:
            logger.error("internal error serving %s %s", request.method, request.url.path, exc_info=True)
            return _error(500, f"internal error in pingback ({type(exc).__name__}); see its log")

    return call


def create_app(
    platform: Platform, *, api_key: str | None = None, extra: list[BaseRoute] | None = None
) -> Starlette:
    """``api_key`` set: every route requires ``Authorization: Bearer <api_key>``. ``extra``: more
    routes on the same port after the API's (the dashboard's)."""

    def authorize(request: Request) -> None:
        if api_key is None:
            return
        header = request.headers.get("authorization", "")
        given = header[7:] if header.lower().startswith("bearer ") else ""
        if not hmac.compare_digest(given.encode(), api_key.encode()):
            raise ApiError(401, "invalid API key: send Authorization: Bearer <api key>")

    def loading() -> None:
        if not platform.ready:
            raise ApiError(503, "the project is still loading; try again in a moment")

    async def trigger(request: Request) -> Response:
        authorize(request)
        data = _object(await _json_body(request))
        name = data.get("task")
        if not isinstance(name, str) or not name:
            raise ApiError(400, 'missing "task": the name of the function to run')
        delay: float = 0
        if data.get("delay") is not None:
            try:
                delay = parse_delay(data["delay"])
            except DelayError as exc:
                raise ApiError(400, str(exc)) from None
        loading()
        execution = platform.trigger(name, data.get("payload"), "payload" in data, delay)
        return StrictJSONResponse(
            {"executionId": execution.id, "task": name, "scheduledAt": iso(execution.scheduled_at)}
        )

    async def register(request: Request) -> Response:
        authorize(request)
        from pingback_cli.project.specs import InvalidFunction, build_spec

        data = _object(await _json_body(request))
        entries = data.get("functions")
        if not isinstance(entries, list):
            raise ApiError(400, 'missing "functions": a list of {name, type, schedule?, options}')
        specs: list[FunctionSpec] = []
        for entry in entries:
            if not isinstance(entry, dict):
                raise ApiError(400, "each function must be an object")
            options = entry.get("options")
            if options is None:
                options = {}
            if not isinstance(options, dict):
                raise ApiError(400, f'function "{entry.get("name")}": options must be an object')
            raw = {
                "name": entry.get("name"),
                "type": entry.get("type"),
                "schedule": entry.get("schedule"),
                "retries": options.get("retries", 0),
                "timeout": options.get("timeout"),
                "concurrency": options.get("concurrency", 1),
                "source": "registered",
            }
            try:
                specs.append(build_spec(raw))
            except InvalidFunction as exc:
                raise ApiError(400, str(exc).replace(" (registered)", "")) from None
        endpoint = data.get("endpoint_url")
        jobs = platform.register(specs, endpoint if isinstance(endpoint, str) else None)
        return StrictJSONResponse({"jobs": jobs})

    async def functions(request: Request) -> Response:
        authorize(request)
        loading()
        return StrictJSONResponse([platform.function_json(spec) for spec in platform.functions()])

    async def executions(request: Request) -> Response:
        authorize(request)
        raw_limit = request.query_params.get("limit", "20")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 1000:
            raise ApiError(400, "limit must be a whole number from 1 to 1000")
        status = request.query_params.get("status")
        if status is not None and status not in (
            "pending",
            "running",
            "success",
            "failed",
            "interrupted",
            "cancelled",
        ):
            raise ApiError(400, f'unknown status "{status}"')
        recent = platform.recent(int(raw_limit), request.query_params.get("function"), status)
        return StrictJSONResponse(recent)

    async def execution(request: Request) -> Response:
        authorize(request)
        return StrictJSONResponse(platform.tree(request.path_params["execution_id"]))

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _error(exc.status, exc.message)

    async def on_pingback_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PingbackError)
        return _error(status_of(exc), exc.message)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        detail = getattr(exc, "detail", "error")
        response = _error(status, str(detail))
        response.headers.update(getattr(exc, "headers", None) or {})  # e.g. Allow on a 405
        return response

    return Starlette(
        routes=[
            Route("/api/v1/trigger", _guarded(trigger), methods=["POST"]),
            Route("/api/v1/register", _guarded(register), methods=["POST"]),
            Route("/api/v1/functions", _guarded(functions), methods=["GET"]),
            Route("/api/v1/executions", _guarded(executions), methods=["GET"]),
            Route("/api/v1/executions/{execution_id}", _guarded(execution), methods=["GET"]),
            *(extra or []),
        ],
        exception_handlers={
            ApiError: on_api_error,
            PingbackError: on_pingback_error,
            HTTPException: on_http_error,
        },
    )
