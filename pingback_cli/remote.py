"""A platform's jobs and executions, read through its API-key routes, as the records the
local commands render: ``FunctionSpec`` rows for ``ls``, ``RootSummary`` rows for ``runs``,
an ``Execution`` tree for ``show``.

The platform has no route listing an execution's children: the tree is built from
``hasChildren`` and each execution's ``parentId``, paging every job's executions back to the
root's creation (``GET /api/v1/jobs/{id}/executions`` is newest first:
executions.service.ts:75-83).
"""

from __future__ import annotations

import json
from typing import Any

from pingback_cli.client import Target, execution, job_executions, job_named, jobs
from pingback_cli.history.summary import RootSummary
from pingback_cli.models import Attempt, Execution, FunctionSpec, LogEntry, from_iso

PAGE = 100
MAX_PAGES = 50
"""Per job, at most this many pages are read for one command (5,000 executions)."""


def function_rows(target: Target) -> tuple[list[FunctionSpec], dict[str, str]]:
    """The platform's jobs as specs (options as stored) and each one's status."""
    specs: list[FunctionSpec] = []
    statuses: dict[str, str] = {}
    for job in jobs(target):
        seconds = job.get("timeoutSeconds") if isinstance(job.get("timeoutSeconds"), int) else 30
        specs.append(
            FunctionSpec(
                name=str(job.get("name")),
                type="cron" if job.get("type") == "cron" or job.get("schedule") else "task",
                schedule=job.get("schedule") or None,
                retries=int(job.get("retries") or 0),
                timeout=f"{seconds}s",
                timeout_seconds=seconds,
                concurrency=int(job.get("concurrency") or 1),
                source=str(job.get("source") or "sdk"),
            )
        )
        statuses[str(job.get("name"))] = str(job.get("status"))
    return specs, statuses


def from_platform(item: dict[str, Any], function: str, kind: str | None) -> Execution:
    """One execution as the platform returns it -> our record. The platform's ``attempts``
    holds the failed attempts followed by another; the current one is the top-level fields."""
    attempts = [_attempt(entry) for entry in item.get("attempts") or [] if isinstance(entry, dict)]
    if item.get("startedAt"):
        attempts.append(
            Attempt(
                number=int(item.get("attempt") or 1),
                status=item.get("status") or "pending",
                started_at=from_iso(item["startedAt"]) or 0.0,
                completed_at=from_iso(item.get("completedAt")),
                duration_ms=item.get("durationMs"),
                http_status=item.get("httpStatus"),
                error=item.get("errorMessage"),
                logs=_logs(item.get("logs")),
            )
        )
    return Execution(
        id=str(item.get("id")),
        function=function,
        type=kind,  # type: ignore[arg-type]
        scheduled_at=from_iso(item.get("scheduledAt")) or 0.0,
        payload=item.get("payload"),
        has_payload=item.get("payload") is not None,
        parent_id=item.get("parentId"),
        status=item.get("status") or "pending",
        attempt=int(item.get("attempt") or 1),
        attempts=attempts,
        result=_result(item.get("responseBody")),
        error=item.get("errorMessage"),
        logs=_logs(item.get("logs")),
        started_at=from_iso(item.get("startedAt")),
        completed_at=from_iso(item.get("completedAt")),
        duration_ms=item.get("durationMs"),
        http_status=item.get("httpStatus"),
        trigger="platform",
    )


def recent_roots(target: Target, limit: int, function: str | None, status: str | None) -> list[RootSummary]:
    """Root executions newest first, from each job's pages (the platform lists children too)."""
    known = jobs(target)
    if function is not None:
        known = [job_named(target, function)]
    found: list[tuple[str, Execution]] = []
    for job in known:
        taken = 0
        for item in _pages(target, job, until=None):
            if item.get("parentId") or (status is not None and item.get("status") != status):
                continue
            found.append(
                (str(item.get("createdAt") or ""), from_platform(item, job["name"], job.get("type")))
            )
            taken += 1
            if taken >= limit:
                break
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [RootSummary(execution, 0, 0, 0) for _, execution in found[:limit]]


def tree(target: Target, execution_id: str) -> Execution:
    """The execution with its descendants nested in ``children``, oldest first."""
    top = execution(target, execution_id)
    job = top.get("job") if isinstance(top.get("job"), dict) else {}
    root = from_platform(top, str(job.get("name") or "?"), job.get("type"))
    if not top.get("hasChildren"):
        return root
    since = str(top.get("createdAt") or "")
    nodes: dict[str, tuple[str, Execution]] = {}
    for each in jobs(target):
        for item in _pages(target, each, until=since):
            nodes[str(item.get("id"))] = (
                str(item.get("createdAt") or ""),
                from_platform(item, each["name"], each.get("type")),
            )
    nodes[root.id] = (since, root)
    for _, node in sorted(nodes.values(), key=lambda pair: pair[0]):
        parent = nodes.get(node.parent_id or "")
        if parent is not None and node is not root:
            parent[1].children.append(node)
            node.root_id = root.root_id
    return root


def _pages(target: Target, job: dict[str, Any], *, until: str | None) -> Any:
    """Each execution of ``job``, newest first, stopping before one created before ``until``."""
    for page in range(1, MAX_PAGES + 1):
        data = job_executions(target, str(job.get("id")), page, PAGE)
        items = [item for item in data.get("items") or [] if isinstance(item, dict)]
        for item in items:
            if until is not None and str(item.get("createdAt") or "") < until:
                return
            yield item
        if len(items) < PAGE or page * PAGE >= int(data.get("total") or 0):
            return


def _attempt(entry: dict[str, Any]) -> Attempt:
    return Attempt(
        number=int(entry.get("attempt") or 1),
        status=entry.get("status") or "failed",
        started_at=from_iso(entry.get("startedAt")) or 0.0,
        completed_at=from_iso(entry.get("completedAt")),
        duration_ms=entry.get("durationMs"),
        http_status=entry.get("httpStatus"),
        error=entry.get("errorMessage"),
        logs=_logs(entry.get("logs")),
    )


def _logs(raw: Any) -> list[LogEntry]:
    return [LogEntry.from_json(entry) for entry in raw or [] if isinstance(entry, dict)]


def _result(body: Any) -> Any:
    """The handler's result, from the stored response body when it is the protocol's JSON."""
    if not isinstance(body, str):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return body
    return data.get("result") if isinstance(data, dict) else data
