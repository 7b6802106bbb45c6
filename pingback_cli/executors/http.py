"""Executors that run attempts outside our own worker: ``HttpExecutor`` POSTs each attempt,
signed, to an app the user runs (any language), exactly as the hosted platform does.

Every failure becomes an ``AttemptOutcome`` whose error is one line that says what to
do about it; nothing raises into the engine. Timeouts are the engine's: when it gives
up on an attempt (cancels the future or fails it), the request is cancelled too.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Generator
from typing import Any

import httpx

from pingback_cli.errors import UsageError
from pingback_cli.protocol import AttemptOutcome, AttemptRequest, signed_headers, strict_loads

BODY_EXCERPT_CHARS = 200
MAX_REDIRECTS = 5
KEEPALIVE_EXPIRY = 2.0
"""Below the idle timeouts of common dev servers (Node's is 5 s), so a pooled connection
is dropped by us before the app closes it under a request."""
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class PingbackSignature(httpx.Auth):
    """Sign a request the way the platform does: timestamp + HMAC-SHA256 of ``"{ts}.{body}"``."""

    requires_request_body = True

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(signed_headers(self.secret, request.content))
        yield request


def check_endpoint(url: str) -> httpx.URL:
    """``url`` parsed, or a UsageError when it cannot be an app endpoint."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UsageError(f"--endpoint {url!r} is not a URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(
            f"--endpoint {url!r} is not an http(s) URL",
            hint="pass the route your app serves Pingback on, e.g. http://127.0.0.1:3000/api/pingback",
        )
    return parsed


def new_client() -> httpx.AsyncClient:
    """One keep-alive client for every attempt: no per-request set-up, no redirects, no
    client-side timeout (the engine enforces each function's own)."""
    limits = httpx.Limits(
        max_connections=None, max_keepalive_connections=64, keepalive_expiry=KEEPALIVE_EXPIRY
    )
    return httpx.AsyncClient(
        timeout=httpx.Timeout(None),
        follow_redirects=False,
        trust_env=False,
        # Headers and body go out as two writes; with Nagle on, the body waits for a
        # delayed ACK (~40 ms) on every request of a keep-alive connection.
        transport=httpx.AsyncHTTPTransport(
            limits=limits, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        ),
        limits=limits,
    )


class HttpExecutor:
    """The engine's executor for ``--endpoint``: one signed POST per attempt."""

    def __init__(self, endpoint_url: str, secret: str, *, client: httpx.AsyncClient | None = None) -> None:
        self.url = check_endpoint(endpoint_url)
        self.endpoint_url = endpoint_url
        self.auth = PingbackSignature(secret)
        self._client = client if client is not None else new_client()
        self._owns_client = client is None
        self._tasks: set[asyncio.Task[AttemptOutcome]] = set()

    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]:
        loop = asyncio.get_running_loop()
        result: asyncio.Future[AttemptOutcome] = loop.create_future()
        task = loop.create_task(self._attempt(request))
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._settle(done, result))
        # Cancelled, or failed by the engine's timeout: the request goes too.
        result.add_done_callback(lambda _: task.done() or task.cancel())
        return result

    def _settle(self, task: asyncio.Task[AttemptOutcome], result: asyncio.Future[AttemptOutcome]) -> None:
        self._tasks.discard(task)
        if result.done():
            return
        if task.cancelled():
            result.cancel()
            return
        error = task.exception()
        if error is None:
            result.set_result(task.result())
        else:  # a bug of ours; the engine records it as this attempt's failure
            result.set_result(AttemptOutcome(None, error=f"internal error in pingback: {error!r}"))

    async def aclose(self, grace: float | None = None) -> None:
        """Cancel the requests in flight (no handler of ours to give ``grace``), close the client."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._owns_client:
            await self._client.aclose()

    # --- one attempt ----------------------------------------------------------------

    async def _attempt(self, request: AttemptRequest) -> AttemptOutcome:
        body = request.encode()
        url = self.url
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = await self._client.post(url, content=body, auth=self.auth)
            except httpx.TransportError as exc:
                return AttemptOutcome(None, error=transport_error(exc, url))
            if response.status_code not in REDIRECT_STATUSES:
                return read_outcome(response, request.function, url)
            target, problem = redirect_target(response, url)
            if target is None:
                return AttemptOutcome(response.status_code, error=problem)
            url = target
        return AttemptOutcome(None, error=f"{self.url} redirected more than {MAX_REDIRECTS} times")


def redirect_target(response: httpx.Response, url: httpx.URL) -> tuple[httpx.URL | None, str]:
    """Where to re-send the signed POST, or why not: only 307/308 keep a POST a POST, and
    the signature never leaves the host it was meant for."""
    location = response.headers.get("location", "")
    status = response.status_code
    try:
        target = url.join(location)
    except httpx.InvalidURL:
        return None, f"{url} answered {status} with an unusable Location {location!r}"
    if (target.scheme, target.host, target.port) != (url.scheme, url.host, url.port):
        return None, (
            f"{url} redirected ({status}) to another host, {target}; pingback does not follow it "
            "with a signed request: pass the final URL as --endpoint"
        )
    if status not in (307, 308):
        return None, (
            f"{url} redirected ({status}) to {target}, which would turn the POST into a GET: "
            "pass that URL as --endpoint"
        )
    return target, ""


def transport_error(exc: httpx.TransportError, url: httpx.URL) -> str:
    """One line for a request that got no HTTP answer at all."""
    if isinstance(exc, httpx.ConnectError):
        if _caused_by(exc, socket.gaierror):
            return f"cannot resolve the host of {url}: {exc}"
        return f"nothing is listening at {url}: is your app running?"
    if isinstance(exc, httpx.TimeoutException):
        return f"{url} did not answer in time ({type(exc).__name__})"
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        detail = str(exc) or type(exc).__name__
        return f"the connection to {url} broke before an answer ({detail}): did the app crash?"
    return f"request to {url} failed: {type(exc).__name__}: {exc}"


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def excerpt(text: str, limit: int = BODY_EXCERPT_CHARS) -> str:
    """The start of a body on one line, for an error message; an HTML page (a framework's
    404 or error page) only by its title, never its markup."""
    flat = " ".join(text.split())
    if not flat:
        return "(empty body)"
    if flat[:15].lower().startswith(("<!doctype html", "<html", "<head", "<body", "<title", "<h1")):
        title = re.search(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", flat, re.IGNORECASE)
        found = next((group for group in title.groups() if group), "") if title else ""
        named = " ".join(re.sub(r"<[^>]+>", "", found).split())
        return f'an HTML page titled "{named[:limit]}"' if named else "an HTML page"
    return flat if len(flat) <= limit else flat[:limit] + "…"


def _protocol_json(response: httpx.Response) -> dict[str, Any] | None:
    """The body as the protocol's JSON object, or None when it is something else."""
    try:
        # Strict as the platform's reader: a body with NaN or Infinity (Flask's jsonify
        # writes them) is not JSON to it, so not the protocol's answer here either.
        data = strict_loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    if data.get("status") in ("success", "error"):
        return data
    if response.is_success:
        return None
    # Refusals (401, 404, 400) carry only {"error": "..."}.
    return data if isinstance(data.get("error"), str) else None


def _non_finite_note(response: httpx.Response) -> str:
    """Why a body that Python's json reads is still not JSON: it holds NaN or Infinity."""
    import json

    from pingback_cli.protocol import non_finite_path

    try:
        where = non_finite_path(json.loads(response.content))  # Python's json reads NaN
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ""
    if where is None:
        return ""
    return f" (its {where or 'value'} is NaN or Infinity, which JSON does not allow: return null or a string)"


def _go_not_found(response: httpx.Response, function: str) -> bool:
    """pingback-go answers an unknown function with ``http.Error``: text/plain
    ``function "X" not found`` (runpingback/pingback-go ``pingback.go``, ``Handler``)."""
    content_type = response.headers.get("content-type", "")
    return (
        content_type.startswith("text/plain") and response.text.strip() == f'function "{function}" not found'
    )


def _no_route(data: dict[str, Any] | None) -> bool:
    """A 404 of NestJS/Express for a path they do not route (``{"message": "Cannot POST /x",
    "error": "Not Found", "statusCode": 404}``), as the platform's API and `pingback dev`
    answer: no app's Pingback handler, which names the function."""
    message = data.get("message") if data is not None else None
    return isinstance(message, str) and message.startswith("Cannot POST ") and "statusCode" in data


def read_outcome(response: httpx.Response, function: str, url: httpx.URL) -> AttemptOutcome:
    status = response.status_code
    data = _protocol_json(response)
    app_said = data.get("error") if data is not None else None
    if status == 401:
        return AttemptOutcome(
            status,
            response=data,
            error="the app refused the signature (401): the secret does not match the app's "
            "PINGBACK_CRON_SECRET" + (f" (app said: {app_said})" if app_said else ""),
        )
    if status == 404:
        if data is None and not _go_not_found(response, function):
            return AttemptOutcome(
                status,
                error=f"{url} answered 404 with no Pingback JSON: is this the route your app serves "
                f"Pingback on? body: {excerpt(response.text)}",
            )
        if _no_route(data):
            return AttemptOutcome(
                status,
                response=data,
                error=f'{url} has no such route ("{data["message"]}"): that is NestJS\'s answer, as '
                "a Pingback API gives it (`pingback dev`, the platform), not an app's Pingback handler; "
                "--endpoint is your app's route, e.g. http://127.0.0.1:5000/api/pingback",
            )
        return AttemptOutcome(
            status, response=data, error=f'the app has no function named "{function}" (404)'
        )
    size = len(response.content)
    if data is None:
        if response.is_success:  # any 2xx is success to the platform (dispatch.go:97)
            return AttemptOutcome(status, body_bytes=size)
        return AttemptOutcome(
            status,
            error=f"{url} answered HTTP {status} with a body that is not the Pingback protocol's JSON"
            f"{_non_finite_note(response)}: {excerpt(response.text)}",
            body_bytes=size,
        )
    duration = data.get("durationMs")
    return AttemptOutcome(
        status,
        response=data,
        duration_ms=duration if isinstance(duration, int) and not isinstance(duration, bool) else None,
        body_bytes=size,
    )
