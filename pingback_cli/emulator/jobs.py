"""The platform's job state for one emulator: kept in history, changed by registrations,
PATCHes, pauses and the project's own load, and read by the engine and the cron clock.

- A registration (``POST /api/v1/register``, an SDK's or ``pingback register``) follows the
  platform (``project.registration``): every listed function active, un-pausing it; SDK
  jobs not listed inactive.
- The project's load in worker mode (start, reload) is the emulator's own registration,
  with one departure: a paused job stays paused, so a pause outlives a file save and a
  restart of ``pingback dev`` (a deploy to production un-pauses: ``pingback register``).
- A paused or inactive cron does not fire; any job can still be triggered by name
  (trigger.controller.ts:41-47 looks the job up whatever its status).
- The engine runs each function with its job's options: retries, timeout, concurrency and
  schedule as last registered or patched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pingback_cli.emulator.shapes import job_json, project_id
from pingback_cli.errors import NotFound
from pingback_cli.history.jobs import JobStore
from pingback_cli.models import FunctionSpec, Job, JobStatus, new_id
from pingback_cli.project.registration import Outcome, Registered, apply, patched, read_update


class JobNotFound(NotFound):
    """``jobs.service.ts:89``: ``NotFoundException('Job not found')``."""

    def __init__(self, job: str) -> None:
        super().__init__(f'no job "{job}"', hint="`pingback ls` lists the project's functions")


class JobBook:
    """Jobs of one project in its history file; ``now`` gives unix seconds."""

    def __init__(
        self,
        store: JobStore,
        root: Path,
        now: Callable[[], float],
        *,
        next_run: Callable[[Job], float | None] | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.project = project_id(root)
        self.now = now
        self.next_run = next_run or (lambda job: _next_run(job, self.now()))
        self.on_notice = on_notice
        self._jobs: dict[str, Job] = store.by_name()

    # --- what the engine and the cron clock read ------------------------------------

    def status(self, name: str) -> JobStatus | None:
        job = self._jobs.get(name)
        return job.status if job else None

    def runs(self, name: str) -> bool:
        """May this cron fire? Not when its job is paused or inactive."""
        return self.status(name) in (None, "active")

    def effective(self, specs: Iterable[FunctionSpec]) -> list[FunctionSpec]:
        """Each spec with its job's options (as last registered or patched)."""
        return [with_job(spec, self._jobs.get(spec.name)) for spec in specs]

    # --- what changes it ------------------------------------------------------------

    def load(self, specs: Iterable[FunctionSpec]) -> None:
        """The project loaded these functions (worker mode): new ones become active jobs,
        known ones take the code's options and become active unless paused, and SDK jobs the
        code no longer defines become inactive."""
        now = self.now()
        listed: dict[str, Job] = {}
        for spec in specs:
            previous = self._jobs.get(spec.name)
            status: JobStatus = "paused" if previous and previous.status == "paused" else "active"
            listed[spec.name] = job_of(spec, previous, status=status, now=now)
        stale = [
            job.replace(status="inactive", updated_at=now)
            for job in self._jobs.values()
            if job.name not in listed and job.source == "sdk" and job.status != "inactive"
        ]
        changed = [job for job in listed.values() if _differs(self._jobs.get(job.name), job)]
        self._save([*changed, *stale])

    def ensure(self, specs: Iterable[FunctionSpec]) -> None:
        """Endpoint mode: a function found in the project but not registered by the app gets an
        active job; registered ones are left as the registrations made them."""
        now = self.now()
        self._save(
            [job_of(spec, None, status="active", now=now) for spec in specs if spec.name not in self._jobs]
        )

    def register(
        self, functions: list[Registered], *, job_cap: int | None = None, retries_cap: int | None = None
    ) -> Outcome:
        """Apply a registration as the platform does; notices go to ``on_notice``. The
        outcome's ``error`` (a refusal) is left for the caller to answer."""
        outcome = apply(
            dict(self._jobs),
            functions,
            now=self.now(),
            new_id=new_id,
            job_cap=job_cap,
            retries_cap=retries_cap,
        )
        self._save(outcome.saved)
        for notice in outcome.notices:
            if self.on_notice is not None:
                self.on_notice(notice)
        return outcome

    def patch(self, job_id: str, data: Any) -> Job:
        """``PATCH /api/v1/jobs/:id``. Raises RegistrationInvalid (400 list), JobNotFound,
        RegistrationRefused (400, a bad schedule)."""
        update = read_update(data)
        job = patched(self.get(job_id), update, now=self.now())
        self._save([job])
        return job

    def set_status(self, name: str, status: JobStatus) -> Job:
        """Pause or resume the job of ``name``; raises JobNotFound."""
        job = self._jobs.get(name)
        if job is None:
            raise JobNotFound(name)
        if job.status != status:
            job = job.replace(status=status, updated_at=self.now())
            self._save([job])
        return job

    def delete(self, job_id: str) -> Job:
        """jobs.service.ts:108-115: an SDK job becomes inactive (every local job is one)."""
        job = self.get(job_id).replace(status="inactive", updated_at=self.now())
        self._save([job])
        return job

    # --- reads ----------------------------------------------------------------------

    def get(self, job_id: str) -> Job:
        for job in self._jobs.values():
            if job.id == job_id:
                return job
        raise JobNotFound(job_id)

    def by_name(self, name: str) -> Job | None:
        return self._jobs.get(name)

    def all(self, status: str | None = None) -> list[Job]:
        """Newest first, optionally one status (jobs.service.ts:61-79)."""
        jobs = sorted(self._jobs.values(), key=lambda job: (-job.created_at, job.name))
        return [job for job in jobs if status is None or job.status == status]

    def to_json(self, job: Job) -> dict[str, Any]:
        last = self.store.last_runs().get(job.name)
        upcoming = self.next_run(job) if job.status == "active" else None
        return job_json(job, project=self.project, next_run_at=upcoming, last_run_at=last)

    def _save(self, jobs: list[Job]) -> None:
        if not jobs:
            return
        for job in self.store.save(jobs):
            self._jobs[job.name] = job


def _next_run(job: Job, now: float) -> float | None:
    """A cron job's next occurrence after ``now`` (the job JSON's ``nextRunAt``)."""
    from pingback_cli.project.cron import NeverFires, ScheduleError, next_fire

    if job.type != "cron" or not job.schedule:
        return None
    try:
        return next_fire(job.schedule, now)
    except (NeverFires, ScheduleError, ValueError):
        return None


def job_of(spec: FunctionSpec, previous: Job | None, *, status: JobStatus, now: float) -> Job:
    """The job a loaded function stands for."""
    return Job(
        id=previous.id if previous else new_id(),
        name=spec.name,
        type=spec.type,
        schedule=spec.schedule,
        status=status,
        retries=spec.retries,
        timeout_seconds=int(spec.timeout_seconds),
        concurrency=spec.concurrency,
        source="sdk",
        created_at=previous.created_at if previous else now,
        updated_at=now,
    )


def with_job(spec: FunctionSpec, job: Job | None) -> FunctionSpec:
    """``spec`` running with ``job``'s options; the declared timeout text is kept only while it
    still says what applies."""
    if job is None:
        return spec
    timeout = spec.timeout if job.timeout_seconds == spec.timeout_seconds else f"{job.timeout_seconds}s"
    return spec.replace(
        schedule=job.schedule if spec.type == "cron" else spec.schedule,
        retries=job.retries,
        timeout=timeout,
        timeout_seconds=job.timeout_seconds,
        concurrency=job.concurrency,
    )


def spec_of(job: Job) -> FunctionSpec:
    """A function the engine can run for a job the app registered (endpoint mode)."""
    return FunctionSpec(
        name=job.name,
        type=job.type,
        schedule=job.schedule,
        retries=job.retries,
        timeout=f"{job.timeout_seconds}s",
        timeout_seconds=job.timeout_seconds,
        concurrency=job.concurrency,
        source="registered",
    )


def _differs(before: Job | None, after: Job | None) -> bool:
    if before is None or after is None:
        return before is not after
    keys = ("type", "schedule", "status", "retries", "timeout_seconds", "concurrency", "source")
    return any(getattr(before, key) != getattr(after, key) for key in keys)
