"""Live lines: one per engine event (fired, started, retrying, ...) and one per streamed log."""

from __future__ import annotations

import time

from rich.text import Text

from pingback_cli import times
from pingback_cli.models import Execution, LogEntry
from pingback_cli.render.cells import (
    first_line,
    log_entry,
    short_id,
)
from pingback_cli.terminal import printable

EVENT_STYLES: dict[str, str] = {
    "fired": "magenta",
    "started": "cyan",
    "retrying": "yellow",
    "succeeded": "green",
    "failed": "red",
    "interrupted": "yellow",
    "cancelled": "magenta",
    "skipped": "dim",
    "scheduled": "magenta",
    "resumed": "cyan",
    "paused": "dim",
}


def event_line(
    kind: str, execution: Execution, *, detail: str | None = None, at: float | None = None
) -> Text:
    """``10:15:00.123  fired     send-emails  a1b2c3d4`` for live views.

    Without ``detail``, ``succeeded`` shows the duration and ``failed``/``interrupted``
    the error's first line. ``scheduled``, ``resumed`` and ``retrying`` say when the
    execution is due (``due 14:30:00 EST, in 15m``).
    """
    now = time.time() if at is None else at
    if kind in ("scheduled", "resumed", "retrying") and execution.due_at is not None:
        when = times.due(execution.due_at, now)
        detail = f"{'retry ' if kind == 'retrying' else ''}{when}" + (f": {detail}" if detail else "")
    if detail is None:
        if kind == "succeeded":
            detail = times.duration_ms(execution.duration_ms)
        elif kind in ("failed", "interrupted") and execution.error:
            detail = execution.error
    style = EVENT_STYLES.get(kind)
    line = Text()
    line.append(times.clock(now, ms=True), style="dim")
    line.append(f"  {kind:<11} ", style=style)
    line.append(printable(execution.function), style="bold")
    line.append(f"  {short_id(execution.id)}", style="dim")
    if detail:
        line.append(f"  {first_line(detail)}", style=style if kind == "failed" else None)
    return line


def log_line(execution: Execution, entry: LogEntry) -> Text:
    """``  send-email a1b2c3d4  info  Sent email  to=a@b.c`` while a run streams logs."""
    line = Text("  ")
    line.append(printable(execution.function), style="bold")
    line.append(f" {short_id(execution.id)}  ", style="dim")
    line.append_text(log_entry(entry))
    return line
