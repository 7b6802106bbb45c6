"""When an execution's next attempt comes, if at all: the platform's backoff after a failed
attempt, the retries its function declares (capped by a plan: ``engine.plan_caps``), none after a
manual rerun, and the retry of an attempt cut short because pingback stopped."""

from __future__ import annotations

from pingback_cli.engine.plan_caps import PlanCaps
from pingback_cli.models import Execution, FunctionSpec

MAX_BACKOFF_SECONDS = 60


def backoff_seconds(failed_attempt: int) -> int:
    """The platform's wait before the next attempt after attempt ``failed_attempt`` failed."""
    return min(2**failed_attempt, MAX_BACKOFF_SECONDS)


class Retries:
    """The retry decision for each failed or stopped attempt. ``backoff`` False: retries are due
    at once (tests, ``--no-backoff``)."""

    def __init__(self, plan_caps: PlanCaps, *, backoff: bool = True) -> None:
        self.plan_caps = plan_caps
        self.backoff = backoff
        self._manual: set[str] = set()
        """Executions re-run by hand (``Engine.rerun``): no automatic retry after that attempt."""

    def by_hand(self, execution_id: str) -> None:
        """``execution_id`` is re-run by hand: its next failure is final."""
        self._manual.add(execution_id)

    def is_by_hand(self, execution_id: str) -> bool:
        """Whether ``execution_id``'s attempts now are manual retries (``by_hand``)."""
        return execution_id in self._manual

    def forget(self, execution_id: str) -> None:
        """``execution_id`` has finished."""
        self._manual.discard(execution_id)

    def after_failure(self, execution: Execution, spec: FunctionSpec) -> int | None:
        """Seconds until ``execution``'s next attempt after its latest failed; None: no retry
        (its retries, or the plan's cap, are used up, or it was re-run by hand)."""
        retries = self.plan_caps.retries(spec)  # the plan's cap when one is set (limits.CapRetries)
        if execution.attempt > retries or execution.id in self._manual:
            return None
        self.plan_caps.retrying(execution.attempt)
        return self._wait(execution)

    def after_stop(self, execution: Execution, spec: FunctionSpec | None) -> int | None:
        """Seconds until ``execution``'s next attempt after pingback stopped during its latest;
        None: it is interrupted (no retries left, or its function is gone)."""
        if spec is None or execution.attempt > spec.retries:
            return None
        return self._wait(execution)

    def _wait(self, execution: Execution) -> int:
        return backoff_seconds(execution.attempt) if self.backoff else 0
