"""Turning records into what a page shows: highlighted JSON (escaped, truncated past 100 KB),
the visible part of a large tree, and the waterfall's geometry.

Everything returned as ``Markup`` is built from escaped pieces; nothing user-written is ever
marked safe as it is.
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup, escape

from pingback_cli import times
from pingback_cli.history.outline import PREVIEW, Outline, OutlineNode
from pingback_cli.models import FINISHED, iso
from pingback_cli.record import Record

MAX_JSON_CHARS = 100_000
"""Payloads and results longer than this (as indented JSON) are shown cut, with a raw link."""

CHILDREN_SHOWN = 100
"""Children listed under one parent before "N more"."""

NODES_SHOWN = 1_000
"""Executions of one tree rendered at most (tree and waterfall): a page stays responsive."""

_TOKEN = re.compile(r'("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b')


class JsonView(Record):
    __slots__ = _fields = ("html", "truncated", "size")

    html: Markup
    truncated: bool
    size: int
    """Characters of the whole indented JSON."""

    def __init__(self, html: Markup, truncated: bool, size: int) -> None:
        self.html = html
        self.truncated = truncated
        self.size = size


def json_view(value: Any) -> JsonView:
    """``value`` as indented JSON with spans for keys, strings, numbers and literals."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=repr)
    size = len(text)
    truncated = size > MAX_JSON_CHARS
    if truncated:
        text = text[:MAX_JSON_CHARS]
    parts: list[str] = []
    last = 0
    for match in _TOKEN.finditer(text):
        parts.append(str(escape(text[last : match.start()])))
        string, colon, number, literal = match.groups()
        if string is not None:
            kind = "k" if colon else "s"
            parts.append(f'<span class="j{kind}">{escape(string)}</span>{escape(colon or "")}')
        elif number is not None:
            parts.append(f'<span class="jn">{escape(number)}</span>')
        else:
            parts.append(f'<span class="jl">{escape(literal)}</span>')
        last = match.end()
    parts.append(str(escape(text[last:])))
    return JsonView(Markup("".join(parts)), truncated, size)


def when(ts: float | None) -> Markup:
    """A ``<time>`` the page's script shows in the chosen zone (UTC ISO until it runs)."""
    if not ts:
        return Markup("")
    text = iso(ts)
    return Markup(f'<time datetime="{text}">{text}</time>')


def pill(status: str | None) -> Markup:
    """A status badge."""
    value = escape(status or "")
    return Markup(f'<span class="pill pill-{value}">{value}</span>')


def tree_html(tree: Outline, current: str) -> Markup:
    """The outline as nested lists (``<details>`` where there are children), built here rather
    than in a template: a recursive Jinja macro costs milliseconds per hundred nodes."""
    if tree.root is None:
        return Markup("")
    parts: list[str] = []
    _tree_item(tree.root, current, parts)
    return Markup("".join(parts))


def run_time(row: Any) -> str:
    """How long ``row`` (an ``Execution`` or a ``RunRow``) ran: ``times.run_time``, as the CLI says it."""
    return times.run_time(
        row.attempt, row.duration_ms, row.started_at, row.completed_at, ended=row.status in FINISHED
    )


def _payload_preview(node: OutlineNode) -> str:
    """`` <code class="preview">{"n": 3}</code>``: how siblings of one function differ."""
    text = node.payload_start
    if not text or text == "null":
        return ""
    shown = text if len(text) <= PREVIEW else text[:PREVIEW] + "\u2026"
    return f' <code class="preview">{escape(shown)}</code>'


def _tree_item(node: OutlineNode, current: str, parts: list[str]) -> None:
    row = node.row
    node_id = escape(row.id)
    mark = ' aria-current="true" class="current"' if row.id == current else ""
    attempts = f" · {row.attempt} attempts" if row.attempt > 1 else ""
    ran = run_time(row)
    label = (
        f'<a href="/executions/{node_id}"{mark} data-node="{node_id}">{pill(row.status)}'
        f"{escape(row.function)}</a> "
        f'<span class="muted">{escape(ran)}{attempts}</span>{_payload_preview(node)}'
    )
    if not node.children and not node.hidden:
        parts.append(f'<li><span class="leaf">{label}</span></li>')
        return
    parts.append(f'<li><details open data-key="tree-{node_id}"><summary>{label}</summary><ul>')
    for child in node.children:
        _tree_item(child, current, parts)
    if node.hidden:
        root = escape(row.root_id)
        failed = (
            f'{node.hidden_failed:,} of them failed: <a href="/?root={root}&amp;all=1&amp;status=failed">'
            "list the failures</a> or "
            if node.hidden_failed
            else "none failed: "
        )
        parts.append(
            f'<li class="muted">{node.hidden:,} more children not shown, {failed}'
            f'<a href="/?root={root}&amp;all=1">list every execution of this tree</a></li>'
        )
    parts.append("</ul></details></li>")


class Segment(Record):
    __slots__ = _fields = ("kind", "left", "width", "start", "end", "label")

    kind: str
    """queued, run-success, run-failed, run-running, run-interrupted, run-cancelled, backoff."""
    left: float
    width: float
    """Percent of the axis."""
    start: float
    end: float
    label: str

    def __init__(self, kind: str, left: float, width: float, start: float, end: float, label: str) -> None:
        self.kind = kind
        self.left = left
        self.width = width
        self.start = start
        self.end = end
        self.label = label


class WaterfallRow(Record):
    __slots__ = _fields = ("node", "depth", "segments")

    node: OutlineNode
    depth: int
    segments: list[Segment]

    def __init__(self, node: OutlineNode, depth: int, segments: list[Segment]) -> None:
        self.node = node
        self.depth = depth
        self.segments = segments


class Waterfall(Record):
    __slots__ = _fields = ("start", "end", "rows", "ticks")

    start: float
    end: float
    rows: list[WaterfallRow]
    ticks: list[tuple[float, float]]
    """(percent, unix seconds) for the axis labels."""

    def __init__(
        self, start: float, end: float, rows: list[WaterfallRow], ticks: list[tuple[float, float]]
    ) -> None:
        self.start = start
        self.end = end
        self.rows = rows
        self.ticks = ticks

    @property
    def drawn(self) -> bool:
        """Whether any execution has a segment (one cancelled before it started has none)."""
        return any(row.segments for row in self.rows)


def waterfall(tree: Outline, now: float) -> Waterfall:
    """Every execution of the outline on one time axis: queued time, then one run segment per
    attempt, with the backoff between attempts as its own segment; before a manual retry's
    attempt, nothing (idle) until it was asked for, then its queued time."""
    order = tree.root.walk() if tree.root is not None else []
    spans = [_spans(node, now) for node in order]
    points = [point for found in spans for _, a, b, _ in found for point in (a, b)]
    start = min(points, default=now)
    end = max(max(points, default=now), start + 0.001)
    scale = 100.0 / (end - start)
    root_depth = order[0].row.depth if order else 0
    rows = []
    for node, found in zip(order, spans, strict=True):
        segments = [
            Segment(kind, (a - start) * scale, max((b - a) * scale, 0.15), a, b, label)
            for kind, a, b, label in found
        ]
        rows.append(WaterfallRow(node, node.row.depth - root_depth, segments))
    ticks = [(index * 50.0, start + (end - start) * index / 2) for index in range(3)]
    return Waterfall(start, end, rows, ticks)


def waterfall_html(chart: Waterfall, current: str) -> Markup:
    """The waterfall's rows (a template loop over a thousand rows of segments is slow)."""
    parts: list[str] = []
    for row in chart.rows:
        node_id = escape(row.node.row.id)
        extra = " wf-current" if row.node.row.id == current else ""
        segments = "".join(
            f'<span class="seg wf-{escape(s.kind)}" style="left: {s.left:.3f}%; width: {s.width:.3f}%"'
            f' title="{escape(s.label)}"></span>'
            for s in row.segments
        )
        parts.append(
            f'<div class="wf-row{extra}" role="row"><a class="wf-name" role="rowheader"'
            f' href="/executions/{node_id}" style="padding-left: {min(row.depth, 12)}em">'
            f'{escape(row.node.row.function)}</a><span class="wf-track" role="cell">{segments}</span></div>'
        )
    return Markup("".join(parts))


def _spans(node: OutlineNode, now: float) -> list[tuple[str, float, float, str]]:
    row = node.row
    attempts = node.attempts()
    found: list[tuple[str, float, float, str]] = []
    queued_from = row.scheduled_at
    if not attempts:
        if row.status in ("pending", "running"):
            found.append(("queued", min(queued_from, now), max(queued_from, now), "queued"))
        return found
    first = attempts[0].started_at
    if first > queued_from:
        found.append(("queued", queued_from, first, f"queued {times.duration(first - queued_from)}"))
    previous_end: float | None = None
    for attempt in attempts:
        asked = attempt.requested_at
        if asked is not None and attempt.started_at > asked:  # a manual retry: idle until asked
            wait = times.duration(attempt.started_at - asked)
            found.append(("queued", asked, attempt.started_at, f"retried by hand, queued {wait}"))
        elif asked is None and previous_end is not None and attempt.started_at > previous_end:
            wait = times.duration(attempt.started_at - previous_end)
            found.append(("backoff", previous_end, attempt.started_at, f"backoff {wait}"))
        finished = attempt.completed_at if attempt.completed_at is not None else now
        status = attempt.status if attempt.completed_at is not None else "running"
        label = f"attempt {attempt.number} {status} {times.duration(finished - attempt.started_at)}"
        found.append((f"run-{status}", attempt.started_at, finished, label))
        previous_end = finished
    return found


def parity_notes(function: Any) -> list[str]:
    """What a developer should know about how the platform applies this function's options
    (``function`` is a ``FunctionInfo``): the option rules ``pingback check`` applies
    (``project.rules``) and the plans' caps (``project.plans``), never a rule of our own."""
    from pingback_cli.project.plans import PLANS
    from pingback_cli.project.rules import option_problems

    if function.retries is None:
        return []  # only history knows this function: its options are unknown
    raw = {
        "name": function.name,
        "type": function.type,
        "schedule": function.schedule,
        "retries": function.retries,
        "timeout": function.timeout,
        "concurrency": function.concurrency,
    }
    notes = [f"{problem.message}; {problem.fix}" for _, problem in option_problems(raw)]
    capped = [
        f"{plan.name} allows {plan.cap_retries(function.retries)}"
        for plan in PLANS.values()
        if plan.cap_retries(function.retries) < function.retries
    ]
    if capped:
        notes.append(
            f"retries={function.retries} is capped on some of the platform's plans: "
            + ", ".join(capped)
            + " (emulate a plan with --plan or [tool.pingback] plan)"
        )
    return notes
