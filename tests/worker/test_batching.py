"""The worker writes results in small batches, yet never holds one behind a slow call."""

from __future__ import annotations

import os
import select
import threading
import time

from pingback_cli.worker.handler_pool import SLOW_CALL_SECONDS, HandlerPool
from pingback_cli.worker.main import Outbox


def _read_lines(fd: int, timeout: float) -> list[bytes]:
    ready, _, _ = select.select([fd], [], [], timeout)
    return os.read(fd, 1 << 16).splitlines() if ready else []


def test_a_fast_result_is_written_while_a_slow_call_after_it_still_runs() -> None:
    read_fd, write_fd = os.pipe()
    outbox = Outbox(write_fd)
    release = threading.Event()

    def run(item: str) -> None:
        if item == "slow":
            release.wait(5)
        outbox.add(item.encode() + b"\n")

    pool: HandlerPool[str] = HandlerPool(run, on_drained=outbox.flush, on_stalled=outbox.flush)
    try:
        pool.submit(["fast", "slow"])
        lines = _read_lines(read_fd, timeout=SLOW_CALL_SECONDS + 1.0)
        assert lines == [b"fast"]  # not held in the batch until the slow call ends
        release.set()
        assert _read_lines(read_fd, timeout=2.0) == [b"slow"]
    finally:
        release.set()
        pool.wait_idle(2)
        os.close(read_fd)
        os.close(write_fd)


def test_results_of_a_burst_arrive_in_few_writes_and_all_of_them() -> None:
    read_fd, write_fd = os.pipe()
    outbox = Outbox(write_fd)
    writes: list[int] = []
    real_write = outbox._write

    def counting(data: bytes) -> None:
        writes.append(data.count(b"\n"))
        real_write(data)

    outbox._write = counting  # type: ignore[method-assign]
    pool: HandlerPool[int] = HandlerPool(
        lambda i: outbox.add(b"%d\n" % i), on_drained=outbox.flush, on_stalled=outbox.flush
    )
    try:
        pool.submit(range(100))
        assert pool.wait_idle(5)
        deadline = time.monotonic() + 2
        seen: list[bytes] = []
        while len(seen) < 100 and time.monotonic() < deadline:
            seen += _read_lines(read_fd, timeout=0.5)
        assert seen == [b"%d" % i for i in range(100)]
        assert sum(writes) == 100 and len(writes) <= 100 // Outbox.MAX_BUFFERED + 1
    finally:
        os.close(read_fd)
        os.close(write_fd)
