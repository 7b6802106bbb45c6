"""The traceback of a handler's exception as the user sees it under its node: the standard
library's text, cut to the tail, formatted once per distinct stack.

Formatting a stack is most of what a failing attempt costs the worker: on Python 3.11+ each
frame's ``^^^^`` markers come from parsing its source line (``ast.parse``), about 150 µs for a
two-frame stack, against 20 µs for the rest of a trivial failing attempt. A runaway fan-out
whose 100,000 children all fail raises from the same line each time, so the formatted frames
are kept per stack: keyed by every field the standard formatter reads (file, line numbers,
columns, name, the source line as ``linecache`` holds it after its freshness check), the text
is the standard library's own, byte for byte. Standard library only: this runs in the worker.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Hashable

KEPT_FRAMES = 8
"""A traceback shows its last frames only: the handler's own code, not the SDK's."""

_FORMATTED_STACKS = 256
"""Distinct stacks kept; past this the memory starts afresh (a handler raising from many
places is not a runaway; one raising from one place is)."""


class _Stacks:
    """Formatted stacks by their frames' fields; shared by the worker's handler threads."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._text: dict[Hashable, list[str]] = {}
        self._lock = threading.Lock()

    def format(self, stack: traceback.StackSummary, options: dict[str, object]) -> list[str]:
        """``stack.format(**options)`` as the standard library returns it."""
        frames = _key(stack)
        if frames is None:
            return traceback.StackSummary.format(stack, **options)
        key = (frames, tuple(sorted(options.items())))
        with self._lock:
            text = self._text.get(key)
        if text is None:
            text = traceback.StackSummary.format(stack, **options)
            with self._lock:
                if len(self._text) >= self._capacity:
                    self._text.clear()
                self._text[key] = text
        return list(text)


_STACKS = _Stacks(_FORMATTED_STACKS)


class _KeptStack(traceback.StackSummary):
    """A stack whose formatted text comes from :data:`_STACKS`."""

    def format(self, **options: object) -> list[str]:  # options: Python 3.13's colorize
        return _STACKS.format(self, options)


def _key(stack: traceback.StackSummary) -> Hashable | None:
    """Every field of every frame, as the formatter reads them; None when one is not hashable
    (captured locals)."""
    fields = []
    for frame in stack:
        frame.line  # noqa: B018 -- loads the source line, as formatting would
        values = tuple(getattr(frame, name, None) for name in type(frame).__slots__)
        try:
            hash(values)
        except TypeError:
            return None
        fields.append(values)
    return tuple(fields)


def brief(exc: BaseException, skip_frames: int = 1) -> str:
    """The traceback of ``exc`` as ``traceback.format_exception`` writes it, without its first
    ``skip_frames`` frames (our wrapper's) and cut to the last :data:`KEPT_FRAMES`, with no
    trailing newline. Chained exceptions are shown whole, as the library shows them."""
    summary = traceback.TracebackException.from_exception(exc)
    summary.stack = _KeptStack(list(summary.stack)[skip_frames:][-KEPT_FRAMES:])
    return "".join(summary.format()).rstrip()
