"""The platform API in-process (ASGI, no socket) against a small fake platform."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from pingback_cli.emulator.api import MAX_BODY_BYTES, create_app
from pingback_cli.engine.engine import UnknownFunction
from pingback_cli.errors import NotFound, UsageError
from pingback_cli.models import Execution, FunctionSpec, iso

NOW = 1_764_324_900.0
"""2025-11-28T10:15:00Z"""
TRIGGER = "/api/v1/trigger"
REGISTER = "/api/v1/register"
FUNCTIONS = "/api/v1/functions"
EXECUTIONS = "/api/v1/executions"
KNOWN_ID = "3f2a9c1e-0000-4000-8000-000000000001"


@dataclass
class FakePlatform:
    """Records what the API asked of it and answers with canned data."""

    ready: bool = True

    specs: list[FunctionSpec] = field(
        default_factory=lambda: [
            FunctionSpec("send-emails", "cron", "*/15 * * * *", 1, "60s", 60, 1),
            FunctionSpec("send-email", "task", None, 2, "15s", 15, 5),
        ]
    )
    triggered: list[tuple[str, Any, bool, float]] = field(default_factory=list)
    registered: list[tuple[list[FunctionSpec], str | None]] = field(default_factory=list)
    queries: list[tuple[int, str | None, str | None]] = field(default_factory=list)

    def functions(self) -> list[FunctionSpec]:
        return list(self.specs)

    def trigger(self, name: str, payload: Any, has_payload: bool, delay: float) -> Execution:
        if name not in {spec.name for spec in self.specs}:
            raise UnknownFunction(name)
        self.triggered.append((name, payload, has_payload, delay))
        spec = next(s for s in self.specs if s.name == name)
        return Execution(
            id=f"exec-{len(self.triggered)}",
            function=name,
            type=spec.type,
            scheduled_at=NOW + delay,
            payload=payload,
            has_payload=has_payload,
            trigger="trigger",
        )

    def register(self, functions: list[FunctionSpec], endpoint_url: str | None) -> list[dict[str, str]]:
        self.registered.append((functions, endpoint_url))
        known = {s.name for s in self.specs}
        return [{"name": f.name, "status": "updated" if f.name in known else "created"} for f in functions]

    def function_json(self, spec: FunctionSpec) -> dict[str, Any]:
        return {"name": spec.name, "type": spec.type}

    def recent(self, limit: int, function: str | None, status: str | None) -> list[dict[str, Any]]:
        self.queries.append((limit, function, status))
        return [{"executionId": KNOWN_ID, "function": "send-email", "status": "success"}]

    def tree(self, id_or_prefix: str) -> dict[str, Any]:
        if KNOWN_ID.startswith(id_or_prefix):
            return {"executionId": KNOWN_ID, "children": []}
        if id_or_prefix == "ab":
            raise UsageError('"ab" matches 2 executions: ab000000.., ab111111..; type more characters')
        raise NotFound(f'no execution matches "{id_or_prefix}"')


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
async def client(platform: FakePlatform) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(platform))
    async with httpx.AsyncClient(transport=transport, base_url="http://pingback.test") as http:
        yield http


@pytest.fixture
async def keyed(platform: FakePlatform) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(platform, api_key="s3cret"))
    async with httpx.AsyncClient(transport=transport, base_url="http://pingback.test") as http:
        yield http


def error_of(response: httpx.Response, status: int) -> str:
    """The response is ``status`` with a JSON ``{"error": "..."}`` body; returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"]
    return str(body["error"])


# --- trigger ------------------------------------------------------------------------------


async def test_trigger_answers_with_the_platform_shape(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    response = await client.post(TRIGGER, json={"task": "send-email", "payload": {"id": "e1"}})
    assert response.status_code == 200
    assert response.json() == {
        "executionId": "exec-1",
        "task": "send-email",
        "scheduledAt": "2025-11-28T10:15:00.000Z",
    }
    assert platform.triggered == [("send-email", {"id": "e1"}, True, 0)]


async def test_trigger_without_payload(client: httpx.AsyncClient, platform: FakePlatform) -> None:
    response = await client.post(TRIGGER, json={"task": "send-email"})
    assert response.status_code == 200
    assert platform.triggered == [("send-email", None, False, 0)]


async def test_an_explicit_null_payload_is_still_a_payload(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    response = await client.post(TRIGGER, json={"task": "send-email", "payload": None})
    assert response.status_code == 200
    assert platform.triggered == [("send-email", None, True, 0)]


async def test_a_cron_can_be_triggered_by_name(client: httpx.AsyncClient, platform: FakePlatform) -> None:
    response = await client.post(TRIGGER, json={"task": "send-emails"})
    assert response.status_code == 200 and response.json()["task"] == "send-emails"


async def test_trigger_ignores_the_content_type(client: httpx.AsyncClient) -> None:
    """curl -d sends application/x-www-form-urlencoded; the body is still JSON."""
    response = await client.post(
        TRIGGER,
        content=b'{"task":"send-email"}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("delay", "seconds"),
    [
        (1, 1),
        (90, 90),
        (1.9, 1),
        ("90", 90),
        ("30s", 30),
        ("15m", 15 * 60),
        ("2h", 2 * 3600),
        ("1d2h30m", 86400 + 2 * 3600 + 30 * 60),
        ("30d", 30 * 86400),
        (None, 0),
    ],
)
async def test_delay_moves_scheduled_at(
    client: httpx.AsyncClient, platform: FakePlatform, delay: Any, seconds: int
) -> None:
    response = await client.post(TRIGGER, json={"task": "send-email", "delay": delay})
    assert response.status_code == 200, response.text
    assert platform.triggered[0][3] == seconds
    assert response.json()["scheduledAt"] == iso(NOW + seconds)


@pytest.mark.parametrize(
    "delay", [0, -5, "0", "0s", "31d", "30d1s", 2_592_001, "abc", "15x", "", True, [], {}]
)
async def test_bad_delay_is_400(client: httpx.AsyncClient, platform: FakePlatform, delay: Any) -> None:
    message = error_of(await client.post(TRIGGER, json={"task": "send-email", "delay": delay}), 400)
    assert "delay" in message.lower()
    assert platform.triggered == []


async def test_unknown_function_is_404(client: httpx.AsyncClient, platform: FakePlatform) -> None:
    message = error_of(await client.post(TRIGGER, json={"task": "nope"}), 404)
    assert message == 'function "nope" not found'
    assert platform.triggered == []


@pytest.mark.parametrize(
    "body", [{}, {"payload": {}}, {"task": ""}, {"task": 5}, {"task": None}, {"task": ["a"]}]
)
async def test_missing_task_is_400(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    assert '"task"' in error_of(await client.post(TRIGGER, json=body), 400)


@pytest.mark.parametrize("raw", [b"[]", b'"send-email"', b"null", b"42", b""])
async def test_body_that_is_not_an_object_is_400(client: httpx.AsyncClient, raw: bytes) -> None:
    message = error_of(await client.post(TRIGGER, content=raw), 400)
    assert message == "request body must be a JSON object"


@pytest.mark.parametrize("raw", [b"{", b"{'task': 'x'}", b'{"task": "send-email",}', b"\xff\xfe{}"])
async def test_invalid_json_is_400(client: httpx.AsyncClient, raw: bytes) -> None:
    assert error_of(await client.post(TRIGGER, content=raw), 400).startswith("request body is not valid JSON")


async def test_oversized_body_is_413(client: httpx.AsyncClient, platform: FakePlatform) -> None:
    padding = "x" * MAX_BODY_BYTES
    message = error_of(await client.post(TRIGGER, json={"task": "send-email", "payload": padding}), 413)
    assert "larger than" in message
    assert platform.triggered == []


async def test_oversized_streamed_body_without_length_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"task": "send-email", "payload": "'
        for _ in range(11):
            yield b"x" * (1024 * 1024)
        yield b'"}'

    response = await client.post(TRIGGER, content=chunks())
    assert "content-length" not in response.request.headers
    error_of(response, 413)


async def test_a_body_just_under_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    body = b'{"task": "send-email", "payload": "'
    body += b"x" * (MAX_BODY_BYTES - len(body) - 2) + b'"}'
    assert len(body) == MAX_BODY_BYTES
    response = await client.post(TRIGGER, content=body)
    assert response.status_code == 200


# --- routing errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", TRIGGER, "POST"),
        ("PUT", REGISTER, "POST"),
        ("POST", FUNCTIONS, "GET"),
        ("DELETE", EXECUTIONS, "GET"),
    ],
)
async def test_wrong_method_is_405_with_json(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)
    assert error_of(response, 405) == "Method Not Allowed"
    assert allowed in response.headers.get("allow", "")


@pytest.mark.parametrize("path", ["/", "/api/v1", "/api/v2/trigger", "/api/v1/nope", "/api/v1/trigger/x"])
async def test_unknown_route_is_404_with_json(client: httpx.AsyncClient, path: str) -> None:
    assert error_of(await client.get(path), 404) == "Not Found"


# --- register -----------------------------------------------------------------------------


async def test_register_answers_jobs(client: httpx.AsyncClient, platform: FakePlatform) -> None:
    body = {
        "functions": [
            {"name": "send-emails", "type": "cron", "schedule": "*/15 * * * *", "options": {"retries": 1}},
            {"name": "fresh", "type": "task", "options": {"timeout": "5m", "concurrency": 3}},
        ],
        "endpoint_url": "https://app.example.com/api/pingback",
    }
    response = await client.post(REGISTER, json=body)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "jobs": [{"name": "send-emails", "status": "updated"}, {"name": "fresh", "status": "created"}]
    }
    [(specs, endpoint)] = platform.registered
    assert endpoint == "https://app.example.com/api/pingback"
    cron, fresh = specs
    assert (cron.type, cron.schedule, cron.retries, cron.concurrency) == ("cron", "*/15 * * * *", 1, 1)
    # the platform reads "5m" as 5 seconds (registration.service.ts:54-57)
    assert (fresh.type, fresh.schedule, fresh.timeout_seconds, fresh.concurrency) == ("task", None, 5, 3)
    assert fresh.timeout_written == 300


async def test_register_without_options_or_endpoint(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    response = await client.post(REGISTER, json={"functions": [{"name": "t", "type": "task"}]})
    assert response.status_code == 200
    [(specs, endpoint)] = platform.registered
    assert endpoint is None and specs[0].retries == 0 and specs[0].timeout_seconds == 30


async def test_register_names_the_function_with_an_invalid_schedule(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    body = {
        "functions": [
            {"name": "fine", "type": "task"},
            {"name": "nightly-report", "type": "cron", "schedule": "every night"},
        ]
    }
    message = error_of(await client.post(REGISTER, json=body), 400)
    assert "nightly-report" in message and "(registered)" not in message
    assert platform.registered == [], "nothing is registered when one function is invalid"


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ({"name": "c", "type": "cron"}, '"c"'),
        ({"name": "t", "type": "job"}, "type"),
        ({"name": "t", "type": "task", "options": {"retries": 11}}, "retries"),
        ({"name": "t", "type": "task", "options": {"concurrency": 0}}, "concurrency"),
        ({"name": "t", "type": "task", "options": {"timeout": "five minutes"}}, "timeout"),
        ({"name": "t", "type": "task", "options": []}, "options must be an object"),
        ({"name": "t", "type": "task", "options": "fast"}, "options must be an object"),
        ({"type": "task"}, "name"),
        ("t", "must be an object"),
    ],
)
async def test_register_rejects_invalid_functions(client: httpx.AsyncClient, entry: Any, needle: str) -> None:
    assert needle in error_of(await client.post(REGISTER, json={"functions": [entry]}), 400)


async def test_register_accepts_what_the_sdk_sends(
    client: httpx.AsyncClient, platform: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body comes from the SDK's own register(), captured instead of sent."""
    import urllib.request

    from pingback import Pingback
    from pingback.register import register

    sent: list[bytes] = []

    class Answer:
        def __enter__(self) -> Answer:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def read(self) -> bytes:
            return b'{"jobs": []}'

    def urlopen(request: urllib.request.Request, *args: Any, **kwargs: Any) -> Answer:
        assert isinstance(request.data, bytes)
        sent.append(request.data)
        return Answer()

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    pb = Pingback(api_key="k", cron_secret="s", platform_url="http://pingback.test")
    pb.cron("send-emails", "*/15 * * * *", retries=1, timeout="60s")(lambda ctx: None)
    pb.task("send-email", concurrency=5)(lambda ctx, payload: None)
    pb.task("plain")(lambda ctx: None)
    register(pb._functions, pb.api_key, pb.platform_url, "https://app.example.com/pingback")
    [body] = sent

    response = await client.post(REGISTER, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "jobs": [
            {"name": "send-emails", "status": "updated"},
            {"name": "send-email", "status": "updated"},
            {"name": "plain", "status": "created"},
        ]
    }
    [(specs, endpoint)] = platform.registered
    assert endpoint == "https://app.example.com/pingback"
    by_name = {spec.name: spec for spec in specs}
    assert by_name["send-emails"].schedule == "*/15 * * * *" and by_name["send-emails"].retries == 1
    assert by_name["send-emails"].timeout_seconds == 60
    assert by_name["send-email"].concurrency == 5 and by_name["plain"].timeout_seconds == 30


@pytest.mark.parametrize("body", [{}, {"functions": {}}, {"functions": "t"}, []])
async def test_register_needs_a_function_list(client: httpx.AsyncClient, body: Any) -> None:
    error_of(await client.post(REGISTER, json=body), 400)


# --- read routes --------------------------------------------------------------------------


async def test_functions_lists_every_spec(client: httpx.AsyncClient) -> None:
    response = await client.get(FUNCTIONS)
    assert response.status_code == 200
    assert response.json() == [
        {"name": "send-emails", "type": "cron"},
        {"name": "send-email", "type": "task"},
    ]


async def test_executions_defaults_and_filters(client: httpx.AsyncClient, platform: FakePlatform) -> None:
    response = await client.get(EXECUTIONS)
    assert response.status_code == 200
    assert response.json()[0]["executionId"] == KNOWN_ID
    await client.get(EXECUTIONS, params={"limit": "1000", "function": "send-email", "status": "failed"})
    await client.get(EXECUTIONS, params={"limit": "1", "status": "interrupted"})
    assert platform.queries == [(20, None, None), (1000, "send-email", "failed"), (1, None, "interrupted")]


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "1.5", "abc", "", "1e3", " 5"])
async def test_executions_limit_is_validated(
    client: httpx.AsyncClient, platform: FakePlatform, limit: str
) -> None:
    assert "limit" in error_of(await client.get(EXECUTIONS, params={"limit": limit}), 400)
    assert platform.queries == []


@pytest.mark.parametrize("status", ["done", "SUCCESS", "", "succeeded"])
async def test_executions_status_is_validated(
    client: httpx.AsyncClient, platform: FakePlatform, status: str
) -> None:
    assert "status" in error_of(await client.get(EXECUTIONS, params={"status": status}), 400)
    assert platform.queries == []


@pytest.mark.parametrize("status", ["pending", "running", "success", "failed", "interrupted"])
async def test_every_status_is_a_valid_filter(client: httpx.AsyncClient, status: str) -> None:
    assert (await client.get(EXECUTIONS, params={"status": status})).status_code == 200


async def test_one_execution_by_id_or_prefix(client: httpx.AsyncClient) -> None:
    for wanted in (KNOWN_ID, KNOWN_ID[:4]):
        response = await client.get(f"{EXECUTIONS}/{wanted}")
        assert response.status_code == 200
        assert response.json() == {"executionId": KNOWN_ID, "children": []}


async def test_unknown_execution_is_404_and_ambiguous_prefix_400(client: httpx.AsyncClient) -> None:
    assert "no execution matches" in error_of(await client.get(f"{EXECUTIONS}/ffff"), 404)
    assert "type more characters" in error_of(await client.get(f"{EXECUTIONS}/ab"), 400)


# --- the API key --------------------------------------------------------------------------


ROUTES = [
    ("POST", TRIGGER, {"task": "send-email"}),
    ("POST", REGISTER, {"functions": []}),
    ("GET", FUNCTIONS, None),
    ("GET", EXECUTIONS, None),
    ("GET", f"{EXECUTIONS}/{KNOWN_ID}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer wrong"},
        {"authorization": "s3cret"},
        {"authorization": "Basic s3cret"},
        {"authorization": "Bearer s3cret2"},
        {"authorization": "Bearer "},
        {"x-api-key": "s3cret"},
    ],
)
async def test_a_missing_or_wrong_key_is_401_on_every_route(
    keyed: httpx.AsyncClient,
    platform: FakePlatform,
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
) -> None:
    response = await keyed.request(method, path, json=body, headers=headers)
    assert "API key" in error_of(response, 401)
    assert platform.triggered == [] and platform.registered == [] and platform.queries == []


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
async def test_the_right_key_is_accepted(
    keyed: httpx.AsyncClient, method: str, path: str, body: Any, scheme: str
) -> None:
    response = await keyed.request(method, path, json=body, headers={"authorization": f"{scheme} s3cret"})
    assert response.status_code == 200, response.text


async def test_the_key_is_checked_before_the_body(keyed: httpx.AsyncClient) -> None:
    """A client without the key learns nothing about what the API would accept."""
    error_of(await keyed.post(TRIGGER, content=b"{not json"), 401)
    error_of(await keyed.post(TRIGGER, json={"task": "nope"}), 401)


async def test_without_a_configured_key_any_header_is_fine(client: httpx.AsyncClient) -> None:
    response = await client.post(TRIGGER, json={"task": "send-email"}, headers={"authorization": "Bearer x"})
    assert response.status_code == 200


async def test_a_trigger_while_the_project_loads_is_503_not_404(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    platform.ready = False
    response = await client.post("/api/v1/trigger", json={"task": "send-email"})
    assert response.status_code == 503
    assert "still loading" in response.json()["error"]
    assert (await client.get("/api/v1/functions")).status_code == 503
    assert platform.triggered == []


# --- non-finite floats ----------------------------------------------------------------------


async def test_trigger_refuses_nan_as_the_platforms_json_parse_does(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    """pb.trigger() writes NaN with Python's json; the platform's JSON.parse refuses it."""
    body = b'{"task": "send-email", "payload": {"ratio": NaN}}'
    response = await client.post(TRIGGER, content=body, headers={"content-type": "application/json"})
    assert "NaN is not JSON" in error_of(response, 400)
    assert platform.triggered == []


class StorePlatform(FakePlatform):
    """Reads executions from a real history file, as the emulator does."""

    def __init__(self, store: Any) -> None:
        super().__init__()
        self.store = store

    def recent(self, limit: int, function: str | None, status: str | None) -> list[dict[str, Any]]:
        return [summary.to_json() for summary in self.store.recent_roots(limit)]

    def tree(self, id_or_prefix: str) -> dict[str, Any]:
        return self.store.tree(id_or_prefix).to_json()


async def test_a_row_with_nan_never_fails_a_read_route(tmp_path: Any) -> None:
    import sqlite3

    from pingback_cli.history.store import Store, history_path

    path = history_path(tmp_path)
    with Store(path) as store:
        store.save(Execution(id="aaaa0001", function="f", type="task", scheduled_at=NOW, status="success"))
        store.flush()
        with sqlite3.connect(path) as conn:  # as an older version recorded it
            conn.execute('UPDATE executions SET result = \'{"ratio":NaN,"big":-Infinity}\'')
        transport = httpx.ASGITransport(app=create_app(StorePlatform(store)))
        async with httpx.AsyncClient(transport=transport, base_url="http://pingback.test") as http:
            listing = await http.get(EXECUTIONS)
            one = await http.get(f"{EXECUTIONS}/aaaa0001")
    for response in (listing, one):
        assert response.status_code == 200, response.text
        assert "NaN," not in response.text and "Infinity}" not in response.text.replace('"-Infinity"', "")
    assert listing.json()[0]["result"] == {"ratio": "NaN", "big": "-Infinity"}


async def test_recorded_nan_in_memory_is_written_as_text(platform: FakePlatform) -> None:
    """Whatever a reader hands the API, its answer is JSON (never a 500 for a float)."""
    platform.recent = lambda *args: [{"executionId": KNOWN_ID, "result": float("nan")}]  # type: ignore[method-assign]
    transport = httpx.ASGITransport(app=create_app(platform))
    async with httpx.AsyncClient(transport=transport, base_url="http://pingback.test") as http:
        response = await http.get(EXECUTIONS)
    assert response.status_code == 200
    assert response.json() == [{"executionId": KNOWN_ID, "result": "NaN"}]
