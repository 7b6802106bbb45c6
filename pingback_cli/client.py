"""Client for a platform API (the local emulator or the hosted service): trigger, register."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pingback_cli.errors import PlatformError
from pingback_cli.models import FunctionSpec


def resolve_platform(root: Path, platform_url: str | None, api_key: str | None) -> tuple[str, str]:
    """The platform a command talks to, as (url, api key): ``platform_url``, else
    PINGBACK_PLATFORM_URL, else the `pingback dev` running in ``root`` (``.pingback/dev.json``),
    else ``state.DEFAULT_LOCAL_URL``; the key is ``api_key``, else PINGBACK_API_KEY, else ""."""
    from pingback_cli.state import DEFAULT_LOCAL_URL, running_api_url

    url = platform_url or os.environ.get("PINGBACK_PLATFORM_URL") or running_api_url(root)
    return url or DEFAULT_LOCAL_URL, api_key or os.environ.get("PINGBACK_API_KEY", "")


def _post(platform_url: str, path: str, api_key: str, body: dict[str, Any]) -> dict[str, Any]:
    import httpx

    url = platform_url.rstrip("/") + path
    try:
        response = httpx.post(url, json=body, headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
    except httpx.ConnectError:
        raise PlatformError(
            f"nothing is listening at {platform_url}",
            hint="start the emulator with `pingback dev`, or pass --platform-url",
        ) from None
    except httpx.HTTPError as exc:
        raise PlatformError(f"request to {url} failed: {exc}") from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.status_code >= 400:
        message = data.get("error") if isinstance(data, dict) else None
        raise PlatformError(
            f"the platform refused ({response.status_code}): "
            f"{message or response.text[:200] or response.reason_phrase}"
        )
    if not isinstance(data, dict):
        raise PlatformError(f"{url} answered {response.status_code} without a JSON object")
    return data


def trigger(
    platform_url: str,
    api_key: str,
    name: str,
    *,
    payload: Any = None,
    has_payload: bool = False,
    delay: str | int | None = None,
) -> dict[str, Any]:
    """POST /api/v1/trigger; returns ``{"executionId", "task", "scheduledAt"}``."""
    body: dict[str, Any] = {"task": name}
    if has_payload:
        body["payload"] = payload
    if delay is not None:
        body["delay"] = int(delay) if isinstance(delay, str) and delay.isdigit() else delay
    return _post(platform_url, "/api/v1/trigger", api_key, body)


def registration_body(functions: Iterable[FunctionSpec], endpoint_url: str | None = None) -> dict[str, Any]:
    """What the SDKs send to /api/v1/register: name, type, a cron's schedule, and the options
    that are neither None nor 0."""
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


def register(platform_url: str, api_key: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """POST /api/v1/register with a ``registration_body``; returns the platform's
    ``jobs``: ``[{"name", "status": "created" | "updated"}]``."""
    answer = _post(platform_url, "/api/v1/register", api_key, body)
    jobs = answer.get("jobs")
    if not isinstance(jobs, list) or not all(isinstance(job, dict) for job in jobs):
        raise PlatformError(f"{platform_url} answered the registration without a list of jobs")
    return jobs
