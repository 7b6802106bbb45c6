"""A stream whose reader left (``| head``, a quit pager, a killed ``tee``) drops what is written
to it, quietly: the printing stops, nothing else (new-user trial #2, findings 2 and 16)."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Iterator
from typing import Any

import pytest

from pingback_cli.streams import ReaderGoneGuard, guard_reader_gone
from pingback_cli.terminal import Terminal, make_console


@pytest.fixture
def reader_gone() -> Iterator[io.TextIOWrapper]:
    """A text stream on a pipe whose read end is closed."""
    read, write = os.pipe()
    os.close(read)
    stream = io.TextIOWrapper(io.FileIO(write, "w"), encoding="utf-8", line_buffering=True)
    yield stream
    stream.close()


def test_writes_after_the_reader_left_are_dropped_and_the_descriptor_goes_to_dev_null(
    reader_gone: io.TextIOWrapper,
) -> None:
    guarded = ReaderGoneGuard(reader_gone)
    assert guarded.write("first line\n") == len("first line\n")
    assert guarded.reader_gone
    guarded.write("x" * 100_000)
    guarded.flush()
    reader_gone.flush()  # Python's own flush at exit: the descriptor is /dev/null now
    assert os.path.samefile(f"/proc/self/fd/{reader_gone.fileno()}", os.devnull)


def test_another_error_is_not_swallowed() -> None:
    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        ReaderGoneGuard(Full()).write("x")


def test_everything_else_is_the_wrapped_streams_and_guarding_is_once() -> None:
    inner = io.StringIO()
    guarded = guard_reader_gone(inner)
    assert guard_reader_gone(guarded) is guarded
    guarded.write("kept")
    assert guarded.getvalue() == "kept" and not guarded.isatty()


def test_a_rich_print_to_a_closed_pipe_does_not_exit(reader_gone: io.TextIOWrapper) -> None:
    """Rich answers a BrokenPipeError with SystemExit(1) from inside the print: in the middle
    of `pingback run`'s live feed that tore the run down."""
    out = Terminal(out=make_console(file=guard_reader_gone(reader_gone)))
    for _ in range(3):
        out.print("a line nobody reads")


def test_json_to_a_closed_stdout_does_not_raise(
    reader_gone: io.TextIOWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setattr(sys, "stdout", guard_reader_gone(reader_gone))
    Terminal().json({"executionId": "e" * 36, "children": ["x" * 70_000]})


def test_the_cli_guards_both_of_its_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from pingback_cli import terminal
    from pingback_cli.terminal import protect_std_streams

    out: Any = io.StringIO()
    err: Any = io.StringIO()
    # protect_std_streams picks ASCII glyphs for a stream without an encoding: put them back
    # afterwards, or every later test in this process renders "x" for its failure mark.
    monkeypatch.setattr(terminal, "_ascii_glyphs", terminal._ascii_glyphs)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    protect_std_streams()
    assert isinstance(sys.stdout, ReaderGoneGuard) and isinstance(sys.stderr, ReaderGoneGuard)
