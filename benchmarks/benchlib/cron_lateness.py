"""Cron lateness of the engine's own scheduler on the real clock, without waiting minutes.

The real ``CronScheduler`` and ``Engine`` on a ``SystemClock``, with an executor whose
attempts succeed at once, and ``next_fire`` patched to the next whole second (a
``* * * * *`` cron would need a minute per sample). Prints the lateness of each fire,
``started_at - scheduled_at`` in seconds, as a JSON list.

Usage: python cron_lateness.py FIRES
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
from typing import Any

import pingback_cli.engine.cron_timer as scheduler_module
from pingback_cli.engine.clock import SystemClock
from pingback_cli.engine.engine import Engine, Event
from pingback_cli.models import FunctionSpec
from pingback_cli.protocol import AttemptOutcome, AttemptRequest


class InstantExecutor:
    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]:
        future: asyncio.Future[AttemptOutcome] = asyncio.get_running_loop().create_future()
        future.set_result(AttemptOutcome(200, {"status": "success", "result": None}))
        return future


def next_whole_second(schedule: str, after: float) -> float:
    return float(math.floor(after) + 1)


async def measure(fires: int) -> list[float]:
    scheduler_module.next_fire = next_whole_second  # type: ignore[assignment]
    spec = FunctionSpec(
        name="every-second",
        type="cron",
        schedule="* * * * *",
        retries=0,
        timeout="30s",
        timeout_seconds=30.0,
        concurrency=1,
    )
    lateness: list[float] = []
    done = asyncio.Event()

    def on_event(event: Event) -> None:
        execution = event.execution
        if event.kind == "started" and execution.started_at is not None:
            lateness.append(execution.started_at - execution.scheduled_at)
            if len(lateness) >= fires:
                done.set()

    clock = SystemClock()
    engine = Engine(InstantExecutor(), functions=[spec], clock=clock, on_event=on_event)
    cron: Any = scheduler_module.CronScheduler(engine, clock)
    cron.schedule([spec])
    try:
        await asyncio.wait_for(done.wait(), timeout=fires + 10)
    finally:
        cron.stop()
    return lateness[:fires]


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure(int(sys.argv[1])))))
