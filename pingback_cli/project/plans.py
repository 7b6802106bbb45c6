"""The platform's plans and their limits: the one table of plan numbers, and how a project picks one.

Read on 2026-11-29 from the public source of the running platform:

- ``runpingback/worker`` ``internal/limits/limits.go`` (commit 8eb1b57, lines 17-21): what the Go
  worker enforces on every execution: ``FanOutPerRun`` (``CapFanOut`` keeps the first N tasks and
  drops the rest without a word), ``MaxRetries`` (``CapRetries``) and ``ExecutionsPerMonth``
  (``CanExecute``: every attempt counts).
- ``runpingback/pingback`` ``apps/platform/src/modules/subscription/plan-limits.ts`` (commit
  f2730ab, lines 15-49): the same three numbers, and ``jobs`` per project (free 5, pro 50, team
  unlimited), which registration enforces with a 403 (``registration.service.ts:47-52``).

A project picks a plan with ``plan`` in ``[tool.pingback]``, ``--plan`` on ``run`` and ``dev``, or
``PINGBACK_PLAN``; unset, nothing is capped (see ``docs/parity.md#plans``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pingback_cli.errors import ProjectError, UsageError
from pingback_cli.record import FrozenRecord

PLAN_ENV = "PINGBACK_PLAN"


class Plan(FrozenRecord):
    """One plan's limits, as the platform applies them."""

    __slots__ = _fields = ("name", "fan_out", "retries", "executions_per_month", "jobs")

    name: str
    fan_out: int
    """Tasks one successful attempt may dispatch; the rest are dropped (first N kept)."""
    retries: int
    """The most retries an execution gets, whatever the function declares."""
    executions_per_month: int
    """Attempts per calendar month; past it every execution fails at once."""
    jobs: int | None
    """Active functions per project; None for no limit."""

    def __init__(
        self, name: str, fan_out: int, retries: int, executions_per_month: int, jobs: int | None
    ) -> None:
        self._set(name, fan_out, retries, executions_per_month, jobs)

    def cap_retries(self, requested: int) -> int:
        """``limits.CapRetries``: the retries an execution of a function declaring ``requested`` gets."""
        return min(requested, self.retries)

    def cap_fan_out(self, requested: int) -> int:
        """``limits.CapFanOut``: how many of ``requested`` tasks are dispatched."""
        return min(requested, self.fan_out)


PLANS: dict[str, Plan] = {
    "free": Plan("free", fan_out=0, retries=1, executions_per_month=1_000, jobs=5),
    "pro": Plan("pro", fan_out=10, retries=5, executions_per_month=50_000, jobs=50),
    "team": Plan("team", fan_out=100, retries=10, executions_per_month=500_000, jobs=None),
}
"""Every plan, by the name the platform stores in ``users.plan``."""


def plan_named(name: str, *, origin: str = "--plan") -> Plan:
    """The plan called ``name``; otherwise a UsageError (ProjectError when ``origin`` is the
    project's settings) naming ``origin`` and the choices."""
    plan = PLANS.get(name.strip().lower()) if isinstance(name, str) else None
    if plan is None:
        error = ProjectError if origin.startswith("[tool.pingback]") else UsageError
        raise error(
            f"{origin} is {name!r}, which is not a plan of the platform",
            hint=f"use one of {', '.join(PLANS)}, or leave it unset to cap nothing",
        )
    return plan


def choose_plan(
    option: str | None, settings: Mapping[str, Any], environ: Mapping[str, str] | None = None
) -> Plan | None:
    """The plan a run uses: ``--plan``, else ``PINGBACK_PLAN``, else ``[tool.pingback] plan``."""
    environ = os.environ if environ is None else environ
    if option:
        return plan_named(option)
    if environ.get(PLAN_ENV):
        return plan_named(environ[PLAN_ENV], origin=PLAN_ENV)
    if settings.get("plan") is not None:
        return plan_named(settings["plan"], origin="[tool.pingback] plan")
    return None


def plans_that_cut(*, retries: int = 0, fan_out: int = 0) -> list[tuple[Plan, str]]:
    """Each plan that would cut a function declaring ``retries``, or an attempt dispatching
    ``fan_out`` tasks, with what it cuts ("retries 3 to 1", "fan-out 12 to 10")."""
    found: list[tuple[Plan, str]] = []
    for plan in PLANS.values():
        cuts = []
        if retries > plan.retries:
            cuts.append(f"retries {retries} to {plan.retries}")
        if fan_out > plan.fan_out:
            cuts.append(f"fan-out {fan_out} to {plan.fan_out}")
        if cuts:
            found.append((plan, ", ".join(cuts)))
    return found
