"""`pingback runs` and `pingback show ID`: what ran, from the history file."""

from __future__ import annotations

from typing import Annotated

import typer

from pingback_cli.cli.common import AppOption, JsonOption, boundary, terminal
from pingback_cli.cli.completion import complete_execution_id

STATUSES = ("pending", "running", "success", "failed", "interrupted", "cancelled")


def _history_exists(app: str | None) -> bool:
    from pingback_cli.history.store import history_path
    from pingback_cli.project.config import configure

    return history_path(configure(app).root).is_file()


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
        typer.Option("--status", help="Only this status: success, failed, interrupted, ..."),
    ] = None,
    app: AppOption = None,
    json_output: JsonOption = False,
) -> None:
    """List recent root executions, newest first, with status, duration and child counts.

    Example: pingback runs --limit 5 --status failed
    """
    with boundary():
        from pingback_cli.render import runs_table

        if status is not None and status not in STATUSES:
            from pingback_cli.errors import UsageError

            raise UsageError(f'unknown status "{status}"', hint=f"use one of: {', '.join(STATUSES)}")
        if not _history_exists(app):
            summaries = []
        else:
            with _open_store(app) as store:
                summaries = store.recent_roots(limit, function=function, status=status)
        out = terminal()
        if json_output:
            out.json([summary.to_json() for summary in summaries])
        elif not summaries:
            from rich.text import Text

            out.print(Text("No executions yet: try `pingback run NAME` or `pingback dev`.", style="dim"))
        else:
            out.print(runs_table(summaries))


def show(
    execution_id: Annotated[
        str,
        typer.Argument(
            help="An execution id, or an unambiguous prefix of one (like git). Example: 3f2a",
            autocompletion=complete_execution_id,
        ),
    ],
    app: AppOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show one execution's whole tree from history, with attempts and logs.

    Example: pingback show 3f2a
    """
    with boundary():
        from pingback_cli.render import execution_tree, tree_summary

        if not _history_exists(app):
            from pingback_cli.errors import UsageError

            raise UsageError(
                f'no execution matches "{execution_id}": there is no history yet',
                hint="run `pingback run NAME` or `pingback dev` first",
            )
        with _open_store(app) as store:
            tree = store.tree(execution_id)
        out = terminal()
        if json_output:
            out.json(tree.to_json())
        else:
            out.print(execution_tree(tree))
            out.print(tree_summary(tree))
