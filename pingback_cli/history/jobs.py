"""Job state in the history file: each function's status (active, paused, inactive) and the
options it runs with, so a pause survives a restart of ``pingback dev``; and the job-shaped
reads of executions the platform's API answers (paging by job, child counts).

The table mirrors the platform's ``jobs`` (runpingback/pingback
``apps/platform/src/modules/jobs/job.entity.ts``); the rules that change it live in
``project.registration`` and the emulator, not here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from pingback_cli.history.codec import SELECT, decode_row
from pingback_cli.history.store import Store
from pingback_cli.models import Execution, Job

_COLUMNS = (
    "id, name, type, schedule, status, retries, timeout_seconds, concurrency, source, created_at, updated_at"
)
_UPSERT = (
    f"INSERT INTO jobs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(id) DO UPDATE SET name = excluded.name, type = excluded.type,"
    " schedule = excluded.schedule, status = excluded.status, retries = excluded.retries,"
    " timeout_seconds = excluded.timeout_seconds, concurrency = excluded.concurrency,"
    " source = excluded.source, updated_at = excluded.updated_at"
)


def _job(row: tuple[Any, ...]) -> Job:
    return Job(*row)


def _row(job: Job) -> tuple[Any, ...]:
    return (
        job.id,
        job.name,
        job.type,
        job.schedule,
        job.status,
        job.retries,
        job.timeout_seconds,
        job.concurrency,
        job.source,
        job.created_at,
        job.updated_at,
    )


def created_at(seq: int) -> float:
    """A row's ``seq`` is the microsecond clock at its creation (``Store._next_seq``)."""
    return seq / 1_000_000


def _has_jobs(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'").fetchone()
        is not None
    )


class JobStore:
    """Jobs in one history file, through the ``Store`` that owns the connection."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _read(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self.store.connection("read") as conn:
            if "jobs" in sql and not _has_jobs(conn):  # read-only, from before the jobs table
                return []
            return conn.execute(sql, tuple(params)).fetchall()

    def all(self) -> list[Job]:
        """Every job, newest first (jobs.service.ts:78 orders by created_at DESC)."""
        rows = self._read(f"SELECT {_COLUMNS} FROM jobs ORDER BY created_at DESC, name")
        return [_job(row) for row in rows]

    def by_name(self) -> dict[str, Job]:
        return {job.name: job for job in self.all()}

    def get(self, job_id: str) -> Job | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def save(self, jobs: Iterable[Job]) -> list[Job]:
        """Insert or update each job (by id) in one transaction; returns the jobs as stored.

        A name has one job (the platform's jobs are unique by project and name): a job whose
        name another process stored first under another id (two ``pingback run`` starting at
        once, each creating the job) takes that row's id and creation time instead of failing.
        """
        wanted = list(jobs)
        if not wanted:
            return []
        with self.store.connection("write", write=True) as conn:
            marks = ", ".join("?" for _ in wanted)
            stored = {
                name: (job_id, created)
                for name, job_id, created in conn.execute(
                    f"SELECT name, id, created_at FROM jobs WHERE name IN ({marks})",
                    [job.name for job in wanted],
                )
            }
            saved = [
                job.replace(id=stored[job.name][0], created_at=stored[job.name][1])
                if job.name in stored and stored[job.name][0] != job.id
                else job
                for job in wanted
            ]
            conn.executemany(_UPSERT, [_row(job) for job in saved])
        return saved

    def delete(self, job_id: str) -> None:
        with self.store.connection("write", write=True) as conn:
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def last_runs(self) -> dict[str, float]:
        """Each cron's latest fire (``scheduledAt`` of its newest cron-made execution)."""
        rows = self._read(
            "SELECT function, MAX(scheduled_at) FROM executions WHERE \"trigger\" = 'cron' GROUP BY function"
        )
        return {name: at for name, at in rows}

    def executions(self, function: str, page: int, limit: int) -> tuple[list[tuple[Execution, float]], int]:
        """One page of a function's executions (roots and children alike), newest first, each
        with its creation time, and how many there are (executions.service.ts:75-83)."""
        [(total,)] = self._read("SELECT COUNT(*) FROM executions WHERE function = ?", (function,))
        rows = self._read(
            f"SELECT seq, {SELECT} FROM executions WHERE function = ? ORDER BY seq DESC LIMIT ? OFFSET ?",
            (function, max(limit, 0), max(page - 1, 0) * max(limit, 0)),
        )
        return [(decode_row(row[1:]), created_at(row[0])) for row in rows], int(total)

    def created(self, execution_id: str) -> float | None:
        """When the execution was created (unix seconds), None for an unknown id."""
        rows = self._read("SELECT seq FROM executions WHERE id = ?", (execution_id,))
        return created_at(rows[0][0]) if rows else None

    def child_count(self, execution_id: str) -> int:
        [(count,)] = self._read("SELECT COUNT(*) FROM executions WHERE parent_id = ?", (execution_id,))
        return int(count)
