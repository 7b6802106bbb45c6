"""What the state commands do (``ls``, ``runs``, ``show``, ``trigger``, ``pause``, ``resume``,
``retry``, ``cancel``, ``register``), for this project or for any platform.

Where each looks (``target``): ``--platform-url`` (or ``PINGBACK_PLATFORM_URL``, from the
environment or ``.env``) is a platform, local or hosted, spoken to through its API-key routes
with ``--api-key`` (or ``PINGBACK_API_KEY``). Without it: the ``pingback dev`` running in
this project, else its history file (``ls``, ``runs``, ``show``, ``pause``, ``resume`` work
without a running dev; ``trigger``, ``retry``, ``cancel`` need one).

Each function returns what the command renders, with the ``Target`` it looked at (None:
the history file). Errors: ``PlatformError`` / ``NotFound`` from the platform, ``UsageError``
for a command that needs a running dev, ``HistoryError`` for an unreadable history.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from pingback_cli import client
from pingback_cli.client import Target
from pingback_cli.errors import NotFound, PlatformError, UsageError
from pingback_cli.models import Execution, FunctionSpec
from pingback_cli.record import Record


class Functions(Record):
    """What ``ls`` lists: the functions, their job states, and the platform they came from."""

    __slots__ = _fields = ("specs", "statuses", "target")
    statuses: dict[str, str]
    """Each function's job status (active, paused, inactive); empty: no job state yet."""

    def __init__(
        self, specs: list[FunctionSpec], statuses: dict[str, str] | None = None, target: Target | None = None
    ) -> None:
        self.specs = specs
        self.statuses = {} if statuses is None else statuses
        self.target = target


def project_root(app: str | None = None) -> Path:
    """The project's root, with its env files loaded (PINGBACK_PLATFORM_URL may be there)."""
    from pingback_cli.project.config import open_project

    return open_project(app).root


def target(root: Path, platform_url: str | None = None, api_key: str | None = None) -> Target | None:
    """The platform to talk to: ``platform_url`` (else PINGBACK_PLATFORM_URL), else this
    project's running ``pingback dev``, else None."""
    from pingback_cli.state import running_api_url

    key = api_key or os.environ.get("PINGBACK_API_KEY", "")
    url = platform_url or os.environ.get("PINGBACK_PLATFORM_URL")
    if url:
        return Target(url, key)
    running = running_api_url(root)
    return Target(running, key, local=True) if running else None


def platform_given(platform_url: str | None) -> bool:
    """Was a platform named (the option, or PINGBACK_PLATFORM_URL after the env files)?"""
    return bool(platform_url or os.environ.get("PINGBACK_PLATFORM_URL"))


def this_projects_dev(root: Path, api_key: str | None) -> Target:
    """The `pingback dev` running in ``root`` (``.pingback/dev.json``), checked to serve ``root``
    (``GET /api/v1/project``): never whatever listens on the default port. Raises UsageError,
    one line, when none runs here or the one found serves another project (a copied
    ``.pingback/``)."""
    from pingback_cli.state import running_api_url

    url = running_api_url(root)
    if url is None:
        raise UsageError(
            f"no `pingback dev` is running in {root} (start it with `pingback dev`, or pass --platform-url)"
        )
    found = Target(url, api_key or os.environ.get("PINGBACK_API_KEY", ""), local=True)
    served = client.project_root(found)
    if served is not None and Path(served).resolve() != root.resolve():
        raise UsageError(
            f"no `pingback dev` is running in {root}: the one at {url} serves {served}"
            " (start one here with `pingback dev`, or pass --platform-url)"
        )
    return found


# --- reads ----------------------------------------------------------------------------------


def functions(
    app: str | None, platform_url: str | None, api_key: str | None, *, on_warning: Any = None
) -> Functions:
    """``ls``: a platform's jobs, or the project's functions with their job state from history."""
    root = project_root(app)
    if platform_url or os.environ.get("PINGBACK_PLATFORM_URL"):
        found = target(root, platform_url, api_key)
        assert found is not None
        from pingback_cli.remote import function_rows

        specs, statuses = function_rows(found)
        return Functions(specs, statuses, found)
    from pingback_cli.project.discovery import discover

    specs = discover(app, on_warning=on_warning)
    return Functions(specs, _history_statuses(root))


def _history_statuses(root: Path) -> dict[str, str]:
    from pingback_cli import state

    path = state.state_dir(root) / state.HISTORY  # history.store.history_path, without sqlite3
    if not path.is_file():  # a project that never ran (most `ls`): the history modules stay unloaded
        return {}
    from pingback_cli.history.jobs import JobStore
    from pingback_cli.history.store import Store

    with Store(path, readonly=True) as store:
        return {job.name: job.status for job in JobStore(store).all()}


def runs(app: str | None, platform_url: str | None, api_key: str | None, *, limit: int,
         function: str | None, status: str | None) -> tuple[list[Any], Target]:  # fmt: skip
    """``runs --platform-url``: a platform's recent root executions, newest first (``RootSummary``
    rows; the local history's own listing is ``cli/history.py``'s)."""
    from pingback_cli.remote import recent_roots

    found = target(project_root(app), platform_url, api_key)
    if found is None:
        raise UsageError("`pingback runs` reads a platform only with --platform-url or PINGBACK_PLATFORM_URL")
    return recent_roots(found, limit, function, status), found


def show(
    app: str | None, platform_url: str | None, api_key: str | None, execution_id: str
) -> tuple[Execution, Target | None]:
    """``show``: one execution's whole tree (from history, or built from a platform's routes)."""
    root = project_root(app)
    if platform_url or os.environ.get("PINGBACK_PLATFORM_URL"):
        found = target(root, platform_url, api_key)
        assert found is not None
        from pingback_cli.remote import tree

        return tree(found, execution_id), found
    from pingback_cli.history.store import Store, history_path, no_history

    path = history_path(root)
    if not path.is_file():
        raise no_history(execution_id)
    from pingback_cli.history.rows import settle_for_reading

    with Store(path, readonly=True) as store:
        tree = store.tree(execution_id)
        settle_for_reading(store, tree.walk())
        return tree, None


# --- changes --------------------------------------------------------------------------------


def trigger(name: str, platform_url: str | None, api_key: str | None, *, payload: Any = None,
            has_payload: bool = False, delay: str | None = None
            ) -> tuple[dict[str, Any], Target]:  # fmt: skip
    """``trigger``: ``{"executionId", "task", "scheduledAt"}`` from the platform (201): the one
    named (``--platform-url``, PINGBACK_PLATFORM_URL), else this project's own `pingback dev`
    (``this_projects_dev``; UsageError when there is none)."""
    root = project_root(None)
    found = target(root, platform_url, api_key) if platform_given(platform_url) else None
    if found is None:
        found = this_projects_dev(root, api_key)
    try:
        answer = client.trigger(found, name, payload=payload, has_payload=has_payload, delay=delay)
    except NotFound as unknown:  # the platform's message stays; the hint names what is close
        unknown.hint = _names_like(found, name) or unknown.hint
        raise
    return answer, found


def _names_like(found: Target, name: str) -> str | None:
    """``did you mean ...?`` from the jobs ``found`` lists (None when it lists none alike)."""
    from pingback_cli.project.specs import did_you_mean

    return did_you_mean(name, [str(job.get("name")) for job in _listed_jobs(found)])


def set_status(
    name: str, status: str, app: str | None, platform_url: str | None, api_key: str | None
) -> tuple[dict[str, Any], Target | None]:
    """``pause`` (status "paused") / ``resume`` ("active"): the job's JSON after the change.
    Without a running dev the history file is changed, and the next ``pingback dev`` keeps it."""
    root = project_root(app)
    found = target(root, platform_url, api_key)
    if found is not None:
        return client.set_status(found, name, status), found
    return _set_status_in_history(root, name, status), None


def _set_status_in_history(root: Path, name: str, status: str) -> dict[str, Any]:
    from pingback_cli.emulator.shapes import job_json, project_id
    from pingback_cli.history.jobs import JobStore
    from pingback_cli.history.store import Store, history_path

    path = history_path(root)
    if not path.is_file():  # nothing to change, and no .pingback/ to leave behind
        raise NotFound(
            f'no job "{name}" in this project\'s history (there is no history in {root} yet)',
            hint="`pingback dev` records the project's functions as jobs when it starts",
        )
    with Store(path) as store:
        jobs = JobStore(store)
        job = jobs.by_name().get(name)
        if job is None:
            known = ", ".join(sorted(jobs.by_name())) or "none yet"
            raise NotFound(
                f'no job "{name}" in this project\'s history (known: {known})',
                hint="`pingback dev` records the project's functions as jobs when it starts",
            )
        job = job.replace(status=status, updated_at=time.time())
        jobs.save([job])
        return job_json(job, project=project_id(root), next_run_at=None, last_run_at=None)


def control(
    action: str, execution_id: str, platform_url: str | None, api_key: str | None
) -> tuple[dict[str, Any], Target]:
    """``retry`` / ``cancel`` through this project's running dev (``this_projects_dev``) or the
    platform named: the execution's JSON."""
    root = project_root(None)
    found = target(root, platform_url, api_key) if platform_given(platform_url) else None
    if found is None:
        found = this_projects_dev(root, api_key)
    return client.control(found, action, execution_id), found


class Registration(Record):
    """What ``register`` sent and got: ``jobs`` is the platform's answer (None with a dry run),
    ``deactivated`` the names of the SDK jobs it made inactive, ``target`` None for a dry run
    with nowhere to send (``nowhere`` says why)."""

    __slots__ = _fields = ("body", "target", "jobs", "deactivated", "nowhere")

    def __init__(
        self, body: dict[str, Any], target: Target | None, jobs: list[dict[str, Any]] | None = None,
        deactivated: list[str] | None = None, nowhere: str = "",
    ) -> None:  # fmt: skip
        self.body = body
        self.target = target
        self.jobs = jobs
        self.deactivated = [] if deactivated is None else deactivated
        self.nowhere = nowhere


def register(app: str | None, platform_url: str | None, api_key: str | None, *, endpoint_url: str | None,
             dry_run: bool = False, on_warning: Any = None) -> Registration:  # fmt: skip
    """``register``: the body the SDKs send, to the platform named (``--platform-url``,
    PINGBACK_PLATFORM_URL), else to this project's own `pingback dev` (``this_projects_dev``:
    never another project's dev on the default port; UsageError when none runs here, except
    for ``dry_run``, which then sends nowhere). Every function pingback-py would send without
    retries (``retries=0``) but whose job keeps more goes to ``on_warning``: the platform keeps
    the stored value (registration.service.ts:70)."""
    from pingback_cli.project.discovery import discover

    specs = discover(app, on_warning=on_warning)  # also loads .env
    body = client.registration_body(specs, endpoint_url)
    root = project_root(app)
    found = target(root, platform_url, api_key) if platform_given(platform_url) else None
    if found is None:
        try:
            found = this_projects_dev(root, api_key)
        except UsageError as refused:
            if not dry_run:
                raise
            return Registration(body, None, nowhere=refused.message)
    if dry_run:
        return Registration(body, found)
    before = _listed_jobs(found)
    jobs = client.register(found, body)
    if on_warning is not None:
        for warning in kept_retries(found, specs):
            on_warning(warning)
    return Registration(body, found, jobs, deactivated(before, body))


def _listed_jobs(found: Target) -> list[dict[str, Any]]:
    """GET /api/v1/jobs, or nothing when the platform does not list them."""
    try:
        return client.jobs(found)
    except PlatformError:
        return []


def deactivated(before: list[dict[str, Any]], body: dict[str, Any]) -> list[str]:
    """The jobs a registration of ``body`` makes inactive, from the jobs listed before it: the
    SDK jobs not sent that were not inactive yet (registration.service.ts:93-101), sorted."""
    sent = {entry["name"] for entry in body["functions"]}
    stale = (job for job in before if job.get("name") not in sent and job.get("status") != "inactive")
    return sorted(str(job["name"]) for job in stale if job.get("source", "sdk") == "sdk")


def kept_retries(found: Target, specs: list[FunctionSpec]) -> list[str]:
    """Functions declared with retries=0 whose job on ``found`` still retries (nothing when the
    platform does not list its jobs)."""
    zero = {spec.name for spec in specs if spec.retries == 0}
    if not zero:
        return []
    try:
        listed = client.jobs(found)
    except PlatformError:
        return []
    return [
        f'"{job["name"]}" is declared with retries=0, but {found.name} keeps retries={job["retries"]}: '
        "pingback-py leaves retries=0 out of the registration, and a missing value keeps the stored one "
        f"(lower it with PATCH /api/v1/jobs/{job['id']} or the dashboard)"
        for job in listed
        if job.get("name") in zero and isinstance(job.get("retries"), int) and job["retries"] > 0
    ]
