"""History's writes wait for a fan-out being admitted (``history.admitting``): a write that need
not wait is put off, one that must (a flush that waits, a read, the close) has the rest admitted
first, so a fan-out is never on disk in part, nor its parent as finished without all its children."""

from __future__ import annotations

from pathlib import Path

from history.records import T0, make
from history.test_queued import raw
from pingback_cli.history.store import Store
from pingback_cli.models import Execution


class HalfAdmitted:
    """A fan-out of ``children`` whose first half was saved; ``complete`` saves the rest."""

    def __init__(self, store: Store, root: Execution, children: list[Execution]) -> None:
        self.store = store
        self.rest = children[len(children) // 2 :]
        self.completed = 0
        store.admission = self
        store.save(root)
        for child in children[: len(children) // 2]:
            store.save(child)

    @property
    def pending(self) -> bool:
        return bool(self.rest)

    def complete(self) -> None:
        self.completed += 1
        rest, self.rest = self.rest, []
        for child in rest:
            self.store.save(child)  # may flush from within: that one is put off too


def fan_out(count: int) -> tuple[Execution, list[Execution]]:
    root = make("ab", status="success")
    return root, [make(f"c{i}", "leaf", parent=root, status="pending", due_at=T0) for i in range(count)]


def rows(path: Path) -> set[str]:
    """Ids on disk as a reader sees them, batches of queued children included."""
    with Store(path, readonly=True) as reader:
        return {e.id for e in reader.tree("ab").walk()}


def test_a_flush_that_need_not_wait_is_put_off_while_children_are_admitted(path: Path) -> None:
    store = Store(path)
    root, children = fan_out(40)
    admission = HalfAdmitted(store, root, children)
    store.flush(wait=False)  # the recorder's periodic flush
    assert not raw(path, "SELECT id FROM executions WHERE id = 'ab'")
    store.flush(wait=True)  # a trigger answered once on disk
    assert admission.completed == 1
    store.close()
    assert rows(path) == {"ab", *(c.id for c in children)}


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
    store.close()  # the close must write: everything admitted first, then all of it
    assert admission.completed == 1
    assert rows(path) == {"ab", *(c.id for c in children)}
