"""Security: where the API listens and who may call it, signed requests to the worker, and
secrets that never show up in output, history, errors or tracebacks."""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import SETTLE, Result, eventually, http_client, run_cli, run_in_process, worker_pids
from pingback import Pingback

from pingback_cli import protocol
from pingback_cli.emulator.api import create_app
from pingback_cli.executors.process import WorkerProcess
from pingback_cli.models import Execution, FunctionSpec
from pingback_cli.project.config import ProjectConfig
from pingback_cli.project.loader import RawFunction
from pingback_cli.protocol import AttemptOutcome, AttemptRequest
from pingback_cli.worker import main as worker_main
from pingback_cli.worker import request_fields
from pingback_cli.worker.main import Outbox, Runner

from .helpers import (
    HAS_PROC,
    DevServer,
    assert_one_error_line,
    copy_misbehave,
    dev_server,
    kill_workers,
    listening_addresses,
)

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="finds leftover worker processes through /proc")

API_SECRET = "pbsecret-api-5b1f0c9e7d2a"
CRON_SECRET = "pbsecret-cron-a83e11d2f4c6"
SECRETS = {"PINGBACK_API_KEY": API_SECRET, "PINGBACK_CRON_SECRET": CRON_SECRET}
# A full id no uuid4 can be: a short one like "0" would match a real execution by prefix.
NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"
ROUTES = [
    ("POST", "/api/v1/trigger", {"task": "ok"}),
    ("POST", "/api/v1/register", {"functions": [{"name": "registered-here", "type": "task"}]}),
    ("GET", "/api/v1/functions", None),
    ("GET", "/api/v1/executions", None),
    ("GET", f"/api/v1/executions/{NO_SUCH_ID}/tree", None),
]


# --- where the API listens -----------------------------------------------------------------


@pytest.fixture(scope="module")
def secret_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Without the module that starts a thread at import: the commands that only import the
    project then run in this process (``test_secrets_never_appear_in_output_history_or_errors``)."""
    project = copy_misbehave(tmp_path_factory.mktemp("secrets"), import_thread=False)
    yield project
    kill_workers(project)


@pytest.mark.parametrize(
    "env",
    [{}, {"PINGBACK_API_KEY": ""}, {"PINGBACK_API_KEY": "pb_local_dev_api_key"}],
    ids=["unset", "empty", "the-local-default"],
)
def test_binding_beyond_loopback_without_a_secret_key_refuses_to_start(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Unset through the installed command; the other values, refused as early (before the
    project loads, nothing started), through the same Click command in this process."""
    project = copy_misbehave(tmp_path)
    args = ("dev", "--host", "0.0.0.0", "--port", "0")
    result = run_in_process(project, *args, env=env) if env else run_cli(project, *args, timeout=30)
    assert_one_error_line(result, 2, "refusing to serve the API on 0.0.0.0 without a secret API key")
    assert "PINGBACK_API_KEY" in result.stderr
    assert not worker_pids(project)


@pytest.fixture(scope="module")
def open_dev(secret_project: Path) -> Iterator[DevServer]:
    """A ``pingback dev`` beyond loopback, with recognisable secrets in its environment (its
    key among them). ``test_secrets_never_appear_in_output_history_or_errors``, the module's
    last test, stops it to read all it printed. (That the API listens on loopback by default
    is test_request_guard.py's, on its dev with the default host.)"""
    with dev_server(secret_project, args=("--host", "0.0.0.0"), env=SECRETS) as server:
        yield server


def test_beyond_loopback_every_route_requires_the_bearer_key(open_dev: DevServer) -> None:
    assert listening_addresses(open_dev.port) == {f"0.0.0.0:{open_dev.port}"}
    with http_client(timeout=10) as client:  # no key (open_dev.http sends the right one)
        _every_route_refuses_a_missing_or_wrong_key(open_dev.url, client)


def _every_route_refuses_a_missing_or_wrong_key(url: str, client: httpx.Client) -> None:
    for method, path, body in ROUTES:
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": f"Bearer {API_SECRET}x"},
            {"Authorization": API_SECRET},
            {"Authorization": f"Basic {API_SECRET}"},
        ):
            response = client.request(method, url + path, json=body, headers=headers)
            assert response.status_code == 401, (method, path, headers, response.text)
            bearer = headers.get("Authorization", "").startswith("Bearer ")
            assert response.json() == (  # passport's bare 401, or api-key.strategy.ts:41
                {"message": "Invalid API key", "error": "Unauthorized", "statusCode": 401}
                if bearer
                else {"statusCode": 401, "message": "Unauthorized"}
            )
            assert API_SECRET not in response.text
    # The key is checked before the body is read.
    response = client.post(url + "/api/v1/trigger", content=b"{not json")
    assert response.status_code == 401


def test_beyond_loopback_the_right_key_is_accepted_on_every_route(open_dev: DevServer) -> None:
    for method, path, body in ROUTES:
        response = open_dev.http.request(method, path, json=body)
        expected = 404 if NO_SUCH_ID in path else 201 if method == "POST" else 200
        assert response.status_code == expected, (method, path, response.text)
    execution_id = open_dev.trigger("ok")
    assert open_dev.wait_root(execution_id, "ok")["status"] == "success"


def test_pingback_trigger_sends_the_key(open_dev: DevServer) -> None:
    sent = run_cli(open_dev.project, "trigger", "ok", "--platform-url", open_dev.url, env=SECRETS)
    assert sent.returncode == 0, sent.brief()
    execution_id = sent.stdout.split()[0]  # "<id>  ok  starts now"
    assert open_dev.wait_root(execution_id, "ok")["status"] == "success"
    wrong = run_in_process(  # a variant: the same Click command in this process
        open_dev.project, "trigger", "ok", "--platform-url", open_dev.url, "--api-key", "wrong", env=SECRETS
    )
    assert_one_error_line(wrong, 2, "refused the API key (401): Invalid API key")


class _Platform:
    ready = True

    def functions(self) -> list[FunctionSpec]:
        return []

    def trigger(self, name: str, payload: Any, has_payload: bool, delay: float) -> Execution:
        raise AssertionError("not reached")

    def register(self, functions: list[FunctionSpec], endpoint_url: str | None) -> list[dict[str, str]]:
        return []

    def function_json(self, spec: FunctionSpec) -> dict[str, Any]:
        return {}

    def recent(self, limit: int, function: str | None, status: str | None) -> list[dict[str, Any]]:
        return []

    def tree(self, id_or_prefix: str) -> dict[str, Any]:
        return {}


async def test_the_key_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every check goes through ``hmac.compare_digest``, whatever the given key looks like."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(given: bytes, expected: bytes) -> bool:
        calls.append((given, expected))
        return real(given, expected)

    monkeypatch.setattr("pingback_cli.emulator.api_base.hmac.compare_digest", spy)
    app = create_app(_Platform(), api_key=API_SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        for header in ("", "Bearer ", "Bearer p", f"Bearer {API_SECRET[:-1]}", f"Bearer {API_SECRET}"):
            await client.get("/api/v1/functions", headers={"Authorization": header} if header else {})
    assert len(calls) == 5
    assert all(expected == API_SECRET.encode() for _, expected in calls)


# --- the worker checks every request's signature ------------------------------------------


def _request(function: str = "ok") -> AttemptRequest:
    return AttemptRequest(
        execution_id=str(uuid.uuid4()), function=function, attempt=1, scheduled_at=time.time()
    )


async def _start_worker(project: Path, monkeypatch: pytest.MonkeyPatch) -> WorkerProcess:
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    worker = WorkerProcess(ProjectConfig(root=project), "http://127.0.0.1:9", threads=4, grace=0)
    await worker.start(timeout=30)
    return worker


Signer = Callable[[str, bytes], dict[str, str]]


def _unsigned(secret: str, body: bytes) -> dict[str, str]:
    return {"Content-Type": "application/json"}


def _stale(secret: str, body: bytes) -> dict[str, str]:
    return protocol.signed_headers(secret, body, now=time.time() - protocol.MAX_CLOCK_SKEW - 60)


def _from_the_future(secret: str, body: bytes) -> dict[str, str]:
    return protocol.signed_headers(secret, body, now=time.time() + protocol.MAX_CLOCK_SKEW + 60)


def _forged(secret: str, body: bytes) -> dict[str, str]:
    return protocol.signed_headers("not-the-cron-secret", body)


def _for_another_body(secret: str, body: bytes) -> dict[str, str]:
    return protocol.signed_headers(secret, body.replace(b'"attempt":1', b'"attempt":2'))


def _garbage_timestamp(secret: str, body: bytes) -> dict[str, str]:
    headers = protocol.signed_headers(secret, body)
    headers[protocol.TIMESTAMP_HEADER] = "soon"
    return headers


TAMPERED: dict[str, Signer] = {
    "unsigned": _unsigned,
    "stale": _stale,
    "from-the-future": _from_the_future,
    "forged": _forged,
    "signed-for-another-body": _for_another_body,
    "garbage-timestamp": _garbage_timestamp,
}


def test_the_worker_rejects_unsigned_stale_and_forged_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker signs each request's body; the SDK's ``handle()`` verifies it. Here
    ``signed_headers`` (what ``Runner._execute`` signs with) is swapped per case, and the
    attempt goes through the worker's own ``Runner`` and the real SDK."""
    pb = Pingback(api_key=API_SECRET, cron_secret=CRON_SECRET)
    pb.task("ok")(lambda ctx: {"ok": True})
    read_fd, write_fd = os.pipe()

    def attempt() -> AttemptOutcome:
        runner = Runner([RawFunction("ok", pb._functions["ok"], None, pb)], Outbox(write_fd), 1, CRON_SECRET)
        message = json.loads(runner._execute(list(request_fields(1, _request()))))
        return AttemptOutcome(message["httpStatus"], response=message["response"])

    try:
        outcomes: dict[str, AttemptOutcome] = {}
        for name, signer in TAMPERED.items():
            monkeypatch.setattr(worker_main, "signed_headers", signer)
            outcomes[name] = attempt()
        monkeypatch.setattr(worker_main, "signed_headers", protocol.signed_headers)
        control = attempt()
    finally:
        os.close(read_fd)
        os.close(write_fd)
    for name, outcome in outcomes.items():
        assert outcome.http_status == 401, (name, outcome)
        assert not outcome.succeeded
        assert outcome.error_message().startswith("unauthorized"), (name, outcome.error_message())
        assert CRON_SECRET not in json.dumps(outcome.response)
    assert control.succeeded and control.http_status == 200, control
    assert control.response is not None and control.response["result"] == {"ok": True}


async def test_a_result_for_a_cancelled_attempt_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = copy_misbehave(tmp_path)
    worker = await _start_worker(project, monkeypatch)
    try:
        future = worker.execute(_request())
        seq = worker._seq
        future.cancel()  # what Engine.interrupt does to every attempt in flight
        # The worker's answer arrives in the same loop turn, before the done-callbacks run:
        # it must be dropped (setting a cancelled future's result would raise here).
        worker._on_message({"op": "result", "seq": seq, "httpStatus": 200, "response": {"status": "success"}})
        assert future.cancelled()
        assert seq not in worker._pending
        later = await asyncio.wait_for(worker.execute(_request()), 20)
    finally:
        await worker.stop(grace=0)
    assert later.succeeded, "the worker still serves after dropping the late answer"


# --- secrets never show ---------------------------------------------------------------------


def _leaks(text: str) -> list[str]:
    return [name for name, secret in SECRETS.items() if secret in text]


def test_secrets_never_appear_in_output_history_or_errors(secret_project: Path, open_dev: DevServer) -> None:
    project = secret_project
    # Through the installed command: every one that starts a worker or serves (run, whose
    # worker imports the project and prints a handler's traceback).
    installed: list[tuple[str, ...]] = [
        ("run", "ok", "--json"),
        ("run", "ok"),
        ("run", "raises"),
        ("run", "raises", "--json"),
        ("run", "segfault"),
        ("run", "keyboard-interrupt", "--json"),
        ("run", "no-such-function"),
        ("run", "ok", "--endpoint", "http://127.0.0.1:9/pingback", "--secret", CRON_SECRET),
    ]
    # The same Click commands in this process: ones that start nothing, importing the project
    # at most (each has installed-command cases in tests/e2e and test_handlers.py, the fixture's
    # thread at import included).
    in_process: list[tuple[str, ...]] = [
        ("ls",),
        ("ls", "--json"),
        ("register", "--dry-run"),
        ("check",),
        ("trigger", "ok", "--platform-url", open_dev.url),
        ("run", "ok", "--payload", "{bad"),
        ("runs", "--json"),
        ("trigger", "no-such-function", "--platform-url", open_dev.url),
        ("trigger", "ok", "--platform-url", open_dev.url, "--api-key", "wrong"),
        ("trigger", "ok", "--platform-url", "http://127.0.0.1:9"),
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results: list[Result] = list(pool.map(lambda args: run_cli(project, *args, env=SECRETS), installed))
    results += [run_in_process(project, *args, env=SECRETS) for args in in_process]
    for result in results:
        assert result.returncode in (0, 1, 2), result.brief()
        assert not _leaks(result.stdout + result.stderr), result.brief()
    [raised] = [r for r in results if r.args == ("run", "raises", "--json")]
    assert "ValueError: handler raised on purpose" in json.dumps(raised.json()), "the user's traceback shows"
    shown = run_in_process(project, "show", results[0].json()["executionId"], "--json", env=SECRETS)
    assert shown.returncode == 0 and not _leaks(shown.stdout + shown.stderr)

    for task in ("ok", "raises", "segfault", "returns-set"):
        execution_id = open_dev.trigger(task)
        open_dev.wait_root(execution_id, task)
    assert open_dev.stop() == 0
    assert not _leaks(open_dev.output(limit=10**9)), "pingback dev printed a secret"

    stored = sorted(path for path in (project / ".pingback").iterdir() if path.is_file())
    assert any(path.name == "history.sqlite3" for path in stored), stored
    for path in stored:
        data = path.read_bytes()
        for name, secret in SECRETS.items():
            assert secret.encode() not in data, f"{name} is stored in {path}"
    assert eventually(lambda: not worker_pids(project), SETTLE)
