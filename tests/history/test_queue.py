"""The durable queue in history: rows stamped with their queue and due time, taken over only
from owners that are gone, never by `run`'s recovery, listed soonest due first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from history.records import T0, make
from pingback_cli.history.owner import process_identity
from pingback_cli.history.queue import DEV_QUEUE, orphaned_roots, pending, take_over
from pingback_cli.history.recovery import recover
from pingback_cli.history.store import Store, history_path


def dead_owner() -> str:
    """The identity of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = process_identity(child.pid)
    child.wait()
    return identity


def write_as(path: Path, owner: str, queue: str | None, *executions: object) -> None:
    with Store(path, queue=queue) as store:
        store.owner = owner
        for execution in executions:
            store.save(execution)  # type: ignore[arg-type]


def test_rows_carry_due_time_and_queue(tmp_path: Path) -> None:
    path = history_path(tmp_path)
    waiting = make("a", status="pending", due_at=T0 + 30)
    write_as(path, dead_owner(), DEV_QUEUE, waiting)
    with Store(path, readonly=True) as reader:
        assert reader.get("a").due_at == T0 + 30
        with reader.connection("read") as conn:
            assert conn.execute("SELECT queue FROM executions").fetchall() == [("dev",)]
    assert waiting.to_json()["dueAt"] == "2023-11-14T22:13:50.000Z"


def test_take_over_returns_whole_trees_of_dead_owners_oldest_first(tmp_path: Path) -> None:
    path = history_path(tmp_path)
    gone = dead_owner()
    old = make("f1", status="success")
    child = make("a2", parent=old, status="pending", due_at=T0)
    done = make("a3", parent=old, status="success")
    newer = make("b1", status="running")
    write_as(path, gone, DEV_QUEUE, old, child, done, newer)
    write_as(path, gone, DEV_QUEUE, make("c1", status="success"))
    with Store(path, queue=DEV_QUEUE) as store:
        trees = take_over(store)
    assert [tree.id for tree in trees] == ["f1", "b1"]
    assert [c.id for c in trees[0].children] == ["a2", "a3"]


def test_a_live_owner_and_our_own_rows_are_not_taken(tmp_path: Path) -> None:
    path = history_path(tmp_path)
    write_as(path, process_identity(1), DEV_QUEUE, make("init-owned", status="pending"))
    with Store(path, queue=DEV_QUEUE) as store:
        store.save(make("ours", status="pending"))
        assert orphaned_roots(store) == []


def test_run_recovery_leaves_the_dev_queue_alone(tmp_path: Path) -> None:
    path = history_path(tmp_path)
    gone = dead_owner()
    write_as(path, gone, DEV_QUEUE, make("queued", status="pending"))
    write_as(path, gone, None, make("run-row", status="running"))
    with Store(path) as store:  # as `pingback run` opens it
        assert recover(store) == 1
        assert store.get("queued").status == "pending"
        assert store.get("run-row").status == "interrupted"


def test_pending_lists_every_depth_soonest_due_first(tmp_path: Path) -> None:
    path = history_path(tmp_path)
    root = make("root", status="success")
    late = make("late", "other", status="pending", due_at=T0 + 900)
    child = make("child", parent=root, status="pending", due_at=T0 + 5)
    write_as(path, dead_owner(), DEV_QUEUE, root, late, child, make("ran", status="success"))
    with Store(path, readonly=True) as reader:
        assert [e.id for e in pending(reader)] == ["child", "late"]
        assert [e.id for e in pending(reader, function="other")] == ["late"]


def test_a_reader_upgrades_an_older_history_before_reading(tmp_path: Path) -> None:
    import sqlite3

    from pingback_cli.history.schema import MIGRATIONS

    path = history_path(tmp_path)
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:3]:
        conn.executescript(script)
    conn.execute(
        "INSERT INTO executions (id, seq, root_id, function, status, scheduled_at)"
        " VALUES ('old1', 1, 'old1', 'job', 'success', 0)"
    )
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    with Store(path, readonly=True) as reader:
        assert reader.get("old1").due_at is None


def test_a_reader_shows_a_dead_owners_running_rows_interrupted_and_writes_nothing(tmp_path: Path) -> None:
    from pingback_cli.history.owner import process_identity as identity
    from pingback_cli.history.rows import settle_for_reading

    path = history_path(tmp_path)
    gone = dead_owner()
    write_as(path, gone, DEV_QUEUE, make("d1", status="running"), make("d2", status="pending"))
    write_as(path, gone, None, make("r1", status="running"))
    import os

    write_as(path, identity(os.getpid()), DEV_QUEUE, make("l1", status="running"))
    with Store(path, readonly=True) as reader:
        found = [reader.get(i) for i in ("d1", "d2", "r1", "l1")]
        settle_for_reading(reader, found)
        assert [e.status for e in found] == ["interrupted", "pending", "interrupted", "running"]
        assert (found[0].error or "").startswith("interrupted (dev not running): its pingback dev (pid ")
        assert "next `pingback dev`" in (found[0].error or "")
        assert (found[2].error or "").startswith("interrupted: the pingback process running this (pid ")
        assert reader.get("d1").status == "running"  # only the objects changed


def test_the_status_filter_reads_a_dead_owners_running_rows_as_interrupted(tmp_path: Path) -> None:
    """``--status interrupted`` (CLI and dashboard) lists them; ``--status running`` does not."""
    import os

    from pingback_cli.history import queries

    path = history_path(tmp_path)
    write_as(path, dead_owner(), DEV_QUEUE, make("gone", status="running"))
    write_as(path, process_identity(os.getpid()), DEV_QUEUE, make("live", status="running"))
    write_as(path, dead_owner(), None, make("ended", status="interrupted"), make("ok", status="success"))
    with Store(path, readonly=True) as reader:
        for status, expected in (("interrupted", {"gone", "ended"}), ("running", {"live"})):
            assert {s.execution.id for s in reader.recent_roots(10, status=status)} == expected, status
            page = queries.runs(reader, queries.RunQuery(status=status))
            assert {row.id for row in page.rows} == expected, status


def test_reads_of_unfinished_rows_use_their_index_not_a_scan(tmp_path: Path) -> None:
    """Every query over pending and running rows is served by the index of unfinished rows
    (``executions_queue``): at 100,000 executions a scan of the table is what a list would wait on."""
    from pingback_cli.history.statuses import gone_owners

    path = history_path(tmp_path)
    write_as(
        path, dead_owner(), DEV_QUEUE, *(make(f"done{i}") for i in range(50)), make("p", status="pending")
    )
    with Store(path) as store:
        statements: list[str] = []
        store._conn.set_trace_callback(statements.append)
        pending(store)
        orphaned_roots(store)
        recover(store)
        gone_owners(store.read, store.owner)
        store._conn.set_trace_callback(None)
        unfinished = [sql for sql in statements if "'running')" in sql and sql.lstrip().startswith("SELECT")]
        assert len(unfinished) >= 4
        for sql in unfinished:
            plan = [row[3] for row in store._conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
            assert "SCAN executions" not in plan, (sql, plan)
            assert any("executions_queue" in step for step in plan), (sql, plan)
