"""`pingback runs` and `pingback show ID`: what ran, from the history file."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from pingback_cli.cli.common import (
    ApiKeyOption,
    AppOption,
    JsonOption,
    PlatformUrlOption,
    boundary,
    looking_at,
    terminal,
)
from pingback_cli.cli.completion import complete_execution_id

STATUSES = ("pending", "running", "success", "failed", "interrupted", "cancelled")


def _complete_status(incomplete: str) -> list[str]:
    return [status for status in STATUSES if status.startswith(incomplete)]


def _history_exists(app: str | None) -> bool:
    """Whether the project has a history file; ProjectError when this is no project at all."""
    from pingback_cli.history.store import history_path
    from pingback_cli.project.config import configure

    config = configure(app)
    if history_path(config.root).is_file():
        return True
    from pingback_cli.project.discovery import ensure_project

    ensure_project(config)
    return False


def _open_store(app: str | None):  # type: ignore[no-untyped-def]
    from pingback_cli.history.store import Store, history_path
    from pingback_cli.project.config import configure

    return Store(history_path(configure(app).root), readonly=True)


def runs(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=1000, help="How many to show.")] = 20,
    function: Annotated[
        str | None, typer.Option("--function", "-f", help="Only this function's executions.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="Only this status: success, failed, interrupted, ...",
            autocompletion=_complete_status,
        ),
    ] = None,
    trigger: Annotated[
        str | None,
        typer.Option(
            "--trigger",
            help="Only runs started this way: cron, trigger, run, replay or simulate.",
        ),
    ] = None,
    app: AppOption = None,
    platform_url: PlatformUrlOption = None,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """List recent root executions, newest first, with status, duration and child counts.

    With --platform-url: that platform's executions, paged through /api/v1/jobs/{id}/executions.

    --status pending lists what waits to start (delayed, queued, retries in backoff) at any
    depth, soonest due first. --status failed also lists runs whose children failed.

    Newest first by the time shown (started, else due); runs on simulate --run's clock by
    when they were recorded, and executions cancelled before they started by when they were
    cancelled. --trigger simulate lists only simulated runs.

    Example: pingback runs --limit 5 --status failed
    """
    with boundary():
        from pingback_cli import controls

        remote = controls.platform_given(platform_url)
        _check_filters(status, trigger, remote=remote)
        out = terminal()
        if remote:
            found, target = controls.runs(
                app, platform_url, api_key, limit=limit, function=function, status=status
            )
            total = len(found)
            if not json_output:
                looking_at(out, target)
        else:
            found, total = _list_runs(app, limit, function, status, trigger)
        _show_runs(out, found, total, function, status, json_output=json_output)


def _check_filters(status: str | None, trigger: str | None, *, remote: bool) -> None:
    """Raises UsageError for an unknown status, a trigger history does not record (or one with
    --status pending), or --trigger with --platform-url (the platform does not record it)."""
    from pingback_cli.errors import UsageError

    if status is not None and status not in STATUSES:
        raise UsageError(f'unknown status "{status}"', hint=f"use one of: {', '.join(STATUSES)}")
    _check_trigger(trigger, status)
    if remote and trigger is not None:
        raise UsageError(
            "--trigger is local only: the platform's executions do not record what started them",
            hint="leave out --trigger with --platform-url",
        )


def _show_runs(
    out: Any, found: list[Any], total: int, function: str | None, status: str | None, *, json_output: bool
) -> None:
    """The runs found: JSON, why there are none, the pending table or the runs table."""
    if json_output:
        out.json([item.to_json() for item in found])
        return
    if not found:
        out.print(_nothing_found(total, function, status))
    elif status == "pending":
        import time

        from pingback_cli.render.pending import pending_table

        out.print(pending_table(found, time.time()))
    else:
        from pingback_cli.render.runs import runs_table

        out.print(runs_table(found))


def _check_trigger(trigger: str | None, status: str | None) -> None:
    """Raises UsageError for a trigger history does not record on roots, or with --status
    pending (a list of executions at any depth, not of runs)."""
    from pingback_cli.errors import UsageError
    from pingback_cli.history.queries import TRIGGERS

    roots = [name for name in TRIGGERS if name != "fanout"]
    if trigger is not None and trigger not in roots:
        raise UsageError(f'unknown trigger "{trigger}"', hint=f"use one of: {', '.join(roots)}")
    if trigger is not None and status == "pending":
        raise UsageError("--trigger lists runs; --status pending lists waiting executions at any depth")


def _list_runs(
    app: str | None, limit: int, function: str | None, status: str | None, trigger: str | None = None
) -> tuple[list[Any], int]:
    """(root summaries, or pending executions for ``--status pending``; executions in history)."""
    if not _history_exists(app):
        return [], 0
    with _open_store(app) as store:
        if status == "pending":
            from pingback_cli.history.queue import pending

            found: list[Any] = pending(store, limit, function=function)
        else:
            from pingback_cli.history.rows import settle_for_reading

            found = store.recent_roots(limit, function=function, status=status, trigger=trigger)
            settle_for_reading(store, (summary.execution for summary in found))
        return found, (store.count() if not found else len(found))


def _nothing_found(total: int, function: str | None, status: str | None) -> object:
    """Empty history, or filters that match nothing: said differently."""
    from rich.text import Text

    if total == 0:
        return Text("No executions yet: try `pingback run NAME` or `pingback dev`.", style="dim")
    if status == "pending":
        what = "Nothing is waiting to start" + (f' for "{function}"' if function else "")
        return Text(f"{what}: no delayed, queued or retrying executions.", style="dim")
    described = " ".join(
        part for part in (status, "runs", f'of "{function}"' if function else None) if part is not None
    )
    return Text(
        f"No {described} among {total:,} execution{'s' if total != 1 else ''} in history "
        "(`pingback runs` lists them all).",
        style="dim",
    )


def show(
    execution_id: Annotated[
        str,
        typer.Argument(
            help="An execution id, or an unambiguous prefix of one (like git). Example: 3f2a",
            autocompletion=complete_execution_id,
        ),
    ],
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Cut nothing: whole payloads, results and errors, every log and printed line, "
            "whole tracebacks, every child.",
        ),
    ] = False,
    app: AppOption = None,
    platform_url: PlatformUrlOption = None,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show one execution's whole tree from history, with attempts and logs.

    Long values are cut to one line, and logs and printed output to their first lines, so a
    tree stays readable; --full prints everything (long JSON indented under its execution).

    With --platform-url: that platform's execution, its tree built from hasChildren and parentId.

    Example: pingback show 3f2a --full
    """
    with boundary():
        from pingback_cli import controls
        from pingback_cli.render.trees import execution_tree, tree_summary

        tree, target = controls.show(app, platform_url, api_key, execution_id)
        out = terminal()
        if json_output:
            from pingback_cli.tree_json import tree_pieces

            out.json_built(tree.to_json, lambda ascii_only: tree_pieces(tree, ensure_ascii=ascii_only))
        else:
            looking_at(out, target)
            import time

            from pingback_cli.render.pending import timeline

            out.print(execution_tree(tree, full=full))
            out.print(timeline(tree, time.time()))
            out.print(tree_summary(tree))
