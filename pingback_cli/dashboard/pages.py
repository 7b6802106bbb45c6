"""The pages: each reads its query parameters, asks ``history.queries`` and the ``Source``,
and returns the template's context. No SQL here, no HTML either.
"""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.datastructures import QueryParams

from pingback_cli.dashboard import present
from pingback_cli.dashboard.source import FunctionInfo, Source
from pingback_cli.emulator.controls import retryable
from pingback_cli.history import queries
from pingback_cli.history.outline import Outline, outline
from pingback_cli.models import Execution

WINDOWS = {"1h": 3600, "6h": 6 * 3600, "24h": 24 * 3600, "7d": 7 * 24 * 3600}
LEVELS = ("debug", "info", "warn", "error")


_histograms: dict[tuple[str, str | None], queries.HistogramCache] = {}
"""One cache of the histogram's closed hours per history file served and function filter."""


class NotFound(LookupError):
    """A page for something that does not exist (404)."""


def _number(params: QueryParams, name: str) -> float | None:
    raw = params.get(name, "")
    try:
        return float(raw) if raw else None
    except ValueError:
        return None


def run_query(params: QueryParams, now: float) -> queries.RunQuery:
    """The runs list's filters, from the URL (so a filtered view is a link)."""
    since, until = _number(params, "since"), _number(params, "until")
    window = params.get("window", "")
    if window in WINDOWS and since is None:
        since = now - WINDOWS[window]
    status = params.get("status") or None
    before = params.get("before", "")
    return queries.RunQuery(
        function=params.get("function") or None,
        status=status if status in queries.STATUSES else None,
        since=since,
        until=until,
        text=(params.get("q") or "").strip() or None,
        roots_only=params.get("all") != "1",
        root=params.get("root") or None,
        trigger=trigger if (trigger := params.get("trigger")) in queries.TRIGGERS else None,
        before=before or None,
        limit=50,
    )


def runs_page(source: Source, params: QueryParams) -> dict[str, Any]:
    now = time.time()
    query = run_query(params, now)
    page = queries.runs(source.store, query)
    return {
        "query": query,
        "page": page,
        "bars": queries.histogram(
            source.store,
            now,
            _histograms.setdefault((str(source.store.path), query.function), queries.HistogramCache()),
            query.function,
        ),
        "functions": [f.name for f in source.functions()],
        "statuses": queries.STATUSES,
        "triggers": queries.TRIGGERS,
        "windows": list(WINDOWS),
        "window": params.get("window", ""),
        "filters": {k: v for k, v in params.items() if k != "before"},
    }


def api_page(source: Source) -> dict[str, Any]:
    """The API docs page: its terminal example triggers one of the project's tasks (``NAME``
    when it has none), as `pingback trigger --help` spells the command (``usage``)."""
    from pingback_cli.usage import trigger_command

    tasks = [f.name for f in source.functions() if f.type == "task"]
    return {"trigger_example": trigger_command(tasks[0] if tasks else "NAME", '{"key": "value"}')}


def functions_page(source: Source) -> dict[str, Any]:
    functions = source.functions()
    return {
        "functions": functions,
        "last": queries.last_runs(source.store, [f.name for f in functions]),
        "notes": {f.name: present.parity_notes(f) for f in functions},
        "descriptions": _descriptions(functions),
    }


def _descriptions(functions: list[FunctionInfo]) -> dict[str, str]:
    from pingback_cli.project.cron import describe

    found = {}
    for function in functions:
        if function.schedule:
            try:
                found[function.name] = describe(function.schedule)
            except Exception:  # an odd schedule still lists its function
                found[function.name] = ""
    return found


def function_page(source: Source, name: str) -> dict[str, Any]:
    functions = {f.name: f for f in source.functions()}
    function = functions.get(name)
    if function is None:
        if name not in queries.function_names(source.store):
            raise NotFound(f'no function "{name}" in this project or its history')
        function = FunctionInfo(name, None, state="inactive")
    store = source.store
    return {
        "function": function,
        "description": _descriptions([function]).get(name, ""),
        "notes": present.parity_notes(function),
        "page": queries.runs(store, queries.RunQuery(function=name, roots_only=False, limit=20)),
        "payloads": queries.recent_payloads(store, name),
    }


def execution_page(source: Source, id_or_prefix: str) -> dict[str, Any]:
    store = source.store
    try:
        execution_id = store.resolve(id_or_prefix)
        execution = store.get(execution_id)
    except Exception as exc:  # UsageError: unknown or ambiguous id
        raise NotFound(str(getattr(exc, "message", exc))) from None
    tree = outline(
        store,
        execution.root_id,
        keep=execution.id,
        per_parent=present.CHILDREN_SHOWN,
        limit=present.NODES_SHOWN,
    )
    if tree.root is None:
        raise NotFound(f'no execution "{id_or_prefix}"')
    chart = present.waterfall(tree, time.time())
    functions = {f.name: f for f in source.functions()}
    function = functions.get(execution.function)
    return {
        "e": execution,
        "status": _shown_status(tree, execution),
        "tree": tree,
        "tree_html": present.tree_html(tree, execution.id),
        "waterfall": chart,
        "waterfall_html": present.waterfall_html(chart, execution.id),
        "logs": _logs(execution),
        "payload": present.json_view(execution.payload) if execution.has_payload else None,
        "result": present.json_view(execution.result) if execution.result is not None else None,
        "payload_text": json.dumps(execution.payload, indent=2, ensure_ascii=False, default=repr)
        if execution.has_payload
        else "",
        "notes": present.parity_notes(function) if function else [],
        "levels": LEVELS,
        "retryable": retryable(execution, _shown_status(tree, execution)),
        "by_hand": next((a for a in reversed(execution.attempts) if a.requested_at is not None), None),
    }


def _shown_status(tree: Outline, execution: Execution) -> str:
    """The status as the outline reports it (a running row of a dead process is interrupted)."""
    assert tree.root is not None
    for node in tree.root.walk():
        if node.row.id == execution.id:
            return node.row.status
    return execution.status


def _logs(execution: Execution) -> list[tuple[int, Any]]:
    """(attempt number, log) for every attempt that kept its logs; else the execution's own."""
    found = [(attempt.number, log) for attempt in execution.attempts for log in attempt.logs]
    if not found:
        found = [(execution.attempt, log) for log in execution.logs]
    return found


def logs_page(source: Source, params: QueryParams) -> dict[str, Any]:
    level = params.get("level") or None
    lines, cursor = queries.log_lines(
        source.store,
        level=level if level in LEVELS else None,
        function=params.get("function") or None,
        text=(params.get("q") or "").strip() or None,
        before=params.get("before") or None,
    )
    return {
        "lines": lines,
        "next": cursor,
        "levels": LEVELS,
        "functions": [f.name for f in source.functions()],
        "filters": {k: v for k, v in params.items() if k != "before"},
    }


def raw_value(source: Source, execution_id: str, part: str) -> Any:
    """An execution's payload or result, whole, for the raw link and the copy buttons."""
    try:
        execution = source.store.get(execution_id)
    except Exception as exc:
        raise NotFound(str(getattr(exc, "message", exc))) from None
    if part == "payload":
        return execution.payload
    if part == "result":
        return execution.result
    raise NotFound(f'no part "{part}": use payload or result')
