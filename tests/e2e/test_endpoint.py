"""Endpoint mode end to end: real apps on loopback (Flask with pingback-py, a Node.js server),
driven by the real ``pingback run --endpoint`` and ``pingback dev --endpoint``; JS/TS discovery;
and ``pingback register`` against a running emulator and a fake platform."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import (
    SETTLE,
    cli_env,
    free_port,
    pingback_command,
    poll,
    run_cli,
    run_in_process,
    source_of,
    walk,
)
from loopback import QuietHandler, serving

from .conftest import assert_clean_exit, copy_project

FLASK_SECRET = "flask-fixture-secret"
NODE_SECRET = "node-fixture-secret"
STARTUP_TIMEOUT = 30.0


@dataclass
class Process:
    """A background process of this test, with its output in a file."""

    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, wait: float = 10.0) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(wait)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        return self.popen.returncode


@pytest.fixture
def processes() -> Iterator[Callable[..., Process]]:
    """Start background processes; every one is stopped when the test ends."""
    started: list[Process] = []

    def start(args: list[str], cwd: Path, env: dict[str, str], log: Path) -> Process:
        handle = log.open("wb")
        try:
            popen = subprocess.Popen(
                args,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            handle.close()
        process = Process(popen, log)
        started.append(process)
        return process

    yield start
    for process in reversed(started):
        process.stop()


def wait_until(ready: Callable[[], bool], process: Process, what: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            pytest.fail(f"{what} exited with {process.popen.returncode}:\n{process.output()}")
        try:
            if ready():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.05)
    pytest.fail(f"{what} did not start within {STARTUP_TIMEOUT:.0f}s:\n{process.output()}")


def listening(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


@dataclass
class App:
    url: str
    process: Process


@dataclass
class Dev:
    api: str
    process: Process

    def get(self, path: str) -> Any:
        response = httpx.get(self.api + path, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()

    def trigger(self, name: str, payload: Any = None) -> str:
        body: dict[str, Any] = {"task": name}
        if payload is not None:
            body["payload"] = payload
        response = httpx.post(self.api + "/api/v1/trigger", json=body, timeout=10)
        assert response.status_code == 201, response.text
        return str(response.json()["executionId"])

    def finished_tree(self, execution_id: str, timeout: float = 20) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            tree = self.get(f"/api/v1/executions/{execution_id}/tree")
            if all(node["status"] in ("success", "failed", "interrupted") for node in walk(tree)):
                return tree
            if time.monotonic() > deadline:
                pytest.fail(f"execution {execution_id} did not finish: {json.dumps(tree)[:2000]}")
            time.sleep(0.05)

    def stop(self) -> str:
        self.process.stop(signal.SIGINT)
        return self.process.output()


def start_dev(
    start: Callable[..., Process],
    project: Path,
    endpoint: str,
    secret: str,
    log: Path,
    *,
    reload: bool = False,
) -> Dev:
    port = free_port()
    env = cli_env({"PINGBACK_CRON_SECRET": secret, "COLUMNS": "200"})
    args = [pingback_command(), "dev", "--endpoint", endpoint, "--port", str(port), "--no-backoff"]
    process = start(args if reload else [*args, "--no-reload"], project, env, log)
    dev = Dev(f"http://127.0.0.1:{port}", process)
    wait_until(lambda: httpx.get(dev.api + "/api/v1/functions", timeout=1).status_code == 200, process, "dev")
    return dev


def by_function(tree: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for node in walk(tree):
        found.setdefault(node["function"], []).append(node)
    return found


@dataclass
class FakePlatform:
    url: str
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    answer: tuple[int, Any] = (201, {"jobs": []})


@contextlib.contextmanager
def fake_platform() -> Iterator[FakePlatform]:
    """A platform that records every registration and answers ``answer`` (401 unless the key
    is ``good-key``, with the platform's body)."""
    fake = FakePlatform("")

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            fake.requests.append((self.path, dict(self.headers.items()), body))
            status, data = fake.answer
            if self.headers.get("Authorization") != "Bearer good-key":
                # the platform's body (api-key.strategy.ts:41, NestJS's HttpException)
                status, data = 401, {"message": "Invalid API key", "error": "Unauthorized", "statusCode": 401}
            self.send_json(status, data)

    with serving(Handler) as fake.url:
        yield fake


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    with fake_platform() as fake:
        yield fake


@pytest.fixture(scope="module")
def sdk_platform() -> Iterator[FakePlatform]:
    """Where the module's Flask app registers (pingback-py does it at start-up): what it sent."""
    with fake_platform() as fake:
        yield fake


# --- pingback run --endpoint, against Flask ---------------------------------------------


@pytest.fixture(scope="module")
def flask_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project("flaskapp", tmp_path_factory.mktemp("flask"))


@pytest.fixture(scope="module")
def flask_app(
    flask_project: Path, sdk_platform: FakePlatform, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[App]:
    log = tmp_path_factory.mktemp("logs") / "flask.log"
    port = free_port()
    env = cli_env({"PINGBACK_API_KEY": "pb_flask_key", "PINGBACK_CRON_SECRET": FLASK_SECRET})
    env["PINGBACK_PLATFORM_URL"] = sdk_platform.url
    handle = log.open("wb")
    popen = subprocess.Popen(
        [sys.executable, "shop.py", str(port)],
        cwd=flask_project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    handle.close()
    process = Process(popen, log)
    try:
        wait_until(lambda: listening(port), process, "the Flask app")
        yield App(f"http://127.0.0.1:{port}/api/pingback", process)
    finally:
        process.stop()


def test_run_drives_a_flask_app_through_a_fan_out_chain_with_a_retried_step(
    flask_project: Path, flask_app: App
) -> None:
    result = run_cli(
        flask_project,
        "run",
        "place-order",
        "--payload",
        '{"order": "o-1", "customer": "linus"}',
        "--endpoint",
        flask_app.url,
        "--no-backoff",
        "--json",
        env={"PINGBACK_CRON_SECRET": FLASK_SECRET},
    )
    assert_clean_exit(result, 0)
    tree = result.json()
    nodes = by_function(tree)
    assert tree["function"] == "place-order" and tree["result"] == {"order": "o-1"}
    assert sorted(nodes) == ["charge-card", "email-user", "place-order", "ship-order"]
    assert all(node["status"] == "success" for node in walk(tree))
    [charge] = nodes["charge-card"]
    assert [a["status"] for a in charge["attempts"]] == ["failed", "success"]
    assert charge["attempts"][0]["error"] == "HTTP 500: card declined, try again"
    assert charge["attempts"][0]["httpStatus"] == 500
    assert charge["result"] == {"charged": 42}
    [ship] = nodes["ship-order"]
    assert ship["parentId"] == charge["executionId"]
    assert [log["message"] for log in ship["logs"]] == ["shipping"]
    [email] = nodes["email-user"]
    assert len(email["attempts"]) == 2 and email["result"] == {"sent": "linus"}
    # Discovery read the project without running it, so the options are the app's own.
    assert "not among the functions found" not in result.stderr

    history = run_in_process(flask_project, "show", tree["executionId"], "--json")
    assert_clean_exit(history, 0)
    assert len(walk(history.json())) == 4


def test_run_with_the_wrong_secret_says_so(flask_project: Path, flask_app: App) -> None:
    result = run_cli(flask_project, "run", "ship-order", "--endpoint", flask_app.url, "--secret", "wrong")
    assert_clean_exit(result, 1)
    assert "the secret does not match the app's PINGBACK_CRON_SECRET" in result.stdout
    assert "(app said: unauthorized: Signature mismatch)" in result.stdout


def test_run_against_a_stopped_app_asks_if_it_is_running(flask_project: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/pingback"
    result = run_cli(flask_project, "run", "ship-order", "--endpoint", url, "--json")
    assert_clean_exit(result, 1)
    tree = result.json()
    assert tree["status"] == "failed"
    assert tree["error"] == f"nothing is listening at {url}: is your app running?"


def test_run_forwards_an_unknown_name_and_reports_the_apps_404(flask_project: Path, flask_app: App) -> None:
    result = run_cli(
        flask_project,
        "run",
        "no-such-task",
        "--endpoint",
        flask_app.url,
        "--json",
        env={"PINGBACK_CRON_SECRET": FLASK_SECRET},
    )
    assert_clean_exit(result, 1)
    assert result.json()["error"] == 'HTTP 404: the app has no function named "no-such-task" (404)'
    assert '"no-such-task" is not among the functions found in the project' in result.stderr


# --- pingback dev --endpoint, against Flask -------------------------------------------


def test_dev_drives_a_flask_app_triggers_crons_and_fan_out(
    flask_project: Path, flask_app: App, processes: Callable[..., Process], tmp_path: Path
) -> None:
    dev = start_dev(processes, flask_project, flask_app.url, FLASK_SECRET, tmp_path / "dev.log")
    functions = {f["name"]: f for f in dev.get("/api/v1/functions")}
    digest = functions["nightly-digest"]
    assert (digest["type"], digest["schedule"], digest["retries"]) == ("cron", "* * * * *", 1)
    assert digest["nextRunAt"] is not None
    assert functions["email-user"]["source"] == source_of(flask_project, "shop.py", '@pb.task("email-user"')

    task = dev.finished_tree(dev.trigger("email-user", {"user": "linus"}))
    assert task["status"] == "success" and len(task["attempts"]) == 2
    assert task["attempts"][0]["error"] == "HTTP 500: smtp hiccup"

    cron = dev.finished_tree(dev.trigger("nightly-digest"))
    assert cron["status"] == "success" and cron["result"] == {"queued": 2}
    children = cron["children"]
    assert sorted(child["payload"]["user"] for child in children) == ["ada", "linus"]
    assert all(child["status"] == "success" and child["function"] == "email-user" for child in children)

    output = dev.stop()
    assert f"endpoint  {flask_app.url}" in output
    assert "nightly-digest" in output and "Every minute" in output
    assert "Traceback" not in output


def test_dev_learns_functions_the_app_registers(processes: Callable[..., Process], tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    app_port = free_port()
    url = f"http://127.0.0.1:{app_port}/api/pingback"
    dev = start_dev(processes, empty, url, FLASK_SECRET, tmp_path / "dev.log")
    assert dev.get("/api/v1/functions") == []

    # The app starts after the emulator and registers with it, as pingback-py does.
    project = copy_project("flaskapp", tmp_path)
    env = cli_env({"PINGBACK_API_KEY": "pb_flask_key", "PINGBACK_CRON_SECRET": FLASK_SECRET})
    env["PINGBACK_PLATFORM_URL"] = dev.api
    app = processes([sys.executable, "shop.py", str(app_port)], project, env, tmp_path / "flask.log")
    wait_until(lambda: listening(app_port), app, "the Flask app")

    functions = {f["name"]: f for f in dev.get("/api/v1/functions")}
    assert sorted(functions) == ["charge-card", "email-user", "nightly-digest", "place-order", "ship-order"]
    assert functions["charge-card"]["retries"] == 2 and functions["charge-card"]["source"] == "registered"
    tree = dev.finished_tree(dev.trigger("place-order", {"order": "o-2", "customer": "ada"}))
    assert [node["status"] for node in walk(tree)] == ["success"] * 4

    output = dev.stop()
    assert "found no functions in the project" in output


# --- a Next.js-style project: discovery, and a Node.js app ------------------------------


@pytest.fixture(scope="module")
def nextapp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project("nextapp", tmp_path_factory.mktemp("next"))


NEXT_FUNCTIONS = [  # in file order, as the scan reports them
    ("cleanup-sessions", "task", None, 0, "2m", 1, "lib/pingback/cleanup.cjs", "defineTask("),
    ("send-emails", "cron", "* * * * *", 1, "60s", 1, "lib/pingback/emails.ts", "sendEmails = cron("),
    ("send-email", "task", None, 2, "15s", 3, "lib/pingback/emails.ts", "task<{ id: string }>("),
    ("weekly-report", "cron", "0 9 * * 1", 0, None, 2, "lib/pingback/reports.ts", "pingback.cron("),
]


def test_ls_lists_what_the_js_scan_found(nextapp: Path) -> None:
    result = run_cli(nextapp, "ls", "--json")
    assert_clean_exit(result, 0)
    listed = [
        (f["name"], f["type"], f["schedule"], f["retries"], f["timeout"], f["concurrency"], f["source"])
        for f in result.json()
    ]
    expected = [(*entry[:6], source_of(nextapp, entry[6], entry[7])) for entry in NEXT_FUNCTIONS]
    expected.sort(key=lambda entry: (entry[1] != "cron", entry[0]))  # ls's order: crons, then tasks
    assert listed == expected
    skipped = source_of(nextapp, "lib/pingback/reports.ts", "pingback.task(NAME")
    assert f"warning: {skipped}: task() skipped: the name is not a string literal: NAME" in result.stderr

    table = run_in_process(nextapp, "ls")
    assert_clean_exit(table, 0)
    assert "lib/pingback/emails.ts:" in table.stdout and "helper-only" not in table.stdout

    # With no pyproject.toml anywhere up, package.json marks the project root.
    nested = run_in_process(nextapp / "lib" / "pingback", "ls", "--json")
    assert_clean_exit(nested, 0)
    assert [f["source"] for f in nested.json()] == [entry[-1] for entry in expected]


def test_dev_drives_a_node_app(processes: Callable[..., Process], tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the Node.js fixture app cannot run")
    nextapp = copy_project("nextapp", tmp_path)
    port = free_port()
    env = cli_env({"PINGBACK_CRON_SECRET": NODE_SECRET})
    app = processes([node, "server.mjs", str(port)], nextapp, env, tmp_path / "node.log")
    wait_until(lambda: listening(port), app, "the Node.js app")
    url = f"http://127.0.0.1:{port}/api/pingback"
    dev = start_dev(processes, nextapp, url, NODE_SECRET, tmp_path / "dev.log", reload=True)

    functions = {f["name"]: f for f in dev.get("/api/v1/functions")}
    assert functions["send-email"]["source"] == source_of(nextapp, "lib/pingback/emails.ts", "task<{")
    tree = dev.finished_tree(dev.trigger("send-emails"))
    assert tree["status"] == "success" and tree["result"] == {"dispatched": 2}
    assert [log["message"] for log in tree["logs"]] == ["Dispatched 2 emails"]
    children = tree["children"]
    assert sorted(child["payload"]["id"] for child in children) == ["e1", "e2"]
    for child in children:
        assert child["status"] == "success" and len(child["attempts"]) == 2
        said = f'SMTP said no to {child["payload"]["id"]}, "try again"'
        assert child["attempts"][0]["error"] == f"HTTP 500: {said}"

    # The emulator plays the platform for `pingback register` too: known functions update.
    # (found without --platform-url: the running dev announces its API in the project)
    registered = run_cli(nextapp, "register", "--json")
    assert_clean_exit(registered, 0)
    assert registered.json()["platformUrl"] == dev.api
    jobs = registered.json()["jobs"]
    assert {job["name"]: job["status"] for job in jobs} == {name: "active" for name, *_ in NEXT_FUNCTIONS}

    report = dev.finished_tree(dev.trigger("weekly-report"))
    assert report["status"] == "success"

    # Saving a scanned file scans again: the new task is known, with its options.
    with (nextapp / "lib/pingback/reports.ts").open("a", encoding="utf-8") as source:
        source.write('\nexport const later = pingback.task("added-later", async () => 1, { retries: 4 });\n')
    wait_until(
        lambda: "added-later" in {f["name"] for f in dev.get("/api/v1/functions")}, dev.process, "rescan"
    )
    added = {f["name"]: f for f in dev.get("/api/v1/functions")}["added-later"]
    assert (added["retries"], added["source"]) == (4, "lib/pingback/reports.ts:14")
    assert "added: added-later" in dev.stop()


# --- pingback register ------------------------------------------------------------------


def test_register_sends_what_the_sdk_sends(
    flask_project: Path, flask_app: App, sdk_platform: FakePlatform, platform: FakePlatform
) -> None:
    project = flask_project
    # pingback-py registered itself when the module's app started: its body.
    poll(
        "the Flask app's registration",
        lambda: sdk_platform.requests,
        SETTLE,
        explain=flask_app.process.output,
    )
    sdk_path, _, sdk_body = sdk_platform.requests[0]
    assert sdk_path == "/api/v1/register"

    dry = run_in_process(project, "register", "--dry-run", "--endpoint-url", "https://shop.test/api/pingback")
    assert_clean_exit(dry, 0)
    ours = dry.json()
    assert ours == {"functions": sdk_body["functions"], "endpoint_url": "https://shop.test/api/pingback"}

    platform.requests.clear()
    platform.answer = (
        201,
        {
            "jobs": [
                {"name": "nightly-digest", "status": "active"},
                {"name": "email-user", "status": "active"},
            ]
        },
    )
    sent = run_cli(project, "register", "--platform-url", platform.url, "--api-key", "good-key")
    assert_clean_exit(sent, 0)
    assert platform.requests[0][2] == {"functions": sdk_body["functions"]}
    assert sent.stdout.splitlines() == [
        f"the platform at {platform.url}",
        "active  nightly-digest",
        "active  email-user",
        f"registered 2 functions with {platform.url}",
    ]


@pytest.mark.parametrize(
    ("key", "answer", "line"),
    [
        (
            "bad-key",
            (201, {"jobs": []}),
            "error: the platform at {url} refused the API key (401): Invalid API key",
        ),
        (
            "good-key",
            (
                400,
                {
                    "message": 'Invalid cron expression for "send-emails": x',
                    "error": "Bad Request",
                    "statusCode": 400,
                },
            ),
            'error: the platform at {url} refused (400): Invalid cron expression for "send-emails": x',
        ),
    ],
)
def test_register_reports_platform_errors_in_one_line(
    nextapp: Path, platform: FakePlatform, key: str, answer: tuple[int, Any], line: str
) -> None:
    platform.answer = answer
    # the refused key through the installed command; the refused body, its Click command in process
    run = run_cli if key == "bad-key" else run_in_process
    result = run(nextapp, "register", "--platform-url", platform.url, "--api-key", key)
    assert_clean_exit(result, 2)
    errors = [text for text in result.stderr.splitlines() if text.startswith("error:")]
    assert errors == [line.format(url=platform.url)]
    [(path, headers, body)] = platform.requests
    assert path == "/api/v1/register" and headers["Authorization"] == f"Bearer {key}"
    assert [entry["name"] for entry in body["functions"]] == [name for name, *_ in NEXT_FUNCTIONS]
    assert body["functions"][1] == {
        "name": "send-emails",
        "type": "cron",
        "options": {"retries": 1, "timeout": "60s", "concurrency": 1},
        "schedule": "* * * * *",
    }
