"""`pingback init [MODULE]`: start a project with one cron that fans out to one task."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from pingback_cli.cli.common import JsonOption, boundary, terminal

if TYPE_CHECKING:
    from rich.text import Text

    from pingback_cli.project.scaffold import InitResult


def init(
    module: Annotated[
        str,
        typer.Argument(
            help="Name of the Python module to create, without .py. Example: pingback init jobs",
        ),
    ] = "pingback_jobs",
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Add the example module even in a project whose code already uses pingback."
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Start a project here: a cron that fans out to a task, .env.example, .gitignore.

    Creates MODULE.py (pingback_jobs.py by default) with one cron that fans out to one
    task, a .env.example with the two keys it reads, and adds .pingback/ (local
    history) to .gitignore. Never overwrites a file: existing ones are skipped and listed as skipped.
    In a project whose code already uses pingback it adds no example (unless --force).
    Then try `pingback ls` and `pingback run send-reminders`.

    Example: pingback init jobs
    """
    with boundary():
        from pathlib import Path

        from pingback_cli.project.scaffold import init_project

        result = init_project(Path.cwd(), module, force=force)
        out = terminal()
        if json_output:
            out.json(result.to_json())
            return
        out.print(_report(result))


def _report(result: InitResult) -> Text:
    from rich.text import Text

    from pingback_cli.terminal import printable

    styles = {"created": "green", "updated": "cyan", "skipped": "yellow"}
    width = max(len(action.path.name) for action in result.actions)
    text = Text()
    for action in result.actions:
        text.append(f"{action.action:<8} ", style=styles[action.action])
        text.append(printable(action.path.name).ljust(width), style="bold")
        text.append(f"  {printable(action.note)}\n", style="dim")
    text.append("\nNext:\n", style="bold")
    steps = [
        ("pingback ls", "list the crons and tasks"),
        (f"pingback run {result.cron}", "run the cron now and see its fan-out"),
        ("pingback dev", "fire crons on schedule and reload on save"),
    ]
    if result.existing:
        steps = [("pingback ls", "list your crons and tasks"), steps[2]]
    elif not result.created_module:
        text.append(f"  (your {result.module}.py was kept; the commands below assume the example)\n")
    for command, why in steps:
        text.append(f"  {command:<30}", style="cyan")
        text.append(f"  {why}\n", style="dim")
    text.rstrip()
    return text
