"""``POST /api/v1/register`` as the platform applies it (pure).

Sources, in runpingback/pingback ``apps/platform/src/modules/projects/``:
``dto/register.dto.ts`` (what the body may hold: the only checks made, no maxima) and
``registration.service.ts:30-105`` (what a registration does to the stored jobs).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pingback_cli.models import Job
from pingback_cli.project.durations import DurationError, read_timeout
from pingback_cli.record import FrozenRecord, Record

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class RegistrationInvalid(ValueError):
    """The DTO's 400: ``messages`` as class-validator words them (the body's ``message`` list)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


class RegistrationRefused(Exception):
    """The service's own refusals: ``status`` 400 (bad cron), 403 (job cap), 500 (a timeout
    the database cannot store). Jobs saved before it stay saved, as on the platform."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Registered(FrozenRecord):
    """One function of a registration body, after the DTO's checks."""

    __slots__ = _fields = ("name", "type", "schedule", "retries", "timeout", "concurrency")

    name: str
    type: str
    schedule: str | None
    retries: int | None
    timeout: str | None
    concurrency: int | None

    def __init__(
        self, name: str, type: str, schedule: str | None = None, retries: int | None = None,
        timeout: str | None = None, concurrency: int | None = None,
    ) -> None:  # fmt: skip
        self._set(name, type, schedule, retries, timeout, concurrency)


class Outcome(Record):
    __slots__ = _fields = ("saved", "jobs", "notices", "error")

    saved: list[Job]
    """Every job written, in order (created, updated, then those made inactive)."""
    jobs: list[dict[str, str]]
    """The response's ``jobs``: ``[{"name", "status": "active"}]``."""
    notices: list[str]
    """Traps worth saying: a retries value the registration could not lower."""
    error: RegistrationRefused | None

    def __init__(
        self, saved: list[Job] | None = None, jobs: list[dict[str, str]] | None = None,
        notices: list[str] | None = None, error: RegistrationRefused | None = None,
    ) -> None:  # fmt: skip
        self.saved = [] if saved is None else saved
        self.jobs = [] if jobs is None else jobs
        self.notices = [] if notices is None else notices
        self.error = error


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_options(options: Any, where: str, problems: list[str]) -> None:
    if not isinstance(options, dict):
        problems.append(f"nested property {where} must be either object or array")
        return
    for key, minimum in (("retries", 0), ("concurrency", 1)):
        value = options.get(key)
        if value is None:
            continue
        if not _int(value):
            problems.append(f"{where}.{key} must be an integer number")
        elif value < minimum:
            problems.append(f"{where}.{key} must not be less than {minimum}")
    if options.get("timeout") is not None and not isinstance(options["timeout"], str):
        problems.append(f"{where}.timeout must be a string")


def read_body(data: Any) -> tuple[list[Registered], str | None]:
    """The body's functions and ``endpoint_url``, checked as ``SdkRegisterDto`` does
    (register.dto.ts:14-70; unknown properties are dropped by the whitelist).

    Raises RegistrationInvalid listing every problem."""
    if not isinstance(data, dict):
        raise RegistrationInvalid(["functions must be an array"])
    problems: list[str] = []
    project_id = data.get("project_id")
    if project_id is not None and not (isinstance(project_id, str) and _UUID.fullmatch(project_id)):
        problems.append("project_id must be a UUID")
    endpoint = data.get("endpoint_url")
    if endpoint is not None and not isinstance(endpoint, str):
        problems.append("endpoint_url must be a string")
    entries = data.get("functions")
    if not isinstance(entries, list):
        raise RegistrationInvalid([*problems, "functions must be an array"])
    functions: list[Registered] = []
    for index, entry in enumerate(entries):
        where = f"functions.{index}"
        if not isinstance(entry, dict):
            problems.append("each value in nested property functions must be either object or array")
            continue
        if not isinstance(entry.get("name"), str):
            problems.append(f"{where}.name must be a string")
        if entry.get("type") not in ("cron", "task"):
            problems.append(f"{where}.type must be one of the following values: cron, task")
        if entry.get("schedule") is not None and not isinstance(entry["schedule"], str):
            problems.append(f"{where}.schedule must be a string")
        options = entry.get("options")
        if options is not None:
            _check_options(options, f"{where}.options", problems)
        if problems:
            continue
        options = options or {}
        functions.append(
            Registered(
                name=entry["name"],
                type=entry["type"],
                schedule=entry.get("schedule"),
                retries=options.get("retries"),
                timeout=options.get("timeout"),
                concurrency=options.get("concurrency"),
            )
        )
    if problems:
        raise RegistrationInvalid(problems)
    return functions, endpoint if isinstance(endpoint, str) else None


def timeout_seconds(timeout: str | None) -> int | None:
    """registration.service.ts:54-57 as ``project.durations.read_timeout`` reads it ("5m" is 5,
    "1h" is 1, "1m30s" is 1, "90" is 90, 30 when absent or empty); None where the platform's
    registration fails (JavaScript's NaN, or more than its integer column holds)."""
    try:
        return read_timeout(timeout).seconds
    except DurationError:
        return None


def apply(
    existing: dict[str, Job],
    functions: list[Registered],
    *,
    now: float,
    new_id: Callable[[], str],
    job_cap: int | None = None,
    retries_cap: int | None = None,
) -> Outcome:
    """What a registration does to the stored jobs (registration.service.ts:42-104).

    In order, for each function: past the plan's job cap a new name is refused (403, :47-52);
    the timeout becomes seconds (:54-57); a cron's schedule must parse (400, :60-68); retries
    and concurrency keep the stored value when absent (:70, :84), retries capped by the plan
    (:71-73); the job becomes active, un-pausing it (:81). Then every SDK job not listed
    becomes inactive (:94-102). A refusal stops there: jobs saved before it stay saved."""
    outcome = Outcome()
    jobs = dict(existing)
    for fn in functions:
        try:
            job = _register_one(jobs, fn, now=now, new_id=new_id, job_cap=job_cap, retries_cap=retries_cap)
        except RegistrationRefused as refused:
            outcome.error = refused
            return outcome
        previous = jobs.get(fn.name)
        if fn.retries is None and previous is not None and previous.retries > 0:
            outcome.notices.append(
                f'"{fn.name}": the registration has no retries, so the platform keeps retries='
                f"{previous.retries}; pingback-py leaves retries=0 out, so lowering retries to 0 never "
                "reaches production (pause, PATCH /api/v1/jobs/{id} or the dashboard can)"
            )
        jobs[fn.name] = job
        outcome.saved.append(job)
        outcome.jobs.append({"name": job.name, "status": job.status})
    listed = {fn.name for fn in functions}
    for job in jobs.values():
        if job.source == "sdk" and job.name not in listed and job.status != "inactive":
            outcome.saved.append(job.replace(status="inactive", updated_at=now))
    return outcome


def _register_one(
    jobs: dict[str, Job],
    fn: Registered,
    *,
    now: float,
    new_id: Callable[[], str],
    job_cap: int | None,
    retries_cap: int | None,
) -> Job:
    previous = jobs.get(fn.name)
    if previous is None and job_cap is not None:
        active = sum(1 for job in jobs.values() if job.status == "active")
        if active >= job_cap:
            raise RegistrationRefused(403, f"Job limit reached ({active}/{job_cap}). Upgrade your plan.")
    seconds = timeout_seconds(fn.timeout)
    if seconds is None:  # NaN reaches an integer column: the platform answers 500
        raise RegistrationRefused(500, "Internal server error")
    if fn.type == "cron" and fn.schedule:
        from pingback_cli.project.cron import ScheduleError, validate_schedule  # crons only

        try:
            validate_schedule(fn.schedule)
        except ScheduleError:
            raise RegistrationRefused(
                400, f'Invalid cron expression for "{fn.name}": {fn.schedule}'
            ) from None
    retries = fn.retries if fn.retries is not None else (previous.retries if previous else 0)
    if retries_cap is not None:
        retries = min(retries, retries_cap)
    concurrency = fn.concurrency if fn.concurrency is not None else (previous.concurrency if previous else 1)
    return Job(
        id=previous.id if previous else new_id(),
        name=fn.name,
        type=fn.type,  # type: ignore[arg-type]
        schedule=fn.schedule if fn.type == "cron" else None,
        status="active",
        retries=retries,
        timeout_seconds=seconds,
        concurrency=concurrency,
        source="sdk",
        created_at=previous.created_at if previous else now,
        updated_at=now,
    )


_UPDATE_RANGES = {"retries": (0, 10), "timeoutSeconds": (1, 300), "concurrency": (1, 10)}


def read_update(data: Any) -> dict[str, Any]:
    """``PATCH /api/v1/jobs/:id``'s body, checked as ``UpdateJobDto`` does
    (jobs/dto/update-job.dto.ts): ``schedule`` a string, ``status`` active or paused, and
    whole ``retries`` 0-10, ``timeoutSeconds`` 1-300, ``concurrency`` 1-10; other keys are
    dropped. Returns the given fields; raises RegistrationInvalid listing every problem."""
    if not isinstance(data, dict):
        return {}
    problems: list[str] = []
    update: dict[str, Any] = {}
    if data.get("schedule") is not None:
        if isinstance(data["schedule"], str):
            update["schedule"] = data["schedule"]
        else:
            problems.append("schedule must be a string")
    if data.get("status") is not None:
        if data["status"] in ("active", "paused"):
            update["status"] = data["status"]
        else:
            problems.append("status must be one of the following values: active, paused")
    for key, (low, high) in _UPDATE_RANGES.items():
        value = data.get(key)
        if value is None:
            continue
        if not _int(value):
            problems.append(f"{key} must be an integer number")
        elif value < low:
            problems.append(f"{key} must not be less than {low}")
        elif value > high:
            problems.append(f"{key} must not be greater than {high}")
        else:
            update[key] = value
    if problems:
        raise RegistrationInvalid(problems)
    return update


def patched(job: Job, update: dict[str, Any], *, now: float) -> Job:
    """jobs.service.ts:93-106: a truthy schedule must parse (400 "Invalid cron expression: ...");
    status, retries, timeoutSeconds and concurrency replace the stored values when given."""
    changes: dict[str, Any] = {"updated_at": now}
    if update.get("schedule"):
        from pingback_cli.project.cron import ScheduleError, validate_schedule

        try:
            validate_schedule(update["schedule"])
        except ScheduleError:
            raise RegistrationRefused(400, f"Invalid cron expression: {update['schedule']}") from None
        changes["schedule"] = update["schedule"]
    for key, attribute in (
        ("status", "status"),
        ("retries", "retries"),
        ("timeoutSeconds", "timeout_seconds"),
        ("concurrency", "concurrency"),
    ):
        if key in update:
            changes[attribute] = update[key]
    return job.replace(**changes)
