"""What keeps the dashboard safe on a laptop.

- ``Host`` must name the address served (DNS rebinding: a foreign site whose name resolves to
  127.0.0.1 still sends its own name), unless it was bound to every interface on purpose.
- Requests that change state must be same-origin (``Origin`` and ``Sec-Fetch-Site``, when the
  browser sends them) and carry the CSRF token embedded in every page.
- Bound beyond loopback, every page requires the API key: a sign-in form sets a cookie that
  holds an HMAC of the key, never the key itself.
- No CORS headers at all; a Content-Security-Policy that allows only the dashboard's own files.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from pingback_cli.emulator.guard import HOST_REFUSED, host_allowed

SESSION_COOKIE = "pingback_session"
CSRF_HEADER = "x-pingback-csrf"
SAFE_METHODS = ("GET", "HEAD")

HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
        " connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Sent with every dashboard response."""


class Guard:
    """The checks, for a server bound to ``host`` (``api_key`` set: sign-in required)."""

    def __init__(self, host: str, api_key: str | None) -> None:
        self.host = host
        self.api_key = api_key
        self.csrf_token = secrets.token_urlsafe(32)
        """Random per process: embedded in pages, required on every state-changing request."""

    def session_value(self) -> str:
        assert self.api_key is not None
        return hmac.new(self.api_key.encode(), b"pingback-dashboard-session", hashlib.sha256).hexdigest()

    def host_allowed(self, request: Request) -> bool:
        """Whether ``Host`` names this server (``emulator.guard.host_allowed``: the rule the
        whole server applies before any route; checked again here for the routes alone)."""
        port = (request.scope.get("server") or (None, None))[1]
        return host_allowed(request.headers.get("host", ""), self.host, port)

    def signed_in(self, request: Request) -> bool:
        if self.api_key is None:
            return True
        given = request.cookies.get(SESSION_COOKIE, "")
        return hmac.compare_digest(given.encode(), self.session_value().encode())

    def key_matches(self, key: str) -> bool:
        return self.api_key is not None and hmac.compare_digest(key.encode(), self.api_key.encode())

    def same_origin(self, request: Request) -> bool:
        """``Origin`` (when sent) is this server's, and ``Sec-Fetch-Site`` (when sent) says
        same-origin. A browser always sends at least one of them on a POST."""
        origin = request.headers.get("origin")
        if origin is not None and origin != f"http://{request.headers.get('host', '')}":
            return False
        site = request.headers.get("sec-fetch-site")
        return site is None or site == "same-origin"

    def token_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf_token.encode())

    def refuse(self, request: Request, *, form_token: str | None = None) -> Response | None:
        """The response that refuses ``request``, or None to let it through."""
        if not self.host_allowed(request):
            return PlainTextResponse(HOST_REFUSED, status_code=421)
        path = request.url.path
        if not self.signed_in(request) and path != "/signin" and not path.startswith("/static/"):
            if request.method in SAFE_METHODS and "text/html" in request.headers.get("accept", ""):
                return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
            return PlainTextResponse("sign in first: this dashboard requires the API key", 401)
        if request.method not in SAFE_METHODS:
            if not self.same_origin(request):
                return PlainTextResponse("refused: cross-origin request", status_code=403)
            token = request.headers.get(CSRF_HEADER) or form_token
            if not self.token_matches(token):
                return PlainTextResponse("refused: missing or wrong CSRF token; reload the page", 403)
        return None
