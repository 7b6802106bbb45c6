"""The controls every face calls (the API's routes, the CLI through them, the dashboard in
process): pause, resume, retry, cancel, and the platform-shaped reads of jobs and executions.

One ``Controls`` per running emulator. Errors are typed: ``NotFound`` (an unknown job or
execution: 404), ``UsageError`` (a retry of an execution that did not fail, a cancel of one
that finished: 400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pingback_cli.emulator.jobs import JobBook
from pingback_cli.emulator.shapes import execution_json, page_json
from pingback_cli.engine.engine import Engine
from pingback_cli.errors import NotFound, Unavailable, UsageError
from pingback_cli.history.store import Store
from pingback_cli.models import Execution, Job

RETRYABLE = ("failed", "interrupted", "cancelled")
"""The platform retries only ``failed`` (executions.service.ts:189); ``interrupted`` and
``cancelled`` are local-only ways of failing, retried the same way."""


def retryable(execution: Execution, status: str | None = None) -> bool:
    """Whether the Retry control applies to ``execution`` (its ``status`` as shown, when a page
    reads a running row of a dead process as interrupted): it ended without success
    (``RETRYABLE``) after at least one attempt. One cancelled before its first attempt has
    nothing to retry; ``replay`` runs it as a new run."""
    return (status or execution.status) in RETRYABLE and execution.attempt > 0


class Controls:
    """``engine`` and ``jobs`` are read when called (the emulator creates them on start);
    ``changed`` re-applies job state to the engine and the cron clock after a change."""

    def __init__(self, engine: Callable[[], Engine], store: Callable[[], Store], jobs: Callable[[], JobBook],
                 changed: Callable[[], None]) -> None:  # fmt: skip
        self._engine = engine
        self._store = store
        self._jobs = jobs
        self._changed = changed

    # --- jobs -----------------------------------------------------------------------

    def status(self, name: str) -> str | None:
        """The job status of function ``name`` (None when it has no job, or before start)."""
        try:
            return self._jobs().status(name)
        except Unavailable:
            return None

    def pause(self, name: str) -> Job:
        """Pause the job of function ``name``: its cron stops firing (a trigger still runs it).
        Returns the job; raises NotFound."""
        job = self._jobs().set_status(name, "paused")
        self._changed()
        return job

    def resume(self, name: str) -> Job:
        """Make the job of function ``name`` active again. Returns the job; raises NotFound."""
        job = self._jobs().set_status(name, "active")
        self._changed()
        return job

    def patch_job(self, job_id: str, data: Any) -> dict[str, Any]:
        """``PATCH /api/v1/jobs/:id`` (see ``JobBook.patch`` for errors); the platform's job JSON."""
        jobs = self._jobs()
        job = jobs.patch(job_id, data)
        self._changed()
        return jobs.to_json(job)

    def delete_job(self, job_id: str) -> dict[str, Any]:
        jobs = self._jobs()
        job = jobs.delete(job_id)
        self._changed()
        return jobs.to_json(job)

    # --- executions -----------------------------------------------------------------

    def execution(self, id_or_prefix: str) -> dict[str, Any]:
        """``GET /api/v1/executions/:id``: the platform's execution JSON plus ``job`` and
        ``hasChildren`` (executions.service.ts:63-72). Raises NotFound."""
        execution = self._find(id_or_prefix)
        jobs = self._jobs()
        job = jobs.by_name(execution.function)
        data = self._json(execution)
        data["job"] = jobs.to_json(job) if job else None
        data["hasChildren"] = jobs.store.child_count(execution.id) > 0
        return data

    def job_executions(self, job_id: str, page: int, limit: int) -> dict[str, Any]:
        """``GET /api/v1/jobs/:id/executions``: ``{items, total, page, limit}``, newest first.
        An unknown job id is an empty page, as the platform does not check it."""
        jobs = self._jobs()
        try:
            job = jobs.get(job_id)
        except NotFound:
            return page_json([], 0, page, limit)
        rows, total = jobs.store.executions(job.name, page, limit)
        items = [execution_json(execution, job_id=job.id, created_at=at) for execution, at in rows]
        return page_json(items, total, page, limit)

    def cancel(self, id_or_prefix: str) -> dict[str, Any]:
        """Cancel a pending, delayed, queued or running execution (local only). Returns its
        platform JSON; raises NotFound, or UsageError when it has already finished."""
        execution = self._find(id_or_prefix)
        cancelled = self._engine().cancel(execution.id)
        if cancelled is None:
            raise UsageError(
                f"execution {execution.id[:8]} has already finished ({execution.status}); nothing to cancel",
                hint="`pingback retry ID` runs a failed one again",
            )
        return self._json(cancelled)

    def retry(self, id_or_prefix: str) -> dict[str, Any]:
        """Re-run a failed execution in place (the dashboard's Retry): same id, the next attempt,
        ``scheduledAt`` now, no automatic retry after it. Raises NotFound, or UsageError when
        it did not fail or its function is gone."""
        execution = self._find(id_or_prefix)
        if execution.status == "cancelled" and not retryable(execution):
            raise UsageError(
                f"execution {execution.id[:8]} was cancelled before its first attempt: nothing to retry",
                hint="`pingback replay ID` runs it as a new run",
            )
        if execution.status not in RETRYABLE:
            raise UsageError(
                f"execution {execution.id[:8]} is {execution.status}: only a failed execution can be retried",
                hint="`pingback replay ID` starts a new run of any execution",
            )
        engine = self._engine()
        if execution.function not in engine.functions:
            raise UsageError(f'"{execution.function}" is no longer defined by the project; cannot retry')
        return self._json(engine.rerun(execution))

    def _find(self, id_or_prefix: str) -> Execution:
        """Raises NotFound, or UsageError for an ambiguous prefix."""
        store = self._store()
        return store.get(store.resolve(id_or_prefix))

    def _json(self, execution: Execution) -> dict[str, Any]:
        jobs = self._jobs()
        job = jobs.by_name(execution.function)
        created = jobs.store.created(execution.id) or execution.scheduled_at
        return execution_json(execution, job_id=job.id if job else None, created_at=created)
