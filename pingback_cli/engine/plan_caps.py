"""A plan's caps on one run, as production applies them, and what a plan would have cut.

With a plan set, retries and fan-out are capped exactly as the Go worker caps them
(``runpingback/worker`` ``internal/processor/processor.go:135`` ``limits.CapRetries``, and
``processor.go:191-197`` ``limits.CapFanOut``: the first N tasks kept, the rest dropped). Without
one, nothing is capped, and the largest retries and fan-out seen are kept for one closing line
naming which plans would have cut what (``docs/parity.md#plans``).
"""

from __future__ import annotations

from typing import Any

from pingback_cli.models import FunctionSpec
from pingback_cli.project.plans import Plan, plans_that_cut
from pingback_cli.record import Record


class PlanCaps(Record):
    __slots__ = _fields = ("plan", "most_retries", "most_tasks")

    plan: Plan | None
    most_retries: int
    """The most retries one execution used (the attempt numbers past 1)."""
    most_tasks: int
    """The most tasks one successful attempt requested."""

    def __init__(self, plan: Plan | None = None, most_retries: int = 0, most_tasks: int = 0) -> None:
        self.plan = plan
        self.most_retries = most_retries
        self.most_tasks = most_tasks

    def retries(self, spec: FunctionSpec) -> int:
        """The retries an execution of ``spec`` gets."""
        return spec.retries if self.plan is None else self.plan.cap_retries(spec.retries)

    def retrying(self, failed_attempt: int) -> None:
        """Attempt ``failed_attempt`` failed and is retried."""
        self.most_retries = max(self.most_retries, failed_attempt)

    def retries_cut(self, spec: FunctionSpec) -> str | None:
        """The notice for an execution that ran out of the plan's retries before its own."""
        if self.plan is None or spec.retries <= self.plan.retries:
            return None
        return (
            f"retries={spec.retries}, but the {self.plan.name} plan runs at most {self.plan.retries} "
            f"retr{'y' if self.plan.retries == 1 else 'ies'}: {self.plan.retries + 1} attempts in all "
            "(see docs/parity.md#plans)"
        )

    def fan_out(self, tasks: list[Any]) -> tuple[list[Any], str | None]:
        """The tasks dispatched from ``tasks``, and the notice when some were dropped."""
        self.most_tasks = max(self.most_tasks, len(tasks))
        if self.plan is None:
            return tasks, None
        kept = tasks[: self.plan.cap_fan_out(len(tasks))]
        if len(kept) == len(tasks):
            return tasks, None
        dropped = len(tasks) - len(kept)
        return kept, (
            f"{len(tasks)} tasks requested, {len(kept)} dispatched, {dropped} dropped by the "
            f"{self.plan.name} plan's limit of {self.plan.fan_out} (see docs/parity.md#plans)"
        )

    SAID_ONCE = "no plan set: what plans would cut"
    """The key ``summary`` is said once per project under (``state.first_time``), whatever its
    figures: a run with other figures is no reason to say it again."""

    def summary(self) -> str | None:
        """Without a plan: which plans would cut this run's retries or fan-out (issue 11: the
        designed default, so the emulator says it, once per project: ``state.first_time``)."""
        if self.plan is not None:
            return None
        cuts = plans_that_cut(retries=self.most_retries, fan_out=self.most_tasks)
        if not cuts:
            return None
        named = "; ".join(f"the {plan.name} plan would cut {what}" for plan, what in cuts)
        return (
            f"no plan set, so nothing was capped; in production {named}\n"
            "  (said once per project; --plan or [tool.pingback] plan applies a plan: docs/parity.md#plans)"
        )
