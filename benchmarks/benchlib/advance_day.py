"""The test toolkit's ``advance("1d")`` over a day of a quarter-hourly cron, and its floor.

Loads ``PROJECT`` (a copy of tests/fixtures/simday: ``*/15`` fanning out to three tasks) in
the ``pingback`` fixture's platform (``VirtualPlatform``, the virtual clock), times
``advance("1d")`` from 2026-12-01T00:00Z (96 trees, 384 executions), checks every execution
succeeded, then times the floor: the same 384 handler calls through the SDK's own
``pb.handle()`` with signed bodies, one process, nothing in between. Prints
``{"advanceSeconds", "floorSeconds", "executions", "succeeded"}``.

Usage: python advance_day.py PROJECT_DIR  (the bench keys in env)
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from pingback_cli.protocol import AttemptRequest, signed_headers
from pingback_cli.testing.platform import VirtualPlatform

START = "2026-12-01T00:00:00Z"
OCCURRENCES = 96
SHARDS = 3


def advance_day(project: Path) -> tuple[float, int, int]:
    """Seconds of ``advance("1d")``; executions that ran; how many succeeded."""
    with VirtualPlatform(cwd=project) as platform:
        platform.load()
        platform.set_time(START)
        started = time.perf_counter()
        roots = platform.advance("1d")
        seconds = time.perf_counter() - started
        executions = [execution for root in roots for execution in root.walk()]
        succeeded = sum(execution.status == "success" for execution in executions)
    return seconds, len(executions), succeeded


def handler_floor(project: Path) -> float:
    """Seconds of the day's 384 calls to ``pb.handle()`` (96 sweeps, 3 shards each)."""
    sys.path.insert(0, str(project))
    from simday import jobs

    jobs.pb._registered = True  # no registration POST to the hosted platform from a benchmark
    secret = os.environ["PINGBACK_CRON_SECRET"]

    def call(function: str, payload: Any, has_payload: bool) -> dict[str, Any]:
        request = AttemptRequest(str(uuid.uuid4()), function, 1, time.time(), payload, has_payload)
        body = request.encode()
        response = jobs.pb.handle(body, signed_headers(secret, body))
        if response.get("_status", 500) != 200:
            raise SystemExit(f"floor: {function} answered {response}")
        return response

    started = time.perf_counter()
    for _ in range(OCCURRENCES):
        for task in call("sweep", None, False).get("tasks") or ():
            call(task["name"], task.get("payload"), "payload" in task)
    return time.perf_counter() - started


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    advance_seconds, executions, succeeded = advance_day(folder)
    floor_seconds = handler_floor(folder)
    print(
        json.dumps(
            {
                "advanceSeconds": advance_seconds,
                "floorSeconds": floor_seconds,
                "executions": executions,
                "succeeded": succeeded,
            }
        )
    )
