"""What `pingback dev` says about its durable queue, about an endpoint-mode app that has not
registered and about attempts that failed reaching the hosted service: the words (and the
signs of that failure), apart from the emulator that decides when to say them."""

from __future__ import annotations

from pingback_cli.models import Execution

STOPPED_DURING_ATTEMPT = "pingback dev stopped during this attempt"
"""The error of an attempt that was running when `dev` stopped or died (it is then retried
if it has retries left)."""


def taken_over(taken: list[Execution], now: float) -> str:
    """``from the last `pingback dev`: 3 queued executions taken over (1 due now, 2 later);
    1 interrupted (no retries left)`` for the executions ``Engine.resume`` returned."""
    waiting = [execution for execution in taken if not execution.finished]
    overdue = sum(1 for execution in waiting if (execution.due_at or now) <= now)
    ended = len(taken) - len(waiting)
    parts = [f"{len(waiting):,} queued execution{'s' if len(waiting) != 1 else ''} taken over"]
    if waiting:
        parts[0] += f" ({overdue:,} due now, {len(waiting) - overdue:,} later)"
    if ended:
        parts.append(f"{ended:,} interrupted (no retries left)")
    return "from the last `pingback dev`: " + "; ".join(parts)


def unregistered(api_url: str) -> str:
    """Endpoint mode: the app answered a failed attempt, yet has not registered with this dev.
    pingback-py registers once per process, on the first request it handles
    (runpingback/pingback-py ``pingback/client.py:118-130``), so it registered earlier: with the
    `dev` before this one, or with the hosted service if ``platform_url`` is not set."""
    return (
        "your app answered but has not registered with this dev: expected if it was already running "
        "(pingback-py registers once per process, on its first request; restart the app to register "
        f"here); otherwise start it with PINGBACK_PLATFORM_URL={api_url} and construct the SDK with "
        'Pingback(..., platform_url=os.environ.get("PINGBACK_PLATFORM_URL")), or its '
        "registrations and pb.trigger() calls go to the hosted service (said once)"
    )


SDK_DEFAULT_PLATFORM_URL = "https://api.pingback.lol"
"""Where pingback-py sends its registration and ``pb.trigger()`` when ``Pingback(...)`` gets no
``platform_url`` (runpingback/pingback-py ``pingback/client.py:18``, ``DEFAULT_PLATFORM_URL``)."""
_SDK_SOURCE = "pingback/client.py"
_UNREACHED = (
    "urlopen error",  # pingback-py calls the platform with urllib (pingback/client.py, trigger)
    "Name or service not known",
    "Temporary failure in name resolution",
    "nodename nor servname",
    "getaddrinfo failed",
    "Trigger failed (",  # pingback-py's words for an HTTP error from the platform's trigger
)


def reached_hosted_service(error: str | None, traceback: str | None, *, app_registered: bool | None) -> bool:
    """Whether a failed attempt looks like the SDK calling the hosted service instead of this
    emulator: its error or traceback names the SDK's default platform URL; or a connection
    failure came from pingback-py's own code (the traceback shows it); or, in endpoint mode
    (``app_registered`` not None) before the app registered here, the error is a connection
    failure or a failed ``pb.trigger()``, which is what an SDK left on the default URL gives."""
    text = f"{error or ''}\n{traceback or ''}"
    host = SDK_DEFAULT_PLATFORM_URL.split("//", 1)[1]
    if host in text:
        return True
    unreached = any(marker in text for marker in _UNREACHED)
    if unreached and traceback is not None and _SDK_SOURCE in traceback:
        return True
    return unreached and app_registered is False


def failed_on_hosted_service(execution: Execution, app_registered: bool | None) -> bool:
    """:func:`reached_hosted_service` for the last attempt of a failed or retrying execution."""
    attempt = execution.attempts[-1] if execution.attempts else None
    if attempt is None:
        return reached_hosted_service(execution.error, None, app_registered=app_registered)
    return reached_hosted_service(attempt.error, attempt.traceback, app_registered=app_registered)


def hosted_service(api_url: str) -> str:
    """One hint, said once per `pingback dev` or `run`, after :func:`reached_hosted_service`."""
    return (
        "an attempt failed calling the hosted Pingback service: pingback-py sends pb.trigger() and "
        f"its registration to {SDK_DEFAULT_PLATFORM_URL} unless told otherwise; construct the SDK "
        'with Pingback(..., platform_url=os.environ.get("PINGBACK_PLATFORM_URL")) and set '
        f"PINGBACK_PLATFORM_URL={api_url} (said once)"
    )
