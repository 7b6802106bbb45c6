"""Printed output attributed to its attempt: per-attempt context on each pool thread, so
concurrent handlers never mix their lines; outside an attempt text goes to the real stream."""

from __future__ import annotations

import io
import logging
import threading
from typing import Any

import pytest

from pingback_cli.worker import capture
from pingback_cli.worker.capture import KEPT_BYTES, LINE_CHARS, AttributedStream, attributed


class Streams:
    """Attributed stdout and stderr over in-memory real streams (written to directly: pytest's
    own capture replaces ``sys.stdout`` during a test)."""

    def __init__(self) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()
        self.stdout = AttributedStream("stdout", self.out)
        self.stderr = AttributedStream("stderr", self.err)


@pytest.fixture
def streams() -> Streams:
    return Streams()


def collect() -> tuple[list[dict[str, Any]], Any]:
    sent: list[dict[str, Any]] = []
    lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        with lock:
            sent.append(message)

    return sent, send


def test_lines_of_an_attempt_are_sent_and_nothing_reaches_the_real_streams(streams: Streams) -> None:
    sent, send = collect()
    with attributed("e1", 2, send):
        print("hello", "world", file=streams.stdout)
        streams.stderr.write("par")
        streams.stderr.write("tial")
    print("outside", file=streams.stdout)
    out, err = streams.out, streams.err
    assert [(m["id"], m["attempt"], m["entry"]["stream"], m["entry"]["text"]) for m in sent] == [
        ("e1", 2, "stdout", "hello world"),
        ("e1", 2, "stderr", "partial"),  # an unfinished line is sent when the attempt ends
    ]
    assert (out.getvalue(), err.getvalue()) == ("outside\n", "")


def test_concurrent_attempts_never_mix_their_lines(streams: Streams) -> None:
    sent, send = collect()
    start = threading.Barrier(8)

    def attempt(number: int) -> None:
        with attributed(f"e{number}", 1, send):
            start.wait()
            for line in range(200):
                print(f"e{number} line {line}", file=streams.stdout)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    by_id: dict[str, list[str]] = {}
    for message in sent:
        by_id.setdefault(message["id"], []).append(message["entry"]["text"])
    assert sorted(by_id) == [f"e{n}" for n in range(8)]
    for execution_id, lines in by_id.items():
        assert lines == [f"{execution_id} line {n}" for n in range(200)]


def test_a_thread_the_handler_starts_is_not_attributed(streams: Streams) -> None:
    sent, send = collect()
    with attributed("e1", 1, send):
        thread = threading.Thread(target=print, args=("from a thread",), kwargs={"file": streams.stdout})
        thread.start()
        thread.join()
    assert sent == [] and streams.out.getvalue() == "from a thread\n"


def test_logging_through_a_handler_made_before_the_attempt_is_attributed(streams: Streams) -> None:
    logger = logging.getLogger("capture-test")
    handler = logging.StreamHandler(streams.stderr)  # as logging.basicConfig does at import
    logger.addHandler(handler)
    logger.propagate = False
    sent, send = collect()
    try:
        with attributed("e1", 1, send):
            logger.warning("careful")
    finally:
        logger.removeHandler(handler)
    assert [(m["entry"]["stream"], m["entry"]["text"]) for m in sent] == [("stderr", "careful")]


def test_past_the_kept_bytes_output_goes_to_the_real_stream_and_one_line_says_how_much(
    streams: Streams,
) -> None:
    sent, send = collect()
    line = "y" * 1023
    with attributed("a274a409-e1", 1, send, "chatty"):
        for _ in range(100):
            print(line, file=streams.stdout)
        print("z" * (LINE_CHARS + 5), file=streams.stdout)
        streams.stdout.write("no newline")
    texts = [m["entry"]["text"] for m in sent]
    assert texts[:-1] == [line] * (KEPT_BYTES // 1024)
    passed = streams.out.getvalue()
    # each line on the terminal says whose it is (several handlers may print at once in dev)
    assert passed.splitlines() == [f"  chatty a274a409  stdout| {line}"] * (100 - KEPT_BYTES // 1024) + [
        f"  chatty a274a409  stdout| {'z' * (LINE_CHARS + 5)}",
        "  chatty a274a409  stdout| no newline",
    ]
    written = (100 - KEPT_BYTES // 1024) * (len(line) + 1) + LINE_CHARS + 6 + len("no newline")
    assert texts[-1].startswith(f"{written:,} more characters of output went to the terminal")
    assert sent[-1]["entry"]["stream"] == "pingback"


def test_a_long_line_is_cut_saying_how_much(streams: Streams) -> None:
    sent, send = collect()
    with attributed("e1", 1, send):
        print("a" * (LINE_CHARS + 10), file=streams.stdout)
    [message] = sent
    assert message["entry"]["text"] == "a" * LINE_CHARS + "… (10 more characters)"


def test_install_wraps_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    capture.install()
    first = sys.stdout
    capture.install()
    assert isinstance(first, AttributedStream) and sys.stdout is first


def test_a_handler_printing_to_a_closed_terminal_pipe_is_not_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    """`pingback dev 2>&1 | tee log` with tee gone: the worker writes to that pipe, and what an
    attempt prints past the kept bytes (or at import) must not raise in the user's code."""
    import os
    import sys

    read, write = os.pipe()
    os.close(read)
    closed = io.TextIOWrapper(io.FileIO(write, "w"), encoding="utf-8", line_buffering=True)
    monkeypatch.setattr(sys, "stdout", closed)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    capture.install()
    sent, send = collect()
    try:
        print("at import", file=sys.stdout)
        with attributed("e1", 1, send):
            for _ in range(100):
                print("y" * 1023, file=sys.stdout)
    finally:
        closed.close()
    assert sent[-1]["entry"]["text"].endswith("(the first 64 KiB of each attempt are kept)")
