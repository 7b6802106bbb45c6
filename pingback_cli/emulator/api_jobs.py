"""The platform's jobs and executions routes (API key), and the local controls beside them.

Sources (runpingback/pingback ``apps/platform/src/modules/``): ``jobs/jobs.controller.ts``
``JobsApiController`` (:25-80) with ``jobs/jobs.service.ts``; ``executions/executions.controller.ts``
``ExecutionsApiController`` (:19-52) with ``executions/executions.service.ts``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from pingback_cli.emulator.api_base import route
from pingback_cli.emulator.jobs import JobBook, JobNotFound
from pingback_cli.emulator.nest import HttpError, StrictJSONResponse, parse_int, read_json
from pingback_cli.errors import NotFound
from pingback_cli.models import Job
from pingback_cli.project.registration import RegistrationInvalid, RegistrationRefused


class JobsPlatform(Protocol):
    """What these routes need from the emulator."""

    jobs: JobBook | None
    """The job state (None until history is open)."""

    def execution(self, id_or_prefix: str) -> dict[str, Any]: ...

    def job_executions(self, job_id: str, page: int, limit: int) -> dict[str, Any]: ...

    def cancel(self, id_or_prefix: str) -> dict[str, Any]: ...

    def retry(self, id_or_prefix: str) -> dict[str, Any]: ...


def _book(platform: JobsPlatform) -> JobBook:
    if platform.jobs is None:
        raise HttpError(503, "the project is still loading; try again in a moment")
    return platform.jobs


def _job_id(request: Request) -> str:
    return str(request.path_params["job_id"])


async def list_jobs(request: Request, platform: JobsPlatform) -> Response:
    jobs = _book(platform)
    status = request.query_params.get("status") or None  # jobs.service.ts:69
    return StrictJSONResponse([jobs.to_json(job) for job in jobs.all(status)])


async def get_job(request: Request, platform: JobsPlatform) -> Response:
    return _job_answer(platform, lambda jobs: jobs.get(_job_id(request)))


async def patch_job(request: Request, platform: JobsPlatform) -> Response:
    data = await read_json(request)
    jobs = _book(platform)
    try:
        job = jobs.patch(_job_id(request), data)
    except RegistrationInvalid as exc:
        raise HttpError(400, exc.messages) from None
    except RegistrationRefused as exc:
        raise HttpError(exc.status, exc.message) from None
    except JobNotFound:
        raise HttpError(404, "Job not found") from None
    return StrictJSONResponse(jobs.to_json(job))


async def delete_job(request: Request, platform: JobsPlatform) -> Response:
    return _job_answer(platform, lambda jobs: jobs.delete(_job_id(request)))


def _job_answer(platform: JobsPlatform, act: Callable[[JobBook], Job]) -> Response:
    """The job ``act`` finds (or deletes) as the platform shows it; its 404 "Job not found"."""
    jobs = _book(platform)
    try:
        return StrictJSONResponse(jobs.to_json(act(jobs)))
    except JobNotFound:
        raise HttpError(404, "Job not found") from None


JOB_ROUTES = [
    route("/api/v1/jobs", list_jobs, "GET"),
    route("/api/v1/jobs/{job_id}", get_job, "GET"),
    route("/api/v1/jobs/{job_id}", patch_job, "PATCH"),
    route("/api/v1/jobs/{job_id}", delete_job, "DELETE"),
]


async def job_executions(request: Request, platform: JobsPlatform) -> Response:
    page = parse_int(request.query_params.get("page"), 1)
    limit = parse_int(request.query_params.get("limit"), 20)
    return StrictJSONResponse(platform.job_executions(_job_id(request), page, limit))


async def execution(request: Request, platform: JobsPlatform) -> Response:
    try:
        return StrictJSONResponse(platform.execution(request.path_params["execution_id"]))
    except NotFound:
        raise HttpError(404, "Execution not found") from None  # executions.service.ts:66


async def cancel(request: Request, platform: JobsPlatform) -> Response:
    return StrictJSONResponse(platform.cancel(request.path_params["execution_id"]), status_code=201)


async def retry(request: Request, platform: JobsPlatform) -> Response:
    return StrictJSONResponse(platform.retry(request.path_params["execution_id"]), status_code=201)


EXECUTION_ROUTES = [
    route("/api/v1/jobs/{job_id}/executions", job_executions, "GET"),
    route("/api/v1/executions/{execution_id}", execution, "GET"),
    route("/api/v1/executions/{execution_id}/cancel", cancel, "POST"),
    route("/api/v1/executions/{execution_id}/retry", retry, "POST"),
]
"""A job's executions, one execution, and the local cancel and retry."""
