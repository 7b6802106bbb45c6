"""The crons and tasks of a project: ``ls``'s and ``dev``'s function table, its JSON."""

from __future__ import annotations

import contextlib
from typing import Any

from rich.text import Text

from pingback_cli import times
from pingback_cli.layout import FitTable
from pingback_cli.models import FunctionSpec, iso
from pingback_cli.render.cells import (
    none_cell,
    plain_table,
)
from pingback_cli.terminal import glyph, printable


def function_table(
    specs: list[FunctionSpec],
    now: float,
    *,
    statuses: dict[str, str] | None = None,
    concurrency: str = "platform",
) -> FitTable:
    """Every cron and task: crons first, then tasks, each by name; stacked when narrow. A job
    that is not active (``statuses``: paused, inactive) says so under its name, and a paused
    cron has no next run. A timeout the platform reads as another number shows both; under the
    "platform" concurrency mode a function's concurrency is shown as not enforced
    (docs/parity.md#timeouts, #concurrency)."""
    statuses = statuses or {}
    table = plain_table()
    table.add_column("Name", no_wrap=True)
    table.add_column("Type", no_wrap=True)
    table.add_column("Schedule")
    table.add_column("Next run", no_wrap=True)
    table.add_column("Retries", justify="right", no_wrap=True)
    table.add_column("Timeout", no_wrap=True)
    table.add_column("Concurrency", justify="right", no_wrap=True)
    table.add_column("Source", overflow="fold")
    for spec in sorted(specs, key=lambda spec: (spec.type != "cron", spec.name)):
        state = statuses.get(spec.name, "active")
        if spec.schedule:
            schedule, next_run = _schedule_cells(spec.schedule, now)
            if state != "active":
                next_run = Text(f"{glyph('none')} ({state})", style="dim")
        else:
            schedule = next_run = none_cell()
        name = Text(printable(spec.name), style="bold")
        if state != "active":
            name.append(f"\n{state}", style="yellow")
        timeout = _timeout_cell(spec)
        table.add_row(
            name,
            Text(spec.type),
            schedule,
            next_run,
            Text(str(spec.retries)),
            timeout,
            _concurrency_cell(spec, concurrency),
            Text(printable(spec.source)) if spec.source else none_cell(),
        )
    return FitTable(table, title_columns=2)


def _timeout_cell(spec: FunctionSpec) -> Text:
    if not spec.timeout:
        return Text(times.duration(spec.timeout_seconds), style="dim")
    if spec.timeout_written is None:
        return Text(printable(spec.timeout))
    return Text.assemble(
        printable(spec.timeout),
        (f" {glyph('arrow')} {spec.timeout_seconds:g}s on the platform", "yellow"),
    )


def _concurrency_cell(spec: FunctionSpec, mode: str) -> Text:
    if mode == "documented":
        return Text(str(spec.concurrency))
    return Text.assemble(str(spec.concurrency), ("\nnot enforced", "dim"))


CONCURRENCY_NOTE = (
    "concurrency is not enforced by the platform: one pool of 20, crons overlap\n"
    'see docs/parity.md#concurrency; concurrency = "documented" enforces it'
)
"""Printed under the function table in the "platform" concurrency mode."""


def _schedule_cells(schedule: str, now: float) -> tuple[Text, Text]:
    """The schedule with its description (and its real rhythm when that is uneven), and the
    next run; the rhythm is ``project.cron.intervals``, the same one ``pingback check`` uses."""
    from pingback_cli.project.cron import NeverFires, describe, intervals, next_fire

    described = Text.assemble(
        printable(schedule), (" UTC", "dim"), "\n", (printable(describe(schedule)), "dim")
    )
    try:
        upcoming = next_fire(schedule, now)
    except NeverFires:
        return described, Text("never", style="dim")
    try:
        cadence = intervals(schedule, now)
    except NeverFires:
        cadence = None
    if cadence is not None and cadence.across is not None:
        described.append_text(Text.assemble("\n", (cadence.phrase(), "dim")))
    return described, Text.assemble(times.full(upcoming), "\n", (times.relative(upcoming - now), "dim"))


def function_json(spec: FunctionSpec, now: float) -> dict[str, Any]:
    """``spec.to_json()`` plus the schedule's ``description`` and ``nextRunAt``."""
    data = spec.to_json()
    data["description"] = None
    data["nextRunAt"] = None
    if spec.schedule:
        from pingback_cli.project.cron import NeverFires, describe, next_fire

        data["description"] = describe(spec.schedule)
        with contextlib.suppress(NeverFires):
            data["nextRunAt"] = iso(next_fire(spec.schedule, now))
    return data
