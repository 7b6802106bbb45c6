"""Renderables for work that waits: what ``trigger`` answers, the ``runs --status pending``
table, and the line ``run`` shows while it waits. Never prints; times through ``times``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text

from pingback_cli import times
from pingback_cli.layout import FitTable
from pingback_cli.models import Execution, from_iso
from pingback_cli.render.cells import plain_table, short_id
from pingback_cli.terminal import glyph, printable


def trigger_line(answer: dict[str, Any], now: float) -> Text:
    """``<id>  send-email  due 14:30:00 EST, in 15m`` (``starts now`` when not delayed)."""
    line = Text(str(answer.get("executionId", "")))
    line.append(f"  {printable(str(answer.get('task', '')))}", style="bold")
    scheduled = answer.get("scheduledAt")
    try:
        due = from_iso(scheduled) if isinstance(scheduled, str) else None
    except ValueError:
        due = None
    if due is not None:
        line.append("  " + ("starts now" if due <= now + 0.5 else times.due(due, now)), style="dim")
    return line


def pending_table(executions: Sequence[Execution], now: float) -> FitTable:
    """Executions waiting to start, soonest due first: id, function, why, when due."""
    table = plain_table()
    table.add_column("ID", no_wrap=True)
    table.add_column("Function")
    table.add_column("Waiting for", no_wrap=True)
    table.add_column(f"Due ({times.zone()})", no_wrap=True)
    table.add_column("Trigger", no_wrap=True)
    for execution in executions:
        due = execution.due_at if execution.due_at is not None else execution.scheduled_at
        table.add_row(
            Text(short_id(execution.id), style="dim"),
            Text(printable(execution.function), style="bold"),
            Text(waiting_for(execution, now)),
            Text.assemble(times.moment(due, now=now), ("\n" + _when(due, now), "dim")),
            Text(printable(execution.trigger)),
        )
    return FitTable(table, title_columns=2)


def waiting_for(execution: Execution, now: float) -> str:
    """``retry 2`` (after a failed attempt), ``delay`` (due later, never tried), or ``its
    turn`` (due now: behind a concurrency limit, or for a `pingback dev` to run it)."""
    if execution.attempts:
        return f"retry {execution.attempt + 1}"
    due = execution.due_at if execution.due_at is not None else execution.scheduled_at
    return "delay" if due > now + 0.5 else "its turn"


def _when(due: float, now: float) -> str:
    return "now" if due <= now + 0.5 else times.relative(due - now)


def waiting_line(delayed: int, retrying: int, next_due: float | None, now: float) -> Text:
    """``waiting: 1 delayed execution due in 18s`` while ``run`` has nothing running."""
    parts = []
    if delayed:
        parts.append(f"{delayed} delayed execution{'s' if delayed != 1 else ''}")
    if retrying:
        parts.append(f"{retrying} retr{'ies' if retrying != 1 else 'y'} in backoff")
    text = "waiting: " + " and ".join(parts or ["queued work"])
    if next_due is not None:
        text += f" due {_when(next_due, now)}" if next_due > now + 0.5 else " due now"
    return Text(text, style="dim")


def timeline(execution: Execution, now: float) -> Text:
    """``due 14:30:00 EST · started 14:30:01 EST · ended 14:30:03 EST`` (what is known). Once it
    has run, ``scheduled`` (or ``retried by hand``, the platform's manual retry moving
    ``scheduledAt``) instead of the due time of a retry that is over."""
    if execution.status == "pending":
        due = execution.due_at if execution.due_at is not None else execution.scheduled_at
        parts = [f"due {times.moment(due, now=now)}" + (f" ({_when(due, now)})" if due > now + 0.5 else "")]
    else:
        by_hand = bool(execution.attempts) and execution.attempts[-1].requested_at is not None
        said = "retried by hand" if by_hand else "scheduled"
        parts = [f"{said} {times.moment(execution.scheduled_at, now=now)}"]
    if execution.started_at is not None:
        parts.append(f"started {times.moment(execution.started_at, now=now)}")
    if execution.completed_at is not None:
        parts.append(f"ended {times.moment(execution.completed_at, now=now)}")
    return Text(f" {glyph('dot')} ".join(parts), style="dim")
