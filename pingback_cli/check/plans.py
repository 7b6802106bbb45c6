"""Plan findings: what the chosen plan (``project.plans``) would cut or refuse in production.

Run only when a plan is set (``[tool.pingback] plan``, ``PINGBACK_PLAN`` or ``check --plan``).
"""

from __future__ import annotations

from pingback_cli.check.report import Finding, split_source
from pingback_cli.check.scan import StaticScan
from pingback_cli.project.loader import RawFunction
from pingback_cli.project.plans import Plan
from pingback_cli.project.quota import MonthEstimate, monthly_fires, written_estimate, written_per_fire

PLAN_RULES: dict[str, str] = {
    "plan-retries": "retries past what the plan runs (free 1, pro 5, team 10)",
    "plan-fan-out": "ctx.task() calls past what the plan dispatches per execution (free 0, pro 10, team 100)",
    "plan-jobs": "more functions than the plan keeps active per project (free 5, pro 50)",
    "plan-executions": "crons that fire more often per month than the plan's execution quota",
}


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


def written_month(
    plan: Plan | None, crons: list[tuple[str, str]], scan: StaticScan, start: float
) -> MonthEstimate:
    """The month of ``crons`` ((name, schedule) pairs) from ``start`` under ``plan``, with the
    fan-out their handlers' source writes (``project.quota``: shared with ``simulate``)."""
    fires = {name: monthly_fires(schedule, start) for name, schedule in crons}
    per_fire: dict[str, tuple[int, bool]] = {}
    for name, _ in crons:
        sites, in_loop = scan.fan_out_sites(name)
        children = {r.name for r in scan.references if r.via == "task" and r.within == name}
        deeper = any(scan.fan_out_sites(child)[0] for child in children)
        per_fire[name] = written_per_fire(sites, in_loop, deeper, plan)
    return written_estimate(fires, per_fire, plan)


def _executions(plan: Plan, raws: list[RawFunction], scan: StaticScan, now: float) -> list[Finding]:
    crons = [
        (raw.name, raw.definition["schedule"])
        for raw in raws
        if raw.definition.get("type") == "cron" and isinstance(raw.definition.get("schedule"), str)
    ]
    month = written_month(plan, crons, scan, now)
    biggest = month.biggest()
    if month.verdict != "exceeded" or biggest is None:
        return []
    total, count = month.total, biggest.attempts
    raw = next(raw for raw in raws if raw.name == biggest.name)
    file, line = split_source(raw.source)
    return [
        Finding(
            "plan-executions",
            "error",
            file,
            line,
            f"the crons make {'at least' if month.at_least else 'about'} {total:,} executions in 30 "
            f"days (with the fan-out written in their handlers; {_label(raw)} alone {count:,}), past "
            f"the {plan.name} plan's {plan.executions_per_month:,} a month: after that every execution fails "
            '("Monthly execution limit reached", see docs/parity.md#plans)',
            "fire less often, or choose a plan with a larger quota",
            raw.name,
        )
    ]
