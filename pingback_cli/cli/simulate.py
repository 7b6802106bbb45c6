"""`pingback simulate`: every cron occurrence in a window of time, optionally run on a virtual clock."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from pingback_cli.cli.common import (
    AppOption,
    ConcurrencyOption,
    JsonOption,
    PlanOption,
    boundary,
    read_instant,
    terminal,
)
from pingback_cli.errors import ExitCode, UsageError

FromOption = Annotated[
    str,
    typer.Option("--from", help="Start of the window (included), ISO-8601 UTC. Example: 2026-12-01T00:00Z"),
]
ToOption = Annotated[
    str, typer.Option("--to", help="End of the window (excluded), ISO-8601 UTC. Example: 2026-12-02T00:00Z")
]

SummaryOption = Annotated[
    bool,
    typer.Option(
        "--summary",
        help="Only the counts and the month against the plans: no line per occurrence (or, with "
        "--run, per tree). A year of an every-minute cron answers at once.",
    ),
]


def simulate(
    start: FromOption,
    end: ToOption,
    run: Annotated[
        bool,
        typer.Option(
            "--run",
            help="Run every occurrence on a virtual clock (handlers for real, in this process), "
            "record them in history, exit 1 if any failed.",
        ),
    ] = False,
    isolated: Annotated[
        bool, typer.Option("--isolated", help="With --run: run handlers in a worker subprocess.")
    ] = False,
    summary: SummaryOption = False,
    plan: PlanOption = None,
    concurrency: ConcurrencyOption = None,
    app: AppOption = None,
    json_output: JsonOption = False,
) -> None:
    """List every cron occurrence between --from and --to in order, with a count per cron and
    an estimate for a month; with --run, execute them all with platform time simulated.

    Example: pingback simulate --from 2026-12-01T00:00Z --to 2026-12-02T00:00Z --run
    """
    with boundary():
        from pingback_cli.testing import simulate as library

        window = _window(start, end)
        # Bound to the real stdout: the user's prints go to stderr while handlers run.
        out = terminal(bound=True)
        if not run:
            _forecast(out, app, window, plan=plan, summary=summary, json_output=json_output)
            return
        if json_output:
            result = library.simulate_run(app, *window, isolated=isolated, plan=plan, concurrency=concurrency)
            out.json(result.to_json())
        else:
            from pingback_cli.testing import report

            result = library.simulate_run(
                app,
                *window,
                isolated=isolated,
                plan=plan,
                concurrency=concurrency,
                on_tree=None if summary else lambda root: out.print(report.tree_line(root)),
            )
            out.print(report.simulation_summary(result))
        raise typer.Exit(int(ExitCode.OK if result.ok else ExitCode.EXECUTION_FAILED))


def _forecast(
    out: Any, app: str | None, window: tuple[float, float], *, plan: Any, summary: bool, json_output: bool
) -> None:
    """The occurrences in ``window`` (none listed with ``summary``) and the month's estimate."""
    from pingback_cli.testing import simulate as library

    forecast = library.forecast_project(app, *window, plan=plan, listing=not summary)
    if json_output:
        out.json(forecast.to_json())
        return
    from pingback_cli.testing import report

    if forecast.occurrences == []:
        out.print(report.no_occurrence())
    out.lines(report.occurrence_lines(forecast))
    out.print(report.forecast_summary(forecast))


def _window(start: str, end: str) -> tuple[float, float]:
    begin, finish = read_instant("--from", start), read_instant("--to", end)
    if finish <= begin:
        raise UsageError(f"--to {end} is not later than --from {start}", hint="give a window forward in time")
    return begin, finish
