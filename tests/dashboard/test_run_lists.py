"""The dashboard's Runs list: simulated runs marked."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from pingback_cli.dashboard.app import dashboard_routes
from pingback_cli.dashboard.source import HistorySource
from pingback_cli.history.store import Store
from pingback_cli.models import Execution, LogEntry

BASE = "http://127.0.0.1:8766"


def root(number: int, function: str, **fields: object) -> Execution:
    return Execution(id=f"{number:08x}-0000-4000-8000-000000000000", function=function, type="task", **fields)


async def client_for(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    store = Store(tmp_path / ".pingback" / "history.sqlite3", readonly=True)
    source = HistorySource(tmp_path, store, project="demo")
    app = Starlette(routes=dashboard_routes(source, host="127.0.0.1", api_key=None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
        yield client
    store.close()


@pytest.fixture
async def simulated(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    now = time.time()
    path = tmp_path / ".pingback" / "history.sqlite3"
    with Store(path) as writer:
        writer.save(root(1, "real-one", scheduled_at=now, status="success", started_at=now))
    with Store(path, root_trigger="simulate") as writer:
        writer.save(root(2, "future-one", scheduled_at=now + 86400, status="success", started_at=now + 86400))
    async for client in client_for(tmp_path):
        yield client


async def test_the_runs_list_marks_simulated_runs(simulated: httpx.AsyncClient) -> None:
    page = (await simulated.get("/")).text
    rows = {row.split("</a>")[0].rsplit(">", 1)[1]: row for row in page.split("<tr data-id=")[1:]}
    assert "simulated" in rows["future-one"] and "simulated" not in rows["real-one"]
    detail = (await simulated.get("/executions/00000002-0000-4000-8000-000000000000")).text
    assert "task · simulate" in detail


@pytest.fixture
async def out_of_order(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """Created: slow (started 22:19:22), process-item (started 22:19:26), a pending one due in an
    hour; then tick, which started first of all, created last."""
    now = time.time()
    path = tmp_path / ".pingback" / "history.sqlite3"
    with Store(path) as writer:
        for number, function, started, logs in (
            (1, "slow", now - 4, [LogEntry(int((now - 4) * 1000), "info", "slow log")]),
            (2, "process-item", now, [LogEntry(int(now * 1000), "info", "process log")]),
            (3, "later", None, []),
            (4, "tick", now - 26, [LogEntry(int((now - 26) * 1000), "info", "tick log")]),
        ):
            status = "pending" if started is None else "success"
            writer.save(
                root(
                    number,
                    function,
                    scheduled_at=started or now + 3600,
                    status=status,
                    started_at=started,
                    logs=logs,
                )
            )
    async for client in client_for(tmp_path):
        yield client


def _functions(page: str) -> list[str]:
    return [row.split("</a>")[0].rsplit(">", 1)[1] for row in page.split("<tr data-id=")[1:]]


async def test_the_runs_list_is_in_the_order_of_its_time_column(out_of_order: httpx.AsyncClient) -> None:
    assert _functions((await out_of_order.get("/")).text) == ["later", "process-item", "slow", "tick"]
    assert _functions((await out_of_order.get("/?all=1")).text) == ["later", "process-item", "slow", "tick"]


async def test_the_logs_list_is_in_the_order_of_its_time_column(out_of_order: httpx.AsyncClient) -> None:
    page = (await out_of_order.get("/logs")).text
    shown = [page.index(text) for text in ("process log", "slow log", "tick log")]
    assert shown == sorted(shown), page


@pytest.fixture
async def future_dated(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """In creation order: a simulated run dated tomorrow, a delayed trigger due in an hour that
    was cancelled at once, then a real run (new-user trial #2, finding 11)."""
    now = time.time()
    path = tmp_path / ".pingback" / "history.sqlite3"
    with Store(path, root_trigger="simulate", simulated=True) as writer:
        writer.save(root(1, "simulated", scheduled_at=now + 86400, status="success", started_at=now + 86400))
    with Store(path) as writer:
        writer.save(root(2, "cancelled", scheduled_at=now + 3600, status="cancelled", completed_at=now + 0.5))
        writer.save(
            root(3, "real", scheduled_at=now + 1, status="success", started_at=now + 1, trigger="trigger")
        )
    async for client in client_for(tmp_path):
        yield client


def _functions(page: str) -> list[str]:
    return [row.split("</a>")[0].rsplit(">", 1)[1] for row in page.split("<tr data-id=")[1:]]


async def test_future_dated_rows_sit_where_they_were_recorded_or_cancelled(
    future_dated: httpx.AsyncClient,
) -> None:
    page = (await future_dated.get("/")).text
    assert _functions(page) == ["real", "cancelled", "simulated"]
    cancelled = page.split('data-status="cancelled"')[1].split("</tr>")[0]
    assert '<span class="muted">cancelled</span>' in cancelled and ">due<" not in cancelled
    assert _functions((await future_dated.get("/?trigger=simulate")).text) == ["simulated"]
    assert _functions((await future_dated.get("/?trigger=trigger")).text) == ["real"]
    assert 'option value="simulate" selected' in (await future_dated.get("/?trigger=simulate")).text
