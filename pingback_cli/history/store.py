"""Execution history in ``<project>/.pingback/history.sqlite3``.

One writer process buffers executions and flushes them in one transaction (big flushes by a
thread: ``history.write_behind``); other processes may read at the same time (WAL mode). Rows
are ``codec``'s; a fan-out child that has not started is first recorded compactly
(``history.queued``), its row written once.
"""

from __future__ import annotations

import itertools
import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any

from pingback_cli import state as statedir
from pingback_cli.errors import HistoryError, NotFound, UsageError
from pingback_cli.history.admitting import Admitting, may_write
from pingback_cli.history.codec import (
    SELECT,
    SELECT_ROOT,
    decode_row,
    encode_row,
)
from pingback_cli.history.connection import history_error, open_connection, transaction
from pingback_cli.history.owner import process_identity
from pingback_cli.history.queued import Plan, QueuedChildren, encode_batch, materialize
from pingback_cli.history.schema import shown_at
from pingback_cli.history.statuses import status_term
from pingback_cli.history.summary import RootSummary
from pingback_cli.history.write_behind import Flush, WriteBehind, Writes
from pingback_cli.models import Execution

_PREFIX = re.compile(r"[0-9a-f-]+")
_AMBIGUOUS_SHOWN = 5


def history_path(project_root: Path) -> Path:
    return statedir.state_dir(project_root) / statedir.HISTORY


def no_history(execution_id: str) -> NotFound:
    """What `show` and `replay` say of an id in a project that has no history file yet (exit 2,
    as for any unknown id, not the "no history" HistoryError that opening the file raises)."""
    return NotFound(
        f'no execution matches "{execution_id}": there is no history yet',
        hint="run `pingback run NAME` or `pingback dev` first",
    )


class Store:
    """The history file. Not shared between processes as an object, only as a file."""

    auto_flush_at = 10_000
    """Buffered executions that trigger a flush from ``save``, bounding memory."""

    write_behind_at = 256
    """Rows in one flush from which this store's flushes are committed by a thread
    (``history.write_behind``), from then on: a fan-out's, not a single trigger's."""

    def __init__(
        self,
        path: Path,
        *,
        readonly: bool = False,
        queue: str | None = None,
        root_trigger: str | None = None,
        simulated: bool = False,
    ) -> None:
        self.path = path
        self.readonly = readonly
        self.queue = queue
        """Stamped on every row written: the durable queue (``"dev"``) that holds this
        process's unfinished work for whoever takes the queue over next; None for ``run``."""
        self.root_trigger = root_trigger
        """When set, written as the trigger of every root execution (``"simulate"``: runs a
        simulation put in real history are marked as such in ``runs``, ``show`` and the dashboard)."""
        self.simulated = simulated
        """The executions written have the times of a simulated clock (``simulate --run``, the
        pytest fixture): lists order them by when they were recorded (``codec.listed_at``)."""
        self._lock = threading.RLock()
        # id -> (seq, execution); rows are built from the object's state at flush time.
        self._buffer: dict[str, tuple[int, Execution]] = {}
        self._last_seq = 0
        self._queued = QueuedChildren()
        self._tokens = itertools.count(1)
        """A new batch's name until its flush is committed (``write_behind.Writes.batch_ids``)."""
        self._behind: WriteBehind | None = None
        self.admission: Admitting | None = None
        """Every write has it admit what is pending first: a fan-out is written whole, and by the
        next periodic flush (``history.admitting``)."""
        self.owner = process_identity(os.getpid())
        """Stamped on every row written, so a later process can tell whose runs died with it."""
        self._conn, self.moved_aside = open_connection(path, readonly=readonly)
        """``moved_aside``: where a corrupt history file was moved before a fresh one was started."""
        self._writes = Writes(self._conn)
        if not readonly:
            try:
                with self._guard("open"):
                    if self._conn.execute("SELECT 1 FROM queued_batches LIMIT 1").fetchone():
                        with transaction(self._conn):  # a stopped process's queued children
                            materialize(self._conn)
                    [(self._last_seq,)] = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM executions")
            except BaseException:
                self._conn.close()
                raise

    # -- writing -------------------------------------------------------------------

    def save(self, execution: Execution) -> None:
        """Buffer an upsert of ``execution``; the latest save of an id wins. Three times per
        execution (queued, started, ended), so a save of one already buffered only checks."""
        if self.readonly:
            self.require_writable()
        with self._lock:
            buffered = self._buffer.get(execution.id)
            if buffered is not None:  # rows are built from the object at flush time
                if buffered[1] is not execution:
                    self._buffer[execution.id] = (buffered[0], execution)
                return
            self._buffer[execution.id] = (self._next_seq(), execution)
            if len(self._buffer) >= self.auto_flush_at:
                self.flush(wait=False)

    def flush(self, *, wait: bool = True) -> None:
        """Write every buffered execution in one transaction; a fan-out child that has not
        started only into its flush's batch (``history.queued``), its row written later.
        ``wait``: return once it is committed; without, once the write-behind thread has it
        (when this store has one: the engine's periodic flushes). HistoryError on failure
        (without ``wait``, possibly an earlier flush's)."""
        with self._lock:
            if not may_write(self.admission):
                return
            self._write_out(everything=False)
            if wait:
                self._drain()

    def _write_out(self, *, everything: bool) -> None:
        """Flush; ``everything``: also the rows of every child recorded only in a batch (before
        this process reads history, so that its readers see them), and wait until written."""
        with self._lock:
            if everything:
                may_write(self.admission)
            now = time.monotonic()
            if self._buffer or self._queued.owed(everything=everything, now=now):
                self._hand_over(self._queued.plan(self._buffer.values(), everything=everything, now=now), now)
            elif self._behind is None and self._writes.backlog:  # an earlier flush failed: again
                with self._guard("write"):
                    self._writes.commit_backlog()
            if everything:
                self._drain()

    def _hand_over(self, plan: Plan, now: float) -> None:
        """Encode ``plan`` and commit it: here, or by the write-behind thread once a flush has
        been big (``write_behind_at``)."""
        self._buffer.clear()
        owner, queue, label, simulated = self.owner, self.queue, self.root_trigger, self.simulated
        rows = [
            encode_row(seq, e, owner, queue, label, simulated=simulated, payload=payload)
            for seq, e, payload in plan.rows
        ]
        batch, payloads = encode_batch(plan.compact, simulated=simulated) if plan.compact else (None, [])
        token = next(self._tokens) if batch is not None else None
        flush = Flush(batch, token, owner, queue, rows, plan.emptied)
        if token is not None:
            self._queued.record(token, plan.compact, payloads, now)
        if self._behind is None and len(rows) + len(plan.compact) >= self.write_behind_at:
            self._behind = WriteBehind(self._writes, self._write_failed)
        with self._guard("write"):
            if self._behind is not None:
                self._behind.submit(flush)
            else:  # a failed flush stays in the backlog, tried again before the next one
                self._writes.add(flush)
                self._writes.commit_backlog()

    def _drain(self) -> None:
        """Wait until the write-behind thread (if any) has committed every flush."""
        if self._behind is not None:
            with self._guard("write"):
                self._behind.drain()

    @property
    def lost(self) -> int:
        """Rows given up, never written (0: every flush was written, some perhaps on a later try)."""
        return self._writes.lost

    def _write_failed(self, exc: BaseException) -> BaseException:
        """The write-behind thread's error as raised here."""
        return history_error(self.path, exc, "write") if isinstance(exc, sqlite3.Error) else exc

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        """Write rows built by ``codec.encode_row`` in one transaction (a bulk load)."""
        if not rows:
            return
        with self._lock:
            self._drain()
            with self._guard("write"), transaction(self._conn):
                self._writes.upsert(rows)

    def close(self) -> None:
        """Write everything, queued children as rows (readers of the file see them as pending
        without a writer to open it first), and close. HistoryError when something could not
        be written even on the last try (``lost`` counts it)."""
        with self._lock:
            error: HistoryError | None = None
            try:
                if not self.readonly:
                    self._write_out(everything=True)
            except HistoryError as exc:
                if self._behind is None:
                    raise
                error = exc  # the thread's last try, below, may still write it all
            finally:
                behind, self._behind = self._behind, None
                try:
                    if behind is not None:
                        with self._guard("write"):
                            behind.stop()
                        error = None  # its last try wrote everything
                finally:
                    self._writes.give_up()  # what still could not be written is lost now
                    self._conn.close()
            if error is not None:
                raise error

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------

    def get(self, execution_id: str) -> Execution:
        """The execution with exactly this id, without children."""
        rows = self._query(f"SELECT {SELECT} FROM executions WHERE id = ?", (execution_id,))
        if not rows:
            raise NotFound(f'no execution "{execution_id}"', hint=_RUNS_HINT)
        return decode_row(rows[0])

    def resolve(self, prefix: str) -> str:
        """The one id starting with ``prefix``, like git's short hashes."""
        wanted = prefix.strip().lower()
        if not _PREFIX.fullmatch(wanted):
            raise UsageError(
                f'"{prefix}" is not an execution id',
                hint="use an id or its first characters (0-9, a-f and -) from `pingback runs`",
            )
        bounds = (wanted, wanted[:-1] + chr(ord(wanted[-1]) + 1))
        ids = [
            row[0]
            for row in self._query(
                "SELECT id FROM executions WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
                (*bounds, _AMBIGUOUS_SHOWN + 1),
            )
        ]
        if not ids:
            raise NotFound(f'no execution matches "{wanted}"', hint=_RUNS_HINT)
        if len(ids) == 1 or ids[0] == wanted:
            return ids[0]
        [(total,)] = self._query("SELECT COUNT(*) FROM executions WHERE id >= ? AND id < ?", bounds)
        width = max(8, len(wanted) + 2)
        shown = [f"{found[:width]}.." if len(found) > width else found for found in ids]
        listed = ", ".join(shown[:_AMBIGUOUS_SHOWN]) + (", ..." if total > _AMBIGUOUS_SHOWN else "")
        raise UsageError(f'"{wanted}" matches {total} executions: {listed}; type more characters')

    def tree(self, id_or_prefix: str) -> Execution:
        """The execution with its descendants nested in ``children``, in creation order."""
        execution_id = self.resolve(id_or_prefix)
        # Sorting in Python is much cheaper than SQLite sorting whole rows in a temp b-tree.
        rows = self._query(
            f"SELECT seq, {SELECT} FROM executions"
            " WHERE root_id = (SELECT root_id FROM executions WHERE id = ?)",
            (execution_id,),
        )
        rows.sort(key=itemgetter(0))
        nodes = {row[1]: decode_row(row[1:]) for row in rows}
        for node in nodes.values():
            parent = nodes.get(node.parent_id) if node.parent_id else None
            if parent is not None:
                parent.children.append(node)
        if execution_id not in nodes:
            raise NotFound(f'no execution "{execution_id}"', hint=_RUNS_HINT)
        return nodes[execution_id]

    def recent_roots(
        self,
        limit: int = 20,
        *,
        function: str | None = None,
        status: str | None = None,
        trigger: str | None = None,
    ) -> list[RootSummary]:
        """Root executions, newest shown time first (``schema.shown_at``: started, else due),
        with counts over their descendants. ``status`` "failed" also takes roots with a failed
        execution anywhere below them; "interrupted" also takes running roots whose process is
        gone, which "running" leaves out (``history.statuses``). ``trigger``: only roots started
        that way (``queries.TRIGGERS``)."""
        where = ["r.parent_id IS NULL"]
        params: list[Any] = []
        for column, value in (("r.function", function), ('r."trigger"', trigger)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if status == "failed":  # a run whose children failed is a failed run to look at
            where.append(
                "(r.status = 'failed' OR EXISTS (SELECT 1 FROM executions f"
                " WHERE f.root_id = r.id AND f.status = 'failed'))"
            )
        elif status is not None:
            term, values = status_term(status, self._query, self.owner)
            where.append(term)
            params.extend(values)
        below = "SELECT COUNT(*) FROM executions d WHERE d.root_id = r.id AND d.rowid != r.rowid"
        rows = self._query(
            f"SELECT {SELECT_ROOT},"
            f" ({below}),"
            f" ({below} AND d.status = 'failed'),"
            f" ({below} AND d.status IN ('pending', 'running'))"
            f" FROM executions r WHERE {' AND '.join(where)}"
            f" ORDER BY {shown_at('r')} DESC, r.rowid DESC LIMIT ?",
            (*params, max(limit, 0)),
        )
        return [RootSummary(decode_row(row[:-3]), row[-3], row[-2], row[-1]) for row in rows]

    def count(self) -> int:
        [(total,)] = self._query("SELECT COUNT(*) FROM executions", ())
        return int(total)

    def read(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read-only statement, after writing what is buffered (for ``queries``)."""
        return self._query(sql, params)

    # -- helpers -------------------------------------------------------------------

    @contextmanager
    def connection(self, action: str, *, write: bool = False) -> Iterator[sqlite3.Connection]:
        """The open connection, buffered executions flushed first, under the store's lock;
        ``write`` wraps it in one transaction. sqlite errors become HistoryError."""
        if write:
            self.require_writable()
        with self._lock:
            if not self.readonly:
                self._write_out(everything=True)
            with self._guard(action):
                if not write:
                    yield self._conn
                    return
                with transaction(self._conn):
                    yield self._conn

    def _query(self, sql: str, params: Iterable[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            if not self.readonly:
                self._write_out(everything=True)
            with self._guard("read"):
                return self._conn.execute(sql, tuple(params)).fetchall()

    def _next_seq(self) -> int:
        # Microsecond clock keeps creation order across processes; the counter breaks ties.
        self._last_seq = max(self._last_seq + 1, time.time_ns() // 1000)
        return self._last_seq

    def require_writable(self) -> None:
        """Raises HistoryError when the store was opened read-only."""
        if self.readonly:
            raise HistoryError(f"history file {self.path} is open read-only")

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise history_error(self.path, exc, action) from exc


_RUNS_HINT = "`pingback runs` lists recent executions"
