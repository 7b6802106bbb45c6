"""The write-behind thread (``history.write_behind``): a big flush is committed off the
engine's thread, in statements of many rows, in order, and what it writes is exactly what a
row at a time writes; a commit's error reaches the store's caller; readers and ``close``
wait for it."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from history.records import T0, make
from pingback_cli.errors import HistoryError
from pingback_cli.history.codec import QUOTED, UPSERT, encode_row
from pingback_cli.history.connection import open_connection, transaction
from pingback_cli.history.store import Store
from pingback_cli.history.write_behind import Flush, WriteBehind, Writes

ROWS = ", ".join(QUOTED)
TEXT = "é\u2028"


def rows_of(count: int, *, status: str = "success") -> list[tuple[object, ...]]:
    root = make("root", status="success")
    children = [
        make(f"c{i:05d}", "leaf", parent=root, status=status, payload={"i": i, "s": TEXT}, has_payload=True)
        for i in range(count)
    ]
    return [encode_row(seq, e, "owner", None, None) for seq, e in enumerate((root, *children), start=1)]


def fresh(tmp_path: Path, name: str) -> sqlite3.Connection:
    conn, _ = open_connection(tmp_path / f"{name}.sqlite3", readonly=False)
    return conn


def table(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return conn.execute(f"SELECT {ROWS} FROM executions ORDER BY seq").fetchall()


@pytest.mark.parametrize("count", [0, 1, 2, 3, 255, 256, 511, 512, 513, 1400])
def test_many_rows_a_statement_write_what_a_row_at_a_time_writes(tmp_path: Path, count: int) -> None:
    rows = rows_of(count)
    one, many = fresh(tmp_path, "one"), fresh(tmp_path, "many")
    with transaction(one):
        one.executemany(UPSERT, rows)
    with transaction(many):
        Writes(many).upsert(rows)
    assert table(many) == table(one)
    assert len(table(many)) == count + 1


def test_a_later_row_of_the_same_id_wins_within_one_statement(tmp_path: Path) -> None:
    pending, done = rows_of(3, status="pending"), rows_of(3)
    conn = fresh(tmp_path, "twice")
    with transaction(conn):
        Writes(conn).upsert([*pending, *done])
    assert [row[7] for row in table(conn)] == ["success"] * 4


def test_a_small_parameter_limit_still_writes_everything(tmp_path: Path) -> None:
    conn = fresh(tmp_path, "limited")
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)  # SQLite's default before 3.32
    rows = rows_of(100)
    with transaction(conn):
        Writes(conn).upsert(rows)
    assert len(table(conn)) == 101


def test_a_commit_that_fails_is_raised_by_the_next_call_once(tmp_path: Path) -> None:
    conn = fresh(tmp_path, "failing")
    behind = WriteBehind(Writes(conn), lambda exc: HistoryError(f"cannot write: {exc}"))
    unbindable = [(*rows_of(0)[0][:-1], object())]  # a value sqlite3 cannot bind
    behind.submit(Flush(None, None, "owner", None, unbindable, []))
    with pytest.raises(HistoryError, match="cannot write"):
        behind.drain()
    behind.submit(Flush(None, None, "owner", None, rows_of(2), []))  # the next flush is written
    behind.stop()
    assert len(table(conn)) == 3


def test_a_big_flush_is_committed_off_the_callers_thread(path: Path) -> None:
    committed_on: list[str] = []
    with Store(path) as store:
        store.write_behind_at = 256
        commit = store._writes.commit

        def spy(flush: Flush) -> None:
            committed_on.append(threading.current_thread().name)
            commit(flush)

        store._writes.commit = spy  # type: ignore[method-assign]
        root = make("root", status="success")
        store.save(root)
        store.flush()  # small: committed here, as before
        for i in range(store.write_behind_at):
            store.save(make(f"c{i:05d}", "leaf", parent=root, status="success", due_at=T0))
        store.flush(wait=False)
        store.save(make("late", "leaf", parent=root, status="success"))
        store.flush(wait=False)  # once there is a thread, every flush goes through it, in order
        assert store.count() == store.write_behind_at + 2  # a read waits for what was handed over
    assert committed_on == [threading.current_thread().name, "history-writer", "history-writer"]


def test_an_error_of_the_thread_reaches_the_store_as_a_history_error(path: Path) -> None:
    store = Store(path)
    store.write_behind_at = 1
    store.save(make("first", status="success"))
    store.flush()
    refuse = (
        "CREATE TRIGGER no_more BEFORE INSERT ON executions BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
    )
    with store.connection("test", write=True) as conn:  # the thread is idle meanwhile
        conn.execute(refuse)
    store.save(make("second", status="success"))
    store.flush(wait=False)
    with pytest.raises(HistoryError, match="disk says no"):
        store.flush()  # the error of the flush before, once
    with store.connection("test", write=True) as conn:
        conn.execute("DROP TRIGGER no_more")
    store.save(make("third", status="success"))
    store.close()
    assert [row[0] for row in sqlite3.connect(path).execute("SELECT id FROM executions ORDER BY seq")] == [
        "first",
        "third",
    ]
