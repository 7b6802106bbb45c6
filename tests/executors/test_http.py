"""HttpExecutor: signed POSTs to an app, every failure mapped to one readable line."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from loopback import QuietHandler, serving

from pingback_cli.engine.clock import AttemptTimeout
from pingback_cli.errors import UsageError
from pingback_cli.executors.http import BODY_EXCERPT_CHARS, HttpExecutor, excerpt
from pingback_cli.protocol import AttemptOutcome, AttemptRequest, verify

SECRET = "test-secret"
URL = "http://app.test/api/pingback"

Handler = Callable[[httpx.Request], httpx.Response]


def attempt(function: str = "send-email", **kwargs: Any) -> AttemptRequest:
    return AttemptRequest(
        execution_id=kwargs.pop("execution_id", "exec-1"),
        function=function,
        attempt=kwargs.pop("attempt", 1),
        scheduled_at=1_764_324_900.0,
        **kwargs,
    )


def success(result: Any = None, **extra: Any) -> httpx.Response:
    body = {"status": "success", "result": result, "logs": [], "tasks": [], "durationMs": 3, **extra}
    return httpx.Response(200, json=body)


@pytest.fixture
async def mock() -> AsyncIterator[Callable[[Handler], HttpExecutor]]:
    """An executor factory on httpx.MockTransport; clients are closed after the test."""
    clients: list[httpx.AsyncClient] = []

    def make(handler: Handler) -> HttpExecutor:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=False)
        clients.append(client)
        return HttpExecutor(URL, SECRET, client=client)

    yield make
    for client in clients:
        await client.aclose()


async def run_one(executor: HttpExecutor, request: AttemptRequest | None = None) -> AttemptOutcome:
    return await executor.start_attempt(request or attempt())


# --- the request ----------------------------------------------------------------------


async def test_signed_post_with_the_protocol_body(mock: Callable[[Handler], HttpExecutor]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return success({"sent": "e1"})

    executor = mock(handler)
    outcome = await run_one(executor, attempt(payload={"id": "e1", "name": "café"}, has_payload=True))

    assert outcome.succeeded and outcome.error is None
    assert outcome.http_status == 200
    assert outcome.response is not None and outcome.response["result"] == {"sent": "e1"}
    assert outcome.duration_ms == 3
    [request] = seen
    assert request.method == "POST"
    assert str(request.url) == URL
    assert request.headers["content-type"] == "application/json"
    assert verify(SECRET, dict(request.headers), request.content)
    assert not verify("other-secret", dict(request.headers), request.content)
    assert json.loads(request.content) == {
        "function": "send-email",
        "executionId": "exec-1",
        "attempt": 1,
        "scheduledAt": "2025-11-28T10:15:00.000Z",
        "payload": {"id": "e1", "name": "café"},
    }


async def test_no_payload_key_without_a_payload(mock: Callable[[Handler], HttpExecutor]) -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return success()

    await run_one(mock(handler), attempt(attempt=3))
    assert "payload" not in bodies[0]
    assert bodies[0]["attempt"] == 3


def test_endpoint_must_be_an_http_url() -> None:
    for bad in ("ftp://host/x", "not a url", "http://", "/api/pingback"):
        with pytest.raises(UsageError):
            HttpExecutor(bad, SECRET)


# --- every answer, mapped -------------------------------------------------------------


HTML_404 = "<!doctype html><html><title>404 Not Found</title><h1>Not Found</h1></html>"


@pytest.mark.parametrize(
    ("response", "status", "expected"),
    [
        (
            httpx.Response(401, json={"error": "unauthorized: Signature mismatch"}),
            401,
            "the app refused the signature (401): the secret does not match the app's "
            "PINGBACK_CRON_SECRET (app said: unauthorized: Signature mismatch)",
        ),
        (
            httpx.Response(401, text="nope"),
            401,
            "the app refused the signature (401): the secret does not match the app's PINGBACK_CRON_SECRET",
        ),
        (
            httpx.Response(404, json={"error": 'function "send-email" not found'}),
            404,
            'the app has no function named "send-email" (404)',
        ),
        (  # --endpoint pointed at `pingback dev` (or the platform): NestJS's answer for no route
            httpx.Response(
                404, json={"message": "Cannot POST /api/pingback", "error": "Not Found", "statusCode": 404}
            ),
            404,
            f'{URL} has no such route ("Cannot POST /api/pingback"): that is NestJS\'s answer, as a '
            "Pingback API gives it (`pingback dev`, the platform), not an app's Pingback handler; "
            "--endpoint is your app's route, e.g. http://127.0.0.1:5000/api/pingback",
        ),
        (
            httpx.Response(404, text=HTML_404),
            404,
            f"{URL} answered 404 with no Pingback JSON: is this the route your app serves Pingback on? "
            'body: an HTML page titled "404 Not Found"',  # never its markup (issue 13)
        ),
        (
            httpx.Response(502, text=""),
            502,
            f"{URL} answered HTTP 502 with a body that is not the Pingback protocol's JSON: (empty body)",
        ),
        (
            httpx.Response(500, json={"status": "error", "error": "boom", "logs": [], "tasks": []}),
            500,
            "boom",
        ),
        (
            httpx.Response(400, json={"error": "invalid payload"}),
            400,
            "invalid payload",
        ),
    ],
)
async def test_answers_map_to_one_line(
    mock: Callable[[Handler], HttpExecutor], response: httpx.Response, status: int, expected: str
) -> None:
    outcome = await run_one(mock(lambda request: response))
    assert not outcome.succeeded
    assert outcome.http_status == status
    assert outcome.error_message() == expected
    assert "\n" not in outcome.error_message()


@pytest.mark.parametrize("text", ["<html>\n  <body>hello</body>\n</html>", '{"ok": true}', "[1, 2]", ""])
async def test_any_2xx_is_a_success_whatever_its_body(
    mock: Callable[[Handler], HttpExecutor], text: str
) -> None:
    """dispatch.go:97: success is the status code alone; such a body just has no logs or tasks."""
    outcome = await run_one(mock(lambda request: httpx.Response(200, text=text)))
    assert outcome.succeeded and outcome.http_status == 200 and outcome.error is None
    assert outcome.body_bytes == len(text.encode())


async def test_a_long_body_is_cut_to_an_excerpt(mock: Callable[[Handler], HttpExecutor]) -> None:
    body = "x" * 5000
    outcome = await run_one(mock(lambda request: httpx.Response(503, text=body)))
    message = outcome.error_message()
    assert message.endswith(": " + "x" * BODY_EXCERPT_CHARS + "…")
    assert excerpt("  a\n\tb  ") == "a b"


async def test_handler_failure_keeps_logs_and_tasks(mock: Callable[[Handler], HttpExecutor]) -> None:
    logs = [{"timestamp": 1, "level": "info", "message": "before"}]
    response = httpx.Response(500, json={"status": "error", "error": "boom", "logs": logs, "tasks": []})
    outcome = await run_one(mock(lambda request: response))
    assert outcome.error is None  # a protocol answer: the engine reads error and logs from it
    assert outcome.response is not None and outcome.response["logs"] == logs


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            httpx.ConnectError("All connection attempts failed"),
            f"nothing is listening at {URL}: is your app running?",
        ),
        (httpx.RemoteProtocolError("Server disconnected"), "the connection to"),
        (httpx.ReadError("reset"), "did the app crash?"),
        (httpx.ReadTimeout("slow"), "did not answer in time"),
    ],
)
async def test_transport_errors(
    mock: Callable[[Handler], HttpExecutor], error: Exception, expected: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    outcome = await run_one(mock(handler))
    assert outcome.http_status is None
    assert outcome.error is not None and expected in outcome.error


# --- redirects ------------------------------------------------------------------------


async def test_follows_a_same_host_307_and_signs_again(mock: Callable[[Handler], HttpExecutor]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/api/pingback":
            return httpx.Response(308, headers={"location": "/api/pingback/"})
        return success("moved")

    outcome = await run_one(mock(handler))
    assert outcome.succeeded
    assert [r.url.path for r in seen] == ["/api/pingback", "/api/pingback/"]
    assert all(r.method == "POST" and verify(SECRET, dict(r.headers), r.content) for r in seen)


async def test_never_follows_a_redirect_to_another_host(mock: Callable[[Handler], HttpExecutor]) -> None:
    hosts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        hosts.append(request.url.host)
        return httpx.Response(307, headers={"location": "https://evil.test/steal"})

    outcome = await run_one(mock(handler))
    assert hosts == ["app.test"]
    assert not outcome.succeeded
    assert (
        outcome.error is not None
        and "redirected (307) to another host, https://evil.test/steal" in outcome.error
    )


async def test_a_redirect_that_would_become_a_get_is_reported(
    mock: Callable[[Handler], HttpExecutor],
) -> None:
    outcome = await run_one(mock(lambda request: httpx.Response(302, headers={"location": "/login"})))
    assert outcome.http_status == 302
    assert outcome.error == (
        f"{URL} redirected (302) to http://app.test/login, which would turn the POST into a GET: "
        "pass that URL as --endpoint"
    )


async def test_redirect_loops_end(mock: Callable[[Handler], HttpExecutor]) -> None:
    outcome = await run_one(mock(lambda request: httpx.Response(307, headers={"location": "/api/pingback"})))
    assert outcome.error is not None and "redirected more than" in outcome.error


# --- cancellation ---------------------------------------------------------------------


class Hanging:
    """An async transport whose requests never answer until cancelled."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return success()


@pytest.mark.parametrize("how", ["cancel", "timeout"])
async def test_giving_up_on_the_future_cancels_the_request(how: str) -> None:
    hanging = Hanging()
    async with httpx.AsyncClient(transport=httpx.MockTransport(hanging)) as client:
        executor = HttpExecutor(URL, SECRET, client=client)
        future = executor.start_attempt(attempt())
        await asyncio.wait_for(hanging.started.wait(), 5)
        if how == "cancel":
            future.cancel()
        else:  # what the engine's timeout does
            future.set_exception(AttemptTimeout())
            with pytest.raises(AttemptTimeout):
                future.result()
        await asyncio.wait_for(hanging.cancelled.wait(), 5)
        await executor.aclose()


async def test_aclose_cancels_in_flight_attempts_and_closes_its_own_client() -> None:
    hanging = Hanging()
    executor = HttpExecutor(URL, SECRET)
    executor._client = httpx.AsyncClient(transport=httpx.MockTransport(hanging))
    future = executor.start_attempt(attempt())
    await asyncio.wait_for(hanging.started.wait(), 5)
    await executor.aclose()
    assert hanging.cancelled.is_set()
    assert future.cancelled()
    assert executor._client.is_closed


async def test_an_injected_client_is_left_open() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: success())) as client:
        executor = HttpExecutor(URL, SECRET, client=client)
        await run_one(executor)
        await executor.aclose()
        assert not client.is_closed


# --- a real loopback server -----------------------------------------------------------


class ProtocolApp(QuietHandler):
    """Just enough of an SDK: verify, then answer by function name."""

    protocol_version = "HTTP/1.1"
    peers: set[tuple[str, int]] = set()  # noqa: RUF012 - per-test, reset by the fixture

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).peers.add(self.client_address)
        if not verify(SECRET, dict(self.headers.items()), body):
            self.send_json(401, {"error": "unauthorized"})
            return
        request = json.loads(body)
        if request["function"] == "missing":
            self.send_json(404, {"error": 'function "missing" not found'})
            return
        self.send_json(
            200,
            {
                "status": "success",
                "result": {"attempt": request["attempt"], "echo": request.get("payload")},
                "logs": [{"timestamp": 1, "level": "info", "message": "hi"}],
                "tasks": [{"name": "child", "payload": {"n": 1}}],
                "durationMs": 0,
            },
        )


@pytest.fixture
def loopback_app() -> Iterator[str]:
    ProtocolApp.peers = set()
    with serving(ProtocolApp) as base:
        yield f"{base}/api/pingback"


async def test_against_a_real_loopback_server(loopback_app: str) -> None:
    executor = HttpExecutor(loopback_app, SECRET)
    try:
        for number in range(1, 6):
            outcome = await run_one(executor, attempt(attempt=number, payload=[number], has_payload=True))
            assert outcome.succeeded, outcome.error_message()
            assert outcome.response is not None
            assert outcome.response["result"] == {"attempt": number, "echo": [number]}
            assert outcome.response["tasks"] == [{"name": "child", "payload": {"n": 1}}]
        assert len(ProtocolApp.peers) == 1, "sequential attempts reuse one keep-alive connection"
        together = await asyncio.gather(*(run_one(executor, attempt(execution_id=str(i))) for i in range(20)))
        assert all(outcome.succeeded for outcome in together)
        missing = await run_one(executor, attempt("missing"))
        assert missing.error == 'the app has no function named "missing" (404)'
    finally:
        await executor.aclose()
    wrong = HttpExecutor(loopback_app, "not-the-secret")
    try:
        refused = await run_one(wrong)
    finally:
        await wrong.aclose()
    assert refused.http_status == 401
    assert refused.error is not None and "secret does not match" in refused.error


async def test_a_body_with_nan_is_not_the_protocols_json(mock: Callable[[Handler], HttpExecutor]) -> None:
    """Flask's jsonify writes NaN; the platform's JSON reader (Go's encoding/json) rejects it, so
    the attempt keeps no logs or tasks; a 2xx is a success all the same (dispatch.go:97-109)."""
    body = b'{"status":"success","result":{"ratio":NaN},"logs":[],"tasks":[{"name":"t"}]}'
    outcome = await run_one(mock(lambda request: httpx.Response(200, content=body)))
    assert outcome.succeeded and outcome.response is None
    failed = await run_one(mock(lambda request: httpx.Response(500, content=body)))
    assert failed.error is not None
    assert "result.ratio is NaN or Infinity, which JSON does not allow" in failed.error, failed.error
