"""The history database's schema: one migration per version, applied in order on open.

Append a migration to add a table or column; never edit one that has shipped.
"""

from __future__ import annotations

SCHEMA_VERSION = 10


def shown_at(alias: str) -> str:
    """SQL for the time a list is ordered by, over table alias ``alias``: the ``listed_at``
    column (migration 8), which ``codec.listed_at`` computes on every write and migration 8's
    indexes cover, so SQLite walks an index for ``ORDER BY``.

    It is the time the list shows, when the execution started, else when it is due (the rule
    of Flower's task list, flower/utils/tasks.py ``sort_tasks``, and Inngest's runs list: a
    list reads in the order of the times it prints; ties by creation, rowid). Where that time
    is not a moment that has passed, when the row was recorded or ended instead, as the
    platform orders every list, by creation (runpingback/pingback
    apps/platform/src/modules/executions/executions.service.ts ``findByProject``,
    ``findByJob``: ``createdAt`` DESC): a run on a simulated clock (``simulate --run``, the
    pytest fixture's history) by when it was recorded, and one cancelled before it started by
    when it was cancelled, not by the due time it never reached.
    """
    return f"{alias}.listed_at"


MIGRATIONS: list[str] = [
    # 1: the executions table. Roots are rows with parent_id NULL; seq is creation order.
    """
    CREATE TABLE executions (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        root_id TEXT NOT NULL,
        parent_id TEXT,
        depth INTEGER NOT NULL DEFAULT 0,
        function TEXT NOT NULL,
        type TEXT,
        status TEXT NOT NULL,
        attempt INTEGER NOT NULL DEFAULT 0,
        has_payload INTEGER NOT NULL DEFAULT 0,
        payload TEXT,
        result TEXT,
        error TEXT,
        logs TEXT NOT NULL DEFAULT '[]',
        attempts TEXT NOT NULL DEFAULT '[]',
        scheduled_at REAL NOT NULL,
        started_at REAL,
        completed_at REAL,
        duration_ms INTEGER,
        http_status INTEGER,
        "trigger" TEXT NOT NULL DEFAULT 'run',
        replay_of TEXT
    );
    CREATE INDEX executions_tree ON executions (root_id, status);
    CREATE INDEX executions_roots ON executions (seq) WHERE parent_id IS NULL;
    CREATE INDEX executions_roots_function ON executions (function, seq) WHERE parent_id IS NULL;
    CREATE INDEX executions_roots_status ON executions (status, seq) WHERE parent_id IS NULL;
    CREATE INDEX executions_unfinished ON executions (status)
        WHERE status IN ('pending', 'running');
    """,
    # 2: the process that wrote each row (pid:start-time), to recover after a kill -9.
    """
    ALTER TABLE executions ADD COLUMN owner TEXT;
    """,
    # 3: jobs: each function's state and options as last registered or patched, as the
    # platform's jobs table keeps them (apps/platform/src/modules/jobs/job.entity.ts).
    """
    CREATE TABLE jobs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        type TEXT NOT NULL,
        schedule TEXT,
        status TEXT NOT NULL DEFAULT 'active',
        retries INTEGER NOT NULL DEFAULT 0,
        timeout_seconds INTEGER NOT NULL DEFAULT 30,
        concurrency INTEGER NOT NULL DEFAULT 1,
        source TEXT NOT NULL DEFAULT 'sdk',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    """,
    # 4: the durable queue. due_at: when an unfinished execution may next start (a delay, a
    # retry's backoff; now for work queued behind a limit). queue: 'dev' for rows held by
    # `pingback dev`'s durable queue, which a restarted dev takes over; NULL for `run`'s.
    """
    ALTER TABLE executions ADD COLUMN due_at REAL;
    ALTER TABLE executions ADD COLUMN queue TEXT;
    CREATE INDEX executions_queue ON executions (queue, due_at)
        WHERE status IN ('pending', 'running');
    """,
    # 5: every execution of a function, newest first (the dashboard's last run and payloads).
    """
    CREATE INDEX executions_function ON executions (function);
    """,
    # 6: lists in the order of the time they show (history.rows.SHOWN_AT: started, else due):
    # roots (all, by function, by status) and every execution (the "all executions" list, a
    # function's executions, the logs). Roots' indexes are partial, so a fan-out child costs
    # one more index than before, not four; a function's executions now in that order too.
    """
    DROP INDEX executions_function;
    CREATE INDEX executions_function_at ON executions (function, COALESCE(started_at, scheduled_at));
    CREATE INDEX executions_roots_at ON executions (COALESCE(started_at, scheduled_at))
        WHERE parent_id IS NULL;
    CREATE INDEX executions_roots_function_at ON executions (function, COALESCE(started_at, scheduled_at))
        WHERE parent_id IS NULL;
    CREATE INDEX executions_roots_status_at ON executions (status, COALESCE(started_at, scheduled_at))
        WHERE parent_id IS NULL;
    CREATE INDEX executions_at ON executions (COALESCE(started_at, scheduled_at));
    """,
    # 7: one index of the unfinished rows, not two: executions_queue (4) holds exactly the rows
    # executions_unfinished (1) held, and the planner took it for every query over them, so the
    # older one only cost each execution an entry written pending and removed when it finished.
    # Queries over unfinished rows say status IN ('pending', 'running') to be served by it.
    """
    DROP INDEX executions_unfinished;
    """,
    # 8: lists ordered by listed_at (schema.shown_at, codec.listed_at): the shown time, except
    # for runs on a simulated clock (by when recorded: seq is microseconds of the real clock)
    # and executions cancelled before they started (by when cancelled). Replaces 6's indexes.
    """
    ALTER TABLE executions ADD COLUMN listed_at REAL;
    UPDATE executions SET listed_at = CASE
        WHEN root_id IN (SELECT id FROM executions WHERE parent_id IS NULL AND "trigger" = 'simulate')
            THEN seq / 1000000.0
        WHEN started_at IS NULL AND status = 'cancelled'
            THEN COALESCE(completed_at, seq / 1000000.0)
        ELSE COALESCE(started_at, scheduled_at) END;
    DROP INDEX executions_function_at;
    DROP INDEX executions_roots_at;
    DROP INDEX executions_roots_function_at;
    DROP INDEX executions_roots_status_at;
    DROP INDEX executions_at;
    CREATE INDEX executions_function_listed ON executions (function, listed_at);
    CREATE INDEX executions_roots_listed ON executions (listed_at) WHERE parent_id IS NULL;
    CREATE INDEX executions_roots_function_listed ON executions (function, listed_at) WHERE parent_id IS NULL;
    CREATE INDEX executions_roots_status_listed ON executions (status, listed_at) WHERE parent_id IS NULL;
    CREATE INDEX executions_listed ON executions (listed_at);
    """,
    # 9: fan-out children that have not started, one row per flush (history.queued): a child's
    # row in executions is written once, when it starts or ends, instead of pending and again.
    # children: JSON, per child the fields of its pending row that vary; owner and queue as
    # on executions. A writer that opens the file turns what it finds into pending rows.
    """
    CREATE TABLE queued_batches (
        id INTEGER PRIMARY KEY,
        owner TEXT,
        queue TEXT,
        children TEXT NOT NULL
    );
    """,
    # 10: batch ids never reused. A writer that opens the file turns every batch into pending
    # rows and deletes it, a live process's too; SQLite then handed that process the id of a
    # batch it still held (the largest rowid, once deleted), and its count of what is left in
    # each batch went wrong (a KeyError in the flush, seen as a hung `run`). AUTOINCREMENT ids
    # only grow, so a batch's id names it for as long as any process remembers it.
    """
    CREATE TABLE queued_batches_10 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner TEXT,
        queue TEXT,
        children TEXT NOT NULL
    );
    INSERT INTO queued_batches_10 (id, owner, queue, children)
        SELECT id, owner, queue, children FROM queued_batches;
    DROP TABLE queued_batches;
    ALTER TABLE queued_batches_10 RENAME TO queued_batches;
    """,
]
