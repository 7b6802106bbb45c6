"""The emulator as the platform API's routes see it (``emulator/api.py``'s ``Platform``):
triggers, registrations, job state, and the platform-shaped reads and controls."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pingback_cli.emulator.jobs import JobBook, spec_of
from pingback_cli.models import Execution, FunctionSpec

if TYPE_CHECKING:
    from pingback_cli.project.registration import Outcome, Registered


def plan_caps(settings: dict[str, Any]) -> dict[str, int | None]:
    """The plan's job and retries caps for registrations (``project.plans``: PINGBACK_PLAN, then
    ``[tool.pingback] plan``); none without a plan, as the platform without a user."""
    from pingback_cli.project.plans import choose_plan

    plan = choose_plan(None, settings)
    return {"job_cap": plan.jobs, "retries_cap": plan.retries} if plan else {}


class EmulatorApi:
    """One per emulator; every call goes to its engine, history and job state."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        """The ``emulator.host.Emulator`` (not imported here: it imports this module)."""

    @property
    def ready(self) -> bool:
        return self.emulator.ready

    @property
    def jobs(self) -> JobBook | None:
        return self.emulator.jobs

    def functions(self) -> list[FunctionSpec]:
        return self.emulator.functions()

    def project_root(self) -> Path:
        return Path(self.emulator.config.root)

    def knows(self, name: str) -> bool:
        """A trigger of ``name`` finds something to run (endpoint mode: the app may know it)."""
        return self.emulator.options.endpoint is not None or any(s.name == name for s in self.functions())

    def trigger(self, name: str, payload: Any, has_payload: bool, delay: float) -> Execution:
        return self.emulator.submit(
            name, payload=payload, has_payload=has_payload, delay=delay, trigger="trigger"
        )

    def register(
        self, functions: list[Registered], endpoint_url: str | None, *, from_worker: bool = False
    ) -> Outcome:
        """``POST /api/v1/register`` as the platform applies it (``JobBook.register``). The
        project's own worker registering what it just loaded changes nothing."""
        from pingback_cli.project.registration import Outcome

        emulator = self.emulator
        jobs = emulator.job_book()
        endpoint_mode = emulator.options.endpoint is not None
        if from_worker and not endpoint_mode:
            return Outcome(
                jobs=[{"name": fn.name, "status": jobs.status(fn.name) or "active"} for fn in functions]
            )
        outcome = jobs.register(functions, **plan_caps(emulator.config.settings))
        if endpoint_mode:  # the app says what it runs
            listed = [jobs.by_name(entry["name"]) for entry in outcome.jobs]
            emulator.register_specs([spec_of(job) for job in listed if job is not None])
        emulator.jobs_changed()
        return outcome

    def function_json(self, spec: FunctionSpec) -> dict[str, Any]:
        from pingback_cli.render.functions import function_json

        return function_json(spec, self.emulator.clock.now())

    def recent(self, limit: int, function: str | None, status: str | None) -> list[dict[str, Any]]:
        store = self.emulator.history()
        return [s.to_json() for s in store.recent_roots(limit, function=function, status=status)]

    def tree(self, id_or_prefix: str) -> dict[str, Any]:
        return self.emulator.history().tree(id_or_prefix).to_json()

    def execution(self, id_or_prefix: str) -> dict[str, Any]:
        return self.emulator.controls.execution(id_or_prefix)

    def job_executions(self, job_id: str, page: int, limit: int) -> dict[str, Any]:
        return self.emulator.controls.job_executions(job_id, page, limit)

    def cancel(self, id_or_prefix: str) -> dict[str, Any]:
        return self.emulator.controls.cancel(id_or_prefix)

    def retry(self, id_or_prefix: str) -> dict[str, Any]:
        return self.emulator.controls.retry(id_or_prefix)
