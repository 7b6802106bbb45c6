"""A fan-out's children entering the engine: all at once, or a slice per turn of the loop.

Making 10,000 children takes the engine ~0.1 s, and while it does, the worker has nothing to
run: the first 20 children wait for the last one to be made. With a slice size, the first slice
is admitted at once and the rest a slice per turn of the loop, between the answers of the
children already running, so the worker runs while the engine makes the rest.

Nothing else can tell the difference (tests/engine/test_admission.py):

- the children are admitted in the same order, by the same rules, with the same ``scheduledAt``
  (the moment the parent's answer was read);
- the parent's execution finishes (ledger, history, the tree's ``finished``) only once its last
  child is admitted, so its tree is never done, nor the parent written as finished, while
  children are still to come;
- nothing is queued ahead of children still to be admitted: the engine admits them all
  (:meth:`Admission.complete`) before it queues anything else, and before it interrupts,
  suspends, cancels or changes its functions;
- every history write admits them all first (``history.admitting``): a fan-out is never on
  disk in part, and it is on disk by the next periodic flush (0.1 s), as before, so slicing
  overlaps at most that long. Letting the periodic flush wait for the last slice instead lost
  whole fan-outs to a ``kill -9`` in the ~1 s a 20,000-child one took to admit, while thousands
  of its children ran (a new user's trial).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator

from pingback_cli.engine.clock import Clock, TimerHandle
from pingback_cli.models import Execution

Children = Iterator[tuple[Execution, "str | None"]]
"""Each child of a fan-out with the reason it is refused (``engine.fanout.children``)."""

FAN_OUT_SLICE = 64
"""Children admitted per turn of the loop by ``run`` and ``dev``: ~0.5 ms of the engine's time,
about what the worker needs to run the pool's 20 trivial children."""


class Admission:
    """Fan-outs whose children are being admitted, oldest first.

    ``admit(child, problem, now)`` admits one child (``problem``: why it is refused, or None);
    ``finish(parent)`` is called once all of a parent's children are admitted. ``slice_size``
    None admits every child at once (the toolkit's virtual clock, and tests)."""

    def __init__(
        self,
        clock: Clock,
        admit: Callable[[Execution, str | None, float], None],
        finish: Callable[[Execution], None],
        slice_size: int | None = None,
    ) -> None:
        self._clock = clock
        self._admit = admit
        self._finish = finish
        self.slice_size = slice_size
        self._waiting: deque[tuple[Execution, Children, float]] = deque()
        self._turn: TimerHandle | None = None
        self._admitting = False
        self._everything = False
        """``complete`` was called from within an admission."""
        self.starting = True
        """Children admitted now may start at once (False while a stop admits the rest)."""

    @property
    def pending(self) -> bool:
        """Some fan-out still has children to admit."""
        return bool(self._waiting)

    def add(self, parent: Execution, children: Children, now: float) -> None:
        """Admit ``children`` of ``parent``, whose answer was read at ``now``: behind any fan-out
        still being admitted, else the first slice at once and the rest on later turns."""
        self._waiting.append((parent, children, now))
        if len(self._waiting) == 1:
            self._admit_some(self.slice_size)

    def complete(self, *, start: bool = True) -> None:
        """Admit every child still waiting, now (from within an admission: before it returns);
        without ``start``, none of them starts (the engine is stopping)."""
        if self._admitting:
            self._everything = True
        elif self._waiting:
            self.starting = start
            try:
                self._admit_some(None)
            finally:
                self.starting = True

    def _on_turn(self) -> None:
        self._turn = None
        self._admit_some(self.slice_size)

    def _admit_some(self, budget: int | None) -> None:
        """Admit up to ``budget`` children (None: all), oldest fan-out first."""
        self._admitting = True
        try:
            while self._waiting and budget != 0:
                parent, children, now = self._waiting[0]
                taken = 0
                for child, problem in children if budget is None else itertools.islice(children, budget):
                    self._admit(child, problem, now)
                    taken += 1
                if budget is not None:
                    exhausted = taken < budget
                    budget = None if self._everything else budget - taken
                    if not exhausted:
                        continue  # the rest now (``complete`` came), or on the next turn
                self._waiting.popleft()
                self._finish(parent)
        finally:
            self._admitting = self._everything = False
        if not self._waiting and self._turn is not None:
            self._turn.cancel()
            self._turn = None
        elif self._waiting and self._turn is None:
            self._turn = self._clock.call_later(0.0, self._on_turn)
