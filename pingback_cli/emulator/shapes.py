"""Jobs and executions in the JSON shapes of the platform's API-key routes.

Sources (runpingback/pingback ``apps/platform/src/modules/``): a job is the ``Job`` entity
as ``jobs.service.ts`` returns it (``jobs/job.entity.ts``, ``jobs/dto/job-response.dto.ts``);
an execution is the ``Execution`` entity (``executions/execution.entity.ts``), and
``GET /api/v1/executions/:id`` adds its ``job`` and ``hasChildren``
(``executions/executions.service.ts:63-72``); a page is ``{items, total, page, limit}``
(:75-83).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from pingback_cli.models import Attempt, Execution, Job, iso

_UNFINISHED_ATTEMPT = ("running", "pending")


def project_id(root: Path) -> str:
    """A stable id for the local project, in the place of the platform's project UUID."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, root.resolve().as_uri()))


def job_json(
    job: Job, *, project: str, next_run_at: float | None, last_run_at: float | None
) -> dict[str, Any]:
    """The platform's job object (job.entity.ts columns, camelCase as TypeORM returns them)."""
    return {
        "id": job.id,
        "projectId": project,
        "name": job.name,
        "schedule": job.schedule,
        "type": job.type,
        "status": job.status,
        "nextRunAt": iso(next_run_at),
        "lastRunAt": iso(last_run_at),
        "retries": job.retries,
        "timeoutSeconds": job.timeout_seconds,
        "concurrency": job.concurrency,
        "source": job.source,
        "createdAt": iso(job.created_at),
        "updatedAt": iso(job.updated_at),
    }


def _attempt_json(attempt: Attempt) -> dict[str, Any]:
    """One entry of ``attempts`` as ``saveAttemptAndRetry`` records it (executions.service.ts:158-167)."""
    return {
        "attempt": attempt.number,
        "status": attempt.status,
        "startedAt": iso(attempt.started_at),
        "completedAt": iso(attempt.completed_at),
        "durationMs": attempt.duration_ms,
        "httpStatus": attempt.http_status,
        "errorMessage": attempt.error,
        "logs": [log.to_json() for log in attempt.logs],
    }


def _between_attempts(execution: Execution) -> bool:
    """Waiting for a retry: the platform has moved the failed attempt into ``attempts`` and
    cleared the top-level fields (executions.service.ts:169-178)."""
    last = execution.attempts[-1] if execution.attempts else None
    return execution.status == "pending" and last is not None and last.status not in _UNFINISHED_ATTEMPT


def response_body(execution: Execution) -> str | None:
    """The stored response body, rebuilt from what was recorded (the platform keeps the text it
    received, cut at 10,240 characters: executions.service.ts:56)."""
    if execution.status == "success":
        body: dict[str, Any] = {"status": "success", "result": execution.result}
    elif execution.status == "failed" and execution.http_status is not None:
        body = {"status": "error", "error": execution.error}
    else:
        return None
    body["logs"] = [log.to_json() for log in execution.logs]
    if execution.duration_ms is not None:
        body["durationMs"] = execution.duration_ms
    return json.dumps(body, separators=(",", ":"), default=str)[:10_240]


def execution_json(execution: Execution, *, job_id: str | None, created_at: float) -> dict[str, Any]:
    """The platform's execution object: the current attempt in the top-level fields, earlier
    attempts (only those followed by another) in ``attempts``."""
    waiting = _between_attempts(execution)
    history = execution.attempts if waiting else execution.attempts[:-1]
    current = None if waiting or not execution.attempts else execution.attempts[-1]
    return {
        "id": execution.id,
        "jobId": job_id,
        "status": execution.status,
        "attempt": execution.attempt + 1 if waiting else max(execution.attempt, 1),
        "scheduledAt": iso(execution.scheduled_at),
        "startedAt": iso(current.started_at) if current else None,
        "completedAt": iso(current.completed_at) if current else None,
        "durationMs": current.duration_ms if current else None,
        "httpStatus": current.http_status if current else None,
        "responseBody": None if waiting else response_body(execution),
        "errorMessage": None if waiting else execution.error,
        "logs": [] if waiting else [log.to_json() for log in execution.logs],
        "attempts": [_attempt_json(attempt) for attempt in history],
        "parentId": execution.parent_id,
        "payload": execution.payload,
        "createdAt": iso(created_at),
    }


def page_json(items: list[dict[str, Any]], total: int, page: int, limit: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "limit": limit}
