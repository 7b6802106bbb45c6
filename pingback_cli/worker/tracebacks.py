"""The traceback of a handler's exception as the user sees it under its node: the standard
library's text, cut to the tail, formatted once per distinct stack.

Formatting a stack is most of what a failing attempt costs the worker: on Python 3.11+ each
frame's ``^^^^`` markers come from parsing its source line (``ast.parse``), about 150 µs for a
two-frame stack, against 20 µs for the rest of a trivial failing attempt. A runaway fan-out
whose 100,000 children all fail raises from the same line each time, so for an exception with
nothing chained to it (the usual case) the formatted frames are kept per stack, and a repeat
skips even the library's stack extraction: its frames are known by their code objects and
instruction offsets, and each shown file's source by the list ``linecache`` holds for it after
the same freshness check the library makes, so a hit costs a walk of the traceback, a stat of
each file shown and the exception's own last line (written here for the usual exception); the
text is the standard library's own, byte for byte. A chained exception, a group or a
``sys.tracebacklimit`` is formatted by the library each time.
Standard library only: this runs in the worker.
"""

from __future__ import annotations

import linecache
import sys
import threading
import traceback
from collections.abc import Callable, Hashable
from typing import TypeVar

_T = TypeVar("_T")

KEPT_FRAMES = 8
"""A traceback shows its last frames only: the handler's own code, not the SDK's."""

_FORMATTED_STACKS = 256
"""Distinct stacks kept; past this the memory starts afresh (a handler raising from many
places is not a runaway; one raising from one place is)."""


class _Stacks:
    """Formatted stacks by their frames; shared by the worker's handler threads."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._alone: dict[Hashable, tuple[str, list[list[str]]]] = {}
        self._lock = threading.Lock()

    def stack_text(self, key: Hashable, sources: list[list[str]], make: Callable[[], str]) -> str:
        """``make()``, once per ``key``; ``sources`` (the lists whose ids the key holds) are kept
        with it, so that no other list can take one of those ids while the key is kept."""
        with self._lock:
            kept = self._alone.get(key)
        if kept is None:
            kept = (make(), sources)
            with self._lock:
                if len(self._alone) >= self._capacity:
                    self._alone.clear()
                self._alone[key] = kept
        return kept[0]


_STACKS = _Stacks(_FORMATTED_STACKS)


def brief(exc: BaseException, skip_frames: int = 1) -> str:
    """The traceback of ``exc`` as ``traceback.format_exception`` writes it, without its first
    ``skip_frames`` frames (our wrapper's) and cut to the last :data:`KEPT_FRAMES`, with no
    trailing newline. Chained exceptions are shown whole, as the library shows them."""
    if _alone(exc):
        return _alone_brief(exc, skip_frames)
    summary = traceback.TracebackException.from_exception(exc)
    summary.stack = traceback.StackSummary.from_list(_kept(list(summary.stack), skip_frames))
    return "".join(summary.format()).rstrip()


def _kept(frames: list[_T], skip_frames: int) -> list[_T]:
    return frames[skip_frames:][-KEPT_FRAMES:]


_GROUPS: tuple[type, ...] = (BaseExceptionGroup,) if sys.version_info >= (3, 11) else ()  # noqa: F821


def _alone(exc: BaseException) -> bool:
    """Nothing chained to ``exc``, not a group, no ``sys.tracebacklimit``: the library writes
    the header, the stack and the exception's own lines, nothing else."""
    chained = exc.__cause__ is not None or (exc.__context__ is not None and not exc.__suppress_context__)
    return not chained and not isinstance(exc, _GROUPS) and not hasattr(sys, "tracebacklimit")


def _alone_brief(exc: BaseException, skip_frames: int) -> str:
    entries = []
    tb = exc.__traceback__
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    kept = _kept(entries, skip_frames)
    # The library's freshness check, for the files whose lines are shown (a frame skipped
    # here, such as the worker's own wrapper, shows none): one stat a file.
    for entry in kept:
        linecache.lazycache(entry.tb_frame.f_code.co_filename, entry.tb_frame.f_globals)
    for filename in {entry.tb_frame.f_code.co_filename for entry in kept}:
        linecache.checkcache(filename)
    sources = [linecache.getlines(entry.tb_frame.f_code.co_filename) for entry in kept]
    key = tuple(
        (entry.tb_frame.f_code, entry.tb_lasti, id(source))
        for entry, source in zip(kept, sources, strict=True)
    )
    stack = _STACKS.stack_text(key, sources, lambda: _stack_text(exc, skip_frames))
    return (stack + _exception_only(exc)).rstrip()


_OWN_LINES: tuple[type, ...] = (SyntaxError, NameError, AttributeError, ImportError)
"""Exceptions whose last line the library writes from more than the type and ``str()``: the
offending source line, or a "Did you mean" suggestion (3.10+, 3.12+ for ImportError)."""

_TYPE_NAMES: dict[type, str] = {}


def _exception_only(exc: BaseException) -> str:
    """``traceback.format_exception_only`` of ``exc``, joined: ``module.Name: str(exc)``, the
    module left out for builtins and __main__ (3.11 ``TracebackException.format_exception_only``),
    written here for the usual exception (it was a third of a failing attempt's traceback);
    any other goes the library's way (notes, a failing ``str()``, ``_OWN_LINES``)."""
    kind = type(exc)
    name = _TYPE_NAMES.get(kind)
    if name is None:
        module = kind.__module__
        if issubclass(kind, _OWN_LINES) or not isinstance(module, str):
            return "".join(traceback.format_exception_only(kind, exc))
        name = kind.__qualname__ if module in ("__main__", "builtins") else f"{module}.{kind.__qualname__}"
        if len(_TYPE_NAMES) < _FORMATTED_STACKS:
            _TYPE_NAMES[kind] = name
    if getattr(exc, "__notes__", None) is not None:
        return "".join(traceback.format_exception_only(kind, exc))
    try:
        text = str(exc)
    except Exception:  # the library writes its own words for that
        return "".join(traceback.format_exception_only(kind, exc))
    return f"{name}: {text}\n" if text else f"{name}\n"


def _stack_text(exc: BaseException, skip_frames: int) -> str:
    """The header and the kept frames, formatted by the library."""
    frames = _kept(list(traceback.TracebackException.from_exception(exc).stack), skip_frames)
    if not frames:
        return ""
    return "Traceback (most recent call last):\n" + "".join(traceback.StackSummary.from_list(frames).format())
