"""Job state in the history file: survives a reopen, reads pages of a function's executions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pingback_cli.history.jobs import JobStore
from pingback_cli.history.store import Store, history_path
from pingback_cli.models import Execution, Job

T0 = 1_700_000_000.0


def job(name: str, **fields: object) -> Job:
    values: dict[str, object] = {"id": f"id-{name}", "name": name, "type": "cron", "schedule": "* * * * *"}
    values.update(fields)
    return Job(**values)  # type: ignore[arg-type]


def test_a_pause_survives_closing_and_reopening(tmp_path: Path) -> None:
    path = history_path(tmp_path)
    with Store(path) as store:
        jobs = JobStore(store)
        jobs.save([job("a", created_at=T0), job("b", created_at=T0 + 1)])
        jobs.save([jobs.by_name()["a"].replace(status="paused", updated_at=T0 + 5)])
    with Store(path, readonly=True) as store:
        jobs = JobStore(store)
        assert [j.name for j in jobs.all()] == ["b", "a"]  # newest first
        paused = jobs.get("id-a")
        assert paused is not None and paused.status == "paused" and paused.updated_at == T0 + 5
        assert jobs.get("nope") is None


def test_a_name_another_process_stored_first_keeps_that_rows_id(tmp_path: Path) -> None:
    """Two processes each create the job of a new function (two `pingback run` at once): the
    second save takes the first one's row instead of failing on the unique name."""
    path = history_path(tmp_path)
    with Store(path) as first, Store(path) as second:
        mine, theirs = JobStore(first), JobStore(second)
        assert theirs.by_name() == {}  # read before the other process saved
        mine.save([job("a", id="id-first", created_at=T0)])
        saved = theirs.save([job("a", id="id-second", created_at=T0 + 1, retries=3), job("b")])
        assert [(j.id, j.created_at, j.retries) for j in saved] == [("id-first", T0, 3), ("id-b", 0.0, 0)]
        assert [(j.id, j.retries) for j in mine.all() if j.name == "a"] == [("id-first", 3)]


def test_delete(tmp_path: Path) -> None:
    with Store(history_path(tmp_path)) as store:
        jobs = JobStore(store)
        jobs.save([job("a")])
        jobs.delete("id-a")
        assert jobs.all() == []


def test_executions_page_by_function_newest_first_with_total(tmp_path: Path) -> None:
    with Store(history_path(tmp_path)) as store:
        parent = Execution(id="p", function="other", type="task", scheduled_at=T0, status="success")
        store.save(parent)
        for index in range(5):
            child = Execution(
                id=f"c{index}", function="a", type="task", scheduled_at=T0 + index,
                parent_id="p", root_id="p", status="success", trigger="cron",
            )  # fmt: skip
            store.save(child)
        jobs = JobStore(store)
        first, total = jobs.executions("a", page=1, limit=2)
        second, _ = jobs.executions("a", page=3, limit=2)
        assert total == 5
        assert [e.id for e, _ in first] == ["c4", "c3"]
        assert [e.id for e, _ in second] == ["c0"]
        assert first[0][1] >= first[1][1] > T0
        assert jobs.created("c4") == first[0][1] and jobs.created("nope") is None
        assert jobs.child_count("p") == 5 and jobs.child_count("c0") == 0
        assert jobs.last_runs() == {"a": T0 + 4}


def test_a_read_only_history_from_before_jobs_reads_as_no_jobs(tmp_path: Path) -> None:
    from pingback_cli.history.schema import MIGRATIONS

    path = history_path(tmp_path)
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:  # a history written before the jobs table existed
        conn.executescript(script)
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    with Store(path, readonly=True) as store:
        assert JobStore(store).all() == []
