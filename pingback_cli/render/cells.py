"""The small pieces every view is built of: status icons and colours, short ids, one-line
JSON, durations, first lines, log entries, the empty cell and the borderless table.

User text only ever goes into :class:`~rich.text.Text` spans, never parsed as markup."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from rich.table import Table
from rich.text import Text

from pingback_cli import times
from pingback_cli.models import FINISHED, LogEntry
from pingback_cli.terminal import glyph, printable

STATUS_STYLES: dict[str, str] = {
    "success": "green",
    "failed": "red",
    "interrupted": "yellow",
    "cancelled": "magenta",
    "running": "cyan",
    "pending": "dim",
}
"""Status -> style; the order is the order counts are listed in. Icons: :func:`status_icon`."""


def status_icon(status: str) -> tuple[str, str]:
    """(icon, style) of a status; the icon is ASCII where the terminal cannot show ``✓``."""
    if status not in STATUS_STYLES:
        return "?", ""
    return glyph(status), STATUS_STYLES[status]


def status_text(status: str) -> Text:
    """``✓ success`` in the status colour."""
    icon, style = status_icon(status)
    return Text(f"{icon} {status}", style=style)


LEVEL_STYLES: dict[str, str] = {
    "debug": "dim",
    "warn": "yellow",
    "warning": "yellow",
    "error": "red",
}


META_VALUE_LIMIT = 60


def ran_for(execution: Any) -> str:
    """How long ``execution`` (an ``Execution`` or a history row) ran: ``1ms``, or
    ``last attempt 1ms · total 6.0s`` after retries, ``unknown`` when its end is not known
    (``times.run_time``, which the dashboard shows too)."""
    return times.run_time(
        execution.attempt,
        execution.duration_ms,
        execution.started_at,
        execution.completed_at,
        ended=execution.status in FINISHED,
        dot=glyph("dot"),
    )


def none_cell() -> Text:
    """The dash of an empty cell."""
    return Text(glyph("none"), style="dim")


def short_id(execution_id: str) -> str:
    return execution_id[:8]


def compact_json(value: Any, limit: int | None = None) -> str:
    """One-line JSON, cut to ``limit`` characters with a trailing ``…``."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    if limit is not None and len(text) > limit:
        more = glyph("more")
        return text[: max(limit - len(more), 0)] + more
    return text


def first_line(text: str) -> str:
    return printable(text.strip().split("\n", 1)[0])


def status_counts(statuses: Iterable[str]) -> list[tuple[int, str]]:
    counts = Counter(statuses)
    known = [(counts.pop(status), status) for status in STATUS_STYLES if status in counts]
    return known + [(count, status) for status, count in counts.items()]


def _meta_value(value: Any) -> str:
    if isinstance(value, str) and value and not any(c.isspace() or c in "\"'=" for c in value):
        return printable(value)
    return compact_json(value, META_VALUE_LIMIT)


def log_entry(entry: LogEntry) -> Text:
    """``info  Sent email  to=a@b.c``: level and message coloured by level, meta dim."""
    style = LEVEL_STYLES.get(entry.level)
    text = Text()
    text.append(f"{printable(entry.level):<5} ", style=style)
    text.append(printable(entry.message), style=style)
    if entry.meta:
        pairs = " ".join(f"{printable(str(k))}={_meta_value(v)}" for k, v in entry.meta.items())
        text.append(f"  {pairs}", style="dim")
    return text


def plain_table() -> Table:
    """A borderless table: bold headers, columns two spaces apart, easy to grep."""
    return Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))
