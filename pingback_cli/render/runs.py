"""The table of recent runs (``pingback runs``), one row per root execution."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from rich.text import Text

from pingback_cli import times
from pingback_cli.layout import FitTable
from pingback_cli.models import Execution
from pingback_cli.render.cells import (
    none_cell,
    plain_table,
    ran_for,
    short_id,
    status_text,
)
from pingback_cli.terminal import printable


class RunSummary(Protocol):
    """What :func:`runs_table` needs of one row (the history's run summary)."""

    @property
    def execution(self) -> Execution: ...
    @property
    def descendants(self) -> int: ...
    @property
    def failed_descendants(self) -> int: ...
    @property
    def unfinished_descendants(self) -> int: ...


def runs_table(summaries: Sequence[RunSummary]) -> FitTable:
    """Recent runs, one row per root execution (in the order history gives: by the time the
    Started column shows, a pending run's due time marked ``due``); stacked when narrow."""
    table = plain_table()
    for header in ("ID", "Function", "Status", "Started", "Duration"):
        table.add_column(header, no_wrap=header != "Function")
    table.add_column("Children", justify="right")
    table.add_column("Trigger")
    for summary in summaries:
        execution = summary.execution
        notes = [
            (f"{count:,} {word}", style)
            for count, word, style in (
                (summary.failed_descendants, "failed", "red"),
                (summary.unfinished_descendants, "unfinished", "cyan"),
            )
            if count
        ]
        children = Text(f"{summary.descendants:,}")
        if notes:
            children.append(" (")
            children.append(Text(", ").join(Text(note, style=style) for note, style in notes))
            children.append(")")
        started = Text(times.full(execution.started_at)) if execution.started_at is not None else None
        if started is None and execution.status == "pending":
            started = Text(times.full(execution.scheduled_at))
            started.append(" due", style="dim")
        elif started is None and execution.status == "cancelled" and execution.completed_at is not None:
            started = Text(times.full(execution.completed_at))  # where the list puts it (listed_at)
            started.append(" cancelled", style="dim")
        duration = ran_for(execution)
        table.add_row(
            Text(short_id(execution.id), style="dim"),
            Text(printable(execution.function), style="bold"),
            status_text(execution.status),
            none_cell() if started is None else started,
            Text(duration) if duration else none_cell(),
            children if summary.descendants else none_cell(),
            Text(printable(execution.trigger)),
        )
    return FitTable(table, title_columns=3)
