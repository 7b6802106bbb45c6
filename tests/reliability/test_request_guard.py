"""The request guard in front of a real `pingback dev` (``emulator/guard.py``): a foreign
``Host`` is refused on every route, API and dashboard alike (DNS rebinding); a request from
another origin and an API write whose body is not declared JSON run nothing (CSRF); the SDK,
`pingback trigger`, curl-style JSON and the dashboard's own requests still work."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from cli_support import http_client, run_in_process

from .helpers import (
    HAS_PROC,
    DevServer,
    copy_misbehave,
    dev_server,
    history_rows,
    kill_workers,
    listening_addresses,
)

NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"
WRITES = [
    ("POST", "/api/v1/trigger", {"task": "ok"}),
    ("POST", "/api/v1/register", {"functions": [{"name": "registered-here", "type": "task"}]}),
    ("PATCH", "/api/v1/jobs/JOB", {"status": "paused"}),
    ("DELETE", "/api/v1/jobs/JOB", None),
    ("POST", f"/api/v1/executions/{NO_SUCH_ID}/cancel", None),
    ("POST", f"/api/v1/executions/{NO_SUCH_ID}/retry", None),
]
READS = [
    "/api/v1/functions",
    "/api/v1/executions",
    f"/api/v1/executions/{NO_SUCH_ID}",
    f"/api/v1/executions/{NO_SUCH_ID}/tree",
    "/api/v1/jobs",
    "/api/v1/jobs/JOB",
    "/api/v1/jobs/JOB/executions",
    "/__worker/api/v1/functions",
    "/",
    "/functions",
    "/api",
    "/events",
    "/static/app.js",
    "/no-such-page",
]


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    project = copy_misbehave(tmp_path_factory.mktemp("guard"))
    with dev_server(project) as server:
        yield server
    kill_workers(project)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """A plain client without the dev's defaults."""
    with http_client(timeout=10) as client:
        yield client


def _job_id(dev: DevServer) -> str:
    jobs = dev.http.get("/api/v1/jobs").json()
    return str(jobs[0]["id"])


def _triggers_of_ok(dev: DevServer) -> list[dict[str, Any]]:
    return [row for row in history_rows(dev.project) if row["function"] == "ok"]


@pytest.mark.skipif(not HAS_PROC, reason="reads the listening sockets from /proc/net/tcp")
def test_the_api_listens_on_loopback_by_default(dev: DevServer) -> None:
    """Before any guard, the first line of defence: nothing beyond this machine reaches it."""
    assert listening_addresses(dev.port) == {f"127.0.0.1:{dev.port}"}
    # The whole output: the header is above a function table taller than output()'s excerpt.
    assert f"API       http://127.0.0.1:{dev.port}" in dev.output(limit=1_000_000)


def test_a_foreign_host_is_refused_on_every_route(dev: DevServer, client: httpx.Client) -> None:
    job = _job_id(dev)
    foreign = {"Host": f"evil.example.com:{dev.port}"}
    before = len(history_rows(dev.project))
    for method, path, body in [*WRITES, *(("GET", path, None) for path in READS)]:
        path = path.replace("JOB", job)
        response = client.request(method, dev.url + path, json=body, headers=foreign)
        assert response.status_code == 421, (method, path, response.status_code, response.text)
        assert "Host header" in response.text and "DNS rebinding" in response.text
        if "/api/" in path:
            assert response.json()["statusCode"] == 421  # the platform's error shape
    # Another port on a loopback name is another server too.
    other_port = client.get(dev.url + "/api/v1/functions", headers={"Host": "127.0.0.1:1"})
    assert other_port.status_code == 421
    assert len(history_rows(dev.project)) == before, "a refused request ran something"
    assert dev.http.get(f"/api/v1/jobs/{job}").json()["status"] == "active"
    # Loopback names with the right port are served.
    for name in ("127.0.0.1", "localhost"):
        served = client.get(dev.url + "/api/v1/functions", headers={"Host": f"{name}:{dev.port}"})
        assert served.status_code == 200, served.text


def test_cross_origin_and_non_json_writes_run_nothing(dev: DevServer, client: httpx.Client) -> None:
    body = '{"task": "ok", "payload": {"from": "evil-page"}}'
    attempts = [
        ({"Content-Type": "text/plain"}, 415),  # a browser's "simple" request, sent without preflight
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),  # an HTML form; curl -d
        ({"Content-Type": "multipart/form-data; boundary=x"}, 415),
        ({}, 415),  # a body without a type
        ({"Content-Type": "application/json", "Origin": "http://localhost:8931"}, 403),
        ({"Content-Type": "application/json", "Origin": "null"}, 403),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, 403),
    ]
    for headers, status in attempts:
        response = client.post(dev.url + "/api/v1/trigger", content=body, headers=headers)
        assert response.status_code == status, (headers, response.text)
        message = response.json()["message"]
        assert message.startswith("refused: ") and "\n" not in message
        assert ("application/json" if status == 415 else "cross-origin") in message
    assert _triggers_of_ok(dev) == [], "a refused trigger ran"
    # Registration, cancel and retry are writes too.
    for path in ("/api/v1/register", f"/api/v1/executions/{NO_SUCH_ID}/cancel"):
        refused = client.post(dev.url + path, content="{}", headers={"Content-Type": "text/plain"})
        assert refused.status_code == 415, refused.text
        cross = client.post(dev.url + path, headers={"Origin": "http://evil.example"})
        assert cross.status_code == 403, cross.text


def test_json_clients_and_the_dashboard_still_work(dev: DevServer, client: httpx.Client) -> None:
    # curl -X POST ... -H 'Content-Type: application/json' -d '...', as the docs say.
    curl = client.post(
        dev.url + "/api/v1/trigger",
        content='{"task": "ok"}',
        headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "curl/8"},
        timeout=10,
    )
    assert curl.status_code == 201, curl.text
    assert dev.wait_root(curl.json()["executionId"], "ok")["status"] == "success"
    # A write without a body needs no type (`pingback` and curl -X POST send none).
    cancel = client.post(dev.url + f"/api/v1/executions/{NO_SUCH_ID}/cancel")
    assert cancel.status_code == 404, cancel.text
    # The browser's own page: same origin, its token.
    with http_client(base_url=dev.url, timeout=10) as browser:
        token = re.search(r'name="csrf-token" content="([^"]+)"', browser.get("/functions/ok").text)
        assert token is not None
        same = browser.post(
            "/actions/run",
            json={"function": "ok"},
            headers={"X-Pingback-CSRF": token[1], "Origin": dev.url, "Sec-Fetch-Site": "same-origin"},
        )
        assert same.status_code == 200, same.text
        # Following a link from another site to a page is a navigation: shown, nothing changes.
        navigate = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
        assert browser.get("/functions", headers=navigate).status_code == 200
    # The same Click command as the installed `pingback trigger` (tests/e2e runs that one): the
    # same client, so the same headers.
    sent = run_in_process(dev.project, "trigger", "ok", "--platform-url", dev.url)
    assert sent.returncode == 0, sent.brief()


def test_pb_trigger_from_a_real_handler_and_pingback_trigger_still_work(dev: DevServer) -> None:
    sent = run_in_process(dev.project, "trigger", "calls-trigger", "--platform-url", dev.url, "--json")
    assert sent.returncode == 0, sent.brief()
    caller_id = json.loads(sent.stdout)["executionId"]
    assert dev.wait_root(caller_id, "calls-trigger")["status"] == "success", dev.output()
    triggered = dev.tree(caller_id)["result"]["triggered"]
    assert dev.wait_root(triggered, "leaf")["status"] == "success"
