"""Renderables for what the CLI shows: function tables, execution trees, runs, live lines.

Every function here builds and returns a Rich object and never prints. User text
(names, payloads, messages, tracebacks) only ever goes into :class:`~rich.text.Text`
spans, so it is never parsed as markup or emoji.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from pingback_cli import times
from pingback_cli.layout import FitTable
from pingback_cli.models import Attempt, Execution, FunctionSpec, LogEntry, iso
from pingback_cli.project.durations import format_duration
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


LEVEL_STYLES: dict[str, str] = {
    "debug": "dim",
    "warn": "yellow",
    "warning": "yellow",
    "error": "red",
}
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

TREE_LINES = 500
"""About how many lines a tree may take before the rest is left out (JSON has it all)."""
HEAD_CHILDREN = 20
"""How many children a crowded node shows before summarising the rest."""
HIDDEN_FAILED = 20
"""How many failed children of a crowded node are listed after the summary."""
TRACEBACK_LINES = 8
META_VALUE_LIMIT = 60


def _none() -> Text:
    """The dash of an empty cell."""
    return Text(glyph("none"), style="dim")


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


# --- small formatters -------------------------------------------------------------------


def short_id(execution_id: str) -> str:
    return execution_id[:8]


def compact_json(value: Any, limit: int | None = None) -> str:
    """One-line JSON, cut to ``limit`` characters with a trailing ``…``."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    if limit is not None and len(text) > limit:
        more = glyph("more")
        return text[: max(limit - len(more), 0)] + more
    return text


def _duration(ms: int | float | None) -> str | None:
    return None if ms is None else format_duration(ms / 1000)


def _first_line(text: str) -> str:
    return printable(text.strip().split("\n", 1)[0])


def _status_counts(statuses: Iterable[str]) -> list[tuple[int, str]]:
    counts = Counter(statuses)
    known = [(counts.pop(status), status) for status in STATUS_STYLES if status in counts]
    return known + [(count, status) for status, count in counts.items()]


def _walk(root: Execution) -> list[Execution]:
    """Like ``Execution.walk`` without recursion, so deep chains cannot overflow."""
    found: list[Execution] = []
    stack = [root]
    while stack:
        execution = stack.pop()
        found.append(execution)
        stack.extend(reversed(execution.children))
    return found


def _meta_value(value: Any) -> str:
    if isinstance(value, str) and value and not any(c.isspace() or c in "\"'=" for c in value):
        return printable(value)
    return compact_json(value, META_VALUE_LIMIT)


def _log_entry(entry: LogEntry) -> Text:
    """``info  Sent email  to=a@b.c``: level and message coloured by level, meta dim."""
    style = LEVEL_STYLES.get(entry.level)
    text = Text()
    text.append(f"{printable(entry.level):<5} ", style=style)
    text.append(printable(entry.message), style=style)
    if entry.meta:
        pairs = " ".join(f"{printable(str(k))}={_meta_value(v)}" for k, v in entry.meta.items())
        text.append(f"  {pairs}", style="dim")
    return text


def status_text(status: str) -> Text:
    """``✓ success`` in the status colour."""
    icon, style = status_icon(status)
    return Text(f"{icon} {status}", style=style)


def _table() -> Table:
    """A borderless table: bold headers, columns two spaces apart, easy to grep."""
    return Table(box=None, header_style="bold", pad_edge=False, padding=(0, 1))


# --- functions --------------------------------------------------------------------------


def function_table(
    specs: list[FunctionSpec],
    now: float,
    *,
    statuses: dict[str, str] | None = None,
    concurrency: str = "platform",
) -> FitTable:
    """Every cron and task: crons first, then tasks, each by name; stacked when narrow. A job
    that is not active (``statuses``: paused, inactive) says so under its name, and a paused
    cron has no next run. A timeout the platform reads as another number shows both; under the
    "platform" concurrency mode a function's concurrency is shown as not enforced
    (docs/parity.md#timeouts, #concurrency)."""
    statuses = statuses or {}
    table = _table()
    table.add_column("Name", no_wrap=True)
    table.add_column("Type", no_wrap=True)
    table.add_column("Schedule")
    table.add_column("Next run", no_wrap=True)
    table.add_column("Retries", justify="right", no_wrap=True)
    table.add_column("Timeout", no_wrap=True)
    table.add_column("Concurrency", justify="right", no_wrap=True)
    table.add_column("Source", overflow="fold")
    for spec in sorted(specs, key=lambda spec: (spec.type != "cron", spec.name)):
        state = statuses.get(spec.name, "active")
        if spec.schedule:
            schedule, next_run = _schedule_cells(spec.schedule, now)
            if state != "active":
                next_run = Text(f"{glyph('none')} ({state})", style="dim")
        else:
            schedule = next_run = _none()
        name = Text(printable(spec.name), style="bold")
        if state != "active":
            name.append(f"\n{state}", style="yellow")
        timeout = _timeout_cell(spec)
        table.add_row(
            name,
            Text(spec.type),
            schedule,
            next_run,
            Text(str(spec.retries)),
            timeout,
            _concurrency_cell(spec, concurrency),
            Text(printable(spec.source)) if spec.source else _none(),
        )
    return FitTable(table, title_columns=2)


def _timeout_cell(spec: FunctionSpec) -> Text:
    if not spec.timeout:
        return Text(format_duration(spec.timeout_seconds), style="dim")
    if spec.timeout_written is None:
        return Text(printable(spec.timeout))
    return Text.assemble(
        printable(spec.timeout),
        (f" {glyph('arrow')} {spec.timeout_seconds:g}s on the platform", "yellow"),
    )


def _concurrency_cell(spec: FunctionSpec, mode: str) -> Text:
    if mode == "documented":
        return Text(str(spec.concurrency))
    return Text.assemble(str(spec.concurrency), ("\nnot enforced", "dim"))


CONCURRENCY_NOTE = (
    "concurrency is not enforced by the platform: one pool of 20, crons overlap\n"
    'see docs/parity.md#concurrency; concurrency = "documented" enforces it'
)
"""Printed under the function table in the "platform" concurrency mode."""


def _schedule_cells(schedule: str, now: float) -> tuple[Text, Text]:
    """The schedule with its description (and its real rhythm when that is uneven), and the
    next run; the rhythm is ``project.cron.intervals``, the same one ``pingback check`` uses."""
    from pingback_cli.project.cron import NeverFires, describe, intervals, next_fire

    described = Text.assemble(
        printable(schedule), (" UTC", "dim"), "\n", (printable(describe(schedule)), "dim")
    )
    try:
        upcoming = next_fire(schedule, now)
    except NeverFires:
        return described, Text("never", style="dim")
    try:
        cadence = intervals(schedule, now)
    except NeverFires:
        cadence = None
    if cadence is not None and cadence.across is not None:
        described.append_text(Text.assemble("\n", (cadence.phrase(), "dim")))
    return described, Text.assemble(times.full(upcoming), "\n", (times.relative(upcoming - now), "dim"))


def function_json(spec: FunctionSpec, now: float) -> dict[str, Any]:
    """``spec.to_json()`` plus the schedule's ``description`` and ``nextRunAt``."""
    data = spec.to_json()
    data["description"] = None
    data["nextRunAt"] = None
    if spec.schedule:
        from pingback_cli.project.cron import NeverFires, describe, next_fire

        data["description"] = describe(spec.schedule)
        with contextlib.suppress(NeverFires):
            data["nextRunAt"] = iso(next_fire(spec.schedule, now))
    return data


# --- execution trees --------------------------------------------------------------------


def _node_label(execution: Execution, max_payload: int) -> Text:
    icon, style = status_icon(execution.status)
    label = Text()
    label.append(icon, style=style)
    label.append(" ")
    label.append(printable(execution.function), style="bold")
    if execution.type:
        label.append(f" {execution.type}", style="dim")
    if len(execution.attempts) > 1:
        label.append(f"  attempts: {len(execution.attempts)}", style="yellow")
    duration = _duration(execution.duration_ms)
    if duration:
        label.append(f"  {duration}")
    label.append(f"  {short_id(execution.id)}", style="dim")
    if execution.replay_of:
        label.append(f"  replay of {short_id(execution.replay_of)}", style="magenta")
    if execution.has_payload or execution.payload is not None:
        label.append("  payload ", style="dim")
        label.append(compact_json(execution.payload, max_payload))
    if execution.status == "success" and execution.result is not None:
        label.append(f"  {glyph('arrow')} {compact_json(execution.result, max_payload)}")
    elif execution.error:
        error_style = "yellow" if execution.status == "interrupted" else "red"
        label.append(f"  {_first_line(execution.error)}", style=error_style)
    return label


ATTEMPT_LOGS = 10
"""Logs shown under each earlier failed attempt (the last attempt's are the node's logs)."""
MAX_LOGS_PER_NODE = 50
"""A handler that logs 100,000 lines still makes a readable tree; JSON has them all."""


def _attempt_groups(attempts: list[Attempt]) -> list[list[Attempt]]:
    """Earlier unsuccessful attempts, consecutive ones that failed alike (same status and
    error, no logs) grouped, so a setup mistake repeated on every attempt reads once."""
    groups: list[list[Attempt]] = []
    for attempt in attempts:
        if attempt.status == "success":
            continue
        previous = groups[-1][-1] if groups else None
        if (
            previous is not None
            and not previous.logs
            and (previous.status, previous.error) == (attempt.status, attempt.error)
        ):
            groups[-1].append(attempt)
        else:
            groups.append([attempt])
    return groups


def _node_details(execution: Execution, show_logs: bool) -> list[Text]:
    """The lines under a node: earlier failed attempts, logs, the last traceback."""
    lines: list[Text] = []
    for group in _attempt_groups(execution.attempts[:-1]):
        first, last = group[0], group[-1]
        numbers = f"attempt {first.number}" if first is last else f"attempts {first.number}–{last.number}"
        error = _first_line(first.error or "?")
        said = "same error" if execution.error and error == _first_line(execution.error) else error
        line = f"{numbers} {first.status}: {said}"
        duration = _duration(first.duration_ms) if first is last else None
        lines.append(Text(f"{line} ({duration})" if duration else line, style="dim"))
        if show_logs:  # what a failed attempt logged is often why it failed
            lines.extend(Text("  ").append_text(_log_entry(e)) for e in last.logs[:ATTEMPT_LOGS])
            if len(last.logs) > ATTEMPT_LOGS:
                hidden = len(last.logs) - ATTEMPT_LOGS
                lines.append(Text(f"  {glyph('more')} {hidden:,} more", style="dim"))
    for attempt in execution.attempts:
        for notice in attempt.notices:
            lines.append(Text(f"{glyph('interrupted')} production: {printable(notice)}", style="yellow"))
    if show_logs:
        shown = execution.logs[:MAX_LOGS_PER_NODE]
        lines.extend(_log_entry(entry) for entry in shown)
        hidden = len(execution.logs) - len(shown)
        if hidden > 0:
            lines.append(
                Text(
                    f"{glyph('more')} {hidden:,} more log entries: "
                    f"pingback show {short_id(execution.id)} --json",
                    style="dim",
                )
            )
    if execution.attempts and execution.attempts[-1].traceback:
        tb = printable(execution.attempts[-1].traceback).rstrip().splitlines()
        start = max(0, len(tb) - TRACEBACK_LINES)
        while start > 0 and (_is_marker(tb[start]) or tb[start].startswith("    ")):
            start -= 1  # never begin at a ^^^^ marker or a source line without its File line
        shown = tb[start:]
        if start > 0:
            shown.insert(0, glyph("more"))
        lines.append(Text("\n".join(shown), style="dim"))
    return lines


def _is_marker(line: str) -> bool:
    """A traceback's ``^^^^~~~`` line under the code it points at."""
    return bool(line.strip()) and set(line.strip()) <= set("^~")


def _hidden_summary(hidden: list[Execution]) -> Text:
    """``… 9,980 more children: 9,975 success, 5 failed``."""
    text = Text(f"{glyph('more')} {len(hidden):,} more children: ", style="dim")
    for index, (count, status) in enumerate(_status_counts(c.status for c in hidden)):
        if index:
            text.append(", ")
        text.append(f"{count:,} {status}", style="red" if status == "failed" else None)
    return text


def _add_children(
    node: Tree, children: list[Execution], max_children: int, max_payload: int
) -> list[tuple[Execution, Tree]]:
    """Add children's labels under ``node``, summarising a crowd; returns those added."""
    added: list[tuple[Execution, Tree]] = []

    def add(child: Execution) -> None:
        added.append((child, node.add(_node_label(child, max_payload))))

    if len(children) <= max_children:
        for child in children:
            add(child)
        return added
    head = min(HEAD_CHILDREN, max_children)
    for child in children[:head]:
        add(child)
    hidden = children[head:]
    node.add(_hidden_summary(hidden))
    failed = [child for child in hidden if child.status == "failed"]
    for child in failed[:HIDDEN_FAILED]:
        add(child)
    if len(failed) > HIDDEN_FAILED:
        node.add(Text(f"{glyph('more')} {len(failed) - HIDDEN_FAILED:,} more failed not shown", style="dim"))
    return added


def execution_tree(
    root: Execution,
    *,
    max_payload: int = 60,
    show_logs: bool = True,
    max_children: int = 50,
    max_lines: int = TREE_LINES,
) -> Tree:
    """One node per execution, fan-out children nested under their parent.

    A node with more than ``max_children`` children shows the first few, a count of
    the rest by status, and then the failed ones among the rest. Past about ``max_lines``
    lines the rest is left out, with one line saying how many executions and where they are.
    """
    tree = Tree(_node_label(root, max_payload), guide_style="dim")
    stack: list[tuple[Execution, Tree]] = [(root, tree)]
    used = 1
    while stack and used < max_lines:
        execution, node = stack.pop()
        for line in _node_details(execution, show_logs):
            node.add(line)
            used += line.plain.count("\n") + 1
        added = _add_children(node, execution.children, max_children, max_payload)
        used += len(added)
        stack.extend(added)
    if stack:
        total = len(_walk(root))
        more = f"{glyph('more')} only part of this tree of {total:,} executions is shown"
        tree.add(Text(f"{more}: pingback show {short_id(root.id)} --json has all of it", style="dim"))
    return tree


def tree_summary(root: Execution) -> Text:
    """``10,001 executions · 10,000 success · 1 failed · 2.3s``."""
    executions = _walk(root)
    total = len(executions)
    text = Text(f"{total:,} execution{'' if total == 1 else 's'}")
    for count, status in _status_counts(e.status for e in executions):
        text.append(f" {glyph('dot')} ")
        text.append(f"{count:,} {status}", style=STATUS_STYLES.get(status, ""))
    ends = [e.completed_at for e in executions if e.completed_at is not None]
    if root.started_at is not None and len(ends) == total:
        text.append(f" {glyph('dot')} {format_duration(max(ends) - root.started_at)}")
    return text


# --- runs and live lines ----------------------------------------------------------------


def runs_table(summaries: Sequence[RunSummary]) -> FitTable:
    """Recent runs, one row per root execution; stacked when narrow."""
    table = _table()
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
        started = execution.started_at
        duration = _duration(execution.duration_ms)
        table.add_row(
            Text(short_id(execution.id), style="dim"),
            Text(printable(execution.function), style="bold"),
            status_text(execution.status),
            _none() if started is None else Text(times.full(started)),
            Text(duration) if duration else _none(),
            children if summary.descendants else _none(),
            Text(printable(execution.trigger)),
        )
    return FitTable(table, title_columns=3)


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
            detail = _duration(execution.duration_ms)
        elif kind in ("failed", "interrupted") and execution.error:
            detail = execution.error
    style = EVENT_STYLES.get(kind)
    line = Text()
    line.append(times.clock(now, ms=True), style="dim")
    line.append(f"  {kind:<11} ", style=style)
    line.append(printable(execution.function), style="bold")
    line.append(f"  {short_id(execution.id)}", style="dim")
    if detail:
        line.append(f"  {_first_line(detail)}", style=style if kind == "failed" else None)
    return line


def log_line(execution: Execution, entry: LogEntry) -> Text:
    """``  send-email a1b2c3d4  info  Sent email  to=a@b.c`` while a run streams logs."""
    line = Text("  ")
    line.append(printable(execution.function), style="bold")
    line.append(f" {short_id(execution.id)}  ", style="dim")
    line.append_text(_log_entry(entry))
    return line
