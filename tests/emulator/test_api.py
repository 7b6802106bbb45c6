"""The platform API in-process (ASGI, no socket) against a small platform: a real job book
on a temporary history file, canned executions. Shapes are the platform's (see
tests/emulator/test_platform_fixtures.py for the fixtures they are checked against)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from pingback_cli.emulator.api import create_app
from pingback_cli.emulator.controls import Controls
from pingback_cli.emulator.jobs import JobBook
from pingback_cli.emulator.nest import MAX_BODY_BYTES
from pingback_cli.emulator.server import WORKER_PREFIX
from pingback_cli.engine.engine import UnknownFunction
from pingback_cli.errors import NotFound, UsageError
from pingback_cli.history.jobs import JobStore
from pingback_cli.history.store import Store, history_path
from pingback_cli.models import Execution, FunctionSpec, iso
from pingback_cli.project.registration import Outcome, Registered

NOW = 1_764_324_900.0
"""2025-11-28T10:15:00Z"""
TRIGGER = "/api/v1/trigger"
REGISTER = "/api/v1/register"
FUNCTIONS = "/api/v1/functions"
EXECUTIONS = "/api/v1/executions"
JOBS = "/api/v1/jobs"
KNOWN_ID = "3f2a9c1e-0000-4000-8000-000000000001"


@dataclass
class FakePlatform:
    """Records what the API asked of it; jobs are a real JobBook, executions canned."""

    store: Store
    ready: bool = True
    specs: list[FunctionSpec] = field(
        default_factory=lambda: [
            FunctionSpec("send-emails", "cron", "*/15 * * * *", 1, "60s", 60, 1),
            FunctionSpec("send-email", "task", None, 2, "15s", 15, 5),
        ]
    )
    triggered: list[tuple[str, Any, bool, float]] = field(default_factory=list)
    registered: list[tuple[list[Registered], str | None, bool]] = field(default_factory=list)
    queries: list[tuple[int, str | None, str | None]] = field(default_factory=list)
    controlled: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.jobs: JobBook | None = JobBook(JobStore(self.store), Path("/project"), lambda: NOW)
        self.jobs.load(self.specs)
        self.controls = Controls(self._no_engine, lambda: self.store, lambda: self.jobs, lambda: None)  # type: ignore[arg-type, return-value]

    def _no_engine(self) -> Any:
        raise AssertionError("no engine in these tests")

    def functions(self) -> list[FunctionSpec]:
        return list(self.specs)

    def knows(self, name: str) -> bool:
        return name in {spec.name for spec in self.specs}

    def trigger(self, name: str, payload: Any, has_payload: bool, delay: float) -> Execution:
        if not self.knows(name):
            raise UnknownFunction(name)
        self.triggered.append((name, payload, has_payload, delay))
        spec = next(s for s in self.specs if s.name == name)
        return Execution(
            id=f"exec-{len(self.triggered)}", function=name, type=spec.type, scheduled_at=NOW + delay,
            payload=payload, has_payload=has_payload, trigger="trigger",
        )  # fmt: skip

    def register(
        self, functions: list[Registered], endpoint_url: str | None, *, from_worker: bool = False
    ) -> Outcome:
        self.registered.append((functions, endpoint_url, from_worker))
        assert self.jobs is not None
        return self.jobs.register(functions, job_cap=3)

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

    def execution(self, id_or_prefix: str) -> dict[str, Any]:
        return self.controls.execution(id_or_prefix)

    def job_executions(self, job_id: str, page: int, limit: int) -> dict[str, Any]:
        return self.controls.job_executions(job_id, page, limit)

    def cancel(self, id_or_prefix: str) -> dict[str, Any]:
        self.controlled.append(("cancel", id_or_prefix))
        return {"id": id_or_prefix, "status": "cancelled"}

    def retry(self, id_or_prefix: str) -> dict[str, Any]:
        self.controlled.append(("retry", id_or_prefix))
        return {"id": id_or_prefix, "status": "pending"}


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[FakePlatform]:
    with Store(history_path(tmp_path)) as store:
        yield FakePlatform(store)


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


PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    503: "Service Unavailable",
}


def error_of(response: httpx.Response, status: int, *, reason: bool = True) -> Any:
    """The response is ``status`` with NestJS's body ``{message, error, statusCode}`` (no
    ``error`` for body-parser's errors); returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    if reason:
        assert set(body) == {"message", "error", "statusCode"}, body
        assert body["error"] == PHRASES[status]
    else:
        assert set(body) == {"message", "statusCode"}, body
    assert body["statusCode"] == status and body["message"]
    return body["message"]


def job_id(platform: FakePlatform, name: str) -> str:
    assert platform.jobs is not None
    job = platform.jobs.by_name(name)
    assert job is not None
    return job.id


# --- trigger ------------------------------------------------------------------------------


async def test_trigger_answers_201_with_the_platform_shape(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    response = await client.post(TRIGGER, json={"task": "send-email", "payload": {"id": "e1"}})
    assert response.status_code == 201
    assert response.json() == {
        "executionId": "exec-1",
        "task": "send-email",
        "scheduledAt": "2025-11-28T10:15:00.000Z",
    }
    assert platform.triggered == [("send-email", {"id": "e1"}, True, 0)]


async def test_trigger_without_payload_and_with_an_explicit_null(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    assert (await client.post(TRIGGER, json={"task": "send-email"})).status_code == 201
    assert (await client.post(TRIGGER, json={"task": "send-email", "payload": None})).status_code == 201
    assert platform.triggered == [("send-email", None, False, 0), ("send-email", None, True, 0)]


async def test_a_cron_can_be_triggered_by_name(client: httpx.AsyncClient) -> None:
    response = await client.post(TRIGGER, json={"task": "send-emails"})
    assert response.status_code == 201 and response.json()["task"] == "send-emails"


async def test_trigger_ignores_the_content_type(client: httpx.AsyncClient) -> None:
    """curl -d sends application/x-www-form-urlencoded; the body is still JSON."""
    response = await client.post(
        TRIGGER,
        content=b'{"task":"send-email"}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("delay", "seconds"),
    [(1, 1), (0.5, 0), (1.9, 1), ("90", 90), ("30s1m", 90), ("1m1m", 120), ("1d2h30m", 95400), (None, 0)],
)
async def test_delay_moves_scheduled_at(
    client: httpx.AsyncClient, platform: FakePlatform, delay: Any, seconds: int
) -> None:
    response = await client.post(TRIGGER, json={"task": "send-email", "delay": delay})
    assert response.status_code == 201, response.text
    assert platform.triggered[0][3] == seconds
    assert response.json()["scheduledAt"] == iso(NOW + seconds)


@pytest.mark.parametrize(
    ("delay", "message"),
    [
        (0, "Delay must be a positive number of seconds"),
        (
            "1.5s",
            'Invalid delay format: "1.5s". Use a number (seconds) or a string like "15m", "2h30m", "1d".',
        ),
        (
            " 15m ",
            'Invalid delay format: " 15m ". Use a number (seconds) or a string like "15m", "2h30m", "1d".',
        ),
        ("31d", "Delay of 2678400s exceeds maximum of 2592000s (30 days)"),
    ],
)
async def test_bad_delay_is_400_with_the_platform_message(
    client: httpx.AsyncClient, platform: FakePlatform, delay: Any, message: str
) -> None:
    assert error_of(await client.post(TRIGGER, json={"task": "send-email", "delay": delay}), 400) == message
    assert platform.triggered == []


async def test_the_task_is_looked_up_before_the_delay(client: httpx.AsyncClient) -> None:
    """trigger.controller.ts:41-54: an unknown task with a bad delay is a 404, not a 400."""
    message = error_of(await client.post(TRIGGER, json={"task": "nope", "delay": "soon"}), 404)
    assert message == 'Task "nope" not found in this project'


@pytest.mark.parametrize(
    ("body", "named"),
    [({}, "undefined"), ({"task": 5}, "5"), ({"task": None}, "undefined"), ([], "undefined")],
)
async def test_missing_task_is_404(client: httpx.AsyncClient, body: Any, named: str) -> None:
    assert error_of(await client.post(TRIGGER, json=body), 404) == f'Task "{named}" not found in this project'


@pytest.mark.parametrize("raw", [b'"send-email"', b"42", b"{", b"{'task': 'x'}", b'{"task": NaN}', b"\xff{}"])
async def test_a_body_body_parser_refuses_is_its_400(client: httpx.AsyncClient, raw: bytes) -> None:
    error_of(await client.post(TRIGGER, content=raw), 400, reason=False)


async def test_one_byte_past_100kb_is_413(client: httpx.AsyncClient, platform: FakePlatform) -> None:
    assert MAX_BODY_BYTES == 102_400  # body-parser's "100kb"
    body = b'{"task": "send-email", "payload": "'
    body += b"x" * (MAX_BODY_BYTES - len(body) - 2) + b'"}'
    assert len(body) == MAX_BODY_BYTES
    assert (await client.post(TRIGGER, content=body)).status_code == 201
    message = error_of(await client.post(TRIGGER, content=body[:-2] + b'x"}'), 413, reason=False)
    assert message == "request entity too large"
    assert len(platform.triggered) == 1


async def test_oversized_streamed_body_without_length_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"task": "send-email", "payload": "'
        for _ in range(3):
            yield b"x" * (64 * 1024)
        yield b'"}'

    response = await client.post(TRIGGER, content=chunks())
    assert "content-length" not in response.request.headers
    error_of(response, 413, reason=False)


# --- routing errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", TRIGGER), ("PUT", REGISTER), ("POST", FUNCTIONS), ("DELETE", EXECUTIONS), ("GET", "/"),
     ("GET", "/api/v2/trigger"), ("GET", "/api/v1/nope"), ("POST", "/api/v1/trigger/x")],
)  # fmt: skip
async def test_unknown_routes_and_methods_are_express_404s(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    assert error_of(await client.request(method, path), 404) == f"Cannot {method} {path}"


# --- register -----------------------------------------------------------------------------


async def test_register_answers_201_with_every_job_active(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    assert platform.jobs is not None
    platform.jobs.set_status("send-emails", "paused")
    body = {
        "functions": [
            {"name": "send-emails", "type": "cron", "schedule": "*/15 * * * *", "options": {"retries": 1}},
            {"name": "fresh", "type": "task", "options": {"timeout": "5m", "concurrency": 3}},
        ],
        "endpoint_url": "https://app.example.com/api/pingback",
    }
    response = await client.post(REGISTER, json=body)
    assert response.status_code == 201, response.text
    assert response.json() == {
        "jobs": [{"name": "send-emails", "status": "active"}, {"name": "fresh", "status": "active"}]
    }
    [(functions, endpoint, from_worker)] = platform.registered
    assert [fn.name for fn in functions] == ["send-emails", "fresh"]
    assert endpoint == "https://app.example.com/api/pingback" and not from_worker
    jobs = {job["name"]: job for job in (await client.get(JOBS)).json()}
    assert jobs["send-emails"]["status"] == "active"  # un-paused by the registration
    assert jobs["send-email"]["status"] == "inactive"  # not listed: inactive
    assert (jobs["fresh"]["timeoutSeconds"], jobs["fresh"]["concurrency"]) == (5, 3)  # "5m" is 5 s


async def test_the_worker_s_own_registration_is_marked(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    response = await client.post(
        WORKER_PREFIX + REGISTER, json={"functions": [{"name": "t", "type": "task"}]}
    )
    assert response.status_code == 201
    assert platform.registered[0][2] is True


async def test_register_names_the_function_with_an_invalid_schedule(client: httpx.AsyncClient) -> None:
    body = {"functions": [{"name": "nightly-report", "type": "cron", "schedule": "every night"}]}
    message = error_of(await client.post(REGISTER, json=body), 400)
    assert message == 'Invalid cron expression for "nightly-report": every night'


async def test_register_past_the_job_cap_is_403(client: httpx.AsyncClient) -> None:
    body = {"functions": [{"name": name, "type": "task"} for name in ("send-email", "send-emails", "x", "y")]}
    assert (
        error_of(await client.post(REGISTER, json=body), 403) == "Job limit reached (3/3). Upgrade your plan."
    )


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        ({"functions": [{"name": "t", "type": "job"}]},
         ["functions.0.type must be one of the following values: cron, task"]),
        ({"functions": [{"name": "t", "type": "task", "options": {"concurrency": 0}}]},
         ["functions.0.options.concurrency must not be less than 1"]),
        ({}, ["functions must be an array"]),
    ],
)  # fmt: skip
async def test_register_validation_is_a_list_of_messages(
    client: httpx.AsyncClient, body: Any, messages: list[str]
) -> None:
    assert error_of(await client.post(REGISTER, json=body), 400) == messages


async def test_register_keeps_no_maximum(client: httpx.AsyncClient) -> None:
    body = {"functions": [{"name": "t", "type": "task", "options": {"retries": 50, "concurrency": 40}}]}
    assert (await client.post(REGISTER, json=body)).status_code == 201


# --- jobs ---------------------------------------------------------------------------------


async def test_jobs_list_get_patch_delete(client: httpx.AsyncClient, platform: FakePlatform) -> None:
    listed = (await client.get(JOBS)).json()
    assert {job["name"] for job in listed} == {"send-emails", "send-email"}
    cron_id = job_id(platform, "send-emails")
    one = (await client.get(f"{JOBS}/{cron_id}")).json()
    assert one["schedule"] == "*/15 * * * *" and one["status"] == "active" and one["nextRunAt"]
    patched = await client.patch(f"{JOBS}/{cron_id}", json={"status": "paused", "retries": 3, "ignored": 1})
    assert (
        patched.status_code == 200 and patched.json()["status"] == "paused" and patched.json()["retries"] == 3
    )
    assert [job["name"] for job in (await client.get(JOBS, params={"status": "paused"})).json()] == [
        "send-emails"
    ]
    deleted = await client.delete(f"{JOBS}/{cron_id}")
    assert deleted.status_code == 200 and deleted.json()["status"] == "inactive"


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        ({"status": "inactive"}, ["status must be one of the following values: active, paused"]),
        ({"retries": 11}, ["retries must not be greater than 10"]),
        ({"timeoutSeconds": 0}, ["timeoutSeconds must not be less than 1"]),
        ({"concurrency": "2"}, ["concurrency must be an integer number"]),
    ],
)
async def test_patch_validation(
    client: httpx.AsyncClient, platform: FakePlatform, body: Any, messages: list[str]
) -> None:
    response = await client.patch(f"{JOBS}/{job_id(platform, 'send-email')}", json=body)
    assert error_of(response, 400) == messages


async def test_patch_with_a_bad_schedule_and_unknown_jobs(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    response = await client.patch(f"{JOBS}/{job_id(platform, 'send-emails')}", json={"schedule": "nope"})
    assert error_of(response, 400) == "Invalid cron expression: nope"
    for method in ("GET", "PATCH", "DELETE"):
        assert error_of(await client.request(method, f"{JOBS}/missing", json={}), 404) == "Job not found"


async def test_job_executions_page(client: httpx.AsyncClient, platform: FakePlatform) -> None:
    for index in range(3):
        platform.store.save(
            Execution(
                id=f"e{index}", function="send-email", type="task", scheduled_at=NOW + index, status="success"
            )
        )
    page = (
        await client.get(f"{JOBS}/{job_id(platform, 'send-email')}/executions", params={"limit": "2"})
    ).json()
    assert (page["total"], page["page"], page["limit"]) == (3, 1, 2)
    assert [item["id"] for item in page["items"]] == ["e2", "e1"]
    second = (await client.get(f"{JOBS}/{job_id(platform, 'send-email')}/executions?page=2&limit=2")).json()
    assert [item["id"] for item in second["items"]] == ["e0"]
    empty = (await client.get(f"{JOBS}/unknown/executions")).json()
    assert empty == {"items": [], "total": 0, "page": 1, "limit": 20}


async def test_one_execution_with_job_and_has_children(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    platform.store.save(
        Execution(id=KNOWN_ID, function="send-email", type="task", scheduled_at=NOW, status="success")
    )
    platform.store.save(
        Execution(
            id="c1",
            function="send-email",
            type="task",
            scheduled_at=NOW,
            parent_id=KNOWN_ID,
            root_id=KNOWN_ID,
        )
    )
    data = (await client.get(f"{EXECUTIONS}/{KNOWN_ID}")).json()
    assert data["id"] == KNOWN_ID and data["hasChildren"] is True and data["job"]["name"] == "send-email"
    assert (await client.get(f"{EXECUTIONS}/c1")).json()["hasChildren"] is False
    assert error_of(await client.get(f"{EXECUTIONS}/ffff"), 404) == "Execution not found"


async def test_cancel_and_retry_routes(client: httpx.AsyncClient, platform: FakePlatform) -> None:
    assert (await client.post(f"{EXECUTIONS}/abc/cancel")).status_code == 201
    assert (await client.post(f"{EXECUTIONS}/abc/retry")).status_code == 201
    assert platform.controlled == [("cancel", "abc"), ("retry", "abc")]


# --- local read routes ----------------------------------------------------------------------


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
    await client.get(EXECUTIONS, params={"limit": "1", "status": "cancelled"})
    assert platform.queries == [(20, None, None), (1000, "send-email", "failed"), (1, None, "cancelled")]


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "abc"}, {"status": "done"}])
async def test_executions_query_is_validated(
    client: httpx.AsyncClient, platform: FakePlatform, params: Any
) -> None:
    error_of(await client.get(EXECUTIONS, params=params), 400)
    assert platform.queries == []


async def test_the_local_tree_by_id_or_prefix(client: httpx.AsyncClient) -> None:
    for wanted in (KNOWN_ID, KNOWN_ID[:4]):
        response = await client.get(f"{EXECUTIONS}/{wanted}/tree")
        assert response.json() == {"executionId": KNOWN_ID, "children": []}
    assert "no execution matches" in error_of(await client.get(f"{EXECUTIONS}/ffff/tree"), 404)
    assert "type more characters" in error_of(await client.get(f"{EXECUTIONS}/ab/tree"), 400)


# --- the API key --------------------------------------------------------------------------


ROUTES = [
    ("POST", TRIGGER, {"task": "send-email"}),
    ("POST", REGISTER, {"functions": []}),
    ("GET", FUNCTIONS, None),
    ("GET", EXECUTIONS, None),
    ("GET", JOBS, None),
    ("GET", f"{EXECUTIONS}/{KNOWN_ID}/tree", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Unauthorized"),
        ({"authorization": "s3cret"}, "Unauthorized"),
        ({"authorization": "Bearer "}, "Unauthorized"),
        ({"x-api-key": "s3cret"}, "Unauthorized"),
        ({"authorization": "Bearer wrong"}, "Invalid API key"),
        ({"authorization": "Bearer s3cret2"}, "Invalid API key"),
    ],
)
async def test_a_missing_or_wrong_key_is_401_on_every_route(
    keyed: httpx.AsyncClient, platform: FakePlatform, method: str, path: str, body: Any,
    headers: dict[str, str], message: str,
) -> None:  # fmt: skip
    response = await keyed.request(method, path, json=body, headers=headers)
    assert error_of(response, 401, reason=message != "Unauthorized") == message
    assert platform.triggered == [] and platform.registered == [] and platform.queries == []


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
async def test_the_right_key_is_accepted(
    keyed: httpx.AsyncClient, method: str, path: str, body: Any, scheme: str
) -> None:
    response = await keyed.request(method, path, json=body, headers={"authorization": f"{scheme} s3cret"})
    assert response.status_code in (200, 201), response.text


async def test_the_key_is_checked_before_the_body(keyed: httpx.AsyncClient) -> None:
    """A client without the key learns nothing about what the API would accept."""
    error_of(await keyed.post(TRIGGER, content=b"{not json"), 401, reason=False)
    error_of(await keyed.post(TRIGGER, json={"task": "nope"}), 401, reason=False)


async def test_without_a_configured_key_any_header_is_fine(client: httpx.AsyncClient) -> None:
    response = await client.post(TRIGGER, json={"task": "send-email"}, headers={"authorization": "Bearer x"})
    assert response.status_code == 201


async def test_a_trigger_while_the_project_loads_is_503_not_404(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    platform.ready = False
    response = await client.post(TRIGGER, json={"task": "send-email"})
    assert "still loading" in error_of(response, 503)
    assert (await client.get(FUNCTIONS)).status_code == 503
    assert platform.triggered == []


# --- non-finite floats ----------------------------------------------------------------------


async def test_trigger_refuses_nan_as_the_platforms_json_parse_does(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    """pb.trigger() writes NaN with Python's json; the platform's JSON.parse refuses it."""
    body = b'{"task": "send-email", "payload": {"ratio": NaN}}'
    response = await client.post(TRIGGER, content=body, headers={"content-type": "application/json"})
    assert "NaN is not JSON" in error_of(response, 400, reason=False)
    assert platform.triggered == []


async def test_trigger_refuses_half_a_surrogate_pair_before_queueing_it(
    client: httpx.AsyncClient, platform: FakePlatform
) -> None:
    """JSON.parse reads "\\udce9" as half a pair, which history cannot store as text: a 400
    naming it, nothing queued (it was a 500 after the execution had been queued). A whole pair
    (an emoji, escaped) is a character and goes through."""
    body = b'{"task": "send-email", "payload": {"to": "\\udce9"}}'
    response = await client.post(TRIGGER, content=body, headers={"content-type": "application/json"})
    assert "lone UTF-16 surrogate (\\udce9)" in error_of(response, 400, reason=False)
    assert platform.triggered == []
    pair = b'{"task": "send-email", "payload": {"to": "\\ud83d\\ude00"}}'
    response = await client.post(TRIGGER, content=pair, headers={"content-type": "application/json"})
    assert response.status_code == 201
    assert platform.triggered == [("send-email", {"to": "\U0001f600"}, True, 0)]


class StorePlatform(FakePlatform):
    """Reads executions from a real history file, as the emulator does."""

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
            one = await http.get(f"{EXECUTIONS}/aaaa0001/tree")
            shaped = await http.get(f"{EXECUTIONS}/aaaa0001")
    for response in (listing, one, shaped):
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
