"""How an emulator runs: what ``run``, ``dev`` and ``replay`` choose (backoff, address, endpoint
mode, crons, durability, plan, concurrency) and how it stops."""

from __future__ import annotations

from pingback_cli.engine.fanout import Limits
from pingback_cli.record import Record


class EmulatorOptions(Record):
    __slots__ = _fields = (
        "backoff", "host", "port", "api_key", "limits", "grace", "endpoint", "secret", "crons",
        "interrupt_reason", "stop_grace", "durable", "dashboard", "plan", "concurrency", "api_on_demand",
        "restart_at_once"
    )  # fmt: skip

    backoff: bool
    host: str
    port: int
    api_key: str | None
    """Required from clients when set. None: beyond loopback, PINGBACK_API_KEY (required)."""
    limits: Limits | None
    """None: from ``[tool.pingback]`` (max-depth, max-executions-per-root), else the defaults."""
    grace: float
    """Seconds a replaced worker's running handlers may finish (reloads, recycling)."""
    endpoint: str | None
    """Endpoint mode: attempts are signed POSTs to this URL (the user's running app), no worker."""
    secret: str | None
    """The cron secret requests to ``endpoint`` are signed with; default PINGBACK_CRON_SECRET."""
    crons: bool
    """Fire each cron on its schedule (``dev``)."""
    interrupt_reason: str
    """The error of executions still unfinished when the emulator stops."""
    stop_grace: float | None
    """Seconds running handlers may finish when the emulator stops; None: ``grace``."""
    durable: bool
    """`dev`: unfinished work lives in history's durable queue (``history.queue``) across restarts."""
    dashboard: bool
    """Serve the web dashboard on the API's port (`pingback dev`); `run` does not."""
    plan: str | None
    """``--plan``: cap retries and fan-out as that plan does; None: ``PINGBACK_PLAN``, then
    ``[tool.pingback] plan``, else nothing capped (``project.plans``)."""
    concurrency: str | None
    """``--concurrency``: "platform" (one pool of 20) or "documented" (per-function limits);
    None: ``[tool.pingback] concurrency``, else "platform" (``engine.slots``)."""
    api_on_demand: bool
    """Start the API server at its first connection (`run`)."""
    restart_at_once: bool
    """A worker a handler killed is replaced at once (`dev`: ready for the next trigger);
    otherwise when another attempt needs one (a one-shot `run` may need none)."""

    def __init__(
        self, backoff: bool = True, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None,
        limits: Limits | None = None, grace: float = 5.0, endpoint: str | None = None,
        secret: str | None = None, crons: bool = False,
        interrupt_reason: str = "interrupted: the emulator stopped", stop_grace: float | None = None,
        durable: bool = False, dashboard: bool = False, plan: str | None = None,
        concurrency: str | None = None, api_on_demand: bool = False, restart_at_once: bool = False,
    ) -> None:  # fmt: skip
        self.backoff = backoff
        self.host = host
        self.port = port
        self.api_key = api_key
        self.limits = limits
        self.grace = grace
        self.endpoint = endpoint
        self.secret = secret
        self.crons = crons
        self.interrupt_reason = interrupt_reason
        self.stop_grace = stop_grace
        self.durable = durable
        self.dashboard = dashboard
        self.plan = plan
        self.concurrency = concurrency
        self.api_on_demand = api_on_demand
        self.restart_at_once = restart_at_once
