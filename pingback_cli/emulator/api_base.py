"""What every route of the local platform API shares: the platform the app serves and its API
key (kept on the app's ``state`` by ``api.create_app``), the key check, and the JSON 500 that a
bug of ours answers. Routes are module-level handlers ``(request, platform) -> Response``."""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pingback_cli.emulator.nest import HttpError, internal_error
from pingback_cli.errors import PingbackError

logger = logging.getLogger(__name__)

Handler = Callable[[Request, Any], Awaitable[Response]]
"""A route's handler: the request, and the platform (``api.Platform``) it is answered from."""


def route(path: str, handler: Handler, method: str) -> Route:
    """``handler`` served at ``method path``: authorized, then given the app's platform; a bug of
    ours answers the platform's JSON 500 (never text, never a dropped connection) and its
    traceback goes to the server's log, not to the client."""

    @functools.wraps(handler)
    async def call(request: Request) -> Response:
        try:
            authorize(request)
            return await handler(request, request.app.state.platform)
        except (HttpError, PingbackError, HTTPException):
            raise
        except Exception:
            logger.error("internal error serving %s %s", request.method, request.url.path, exc_info=True)
            return internal_error()

    return Route(path, call, methods=[method])


def authorize(request: Request) -> None:
    """With an API key set on the app, every route needs ``Authorization: Bearer <key>``: none is
    passport's bare 401, a wrong one is api-key.strategy.ts:41's "Invalid API key"."""
    api_key: str | None = request.app.state.api_key
    if api_key is None:
        return
    header = request.headers.get("authorization", "")
    given = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if hmac.compare_digest(given.encode(), api_key.encode()):  # every check: constant time
        return
    raise HttpError(401, "Invalid API key") if given else HttpError(401)
