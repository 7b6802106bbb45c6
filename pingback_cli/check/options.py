"""Option findings: every rule of the one rule table (``project.rules``), and the schedule
rules that weigh a cron's interval against its timeout and concurrency."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pingback_cli.check.report import Finding, Severity, split_source
from pingback_cli.check.scan import Declaration
from pingback_cli.project.loader import RawFunction
from pingback_cli.project.rules import option_problems

OVERLAP_RULES: dict[str, str] = {
    "timeout-over-interval": "a timeout longer than the time between two fires (concurrency 1)",
    "runs-outpace-concurrency": "a cron fires more often than its runs can finish under its concurrency",
}

Add = Callable[[str, Severity, str, str], None]


def option_findings(raw: RawFunction, now: float) -> list[Finding]:
    """One finding per rule of the rule table that ``raw`` breaks, then the overlap rules."""
    data = raw.to_json()
    file, line = split_source(raw.source)
    found: list[Finding] = []

    def add(rule: str, severity: Severity, message: str, fix: str) -> None:
        found.append(
            Finding(rule, severity, file, line, f'{data["type"]} "{raw.name}": {message}', fix, raw.name)
        )

    problems = option_problems(data, now)
    for rule, problem in problems:
        add(rule.id, rule.severity, problem.message, problem.fix)
    broken = {rule.field for rule, _ in problems}
    if data["type"] == "cron" and not broken & {"schedule", "timeout", "concurrency"}:
        from pingback_cli.project.durations import parse_timeout

        seconds = float(parse_timeout(data["timeout"]))
        if seconds > 0:
            _check_overlap(data["schedule"], seconds, data["concurrency"], now, add)
    return found


def static_schedule_findings(declarations: Iterable[Declaration], now: float) -> list[Finding]:
    """The schedule rules of the rule table on each cron whose schedule is a literal, read
    without importing the project: what ``check`` can still say when it does not load."""
    found: list[Finding] = []
    for declaration in declarations:
        if declaration.kind != "cron" or declaration.schedule is None:
            continue
        data = {"name": declaration.name, "type": "cron", "schedule": declaration.schedule}
        for rule, problem in option_problems(data, now):
            if rule.field == "schedule":
                found.append(
                    Finding(
                        rule.id,
                        rule.severity,
                        declaration.file,
                        declaration.line,
                        f'cron "{declaration.name}": {problem.message}',
                        problem.fix,
                        declaration.name,
                    )
                )
    return found


def _check_overlap(schedule: str, seconds: float, concurrency: int, now: float, add: Add) -> None:
    """Compares the timeout with the shortest real gap between fires (``project.cron.intervals``)."""
    from pingback_cli import times
    from pingback_cli.project.cron import ScheduleError, intervals

    try:
        cadence = intervals(schedule, now)
    except ScheduleError:
        return
    gap = cadence.shortest
    if seconds <= gap * concurrency:
        return
    limit = times.duration(seconds)
    needed = -(-int(seconds) // int(gap))
    more = f"raise concurrency to {needed}" if needed <= 10 else "split the work into tasks"
    if concurrency == 1:
        add(
            "timeout-over-interval",
            "warning",
            f"it fires {cadence.phrase()}, but its timeout is {limit}: while a slow run is still going, "
            "the next fire is skipped (concurrency 1)",
            f'lower the timeout to at most "{int(gap)}s", fire less often, or {more} to let runs overlap',
        )
    else:
        add(
            "runs-outpace-concurrency",
            "warning",
            f"it fires {cadence.phrase()}, and each run may take up to {limit}, so more than "
            f"{concurrency} runs (its concurrency) can be due at once and the extra fires are skipped",
            f'{more}, lower the timeout to "{int(gap * concurrency)}s", or fire less often',
        )
