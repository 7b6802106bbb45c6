"""The cron clock: fire each cron at its occurrences. As the platform's scheduler does, an
occurrence is skipped only when one with the same ``scheduledAt`` is still unfinished
(``apps/platform/src/modules/scheduler/scheduler.service.ts:51-55``), which a timer per
occurrence never repeats: crons overlap. With ``concurrency = "documented"`` an occurrence is
skipped while the cron is at its declared concurrency (``docs/parity.md#concurrency``).

Every occurrence is a timer on the injected clock, so firing is exact (not a
tick) and tests move time by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from pingback_cli.engine.clock import Clock, TimerHandle
from pingback_cli.engine.engine import Engine, Event
from pingback_cli.models import Execution, FunctionSpec
from pingback_cli.project.cron import NeverFires, ScheduleError, next_fire, next_fires
from pingback_cli.times import moment

MISSED_COUNTED = 1000
"""Occurrences missed while stopped are counted up to this many ("999+" past it)."""


def _missed(schedule: str, last: float, now: float) -> tuple[float | None, int]:
    """The first occurrence after ``last`` that is due by ``now`` (None: none), and how many
    are (at most MISSED_COUNTED)."""
    try:
        if next_fire(schedule, last) > now:  # the usual case: nothing missed, one fire computed
            return None, 0
        upcoming = next_fires(schedule, last, MISSED_COUNTED)
    except (NeverFires, ScheduleError):
        return None, 0
    due = [at for at in upcoming if at <= now]
    return (due[0] if due else None), len(due)


class CronScheduler:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        on_event: Callable[[Event], None] | None = None,
        job_status: Callable[[str], str | None] | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.on_event = on_event
        self.job_status = job_status
        """A cron's job status (active, paused, inactive; None: no job): only active ones fire."""
        self._timers: dict[str, TimerHandle] = {}
        self._next: dict[str, float] = {}

    def schedule(self, specs: Iterable[FunctionSpec]) -> None:
        """(Re)arm a timer per cron; a reload calls this with the new specs."""
        self.stop()
        now = self.clock.now()
        for spec in specs:
            if spec.type == "cron" and spec.schedule:
                self._arm(spec, now)

    def catch_up(self, specs: Iterable[FunctionSpec], last_fired: Mapping[str, float]) -> None:
        """Fire, late, the first occurrence of each cron that came due while no `pingback dev`
        ran (after its ``last_fired`` scheduledAt, from history), and say how many more were
        skipped. As the platform's scheduler when it runs again: the job's stored ``nextRunAt``
        is past, so its next tick fires that one occurrence with that ``scheduledAt``, then
        takes the next occurrence after now (scheduler.service.ts:38-81)."""
        now = self.clock.now()
        for spec in specs:
            last = last_fired.get(spec.name)
            if spec.type != "cron" or not spec.schedule or last is None:
                continue
            due, count = _missed(spec.schedule, last, now)
            if due is None or self._held(spec.name, due):
                continue
            detail = (
                f"due {moment(due, now=now)} while pingback dev was stopped: fired late, as the platform does"
            )
            if count > 1:
                more = f"{MISSED_COUNTED - 1:,}+" if count >= MISSED_COUNTED else f"{count - 1:,}"
                plural = "s" if count != 2 else ""
                detail += f"; {more} later occurrence{plural} skipped, as the platform skips them"
            self.engine.submit(
                spec.name,
                scheduled_at=due,
                trigger="cron",
                announce=lambda execution, said=detail: self._emit("fired", execution, said),
            )

    def next_runs(self) -> dict[str, float]:
        return dict(self._next)

    def stop(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self._next.clear()

    def _arm(self, spec: FunctionSpec, after: float) -> None:
        assert spec.schedule is not None
        try:
            due = next_fire(spec.schedule, after)
        except NeverFires:
            # The platform registers such a schedule and never fires it; `pingback check` says why.
            self._next.pop(spec.name, None)
            return
        self._next[spec.name] = due
        self._timers[spec.name] = self.clock.call_later(due - self.clock.now(), self._fire, spec, due)

    def _fire(self, spec: FunctionSpec, due: float) -> None:
        # Arm from now when the timer fired late (the machine slept, the wall clock jumped):
        # occurrences missed meanwhile are not replayed in a burst, as the platform would not.
        self._arm(spec, max(due, self.clock.now()))
        current = self.engine.functions.get(spec.name)
        if current is None:
            return
        if self._held(spec.name, due):
            return
        active = self.engine.unfinished_count(spec.name)
        if self.engine.slots.mode == "documented" and active >= current.concurrency:
            skipped = Execution(id="-" * 8, function=spec.name, type="cron", scheduled_at=due)
            self._emit(
                "skipped",
                skipped,
                f"{active} still active (concurrency {current.concurrency})",
            )
            return
        self.engine.submit(
            spec.name,
            scheduled_at=due,
            trigger="cron",
            announce=lambda execution: self._emit("fired", execution, None),
        )

    def _held(self, name: str, due: float) -> bool:
        """A paused or inactive job's occurrence does not fire: the platform's scheduler picks
        only active jobs (runpingback/pingback apps/platform/src/modules/scheduler/
        scheduler.service.ts:42). Said once per occurrence."""
        status = self.job_status(name) if self.job_status is not None else None
        if status in (None, "active"):
            return False
        skipped = Execution(id="-" * 8, function=name, type="cron", scheduled_at=due)
        hint = f"pingback resume {name}" if status == "paused" else "it is not in the last registration"
        self._emit("paused", skipped, f"not fired: the job is {status} ({hint})")
        return True

    def _emit(self, kind: str, execution: Execution, detail: str | None) -> None:
        if self.on_event is not None:
            self.on_event(Event(kind, execution, self.clock.now(), detail))
