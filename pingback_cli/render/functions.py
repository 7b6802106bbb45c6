"""The crons and tasks of a project: ``ls``'s and ``dev``'s function table, its JSON."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from pingback_cli import times
from pingback_cli.models import FunctionSpec, iso
from pingback_cli.render.grid import Cell, Column, Grid, Span, cell
from pingback_cli.terminal import glyph, printable

if TYPE_CHECKING:
    from pingback_cli.layout import FitTable

COLUMNS = (
    Column("Name", no_wrap=True),
    Column("Type", no_wrap=True),
    Column("Schedule"),
    Column("Next run", no_wrap=True),
    Column("Retries", justify="right", no_wrap=True),
    Column("Timeout", no_wrap=True),
    Column("Concurrency", justify="right", no_wrap=True),
    Column("Source", overflow="fold"),
)
"""The columns under the "documented" concurrency mode; :data:`NOT_ENFORCED` otherwise."""

NOT_ENFORCED = (*COLUMNS[:6], Column("Concurrency*", justify="right", no_wrap=True), COLUMNS[7])
"""The columns under the "platform" mode: the asterisk points at :data:`CONCURRENCY_NOTE`,
printed once under the table (a "not enforced" under every row was noise)."""


def function_table(
    specs: list[FunctionSpec],
    now: float,
    *,
    statuses: dict[str, str] | None = None,
    concurrency: str = "platform",
) -> FitTable:
    """``function_grid`` as Rich shows it (a table, or cards when narrow)."""
    return function_grid(specs, now, statuses=statuses, concurrency=concurrency).rich()


def function_grid(
    specs: list[FunctionSpec],
    now: float,
    *,
    statuses: dict[str, str] | None = None,
    concurrency: str = "platform",
) -> Grid:
    """Every cron and task in :func:`listing_order`. A job that is not active (``statuses``:
    paused, inactive) says so under its name, and a paused cron has no next run. A timeout the
    platform reads as another number shows both (docs/parity.md#timeouts). Under the
    "platform" concurrency mode the Concurrency header has an asterisk, explained once by
    :data:`CONCURRENCY_NOTE` under the table (docs/parity.md#concurrency). Rich-free:
    ``Terminal.grid`` prints it."""
    statuses = statuses or {}
    rows = []
    for spec in listing_order(specs):
        state = statuses.get(spec.name, "active")
        if spec.schedule:
            schedule, next_run = _schedule_cells(spec.schedule, now)
            if state != "active":
                next_run = cell(f"{glyph('none')} ({state})", "dim")
        else:
            schedule = next_run = _none()
        name = Cell(
            ((printable(spec.name), ""),) + (((f"\n{state}", "yellow"),) if state != "active" else ()), "bold"
        )
        rows.append(
            (
                name,
                cell(spec.type),
                schedule,
                next_run,
                cell(str(spec.retries)),
                _timeout_cell(spec),
                cell(str(spec.concurrency)),
                cell(printable(spec.source)) if spec.source else _none(),
            )
        )
    return Grid(COLUMNS if concurrency == "documented" else NOT_ENFORCED, rows, title_columns=2)


def _none() -> Cell:
    """The dash of an empty cell (``cells.none_cell``)."""
    return cell(glyph("none"), "dim")


def _timeout_cell(spec: FunctionSpec) -> Cell:
    if not spec.timeout:
        return cell(times.duration(spec.timeout_seconds), "dim")
    if spec.timeout_written is None:
        return cell(printable(spec.timeout))
    return Cell(
        (
            (printable(spec.timeout), ""),
            (f" {glyph('arrow')} {spec.timeout_seconds:g}s on the platform", "yellow"),
        )
    )


def listing_order(specs: list[FunctionSpec]) -> list[FunctionSpec]:
    """Crons first, then tasks, each by name: the order of ``ls``'s table and of its JSON."""
    return sorted(specs, key=lambda spec: (spec.type != "cron", spec.name))


CONCURRENCY_NOTE = (
    "* concurrency is not enforced by the platform: one pool of 20, crons overlap\n"
    'see docs/parity.md#concurrency; concurrency = "documented" enforces it'
)
"""Printed under the function table in the "platform" concurrency mode."""


def _schedule_cells(schedule: str, now: float) -> tuple[Cell, Cell]:
    """The schedule with its description (and its real rhythm when that is uneven), and the
    next run; the rhythm is ``project.cron.intervals``, the same one ``pingback check`` uses."""
    from pingback_cli.project.cron import NeverFires, describe, intervals, next_fire

    described: tuple[Span, ...] = (
        (printable(schedule), ""),
        (" UTC", "dim"),
        ("\n", ""),
        (printable(describe(schedule)), "dim"),
    )
    try:
        upcoming = next_fire(schedule, now)
    except NeverFires:
        return Cell(described), cell("never", "dim")
    try:
        cadence = intervals(schedule, now)
    except NeverFires:
        cadence = None
    if cadence is not None and cadence.across is not None:
        described += (("\n", ""), (cadence.phrase(), "dim"))
    return Cell(described), Cell(
        ((times.full(upcoming), ""), ("\n", ""), (times.relative(upcoming - now), "dim"))
    )


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
