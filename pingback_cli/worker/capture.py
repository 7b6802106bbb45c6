"""What a handler prints while an attempt runs, attributed to that attempt.

``sys.stdout`` and ``sys.stderr`` are replaced, before the project is imported, by streams that
look up the attempt the writing code runs for (a ``ContextVar`` set around each handler call on
its pool thread; a thread the handler starts itself has no attempt). Inside an attempt, whole
lines become ``output`` messages to the engine; outside one (import time, background threads)
text goes to the real stream as before. ``logging`` handlers made at import hold these streams,
and ``logging.lastResort`` looks ``sys.stderr`` up when it writes, so what a handler logs
through ``logging`` is attributed too.

Only ``ctx.log()`` and friends reach the platform: pingback-py's ``Context._add_log`` appends to
``ctx._logs`` (runpingback/pingback-py ``pingback/context.py:16-24``) and ``handle()`` answers
with those logs alone (``pingback/client.py``, ``"logs": ctx._logs``); printed text stays in the
app's own console. Past ``KEPT_BYTES`` per attempt, text goes to the real stream, each line
prefixed with the function and execution it belongs to (as the live output names them), and
one last line says how much. Standard library only: this runs in the worker.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TextIO

from pingback_cli.streams import guard_reader_gone

KEPT_BYTES = 64 * 1024
"""Attributed output kept per attempt; the rest goes to the real stream."""
LINE_CHARS = 2_000
"""A longer line is cut, saying how much was cut."""

Send = Callable[[dict[str, Any]], None]


class AttemptOutput:
    """The output of one attempt: whole lines are sent as they complete."""

    def __init__(self, execution_id: str, attempt: int, send: Send, function: str = "") -> None:
        self.execution_id = execution_id
        self.attempt = attempt
        self.function = function
        self._send = send
        self._partial: dict[str, str] = {}
        self._passing: dict[str, tuple[str, TextIO]] = {}
        """Per stream, an unfinished line past ``KEPT_BYTES`` and the real stream it goes to."""
        self.kept = 0
        self.passed = 0
        """Characters that went to the real stream past ``KEPT_BYTES``."""

    def take(self, stream: str, text: str, real: TextIO) -> None:
        if self.kept >= KEPT_BYTES:
            self.passed += len(text)
            *lines, rest = (self._passing.pop(stream, ("", real))[0] + text).split("\n")
            real.write("".join(self._overflow(stream, line) for line in lines))
            if rest:
                self._passing[stream] = (rest, real)
            return
        *lines, rest = (self._partial.pop(stream, "") + text).split("\n")
        for line in lines:
            self._line(stream, line)
        if rest:
            self._partial[stream] = rest

    def finish(self) -> None:
        """Send what is left: unfinished lines, and how much went unattributed."""
        for stream, rest in list(self._partial.items()):
            self._line(stream, rest)
        self._partial.clear()
        for stream, (rest, real) in self._passing.items():
            with contextlib.suppress(OSError, ValueError):
                real.write(self._overflow(stream, rest))
        self._passing.clear()
        if self.passed:
            self._message(
                "pingback",
                f"{self.passed:,} more characters of output went to the terminal unattributed "
                f"(the first {KEPT_BYTES // 1024} KiB of each attempt are kept)",
            )

    def _overflow(self, stream: str, line: str) -> str:
        """``  chatty a274a409  stdout| line``: a line past ``KEPT_BYTES`` as the terminal gets
        it, named as the live output names an execution's lines (ASCII: any stream encodes it)."""
        named = f"{self.function} " if self.function else ""
        return f"  {named}{self.execution_id[:8]}  {stream}| {line}\n"

    def _line(self, stream: str, line: str) -> None:
        self.kept += len(line) + 1
        if len(line) > LINE_CHARS:
            line = f"{line[:LINE_CHARS]}… ({len(line) - LINE_CHARS:,} more characters)"
        self._message(stream, line)

    def _message(self, stream: str, text: str) -> None:
        self._send(
            {
                "op": "output",
                "id": self.execution_id,
                "attempt": self.attempt,
                "entry": {"timestamp": int(time.time() * 1000), "stream": stream, "text": text},
            }
        )


CURRENT: ContextVar[AttemptOutput | None] = ContextVar("pingback_attempt_output", default=None)


class AttributedStream:
    """A text stream that hands an attempt's writes to its :class:`AttemptOutput`."""

    def __init__(self, name: str, real: TextIO) -> None:
        self._name = name
        self._real = real

    def write(self, text: str) -> int:
        current = CURRENT.get()
        if current is None:
            return self._real.write(text)
        current.take(self._name, str(text), self._real)
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._real.flush()

    def __getattr__(self, name: str) -> Any:  # fileno, encoding, isatty, buffer, ...
        return getattr(self._real, name)


def install() -> None:
    """Put attributed streams in place of ``sys.stdout`` and ``sys.stderr`` (once), over the real
    ones guarded against a reader that leaves (``streams.ReaderGoneGuard``)."""
    import sys

    for name in ("stdout", "stderr"):
        real = getattr(sys, name)
        if real is not None and not isinstance(real, AttributedStream):
            # The worker writes to the CLI's stderr: `pingback dev 2>&1 | tee` with tee gone
            # must not fail a handler that prints.
            setattr(sys, name, AttributedStream(name, guard_reader_gone(real)))


@contextlib.contextmanager
def attributed(execution_id: str, attempt: int, send: Send, function: str = "") -> Iterator[AttemptOutput]:
    """Attribute this thread's writes to the attempt (of ``function``) while the block runs."""
    output = AttemptOutput(execution_id, attempt, send, function)
    token = CURRENT.set(output)
    try:
        yield output
    finally:
        CURRENT.reset(token)
        output.finish()
