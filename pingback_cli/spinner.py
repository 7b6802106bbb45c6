"""A start that talks: after a second of importing the user's project, a spinner with the
elapsed time on stderr, cleared when the import finishes. Only on a terminal: piped output and
``--json`` never see it. Made through ``Terminal.importing``."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

SHOW_AFTER_SECONDS = 1.0


class ImportSpinner:
    """``⠋ importing the project… 3s`` from ``delay`` seconds after the import began until
    :meth:`done` (or the block's end). The import began at ``since`` (a ``time.monotonic()``
    reading: `run`'s worker starts importing before the CLI has loaded, ``emulator.head_start``)
    or, without it, on entering the block; the seconds shown count from then. Thread-safe;
    ``done`` may be called any number of times, from any callback that proves the import has
    finished."""

    def __init__(
        self,
        console: Console | None,
        *,
        what: str,
        delay: float = SHOW_AFTER_SECONDS,
        ellipsis: str = "…",
        since: float | None = None,
    ) -> None:
        self._console = console  # None: disabled
        self._what = what + ellipsis  # Terminal.importing passes terminal.glyph's (ASCII where needed)
        self._delay = delay
        self._since = since
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._status: Any = None
        self._started = 0.0
        self._finished = False

    def __enter__(self) -> ImportSpinner:
        if self._console is not None:
            now = time.monotonic()
            self._started = min(self._since, now) if self._since is not None else now
            self._timer = threading.Timer(max(0.0, self._started + self._delay - now), self._show)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.done()

    def done(self) -> None:
        """The import is over: the spinner never shows, or is cleared now."""
        with self._lock:
            self._finished = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            status, self._status = self._status, None
        if status is not None:
            status.stop()

    def wrap(self, callback: Any) -> Any:
        """``callback`` that first calls :meth:`done` (None stays None)."""
        if callback is None:
            return None

        def settled(*args: Any) -> Any:
            if not self._finished:  # once done, a callback costs no lock (events come by the 100,000)
                self.done()
            return callback(*args)

        return settled

    def _show(self) -> None:
        with self._lock:
            if self._finished or self._console is None:
                return
            elapsed = _Elapsed(self._what, self._started)
            if self._console.no_color:
                self._status = _PlainTicker(self._console.file, elapsed)
            else:
                from rich.status import Status

                self._status = Status(elapsed, console=self._console)
            self._status.start()


class _Elapsed:
    """``importing the project… 3s`` (``what`` with its ellipsis), rebuilt at each refresh."""

    def __init__(self, what: str, started: float) -> None:
        self.what = what
        self.started = started

    def __str__(self) -> str:
        return f"{self.what} {time.monotonic() - self.started:.0f}s"

    def __rich__(self) -> Any:
        from rich.text import Text

        return Text(str(self), style="dim")


class _PlainTicker:
    """The spinner under ``NO_COLOR``: no escape code at all (Rich's Status hides the cursor and
    moves it), only the line redrawn after a carriage return once a second, then blanked."""

    def __init__(self, stream: Any, elapsed: _Elapsed) -> None:
        self._stream = stream
        self._elapsed = elapsed
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._tick, daemon=True)
        self._width = 0

    def start(self) -> None:
        self._draw()
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=2)
        self._write("\r" + " " * self._width + "\r")

    def _tick(self) -> None:
        while not self._stopped.wait(1.0):
            self._draw()

    def _draw(self) -> None:
        text = str(self._elapsed)
        self._width = max(self._width, len(text))
        self._write("\r" + text.ljust(self._width))

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            self._stopped.set()
