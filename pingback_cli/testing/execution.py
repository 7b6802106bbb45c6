"""What a test sees of one execution: a read-only view of the engine's record, with its tree.

Fields follow the platform's execution record (``id``, ``function``, ``type``, ``status``,
``result``, ``error``, ``attempts``, ``logs``, ``payload``, ``scheduled_at``), plus the
fan-out ``children`` and ways to search the tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pingback_cli.models import Attempt, LogEntry, utc_datetime
from pingback_cli.models import Execution as Record


class Execution:
    """One execution and, through ``children``, the tree under it. Live until it finishes."""

    __slots__ = ("record",)

    def __init__(self, record: Record) -> None:
        self.record = record

    id = property(lambda self: self.record.id, doc="The execution id (a UUID).")
    function = property(lambda self: self.record.function, doc="The cron or task name.")
    type = property(lambda self: self.record.type, doc='"cron" or "task" (None: not registered).')
    status = property(
        lambda self: self.record.status, doc="pending, running, success, failed or interrupted."
    )
    result = property(lambda self: self.record.result, doc="What the handler returned, through JSON.")
    error = property(lambda self: self.record.error, doc="The last attempt's error message, or None.")
    payload = property(lambda self: self.record.payload, doc="The payload it was given (None without).")
    parent_id = property(lambda self: self.record.parent_id, doc="The parent's id for a fan-out child.")

    @property
    def attempts(self) -> list[Attempt]:
        """Every attempt, first to last (``number``, ``status``, ``error``, ``logs``, ...)."""
        return list(self.record.attempts)

    @property
    def logs(self) -> list[LogEntry]:
        """The last attempt's ``ctx.log()`` entries (``level``, ``message``, ``meta``)."""
        return list(self.record.logs)

    @property
    def scheduled_at(self) -> datetime:
        """When the platform scheduled it, as a UTC datetime (what ``ctx.scheduled_at`` reads)."""
        return utc_datetime(self.record.scheduled_at)

    @property
    def children(self) -> list[Execution]:
        """The fan-out children, in the order the handler asked for them."""
        return [Execution(child) for child in self.record.children]

    def walk(self) -> list[Execution]:
        """This execution and every descendant, depth first."""
        return [Execution(record) for record in self.record.walk()]

    def find_all(self, name: str) -> list[Execution]:
        """Every execution of function ``name`` in this tree (this one included), depth first."""
        return [execution for execution in self.walk() if execution.function == name]

    def find(self, name: str) -> Execution:
        """The first execution of function ``name`` in this tree; LookupError when none ran."""
        for execution in self.walk():
            if execution.function == name:
                return execution
        ran = sorted({execution.function for execution in self.walk()})
        raise LookupError(f'no execution of "{name}" in this tree (it has: {", ".join(ran)})')

    def render(self) -> str:
        """The tree as ``pingback run`` prints it, as plain text."""
        return render_text(self.record)

    def assert_success(self) -> Execution:
        """Raise AssertionError, with the rendered tree, unless every execution in it succeeded."""
        bad = [execution for execution in self.walk() if execution.status != "success"]
        if bad:
            first = bad[0]
            raise AssertionError(
                f"{len(bad)} of {len(self.walk())} executions did not succeed "
                f'(first: "{first.function}" {first.status}: {first.error})\n{self.render()}'
            )
        return self

    def to_json(self) -> dict[str, Any]:
        """The record as ``pingback run --json`` prints it (children nested)."""
        return self.record.to_json()

    def __iter__(self) -> Iterator[Execution]:
        return iter(self.walk())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Execution) and other.record is self.record

    def __hash__(self) -> int:
        return hash(self.record.id)

    def __repr__(self) -> str:
        return f"<Execution {self.function} {self.status} {self.id[:8]} children={len(self.record.children)}>"


def render_text(record: Record) -> str:
    """``record``'s tree and summary as plain text (no colour), for assertion messages."""
    import io

    from pingback_cli.render.trees import execution_tree, tree_summary
    from pingback_cli.terminal import make_console, print_whole

    buffer = io.StringIO()
    console = make_console(file=buffer)
    print_whole(console, execution_tree(record))
    print_whole(console, tree_summary(record))
    return buffer.getvalue()
