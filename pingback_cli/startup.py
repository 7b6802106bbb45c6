"""Start-up without the garbage collector's repeated walks: ``hold`` at a process's first line,
``release`` once start-up is over.

A `pingback` command or a worker starts by importing (Typer, Rich, asyncio, the user's project
and its SDK): tens of thousands of objects, nearly all of which stay for the life of the
process. Python's cyclic collector, at its default threshold (a young collection every 700
new objects, a middle one every 10 of those), walks them 50-60 times over while they are
made and frees almost nothing: 10-20 ms of CPU of a 0.12-0.3 s command on this machine kind.
Holding raises the young threshold instead of disabling the collector, so that a command
that makes cyclic garbage at scale still has it collected, only in larger rounds.

Only a process that held releases: the functions do nothing in a process that never called
``hold`` (the test suite, a program that imports the library), whose collector stays as it was.
"""

from __future__ import annotations

import gc

HELD_THRESHOLD = 100_000
"""New container objects between two young collections while held (Python's default: 700).
``pingback run`` of one task makes ~35,000 in all; a 100,000-object round is a few ms."""

_saved: tuple[int, int, int] | None = None
"""The thresholds ``hold`` replaced, None when not held."""


def hold() -> None:
    """Collect young objects only every ``HELD_THRESHOLD`` allocations, until ``release``.
    Nothing when the collector is disabled or already held."""
    global _saved
    if _saved is None and gc.isenabled():
        _saved = gc.get_threshold()
        gc.set_threshold(HELD_THRESHOLD)


def release() -> None:
    """Start-up is over (the project imported, the servers up): what it made goes to the
    permanent generation (``gc.freeze``: never walked again, so later full collections are
    cheaper too) and the thresholds ``hold`` replaced return, for the long run's own garbage.
    Nothing when not held."""
    global _saved
    if _saved is not None:
        gc.freeze()
        gc.set_threshold(*_saved)
        _saved = None
