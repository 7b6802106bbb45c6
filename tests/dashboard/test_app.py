"""The dashboard's routes in-process (Starlette's TestClient) over a history-only source."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from pingback_cli.dashboard.app import dashboard_routes
from pingback_cli.dashboard.source import HistorySource
from pingback_cli.history.store import Store
from pingback_cli.models import Attempt, Execution, LogEntry, OutputLine

BASE = "http://127.0.0.1:8766"


def _execution(payload: object, logs: list[LogEntry]) -> Execution:
    now = time.time()
    return Execution(
        id="0f0f0f0f-0000-4000-8000-000000000001",
        function="echo",
        type="task",
        scheduled_at=now,
        payload=payload,
        has_payload=True,
        status="failed",
        attempt=1,
        attempts=[
            Attempt(
                1,
                "failed",
                now,
                now + 0.1,
                100,
                500,
                "boom",
                "Traceback: <b>boom</b>",
                output=[OutputLine(1, "stdout", "printed <i>here</i>")],
            )
        ],
        logs=logs,
        error="boom",
        started_at=now,
        completed_at=now + 0.1,
        duration_ms=100,
    )


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    path = tmp_path / ".pingback" / "history.sqlite3"
    with Store(path) as writer:
        big = "x" * 150_000
        writer.save(
            _execution({"x": "<script>alert(1)</script>", "big": big}, [LogEntry(1, "warn", "<img src=x>")])
        )
    with Store(path) as writer:
        from pingback_cli.history.jobs import JobStore
        from pingback_cli.models import Job

        JobStore(writer).save([Job("j1", "nightly", "cron", "0 3 * * *", status="paused")])
    store = Store(path, readonly=True)
    source = HistorySource(tmp_path, store, project="demo")
    app = Starlette(routes=dashboard_routes(source, host="127.0.0.1", api_key=None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as test_client:
        yield test_client
    store.close()


async def _token(client: httpx.AsyncClient) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', (await client.get("/")).text)
    assert found is not None
    return found[1]


async def test_every_page_renders_with_security_headers(client: httpx.AsyncClient) -> None:
    for path in ("/", "/functions", "/functions/echo", "/logs", "/api", "/executions/0f0f0f0f"):
        response = await client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert "access-control-allow-origin" not in response.headers


async def test_user_strings_are_escaped_and_big_values_truncated(client: httpx.AsyncClient) -> None:
    page = (await client.get("/executions/0f0f0f0f-0000-4000-8000-000000000001")).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x>" not in page and "&lt;img src=x&gt;" in page
    assert "&lt;b&gt;boom&lt;/b&gt;" in page
    assert "stdout│ printed &lt;i&gt;here&lt;/i&gt;" in page  # the attempt's printed output, escaped
    assert "Printed output: 1 line, local only, not sent to the platform" in page
    assert "Shown truncated to the first 100 KB" in page
    raw = await client.get("/executions/0f0f0f0f-0000-4000-8000-000000000001/raw/payload")
    assert raw.headers["content-type"].startswith("application/json")
    assert len(raw.json()["big"]) == 150_000


async def test_ui_lists_job_state_from_history(client: httpx.AsyncClient) -> None:
    page = (await client.get("/functions")).text
    assert 'data-function="nightly"' in page
    assert 'pill-paused">paused' in page
    assert 'pill-inactive">inactive' in page  # echo: only history knows it


async def test_the_histogram_follows_the_function_filter(client: httpx.AsyncClient) -> None:
    """The one run in history is echo's, failed: a filter on another function empties the bars."""
    shown = (await client.get("/?function=echo")).text
    assert 'aria-label="Root executions of echo per hour' in shown
    assert "1 failed" in shown and "&amp;function=echo" in shown
    other = (await client.get("/?function=nightly")).text
    assert "1 failed" not in other and "0 succeeded, 0 failed, 0 other" in other


async def test_a_repeated_traceback_is_folded_and_says_which_attempt_it_repeats(tmp_path: Path) -> None:
    """Three identical failed attempts: the first traceback open, the next two folded; a
    running attempt says how long ago it started (the page ticks it), no dangling separator."""
    path = tmp_path / ".pingback" / "history.sqlite3"
    failed = _execution({}, [])
    now = time.time()
    same = "Traceback: same"
    failed.attempts = [Attempt(n, "failed", now, now + 0.1, 100, 500, "boom", same) for n in (1, 2, 3)]
    failed.attempts.append(Attempt(4, "running", now + 1))
    with Store(path) as writer:
        writer.save(failed)
    with Store(path, readonly=True) as store:
        source = HistorySource(tmp_path, store, project="d")
        app = Starlette(routes=dashboard_routes(source, host="127.0.0.1", api_key=None))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            page = (await client.get(f"/executions/{failed.id}")).text
    assert page.count("<summary>Traceback</summary>") == 1
    assert page.count("<summary>Traceback: the same as attempt 1</summary>") == 2
    assert 'data-key="tb-2" open' not in page and 'data-key="tb-1" open' in page
    running = page[page.index("<strong>Attempt 4</strong>") :].split("</li>")[0]
    assert running.count("·") == 1 and " · started <time data-countdown " in running, running


async def test_unknown_pages_are_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/executions/ffffffff")).status_code == 404
    assert (await client.get("/functions/no-such")).status_code == 404
    assert (await client.get("/executions/0f0f0f0f/raw/secrets")).status_code == 404


async def test_foreign_host_is_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get("/", headers={"Host": "evil.example:8766"})).status_code == 421
    assert (await client.get("/", headers={"Host": "127.0.0.1:9999"})).status_code == 421
    assert (await client.get("/", headers={"Host": "localhost:8766"})).status_code == 200


async def test_actions_need_same_origin_and_the_token_and_say_dev_is_needed(
    client: httpx.AsyncClient,
) -> None:
    token = await _token(client)
    body = {"executionId": "0f0f0f0f-0000-4000-8000-000000000001"}
    assert (await client.post("/actions/retry", json=body)).status_code == 403
    assert (
        await client.post("/actions/retry", json=body, headers={"X-Pingback-CSRF": "wrong"})
    ).status_code == 403
    cross = await client.post(
        "/actions/retry", json=body, headers={"X-Pingback-CSRF": token, "Origin": "http://x.example"}
    )
    assert cross.status_code == 403
    for action, data in (
        ("retry", body),
        ("cancel", body),
        ("run", {"function": "echo"}),
        ("pause", {"function": "echo"}),
    ):
        answer = await client.post(
            f"/actions/{action}", json=data, headers={"X-Pingback-CSRF": token, "Origin": BASE}
        )
        assert answer.status_code == 409, answer.text
        assert "needs `pingback dev`" in answer.json()["error"]


async def test_sign_in_beyond_loopback(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    Store(path).close()
    with Store(path, readonly=True) as store:
        source = HistorySource(tmp_path, store, project="demo")
        app = Starlette(routes=dashboard_routes(source, host="0.0.0.0", api_key="k3y"))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://192.0.2.1:8766") as client:
            assert (
                await client.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
            ).status_code == 303
            assert (await client.get("/functions")).status_code == 401
            page = (await client.get("/signin")).text
            token = re.search(r'name="csrf" value="([^"]+)"', page)
            assert token is not None
            wrong = await client.post(
                "/signin", data={"key": "nope", "csrf": token[1]}, headers={"Origin": "http://192.0.2.1:8766"}
            )
            assert wrong.status_code == 401
            right = await client.post(
                "/signin",
                data={"key": "k3y", "csrf": token[1], "next": "//evil.example"},
                headers={"Origin": "http://192.0.2.1:8766"},
                follow_redirects=False,
            )
            assert right.status_code == 303 and right.headers["location"] == "/"
            assert "k3y" not in right.headers["set-cookie"]
            assert (await client.get("/functions")).status_code == 200


async def test_an_action_body_with_nan_is_refused_as_not_json(client: httpx.AsyncClient) -> None:
    token = await _token(client)
    answer = await client.post(
        "/actions/run",
        content=b'{"function": "echo", "payload": {"x": NaN}}',
        headers={"X-Pingback-CSRF": token, "Origin": BASE, "content-type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    assert "NaN is not JSON" in answer.json()["error"]
