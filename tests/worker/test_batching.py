"""Results are batched on the pipe without losing the crash guarantee: the worker keeps each
finished result in the results area before its thread takes the next call, so a handler that
kills the process takes only its own attempt with it, never a finished one's result (the engine
reads the area when the pipe ends: tests/executors/test_results_area.py)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from pingback_cli.executors.spawn import results_area
from pingback_cli.worker import RESULTS_HEADER_BYTES, committed_results
from pingback_cli.worker.main import Requests
from pingback_cli.worker.outbox import Outbox, ResultsArea

SIZE = 4096

SCRIPT = textwrap.dedent(
    """
    import os, sys
    from pingback_cli.worker.handler_pool import HandlerPool
    from pingback_cli.worker.outbox import Outbox, ResultsArea

    area = ResultsArea(int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 2 else None
    # Never flushed by size or age: a result reaches the pipe only if something flushes it.
    outbox = Outbox(int(sys.argv[1]), area, batch=1000, age=3600)

    def run(item):
        if item == "exit":
            os._exit(7)  # as a handler may: nothing after this line of ours runs
        outbox.result(item.encode() + b"\\n", waiting=1000)

    pool = HandlerPool(run)
    pool.submit(["first", "second", "exit", "never"])
    pool.wait_idle(10)
    """
)


def run_script(*area: int) -> tuple[int, bytes]:
    """Run SCRIPT (with the area ``fd, size`` when given): its exit code and what it wrote to the pipe."""
    read_fd, write_fd = os.pipe()
    try:
        args = [str(write_fd), *(str(value) for value in area)]
        child = subprocess.run(
            [sys.executable, "-c", SCRIPT, *args], pass_fds=(write_fd, *area[:1]), timeout=30, check=False
        )
        os.close(write_fd)
        written = b""
        while chunk := os.read(read_fd, 1 << 16):
            written += chunk
    finally:
        os.close(read_fd)
    return child.returncode, written


@pytest.fixture
def area_fd() -> Iterator[int]:
    fd = results_area(SIZE)
    yield fd
    os.close(fd)


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = os.pipe()
    os.set_blocking(read_fd, False)
    yield read_fd, write_fd
    os.close(read_fd)
    os.close(write_fd)


def pending(read_fd: int) -> bytes:
    try:
        return os.read(read_fd, 1 << 20)
    except BlockingIOError:
        return b""


def test_without_an_area_results_finished_before_a_handler_kills_the_worker_are_on_the_pipe() -> None:
    code, written = run_script()
    assert code == 7
    assert written.splitlines() == [b"first", b"second"]


def test_results_finished_before_a_handler_kills_the_worker_are_left_in_the_area(area_fd: int) -> None:
    code, written = run_script(area_fd, SIZE)
    assert code == 7
    assert written == b""  # never flushed: only the area holds them
    assert committed_results(area_fd) == [b"first", b"second"]


def test_a_flush_writes_the_batch_in_one_piece_and_empties_the_area(
    area_fd: int, pipe: tuple[int, int]
) -> None:
    read_fd, write_fd = pipe
    outbox = Outbox(write_fd, ResultsArea(area_fd, SIZE), batch=1000, age=3600)
    lines = [b'{"op":"result","seq":%d}\n' % seq for seq in range(1, 51)]
    for line in lines:
        outbox.result(line, waiting=1000)
    assert pending(read_fd) == b""
    assert committed_results(area_fd) == [line.rstrip(b"\n") for line in lines]

    outbox.flush()
    assert pending(read_fd) == b"".join(lines)
    assert committed_results(area_fd) == []
    assert os.pread(area_fd, RESULTS_HEADER_BYTES, 0) == bytes(RESULTS_HEADER_BYTES)
    outbox.flush()  # nothing gathered: nothing written
    assert pending(read_fd) == b""


def test_results_are_flushed_by_count_and_once_they_outnumber_the_calls_waiting(
    area_fd: int, pipe: tuple[int, int]
) -> None:
    read_fd, write_fd = pipe
    outbox = Outbox(write_fd, ResultsArea(area_fd, SIZE), batch=3, age=3600)
    outbox.result(b"a\n", waiting=10)
    outbox.result(b"b\n", waiting=10)
    assert pending(read_fd) == b""
    outbox.result(b"c\n", waiting=10)  # the third: a whole batch
    assert pending(read_fd) == b"a\nb\nc\n"
    outbox.result(b"d\n", waiting=1)
    assert pending(read_fd) == b""
    outbox.result(b"e\n", waiting=1)  # two gathered, one call left: the engine should send more
    assert pending(read_fd) == b"d\ne\n"
    outbox.result(b"f\n", waiting=0)  # the last call this process holds
    assert pending(read_fd) == b"f\n"
    assert committed_results(area_fd) == []


def test_a_result_older_than_the_age_is_flushed_with_the_next(area_fd: int, pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    outbox = Outbox(write_fd, ResultsArea(area_fd, SIZE), batch=1000, age=0.05)
    stored = time.monotonic()
    outbox.result(b"a\n", waiting=10)
    assert pending(read_fd) == b""  # the first is never older than the age
    while time.monotonic() - stored <= 0.05:  # the age passes (a condition, not a guessed sleep)
        time.sleep(0.01)
    outbox.result(b"b\n", waiting=10)
    assert pending(read_fd) == b"a\nb\n"


def test_a_result_bigger_than_the_room_left_is_written_directly_after_the_batch(
    area_fd: int, pipe: tuple[int, int]
) -> None:
    read_fd, write_fd = pipe
    outbox = Outbox(write_fd, ResultsArea(area_fd, SIZE), batch=1000, age=3600)
    outbox.result(b"small\n", waiting=10)
    big = b"x" * (2 * SIZE) + b"\n"
    outbox.result(big, waiting=10)
    assert pending(read_fd) == b"small\n" + big  # in order: the batch first
    assert committed_results(area_fd) == []
    outbox.result(b"after\n", waiting=10)
    assert committed_results(area_fd) == [b"after"]


def test_lines_other_than_results_are_written_at_once(area_fd: int, pipe: tuple[int, int]) -> None:
    read_fd, write_fd = pipe
    outbox = Outbox(write_fd, ResultsArea(area_fd, SIZE), batch=1000, age=3600)
    outbox.result(b"result\n", waiting=10)
    outbox.send({"op": "log", "id": "e", "attempt": 1, "entry": {}})
    assert pending(read_fd) == b'{"op":"log","id":"e","attempt":1,"entry":{}}\n'
    assert committed_results(area_fd) == [b"result"]


def test_the_committed_length_covers_only_whole_lines(area_fd: int) -> None:
    """What the engine reads from an area a worker left: whole lines, never a length past the area."""
    assert committed_results(area_fd) == []
    os.pwrite(area_fd, b"one\ntwo\nthr", RESULTS_HEADER_BYTES)
    os.pwrite(area_fd, (11).to_bytes(RESULTS_HEADER_BYTES, "little"), 0)
    assert committed_results(area_fd) == [b"one", b"two"]
    os.pwrite(area_fd, (1 << 40).to_bytes(RESULTS_HEADER_BYTES, "little"), 0)
    assert committed_results(area_fd) == [b"one", b"two"]


def test_the_result_of_a_slow_call_is_flushed_at_once(area_fd: int, pipe: tuple[int, int]) -> None:
    """The thread's next call is likely as slow: the engine should not wait for it to refill."""
    read_fd, write_fd = pipe
    outbox = Outbox(write_fd, ResultsArea(area_fd, SIZE), batch=1000, age=0.001)
    outbox.result(b"fast\n", waiting=10, took=0.0)
    assert pending(read_fd) == b""
    outbox.result(b"slow\n", waiting=10, took=0.02)
    assert pending(read_fd) == b"fast\nslow\n"


def test_requests_are_read_whole_blocking_or_only_when_ready(pipe_ends: tuple[int, int]) -> None:
    read_fd, write_fd = pipe_ends
    requests = Requests(read_fd)
    assert requests.ready() == []  # nothing written: no wait
    os.write(write_fd, b'{"op":"exec","requests":[[1],[2]]}\n{"op":"exec","requ')
    assert requests.ready() == [[1], [2]]
    assert requests.ready() == []  # half a line
    os.write(write_fd, b'ests":[[3]]}\n')
    assert requests.read() == [[3]]
    os.close(write_fd)
    assert requests.ready() == []
    assert requests.read() is None


@pytest.fixture
def pipe_ends() -> Iterator[tuple[int, int]]:
    read_fd, write_fd = os.pipe()
    yield read_fd, write_fd
    for fd in (read_fd, write_fd):
        with contextlib.suppress(OSError):
            os.close(fd)
