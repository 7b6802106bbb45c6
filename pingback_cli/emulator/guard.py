"""The one request guard in front of everything a local server answers (``pingback dev``'s
platform API and dashboard, ``pingback ui``), as an ASGI middleware:

- ``Host`` must name this server (``host_allowed``): a page whose name was rebound to 127.0.0.1
  (DNS rebinding) still sends its own name, and gets 421 before any route reads anything.
- A request from another origin is refused with 403: an ``Origin`` that is not this server's
  own, or ``Sec-Fetch-Site`` other than ``same-origin``/``none`` (a top-level navigation to a
  page is let through: it cannot change anything, and the browser shows the answer to the user
  only). A browser sends one of the two on every cross-origin request, so a page the developer
  visits can neither run a task (a "simple" ``text/plain`` POST, sent without a preflight) nor
  read history.
- A write to the API with a body must say ``Content-Type: application/json`` (415 otherwise):
  the SDKs (pingback-py ``pingback/client.py`` ``trigger()``, ``pingback/register.py``
  ``register()``), ``pingback trigger``/``register`` and the dashboard's own fetches all do; a
  browser cannot send it cross-origin without a preflight, which gets no CORS answer. The
  platform's own rules are in docs/parity.md ("The API"): CORS for its dashboard only
  (``apps/platform/src/main.ts:10``) and a bearer key that a page of another site cannot send.

Refusals on API paths are the platform's JSON error shape (``emulator/nest.py``), elsewhere one
line of text, as the dashboard always answered. Bound beyond loopback, the API's bearer key still
comes first on API routes: a request without it gets the route's 401, whatever its body.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
ANY_INTERFACE = ("0.0.0.0", "::", "")
SAFE_METHODS = ("GET", "HEAD")
API_PREFIXES = ("/api/", "/__worker/api/")
"""The platform API's paths, and the same routes for the project's own worker (``WORKER_PREFIX``)."""

HOST_REFUSED = (
    "refused: this server answers only requests addressed to its own address (Host header), "
    "against DNS rebinding"
)
CROSS_ORIGIN_REFUSED = "refused: cross-origin request (this server sends no CORS headers)"
NOT_JSON_REFUSED = "refused: send the body as JSON, with the header Content-Type: application/json"


def host_allowed(header: str, bound: str, port: int | None) -> bool:
    """Whether a ``Host`` header value names a server bound to ``bound`` on ``port``: a loopback
    name or the bound address, with the port (without it only on port 80). Bound to every
    interface (``--host 0.0.0.0``, the API key then required), any name is accepted."""
    if bound in ANY_INTERFACE:
        return True
    names = {*LOOPBACK_NAMES, f"[{bound}]" if ":" in bound else bound}
    allowed = {f"{name}:{port}" for name in names}
    if port == 80:
        allowed |= names
    return header.lower() in allowed


def cross_origin(headers: dict[str, str], method: str) -> bool:
    """Whether a browser says this request comes from another origin: an ``Origin`` other than
    ``http://<Host>``, or a ``Sec-Fetch-Site`` other than ``same-origin`` and ``none`` (typed
    or bookmarked), except a GET or HEAD navigation (following a link to a page)."""
    origin = headers.get("origin")
    if origin is not None and origin != f"http://{headers.get('host', '')}":
        return True
    site = headers.get("sec-fetch-site")
    if site is None or site in ("same-origin", "none"):
        return False
    return not (method in SAFE_METHODS and headers.get("sec-fetch-mode") == "navigate")


def is_json(content_type: str) -> bool:
    """``application/json``, with or without parameters (``; charset=utf-8``)."""
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


class RequestGuard:
    """``app`` behind the checks above, for a server bound to ``host``; ``api_key`` set (bound
    beyond loopback): API requests without that bearer key pass to their route's 401."""

    def __init__(self, app: App, *, host: str, api_key: str | None = None) -> None:
        self.app = app
        self.host = host
        self.api_key = api_key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, message = refusal
        await _answer(send, status, message, api=_is_api(scope["path"]))

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """``(status, message)`` refusing the request of ``scope``, or None to let it through."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        port = (scope.get("server") or (None, None))[1]
        if not host_allowed(headers.get("host", ""), self.host, port):
            return 421, HOST_REFUSED
        if cross_origin(headers, method):
            return 403, CROSS_ORIGIN_REFUSED
        if _is_api(scope["path"]) and method not in (*SAFE_METHODS, "OPTIONS") and self._authorized(headers):
            has_body = headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in headers
            content_type = headers.get("content-type")
            if (has_body or content_type is not None) and not is_json(content_type or ""):
                return 415, NOT_JSON_REFUSED
        return None

    def _authorized(self, headers: dict[str, str]) -> bool:
        if self.api_key is None:
            return True
        header = headers.get("authorization", "")
        given = header[7:].strip() if header.lower().startswith("bearer ") else ""
        return hmac.compare_digest(given.encode(), self.api_key.encode())


def _is_api(path: str) -> bool:
    return path.startswith(API_PREFIXES)


async def _answer(send: Send, status: int, message: str, *, api: bool) -> None:
    """One refusal: the platform's error JSON on API paths, one line of text elsewhere."""
    if api:
        error = {"message": message, "error": HTTPStatus(status).phrase, "statusCode": status}
        body, media = json.dumps(error).encode(), b"application/json"
    else:
        body, media = message.encode(), b"text/plain; charset=utf-8"
    headers = [
        (b"content-type", media),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
