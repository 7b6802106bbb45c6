"""How an emulator runs: what ``run``, ``dev`` and ``replay`` choose (backoff, address, endpoint
mode, crons, durability, plan, concurrency) and how it stops."""

from __future__ import annotations

from dataclasses import dataclass

from pingback_cli.engine.fanout import Limits


@dataclass
class EmulatorOptions:
    backoff: bool = True
    host: str = "127.0.0.1"
    port: int = 0
    api_key: str | None = None
    """Required from clients when set. None: beyond loopback, PINGBACK_API_KEY (required)."""
    limits: Limits | None = None
    """None: from ``[tool.pingback]`` (max-depth, max-executions-per-root), else the defaults."""
    grace: float = 5.0
    """Seconds a replaced worker's running handlers may finish (reloads, recycling)."""
    endpoint: str | None = None
    """Endpoint mode: attempts are signed POSTs to this URL (the user's running app), no worker."""
    secret: str | None = None
    """The cron secret requests to ``endpoint`` are signed with; default PINGBACK_CRON_SECRET."""
    crons: bool = False
    """Fire each cron on its schedule (``dev``)."""
    interrupt_reason: str = "interrupted: the emulator stopped"
    """The error of executions still unfinished when the emulator stops."""
    stop_grace: float | None = None
    """Seconds running handlers may finish when the emulator stops; None: ``grace``."""
    durable: bool = False
    """`dev`: unfinished work lives in history's durable queue (``history.queue``) across restarts."""
    dashboard: bool = False
    """Serve the web dashboard on the API's port (`pingback dev`); `run` does not."""
    plan: str | None = None
    """``--plan``: cap retries and fan-out as that plan does; None: ``PINGBACK_PLAN``, then
    ``[tool.pingback] plan``, else nothing capped (``project.plans``)."""
    concurrency: str | None = None
    """``--concurrency``: "platform" (one pool of 20) or "documented" (per-function limits);
    None: ``[tool.pingback] concurrency``, else "platform" (``engine.slots``)."""
    api_on_demand: bool = False  # start the API server at its first connection (`run`)
    restart_at_once: bool = False
    """A worker a handler killed is replaced at once (`dev`: ready for the next trigger);
    otherwise when another attempt needs one (a one-shot `run` may need none)."""
