"""The peer workload on Huey with its SQLite storage: ``fanout(n)`` enqueues n ``leaf`` tasks.

Imported both by ``huey_consumer huey_app.huey`` and by the benchmark that enqueues.
BENCH_HUEY_DB is the storage file; BENCH_HUEY_FSYNC=0 turns SQLite's fsync off
(huey's default leaves SQLite's own default, synchronous=FULL).
"""

from __future__ import annotations

import os

from huey import SqliteHuey

huey = SqliteHuey(
    "bench",
    filename=os.environ["BENCH_HUEY_DB"],
    fsync=None if os.environ.get("BENCH_HUEY_FSYNC", "1") == "1" else False,
)


@huey.task()
def leaf(i: int) -> int:
    return i


@huey.task()
def fanout(count: int) -> int:
    for i in range(count):
        leaf(i)
    return count


@huey.task()
def ping() -> str:
    return "pong"
