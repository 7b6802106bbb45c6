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
        from rich.status import Status

        with self._lock:
            if self._finished or self._console is None:
                return
            self._status = Status(_Elapsed(self._what, self._started), console=self._console)
            self._status.start()


class _Elapsed:
    """``importing the project… 3s`` (``what`` with its ellipsis), rebuilt at each refresh."""

    def __init__(self, what: str, started: float) -> None:
        self.what = what
        self.started = started

    def __rich__(self) -> Any:
        from rich.text import Text

        return Text(f"{self.what} {time.monotonic() - self.started:.0f}s", style="dim")
