"""Client for a platform API: the local emulator (``pingback dev``) or a hosted platform.

Speaks the platform's API-key routes (runpingback/pingback ``apps/platform/src/modules/``:
trigger, register, jobs, executions) and the emulator's local ones (cancel, retry, tree).
Every failure is one ``PlatformError`` line with a hint: nothing listening, a refused key,
not found, the platform failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pingback_cli.errors import NotFound, PlatformError
from pingback_cli.models import FunctionSpec
from pingback_cli.record import FrozenRecord

PLATFORM_KEY_PREFIX = "pb_live_"
"""The hosted platform's keys start so (apps/platform/src/modules/auth/api-key.strategy.ts:19)."""
TIMEOUT = 30.0


class NoRoute(PlatformError):
    """The server answered Express's "Cannot METHOD /path": it has no such route."""


class Target(FrozenRecord):
    """A platform to talk to: ``local`` is this project's own ``pingback dev``."""

    __slots__ = _fields = ("url", "api_key", "local")

    def __init__(self, url: str, api_key: str = "", local: bool = False) -> None:
        self._set(url, api_key, local)

    @property
    def name(self) -> str:
        return f"pingback dev at {self.url}" if self.local else f"the platform at {self.url}"


def call(
    target: Target, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None
) -> Any:
    """One request; the decoded JSON answer (None for an empty one). Raises PlatformError
    (NotFound for a 404) with the platform's own message.

    Through the standard library's ``urllib`` (proxies from the environment, as the SDK's own
    requests): one request per command does not pay for importing httpx (~150 ms of CPU on this
    machine kind, most of `pingback trigger`'s start)."""
    import http.client
    import json
    import socket
    import urllib.error
    import urllib.request
    from urllib.parse import urlencode

    url = target.url.rstrip("/") + path + (f"?{urlencode(params)}" if params else "")
    headers = {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}
    data = None if body is None else json.dumps(body).encode()
    if data is not None:
        headers["Content-Type"] = "application/json"
    try:
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            status, content = response.status, response.read()
    except urllib.error.HTTPError as answer:  # an answer all the same: 4xx and 5xx are read below
        status, content = answer.code, answer.read()
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (ConnectionError, socket.gaierror)):
            raise PlatformError(
                f"nothing is listening at {target.url}",
                hint="start `pingback dev` in this project"
                if target.local
                else "check --platform-url (or PINGBACK_PLATFORM_URL)",
            ) from None
        raise PlatformError(f"request to {url} failed: {exc.reason}", hint="check --platform-url") from None
    except (OSError, ValueError, http.client.HTTPException) as exc:
        raise PlatformError(f"request to {url} failed: {exc}", hint="check --platform-url") from None
    text = content.decode("utf-8", "replace")
    try:
        answer_data = json.loads(content) if content else None
    except ValueError:
        answer_data = None
    if status >= 400:
        raise _refusal(target, method, path, status, answer_data, text)
    return answer_data


def _message(data: Any, text: str, status: int) -> str:
    """NestJS's ``message`` (a string, or class-validator's list), else the body's start."""
    message = data.get("message", data.get("error")) if isinstance(data, dict) else None
    if isinstance(message, list):
        message = "; ".join(str(item) for item in message)
    return str(message or " ".join(text.split())[:200] or f"HTTP {status}")


def _refusal(target: Target, method: str, path: str, status: int, data: Any, text: str) -> PlatformError:
    message = _message(data, text, status)
    if status == 401:
        hint = "pass --api-key or set PINGBACK_API_KEY"
        if not target.local and not target.api_key.startswith(PLATFORM_KEY_PREFIX):
            hint = f"platform API keys start with {PLATFORM_KEY_PREFIX}: {hint}"
        return PlatformError(f"{target.name} refused the API key (401): {message}", hint=hint)
    if status == 404:
        if message.startswith(f"Cannot {method}"):
            return NoRoute(
                f"{target.name} has no route {method} {path} (404)",
                hint="is this a Pingback platform URL? (without a path, e.g. https://api.pingback.lol)",
            )
        return NotFound(
            f"{target.name}: {message} (404)", hint="`pingback ls` and `pingback runs` list what exists"
        )
    if status >= 500:
        return PlatformError(
            f"{target.name} failed ({status}): {message}", hint="try again; if it persists, check its logs"
        )
    return PlatformError(f"{target.name} refused ({status}): {message}")


# --- the platform's API-key routes ------------------------------------------------------


def trigger(
    target: Target,
    name: str,
    *,
    payload: Any = None,
    has_payload: bool = False,
    delay: str | int | None = None,
) -> dict[str, Any]:
    """POST /api/v1/trigger; returns ``{"executionId", "task", "scheduledAt"}`` (201)."""
    body: dict[str, Any] = {"task": name}
    if has_payload:
        body["payload"] = payload
    if delay is not None:
        body["delay"] = int(delay) if isinstance(delay, str) and delay.isdigit() else delay
    return _object(target, call(target, "POST", "/api/v1/trigger", body=body))


def registration_body(functions: Iterable[FunctionSpec], endpoint_url: str | None = None) -> dict[str, Any]:
    """What pingback-py sends to /api/v1/register: name, type, a cron's schedule, and the
    options that are neither None nor 0 (pingback-py ``pingback/register.py:24``: so
    ``retries=0`` is never sent, and the platform keeps the stored value)."""
    entries: list[dict[str, Any]] = []
    for spec in functions:
        declared = {"retries": spec.retries, "timeout": spec.timeout, "concurrency": spec.concurrency}
        entry: dict[str, Any] = {
            "name": spec.name,
            "type": spec.type,
            "options": {key: value for key, value in declared.items() if value is not None and value != 0},
        }
        if spec.type == "cron":
            entry["schedule"] = spec.schedule
        entries.append(entry)
    body: dict[str, Any] = {"functions": entries}
    if endpoint_url:
        body["endpoint_url"] = endpoint_url
    return body


def register(target: Target, body: dict[str, Any]) -> list[dict[str, Any]]:
    """POST /api/v1/register with a ``registration_body``; the platform's ``jobs``:
    ``[{"name", "status": "active"}]`` (registration.service.ts:90)."""
    jobs = _object(target, call(target, "POST", "/api/v1/register", body=body)).get("jobs")
    if not isinstance(jobs, list) or not all(isinstance(job, dict) for job in jobs):
        raise PlatformError(f"{target.name} answered the registration without a list of jobs")
    return jobs


def jobs(target: Target) -> list[dict[str, Any]]:
    """GET /api/v1/jobs: every job, newest first."""
    data = call(target, "GET", "/api/v1/jobs")
    if not isinstance(data, list):
        raise PlatformError(f"{target.name} answered GET /api/v1/jobs without a list")
    return [job for job in data if isinstance(job, dict)]


def job_named(target: Target, name: str) -> dict[str, Any]:
    """The job of function ``name``; NotFound naming the known ones."""
    found = jobs(target)
    for job in found:
        if job.get("name") == name:
            return job
    known = ", ".join(sorted(str(job.get("name")) for job in found)) or "none"
    raise NotFound(f'{target.name} has no job "{name}" (known: {known})', hint="`pingback ls` lists them")


def set_status(target: Target, name: str, status: str) -> dict[str, Any]:
    """PATCH /api/v1/jobs/{id} ``{"status": "paused" | "active"}`` for function ``name``."""
    job = job_named(target, name)
    return _object(target, call(target, "PATCH", f"/api/v1/jobs/{job['id']}", body={"status": status}))


def job_executions(target: Target, job_id: str, page: int = 1, limit: int = 20) -> dict[str, Any]:
    """GET /api/v1/jobs/{id}/executions: ``{items, total, page, limit}``, newest first."""
    params = {"page": page, "limit": limit}
    return _object(target, call(target, "GET", f"/api/v1/jobs/{job_id}/executions", params=params))


def execution(target: Target, execution_id: str) -> dict[str, Any]:
    """GET /api/v1/executions/{id}: the execution with ``job`` and ``hasChildren``."""
    return _object(target, call(target, "GET", f"/api/v1/executions/{execution_id}"))


# --- the emulator's local routes ------------------------------------------------------------


def project_root(target: Target) -> str | None:
    """GET /api/v1/project (the emulator's own): the root of the project that `pingback dev`
    serves; None when it does not say (a platform, or a dev without the route)."""
    try:
        data = call(target, "GET", "/api/v1/project")
    except NoRoute:
        return None
    root = data.get("root") if isinstance(data, dict) else None
    return root if isinstance(root, str) else None


def control(target: Target, action: str, execution_id: str) -> dict[str, Any]:
    """POST /api/v1/executions/{id}/{cancel|retry} (the emulator's; the platform retries only
    from its dashboard and cancels nothing)."""
    try:
        return _object(target, call(target, "POST", f"/api/v1/executions/{execution_id}/{action}"))
    except NoRoute:
        raise PlatformError(
            f"{target.name} has no API-key route to {action} an execution",
            hint="the hosted platform retries from its dashboard and has no cancel; "
            "both work against `pingback dev`",
        ) from None


def tree(target: Target, execution_id: str) -> dict[str, Any]:
    """GET /api/v1/executions/{id}/tree (the emulator's): the execution with its descendants."""
    return _object(target, call(target, "GET", f"/api/v1/executions/{execution_id}/tree"))


def _object(target: Target, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PlatformError(f"{target.name} answered without a JSON object")
    return data
