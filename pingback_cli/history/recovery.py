"""Rows a pingback process left unfinished: marked ``interrupted`` when that process no longer
exists (``kill -9``, a machine that lost power), or when told to (``mark_interrupted``).

Rows in a durable queue are left alone: the next ``pingback dev`` takes them over
(``history.queue.take_over``)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from pingback_cli.history.codec import dump_attempts, load_attempts
from pingback_cli.history.owner import is_alive
from pingback_cli.history.store import Store

_UNFINISHED = ("pending", "running")
DIED = "interrupted: the pingback process running this stopped unexpectedly"


def recover(store: Store) -> int:
    """Mark ``interrupted`` the unfinished rows, outside a durable queue, of every pingback
    process but this one that no longer runs. Returns how many."""
    store.require_writable()
    owners = [
        row[0]
        for row in store.read(
            "SELECT DISTINCT owner FROM executions WHERE status IN ('pending', 'running') AND queue IS NULL"
        )
    ]
    orphans: list[str] = []
    for owner in owners:
        if owner == store.owner or is_alive(owner):
            continue
        orphans.extend(
            row[0]
            for row in store.read(
                "SELECT id FROM executions"
                " WHERE status IN ('pending', 'running') AND owner IS ? AND queue IS NULL",
                (owner,),
            )
        )
    return mark_interrupted(store, orphans, reason=DIED, died=True) if orphans else 0


def mark_interrupted(
    store: Store, ids: Iterable[str] | None = None, *, reason: str, died: bool = False
) -> int:
    """Mark pending/running executions (all, or only ``ids``) interrupted with ``reason``, what is
    buffered included; their running attempts end now, or, when their process ``died``, when
    they were last seen (``Attempt.last_seen``; the duration unknown when never). Returns how many."""
    wanted = None if ids is None else set(ids)
    updates: list[tuple[Any, ...]] = []
    with store.connection("write", write=True) as conn:
        now = time.time()
        rows = conn.execute(
            "SELECT id, started_at, attempts FROM executions WHERE status IN ('pending', 'running')"
        ).fetchall()
        for execution_id, _started_at, attempts_text in rows:
            if wanted is not None and execution_id not in wanted:
                continue
            attempts = load_attempts(attempts_text)
            ended: float | None = now
            for attempt in attempts:
                if attempt.status in _UNFINISHED:
                    ended = attempt.last_seen() if died else now
                    attempt.status = "interrupted"
                    attempt.error = reason
                    attempt.completed_at = ended
                    attempt.duration_ms = None if ended is None else _elapsed_ms(attempt.started_at, ended)
            last = attempts[-1].duration_ms if attempts else None
            updates.append((reason, ended, last, dump_attempts(attempts), execution_id))
        conn.executemany(
            "UPDATE executions SET status = 'interrupted', error = ?, completed_at = ?,"
            " duration_ms = ?, attempts = ? WHERE id = ?",
            updates,
        )
    return len(updates)


def _elapsed_ms(started_at: float | None, now: float) -> int | None:
    return None if started_at is None else max(0, round((now - started_at) * 1000))
