"""Fan-out children that have not started, recorded compactly: one ``queued_batches`` row
(migration 9) per flush holds every such child the flush found, and each child's full row in
``executions`` is written once, when it starts or ends (the usual case), when this process
reads history (its readers see every queued child as a pending execution), or once its batch
is ``MATERIALIZE_AFTER`` seconds old (readers in other processes: ``pingback runs``, ``ui``).

Before, each child was written twice, pending at fan-out and again when it finished, and each
write changed the table and five indexes: most of the history cost of a fan-out. A batch row
costs one B-tree entry for a whole fan-out.

Nothing is lost to a crash: a batch row is deleted in the transaction that writes the last of
its children's rows, and a process that opens the file for writing first turns the batches it
finds into pending rows (``materialize``), with their owner and queue, so the next ``pingback
dev`` takes them over and any other writer marks a dead ``run``'s interrupted, as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from pingback_cli.history.codec import QUOTED, dump_value, loads
from pingback_cli.models import Execution
from pingback_cli.protocol import compact_encoder
from pingback_cli.record import Record

MATERIALIZE_AFTER = 2.0
"""Seconds (monotonic) after which a batch's children still queued get their pending rows."""

INSERT_BATCH = "INSERT INTO queued_batches (owner, queue, children) VALUES (?, ?, ?)"
DELETE_BATCH = "DELETE FROM queued_batches WHERE id = ?"
_INSERT_ROW = (
    f"INSERT OR IGNORE INTO executions ({', '.join(QUOTED)}) VALUES ({', '.join('?' for _ in QUOTED)})"
)
_ENCODE = compact_encoder()

Buffered = tuple[int, Execution]
"""(seq, execution) as the store buffers it."""

Row = tuple[int, Execution, "str | None"]
"""(seq, execution, its payload's text when a batch already wrote it): a row to write."""


def compactable(execution: Execution) -> bool:
    """A fan-out child that waits for its first attempt: recorded compactly, not as a row."""
    return execution.trigger == "fanout" and execution.status == "pending" and not execution.attempts


def encode_batch(children: list[Buffered], *, simulated: bool) -> tuple[str, list[str | None]]:
    """The ``children`` column, and each child's payload text in order (``codec.dump_value``'s,
    None without a payload: its row reuses it). The column holds the fields of their pending
    rows that vary, children that share all but id, seq and payload (a fan-out's) in one group:
    ``[[root, parent, depth, function, type, scheduled, due, simulated, [[id, seq, payload text
    or null], ...]], ...]``."""
    groups: dict[tuple[object, ...], list[list[object]]] = {}
    payloads: list[str | None] = []
    for seq, e in children:
        key = (e.root_id, e.parent_id, e.depth, e.function, e.type, e.scheduled_at, e.due_at)
        group = groups.get(key)
        if group is None:
            group = groups[key] = []
        payload = dump_value(e.payload) if e.has_payload else None
        payloads.append(payload)
        group.append([e.id, seq, payload])
    return _ENCODE([[*key, simulated, group] for key, group in groups.items()]), payloads


def pending_rows(children: str, owner: str | None, queue: str | None) -> list[tuple[object, ...]]:
    """The ``executions`` rows (``codec.COLUMNS`` order) of a batch's children as pending, the
    rows ``codec.encode_row`` writes for such a child (``listed_at``: when due, or on a
    simulated clock when recorded)."""
    rows = []
    for root_id, parent_id, depth, function, type_, scheduled, due, simulated, group in loads(children):
        for execution_id, seq, payload in group:
            listed = seq / 1_000_000 if simulated else scheduled
            rows.append(
                (execution_id, seq, root_id, parent_id, depth, function, type_, "pending", 0,
                 int(payload is not None), payload, None, None, "[]", "[]", scheduled,
                 None, None, None, None, "fanout", None, due, owner, queue, listed)
            )  # fmt: skip
    return rows


def materialize(conn: sqlite3.Connection) -> int:
    """Turn every batch in the file into pending rows (a child already written keeps its row)
    and delete the batches, in the caller's transaction. Returns how many batches there were."""
    batches = conn.execute("SELECT id, owner, queue, children FROM queued_batches").fetchall()
    for batch, owner, queue, children in batches:
        conn.executemany(_INSERT_ROW, pending_rows(children, owner, queue))
        conn.execute(DELETE_BATCH, (batch,))
    return len(batches)


class Plan(Record):
    """What one flush writes: full ``rows``, a new batch of ``compact`` children, and the
    batches none of whose children is left only in a batch (deleted)."""

    __slots__ = _fields = ("rows", "compact", "emptied")

    rows: list[Row]
    compact: list[Buffered]
    emptied: list[int]

    def __init__(
        self, rows: list[Row] | None = None, compact: list[Buffered] | None = None,
        emptied: list[int] | None = None,
    ) -> None:  # fmt: skip
        self.rows = [] if rows is None else rows
        self.compact = [] if compact is None else compact
        self.emptied = [] if emptied is None else emptied


class QueuedChildren:
    """This store's children recorded only in a batch: id -> (seq, execution, its payload's text,
    batch), and per batch (when recorded in monotonic seconds, [how many are still only in it],
    their ids)."""

    def __init__(self) -> None:
        self._children: dict[str, tuple[int, Execution, str | None, int]] = {}
        self._batches: dict[int, tuple[float, list[int], list[str]]] = {}

    def owed(self, *, everything: bool, now: float) -> bool:
        """Whether a flush must write rows even with nothing buffered: children wait in a
        batch and ``everything`` is wanted, or the oldest batch is ``MATERIALIZE_AFTER`` old."""
        if not self._batches:
            return False
        return everything or next(iter(self._batches.values()))[0] <= now - MATERIALIZE_AFTER

    def plan(self, buffered: Iterable[Buffered], *, everything: bool, now: float) -> Plan:
        """Split what is buffered: a child already in a batch and still waiting writes nothing,
        one that started or ended its full row (at its first seq: creation order); a new waiting
        child goes to the new batch unless ``everything`` (a read) wants every row now, which
        also writes the rows of every child left in a batch, as does a batch's age."""
        plan = Plan()
        for seq, e in buffered:
            known = self._children.get(e.id)
            if known is None:
                if not everything and compactable(e):
                    plan.compact.append((seq, e))
                else:
                    plan.rows.append((seq, e, None))
            elif everything or not compactable(e):
                self._written(e.id, known, plan)
        stale = now - MATERIALIZE_AFTER
        for recorded, _, ids in list(self._batches.values()):
            if not everything and recorded > stale:
                break  # batches are recorded in order: the rest are younger
            for execution_id in ids:
                if (known := self._children.get(execution_id)) is not None:
                    self._written(execution_id, known, plan)
        return plan

    def record(self, batch: int, children: list[Buffered], payloads: list[str | None], now: float) -> None:
        """``children`` were written as batch ``batch``, with ``payloads`` (``encode_batch``'s)."""
        self._batches[batch] = (now, [len(children)], [e.id for _, e in children])
        for (seq, e), payload in zip(children, payloads, strict=True):
            self._children[e.id] = (seq, e, payload, batch)

    def _written(self, execution_id: str, known: tuple[int, Execution, str | None, int], plan: Plan) -> None:
        seq, execution, payload, batch = known
        del self._children[execution_id]
        plan.rows.append((seq, execution, payload))
        left = self._batches[batch][1]
        left[0] -= 1
        if left[0] == 0:
            del self._batches[batch]
            plan.emptied.append(batch)
