"""A month of a project's crons against a plan's execution quota: the one estimate that
``pingback check`` (rule ``plan-executions``) and ``pingback simulate`` share.

The platform counts every attempt it dispatches: ``Process`` calls ``IncrementExecutions``
before each dispatch, and refuses once ``CanExecute`` says the month's count reached
``ExecutionsPerMonth`` (runpingback/worker ``internal/processor/processor.go`` at 2b41761,
lines 101-113; ``internal/limits/limits.go:22-28``). A fan-out child and a retry are dispatched like a
root, so each counts. A month here is the 30 days from a start; fires are counted exactly
(``project.cron.count_fires``). How many attempts one fire makes is either written (the
``ctx.task()`` calls in the cron's handler, capped by the plan: a lower bound when one sits in
a loop) or measured (the trees ``simulate --run`` ran). Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pingback_cli.project.plans import Plan
from pingback_cli.record import FrozenRecord

MONTH_SECONDS = 30 * 86_400
"""The month an estimate is for: 30 days from its start."""
_EDGE = 0.001
"""Cron fires are whole seconds; counting from a hair before the start includes one at it."""

Verdict = Literal["fits", "exceeded", "unknown"]
Basis = Literal["written", "measured"]


def monthly_fires(schedule: str, start: float) -> int:
    """How many times ``schedule`` fires in the 30 days from ``start`` (unix seconds), ``start``
    included; 0 for a schedule the platform accepts but never fires, or cannot read."""
    from pingback_cli.project.cron import ScheduleError, count_fires

    try:
        return count_fires(schedule, start - _EDGE, start + MONTH_SECONDS)
    except ScheduleError:
        return 0


class CronMonth(FrozenRecord):
    """One cron's month: its fires and the attempts each makes (the cron's own and its
    fan-out's); ``at_least``: ``per_fire`` is a lower bound."""

    __slots__ = _fields = ("name", "fires", "per_fire", "at_least")

    name: str
    fires: int
    per_fire: float
    at_least: bool

    def __init__(self, name: str, fires: int, per_fire: float, at_least: bool = False) -> None:
        self._set(name, fires, per_fire, at_least)

    @property
    def attempts(self) -> int:
        return round(self.fires * self.per_fire)


class MonthEstimate(FrozenRecord):
    """The project's crons in a month under ``plan`` (None: no plan, nothing capped)."""

    __slots__ = _fields = ("plan", "crons", "basis")

    plan: Plan | None
    crons: tuple[CronMonth, ...]
    basis: Basis

    def __init__(self, plan: Plan | None, crons: tuple[CronMonth, ...], basis: Basis) -> None:
        self._set(plan, crons, basis)

    @property
    def total(self) -> int:
        return sum(cron.attempts for cron in self.crons)

    @property
    def at_least(self) -> bool:
        return any(cron.at_least for cron in self.crons)

    @property
    def verdict(self) -> Verdict | None:
        """ "exceeded" past the quota, "fits" within it, "unknown" when only a lower bound is
        within it; None without a plan."""
        if self.plan is None:
            return None
        if self.total > self.plan.executions_per_month:
            return "exceeded"
        return "unknown" if self.at_least else "fits"

    def biggest(self) -> CronMonth | None:
        return max(self.crons, key=lambda cron: cron.attempts, default=None)

    def to_json(self) -> dict[str, object]:
        return {
            "plan": self.plan.name if self.plan is not None else None,
            "executionsPerMonth": self.plan.executions_per_month if self.plan is not None else None,
            "attempts": self.total,
            "atLeast": self.at_least,
            "verdict": self.verdict,
            "basis": self.basis,
            "crons": {
                c.name: {"fires": c.fires, "perFire": c.per_fire, "atLeast": c.at_least} for c in self.crons
            },
        }


def written_per_fire(
    sites: int, in_loop: bool, children_fan_out: bool, plan: Plan | None
) -> tuple[int, bool]:
    """(attempts one fire makes, whether that is a lower bound) from the cron's handler source:
    itself plus ``sites`` ``ctx.task()`` calls, as many as ``plan`` dispatches
    (``limits.CapFanOut``). A call in a loop may dispatch more, and a child that fans out
    further adds its own: both make the count a lower bound."""
    dispatched = sites if plan is None else plan.cap_fan_out(sites)
    at_least = (in_loop and (plan is None or sites < plan.fan_out)) or (children_fan_out and dispatched > 0)
    return 1 + dispatched, at_least


def written_estimate(
    fires: Mapping[str, int], per_fire: Mapping[str, tuple[int, bool]], plan: Plan | None
) -> MonthEstimate:
    """The month from each cron's ``fires`` and its written ``per_fire`` (``written_per_fire``)."""
    crons = tuple(CronMonth(name, count, *per_fire.get(name, (1, False))) for name, count in fires.items())
    return MonthEstimate(plan, crons, "written")


def measured_estimate(
    fires: Mapping[str, int], attempts_per_fire: Mapping[str, float], plan: Plan | None
) -> MonthEstimate:
    """The month from each cron's ``fires`` and the attempts its runs made per fire; a cron
    that fires in the month but did not run in the window counts 1 a fire (a lower bound)."""
    crons = tuple(
        CronMonth(name, count, attempts_per_fire.get(name, 1.0), count > 0 and name not in attempts_per_fire)
        for name, count in fires.items()
    )
    return MonthEstimate(plan, crons, "measured")
