"""Renderables for ``pingback simulate``: the occurrence list, one line per run tree, summaries.

Like ``render``: each function returns a Rich object and never prints; user text goes
into ``Text`` spans only, never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from pingback_cli import times
from pingback_cli.models import Execution as Record
from pingback_cli.project.quota import MonthEstimate
from pingback_cli.render.cells import STATUS_STYLES, short_id, status_icon
from pingback_cli.terminal import glyph, printable
from pingback_cli.testing.simulate import Forecast, Simulation


def occurrence_lines(plan: Forecast) -> Iterator[str]:
    """``2026-12-01 00:15:00 UTC  digest``, one plain line per occurrence, in time order (for
    ``Terminal.lines``: a year of an every-minute cron is 525,600 of them)."""
    occurrences = plan.occurrences or []
    width = max((len(o.function) for o in occurrences), default=0)
    for occurrence in occurrences:
        yield f"{times.utc_full(occurrence.scheduled_at)}  {occurrence.function:<{width}}".rstrip()


def no_occurrence() -> Text:
    return Text("no cron occurs in this window", style="dim")


def forecast_summary(plan: Forecast) -> RenderableType:
    """Per cron: occurrences in the window and its fires in a month; then the month's attempts
    against each plan (the estimate ``check`` makes), with what the count includes."""
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("Cron")
    table.add_column("In window", justify="right")
    table.add_column("Fires a month", justify="right")
    for name, count in sorted(plan.counts.items()):
        table.add_row(Text(printable(name)), f"{count:,}", f"{plan.monthly[name]:,}")
    total = sum(plan.counts.values())
    note = Text(
        f"{total:,} occurrence{'' if total == 1 else 's'} from {times.utc_full(plan.start)} "
        f"to {times.utc_full(plan.end)}; the crons fire {plan.monthly_fires:,} times in the 30 days "
        f"from {times.utc_full(plan.start)}"
    )
    return Group(table, note, *month_lines(plan.months))


BASIS = {
    "written": "each fire with the ctx.task() calls written in its handler, as the plan caps them; "
    "retries not counted",
    "measured": "each fire with the attempts its runs made in this window, retries and fan-out included, "
    "as the plan caps them",
}


def month_lines(months: list[MonthEstimate]) -> list[Text]:
    """``Plans, every attempt counted (...): free 1,000 a month: exceeded (about 2,881) · ...``."""
    if not months:
        return []
    line = Text(f"Plans, every attempt counted ({BASIS[months[0].basis]}): ")
    for index, month in enumerate(months):
        if month.plan is None:
            continue
        if index:
            line.append(f" {glyph('dot')} ")
        size = f"{'at least' if month.at_least else 'about'} {month.total:,}"
        style = {"fits": "green", "exceeded": "red"}.get(month.verdict or "", "yellow")
        line.append(
            f"{month.plan.name} {month.plan.executions_per_month:,} a month: {month.verdict} ({size})", style
        )
    parts = [line]
    if any(month.verdict == "unknown" for month in months):
        parts.append(
            Text(
                "unknown: a ctx.task() in a loop (or a child that fans out again) may dispatch more than "
                "the count; `pingback simulate ... --run` measures what the handlers really do",
                style="dim",
            )
        )
    return parts


def tree_line(root: Record) -> Text:
    """``✓ 2026-12-01 00:15:00 UTC  digest  4 executions  1a2b3c4d`` (failures say how many)."""
    tree = root.walk()
    failed = [record for record in tree if record.status != "success"]
    icon, style = status_icon("failed" if failed else "success")
    line = Text()
    line.append(icon, style=style)
    line.append(f" {times.utc_full(root.scheduled_at)}  ")
    line.append(printable(root.function), style="bold")
    line.append(f"  {len(tree):,} execution{'' if len(tree) == 1 else 's'}")
    if failed:
        line.append(
            f", {len(failed)} failed: {printable((failed[0].error or '?').splitlines()[0])}", style="red"
        )
    line.append(f"  {short_id(root.id)}", style="dim")
    return line


def simulation_summary(result: Simulation) -> RenderableType:
    """Executions by function and status, the failures with their ids, the total."""
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    statuses = sorted({status for counts in result.by_function.values() for status in counts})
    table.add_column("Function")
    for status in statuses:
        table.add_column(status, justify="right", style=STATUS_STYLES.get(status, ""))
    for name, counts in result.by_function.items():
        table.add_row(Text(printable(name)), *(f"{counts.get(status, 0):,}" for status in statuses))
    parts: list[RenderableType] = [table]
    for record in result.failures[:20]:
        reason = printable((record.error or record.status).splitlines()[0])
        parts.append(Text(f"{status_icon('failed')[0]} {record.function} {record.id}  {reason}", style="red"))
    if len(result.failures) > 20:
        more = len(result.failures) - 20
        parts.append(Text(f"{glyph('more')} {more:,} more failures (pingback runs --status failed)"))
    dot = glyph("dot")
    total = Text(f"{result.total:,} executions {dot} {len(result.roots):,} runs")
    if result.failures:
        total.append(f" {dot} {len(result.failures):,} failed", style="red")
    if result.history:
        total.append(f" {dot} recorded in {result.history}", style="dim")
    parts.append(total)
    parts.extend(month_lines(result.forecast.months))
    return Group(*parts)
