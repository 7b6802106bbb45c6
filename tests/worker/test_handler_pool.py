"""The worker's handler threads: a batch runs back to back on one thread, and calls queued
behind a hung one are taken by another (an idle one woken, or a new one)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

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


class Requests:
    """A pool's ``read``: answers each batch in turn (recording the reading thread), then None."""

    def __init__(self, *batches: list[str]) -> None:
        self.batches = list(batches)
        self.readers: list[int] = []
        self.before: Callable[[], object] = lambda: None

    def __call__(self) -> list[str] | None:
        self.before()
        self.readers.append(threading.get_ident())
        return self.batches.pop(0) if self.batches else None


def test_the_thread_that_reads_a_batch_runs_it(calls: Calls, monkeypatch: pytest.MonkeyPatch) -> None:
    """No thread switch between reading the requests and running them, idle threads or not."""
    monkeypatch.setattr(handler_pool, "SLOW_CALL_SECONDS", 3600.0)
    requests = Requests(["a", "b", "c"], ["d"])
    pool: HandlerPool[str] = HandlerPool(calls, read=requests)
    pool.start()
    assert pool.wait_closed(DEADLINE)
    assert pool.wait_idle(DEADLINE)
    assert set(calls.threads) == {"a", "b", "c", "d"}
    assert set(calls.threads.values()) == set(requests.readers) and len(set(requests.readers)) == 1
    assert pool.threads == 1
    idle: HandlerPool[str] = HandlerPool(calls, read=requests)
    requests.batches = [["e", "f", "g"], ["h"]]
    requests.before = lambda: poll("the other threads idle", lambda: idle._idle == 2, DEADLINE)
    for _ in range(3):
        idle._add_thread()
    assert idle.wait_closed(DEADLINE) and idle.wait_idle(DEADLINE)
    assert len({calls.threads[item] for item in "efgh"}) == 1, calls.threads


def test_requests_behind_a_hung_call_are_read_and_run_by_another_thread(calls: Calls) -> None:
    requests = Requests(["hang"], ["next"])
    pool: HandlerPool[str] = HandlerPool(calls, read=requests)
    pool.start()
    poll("the request read behind the hung call", lambda: "next" in calls.threads, DEADLINE)
    assert calls.threads["next"] != calls.threads["hang"]
    assert pool.wait_closed(DEADLINE)
    calls.released.set()
    assert pool.wait_idle(DEADLINE)


def test_a_read_that_fails_ends_the_reading_as_the_end_of_the_pipe_does(calls: Calls) -> None:
    def broken() -> list[str] | None:
        raise ValueError("not JSON")

    pool: HandlerPool[str] = HandlerPool(calls, read=broken)
    pool.start()
    assert pool.wait_closed(DEADLINE)


def test_the_end_of_the_requests_is_seen_when_every_thread_allowed_hangs(calls: Calls) -> None:
    requests = Requests(["hang"])
    pool: HandlerPool[str] = HandlerPool(calls, read=requests, max_threads=1)
    pool.start()
    assert pool.wait_closed(DEADLINE)
    assert len(requests.readers) == 2 and pool.threads == 2
