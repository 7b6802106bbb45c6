"""Opening the history file: its folder made, WAL mode, migrations (``schema``) run under the
write lock, the read-only and immutable fallbacks for a file we cannot write, a corrupt file
moved aside (``rescue``); and, for every use of the connection, one transaction and sqlite's
errors as ``HistoryError``."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pingback_cli import state as statedir
from pingback_cli.errors import HistoryError
from pingback_cli.history.rescue import in_read_only_folder, is_corrupt, move_aside
from pingback_cli.history.schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT = 5.0
"""Seconds to wait for another process's lock before giving up."""

assert len(MIGRATIONS) == SCHEMA_VERSION


def open_connection(path: Path, *, readonly: bool) -> tuple[sqlite3.Connection, Path | None]:
    """A connection to the history file at ``path``, migrated to ``SCHEMA_VERSION``, and where a
    corrupt file was moved before a fresh one was started (None when it was not).

    Read-only, the file must exist and is never moved. Raises HistoryError (no history yet,
    written by a newer pingback, locked, unreadable)."""
    try:
        return _open(path, readonly), None
    except sqlite3.DatabaseError as exc:
        if readonly or not is_corrupt(exc):
            raise history_error(path, exc, "open") from exc
        moved_aside = move_aside(path)
        try:
            return _open(path, readonly), moved_aside
        except sqlite3.Error as again:
            raise history_error(path, again, "open") from again
    except sqlite3.Error as exc:
        raise history_error(path, exc, "open") from exc


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One ``BEGIN IMMEDIATE`` transaction (the write lock at once), rolled back on any error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def history_error(path: Path, exc: sqlite3.Error, action: str) -> HistoryError:
    """sqlite's ``exc`` while trying to ``action`` (open, read, write) the file, said for people."""
    text = str(exc)
    lowered = text.lower()
    if "not a database" in lowered or "malformed" in lowered:
        return HistoryError(
            f"cannot {action} history file {path}: it is corrupt ({text})",
            hint="move it aside or delete it to start a new history",
        )
    if _is_busy(exc):
        return HistoryError(
            f"cannot {action} history file {path}: it is locked by another process",
            hint="wait for the other pingback process to finish, or stop it",
        )
    if "readonly" in lowered or "unable to open" in lowered:
        return HistoryError(
            f"cannot {action} history file {path}: {text}",
            hint="check that the file and its directory exist and are writable",
        )
    return HistoryError(f"cannot {action} history file {path}: {text}")


def _open(path: Path, readonly: bool) -> sqlite3.Connection:
    if not readonly:
        _prepare_directory(path.parent)
        return _connect_writer(path)
    if not path.exists():
        raise _no_history(path)
    location = path.absolute().as_uri()
    try:
        return _connect(path, f"{location}?mode=ro", uri=True, readonly=True)
    except sqlite3.OperationalError:
        if os.access(path.parent, os.W_OK) and not in_read_only_folder(path):
            raise
        # A folder we cannot write: SQLite cannot create its WAL index there, and
        # nobody can be writing the file either, so it can be read as immutable.
        return _connect(path, f"{location}?mode=ro&immutable=1", uri=True, readonly=True)


def _connect_writer(path: Path) -> sqlite3.Connection:
    """The writable connection, tried again until ``BUSY_TIMEOUT`` while another process holds
    the file: a new file's first opens race to switch it to WAL, and SQLite answers the loser
    "database is locked" at once, without waiting (its deadlock rule for two readers that
    both want to write), so the connection's own timeout never applies."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            return _connect(path, str(path), uri=False, readonly=False)
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _connect(path: Path, target: str, *, uri: bool, readonly: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(
        target,
        uri=uri,
        timeout=BUSY_TIMEOUT,
        isolation_level=None,
        check_same_thread=False,
    )
    try:
        if readonly:
            _check_version(path, conn)
        else:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            _migrate(path, conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _prepare_directory(directory: Path) -> None:
    try:
        statedir.ensure(directory)
    except OSError as exc:
        raise HistoryError(
            f"cannot create the history directory {directory}: {exc.strerror or exc}",
            hint="check that the project directory is writable",
        ) from exc


def _check_version(path: Path, conn: sqlite3.Connection) -> None:
    version = _user_version(conn)
    if version == 0:
        raise _no_history(path)
    if version > SCHEMA_VERSION:
        raise _newer_version(path, version)
    if version < SCHEMA_VERSION:  # reads name columns a later migration added
        try:
            with contextlib.closing(sqlite3.connect(str(path), timeout=BUSY_TIMEOUT)) as writer:
                writer.isolation_level = None
                _migrate(path, writer)
        except sqlite3.Error as exc:
            raise HistoryError(
                f"history file {path} is in an older format ({version}) and cannot be upgraded here: {exc}",
                hint="run `pingback run NAME` once where the file is writable",
            ) from exc


def _migrate(path: Path, conn: sqlite3.Connection) -> None:
    if _user_version(conn) == SCHEMA_VERSION:
        return
    with transaction(conn):
        # Re-read under the write lock: another process may have migrated meanwhile.
        version = _user_version(conn)
        if version > SCHEMA_VERSION:
            raise _newer_version(path, version)
        for script in MIGRATIONS[version:]:
            for statement in _statements(script):
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _no_history(path: Path) -> HistoryError:
    return HistoryError(
        f"no history yet ({path} does not exist)",
        hint="run `pingback run NAME` or `pingback dev` first",
    )


def _newer_version(path: Path, version: int) -> HistoryError:
    return HistoryError(
        f"history file {path} was written by a newer pingback (format {version})",
        hint="upgrade pingback-cli, or move the file aside",
    )


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _statements(script: str) -> Iterator[str]:
    """Split a script into statements (``executescript`` would commit our transaction)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        yield pending.strip()
