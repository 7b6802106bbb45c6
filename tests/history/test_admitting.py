"""History's writes wait for a fan-out being admitted (``history.admitting``): each has the rest
admitted first (the periodic flush too, so a fan-out is on disk by the next one), and one made
from within the admission (a save that filled the buffer) is put off: a fan-out is never on disk
in part, nor its parent as finished without all its children."""

from __future__ import annotations

from pathlib import Path

from cli_support import poll

from history.records import T0, make
from history.test_queued import raw
from pingback_cli.history.queued import pending_rows
from pingback_cli.history.store import Store
from pingback_cli.models import Execution


class HalfAdmitted:
    """A fan-out of ``children`` being admitted as ``engine.admission`` does: the first half is
    saved from within the admission; ``complete`` saves the rest, still pending until the last
    (a save's flush from within is put off, and the rest is admitted before it returns)."""

    def __init__(self, store: Store, root: Execution, children: list[Execution]) -> None:
        self.store = store
        self.rest = children[len(children) // 2 :]
        self.completed = 0
        self._inside = self._everything = False
        store.admission = self
        self._admit([root, *children[: len(children) // 2]])

    @property
    def pending(self) -> bool:
        return bool(self.rest)

    def complete(self) -> None:
        if self._inside:
            self._everything = True
            return
        self.completed += 1
        self._admit([])
        self._everything = True

    def _admit(self, first: list[Execution]) -> None:
        self._inside = True
        for execution in first:
            self.store.save(execution)
        if self._everything or not first:
            while self.rest:
                self.store.save(self.rest[0])
                del self.rest[0]
        self._inside = False


def fan_out(count: int) -> tuple[Execution, list[Execution]]:
    root = make("ab", status="success")
    return root, [make(f"c{i}", "leaf", parent=root, status="pending", due_at=T0) for i in range(count)]


def on_disk(path: Path) -> set[str]:
    """Ids in the file now: rows, and children recorded only in a batch (``history.queued``)."""
    ids = {execution_id for (execution_id,) in raw(path, "SELECT id FROM executions")}
    for (children,) in raw(path, "SELECT children FROM queued_batches"):
        ids.update(row[0] for row in pending_rows(children, None, None))
    return ids


def rows(path: Path) -> set[str]:
    """Ids on disk as a reader sees them, batches of queued children included."""
    with Store(path, readonly=True) as reader:
        return {e.id for e in reader.tree("ab").walk()}


def test_the_periodic_flush_admits_the_rest_and_writes_the_whole_fan_out(path: Path) -> None:
    """Not put off until the last slice: children run meanwhile, and a process killed before the
    write would lose the whole fan-out (a 20,000-child one took ~1 s to admit)."""
    store = Store(path)
    root, children = fan_out(40)
    admission = HalfAdmitted(store, root, children)
    store.flush(wait=False)  # the recorder's periodic flush
    assert admission.completed == 1 and not admission.pending
    poll("the flush to be committed", lambda: raw(path, "SELECT id FROM executions WHERE id = 'ab'"), 10)
    assert on_disk(path) == {"ab", *(c.id for c in children)}  # one commit: the whole fan-out
    store.close()


def test_a_read_admits_the_rest_first(path: Path) -> None:
    store = Store(path)
    root, children = fan_out(40)
    admission = HalfAdmitted(store, root, children)
    assert {e.id for e in store.tree("ab").walk()} == {"ab", *(c.id for c in children)}
    assert admission.completed == 1
    store.close()


def test_a_save_that_fills_the_buffer_mid_admission_writes_nothing_in_part(path: Path) -> None:
    store = Store(path)
    store.auto_flush_at = 5  # the buffer fills while the fan-out is admitted
    root, children = fan_out(40)
    admission = HalfAdmitted(store, root, children)
    assert not raw(path, "SELECT id FROM executions")
    assert not admission.pending  # the rest was admitted before the admission returned
    store.close()  # the flush put off is done now: all of it
    assert rows(path) == {"ab", *(c.id for c in children)}
