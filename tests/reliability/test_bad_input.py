"""Malformed and wrong-typed input to every command and every API route.

Commands answer with one ``error:`` line (maybe a hint), the documented exit code and no
traceback. API routes answer JSON ``{"error": ...}`` with the right status, from a real
``pingback dev`` over HTTP (tests/test_api.py covers the routes in process; this adds what
only a running server shows: deep nesting, bodies past 10 MB, ids in the URL path, ...).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import COMMAND_TIMEOUT, Result, cli_env, pingback_command, run_cli, run_in_process

from pingback_cli.emulator.nest import MAX_BODY_BYTES

from .helpers import HAS_PROC, DevServer, assert_one_error_line, copy_misbehave, dev_server

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="finds leftover worker processes through /proc")

URL = "{url}"
"""Replaced by the shared dev server's URL."""
PORT = "{port}"
DEEP = "[" * 50_000 + "]" * 50_000
"""Deeper than Python's recursion limit, within the platform's 100 kB body limit."""


@dataclass(frozen=True)
class Bad:
    args: tuple[str, ...]
    code: int
    needle: str
    input: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    alone: bool = False
    """Run in a copy of the project of its own: a second `dev` in the shared project would be
    refused by the one-dev-per-project lock before reaching the input under test."""
    installed: bool = False
    """Through the installed command: at least one case of each command, and every case that
    gets as far as importing the project, starting a worker or serving. The others are
    variants of those and run the same Click command in process (``run_in_process``): `run`'s
    refusals before its worker (a bad payload, endpoint or option) included, whose installed
    form tests/e2e/test_head_start.py checks leaves no early-started worker behind, and `dev`'s
    refusals of a host (a bind that fails comes before the worker starts; a port in use and
    0.0.0.0 without a key are installed, here and in test_security.py)."""


CASES = [
    # run: payloads, names, options
    Bad(("run", "ok", "--payload", "{bad"), 2, "payload from --payload is not valid JSON"),
    Bad(("run", "ok", "--payload", ""), 2, "payload from --payload is not valid JSON"),
    Bad(("run", "ok", "--payload", "{'single': 'quotes'}"), 2, "not valid JSON"),
    Bad(("run", "ok", "--payload", DEEP[:4000]), 2, "payload from --payload is"),
    Bad(("run", "ok", "--payload", "@deep.json"), 2, "payload from deep.json is nested too deeply"),
    Bad(("run", "ok", "--payload", "@"), 2, "--payload @ needs a file name"),
    Bad(("run", "ok", "--payload", "@missing.json"), 2, "cannot read payload file missing.json"),
    Bad(("run", "ok", "--payload", "@misbehave"), 2, "cannot read payload file misbehave: Is a directory"),
    Bad(("run", "ok", "--payload", "@binary.json"), 2, "payload file binary.json: it is not UTF-8 text"),
    Bad(("run", "ok", "--payload", "1e999"), 2, "1e999 is too large for a JSON number"),
    Bad(("run", "ok", "--payload", "-"), 2, "payload from stdin is not valid JSON", input="{oops"),
    Bad(("run", "ok", "--payload", '{"a": "\\udce9"}'), 2, "holds a lone UTF-16 surrogate (\\udce9)"),
    Bad(("run", "no-such-function"), 2, 'no cron or task named "no-such-function"', installed=True),
    Bad(("run", "[bold]x[/bold]"), 2, 'no cron or task named "[bold]x[/bold]"', installed=True),
    Bad(("run", ""), 2, 'no cron or task named ""', installed=True),
    Bad(("run", "ok", "--endpoint", "notaurl"), 2, "--endpoint 'notaurl' is not an http(s) URL"),
    Bad(("run", "ok", "--endpoint", "http://[::1"), 2, "is not a URL"),
    Bad(("run", "ok", "--endpoint", "ftp://host/x"), 2, "is not an http(s) URL"),
    Bad(("run", "ok", "--app", "no.such.module"), 3, "cannot find module no.such.module", installed=True),
    Bad(("run", "ok", "--app", "missing.py"), 3, "--app file missing.py does not exist", installed=True),
    Bad(("run", "ok", "--app", "misbehave.client:nothing"), 3, "has no attribute 'nothing'", installed=True),
    Bad(("run", "ok", "--bogus"), 2, "No such option: --bogus"),
    Bad(("run",), 2, "Missing argument"),
    # trigger: payloads, delays, platforms
    Bad(("trigger", "ok", "--payload", "[1,"), 2, "payload from --payload is not valid JSON"),
    Bad(("trigger", "ok", "--payload", '{"n": -1e400}'), 2, "-1e400 is too large for a JSON number"),
    Bad(
        ("trigger", "ok", "--delay", "abc", "--platform-url", URL),
        2,
        'refused (400): Invalid delay format: "abc"',
        installed=True,
    ),
    Bad(
        ("trigger", "ok", "--delay", "0", "--platform-url", URL),
        2,
        "Delay must be a positive number of seconds",
    ),
    Bad(
        ("trigger", "ok", "--delay", "31d", "--platform-url", URL), 2, "exceeds maximum of 2592000s (30 days)"
    ),
    Bad(("trigger", "ok", "--delay", "1.5.3", "--platform-url", URL), 2, 'Invalid delay format: "1.5.3"'),
    Bad(("trigger", "ok", "--delay", "5m30", "--platform-url", URL), 2, 'Invalid delay format: "5m30"'),
    Bad(("trigger", "ok", "--delay", "-5", "--platform-url", URL), 2, 'Invalid delay format: "-5"'),
    Bad(
        ("trigger", "no-such-function", "--platform-url", URL),
        2,
        'Task "no-such-function" not found in this project (404)',
    ),
    Bad(("trigger", "ok", "--platform-url", "http://127.0.0.1:9"), 2, "nothing is listening"),
    Bad(("trigger", "ok", "--platform-url", "notaurl"), 2, "notaurl"),
    Bad(("trigger", "ok", "--platform-url", URL + "/nope"), 2, "has no route POST /api/v1/trigger (404)"),
    # history: limits, statuses, ids
    Bad(("runs", "--limit", "0"), 2, "Invalid value for '--limit'", installed=True),
    Bad(("runs", "--limit", "abc"), 2, "Invalid value for '--limit'"),
    Bad(("runs", "--limit", "100000"), 2, "Invalid value for '--limit'"),
    Bad(("runs", "--status", "bogus"), 2, 'unknown status "bogus"'),
    Bad(("show", "zzz"), 2, '"zzz" is not an execution id', installed=True),
    Bad(("show", ""), 2, '"" is not an execution id'),
    Bad(("show", "../../etc/passwd"), 2, "is not an execution id"),
    Bad(("show", "ab\x01cd"), 2, "is not an execution id"),
    Bad(("show", "0" * 300), 2, "no execution matches"),
    Bad(("show", "fffffffff"), 2, 'no execution matches "fffffffff"'),
    Bad(("show",), 2, "Missing argument"),
    Bad(("replay", "zzz"), 2, '"zzz" is not an execution id'),
    Bad(("replay", "fffffffff"), 2, "no execution matches", installed=True),
    Bad(("replay", "0", "--payload", "{bad"), 2, "not valid JSON"),
    # dev: ports and hosts
    Bad(("dev", "--port", "-1"), 2, "Invalid value for '--port'"),
    Bad(("dev", "--port", "70000"), 2, "Invalid value for '--port'"),
    Bad(("dev", "--port", "abc"), 2, "Invalid value for '--port'", installed=True),
    Bad(("dev", "--port", PORT), 2, "cannot listen on 127.0.0.1:", alone=True, installed=True),
    Bad(
        ("dev", "--host", "0.0.0.0"),
        2,
        "refusing to serve the API on 0.0.0.0 without a secret API key",
        alone=True,
    ),
    Bad(
        ("dev", "--host", "999.1.1.1", "--port", "0"),
        2,
        "cannot listen on 999.1.1.1:0",
        env=(("PINGBACK_API_KEY", "a-real-secret"),),
        alone=True,
    ),
    # the rest
    Bad(("completion", "powershell"), 2, 'no completion script for shell "powershell"', installed=True),
    Bad(("completion",), 2, "Missing argument"),
    Bad(("register", "--platform-url", "http://127.0.0.1:9"), 2, "nothing is listening", installed=True),
    Bad(("check", "--app", "missing.py"), 3, "--app file missing.py does not exist", installed=True),
    Bad(("ls", "--app", "misbehave.client:os"), 3, "is a module, not a Pingback", installed=True),
    Bad(("ls", "--json", "--bogus"), 2, "No such option: --bogus"),
    Bad(("no-such-command",), 2, "No such command", installed=True),
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
def results(
    project: Path, dev: DevServer, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, ...], Result]:
    def where(case: Bad) -> Path:
        return copy_misbehave(tmp_path_factory.mktemp("alone")) if case.alone else project

    def run(case: Bad) -> Result:
        args = tuple(_expand(arg, dev) for arg in case.args)
        return run_cli(where(case), *args, input=case.input, env=dict(case.env))

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {case.args: pool.submit(run, case) for case in CASES if case.installed}
    results = {args: future.result() for args, future in futures.items()}
    for case in CASES:  # after the pool: run_in_process changes the folder and environment
        if case.args not in results:
            args = tuple(_expand(arg, dev) for arg in case.args)
            results[case.args] = run_in_process(where(case), *args, input=case.input, env=dict(case.env))
    return results


@pytest.mark.timeout(600)  # the first builds the whole batch (pytest-timeout counts set-up)
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_a_command_refuses_bad_input_in_one_line(case: Bad, results: dict[tuple[str, ...], Result]) -> None:
    result = results[case.args]
    if result.args and result.args[0] == "dev" and result.stdout:
        # dev prints its stop line even when it could not start; the error is still one line.
        assert "stopped" in result.stdout and "error" not in result.stdout
        result = Result(result.args, result.returncode, "", result.stderr, result.seconds)
    assert_one_error_line(result, case.code, case.needle)


@pytest.mark.parametrize("source", ["stdin", "argv", "stdin, strict PYTHONIOENCODING"])
def test_payload_bytes_that_are_not_utf8_are_refused_at_once(project: Path, source: str) -> None:
    """A Latin-1 byte in the payload, piped or in argv, through the installed command: refused
    before the worker gets it, in one line (it waited out the 30 s timeout, then printed our
    tracebacks from the worker pipe and history; with PYTHONIOENCODING=utf-8, stdin's strict
    decoding raised at once)."""
    raw = b'{"name": "\xe9"}'
    env = {"PYTHONIOENCODING": "utf-8"} if "strict" in source else {}
    completed = subprocess.run(
        [pingback_command(), "run", "ok", "--payload", os.fsdecode(raw) if source == "argv" else "-"],
        cwd=project,
        input=None if source == "argv" else raw,
        stdin=subprocess.DEVNULL if source == "argv" else None,
        capture_output=True,
        env=cli_env(env),
        timeout=COMMAND_TIMEOUT,
    )
    stderr = completed.stderr.decode("utf-8", "replace")
    result = Result(("run", "ok"), completed.returncode, completed.stdout.decode(), stderr, 0.0)
    where = "--payload" if source == "argv" else "stdin"
    assert_one_error_line(result, 2, f"payload from {where} is not UTF-8 text (byte 0xE9)")


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


JSON = {"Content-Type": "application/json"}
"""As every client sends its body (the request guard refuses a write without it: 415)."""
TRIGGER = "/api/v1/trigger"
REGISTER = "/api/v1/register"
EXECUTIONS = "/api/v1/executions"


def _register(entry: Any) -> bytes:
    return json.dumps({"functions": [entry]}).encode()


NOT_FOUND = 'Task "{}" not found in this project'
BAD_CRON = 'Invalid cron expression for "x": {}'

REQUESTS = [
    # malformed bodies (body-parser's 400s)
    BadRequest("POST", TRIGGER, 400, "not valid JSON", b"{bad"),
    BadRequest("POST", TRIGGER, 400, "not valid JSON", b"\xff\xfe\x00"),
    BadRequest("POST", TRIGGER, 400, "nested too deeply", DEEP.encode()),
    BadRequest("POST", TRIGGER, 400, "nested too deeply", b'{"task": "ok", "payload": %s}' % DEEP.encode()),
    BadRequest("POST", TRIGGER, 400, "must be a JSON object or array", b'"ok"'),
    BadRequest("POST", REGISTER, 400, "not valid JSON", b"{bad"),
    BadRequest("POST", REGISTER, 400, "must be a JSON object or array", b"42"),
    # missing fields and wrong types: the task is looked up first
    BadRequest("POST", TRIGGER, 404, NOT_FOUND.format("undefined"), b""),
    BadRequest("POST", TRIGGER, 404, NOT_FOUND.format("undefined"), b'["ok"]'),
    BadRequest.json("POST", TRIGGER, 404, NOT_FOUND.format("undefined"), {}),
    BadRequest.json("POST", TRIGGER, 404, NOT_FOUND.format("5"), {"task": 5}),
    BadRequest.json("POST", TRIGGER, 404, NOT_FOUND.format(""), {"task": ""}),
    BadRequest.json("POST", TRIGGER, 404, NOT_FOUND.format("nope"), {"task": "nope", "delay": "abc"}),
    BadRequest.json("POST", REGISTER, 400, "functions must be an array", {}),
    BadRequest.json("POST", REGISTER, 400, "functions must be an array", {"functions": "ok"}),
    BadRequest.json("POST", REGISTER, 400, "must be either object or array", {"functions": ["ok"]}),
    BadRequest("POST", REGISTER, 400, "functions.0.name must be a string", _register({"type": "task"})),
    BadRequest(
        "POST", REGISTER, 400, "functions.0.name must be a string", _register({"name": 5, "type": "task"})
    ),
    BadRequest(
        "POST",
        REGISTER,
        400,
        "type must be one of the following values",
        _register({"name": "x", "type": "job"}),
    ),
    BadRequest(
        "POST",
        REGISTER,
        400,
        "must be either object or array",
        _register({"name": "x", "type": "task", "options": 5}),
    ),
    # invalid delays, with the platform's messages (parse-delay.ts)
    *(
        BadRequest("POST", TRIGGER, 400, needle, b'{"task": "ok", "delay": ' + raw + b"}")
        for raw, needle in [
            (b'"abc"', 'Invalid delay format: "abc"'),
            (b"0", "Delay must be a positive number of seconds"),
            (b"-1", "Delay must be a positive number of seconds"),
            (b'"31d"', "Delay of 2678400s exceeds maximum"),
            (b"1e20", "Delay of 100000000000000000000s exceeds maximum"),
            (b'"99999999999999999999999s"', "Delay of 1e+23s exceeds maximum"),
            (b"1e400", "Delay of Infinitys exceeds maximum"),
            (b'"1.5s"', 'Invalid delay format: "1.5s"'),
            (b"true", 'Invalid delay format: "true"'),
            (b'{"s": 1}', 'Invalid delay format: "[object Object]"'),
        ]
    ),
    BadRequest("POST", TRIGGER, 400, "not valid JSON", b'{"task": "ok", "delay": NaN}'),
    # invalid schedules and options: only the checks the platform makes
    *(
        BadRequest("POST", REGISTER, 400, needle, _register({"name": "x", **entry}))
        for entry, needle in [
            ({"type": "cron", "schedule": "bad"}, BAD_CRON.format("bad")),
            ({"type": "cron", "schedule": "61 * * * *"}, BAD_CRON.format("61 * * * *")),
            ({"type": "cron", "schedule": 5}, "functions.0.schedule must be a string"),
            ({"type": "task", "options": {"timeout": 5}}, "functions.0.options.timeout must be a string"),
            (
                {"type": "task", "options": {"retries": "2"}},
                "functions.0.options.retries must be an integer number",
            ),
            (
                {"type": "task", "options": {"retries": -1}},
                "functions.0.options.retries must not be less than 0",
            ),
            ({"type": "task", "options": {"concurrency": 0}}, "concurrency must not be less than 1"),
            ({"type": "task", "options": {"concurrency": True}}, "concurrency must be an integer number"),
        ]
    ),
    # invalid ids and query parameters
    BadRequest("GET", f"{EXECUTIONS}/zzz/tree", 400, '"zzz" is not an execution id'),
    BadRequest("GET", f"{EXECUTIONS}/%00/tree", 400, "is not an execution id"),
    BadRequest("GET", f"{EXECUTIONS}/{'a' * 5000}/tree", 404, "no execution matches"),
    BadRequest("GET", f"{EXECUTIONS}/00000000-0000-0000-0000-000000000000", 404, "Execution not found"),
    BadRequest("GET", f"{EXECUTIONS}?limit=abc", 400, "limit must be a whole number from 1 to 1000"),
    BadRequest("GET", f"{EXECUTIONS}?limit=0", 400, "limit must be a whole number from 1 to 1000"),
    BadRequest("GET", f"{EXECUTIONS}?limit=-5", 400, "limit must be a whole number from 1 to 1000"),
    BadRequest("GET", f"{EXECUTIONS}?limit=1001", 400, "limit must be a whole number from 1 to 1000"),
    BadRequest("GET", f"{EXECUTIONS}?status=bogus", 400, 'unknown status "bogus"'),
    BadRequest("GET", "/api/v1/jobs/nope", 404, "Job not found"),
    BadRequest.json("PATCH", "/api/v1/jobs/nope", 404, "Job not found", {"status": "paused"}),
    # unknown routes and methods: Express's 404, never a 405
    BadRequest("GET", "/api/v1/nope", 404, "Cannot GET /api/v1/nope"),
    BadRequest("GET", "/nope", 404, "Cannot GET /nope"),  # "/" is the dashboard's (issue 15)
    BadRequest("GET", f"{EXECUTIONS}/a/b", 404, "Cannot GET /api/v1/executions/a/b"),
    BadRequest("GET", TRIGGER, 404, "Cannot GET /api/v1/trigger"),
    BadRequest("DELETE", TRIGGER, 404, "Cannot DELETE /api/v1/trigger"),
    BadRequest("PUT", REGISTER, 404, "Cannot PUT /api/v1/register"),
    BadRequest("POST", "/api/v1/functions", 404, "Cannot POST /api/v1/functions"),
    BadRequest("PATCH", EXECUTIONS, 404, "Cannot PATCH /api/v1/executions"),
]


def request_id(request: BadRequest) -> str:
    body = (request.body or b"")[:30].decode("utf-8", "replace")
    return f"{request.method} {request.path[:40]} {body}".strip()


@pytest.mark.parametrize("request_", REQUESTS, ids=request_id)
def test_an_api_route_refuses_bad_input_with_a_json_error(request_: BadRequest, dev: DevServer) -> None:
    response = dev.http.request(request_.method, request_.path, content=request_.body, headers=JSON)
    assert response.status_code == request_.status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["message"]
    text = " / ".join(error) if isinstance(error, list) else error
    assert isinstance(text, str) and request_.needle in text, error


@pytest.mark.parametrize("size", [MAX_BODY_BYTES + 1, 3 * MAX_BODY_BYTES])
def test_an_oversized_body_is_413_and_the_server_keeps_serving(dev: DevServer, size: int) -> None:
    body = b'{"task": "ok", "payload": "' + b"x" * (size - 28) + b'"}'
    response = dev.http.post(TRIGGER, content=body, headers=JSON)
    assert response.status_code == 413, response.text[:300]
    assert response.json() == {"statusCode": 413, "message": "request entity too large"}

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield b'{"task": "ok", "payload": "'
        for _ in range(size // (1 << 20) + 1):
            yield b"y" * (1 << 20)
        yield b'"}'

    streamed = httpx.post(dev.url + TRIGGER, content=chunks(), headers=JSON, timeout=30)
    assert streamed.status_code == 413
    assert dev.run("ok")["status"] == "success"


def test_a_body_just_under_the_limit_is_accepted(dev: DevServer) -> None:
    prefix, suffix = b'{"task": "big-payload", "payload": {"data": "', b'"}}'
    body = prefix + b"z" * (MAX_BODY_BYTES - len(prefix) - len(suffix)) + suffix
    assert len(body) == MAX_BODY_BYTES
    response = dev.http.post(TRIGGER, content=body, headers=JSON)
    assert response.status_code == 201, response.text
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
        emulator.submit("ok", trigger="trigger")

    class Stopping:
        ready = True

        def functions(self) -> list[Any]:
            return []

        def knows(self, name: str) -> bool:
            return True

        def trigger(self, name: str, payload: Any, has_payload: bool, delay: float) -> Any:
            raise Unavailable("the emulator is stopping; nothing new is accepted")

    from pingback_cli.emulator.api import create_app

    transport = httpx.ASGITransport(app=create_app(Stopping()))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post(TRIGGER, json={"task": "ok"})
    assert response.status_code == 503
    assert response.json() == {
        "message": "the emulator is stopping; nothing new is accepted",
        "error": "Service Unavailable",
        "statusCode": 503,
    }
