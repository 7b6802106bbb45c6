"""Plan findings: what the chosen plan (``project.plans``) would cut or refuse in production.

Run only when a plan is set (``[tool.pingback] plan``, ``PINGBACK_PLAN`` or ``check --plan``).
"""

from __future__ import annotations

from pingback_cli.check.report import Finding, split_source
from pingback_cli.check.scan import StaticScan
from pingback_cli.project.loader import RawFunction
from pingback_cli.project.plans import Plan

PLAN_RULES: dict[str, str] = {
    "plan-retries": "retries past what the plan runs (free 1, pro 5, team 10)",
    "plan-fan-out": "ctx.task() calls past what the plan dispatches per execution (free 0, pro 10, team 100)",
    "plan-jobs": "more functions than the plan keeps active per project (free 5, pro 50)",
    "plan-executions": "crons that fire more often per month than the plan's execution quota",
}

MONTH_SECONDS = 30 * 24 * 3600
_SAMPLE = 2000
"""Fire times read per cron; a cron firing more often than that per month is extrapolated."""


def plan_findings(plan: Plan, raws: list[RawFunction], scan: StaticScan, now: float) -> list[Finding]:
    """Every plan-* finding for ``raws`` under ``plan``."""
    found: list[Finding] = []
    for raw in raws:
        found.extend(_retries(plan, raw))
        found.extend(_fan_out(plan, raw, scan))
    found.extend(_jobs(plan, raws))
    found.extend(_executions(plan, raws, scan, now))
    return found


def _label(raw: RawFunction) -> str:
    return f'{raw.definition.get("type")} "{raw.name}"'


def _retries(plan: Plan, raw: RawFunction) -> list[Finding]:
    retries = raw.to_json()["retries"]
    if not isinstance(retries, int) or retries <= plan.retries:
        return []
    file, line = split_source(raw.source)
    return [
        Finding(
            "plan-retries",
            "error",
            file,
            line,
            f"{_label(raw)}: retries={retries}, but the {plan.name} plan runs at most {plan.retries} "
            f"retr{'y' if plan.retries == 1 else 'ies'} ({plan.retries + 1} attempts in all; "
            "limits.CapRetries, see docs/parity.md#plans)",
            f"set retries={plan.retries}, or choose a plan that runs {retries} retries",
            raw.name,
        )
    ]


def _fan_out(plan: Plan, raw: RawFunction, scan: StaticScan) -> list[Finding]:
    sites, in_loop = scan.fan_out_sites(raw.name)
    if not sites or (sites <= plan.fan_out and not in_loop):
        return []
    first = next(r for r in scan.references if r.via == "task" and r.within == raw.name)
    if plan.fan_out == 0:
        message = f"the {plan.name} plan dispatches no fan-out tasks: every ctx.task() is dropped"
        severity = "error"
    elif sites > plan.fan_out:
        message = (
            f"{sites} ctx.task() calls, but the {plan.name} plan dispatches only the first {plan.fan_out}"
        )
        severity = "error"
    else:
        message = (
            f"ctx.task() in a loop: past {plan.fan_out} tasks per execution the {plan.name} plan "
            "drops the rest without a word"
        )
        severity = "warning"
    return [
        Finding(
            "plan-fan-out",
            severity,  # type: ignore[arg-type]
            first.file,
            first.line,
            f"{_label(raw)}: {message} (limits.CapFanOut, see docs/parity.md#plans)",
            "dispatch fewer tasks per execution (batch payloads), or choose a larger plan",
            raw.name,
        )
    ]


def _jobs(plan: Plan, raws: list[RawFunction]) -> list[Finding]:
    if plan.jobs is None or len(raws) <= plan.jobs:
        return []
    ordered = sorted(raws, key=_position)
    past = ordered[plan.jobs]
    file, line = split_source(past.source)
    return [
        Finding(
            "plan-jobs",
            "error",
            file,
            line,
            f"the project has {len(raws)} functions, but the {plan.name} plan keeps at most {plan.jobs} "
            f"per project: registering {_label(past)} and after answers 403 (see docs/parity.md#plans)",
            "merge functions, or choose a plan with more jobs",
            past.name,
        )
    ]


def _position(raw: RawFunction) -> tuple[str, int]:
    file, line = split_source(raw.source)
    return file or "", line or 0


def monthly_fires(schedule: str, now: float) -> int:
    """How many times ``schedule`` fires in the 30 days after ``now`` (extrapolated past 2,000)."""
    from pingback_cli.project.cron import ScheduleError, next_fires

    try:
        fires = next_fires(schedule, now, _SAMPLE)
    except ScheduleError:
        return 0
    inside = [t for t in fires if t <= now + MONTH_SECONDS]
    if len(inside) < len(fires):
        return len(inside)
    return round((len(fires) - 1) * MONTH_SECONDS / max(fires[-1] - fires[0], 1e-9))


def _executions(plan: Plan, raws: list[RawFunction], scan: StaticScan, now: float) -> list[Finding]:
    crons = [
        raw
        for raw in raws
        if raw.definition.get("type") == "cron" and isinstance(raw.definition.get("schedule"), str)
    ]
    estimates = []
    for raw in crons:
        sites, _ = scan.fan_out_sites(raw.name)
        per_fire = 1 + min(sites, plan.fan_out)
        estimates.append((monthly_fires(raw.definition["schedule"], now) * per_fire, raw))
    total = sum(count for count, _ in estimates)
    if total <= plan.executions_per_month:
        return []
    count, biggest = max(estimates, key=lambda pair: pair[0])
    file, line = split_source(biggest.source)
    return [
        Finding(
            "plan-executions",
            "error",
            file,
            line,
            f"the crons make about {total:,} executions in 30 days (with the fan-out written in their "
            f"handlers; {_label(biggest)} alone {count:,}), past the {plan.name} plan's "
            f"{plan.executions_per_month:,} a month: after that every execution fails "
            '("Monthly execution limit reached", see docs/parity.md#plans)',
            "fire less often, or choose a plan with a larger quota",
            biggest.name,
        )
    ]
