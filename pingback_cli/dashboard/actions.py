"""The dashboard's state-changing requests (JSON over ``fetch``; the security checks ran before):
Run, Replay, Retry, Cancel, Pause and Resume, each one call of the ``Source``; and sign-in.

Errors are mapped by type: a read-only `pingback ui` answers 409 saying `pingback dev` is
needed, an unknown function or execution 404, anything else we refuse 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from pingback_cli.dashboard.security import SESSION_COOKIE, Guard
from pingback_cli.dashboard.source import ReadOnly, Source
from pingback_cli.engine.engine import UnknownFunction
from pingback_cli.errors import NotFound, PingbackError, Unavailable

Endpoint = Callable[[Request], Awaitable[Response]]
MAX_BODY = 10 * 1024 * 1024


class BadRequest(Exception):
    pass


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise BadRequest(f"request body is larger than {MAX_BODY} bytes")
    from pingback_cli.protocol import strict_loads

    try:
        data = strict_loads(raw or b"{}")  # NaN and Infinity refused, as the platform API does
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    return data


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f'missing "{key}"')
    return value


def _answer(call: Callable[[dict[str, Any]], dict[str, Any]]) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(call(await _body(request)))
        except ReadOnly as exc:
            return JSONResponse({"error": exc.message}, status_code=409)
        except UnknownFunction as exc:
            return JSONResponse({"error": f'function "{exc.name}" is not defined in this project'}, 404)
        except NotFound as exc:
            return JSONResponse({"error": exc.message}, status_code=404)
        except Unavailable as exc:
            return JSONResponse({"error": str(exc)}, status_code=503)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except PingbackError as exc:
            return JSONResponse({"error": exc.message}, status_code=400)

    return endpoint


def handlers(source: Source) -> dict[str, Endpoint]:
    """``/actions/<name>`` -> its endpoint."""

    def run(data: dict[str, Any]) -> dict[str, Any]:
        execution_id = source.run(_text(data, "function"), data.get("payload"), "payload" in data)
        return {"executionId": execution_id, "url": f"/executions/{execution_id}"}

    def replay(data: dict[str, Any]) -> dict[str, Any]:
        execution_id = source.replay(_text(data, "executionId"), data.get("payload"), "payload" in data)
        return {"executionId": execution_id, "url": f"/executions/{execution_id}"}

    def retry(data: dict[str, Any]) -> dict[str, Any]:
        execution_id = _text(data, "executionId")
        source.retry(execution_id)
        return {"executionId": execution_id, "url": f"/executions/{execution_id}"}

    def cancel(data: dict[str, Any]) -> dict[str, Any]:
        execution_id = _text(data, "executionId")
        source.cancel(execution_id)
        return {"executionId": execution_id, "url": f"/executions/{execution_id}"}

    def pause(data: dict[str, Any]) -> dict[str, Any]:
        source.set_paused(_text(data, "function"), True)
        return {"ok": True}

    def resume(data: dict[str, Any]) -> dict[str, Any]:
        source.set_paused(_text(data, "function"), False)
        return {"ok": True}

    calls = {"run": run, "replay": replay, "retry": retry, "cancel": cancel, "pause": pause, "resume": resume}
    return {name: _answer(call) for name, call in calls.items()}


async def form(request: Request) -> dict[str, str]:
    """A small url-encoded form (the sign-in), without python-multipart: first value of each."""
    from urllib.parse import parse_qs

    raw = await request.body()
    if len(raw) > 64 * 1024:
        return {}
    fields = parse_qs(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def signin_page(renderer: Any) -> Endpoint:
    async def endpoint(request: Request) -> Response:
        return renderer.page(request, "signin.html", {"next": _next(request), "failed": False})

    return endpoint


def signin(guard: Guard) -> Endpoint:
    """The form posts the API key; a matching key sets the session cookie (an HMAC of the key)."""

    async def endpoint(request: Request) -> Response:
        if guard.api_key is None:
            return RedirectResponse("/", status_code=303)
        fields = await form(request)
        key = fields.get("key")
        if not isinstance(key, str) or not guard.key_matches(key):
            return PlainTextResponse("wrong API key: go back and try again", status_code=401)
        response = RedirectResponse(_next(request, fields.get("next")), status_code=303)
        response.set_cookie(SESSION_COOKIE, guard.session_value(), httponly=True, samesite="strict")
        return response

    return endpoint


def _next(request: Request, given: Any = None) -> str:
    target = given if isinstance(given, str) else request.query_params.get("next", "/")
    # Only a path of this site: never an absolute or protocol-relative URL.
    return target if target.startswith("/") and not target.startswith("//") else "/"
