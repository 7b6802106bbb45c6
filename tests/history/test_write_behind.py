"""The write-behind thread (``history.write_behind``): a big flush is committed off the
engine's thread, in statements of many rows, in order, and what it writes is exactly what a
row at a time writes; a commit's error reaches the store's caller; readers and ``close``
wait for it."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import eventually

from history.records import T0, make
from pingback_cli.errors import HistoryError
from pingback_cli.history import write_behind
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


def table_of(rows: list[tuple[object, ...]], tmp_path: Path) -> list[tuple[object, ...]]:
    """The table ``rows`` make, written one at a time (the reference)."""
    conn = fresh(tmp_path, "reference")
    with transaction(conn):
        conn.executemany(UPSERT, rows)
    return table(conn)


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


# --- a failed flush is kept and tried again (found by a new user's trial: a flush that failed
# while another process held the file past the busy timeout lost its rows, and every flush
# handed over after it was dropped by the submit that raised the error, so children that had
# succeeded stayed pending and the next dev ran them again)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another connection holds the file's write lock meanwhile."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("COMMIT")
        other.close()


def impatient(store: Store) -> Store:
    """The store gives up on a lock after 50 ms, not the busy timeout's 5 s."""
    store._conn.execute("PRAGMA busy_timeout = 50")
    return store


def ids_in(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [row[0] for row in conn.execute("SELECT id FROM executions ORDER BY seq")]
    finally:
        conn.close()


@pytest.mark.parametrize("behind", [False, True], ids=["inline", "write-behind"])
def test_a_flush_that_failed_on_a_lock_is_written_once_the_lock_is_gone(path: Path, behind: bool) -> None:
    store = impatient(Store(path))
    store.write_behind_at = 1 if behind else 10**9
    store.save(make("first", status="success"))
    store.flush()
    with locked(path):
        store.save(make("second", status="success"))
        with pytest.raises(HistoryError, match="locked"):
            store.flush()
        store.save(make("third", status="success"))
        with contextlib.suppress(HistoryError):  # the lock is still held: it waits too
            store.flush()
    store.save(make("fourth", status="success"))
    store.flush()  # the backlog first, in order, then this one
    assert ids_in(path) == ["first", "second", "third", "fourth"]
    store.close()
    assert store.lost == 0


def test_the_thread_tries_again_by_itself(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With nothing new to flush, the write-behind thread retries every RETRY_SECONDS."""
    monkeypatch.setattr(write_behind, "RETRY_SECONDS", 0.05)
    store = impatient(Store(path))
    store.write_behind_at = 1
    with locked(path):
        store.save(make("waiting", status="success"))
        store.flush(wait=False)
        assert eventually(lambda: store._behind is not None and store._behind._failing, 10)
    assert eventually(lambda: ids_in(path) == ["waiting"], 10)
    store.close()
    assert store.lost == 0


@pytest.mark.parametrize("behind", [False, True], ids=["inline", "write-behind"])
def test_what_still_cannot_be_written_at_close_is_counted_lost(path: Path, behind: bool) -> None:
    store = impatient(Store(path))
    store.write_behind_at = 1 if behind else 10**9
    with locked(path):
        store.save(make("one", status="success"))
        store.save(make("two", status="success"))
        with pytest.raises(HistoryError, match="locked"):
            store.close()
    assert store.lost == 2
    assert ids_in(path) == []


def test_a_backlog_past_its_limit_gives_up_its_oldest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(write_behind, "MOST_WAITING_ROWS", 3)
    writes = Writes(fresh(tmp_path, "capped"))
    rows = rows_of(4)  # five distinct executions, in flushes of 2, 1 and 2 rows
    for part in (rows[:2], rows[2:3], rows[3:]):
        writes.add(Flush(None, None, "owner", None, part, []))
    assert writes.lost == 2  # the first flush (2 rows) went; 3 rows wait
    writes.commit_backlog()
    assert table(writes.conn) == table_of(rows[2:], tmp_path)
