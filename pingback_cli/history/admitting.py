"""What a history write waits for: a fan-out whose children are still being admitted
(``engine.admission``). None of a fan-out's children may be on disk before all of them are, nor
its parent as finished without them: a process killed meanwhile would leave a tree that lost
children. And the fan-out must not wait for its last slice to reach the disk: children run
meanwhile, and a process killed before the write loses the whole fan-out (the next `dev` finds
its parent running, with no child). So every write admits the rest first, and so the periodic
flush puts a fan-out on disk within ``FLUSH_INTERVAL`` of its parent's answer, as when children
were admitted at once."""

from __future__ import annotations

from typing import Protocol


class Admitting(Protocol):
    """The engine's fan-outs still being admitted."""

    @property
    def pending(self) -> bool: ...

    def complete(self) -> None:
        """Admit every child still waiting, now (from within an admission: before it returns)."""
        ...


def may_write(admission: Admitting | None) -> bool:
    """Whether a history write may go on: nothing is being admitted, or it was all admitted now.
    False only for a write made from within the admission itself (a save that filled the
    buffer): it is put off, and the admission finishes before it returns."""
    if admission is None or not admission.pending:
        return True
    admission.complete()
    return not admission.pending
