"""Renderables for waiting work and tables that fit: exact text at fixed widths, in UTC."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from rich.console import Console, RenderableType

from pingback_cli import times
from pingback_cli.models import Attempt, Execution, FunctionSpec
from pingback_cli.render.functions import function_table
from pingback_cli.render.pending import pending_table, timeline, trigger_line, waiting_for, waiting_line

NOW = 1_764_324_000.0  # 2025-11-28 10:00:00 UTC


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    times.use_utc(True)
    yield
    times._forced_utc = None


def render(renderable: RenderableType, width: int) -> str:
    stream = io.StringIO()
    Console(file=stream, width=width, color_system=None).print(renderable)
    return stream.getvalue()


def test_a_wide_table_stays_a_table_and_a_narrow_one_stacks_without_losing_a_column() -> None:
    specs = [
        FunctionSpec("nightly-report", "cron", "0 9 * * *", 2, "45s", 45, 1, "app/crons.py:4"),
        FunctionSpec("send-email", "task", None, 3, None, 30, 10, "app/tasks.py:12"),
    ]
    wide = render(function_table(specs, NOW), 160)
    assert wide.splitlines()[0].split()[:3] == ["Name", "Type", "Schedule"]
    narrow = render(function_table(specs, NOW), 80)
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert narrow.splitlines()[0].split() == ["nightly-report", "cron"]
    for needle in ("Schedule 0 9 * * * UTC", "Next run 2025-11-29 09:00:00 UTC", "Retries 2", "Timeout 45s"):
        assert needle in narrow, narrow
    assert "Concurrency* 10" in narrow and "Source app/tasks.py:12" in narrow


def test_trigger_line_says_when_it_is_due() -> None:
    answer = {"executionId": "e1", "task": "later", "scheduledAt": "2025-11-28T10:15:00.000Z"}
    assert trigger_line(answer, NOW).plain == "e1  later  due 10:15:00 UTC, in 15m"
    answer["scheduledAt"] = "2025-11-28T10:00:00.000Z"
    assert trigger_line(answer, NOW).plain == "e1  later  starts now"


def waiting(**fields: object) -> Execution:
    fields.setdefault("scheduled_at", NOW)
    return Execution(id="a1b2c3d4-0000", function="later", type="task", **fields)  # type: ignore[arg-type]


def test_pending_table_names_what_each_waits_for() -> None:
    delayed = waiting(due_at=NOW + 900, scheduled_at=NOW + 900, trigger="trigger")
    retry = waiting(
        due_at=NOW + 4, attempt=2, attempts=[Attempt(1, "failed", NOW), Attempt(2, "failed", NOW)]
    )
    queued = waiting(due_at=NOW - 1, trigger="fanout")
    assert [waiting_for(e, NOW) for e in (delayed, retry, queued)] == ["delay", "retry 3", "its turn"]
    text = render(pending_table([retry, delayed], NOW), 120)
    assert text.splitlines()[0].split() == ["ID", "Function", "Waiting", "for", "Due", "(UTC)", "Trigger"]
    assert "10:00:04 UTC" in text and "in 4s" in text and "10:15:00 UTC" in text and "in 15m" in text


def test_timeline_and_waiting_line() -> None:
    done = waiting(due_at=NOW, started_at=NOW + 1, completed_at=NOW + 3)
    assert timeline(done, NOW + 10).plain == "due 10:00:00 UTC · started 10:00:01 UTC · ended 10:00:03 UTC"
    assert timeline(waiting(due_at=NOW + 60), NOW).plain == "due 10:01:00 UTC (in 1m)"
    assert waiting_line(1, 0, NOW + 18, NOW).plain == "waiting: 1 delayed execution due in 18s"
    assert (
        waiting_line(2, 1, NOW, NOW).plain == "waiting: 2 delayed executions and 1 retry in backoff due now"
    )
