"""How ``pb.trigger()`` reaches the virtual platform without opening a port.

The SDK posts with ``urllib.request.urlopen`` to ``platform_url + "/api/v1/trigger"``. While a
virtual platform is active, every SDK instance's ``platform_url`` is ``pingbacktest://platform``
and an opener that answers that scheme is installed: it hands the request to the emulator's
own platform API (``emulator/api.py``, the same routes ``pingback dev`` serves) as an ASGI
call on the platform's event loop. Other URLs go through urllib's usual handlers.
"""

from __future__ import annotations

import asyncio
import email.message
import io
import urllib.error
import urllib.request
import urllib.response
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

SCHEME = "pingbacktest"
PLATFORM_URL = f"{SCHEME}://platform"


class PlatformTransport(urllib.request.BaseHandler):
    """A urllib handler for ``pingbacktest://``: one ASGI call per request."""

    def __init__(self, app: Callable[[], Any], loop: asyncio.AbstractEventLoop) -> None:
        self._app_factory = app
        self._app: Any = None
        self.loop = loop

    def pingbacktest_open(self, request: urllib.request.Request) -> urllib.response.addinfourl:
        if self._app is None:
            self._app = self._app_factory()  # Starlette is imported on the first trigger only
        url = request.full_url
        parts = urlsplit(url)
        body = request.data if isinstance(request.data, bytes) else b""
        headers = [(key.lower(), value) for key, value in request.header_items()]
        headers.append(("content-length", str(len(body))))
        if self.loop.is_running():
            raise urllib.error.URLError("pb.trigger() was called while the virtual platform was busy")
        status, reply_headers, reply = self.loop.run_until_complete(
            _call(self._app, request.get_method(), parts.path, parts.query, headers, body)
        )
        message = email.message.Message()
        for key, value in reply_headers:
            message[key] = value
        if status >= 400:
            raise urllib.error.HTTPError(url, status, f"HTTP {status}", message, io.BytesIO(reply))
        return urllib.response.addinfourl(io.BytesIO(reply), message, url, status)


async def _call(
    app: Any, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(key.encode(), value.encode()) for key, value in headers],
        "client": ("127.0.0.1", 0),
        "server": ("platform", 80),
    }
    delivered = False
    status = 500
    reply_headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            reply_headers.extend((k.decode(), v.decode()) for k, v in message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, reply_headers, b"".join(chunks)


class InstalledOpener:
    """Installs an opener answering ``pingbacktest://`` and puts the previous one back."""

    def __init__(self, transport: PlatformTransport) -> None:
        self._previous = getattr(urllib.request, "_opener", None)
        urllib.request.install_opener(urllib.request.build_opener(transport))

    def restore(self) -> None:
        urllib.request.install_opener(self._previous)  # type: ignore[arg-type]
