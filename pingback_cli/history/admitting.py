"""What holds history's writes back: a fan-out whose children are still being admitted
(``engine.admission``). None of a fan-out's children may be on disk before all of them are, nor
its parent as finished: a process killed meanwhile would leave a tree that lost children."""

from __future__ import annotations

from typing import Protocol


class Admitting(Protocol):
    """The engine's fan-outs still being admitted."""

    @property
    def pending(self) -> bool: ...

    def complete(self) -> None:
        """Admit every child still waiting, now."""
        ...


def may_write(admission: Admitting | None, *, now: bool) -> bool:
    """Whether a history write may go on: nothing is being admitted, or ``now`` (a read, a flush
    that waits, the close) and it was all admitted first. False: put the write off (a periodic
    flush, or one from within the admission itself)."""
    if admission is None or not admission.pending:
        return True
    if now:
        admission.complete()
    return now
