"""The run-fanout's second floor: what the process design allows, without the engine.

The real worker subprocess (``python -m pingback_cli.worker``, the user's project imported there)
driven through the real ``WorkerProcess`` and its pipes, 20 attempts in flight as the engine
keeps them (the platform's pool), each execution written as one SQLite row of the in-process
floor's shape. Nothing of the engine: no ledger, no retries or deadlines, no history codec, no
events. So ``ours / this`` is what the engine and history cost, and ``this / floor_inprocess`` what
running handlers in another process costs.

Prints ``{"seconds": ..., "executions": ..., "failed": ..., "main_cpu_seconds": ...}``: the
time from the root's request to the last row committed, after the worker is ready (as the
in-process floor times its loop after imports), and the CPU its main thread spent meanwhile.

``BENCH_BURN_US`` (default 0) adds that many microseconds of busy CPU on the main thread per
answer: an engine of that cost per child (``benchmarks/budget.py``).

Usage: python floor_worker.py PROJECT_DIR DB_PATH  (BENCH_FANOUT and the keys in env)
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from floor_inprocess import INSERT, SCHEMA, floor_row

from pingback_cli.executors.process import WorkerProcess
from pingback_cli.project.config import open_project
from pingback_cli.protocol import AttemptOutcome, AttemptRequest

WINDOW = 20
"""Attempts in flight at once: the platform's one pool of 20 (the engine's ``Slots``)."""

BURN_SECONDS = float(os.environ.get("BENCH_BURN_US", "0")) / 1e6

Task = tuple[str | None, str, Any, bool]
"""(parent id, function, payload, has payload)."""


async def fan_out(project: Path, db_path: Path) -> dict[str, Any]:
    worker = WorkerProcess(open_project(cwd=project), "http://127.0.0.1:9")
    await worker.start()
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(SCHEMA)
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    waiting: list[Task] = []
    counts = {"running": 0, "executions": 0, "failed": 0}

    def start(task: Task) -> None:
        parent_id, function, payload, has_payload = task
        execution_id, began = str(uuid.uuid4()), time.time()
        counts["running"] += 1
        request = AttemptRequest(
            execution_id, function, 1, began, payload, has_payload, child=parent_id is not None
        )
        worker.run(request, lambda outcome: answered(task, execution_id, began, outcome))

    def answered(task: Task, execution_id: str, began: float, outcome: AttemptOutcome) -> None:
        parent_id, function, payload, has_payload = task
        counts["running"] -= 1
        counts["executions"] += 1
        if BURN_SECONDS:
            busy_until = time.perf_counter() + BURN_SECONDS
            while time.perf_counter() < busy_until:
                pass
        response = outcome.response or {}
        ok = outcome.http_status == 200 and response.get("status") == "success"
        counts["failed"] += not ok
        if ok:
            for child in response.get("tasks") or ():
                waiting.append((execution_id, child["name"], child.get("payload"), "payload" in child))
        row = floor_row(
            execution_id, parent_id, function, outcome.http_status, ok, payload, has_payload, response, began
        )
        conn.execute(INSERT, row)
        while waiting and counts["running"] < WINDOW:
            start(waiting.pop())
        if not waiting and not counts["running"] and not done.done():
            done.set_result(None)

    started, cpu_started = time.perf_counter(), time.thread_time()
    conn.execute("BEGIN")
    start((None, "fanout", None, False))
    try:
        await done
        conn.execute("COMMIT")
        seconds = time.perf_counter() - started
        main_cpu = time.thread_time() - cpu_started
    finally:
        conn.close()
        await worker.stop()
    return {
        "seconds": seconds,
        "executions": counts["executions"],
        "failed": counts["failed"],
        "main_cpu_seconds": main_cpu,
    }


if __name__ == "__main__":
    os.chdir(sys.argv[1])
    print(json.dumps(asyncio.run(fan_out(Path(sys.argv[1]), Path(sys.argv[2])))))
