"""The run-fanout floor: the fan-out done by hand in one process, nothing in between.

Calls the SDK's own ``pb.handle()`` with a signed body for the ``fanout`` cron and then
for each of its ``leaf`` children, and writes one SQLite row per execution (WAL,
one transaction). Prints ``{"seconds": ..., "executions": ...}``: the time of that
loop, after imports.

Usage: python floor_inprocess.py PROJECT_DIR DB_PATH  (BENCH_FANOUT and the keys in env)
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from pingback_cli.protocol import AttemptRequest, signed_headers

SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY,
    parent_id TEXT,
    function TEXT NOT NULL,
    status TEXT NOT NULL,
    http_status INTEGER,
    payload TEXT,
    result TEXT,
    logs TEXT,
    scheduled_at REAL NOT NULL,
    started_at REAL NOT NULL,
    completed_at REAL NOT NULL
)
"""
INSERT = "INSERT INTO executions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def floor_row(
    execution_id: str,
    parent_id: str | None,
    function: str,
    http_status: int | None,
    ok: bool,
    payload: Any,
    has_payload: bool,
    response: dict[str, Any],
    began: float,
) -> tuple[Any, ...]:
    """One execution's row for ``INSERT``: its payload, result and logs as JSON, ended now."""
    return (
        execution_id,
        parent_id,
        function,
        "success" if ok else "failed",
        http_status,
        json.dumps(payload) if has_payload else None,
        json.dumps(response.get("result")),
        json.dumps(response.get("logs") or []),
        began,
        began,
        time.time(),
    )


def main(project: Path, db_path: Path) -> dict[str, Any]:
    sys.path.insert(0, str(project))
    import bench_jobs

    pb = bench_jobs.pb
    pb._registered = True  # no registration POST to the hosted platform from a benchmark
    secret = os.environ["PINGBACK_CRON_SECRET"]

    started = time.perf_counter()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(SCHEMA)
    conn.execute("BEGIN")
    pending: list[tuple[str | None, str, Any, bool]] = [(None, "fanout", None, False)]
    executions = failed = 0
    while pending:
        parent_id, function, payload, has_payload = pending.pop()
        execution_id = str(uuid.uuid4())
        began = time.time()
        request = AttemptRequest(execution_id, function, 1, began, payload, has_payload)
        body = request.encode()
        response = pb.handle(body, signed_headers(secret, body))
        status = response.pop("_status", 500)
        ok = status == 200 and response.get("status") == "success"
        failed += not ok
        if ok:
            for task in response.get("tasks") or ():
                pending.append((execution_id, task["name"], task.get("payload"), "payload" in task))
        conn.execute(
            INSERT,
            floor_row(execution_id, parent_id, function, status, ok, payload, has_payload, response, began),
        )
        executions += 1
    conn.execute("COMMIT")
    conn.close()
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "executions": executions, "failed": failed}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
