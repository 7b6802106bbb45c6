"""History's write-behind: a thread commits the store's big flushes while the engine runs on.

A flush of a fan-out costs SQLite ~10-15 µs a row (the row, its primary key, five indexes),
a fifth of `pingback run`'s loop when it ran on the engine's thread. Here the store encodes
its rows (Python, under the GIL) and hands them to one thread, which binds them in
statements of many rows each (``INSERT ... VALUES (...), (...) ... ON CONFLICT``): the sqlite3
module then lets go of the GIL once per statement rather than once per row. With
``executemany`` a writing thread needed the GIL back after every row and waited up to a
switch interval for it each time while the loop ran (a convoy): slower than writing on the
loop, which is why history was written there until now.

Flushes commit in the order they were handed over, each in one transaction, as before. The
store waits for them (:meth:`WriteBehind.drain`) before it reads or closes; a flush's error
is raised by the next ``submit`` or ``drain``, once. A flush that fails (the file locked by
another process past the busy timeout, a full disk, a read-only folder) is not dropped: it
waits in the backlog, before every later one, and is tried again (every ``RETRY_SECONDS``, at
the next flush, and at close), so a history that becomes writable again loses nothing. Given up
(counted in ``Writes.lost``): a flush that fails otherwise (a corrupt file), the oldest of a
backlog past ``MOST_WAITING_ROWS``, and what still fails at close.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from pingback_cli.history.codec import COLUMNS, UPSERT
from pingback_cli.history.connection import transaction
from pingback_cli.history.queued import DELETE_BATCH, INSERT_BATCH
from pingback_cli.record import Record

Row = Sequence[Any]

_HEAD, _, _REST = UPSERT.partition(" VALUES ")
_ONE_ROW, _, _ON_CONFLICT = _REST.partition(" ON CONFLICT ")

MOST_ROWS = 512
"""Rows per statement at most: 512 x 26 parameters, under SQLite's default limit of 32,766."""

RETRY_SECONDS = 1.0
"""How often the thread tries a failed flush again while nothing new comes."""

MOST_WAITING_ROWS = 200_000
"""Rows a backlog of failed flushes may hold (~100 MB) before its oldest are given up."""


class Flush(Record):
    """One flush's writes: ``batch``, a new ``queued_batches`` row's children text (known to the
    store as ``token`` until written), the executions' ``rows`` (``codec.COLUMNS`` order), and
    the batches to delete (by token)."""

    __slots__ = _fields = ("batch", "token", "owner", "queue", "rows", "emptied")

    batch: str | None
    token: int | None
    owner: str
    queue: str | None
    rows: list[Row]
    emptied: list[int]

    def __init__(
        self, batch: str | None, token: int | None, owner: str, queue: str | None,
        rows: list[Row], emptied: list[int],
    ) -> None:  # fmt: skip
        self.batch = batch
        self.token = token
        self.owner = owner
        self.queue = queue
        self.rows = rows
        self.emptied = emptied


class Writes:
    """Commits flushes through one connection; ``batch_ids`` maps a batch's token to its row id
    (a batch is written by one flush and deleted by a later one)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.batch_ids: dict[int, int] = {}
        self.backlog: deque[Flush] = deque()
        """Flushes handed over and not yet committed, oldest first (a failed one stays)."""
        self.lost = 0
        """Rows given up for good: a flush that failed for a reason another try cannot mend,
        the oldest of a backlog past ``MOST_WAITING_ROWS``, what still failed at ``give_up``."""
        self._per_statement = _rows_per_statement(conn)
        self._statements: dict[int, str] = {}

    def add(self, flush: Flush) -> None:
        """Put ``flush`` at the end of the backlog (giving up the oldest past ``MOST_WAITING_ROWS``)."""
        self.backlog.append(flush)
        while len(self.backlog) > 1 and sum(len(f.rows) for f in self.backlog) > MOST_WAITING_ROWS:
            self._drop_first()

    def give_up(self) -> None:
        """Drop the backlog (the store is closing and it still cannot be written): counted lost."""
        while self.backlog:
            self._drop_first()

    def commit_backlog(self) -> None:
        """Commit the backlog, oldest first, each flush in its own transaction; raises what the
        first that fails raised: an OperationalError (the file locked, full or read-only) leaves
        it first in the backlog, to be tried again; anything else gives it up (``lost``)."""
        while self.backlog:
            try:
                self.commit(self.backlog[0])
            except BaseException as exc:
                if not isinstance(exc, sqlite3.OperationalError):  # another try cannot mend it
                    self._drop_first()
                raise
            self.backlog.popleft()

    def _drop_first(self) -> None:
        self.lost += len(self.backlog.popleft().rows)

    def commit(self, flush: Flush) -> None:
        """Write ``flush`` in one transaction (``BEGIN IMMEDIATE``); sqlite3.Error on failure,
        with everything rolled back."""
        conn = self.conn
        with transaction(conn):
            if flush.batch is not None:
                batch_id = conn.execute(INSERT_BATCH, (flush.owner, flush.queue, flush.batch)).lastrowid
                assert flush.token is not None and batch_id is not None
                self.batch_ids[flush.token] = batch_id
            if flush.rows:
                self.upsert(flush.rows)
            if flush.emptied:  # a batch whose own flush failed has no row to delete
                ids = [self.batch_ids.pop(token, None) for token in flush.emptied]
                conn.executemany(DELETE_BATCH, [(batch_id,) for batch_id in ids if batch_id is not None])

    def upsert(self, rows: Sequence[Row]) -> None:
        """Insert or update ``rows`` as ``codec.UPSERT`` does one, in as few statements as the
        connection's parameter limit allows: full ones, then the rest in powers of two (a
        handful of statement texts, each prepared once and kept in sqlite3's cache)."""
        conn, most, start, total = self.conn, self._per_statement, 0, len(rows)
        while start < total:
            left = total - start
            size = most if left >= most else 1 << (left.bit_length() - 1)
            chunk = rows[start : start + size]
            conn.execute(self._statement(size), [value for row in chunk for value in row])
            start += size

    def _statement(self, size: int) -> str:
        text = self._statements.get(size)
        if text is None:
            values = ", ".join([_ONE_ROW] * size)
            text = self._statements[size] = f"{_HEAD} VALUES {values} ON CONFLICT {_ON_CONFLICT}"
        return text


def _rows_per_statement(conn: sqlite3.Connection) -> int:
    """The largest power of two of rows whose parameters the connection accepts, at most
    ``MOST_ROWS`` (``getlimit`` is Python 3.11's; before, SQLite's oldest default of 999)."""
    getlimit = getattr(conn, "getlimit", None)
    limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit is not None else 999
    fits = max(1, min(MOST_ROWS, limit // len(COLUMNS)))
    return 1 << (fits.bit_length() - 1)


class WriteBehind:
    """One daemon thread committing :class:`Flush` es in order through ``writes`` (its backlog);
    ``failed`` turns a commit's exception into what ``submit`` and ``drain`` raise (a
    HistoryError), once for each run of failures."""

    def __init__(self, writes: Writes, failed: Callable[[BaseException], BaseException]) -> None:
        self._writes = writes
        self._failed = failed
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._incoming: deque[Flush] = deque()
        self._stopping = False
        self._busy = False
        self._failing = False
        """The last attempt failed: the backlog waits to be tried again."""
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="history-writer", daemon=True)
        self._thread.start()

    def submit(self, flush: Flush) -> None:
        """Queue ``flush``, then raise the error of a flush before it, if one failed since the
        last call that raised (``flush`` is queued all the same)."""
        with self._lock:
            self._incoming.append(flush)
            self._changed.notify_all()
            self._raise_error()

    def drain(self) -> None:
        """Wait until every flush handed over has been tried (committed, or failed and waiting
        in the backlog: that error is raised here)."""
        with self._lock:
            self._changed.wait_for(lambda: not self._incoming and not self._busy)
            self._raise_error()

    def stop(self) -> None:
        """Try what waits once more, end the thread, and raise the error if that failed."""
        with self._lock:
            self._stopping = True
            self._changed.notify_all()
        self._thread.join()
        with self._lock:
            self._raise_error()

    def _raise_error(self) -> None:
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _due(self) -> bool:
        return bool(self._incoming) or self._stopping

    def _run(self) -> None:
        writes = self._writes
        while True:
            with self._lock:
                if self._failing:  # try the backlog again after a pause, or sooner with news
                    self._changed.wait_for(self._due, RETRY_SECONDS)
                else:
                    self._changed.wait_for(self._due)
                while self._incoming:
                    writes.add(self._incoming.popleft())
                stopping = self._stopping
                self._busy = True
            try:
                writes.commit_backlog()
            except BaseException as exc:  # kept for the store's thread, which reports it
                error: BaseException | None = self._failed(exc)
            else:
                error = None
            with self._lock:
                self._busy = False
                if error is not None and not self._failing and self._error is None:
                    self._error = error  # once for a run of failures
                elif error is None and self._failing:
                    self._error = None  # written on a later try before anyone asked: nothing lost
                self._failing = error is not None
                self._changed.notify_all()
                if stopping:
                    if error is not None:
                        writes.give_up()
                        self._error = error  # what is given up at close is said
                    return
