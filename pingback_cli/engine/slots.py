"""Which queued execution starts next: the platform's one pool, or the documented per-function limits.

The platform's Go worker runs up to 20 executions at once, taken in order from one FIFO queue
shared by every function of every project (``runpingback/worker`` ``internal/config/config.go:29``
``WORKER_POOL_SIZE`` default 20, ``cmd/worker/main.go:109``); no code of the platform reads a
function's ``concurrency``. That is the default here ("platform"). "documented" restores the
documented contract: each function runs at most ``concurrency`` at once, the rest wait
(``docs/parity.md#concurrency``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Literal

from pingback_cli.models import Attempt, Execution, FunctionSpec

ConcurrencyMode = Literal["platform", "documented"]
CONCURRENCY_MODES: tuple[ConcurrencyMode, ...] = ("platform", "documented")
POOL_SIZE = 20
"""internal/config/config.go:29: ``WorkerPoolSize: intEnv("WORKER_POOL_SIZE", 20)``."""
LATE_SECONDS = 1.0
"""A cron occurrence that started this much after its time because of the pool says so."""


class Slots:
    """The queue of executions ready to start, and how many run, by function and in all."""

    def __init__(self, mode: ConcurrencyMode = "platform", pool_size: int = POOL_SIZE) -> None:
        self.mode = mode
        self.pool_size = pool_size
        self._fifo: deque[Execution] = deque()
        self._by_function: dict[str, deque[Execution]] = {}
        self._active: dict[str, int] = {}
        self._running = 0
        self._noticed: set[str] = set()
        self._waits: dict[str, tuple[int, int]] = {}

    def push(self, execution: Execution) -> None:
        """Queue ``execution`` behind everything already waiting (its function's queue, documented);
        a cron occurrence queued behind the full pool keeps what it waits behind (:meth:`late_start`)."""
        if self.mode == "platform":
            if self._running >= self.pool_size and execution.trigger == "cron":
                self._waits[execution.id] = (self._running, len(self._fifo))
            self._fifo.append(execution)
        else:
            self._by_function.setdefault(execution.function, deque()).append(execution)

    def pop(self, functions: Mapping[str, FunctionSpec]) -> Execution | None:
        """The next execution allowed to start, counted as running; None when none may."""
        if self.mode == "platform":
            if self._running >= self.pool_size or not self._fifo:
                return None
            execution = self._fifo.popleft()  # _take, inline: once per attempt
            self._active[execution.function] = self._active.get(execution.function, 0) + 1
            self._running += 1
            return execution
        for function, queue in self._by_function.items():
            spec = functions.get(function)
            limit = spec.concurrency if spec is not None else 1
            if queue and self._active.get(function, 0) < limit:
                return self._take(queue.popleft())
        return None

    def full(self) -> bool:
        """True when :meth:`pop` gives nothing whatever is queued (platform mode: the pool is full)."""
        return self.mode == "platform" and self._running >= self.pool_size

    def _take(self, execution: Execution) -> Execution:
        self._active[execution.function] = self._active.get(execution.function, 0) + 1
        self._running += 1
        return execution

    def release(self, function: str) -> None:
        """One execution of ``function`` stopped running."""
        active = self._active.get(function, 1) - 1
        self._active[function] = active if active > 0 else 0
        self._running = self._running - 1 if self._running > 0 else 0

    def late_start(self, execution: Execution, attempt: Attempt) -> str | None:
        """As ``attempt`` starts: ``started 15.6s late: waited for a slot (20 running, 3 queued
        ahead)`` when it is a cron occurrence's first, more than ``LATE_SECONDS`` after its time,
        and it was queued behind the full pool (platform mode); else None."""
        waited = self._waits.pop(execution.id, None)
        late = attempt.started_at - execution.scheduled_at
        if waited is None or execution.trigger != "cron" or attempt.number != 1 or late <= LATE_SECONDS:
            return None
        running, ahead = waited
        return f"started {late:.1f}s late: waited for a slot ({running} running, {ahead:,} queued ahead)"

    def running(self, function: str) -> int:
        return self._active.get(function, 0)

    def clear(self) -> None:
        """Forget everything waiting (what runs is released one by one as it ends)."""
        self._fifo.clear()
        self._by_function.clear()
        self._waits.clear()

    def over_declared(self, spec: FunctionSpec) -> bool:
        """True the first time ``spec``'s function runs more at once than its declared
        ``concurrency`` (platform mode only: the documented mode never lets it)."""
        if self.mode != "platform" or spec.name in self._noticed:
            return False
        if self._active.get(spec.name, 0) <= spec.concurrency:
            return False
        self._noticed.add(spec.name)
        return True


def concurrency_mode(option: str | None, settings: Mapping[str, object]) -> ConcurrencyMode:
    """``--concurrency``, else ``[tool.pingback] concurrency``, else "platform"; UsageError /
    ProjectError naming where an unknown value came from."""
    from pingback_cli.errors import ProjectError, UsageError

    value = option if option is not None else settings.get("concurrency", "platform")
    if value in CONCURRENCY_MODES:
        return value  # type: ignore[return-value]
    where = "--concurrency" if option is not None else "[tool.pingback] concurrency"
    error = UsageError if option is not None else ProjectError
    raise error(
        f"{where} is {value!r}, which is not a concurrency mode",
        hint='use "platform" (one pool of 20, as production runs) or "documented" (per-function limits)',
    )
