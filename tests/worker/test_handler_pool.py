"""The worker's handler threads: a batch runs back to back on one thread, calls queued behind
waiting ones get a thread each, and calls queued behind a hung one are taken by another (an
idle one woken, or a new one)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from cli_support import poll

from pingback_cli.worker import handler_pool, waiting
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


@pytest.fixture
def slow_rule_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """No call is ever slow: threads join only for calls that wait."""
    monkeypatch.setattr(handler_pool, "SLOW_CALL_SECONDS", 3600.0)


@pytest.fixture
def no_joining(slow_rule_off: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """No call is ever slow, nor seen waiting: no other thread joins."""
    monkeypatch.setattr(waiting, "WAIT_SECONDS", 3600.0)


def idle_pool(calls: Calls, threads: int) -> HandlerPool[str]:
    """A pool with ``threads`` idle threads, as a long run leaves it."""
    pool: HandlerPool[str] = HandlerPool(calls)
    for _ in range(threads):
        pool._add_thread()
    poll("idle threads", lambda: pool._idle == threads, DEADLINE)
    return pool


@pytest.mark.usefixtures("no_joining")
def test_a_batch_runs_back_to_back_on_one_of_the_idle_threads(calls: Calls) -> None:
    """No call is ever slow or waiting here, so no other thread may take one: waking one idle
    thread per call queued set them all contending for the GIL at every batch."""
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


@pytest.mark.usefixtures("no_joining")
def test_the_thread_that_reads_a_batch_runs_it(calls: Calls) -> None:
    """No thread switch between reading the requests and running them, idle threads or not."""
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


WINDOW = 20
"""The engine's attempts in flight at once (engine/slots.py POOL_SIZE, the platform's pool)."""


class Waits:
    """A pool's ``run`` whose calls all wait until released, recording each call's thread."""

    def __init__(self) -> None:
        self.threads: dict[str, int] = {}
        self.released = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, item: str) -> None:
        with self._lock:
            self.threads[item] = threading.get_ident()
        self.released.wait(DEADLINE)


@pytest.mark.usefixtures("slow_rule_off")
@pytest.mark.parametrize("how", ["read", "submitted"])
def test_calls_queued_behind_waiting_calls_get_a_thread_each(how: str) -> None:
    """A batch of the engine's window of calls that all wait (as on HTTP): every one runs at once,
    each on its own thread, with the older rule (every call slow) out of play; no more threads
    than the calls (and one to read)."""
    calls = Waits()
    batch = [f"wait-{i}" for i in range(WINDOW)]
    try:
        pool: HandlerPool[str] = HandlerPool(calls, read=Requests(batch) if how == "read" else None)
        pool.start() if how == "read" else pool.submit(batch)
        poll("every waiting call running", lambda: len(calls.threads) == WINDOW, DEADLINE)
        assert len(set(calls.threads.values())) == WINDOW
        assert pool.threads <= WINDOW + 1
    finally:
        calls.released.set()
    assert pool.wait_idle(DEADLINE)


@pytest.mark.usefixtures("slow_rule_off")
def test_short_waiting_calls_run_back_to_back_get_threads_too() -> None:
    """Calls that each wait 2 ms (a query to a local database) end between two looks of the
    watchdog, but the thread that runs them one after another stands still all the same: other
    threads join, as for long waits. Looked at call by call, such calls ran one at a time (a new
    user's trial: 1,000 children waiting 1-3 ms took 10-35x the platform's pool of 20)."""
    lock = threading.Lock()
    running = [0]
    most = [0]

    def run(item: str) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.002)
        with lock:
            running[0] -= 1

    pool: HandlerPool[str] = HandlerPool(run, read=Requests([f"query-{i}" for i in range(400)]))
    pool.start()
    assert pool.wait_closed(DEADLINE) and pool.wait_idle(DEADLINE)
    assert most[0] >= 4


@pytest.mark.usefixtures("slow_rule_off")
def test_calls_queued_behind_a_computing_call_wait_for_its_thread() -> None:
    """A call that computes gains nothing from another thread: the call behind it runs after it,
    on its thread, however long it computes (here until its thread has run 0.3 s of CPU)."""
    threads: dict[str, int] = {}
    overtaken: list[bool] = []

    def run(item: str) -> None:
        threads[item] = threading.get_ident()
        if item == "compute":
            begun, deadline = time.thread_time(), time.monotonic() + DEADLINE
            while time.thread_time() - begun < 0.3 and time.monotonic() < deadline:
                sum(range(1000))
            overtaken.append("next" in threads)

    pool: HandlerPool[str] = HandlerPool(run, read=Requests(["compute", "next"]))
    pool.start()
    assert pool.wait_closed(DEADLINE) and pool.wait_idle(DEADLINE)
    assert overtaken == [False]
    assert threads["next"] == threads["compute"]


def test_without_cpu_clocks_the_calls_behind_a_hung_one_still_get_a_thread(
    calls: Calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where no thread has a CPU clock (macOS), the older rule: every running call slow."""
    monkeypatch.setattr(waiting.ThreadProbe, "make", classmethod(lambda cls: None))
    pool: HandlerPool[str] = HandlerPool(calls, read=Requests(["hang", "next"]))
    pool.start()
    poll("the call behind the hung one", lambda: "next" in calls.threads, DEADLINE)
    assert calls.threads["next"] != calls.threads["hang"]


Probes = dict[int, "waiting.ThreadProbe | None"]


@pytest.fixture
def waiting_thread() -> Iterator[tuple[int, Probes]]:
    """A thread that waits (on an Event) until the test ends: its ident, and the probes dict
    holding its probe."""
    release = threading.Event()
    ready = threading.Event()
    probes: Probes = {}

    def wait() -> None:
        probes[threading.get_ident()] = waiting.ThreadProbe.make()
        ready.set()
        release.wait(DEADLINE)

    thread = threading.Thread(target=wait, daemon=True)
    thread.start()
    try:
        assert ready.wait(DEADLINE)
        assert thread.ident is not None
        yield thread.ident, probes
    finally:
        release.set()


def test_a_thread_that_waits_stands_still_and_one_that_computes_does_not(
    waiting_thread: tuple[int, Probes],
) -> None:
    ident, probes = waiting_thread
    stillness = waiting.Stillness()
    running = {ident: time.monotonic()}
    poll("the waiting call seen waiting", lambda: stillness.waiting(running, probes) == 1, DEADLINE)
    me = threading.get_ident()
    probes[me] = waiting.ThreadProbe.make()
    running[me] = time.monotonic()  # this thread computes, here in waiting() itself
    assert stillness.waiting(running, probes) == 0  # new: too soon to tell
    del probes[me]
    assert stillness.waiting(running, probes) is None  # a thread without a probe


def test_a_thread_that_read_or_idled_since_the_last_look_starts_over(
    waiting_thread: tuple[int, Probes],
) -> None:
    """A thread is followed across the calls it runs back to back, not across a read or an idle
    spell: a reader that mostly waits for the engine's next batch and then runs trivial calls
    would otherwise look as still as one running short waits."""
    ident, probes = waiting_thread
    stillness = waiting.Stillness()
    run = {ident: time.monotonic()}
    poll("the thread seen waiting", lambda: stillness.waiting(run, probes) == 1, DEADLINE)
    run[ident] = time.monotonic() + 1.0  # it read (or idled) and began another run
    assert stillness.waiting(run, probes) == 0
    assert not stillness.suspected
