"""The worker's handler threads: a batch runs back to back on one thread, and calls queued
behind a hung one are taken by another (an idle one woken, or a new one)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from cli_support import poll

from pingback_cli.worker import handler_pool
from pingback_cli.worker.handler_pool import HandlerPool

DEADLINE = 30.0


class Calls:
    """A pool's ``run``: records the thread of each call; ``"hang"`` waits until released."""

    def __init__(self) -> None:
        self.threads: dict[str, int] = {}
        self.released = threading.Event()

    def __call__(self, item: str) -> None:
        self.threads[item] = threading.get_ident()
        if item == "hang":
            self.released.wait(DEADLINE)


@pytest.fixture
def calls() -> Iterator[Calls]:
    calls = Calls()
    yield calls
    calls.released.set()


def idle_pool(calls: Calls, threads: int) -> HandlerPool[str]:
    """A pool with ``threads`` idle threads, as a long run leaves it."""
    pool: HandlerPool[str] = HandlerPool(calls)
    for _ in range(threads):
        pool._add_thread()
    poll("idle threads", lambda: pool._idle == threads, DEADLINE)
    return pool


def test_a_batch_runs_back_to_back_on_one_of_the_idle_threads(
    calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No call is ever slow here, so no other thread may take one: waking one idle thread per
    call queued set them all contending for the GIL at every batch."""
    monkeypatch.setattr(handler_pool, "SLOW_CALL_SECONDS", 3600.0)
    pool = idle_pool(calls, threads=3)
    pool.submit(["hang", "b", "c", "d"])
    poll("the first call", lambda: "hang" in calls.threads, DEADLINE)
    calls.released.set()
    assert pool.wait_idle(DEADLINE)
    assert set(calls.threads) == {"hang", "b", "c", "d"}
    assert set(calls.threads.values()) == {calls.threads["hang"]}, calls.threads


def test_calls_behind_a_hung_one_are_taken_by_an_idle_thread(calls: Calls) -> None:
    pool = idle_pool(calls, threads=2)
    pool.submit(["hang", "next"])
    poll("the call behind the hung one", lambda: "next" in calls.threads, DEADLINE)
    assert calls.threads["next"] != calls.threads["hang"]
    assert pool.threads == 2


def test_calls_behind_a_hung_one_get_a_new_thread(calls: Calls) -> None:
    pool: HandlerPool[str] = HandlerPool(calls)
    pool.submit(["hang"])
    poll("the hung call", lambda: "hang" in calls.threads, DEADLINE)
    pool.submit(["next", "after"])
    poll("the calls behind it", lambda: {"next", "after"} <= set(calls.threads), DEADLINE)
    assert calls.threads["next"] != calls.threads["hang"]
    assert pool.threads >= 2
