"""The virtual platform a test drives: the project's functions on the real engine, platform time
on a virtual clock, handlers run in the test's process (or a worker subprocess), faults on demand.

Nothing here waits for the wall clock: backoff, delays, timeouts and cron occurrences are
timers on ``VirtualClock``, fired in time order as fast as the handlers run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from pingback_cli.engine.cron_timer import CronScheduler
from pingback_cli.engine.engine import Engine, Event, Limits
from pingback_cli.models import Execution as Record
from pingback_cli.models import FunctionSpec, utc_datetime
from pingback_cli.project.config import ProjectConfig, configure
from pingback_cli.project.delay import parse_delay
from pingback_cli.project.plans import Plan
from pingback_cli.testing.clock import VirtualClock
from pingback_cli.testing.driver import Driver
from pingback_cli.testing.execution import Execution
from pingback_cli.testing.faults import Fault, FaultKind
from pingback_cli.testing.hosting import Hosting
from pingback_cli.testing.times import DEFAULT_START, Instant, Span, instant, span

ENDED = "interrupted: the test ended before this finished"


class VirtualPlatform:
    """The ``pingback`` fixture: see the README's "Testing your functions"."""

    def __init__(self, *, cwd: Path | None = None, start: Instant = DEFAULT_START) -> None:
        self.cwd = cwd
        self.clock = VirtualClock(instant(start))
        self.driver = Driver(self.clock)
        self.hosting = Hosting(self.driver, self)
        self.config: ProjectConfig | None = None
        self.engine: Engine | None = None
        self.cron: CronScheduler | None = None
        self.plan: Plan | None = None
        """The platform plan whose limits apply (set by ``load``)."""
        self.limits: Limits | None = None
        """Fan-out guards for the engine; None: ``[tool.pingback]``, else the defaults."""
        self.on_event: Callable[[Event], None] | None = None
        """Also told every engine event (the simulate command streams them)."""
        self._roots: dict[str, Record] = {}
        self._finished: set[str] = set()
        self._touched: dict[str, Record] | None = None

    # --- the project ------------------------------------------------------------------

    def load(
        self, app: str | None = None, *, plan: str | None = None, concurrency: str | None = None
    ) -> VirtualPlatform:
        """Load the project: found as the CLI finds it from the working directory, ``app``
        (module, ``module:attribute``, file or folder) choosing like ``--app``. ``plan``
        ("free", "pro", "team") and ``concurrency`` ("platform": one pool of 20, or
        "documented": per-function limits) as ``run``'s ``--plan`` and ``--concurrency``
        (defaults: PINGBACK_PLAN, then ``[tool.pingback]``, else no plan and "platform").
        Raises ProjectError when the project cannot be imported or declares invalid options,
        UsageError for an unknown plan or concurrency mode."""
        from pingback_cli.engine.slots import concurrency_mode
        from pingback_cli.project.plans import choose_plan

        if self.engine is not None:
            raise RuntimeError("the project is already loaded; load() comes before the first run")
        config = configure(app, cwd=self.cwd)
        self.plan = choose_plan(plan, config.settings)
        mode = concurrency_mode(concurrency, config.settings)
        specs = self.hosting.start(config)
        self.config = config
        self.engine = Engine(
            self.driver.faults,
            functions=specs,
            clock=self.clock,
            store=self.hosting.store,
            limits=self.limits or Limits.from_settings(config.settings),
            on_event=self._on_event,
            concurrency=mode,
            plan=self.plan,
        )
        self.cron = CronScheduler(self.engine, self.clock, on_event=self._on_event)
        self.cron.schedule(specs)
        return self

    def isolated(self) -> VirtualPlatform:
        """Run handlers in the worker subprocess (crash containment) instead of this process.
        Call it before the first run; ``pb.trigger()`` from a handler then reaches a local API
        on a loopback port."""
        if self.engine is not None:
            raise RuntimeError("isolated() must come before the project is loaded (the first run)")
        self.hosting.isolated = True
        return self

    def history(self, path: str | Path | None = None, *, label: str | None = None) -> Path:
        """Record every execution from now on in a history file (default: the project's
        ``.pingback/history.sqlite3``), readable by ``pingback runs`` and ``show``; ``label``,
        when given, is recorded as every root's trigger (``simulate --run`` writes "simulate")."""
        where = None if path is None else Path(path)
        return self.hosting.record(where, self._project_root(), self.engine, root_trigger=label)

    @property
    def functions(self) -> dict[str, FunctionSpec]:
        """The project's crons and tasks by name, as validated for the platform."""
        return dict(self._engine().functions)

    # --- time -------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """Platform time (UTC)."""
        return utc_datetime(self.clock.now())

    def set_time(self, when: Instant) -> None:
        """Move platform time to ``when`` without running anything in between; crons are
        re-armed from there, delayed work keeps its due time."""
        self.clock.jump(instant(when))
        if self.cron is not None and self.engine is not None:
            self.cron.schedule(self.engine.functions.values())

    def advance(self, by: Span | datetime) -> list[Execution]:
        """Move platform time forward by a span (``"1d"``, ``"15m"``, seconds, timedelta) or to a
        datetime, running in time order every cron occurrence, delayed trigger and retry that
        falls due, with their trees. Returns the roots that ran, in the order they started."""
        self._engine()
        target = instant(by) if isinstance(by, datetime) else self.clock.now() + span(by)
        if target < self.clock.now():
            raise ValueError(f"time only moves forward: {utc_datetime(target)} is before now ({self.now})")
        self._touched = {}
        try:
            self.driver.drive(target)
        finally:
            touched, self._touched = self._touched, None
            self.hosting.flush()
        return [Execution(record) for record in touched.values()]

    # --- running ----------------------------------------------------------------------

    def run(self, name: str, payload: Any = None, *, at: Instant | None = None) -> Execution:
        """Run ``name`` now (``scheduledAt`` = ``at`` when given) and its whole fan-out tree to
        the end; backoff waits and timeouts pass on the virtual clock. Returns the root."""
        engine = self._engine()
        self._check(name)
        record = engine.submit(
            name,
            payload=payload,
            has_payload=payload is not None,
            scheduled_at=None if at is None else instant(at),
            trigger="run",
        )
        self._add_root(record)
        try:
            self.driver.drive(None, done=lambda: record.id in self._finished)
        finally:
            self.hosting.flush()
        return Execution(record)

    def trigger(self, name: str, payload: Any = None, delay: int | float | str | None = None) -> Execution:
        """Queue ``name`` as the platform's trigger API would (``delay`` read as the platform
        reads it: ``"15m"``, ``"1d2h"``, seconds); it runs when ``advance`` reaches it."""
        self._engine()
        self._check(name)
        seconds = 0 if delay is None else parse_delay(delay)
        return Execution(self.submit_trigger(name, payload, payload is not None, seconds))

    def submit_trigger(self, name: str, payload: Any, has_payload: bool, seconds: float) -> Record:
        """A trigger from the test or from a handler's ``pb.trigger()`` (through the API), due in
        ``seconds``; UnknownFunction for a name the project does not define."""
        record = self._engine().submit(
            name, payload=payload, has_payload=has_payload, delay=seconds, trigger="trigger"
        )
        self._add_root(record)
        return record

    @property
    def executions(self) -> list[Execution]:
        """Every root execution so far (runs, triggers, cron occurrences), in creation order."""
        return [Execution(record) for record in self._roots.values()]

    # --- faults -----------------------------------------------------------------------

    def fail(
        self, name: str, times: int = 1, error: str | None = None, *, attempt: int | None = None
    ) -> None:
        """The next ``times`` attempts of ``name`` (only attempt number ``attempt`` when given)
        fail as if the handler raised ``error``, without calling it."""
        self._fault(name, "error", times, error or f"{name} failed (injected by pingback.fail())", attempt)

    def timeout(self, name: str, times: int = 1, *, attempt: int | None = None) -> None:
        """The next ``times`` attempts of ``name`` hang until the function's timeout fails them."""
        self._fault(name, "timeout", times, "", attempt)

    def crash(self, name: str, times: int = 1, *, attempt: int | None = None) -> None:
        """The next ``times`` attempts of ``name`` fail as if the worker process died under them."""
        self._fault(name, "crash", times, "", attempt)

    def _fault(self, name: str, kind: FaultKind, times: int, error: str, attempt: int | None) -> None:
        self._engine()
        self._check(name)
        self.driver.faults.add(Fault(name, kind, times, error, attempt))

    # --- lifecycle --------------------------------------------------------------------

    def close(self) -> None:
        """End the test's platform: unfinished executions become interrupted, the worker (if
        any) stops, history is flushed, the environment and urllib are as they were."""
        try:
            if self.cron is not None:
                self.cron.stop()
            if self.engine is not None and self.engine.busy:
                self.engine.interrupt(ENDED)
        finally:
            self.hosting.close()

    def __enter__(self) -> VirtualPlatform:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- internals --------------------------------------------------------------------

    def _engine(self) -> Engine:
        if self.engine is None:
            self.load()
        assert self.engine is not None
        return self.engine

    def put_project_on_path(self) -> None:
        """Make the project's modules importable now, without importing them."""
        from pingback_cli.project.loader import put_on_path

        put_on_path(self._project_root())

    def _project_root(self) -> Path:
        if self.config is None:
            return configure(None, cwd=self.cwd).root
        return self.config.root

    def _check(self, name: str) -> None:
        functions = self._engine().functions
        if name not in functions:
            from pingback_cli.project.specs import did_you_mean

            close = did_you_mean(name, list(functions))
            hint = f"; {close}" if close else ""
            raise LookupError(
                f'no cron or task named "{name}" (defined: {", ".join(sorted(functions)) or "none"}){hint}'
            )

    def _add_root(self, record: Record) -> None:
        self._roots[record.id] = record

    def _on_event(self, event: Event) -> None:
        record = event.execution
        if event.kind == "fired":
            self._add_root(record)
        elif event.kind == "finished":
            self._finished.add(record.id)
        elif event.kind == "started":
            if record.parent_id is None:
                self._add_root(record)  # a cron's first attempt starts before it is "fired"
            root = self._roots.get(record.root_id)
            if self._touched is not None and root is not None and root.id not in self._touched:
                self._touched[root.id] = root
        if self.on_event is not None:
            self.on_event(event)
