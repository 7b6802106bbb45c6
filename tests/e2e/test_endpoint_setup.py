"""Endpoint mode explains itself, through the installed command: a setup mistake (an app
that answers 404 with an HTML page, a wrong secret, nothing listening) is retried as the
platform retries it but printed once, repeats collapsed, never with HTML; and a `dev
--endpoint` whose app never registers says what to set."""

from __future__ import annotations

import contextlib
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import FIXTURES, free_port, poll
from loopback import answering
from reliability.helpers import DevServer, kill_workers

WRONG_ROUTE = "/wrong-route"
"""Where the setup-mistake apps are reached: a route that is not the app's Pingback route."""
HTML_404 = (
    b"<!DOCTYPE html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"
)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "durable"
    shutil.copytree(FIXTURES / "durable", target, ignore=shutil.ignore_patterns(".pingback", "__pycache__"))
    yield target
    kill_workers(target)


def drive(project: Path, endpoint: str) -> str:
    """Two executions of a task with 3 retries against ``endpoint``; dev's stdout."""
    return drive_dev(project, endpoint).stdout_path.read_text(encoding="utf-8")


def drive_dev(project: Path, endpoint: str) -> DevServer:
    """:func:`drive`, returning the stopped dev (its output files)."""
    server = DevServer(project, args=("--endpoint", endpoint, "--no-backoff")).start()
    try:
        ids = [server.trigger("flaky") for _ in range(2)]
        for execution_id in ids:
            server.wait_root(execution_id, "flaky")
    finally:
        server.stop(signal.SIGINT)
        server.kill()
    return server


@pytest.mark.parametrize("case", ["html-404", "wrong-secret", "nothing-listening"], ids=lambda case: case)
def test_a_setup_error_prints_once_and_repeats_collapse(project: Path, case: str) -> None:
    needle = {
        "html-404": "answered 404 with no Pingback JSON: is this the route your app serves Pingback on? "
        'body: an HTML page titled "404 Not Found"',
        "wrong-secret": "the app refused the signature (401): the secret does not match",
        "nothing-listening": "is your app running?",
    }[case]
    with contextlib.ExitStack() as stack:
        if case == "html-404":
            endpoint = stack.enter_context(answering(404, HTML_404, "text/html", WRONG_ROUTE))
        elif case == "wrong-secret":
            endpoint = stack.enter_context(
                answering(401, b'{"error": "Invalid signature"}', "application/json", WRONG_ROUTE)
            )
        else:
            endpoint = f"http://127.0.0.1:{free_port()}/api/pingback"
        stdout = drive(project, endpoint)
    live = [line for line in stdout.splitlines() if line[:2].isdigit()]  # timestamped event lines
    assert sum(needle in line for line in live) == 1, stdout
    assert stdout.count(needle[:60]) == 1 + 2, stdout  # and once in each of the two trees' labels
    assert stdout.count("attempts 1–3 failed: same error") == 2, stdout
    assert stdout.count("same error on attempts 2–4") == 2, stdout
    assert stdout.count("same error as ") == 1, stdout
    assert "<html" not in stdout.lower() and "<h1" not in stdout.lower()


def test_dev_endpoint_says_what_to_set_when_the_app_does_not_register(project: Path) -> None:
    with answering(404, HTML_404, "text/html", WRONG_ROUTE) as endpoint:
        server = DevServer(project, args=("--endpoint", endpoint)).start()
        try:
            stdout = server.stdout_path.read_text(encoding="utf-8")
            assert f"PINGBACK_PLATFORM_URL={server.url}" in stdout, stdout
            poll(
                "the registration hint",
                lambda: "has not registered" in server.output(),
                15,
                0.2,
                server.output,
            )
            hint = server.stderr_path.read_text(encoding="utf-8")
            assert f"PINGBACK_PLATFORM_URL={server.url}" in hint
            assert 'platform_url=os.environ.get("PINGBACK_PLATFORM_URL")' in hint
        finally:
            server.kill()


def test_replay_sends_to_an_endpoint(project: Path) -> None:
    from cli_support import run_cli

    first = run_cli(project, "run", "later", "--json")
    assert first.returncode == 0, first.brief()
    answer = b'{"status": "success", "result": "from the app"}'
    with answering(200, answer, "application/json", WRONG_ROUTE) as endpoint:
        again = run_cli(project, "replay", first.json()["executionId"][:8], "--endpoint", endpoint, "--json")
    assert again.returncode == 0, again.brief()
    tree = again.json()
    assert (tree["result"], tree["replayOf"]) == ("from the app", first.json()["executionId"])


HOSTED_APP = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pingback import Pingback

pb = Pingback(api_key="pb_local_dev_api_key", cron_secret="pb_local_dev_cron_secret")  # no platform_url


@pb.task("flaky", retries=3)
def flaky(ctx):
    pb.trigger("later")  # to the SDK's default platform URL: the hosted service


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = pb.handle(body, dict(self.headers))
        import json

        status = answer.pop("_status", 200)
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def test_an_attempt_failing_on_the_hosted_service_gets_one_hint(project: Path, tmp_path: Path) -> None:
    """A real pingback-py app whose handler calls pb.trigger() with no platform_url: the SDK
    goes to its default URL (here through a proxy that refuses, so nothing leaves the
    machine); every attempt fails, and dev says once what to set."""
    import os
    import subprocess
    import sys

    (tmp_path / "hosted_app.py").write_text(HOSTED_APP, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "https_proxy": f"http://127.0.0.1:{free_port()}", "no_proxy": ""}
    app = subprocess.Popen([sys.executable, str(tmp_path / "hosted_app.py"), str(port)], env=env)
    try:
        endpoint = f"http://127.0.0.1:{port}/api/pingback"
        server = drive_dev(project, endpoint)
        stdout = server.stdout_path.read_text(encoding="utf-8")
        everything = stdout + server.stderr_path.read_text(encoding="utf-8")
    finally:
        app.kill()
        app.wait()
    said = "an attempt failed calling the hosted Pingback service"
    assert everything.count(said) == 1, everything
    assert 'platform_url=os.environ.get("PINGBACK_PLATFORM_URL")' in everything
    assert "urlopen error" in stdout  # the attempts' own error, as the app answered it
