"""The platform's jobs and executions routes (API key), and the local controls beside them.

Sources (runpingback/pingback ``apps/platform/src/modules/``): ``jobs/jobs.controller.ts``
``JobsApiController`` (:25-80) with ``jobs/jobs.service.ts``; ``executions/executions.controller.ts``
``ExecutionsApiController`` (:19-52) with ``executions/executions.service.ts``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pingback_cli.emulator.nest import HttpError, StrictJSONResponse, parse_int, read_json
from pingback_cli.errors import NotFound

if TYPE_CHECKING:
    from pingback_cli.emulator.jobs import JobBook

Endpoint = Callable[[Request], Awaitable[Response]]


class JobsPlatform(Protocol):
    """What these routes need from the emulator."""

    jobs: JobBook | None
    """The job state (None until history is open)."""

    def execution(self, id_or_prefix: str) -> dict[str, Any]: ...

    def job_executions(self, job_id: str, page: int, limit: int) -> dict[str, Any]: ...

    def cancel(self, id_or_prefix: str) -> dict[str, Any]: ...

    def retry(self, id_or_prefix: str) -> dict[str, Any]: ...


def job_routes(
    platform: JobsPlatform, authorize: Callable[[Request], None], guarded: Callable[[Endpoint], Endpoint]
) -> list[Route]:
    """The routes, each authorized and guarded like the rest of the API."""
    from pingback_cli.emulator.jobs import JobNotFound
    from pingback_cli.project.registration import RegistrationInvalid, RegistrationRefused

    def book() -> JobBook:
        if platform.jobs is None:
            raise HttpError(503, "the project is still loading; try again in a moment")
        return platform.jobs

    def one(request: Request) -> str:
        return str(request.path_params["job_id"])

    async def list_jobs(request: Request) -> Response:
        authorize(request)
        jobs = book()
        status = request.query_params.get("status") or None  # jobs.service.ts:69
        return StrictJSONResponse([jobs.to_json(job) for job in jobs.all(status)])

    async def get_job(request: Request) -> Response:
        authorize(request)
        jobs = book()
        try:
            return StrictJSONResponse(jobs.to_json(jobs.get(one(request))))
        except JobNotFound:
            raise HttpError(404, "Job not found") from None

    async def patch_job(request: Request) -> Response:
        authorize(request)
        data = await read_json(request)
        jobs = book()
        try:
            job = jobs.patch(one(request), data)
        except RegistrationInvalid as exc:
            raise HttpError(400, exc.messages) from None
        except RegistrationRefused as exc:
            raise HttpError(exc.status, exc.message) from None
        except JobNotFound:
            raise HttpError(404, "Job not found") from None
        return StrictJSONResponse(jobs.to_json(job))

    async def delete_job(request: Request) -> Response:
        authorize(request)
        jobs = book()
        try:
            return StrictJSONResponse(jobs.to_json(jobs.delete(one(request))))
        except JobNotFound:
            raise HttpError(404, "Job not found") from None

    return [
        Route("/api/v1/jobs", guarded(list_jobs), methods=["GET"]),
        Route("/api/v1/jobs/{job_id}", guarded(get_job), methods=["GET"]),
        Route("/api/v1/jobs/{job_id}", guarded(patch_job), methods=["PATCH"]),
        Route("/api/v1/jobs/{job_id}", guarded(delete_job), methods=["DELETE"]),
    ]


def execution_routes(
    platform: JobsPlatform, authorize: Callable[[Request], None], guarded: Callable[[Endpoint], Endpoint]
) -> list[Route]:
    """A job's executions, one execution, and the local cancel and retry."""

    def one(request: Request) -> str:
        return str(request.path_params["job_id"])

    async def job_executions(request: Request) -> Response:
        authorize(request)
        page = parse_int(request.query_params.get("page"), 1)
        limit = parse_int(request.query_params.get("limit"), 20)
        return StrictJSONResponse(platform.job_executions(one(request), page, limit))

    async def execution(request: Request) -> Response:
        authorize(request)
        try:
            return StrictJSONResponse(platform.execution(request.path_params["execution_id"]))
        except NotFound:
            raise HttpError(404, "Execution not found") from None  # executions.service.ts:66

    async def cancel(request: Request) -> Response:
        authorize(request)
        return StrictJSONResponse(platform.cancel(request.path_params["execution_id"]), status_code=201)

    async def retry(request: Request) -> Response:
        authorize(request)
        return StrictJSONResponse(platform.retry(request.path_params["execution_id"]), status_code=201)

    return [
        Route("/api/v1/jobs/{job_id}/executions", guarded(job_executions), methods=["GET"]),
        Route("/api/v1/executions/{execution_id}", guarded(execution), methods=["GET"]),
        Route("/api/v1/executions/{execution_id}/cancel", guarded(cancel), methods=["POST"]),
        Route("/api/v1/executions/{execution_id}/retry", guarded(retry), methods=["POST"]),
    ]
