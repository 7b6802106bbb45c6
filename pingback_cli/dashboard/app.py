"""The dashboard's routes, mounted into the platform API's Starlette app (`pingback dev`) or
served alone over history (`pingback ui`).

Pages are rendered by Jinja2 with autoescape; the environment is built on the first page,
so mounting the routes costs `pingback dev` nothing at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from pingback_cli.dashboard import actions, pages
from pingback_cli.dashboard.security import HEADERS, Guard
from pingback_cli.dashboard.source import Source

HERE = Path(__file__).resolve().parent
HEARTBEAT_SECONDS = 15.0

Endpoint = Callable[[Request], Awaitable[Response]]


class Renderer:
    """Jinja2 over the package's templates, created when first needed."""

    def __init__(self, source: Source, guard: Guard) -> None:
        self.source = source
        self.guard = guard
        self._env: Any = None

    @property
    def env(self) -> Any:
        if self._env is None:
            from jinja2 import Environment, FileSystemLoader, select_autoescape

            from pingback_cli import times
            from pingback_cli.dashboard import present

            env = Environment(
                loader=FileSystemLoader(HERE / "templates"),
                autoescape=select_autoescape(default=True, default_for_string=True),
                trim_blocks=True,
                lstrip_blocks=True,
            )
            env.filters["duration"] = times.duration_ms
            env.filters["run_time"] = present.run_time
            env.filters["when"] = present.when
            env.filters["pill"] = present.pill
            env.filters["iso"] = _iso
            env.filters["short"] = lambda text: (text or "")[:8]
            env.filters["compact"] = lambda value: json.dumps(value, ensure_ascii=False, default=repr)
            self._env = env
        return self._env

    def page(self, request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
        base = {
            "request": request,
            "project": self.source.project,
            "state": self.source.state(),
            "read_only": self.source.read_only,
            "csrf": self.guard.csrf_token,
            "path": request.url.path,
        }
        html = self.env.get_template(template).render({**base, **context})
        return HTMLResponse(html, status_code=status)


def _iso(ts: float | None) -> str:
    from pingback_cli.models import iso

    return iso(ts) or ""


def dashboard_routes(source: Source, *, host: str, api_key: str | None) -> list[BaseRoute]:
    """Every dashboard route (pages, raw JSON, the event stream, actions, static files)."""
    guard = Guard(host, api_key)
    renderer = Renderer(source, guard)

    def guarded(endpoint: Endpoint) -> Endpoint:
        return _guarded(endpoint, guard, renderer)

    def view(template: str, build: Callable[[Request], dict[str, Any]]) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            return renderer.page(request, template, build(request))

        return guarded(endpoint)

    async def raw(request: Request) -> Response:
        value = pages.raw_value(source, request.path_params["execution_id"], request.path_params["part"])
        body = json.dumps(value, indent=2, ensure_ascii=False, default=repr)
        return Response(body, media_type="application/json")

    async def events(request: Request) -> Response:
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        return StreamingResponse(_stream(source, request), media_type="text/event-stream", headers=headers)

    return [
        Route("/", view("runs.html", lambda r: pages.runs_page(source, r.query_params))),
        Route("/functions", view("functions.html", lambda r: pages.functions_page(source))),
        Route("/functions/{name:path}", view("function.html", lambda r: pages.function_page(source, _id(r)))),
        Route("/executions/{id}", view("execution.html", lambda r: pages.execution_page(source, _id(r)))),
        Route("/executions/{execution_id}/raw/{part}", guarded(raw)),
        Route("/logs", view("logs.html", lambda r: pages.logs_page(source, r.query_params))),
        Route("/api", view("api.html", lambda r: pages.api_page(source))),
        Route("/events", guarded(events)),
        Route("/signin", guarded(actions.signin_page(renderer)), methods=["GET"]),
        Route("/signin", guarded(actions.signin(guard)), methods=["POST"]),
        *(
            Route(f"/actions/{name}", guarded(handler), methods=["POST"])
            for name, handler in actions.handlers(source).items()
        ),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]


def _id(request: Request) -> str:
    """The page's subject: ``{name}`` of a function or ``{id}`` of an execution."""
    params = request.path_params
    return str(params.get("name", params.get("id", "")))


def _guarded(endpoint: Endpoint, guard: Guard, renderer: Renderer) -> Endpoint:
    """``endpoint`` behind the security checks, with the security headers, and NotFound as
    a 404 page."""

    @functools.wraps(endpoint)
    async def call(request: Request) -> Response:
        form_token = None
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form_token = (await actions.form(request)).get("csrf")
        refused = guard.refuse(request, form_token=form_token)
        if refused is not None:
            response = refused
        else:
            try:
                response = await endpoint(request)
            except pages.NotFound as exc:
                response = renderer.page(request, "error.html", {"message": str(exc)}, status=404)
        response.headers.update(HEADERS)
        return response

    return call


async def _stream(source: Source, request: Request) -> AsyncIterator[bytes]:
    """Server-Sent Events: one ``change`` message per batch of engine events, a comment every
    15 s so proxies and the browser keep the stream; ends when the server stops."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)

    def push(message: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(message)

    unsubscribe = source.subscribe(push)
    try:
        yield b"retry: 1000\n: connected\n\n"
        idle = 0.0
        while not source.closing():
            try:
                message = await asyncio.wait_for(queue.get(), 0.5)
            except asyncio.TimeoutError:
                idle += 0.5
                if idle >= HEARTBEAT_SECONDS:
                    idle = 0.0
                    yield b": heartbeat\n\n"
                if await request.is_disconnected():
                    return
                continue
            idle = 0.0
            yield f"event: change\ndata: {json.dumps(message)}\n\n".encode()
    finally:
        unsubscribe()


def json_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)
