"""Output streams whose reader may go away: a closed pipe stops the printing, nothing else.

Standard library only: the CLI's terminal (``terminal.protect_std_streams``) and the worker
(``worker.capture``) both wrap their streams in it.
"""

from __future__ import annotations

import contextlib
import errno
import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~3 ms): cached help needs none of it
if TYPE_CHECKING:
    from typing import Any, TextIO


class ReaderGoneGuard:
    """A text stream whose reader may leave (``| head``, a pager quit with ``q``, ``| tee``
    killed by the same Ctrl-C): from then on what is written to it is dropped, quietly.

    A closed output must only stop the printing, never what runs. Rich's own answer to a
    broken pipe is ``SystemExit(1)`` from inside whatever printed (a live feed's callback in
    the middle of a run, dev's shutdown line), which tore the run down and recorded finished
    work as interrupted; in the worker, a handler's print past what is attributed raised
    BrokenPipeError in the handler and failed it. Here the stream's descriptor is pointed at
    ``/dev/null`` instead (as Python's documentation on SIGPIPE advises), so buffered text and
    Python's own flush at exit go nowhere too, and the work finishes as it would have.
    Everything else (``fileno``, ``isatty``, ``encoding``, ...) is the wrapped stream's."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.reader_gone = False

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as error:
            self._on_error(error)
            return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as error:
            self._on_error(error)

    def _on_error(self, error: OSError) -> None:
        if error.errno != errno.EPIPE:
            raise error
        if not self.reader_gone:
            self.reader_gone = True
            with contextlib.suppress(OSError, ValueError, AttributeError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, self._stream.fileno())
                os.close(devnull)
            with contextlib.suppress(OSError, ValueError):
                self._stream.flush()  # what the failed write left buffered, now to /dev/null

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def guard_reader_gone(stream: TextIO) -> TextIO:
    """``stream`` in a :class:`ReaderGoneGuard` (once)."""
    if stream is None or isinstance(stream, ReaderGoneGuard):
        return stream
    return ReaderGoneGuard(stream)  # type: ignore[return-value]
