"""Fan-out children that have not started are recorded compactly (``history.queued``): one
batch row per flush, each child's row written once, when it starts or ends, when this process
reads, when the store closes, or once its batch is old; a batch a stopped process left becomes
pending rows when a writer opens the file, so nothing queued is lost."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from history.records import T0, make
from pingback_cli.history import queued
from pingback_cli.history.codec import COLUMNS, encode_row
from pingback_cli.history.owner import process_identity
from pingback_cli.history.queue import DEV_QUEUE, take_over
from pingback_cli.history.recovery import DIED, recover
from pingback_cli.history.store import Store
from pingback_cli.models import Attempt, Execution


def dead_owner() -> str:
    """The identity of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = process_identity(child.pid)
    child.wait()
    return identity


def raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows straight from the file, as a reader in another process sees it."""
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def fan_out(count: int) -> tuple[Execution, list[Execution]]:
    root = make("ab", status="success")
    children = [
        make(f"c{i}", "leaf", parent=root, status="pending", payload={"i": i}, has_payload=True, due_at=T0)
        for i in range(count)
    ]
    return root, children


def save_fan_out(store: Store, root: Execution, children: list[Execution]) -> None:
    """The fan-out as the engine hands it over: the root and its children saved, then flushed."""
    for execution in (root, *children):
        store.save(execution)
    store.flush()


def finish(child: Execution) -> None:
    child.attempts = [Attempt(number=1, status="success", started_at=T0 + 1, completed_at=T0 + 2)]
    child.attempt, child.status, child.started_at, child.completed_at = 1, "success", T0 + 1, T0 + 2


def stop_without_closing(store: Store) -> None:
    """As ``kill -9`` leaves the file: what was flushed stays, nothing more is written."""
    store._conn.close()


def test_queued_children_are_one_batch_row_not_rows(path: Path) -> None:
    store = Store(path)
    root, children = fan_out(3)
    save_fan_out(store, root, children)
    assert raw(path, "SELECT id FROM executions") == [("ab",)]
    assert len(raw(path, "SELECT id FROM queued_batches")) == 1
    stop_without_closing(store)


def test_a_child_row_is_written_once_in_creation_order_and_the_batch_goes_with_the_last(
    path: Path,
) -> None:
    store = Store(path)
    root, children = fan_out(2)
    save_fan_out(store, root, children)
    finish(children[1])
    store.save(children[1])
    store.flush()
    assert sorted(raw(path, "SELECT id, status FROM executions")) == [("ab", "success"), ("c1", "success")]
    assert len(raw(path, "SELECT id FROM queued_batches")) == 1
    finish(children[0])
    store.save(children[0])
    store.flush()
    assert raw(path, "SELECT id FROM queued_batches") == []
    ordered = [row[0] for row in raw(path, "SELECT id FROM executions ORDER BY seq")]
    assert ordered == ["ab", "c0", "c1"]  # as created, not as finished
    stop_without_closing(store)


def test_a_queued_childs_row_is_the_row_encode_row_writes(path: Path) -> None:
    """Its payload's text, written once into the batch, is reused for its row: the row is the
    one encode_row writes from the execution itself, for payloads of every kind."""
    store = Store(path)
    root, children = fan_out(5)
    payloads = [{"i": [1, 2.5, "é"]}, float("nan"), {1, 2}, None, "text"]
    for child, payload in zip(children, payloads, strict=True):
        child.payload, child.has_payload = payload, payload is not None
    save_fan_out(store, root, children)
    for child in children:
        finish(child)
        store.save(child)
    store.flush()
    columns = ", ".join(f'"{name}"' for name in COLUMNS)
    rows = {row[0]: row for row in raw(path, f"SELECT {columns} FROM executions WHERE id != 'ab'")}
    assert len(rows) == 5
    for child in children:
        row = rows[child.id]
        assert row == encode_row(row[COLUMNS.index("seq")], child, store.owner)
    stop_without_closing(store)


def test_this_process_reads_queued_children_as_pending_and_others_do_after_close(path: Path) -> None:
    store = Store(path)
    root, children = fan_out(2)
    save_fan_out(store, root, children)
    tree = store.tree("ab")
    assert [(c.id, c.status, c.payload) for c in tree.children] == [
        ("c0", "pending", {"i": 0}),
        ("c1", "pending", {"i": 1}),
    ]
    assert raw(path, "SELECT id FROM queued_batches") == []

    other, (late,) = make("ad", status="success"), fan_out(1)[1]
    late.parent_id = late.root_id = other.id
    store.save(other)
    store.save(late)
    store.close()
    with Store(path, readonly=True) as reader:
        assert reader.get(late.id).status == "pending"


def test_a_batch_older_than_the_limit_is_written_as_rows(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(path)
    root, children = fan_out(2)
    save_fan_out(store, root, children)
    assert len(raw(path, "SELECT id FROM executions")) == 1
    monkeypatch.setattr(queued, "MATERIALIZE_AFTER", -1.0)
    store.flush()
    assert len(raw(path, "SELECT id FROM executions WHERE status = 'pending'")) == 2
    assert raw(path, "SELECT id FROM queued_batches") == []
    stop_without_closing(store)


def test_materialized_rows_are_the_rows_a_pending_child_is_written_as(path: Path) -> None:
    _, (child,) = fan_out(1)
    child.type = None  # an unknown function's child too
    text, payloads = queued.encode_batch([(123, child)], simulated=False)
    assert queued.pending_rows(text, "owner", DEV_QUEUE) == [encode_row(123, child, "owner", DEV_QUEUE)]
    assert payloads == [encode_row(123, child, "owner")[COLUMNS.index("payload")]]
    child.has_payload, child.payload = False, None
    text, payloads = queued.encode_batch([(5, child)], simulated=True)
    assert queued.pending_rows(text, None, None) == [encode_row(5, child, None, None, simulated=True)]
    assert payloads == [None]


def test_devs_queued_children_survive_kill_9_and_are_taken_over(path: Path) -> None:
    store = Store(path, queue=DEV_QUEUE)
    store.owner = dead_owner()
    root, children = fan_out(3)
    finish(children[0])
    save_fan_out(store, root, children)
    finish(children[1])
    store.save(children[1])
    store.flush()
    stop_without_closing(store)

    with Store(path, queue=DEV_QUEUE) as next_dev:
        assert raw(path, "SELECT id FROM queued_batches") == []
        [tree] = take_over(next_dev)
    assert [(c.id, c.status) for c in tree.children] == [
        ("c0", "success"),
        ("c1", "success"),
        ("c2", "pending"),
    ]
    assert raw(path, "SELECT queue FROM executions WHERE id = 'c2'") == [(DEV_QUEUE,)]


def test_runs_queued_children_are_interrupted_after_kill_9(path: Path) -> None:
    store = Store(path)
    store.owner = dead_owner()
    root, children = fan_out(2)
    save_fan_out(store, root, children)
    stop_without_closing(store)

    with Store(path) as next_run:
        assert recover(next_run) == 2
        statuses = {c.id: (c.status, c.error) for c in next_run.tree("ab").children}
    assert statuses == {"c0": ("interrupted", DIED), "c1": ("interrupted", DIED)}


def test_a_writer_opening_beside_a_live_one_never_makes_it_reuse_a_batch_id(path: Path) -> None:
    """Three `pingback run`s on one history (tests/reliability/test_handlers does this): a writer
    that opens the file turns every batch into pending rows, a live process's too, and deletes
    them. The live process's next batch must not get the id of one it still holds: it did
    (SQLite reuses the largest rowid once deleted), and the miscount ended in a KeyError in
    the flush that hung `run fan-out-10k`."""
    live = Store(path)
    root, first = fan_out(2)
    save_fan_out(live, root, first)  # batch 1
    second = [make(f"d{i}", "leaf", parent=root, status="pending", due_at=T0) for i in range(2)]
    save_fan_out(live, root, second)  # batch 2
    Store(path).close()  # another writer opens: both batches become pending rows, deleted
    third = [make(f"e{i}", "leaf", parent=root, status="pending", due_at=T0) for i in range(2)]
    save_fan_out(live, root, third)  # a new batch: never id 1 or 2 again
    for child in (*first, *second, *third):
        finish(child)
        live.save(child)
        live.flush()
    live.close()
    statuses = dict(raw(path, "SELECT id, status FROM executions"))
    assert statuses == {"ab": "success"} | {child.id: "success" for child in (*first, *second, *third)}
    assert raw(path, "SELECT id FROM queued_batches") == []


def test_a_version_9_file_keeps_its_batches_through_migration_10(path: Path) -> None:
    """Migration 10 rebuilds queued_batches (AUTOINCREMENT): a batch a stopped process left in a
    version-9 file still becomes its pending rows when the next writer opens it."""
    store = Store(path)
    root, children = fan_out(2)
    save_fan_out(store, root, children)
    stop_without_closing(store)
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE v9 (id INTEGER PRIMARY KEY, owner TEXT, queue TEXT, children TEXT NOT NULL);"
        "INSERT INTO v9 SELECT * FROM queued_batches; DROP TABLE queued_batches;"
        "ALTER TABLE v9 RENAME TO queued_batches; PRAGMA user_version = 9;"
    )
    conn.close()
    Store(path).close()
    assert sorted(raw(path, "SELECT id, status FROM executions")) == [
        ("ab", "success"), ("c0", "pending"), ("c1", "pending"),
    ]  # fmt: skip
    assert raw(path, "SELECT id FROM queued_batches") == []
    assert "AUTOINCREMENT" in raw(path, "SELECT sql FROM sqlite_master WHERE name = 'queued_batches'")[0][0]
