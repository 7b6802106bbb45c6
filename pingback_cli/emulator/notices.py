"""What `pingback dev` says about its durable queue and about an endpoint-mode app that has
not registered: the words, apart from the emulator that decides when to say them."""

from __future__ import annotations

from pingback_cli.models import Execution

STOPPED_DURING_ATTEMPT = "pingback dev stopped during this attempt"
"""The error of an attempt that was running when `dev` stopped or died (it is then retried
if it has retries left)."""
REGISTER_HINT_SECONDS = 5.0
"""Endpoint mode: how long `dev` waits for the app's registration before saying how to get it."""


def taken_over(taken: list[Execution], now: float) -> str:
    """``from the last `pingback dev`: 3 queued executions taken over (1 due now, 2 later);
    1 interrupted (no retries left)`` for the executions ``Engine.resume`` returned."""
    waiting = [execution for execution in taken if not execution.finished]
    overdue = sum(1 for execution in waiting if (execution.due_at or now) <= now)
    ended = len(taken) - len(waiting)
    parts = [f"{len(waiting)} queued execution{'s' if len(waiting) != 1 else ''} taken over"]
    if waiting:
        parts[0] += f" ({overdue} due now, {len(waiting) - overdue} later)"
    if ended:
        parts.append(f"{ended} interrupted (no retries left)")
    return "from the last `pingback dev`: " + "; ".join(parts)


def unregistered(api_url: str) -> str:
    """The app has not registered: most likely its SDK talks to the hosted service because
    ``platform_url`` is not set."""
    return (
        f"your app has not registered with this emulator after {REGISTER_HINT_SECONDS:g}s: start it "
        f"with PINGBACK_PLATFORM_URL={api_url} and construct the SDK with "
        'Pingback(..., platform_url=os.environ.get("PINGBACK_PLATFORM_URL")), or its '
        "registrations and pb.trigger() calls go to the hosted service"
    )
