"""Endpoint mode explains itself, through the installed command: a setup mistake (an app
that answers 404 with an HTML page, a wrong secret, nothing listening) is retried as the
platform retries it but printed once, repeats collapsed, never with HTML; a `dev --endpoint`
whose app answers without registering with it says what to set, and one whose app registered
with the dev before says nothing."""

from __future__ import annotations

import contextlib
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import FIXTURES, SETTLE, free_port, poll, record_tree
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


SERVE_ON_ARGV_PORT = """

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = pb.handle(body, dict(self.headers))
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
"""The end of an app script: serve ``pb.handle`` on the port in argv[1] (needs json, sys and
http.server's names imported above it)."""

SDK_APP = (
    """
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pingback import Pingback

pb = Pingback(api_key="pb_local_dev_api_key", cron_secret="devsecret", platform_url=sys.argv[2])


@pb.task("kicks-later")
def kicks_later(ctx):
    pb.trigger("later")


@pb.task("later")
def later(ctx):
    return "ran"


@pb.task("boom")
def boom(ctx):
    raise RuntimeError("boom")

"""
    + SERVE_ON_ARGV_PORT
)
"""A real pingback-py app (argv: its port, its platform_url): it registers once per process, on
the first request it handles."""


@contextlib.contextmanager
def sdk_app(tmp_path: Path, platform_url: str) -> Iterator[str]:
    """:data:`SDK_APP` running; yields its endpoint."""
    import subprocess
    import sys

    (tmp_path / "sdk_app.py").write_text(SDK_APP, encoding="utf-8")
    port = free_port()
    app = subprocess.Popen([sys.executable, str(tmp_path / "sdk_app.py"), str(port), platform_url])
    try:
        poll("the app", lambda: _listening(port), SETTLE, 0.1)
        yield f"http://127.0.0.1:{port}/api/pingback"
    finally:
        app.kill()
        app.wait()


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def dev_on(project: Path, port: int, endpoint: str, name: str) -> DevServer:
    """A `dev --endpoint` on ``port`` (the one the app's platform_url names), output in ``name``.*."""
    import httpx

    server = DevServer(project, args=("--endpoint", endpoint, "--secret", "devsecret"))
    server.http.close()
    server.port, server.url = port, f"http://127.0.0.1:{port}"
    server.http = httpx.Client(base_url=server.url, timeout=30)
    server.stdout_path, server.stderr_path = (
        project.parent / f"{name}.{part}" for part in ("stdout", "stderr")
    )
    return server.start()


@pytest.mark.long(7)
def test_an_app_registered_with_the_dev_before_gets_no_warning(project: Path, tmp_path: Path) -> None:
    """New-user finding 8: the app registered with the `dev` before this one (the SDK registers
    once per process), then this dev starts on the same port: its attempts and pb.trigger() calls
    work, so nothing says it is not registered; the banner has every line of worker mode."""
    import time

    port = free_port()
    with sdk_app(tmp_path, f"http://127.0.0.1:{port}") as endpoint:
        first = dev_on(project, port, endpoint, "first")
        try:
            first.run("kicks-later")
        finally:
            first.stop()
            first.kill()
        second = dev_on(project, port, endpoint, "second")
        started = time.monotonic()  # ready: the old warning came 5 s after this
        try:
            tree = second.run("kicks-later")
            assert tree["status"] == "success", tree
            rows = lambda: second.http.get("/api/v1/executions", params={"function": "later"}).json()  # noqa: E731
            poll("a later on each dev", lambda: len(rows()) == 2, SETTLE, 0.2, rows)  # the app's triggers
            boom = second.trigger("boom")
            second.wait_root(boom, "boom")
            time.sleep(max(0.0, started + 6 - time.monotonic()))  # past the 5 s the old warning waited
            stdout, stderr = (
                path.read_text(encoding="utf-8") for path in (second.stdout_path, second.stderr_path)
            )
        finally:
            second.kill()
    assert "not registered" not in stdout + stderr, stderr
    for label in ("API", "dashboard", "endpoint", "reload", "history", "times"):
        assert f"\n  {label} " in stdout, stdout
    assert f"dashboard {second.url}/" in stdout, stdout


def test_an_app_answering_without_registering_here_gets_one_true_hint(project: Path, tmp_path: Path) -> None:
    """The app's SDK registers elsewhere (here: a platform_url nobody serves, like the hosted
    service) and its handler fails: dev says once what it knows and what to set."""
    with sdk_app(tmp_path, f"http://127.0.0.1:{free_port()}") as endpoint:
        server = DevServer(project, args=("--endpoint", endpoint, "--secret", "devsecret")).start()
        try:
            assert "not registered" not in server.output()  # no attempt yet: nothing is known
            for _ in range(2):
                server.wait_root(server.trigger("boom"), "boom")
            poll("the hint", lambda: "has not registered" in server.output(), SETTLE, 0.2, server.output)
            hint = server.stderr_path.read_text(encoding="utf-8")
        finally:
            server.kill()
    assert hint.count("has not registered with this dev") == 1, hint
    assert "restart the app to register here" in hint
    assert f"PINGBACK_PLATFORM_URL={server.url}" in hint
    assert 'platform_url=os.environ.get("PINGBACK_PLATFORM_URL")' in hint


def test_replay_sends_to_an_endpoint(project: Path) -> None:
    from cli_support import run_cli

    first = record_tree(project, "later")  # a run of later in history
    answer = b'{"status": "success", "result": "from the app"}'
    with answering(200, answer, "application/json", WRONG_ROUTE) as endpoint:
        again = run_cli(project, "replay", first[:8], "--endpoint", endpoint, "--json")
    assert again.returncode == 0, again.brief()
    tree = again.json()
    assert (tree["result"], tree["replayOf"]) == ("from the app", first)


HOSTED_APP = (
    """
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pingback import Pingback

pb = Pingback(api_key="pb_local_dev_api_key", cron_secret="pb_local_dev_cron_secret")  # no platform_url


@pb.task("flaky", retries=3)
def flaky(ctx):
    pb.trigger("later")  # to the SDK's default platform URL: the hosted service

"""
    + SERVE_ON_ARGV_PORT
)


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
        poll("the app", lambda: _listening(port), SETTLE, 0.1)
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
