"""The durable queue: the unfinished executions `pingback dev` holds, kept in history with
their due time (``due_at``) so that a restarted dev picks them up.

Rows written by a ``Store(queue=DEV_QUEUE)`` carry ``queue = 'dev'``. Whatever such a row's
status (``pending``: delayed, queued behind a limit or waiting out a backoff; ``running``: an
attempt was in flight), it stays in the queue until it finishes. A ``pingback dev`` that
starts takes over the queue's rows whose owner process is gone (``take_over``); `pingback
run` never does (``Store.recover`` skips queue rows). Like the platform, whose queue is a
Postgres table of jobs with a ``start_after`` (runpingback/worker
``internal/pgboss/pgboss.go``), a restart loses nothing.
"""

from __future__ import annotations

from pingback_cli.history.codec import SELECT, decode_row
from pingback_cli.history.owner import is_alive
from pingback_cli.history.store import Store
from pingback_cli.models import Execution

DEV_QUEUE = "dev"
"""The queue ``pingback dev`` keeps (the only one; ``run``'s work dies with it)."""


def orphaned_roots(store: Store, queue: str = DEV_QUEUE) -> list[str]:
    """Ids of the roots whose trees hold unfinished rows of ``queue`` left by processes that
    no longer run, oldest first."""
    with store.connection("read") as conn:
        rows = conn.execute(
            "SELECT e.root_id, e.owner, MIN(r.seq) FROM executions e JOIN executions r ON r.id = e.root_id"
            " WHERE e.queue = ? AND e.status IN ('pending', 'running')"
            " GROUP BY e.root_id, e.owner",
            (queue,),
        ).fetchall()
    alive: dict[str, bool] = {}
    orphans: dict[str, int] = {}
    for root_id, owner, seq in rows:
        if owner == store.owner:
            continue
        if owner not in alive:
            alive[owner] = is_alive(owner)
        if not alive[owner]:
            orphans[root_id] = min(seq, orphans.get(root_id, seq))
    return sorted(orphans, key=orphans.__getitem__)


def take_over(store: Store, queue: str = DEV_QUEUE) -> list[Execution]:
    """The trees (roots with their children nested) holding unfinished rows of ``queue``
    whose owner is gone, oldest first, for ``Engine.resume``. Raises HistoryError when the
    file cannot be read."""
    return [store.tree(root_id) for root_id in orphaned_roots(store, queue)]


def pending(store: Store, limit: int = 20, *, function: str | None = None) -> list[Execution]:
    """Executions waiting to start (delayed, queued, waiting out a backoff), at any depth,
    soonest due first, without children."""
    # The IN term: the index of unfinished rows (executions_queue) serves it, not a scan of all.
    where = "status IN ('pending', 'running') AND status = 'pending'"
    where += " AND function = ?" if function is not None else ""
    params: tuple[object, ...] = (function,) if function is not None else ()
    with store.connection("read") as conn:
        rows = conn.execute(
            f"SELECT {SELECT} FROM executions WHERE {where}"
            " ORDER BY COALESCE(due_at, scheduled_at), seq LIMIT ?",
            (*params, max(limit, 0)),
        ).fetchall()
    return [decode_row(row) for row in rows]
