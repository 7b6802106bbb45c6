"""Malformed and wrong-typed input to every command and every API route.

Commands answer with one ``error:`` line (maybe a hint), the documented exit code and no
traceback. API routes answer JSON ``{"error": ...}`` with the right status, from a real
``pingback dev`` over HTTP (tests/test_api.py covers the routes in process; this adds what
only a running server shows: deep nesting, bodies past 10 MB, ids in the URL path, ...).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import Result, run_cli

from pingback_cli.emulator.api import MAX_BODY_BYTES

from .helpers import HAS_PROC, DevServer, assert_one_error_line, copy_misbehave, dev_server

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="finds leftover worker processes through /proc")

URL = "{url}"
"""Replaced by the shared dev server's URL."""
PORT = "{port}"
DEEP = "[" * 100_000 + "]" * 100_000


@dataclass(frozen=True)
class Bad:
    args: tuple[str, ...]
    code: int
    needle: str
    input: str | None = None
    env: tuple[tuple[str, str], ...] = ()


CASES = [
    # run: payloads, names, options
    Bad(("run", "ok", "--payload", "{bad"), 2, "payload from --payload is not valid JSON"),
    Bad(("run", "ok", "--payload", ""), 2, "payload from --payload is not valid JSON"),
    Bad(("run", "ok", "--payload", "{'single': 'quotes'}"), 2, "not valid JSON"),
    Bad(("run", "ok", "--payload", DEEP[:4000]), 2, "payload from --payload is"),
    Bad(("run", "ok", "--payload", "@deep.json"), 2, "payload from deep.json is nested too deeply"),
    Bad(("run", "ok", "--payload", "@missing.json"), 2, "cannot read payload file missing.json"),
    Bad(("run", "ok", "--payload", "@misbehave"), 2, "cannot read payload file misbehave: Is a directory"),
    Bad(("run", "ok", "--payload", "@binary.json"), 2, "cannot read payload file binary.json"),
    Bad(("run", "ok", "--payload", "-"), 2, "payload from stdin is not valid JSON", input="{oops"),
    Bad(("run", "no-such-function"), 2, 'no cron or task named "no-such-function"'),
    Bad(("run", "[bold]x[/bold]"), 2, 'no cron or task named "[bold]x[/bold]"'),
    Bad(("run", ""), 2, 'no cron or task named ""'),
    Bad(("run", "ok", "--endpoint", "notaurl"), 2, "--endpoint 'notaurl' is not an http(s) URL"),
    Bad(("run", "ok", "--endpoint", "http://[::1"), 2, "is not a URL"),
    Bad(("run", "ok", "--endpoint", "ftp://host/x"), 2, "is not an http(s) URL"),
    Bad(("run", "ok", "--app", "no.such.module"), 3, "cannot find module no.such.module"),
    Bad(("run", "ok", "--app", "missing.py"), 3, "--app file missing.py does not exist"),
    Bad(("run", "ok", "--app", "misbehave.client:nothing"), 3, "has no attribute 'nothing'"),
    Bad(("run", "ok", "--bogus"), 2, "No such option: --bogus"),
    Bad(("run",), 2, "Missing argument"),
    # trigger: payloads, delays, platforms
    Bad(("trigger", "ok", "--payload", "[1,"), 2, "payload from --payload is not valid JSON"),
    Bad(("trigger", "ok", "--delay", "abc", "--platform-url", URL), 2, 'refused (400): delay "abc"'),
    Bad(("trigger", "ok", "--delay", "0", "--platform-url", URL), 2, "out of range"),
    Bad(("trigger", "ok", "--delay", "31d", "--platform-url", URL), 2, "out of range"),
    Bad(("trigger", "ok", "--delay", "1.5.3", "--platform-url", URL), 2, 'delay "1.5.3"'),
    Bad(("trigger", "ok", "--delay", "5m30", "--platform-url", URL), 2, 'delay "5m30"'),
    Bad(("trigger", "ok", "--delay", "-5", "--platform-url", URL), 2, "out of range"),
    Bad(("trigger", "no-such-function", "--platform-url", URL), 2, "refused (404)"),
    Bad(("trigger", "ok", "--platform-url", "http://127.0.0.1:9"), 2, "nothing is listening"),
    Bad(("trigger", "ok", "--platform-url", "notaurl"), 2, "notaurl"),
    Bad(("trigger", "ok", "--platform-url", URL + "/nope"), 2, "refused (404)"),
    # history: limits, statuses, ids
    Bad(("runs", "--limit", "0"), 2, "Invalid value for '--limit'"),
    Bad(("runs", "--limit", "abc"), 2, "Invalid value for '--limit'"),
    Bad(("runs", "--limit", "100000"), 2, "Invalid value for '--limit'"),
    Bad(("runs", "--status", "bogus"), 2, 'unknown status "bogus"'),
    Bad(("show", "zzz"), 2, '"zzz" is not an execution id'),
    Bad(("show", ""), 2, '"" is not an execution id'),
    Bad(("show", "../../etc/passwd"), 2, "is not an execution id"),
    Bad(("show", "ab\x01cd"), 2, "is not an execution id"),
    Bad(("show", "0" * 300), 2, "no execution matches"),
    Bad(("show", "fffffffff"), 2, 'no execution matches "fffffffff"'),
    Bad(("show",), 2, "Missing argument"),
    Bad(("replay", "zzz"), 2, '"zzz" is not an execution id'),
    Bad(("replay", "fffffffff"), 2, "no execution matches"),
    Bad(("replay", "0", "--payload", "{bad"), 2, "not valid JSON"),
    # dev: ports and hosts
    Bad(("dev", "--port", "-1"), 2, "Invalid value for '--port'"),
    Bad(("dev", "--port", "70000"), 2, "Invalid value for '--port'"),
    Bad(("dev", "--port", "abc"), 2, "Invalid value for '--port'"),
    Bad(("dev", "--port", PORT), 2, "cannot listen on 127.0.0.1:"),
    Bad(("dev", "--host", "0.0.0.0"), 2, "refusing to serve the API on 0.0.0.0 without a secret API key"),
    Bad(
        ("dev", "--host", "999.1.1.1", "--port", "0"),
        2,
        "cannot listen on 999.1.1.1:0",
        env=(("PINGBACK_API_KEY", "a-real-secret"),),
    ),
    # the rest
    Bad(("completion", "powershell"), 2, 'no completion script for shell "powershell"'),
    Bad(("completion",), 2, "Missing argument"),
    Bad(("register", "--platform-url", "http://127.0.0.1:9"), 2, "nothing is listening"),
    Bad(("check", "--app", "missing.py"), 3, "--app file missing.py does not exist"),
    Bad(("ls", "--app", "misbehave.client:os"), 3, "is a module, not a Pingback"),
    Bad(("ls", "--json", "--bogus"), 2, "No such option: --bogus"),
    Bad(("no-such-command",), 2, "No such command"),
]


def case_id(case: Bad) -> str:
    text = " ".join(case.args)
    return text if len(text) < 60 else text[:57] + "..."


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_misbehave(tmp_path_factory.mktemp("bad-input"))
    (project / "deep.json").write_text(DEEP, encoding="utf-8")
    (project / "binary.json").write_bytes(b"\xff\xfe{\x00")
    return project


@pytest.fixture(scope="module")
def dev(project: Path) -> Iterator[DevServer]:
    with dev_server(project) as server:
        assert server.run("ok")["status"] == "success"  # history for show and replay
        yield server
        assert server.stop() == 0, server.output()


def _expand(arg: str, dev: DevServer) -> str:
    return arg.replace(URL, dev.url).replace(PORT, str(dev.port))


@pytest.fixture(scope="module")
def results(project: Path, dev: DevServer) -> dict[tuple[str, ...], Result]:
    def run(case: Bad) -> Result:
        args = tuple(_expand(arg, dev) for arg in case.args)
        return run_cli(project, *args, input=case.input, env=dict(case.env), timeout=60)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case.args: pool.submit(run, case) for case in CASES}
    return {args: future.result() for args, future in futures.items()}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_command_refuses_bad_input_in_one_line(case: Bad, results: dict[tuple[str, ...], Result]) -> None:
    result = results[case.args]
    if result.args and result.args[0] == "dev" and result.stdout:
        # dev prints its stop line even when it could not start; the error is still one line.
        assert "stopped" in result.stdout and "error" not in result.stdout
        result = Result(result.args, result.returncode, "", result.stderr, result.seconds)
    assert_one_error_line(result, case.code, case.needle)


# --- the API of a running pingback dev ------------------------------------------------------


@dataclass(frozen=True)
class BadRequest:
    method: str
    path: str
    status: int
    needle: str
    body: bytes | None = None

    @staticmethod
    def json(method: str, path: str, status: int, needle: str, data: Any) -> BadRequest:
        return BadRequest(method, path, status, needle, json.dumps(data).encode())


TRIGGER = "/api/v1/trigger"
REGISTER = "/api/v1/register"
EXECUTIONS = "/api/v1/executions"


def _register(entry: Any) -> bytes:
    return json.dumps({"functions": [entry]}).encode()


REQUESTS = [
    # malformed bodies
    BadRequest("POST", TRIGGER, 400, "not valid JSON", b"{bad"),
    BadRequest("POST", TRIGGER, 400, "not valid JSON", b"\xff\xfe\x00"),
    BadRequest("POST", TRIGGER, 400, "nested too deeply", DEEP.encode()),
    BadRequest("POST", TRIGGER, 400, "nested too deeply", b'{"task": "ok", "payload": %s}' % DEEP.encode()),
    BadRequest("POST", TRIGGER, 400, "must be a JSON object", b""),
    BadRequest("POST", TRIGGER, 400, "must be a JSON object", b'["ok"]'),
    BadRequest("POST", REGISTER, 400, "not valid JSON", b"{bad"),
    BadRequest("POST", REGISTER, 400, "must be a JSON object", b"42"),
    # missing fields and wrong types
    BadRequest.json("POST", TRIGGER, 400, '"task"', {}),
    BadRequest.json("POST", TRIGGER, 400, '"task"', {"task": 5}),
    BadRequest.json("POST", TRIGGER, 400, '"task"', {"task": ["ok"]}),
    BadRequest.json("POST", TRIGGER, 400, '"task"', {"task": ""}),
    BadRequest.json("POST", TRIGGER, 404, 'function "nope" not found', {"task": "nope"}),
    BadRequest.json("POST", REGISTER, 400, '"functions"', {}),
    BadRequest.json("POST", REGISTER, 400, '"functions"', {"functions": "ok"}),
    BadRequest.json("POST", REGISTER, 400, "must be an object", {"functions": ["ok"]}),
    BadRequest("POST", REGISTER, 400, "no usable name", _register({"type": "task"})),
    BadRequest("POST", REGISTER, 400, "no usable name", _register({"name": 5, "type": "task"})),
    BadRequest("POST", REGISTER, 400, 'must be "cron" or "task"', _register({"name": "x", "type": "job"})),
    BadRequest("POST", REGISTER, 400, "options must be an object", _register({"name": "x", "options": []})),
    # invalid delays
    *(
        BadRequest("POST", TRIGGER, 400, needle, b'{"task": "ok", "delay": ' + raw + b"}")
        for raw, needle in [
            (b'"abc"', 'delay "abc"'),
            (b"0", "out of range"),
            (b"-1", "out of range"),
            (b'"31d"', "out of range"),
            (b"1e20", "out of range"),
            (b'"99999999999999999999999s"', "out of range"),
            (b"Infinity", "not a number of seconds"),
            (b"NaN", "not a number of seconds"),
            (b"1e400", "not a number of seconds"),
            (b"[1]", "delay must be a number of seconds or a string"),
            (b"true", "delay must be a number of seconds or a string"),
            (b'{"s": 1}', "delay must be a number of seconds or a string"),
        ]
    ),
    # invalid schedules, timeouts, retries, concurrency
    *(
        BadRequest("POST", REGISTER, 400, needle, _register({"name": "x", **entry}))
        for entry, needle in [
            ({"type": "cron", "schedule": "bad"}, 'day-of-week field "bad"'),
            ({"type": "cron", "schedule": "* * * * * * *"}, "has 7 fields"),
            ({"type": "cron", "schedule": "61 * * * *"}, 'minute field "61"'),
            ({"type": "cron", "schedule": "*/0 * * * *"}, 'has the step "0"'),
            ({"type": "cron", "schedule": "0 0 31 2 *"}, "never occurs in February"),
            ({"type": "cron", "schedule": 5}, "a cron schedule must be a string"),
            ({"type": "cron"}, "a cron schedule must be a string"),
            ({"type": "task", "options": {"timeout": 5}}, "timeout must be a string"),
            ({"type": "task", "options": {"timeout": "5x"}}, 'timeout "5x" is not like'),
            ({"type": "task", "options": {"timeout": "0s"}}, "longer than zero"),
            ({"type": "task", "options": {"retries": "2"}}, "retries must be a whole number"),
            ({"type": "task", "options": {"retries": 11}}, "retries must be a whole number"),
            ({"type": "task", "options": {"concurrency": 0}}, "concurrency must be a whole number"),
            ({"type": "task", "options": {"concurrency": True}}, "concurrency must be a whole number"),
        ]
    ),
    # invalid ids and query parameters
    BadRequest("GET", f"{EXECUTIONS}/zzz", 400, '"zzz" is not an execution id'),
    BadRequest("GET", f"{EXECUTIONS}/%00", 400, "is not an execution id"),
    BadRequest("GET", f"{EXECUTIONS}/{'a' * 5000}", 404, "no execution matches"),
    BadRequest("GET", f"{EXECUTIONS}/00000000-0000-0000-0000-000000000000", 404, "no execution matches"),
    BadRequest("GET", f"{EXECUTIONS}?limit=abc", 400, "limit must be a whole number from 1 to 1000"),
    BadRequest("GET", f"{EXECUTIONS}?limit=0", 400, "limit must be a whole number from 1 to 1000"),
    BadRequest("GET", f"{EXECUTIONS}?limit=-5", 400, "limit must be a whole number from 1 to 1000"),
    BadRequest("GET", f"{EXECUTIONS}?limit=1001", 400, "limit must be a whole number from 1 to 1000"),
    BadRequest("GET", f"{EXECUTIONS}?status=bogus", 400, 'unknown status "bogus"'),
    # unknown routes and methods
    BadRequest("GET", "/api/v1/nope", 404, "Not Found"),
    BadRequest("GET", "/", 404, "Not Found"),
    BadRequest("GET", f"{EXECUTIONS}/a/b", 404, "Not Found"),
    BadRequest("GET", TRIGGER, 405, "Method Not Allowed"),
    BadRequest("DELETE", TRIGGER, 405, "Method Not Allowed"),
    BadRequest("PUT", REGISTER, 405, "Method Not Allowed"),
    BadRequest("POST", "/api/v1/functions", 405, "Method Not Allowed"),
    BadRequest("PATCH", EXECUTIONS, 405, "Method Not Allowed"),
]


def request_id(request: BadRequest) -> str:
    body = (request.body or b"")[:30].decode("utf-8", "replace")
    return f"{request.method} {request.path[:40]} {body}".strip()


@pytest.mark.parametrize("request_", REQUESTS, ids=request_id)
def test_an_api_route_refuses_bad_input_with_a_json_error(request_: BadRequest, dev: DevServer) -> None:
    response = dev.http.request(request_.method, request_.path, content=request_.body)
    assert response.status_code == request_.status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert isinstance(error, str) and request_.needle in error, error


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 3 * MAX_BODY_BYTES])
def test_an_oversized_body_is_413_and_the_server_keeps_serving(dev: DevServer, size: int) -> None:
    body = b'{"task": "ok", "payload": "' + b"x" * (size - 28) + b'"}'
    response = dev.http.post(TRIGGER, content=body)
    assert response.status_code == 413, response.text[:300]
    assert response.json() == {"error": f"request body is larger than {MAX_BODY_BYTES} bytes"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield b'{"task": "ok", "payload": "'
        for _ in range(size // (1 << 20) + 1):
            yield b"y" * (1 << 20)
        yield b'"}'

    streamed = httpx.post(dev.url + TRIGGER, content=chunks(), timeout=30)
    assert streamed.status_code == 413
    assert dev.run("ok")["status"] == "success"


def test_a_body_just_under_the_limit_is_accepted(dev: DevServer) -> None:
    prefix, suffix = b'{"task": "big-payload", "payload": {"data": "', b'"}}'
    body = prefix + b"z" * (MAX_BODY_BYTES - len(prefix) - len(suffix)) + suffix
    assert len(body) == MAX_BODY_BYTES
    response = dev.http.post(TRIGGER, content=body)
    assert response.status_code == 200, response.text
    execution_id = response.json()["executionId"]
    assert dev.wait_root(execution_id, "big-payload")["status"] == "success"


def test_the_server_is_healthy_after_all_that(dev: DevServer) -> None:
    assert dev.run("ok")["status"] == "success"
    output = dev.output(limit=10**9)
    for sign in ("Traceback", "Exception in ASGI application", "internal error in pingback"):
        assert sign not in output, output[-3000:]


async def test_a_trigger_while_the_emulator_stops_is_503_not_lost(tmp_path: Path) -> None:
    """``Emulator.stop()`` refuses new work first, so nothing is accepted that could be left
    pending; the API says 503 (the random-signal tests in test_signals.py check the history)."""
    from pingback_cli.emulator.host import Emulator
    from pingback_cli.errors import Unavailable
    from pingback_cli.project.config import ProjectConfig

    emulator = Emulator(ProjectConfig(root=tmp_path))
    emulator.stopping = True
    with pytest.raises(Unavailable, match="stopping"):
        emulator.trigger("ok", None, False, 0)

    class Stopping:
        ready = True

        def functions(self) -> list[Any]:
            return []

        def trigger(self, name: str, payload: Any, has_payload: bool, delay: float) -> Any:
            raise Unavailable("the emulator is stopping; nothing new is accepted")

    from pingback_cli.emulator.api import create_app

    transport = httpx.ASGITransport(app=create_app(Stopping()))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(TRIGGER, json={"task": "ok"})
    assert response.status_code == 503
    assert response.json() == {"error": "the emulator is stopping; nothing new is accepted"}
