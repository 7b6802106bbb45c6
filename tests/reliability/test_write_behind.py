"""A fan-out big enough that history is written by the write-behind thread
(``history/write_behind.py``, ``Store.write_behind_at``), through the installed command: its
queued children survive ``kill -9`` of `pingback dev` and each runs exactly once after the
restart; Ctrl-C of `pingback run` leaves every one of them recorded, none pending."""

from __future__ import annotations

import json
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import SETTLE, poll, started_cli

from pingback_cli.history.store import Store

from . import test_concurrency
from . import test_durable_queue as durable
from .helpers import HAS_PROC, DevServer, assert_history_settled, history_db

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="finds leftover worker processes through /proc")

project = durable.project
"""The durable fixture project (a fresh copy; its workers killed afterwards)."""

CHILDREN = 600
"""Past ``Store.write_behind_at`` (checked below): the fan-out's flush goes to the thread."""


def children_on_disk(project: Path, parent: str) -> set[str]:
    """Ids of ``parent``'s children the history file holds, as rows or in a queued batch (what
    another process finds: a batch becomes rows when a writer next opens the file)."""
    path = history_db(project)
    if not path.exists():
        return set()
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        found = {row[0] for row in conn.execute("SELECT id FROM executions WHERE parent_id = ?", (parent,))}
        for (text,) in conn.execute("SELECT children FROM queued_batches"):
            for group in json.loads(text):
                if group[1] == parent:
                    found.update(child[0] for child in group[-1])
    except sqlite3.OperationalError:  # the schema is being created
        return set()
    finally:
        conn.close()
    return found


def children_of_the_parent(project: Path) -> set[str]:
    """The children on disk of the one ``parent`` execution in history (none before it is there)."""
    path = history_db(project)
    if not path.exists():
        return set()
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        found = conn.execute("SELECT id FROM executions WHERE function = 'parent'").fetchall()
    except sqlite3.OperationalError:  # the schema is being created
        return set()
    finally:
        conn.close()
    return children_on_disk(project, found[0][0]) if found else set()


def all_on_disk(project: Path) -> Callable[[], bool]:
    return lambda: len(children_of_the_parent(project)) == CHILDREN


def test_the_fan_out_is_big_enough_for_the_thread() -> None:
    assert Store.write_behind_at < CHILDREN


def test_a_big_fan_out_queued_in_dev_survives_kill_9_and_each_child_runs_once(project: Path) -> None:
    """The first child holds the rest queued (concurrency=1, until ``fixed`` exists); dev is
    killed once all 600 are on disk; the next dev takes them over: 600 children, each payload
    once, all succeeded, each in one attempt but the one running at the kill (retried)."""
    with durable.dev(project) as first:
        parent = first.trigger("parent", {"children": CHILDREN})
        poll(
            "the fan-out's children on disk",
            lambda: len(children_on_disk(project, parent)) == CHILDREN,
            SETTLE,
            0.05,
            first.output,
        )
        first.stop(signal.SIGKILL)
    (project / "fixed").touch()
    with durable.dev(project) as second:
        second.wait_root(parent, "parent", timeout=120)
    done = durable.rows(project)
    children = [row for row in done.values() if row["parent_id"] == parent]
    assert sorted(json.loads(row["payload"])["n"] for row in children) == list(range(CHILDREN))
    interrupted = [row for row in children if row["status"] != "success"]
    assert {row["status"] for row in interrupted} <= {"interrupted"}
    assert len(interrupted) <= 20  # the platform's pool: what ran at the kill
    attempts = sorted(len(row["attempts"]) for row in children)
    assert attempts == [1] * (CHILDREN - 1) + [2], attempts[-3:]


def test_ctrl_c_of_a_big_fan_out_run_leaves_every_child_recorded(project: Path) -> None:
    """`pingback run` of the same fan-out, interrupted while its children wait: 601
    executions in history, none pending or running, the queued children interrupted."""
    args = ["run", "parent", "--payload", json.dumps({"children": CHILDREN}), "--concurrency", "documented"]
    with started_cli(project, *args) as process:
        poll("the run's children on disk", all_on_disk(project), SETTLE, 0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=SETTLE)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stdout + stderr
    settled = assert_history_settled(project)
    children = [row for row in settled if row["function"] == "child"]
    assert len(children) == CHILDREN
    assert {row["status"] for row in children} == {"interrupted"}


@pytest.mark.long(12)  # a lock held past the busy timeout (5 s)
def test_a_lock_held_past_the_busy_timeout_mid_fan_out_loses_nothing(project: Path) -> None:
    """Found by a new user's trial: another process held the history's write lock for longer than
    the busy timeout while a big fan-out finished its children; the flush that failed lost its
    rows, and every flush handed over after it was dropped, so children that had succeeded
    were missing or stayed pending (and the next dev ran them again). Now the failed flush waits
    and is written once the lock is gone: every child recorded once, success, exit 0."""
    args = ["run", "parent", "--payload", json.dumps({"children": CHILDREN}), "--concurrency", "documented"]
    with started_cli(project, *args) as process:
        poll("the run's children on disk", all_on_disk(project), SETTLE, 0.05)
        with test_concurrency.hold_lock(history_db(project), 7) as locker:
            (project / "fixed").touch()  # the children finish while the file is locked
            _, stderr = process.communicate(timeout=SETTLE)
            assert locker.poll() is not None, "the run ended while the lock was held"
    assert process.returncode == 0, stderr[-2000:]
    assert "error:" not in stderr and "Traceback" not in stderr, stderr[-2000:]
    if "warning: history is not being saved" in stderr:  # said if a flush asked meanwhile
        assert "history caught up: every execution is saved after all" in stderr
    settled = assert_history_settled(project)
    assert len(settled) == CHILDREN + 1
    assert {row["status"] for row in settled} == {"success"}


SWARM = 15_000
"""Children of one fan-out: ~0.5 s to admit a slice per loop turn, their answer under 1 MiB."""


def started(project: Path) -> int:
    log = project / "quick.log"
    return log.read_text(encoding="utf-8").count("\n") if log.exists() else 0


def test_kill_9_of_dev_while_a_big_fan_out_is_admitted_loses_no_child(project: Path) -> None:
    """Found by a new user's trial of the admission in slices (engine/admission.py): the periodic
    flush waited for the last slice, so for the ~1 s a 20,000-child fan-out took to admit nothing
    of it was on disk while thousands of its children ran; a kill -9 then lost them all (the next
    dev found the parent running, with no child). Now every flush admits the rest first: killed
    once 5,000 children have run, the next dev finds every child and runs the rest: each ends
    success but those running at the kill, which end interrupted (no retries left)."""
    first = DevServer(project).start()
    try:
        parent = first.trigger("swarm", {"count": SWARM})
        poll("5,000 children to have run", lambda: started(project) >= 5_000, SETTLE, 0.01, first.output)
        first.stop(signal.SIGKILL)
    finally:
        first.kill()
    second = DevServer(project).start()
    try:
        second.wait_root(parent, "swarm", timeout=120)
    finally:
        second.kill()
    done = durable.rows(project)
    children = [row for row in done.values() if row["parent_id"] == parent]
    assert done[parent]["status"] == "success"
    assert sorted(json.loads(row["payload"])["n"] for row in children) == list(range(SWARM))
    interrupted = [row for row in children if row["status"] != "success"]
    assert {row["status"] for row in interrupted} <= {"interrupted"}
    assert len(interrupted) <= 20  # the platform's pool: what ran at the kill
