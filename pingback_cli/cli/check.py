"""`pingback check`: lint the project before deploying it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from pingback_cli.cli.common import AppOption, JsonOption, PlanOption, boundary, terminal

if TYPE_CHECKING:
    from rich.text import Text

    from pingback_cli.check.report import CheckReport

_SEVERITY_STYLES = {"error": "bold red", "warning": "yellow"}


def check(app: AppOption = None, plan: PlanOption = None, json_output: JsonOption = False) -> None:
    """Lint the project before deploying: schedules, options, names, handler signatures.

    Each finding has file:line, a severity (error or warning), a message and a fix.
    Finds schedules that are invalid or never fire, timeouts longer than a cron's
    interval, crons firing faster than their runs finish under their concurrency,
    options outside the platform's ranges, ctx.task("name") calls naming no function,
    duplicate names, handlers the SDK cannot call with a payload, timeouts the platform
    reads as another number of seconds ("5m" is 5 s), instances that do not share the
    project's secret, and, with a plan, what its limits would cut (retries, fan-out, jobs,
    executions per month).
    Exit codes: 0 no errors (warnings allowed); 1 errors found; 3 the project
    could not be loaded.

    Example: pingback check --json
    """
    with boundary():
        from pingback_cli.check.rules import check_project
        from pingback_cli.project.config import open_project

        out = terminal()
        with out.importing(enabled=not json_output):
            report = check_project(open_project(app), plan=plan)
        if json_output:
            out.json(report.to_json())
        else:
            out.print(_report(report))
        raise typer.Exit(int(report.exit_code))


def _report(report: CheckReport) -> Text:
    from rich.text import Text

    from pingback_cli.terminal import glyph, printable

    text = Text()
    for finding in report.findings:
        text.append(printable(finding.location), style="bold")
        text.append("  ")
        text.append(finding.severity, style=_SEVERITY_STYLES[finding.severity])
        text.append(f"  {finding.rule}\n", style="dim")
        text.append(f"  {printable(finding.message)}\n")
        text.append("  fix: ", style="green")
        text.append(f"{printable(finding.fix)}\n\n")
    if report.skipped:
        text.append(f"note: {printable(report.skipped)}\n", style="yellow")
    errors, warnings = len(report.errors), len(report.warnings)
    scope = f"({_plural(report.functions, 'function')} in {_plural(report.files, 'file')} checked)"
    if not report.findings:
        text.append(f"{glyph('success')} no problems found {scope}", style="green")
        return text
    counts = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    mark = glyph("failed" if errors else "interrupted")
    text.append(f"{mark} {counts} {scope}", style="red" if errors else "yellow")
    return text


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
