"""The execution page of trees a new user found hard to read (new-user trial #2, finding 9):
a big fan-out whose one failed child is past the children listed, a run retried by hand, a
delayed trigger cancelled before it started."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette

from pingback_cli.dashboard.app import dashboard_routes
from pingback_cli.dashboard.source import HistorySource
from pingback_cli.history.store import Store
from pingback_cli.models import Attempt, Execution

BASE = "http://127.0.0.1:8766"
NOW = time.time()


def _execution(name: str, status: str, *, parent: Execution | None = None, n: int = 0) -> Execution:
    execution = Execution(
        id=f"{n:08x}-0000-4000-8000-{n:012x}",
        function=name,
        type="task",
        scheduled_at=NOW,
        parent_id=parent.id if parent else None,
        root_id=parent.root_id if parent else "",
        depth=1 if parent else 0,
        status=status,  # type: ignore[arg-type]
    )
    if status in ("success", "failed"):
        execution.attempt = 1
        execution.attempts = [Attempt(1, status, NOW, NOW + 0.01, 10)]  # type: ignore[arg-type]
        execution.started_at, execution.completed_at, execution.duration_ms = NOW, NOW + 0.01, 10
    return execution


async def _page(tmp_path: Path, executions: list[Execution], shown: str) -> str:
    path = tmp_path / ".pingback" / "history.sqlite3"
    with Store(path) as writer:
        for execution in executions:
            writer.save(execution)
    with Store(path, readonly=True) as store:
        source = HistorySource(tmp_path, store, project="d")
        app = Starlette(routes=dashboard_routes(source, host="127.0.0.1", api_key=None))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as client:
            response = await client.get(f"/executions/{shown}")
    assert response.status_code == 200, response.text[:500]
    return response.text


async def test_a_failed_child_past_the_listed_hundred_is_shown_counted_and_linked(tmp_path: Path) -> None:
    root = _execution("fanout", "success", n=1)
    children = [
        _execution("leaf", "failed" if k == 150 else "success", parent=root, n=100 + k) for k in range(200)
    ]
    page = await _page(tmp_path, [root, *children], root.id)
    failures = f"/?root={root.id}&amp;all=1&amp;status=failed"
    assert f'id="failed-below" href="{failures}">1 failed below</a>' in page  # next to the status
    assert "201 executions, 1 failed below, 102 shown" in page
    assert f'data-node="{children[150].id}"' in page  # listed after the first 100
    assert "99 more children not shown, none failed: " in page
    assert re.search(r'<span class="pill pill-success">success</span>fanout</a>', page)  # no underlined space


async def test_a_retry_by_hand_keeps_the_scheduled_row_and_adds_its_own(tmp_path: Path) -> None:
    retried = _execution("flaky", "success", n=2)
    retried.attempt = 2
    retried.attempts = [
        Attempt(1, "failed", NOW - 60, NOW - 59, 10, 500, "boom"),
        Attempt(2, "success", NOW, NOW + 0.01, 10, requested_at=NOW - 1),
    ]
    page = await _page(tmp_path, [retried], retried.id)
    assert "<dt>Scheduled</dt>" in page
    assert "<dt>Retried by hand</dt>" in page and " · attempt 2</dd>" in page


async def test_a_trigger_cancelled_before_it_started_offers_no_retry_and_draws_no_waterfall(
    tmp_path: Path,
) -> None:
    cancelled = _execution("leaf", "cancelled", n=3)
    cancelled.scheduled_at = NOW + 3600  # a delayed trigger, due in an hour
    cancelled.completed_at = NOW
    page = await _page(tmp_path, [cancelled], cancelled.id)
    assert 'data-action="retry"' not in page
    assert "Cancelled before its first attempt" in page and "No attempt yet" not in page
    assert 'id="waterfall-empty">Nothing ran: cancelled before its first attempt.' in page
    assert "wf-axis" not in page


def test_retry_applies_to_what_ran_and_did_not_succeed() -> None:
    from pingback_cli.emulator.controls import retryable

    assert retryable(_execution("a", "failed"))
    assert not retryable(_execution("a", "success"))
    ran = _execution("a", "failed")
    ran.status = "cancelled"  # cancelled while running: its attempt can be retried
    assert retryable(ran)
    assert not retryable(_execution("a", "cancelled"))  # never started: replay it instead
