"""The durable queue and the single emulator, through the installed command.

Delayed, queued and backoff-waiting work survives Ctrl-C and ``kill -9`` of `pingback dev`
and runs after the restart at its time; an attempt running when dev stopped is a failed
attempt that is retried if it may be, and claims no time it did not run; a second dev in the
project is refused while the first runs and allowed once it is gone. (`pingback run` does not
take dev's queue: test_signals.py's kill -9 of dev, whose next `run` leaves it to the next dev.)
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import FIXTURES, SETTLE, eventually, poll, run_cli, run_in_process, worker_pids

from .helpers import HAS_PROC, DevServer, assert_one_error_line, history_db, kill_workers

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="finds leftover worker processes through /proc")

STOPPED_DURING = "pingback dev stopped during this attempt"
DELAY = 12
"""Long enough to stop and restart dev before the delayed task is due."""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    import shutil

    target = tmp_path / "durable"
    shutil.copytree(FIXTURES / "durable", target, ignore=shutil.ignore_patterns(".pingback", "__pycache__"))
    yield target
    kill_workers(target)


def rows(project: Path) -> dict[str, dict[str, Any]]:
    """Every execution straight from SQLite, by id (with its attempts decoded)."""
    import json

    conn = sqlite3.connect(f"{history_db(project).absolute().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        conn.row_factory = sqlite3.Row
        found = conn.execute("SELECT * FROM executions ORDER BY seq").fetchall()
    finally:
        conn.close()
    result = {}
    for row in found:
        data = dict(row)
        data["attempts"] = json.loads(data["attempts"])
        result[data["id"]] = data
    return result


@contextlib.contextmanager
def dev(project: Path) -> Iterator[DevServer]:
    # Children queue behind their own limit (concurrency=1) rather than the project's pool of
    # 20: the queue keeps whatever holds an execution back, this is simply the quick way to it.
    server = DevServer(project, args=("--concurrency", "documented"))
    try:
        yield server.start()
    finally:
        server.kill()


def waiting_work(server: DevServer, delay: float = DELAY) -> dict[str, str]:
    """A delayed task (due in ``delay`` seconds), a parent whose children queue one at a time,
    a retry in backoff."""
    ids = {
        "later": server.trigger("later", delay=f"{delay:g}s"),
        "parent": server.trigger("parent", {"children": 3}),
        "flaky": server.trigger("flaky"),
    }

    def ready() -> bool:
        found = rows(server.project)
        children = [r for r in found.values() if r["function"] == "child"]
        flaky = found.get(ids["flaky"])
        return (
            found.get(ids["later"], {}).get("status") == "pending"
            and [c["status"] for c in children].count("pending") == 2
            and flaky is not None
            and flaky["status"] == "pending"
            and flaky["attempt"] >= 1
        )

    poll("delayed, queued and backoff-waiting work in history", ready, SETTLE, 0.05, server.output)
    return ids


@pytest.mark.long(13)  # DELAY and the restart
def test_waiting_work_survives_ctrl_c_and_runs_after_the_restart(project: Path) -> None:
    with dev(project) as first:
        ids = waiting_work(first)
        first.stop(signal.SIGINT)
    due = _left_queued(project, ids)
    (project / "fixed").touch()
    with dev(project) as second:
        done = _waiting_work_done(second, ids)
    _ran_at_its_time(done, ids, due)
    assert "kept for the next `pingback dev`" in first.output()


KILLED_DELAY = DELAY + 3
"""The delayed task of the kill -9 test: its first dev also refuses a second, and the
readers run between the kill and the restart."""


@pytest.mark.long(16)  # KILLED_DELAY and the restart
def test_kill_9_of_dev_with_work_waiting_and_running(project: Path) -> None:
    """Waiting work (as at Ctrl-C) and two attempts running when dev is killed: the next dev
    takes them all over. A running attempt is a failed attempt, retried if it may be (``slow``),
    else the execution ends interrupted (``slow-once``); the attempt cut off claims no time it
    did not run: the next dev starts later, and no duration is claimed at all (not the time up
    to the restart, however short: a claimed one would be a number, whatever the gap). While
    the first dev runs, a second is refused; once it is killed, the next is allowed."""
    with dev(project) as first:
        retried = first.trigger("slow")
        lost = first.trigger("slow-once")  # logs nothing: when it stopped is not known
        poll(
            "both attempts running",
            lambda: [rows(project).get(i, {}).get("status") for i in (retried, lost)] == ["running"] * 2,
            SETTLE,
            0.05,
            first.output,
        )
        _a_second_dev_is_refused(first)
        ids = waiting_work(first, KILLED_DELAY)
        first.stop(signal.SIGKILL)
    due = _left_queued(project, ids)
    _readers_say_the_owner_is_gone(project, retried, lost)
    (project / "fixed").touch()
    with dev(project) as second:  # allowed once the first is gone
        second.wait_root(retried, "slow", timeout=30)
        second.wait_root(lost, "slow-once", timeout=30)
        done = _waiting_work_done(second, ids)
    _ran_at_its_time(done, ids, due)
    attempts = done[retried]["attempts"]
    assert [(a["status"], a["error"]) for a in attempts] == [("failed", STOPPED_DURING), ("success", None)]
    assert done[retried]["status"] == "success"
    row = done[lost]
    assert (row["status"], row["error"]) == ("interrupted", STOPPED_DURING)
    assert row["duration_ms"] is None and row["completed_at"] is None
    assert row["attempts"][0]["durationMs"] is None
    shown = run_in_process(project, "show", lost)  # the installed `show` ran in the readers above
    assert "slow-once task  unknown" in shown.stdout.splitlines()[0], shown.brief()


def _left_queued(project: Path, ids: dict[str, str]) -> float:
    """The stopped dev's waiting work is in its queue, its worker gone; the delayed task's due
    time."""
    assert eventually(lambda: not worker_pids(project), SETTLE)
    left = rows(project)
    assert all(left[i]["queue"] == "dev" for i in ids.values())
    assert left[ids["later"]]["status"] == "pending"
    return float(left[ids["later"]]["due_at"])


def _waiting_work_done(second: DevServer, ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The next dev says it took the queue over and finishes every tree; history then."""
    assert poll("the take-over notice", lambda: "taken over" in second.output(), SETTLE, 0.1)
    for name, execution_id in ids.items():
        second.wait_root(execution_id, name, timeout=60)
    return rows(second.project)


def _ran_at_its_time(done: dict[str, dict[str, Any]], ids: dict[str, str], due: float) -> None:
    """Overdue work ran at the restart, the delayed task at its due time (not at the restart)."""
    later = done[ids["later"]]
    assert later["status"] == "success", later
    started = later["attempts"][0]["startedAt"]
    assert due - 0.05 <= started <= due + 3, (due, started)
    children = [r for r in done.values() if r["parent_id"] == ids["parent"]]
    assert [c["status"] for c in children] == ["success"] * 3, children
    flaky = done[ids["flaky"]]
    assert flaky["status"] == "success" and flaky["attempt"] >= 2, flaky


def _readers_say_the_owner_is_gone(project: Path, *ids: str) -> None:
    """``runs`` and ``show`` of a killed dev's in-flight rows say its owner is gone, and
    write nothing: history still holds them ``running`` for the next dev to take over."""
    listed = run_cli(project, "runs", "--json")
    assert listed.returncode == 0, listed.brief()
    by_id = {row["executionId"]: row for row in listed.json()}
    for number, execution_id in enumerate(ids):
        assert by_id[execution_id]["status"] == "interrupted", by_id[execution_id]
        assert by_id[execution_id]["error"].startswith("interrupted (dev not running)")
        # The first through the installed command, the others the same Click command here.
        shown = (run_in_process if number else run_cli)(project, "show", execution_id[:8])
        assert shown.returncode == 0, shown.brief()
        assert "interrupted (dev not running)" in " ".join(shown.stdout.split()), shown.stdout
    assert {rows(project)[i]["status"] for i in ids} == {"running"}
    # The table and the status filter: the same `runs` command in this process (it reads
    # history, nothing more; the installed one answered --json above).
    assert "running" not in run_in_process(project, "runs").stdout.replace("not running", "")
    assert run_in_process(project, "runs", "--status", "running", "--json").json() == []
    listed = run_in_process(project, "runs", "--status", "interrupted", "--json").json()
    assert set(ids) <= {row["executionId"] for row in listed}
    assert {rows(project)[i]["status"] for i in ids} == {"running"}, "the readers wrote nothing"


def _a_second_dev_is_refused(first: DevServer) -> None:
    """A second dev in the project exits 2 with one line naming the first (pid and URL) and a
    hint to stop it; it neither takes over nor removes the first one's dev.json."""
    assert first.process is not None
    second = run_cli(first.project, "dev", "--no-reload", "--port", "0", timeout=30)
    line = assert_one_error_line(second, 2, "pingback dev is already running in this project")
    assert f"pid {first.process.pid}" in line and first.url in line, line
    assert "kill" in second.stderr  # the hint says how to stop it
    # `trigger` still finds the first dev by its dev.json (the same Click command in this process).
    found = run_in_process(first.project, "trigger", "later", "--json")
    assert found.returncode == 0, found.brief()
    first.wait_root(found.json()["executionId"], "later")
