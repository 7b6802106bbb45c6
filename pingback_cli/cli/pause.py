"""`pingback pause NAME` / `pingback resume NAME`: stop a cron firing, and start it again."""

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
from pingback_cli.cli.completion import complete_function

NameArgument = Annotated[
    str,
    typer.Argument(
        help="The function (cron or task). Example: send-emails", autocompletion=complete_function
    ),
]


def pause(
    name: NameArgument,
    app: AppOption = None,
    platform_url: PlatformUrlOption = None,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Pause a function's job: its cron stops firing (a trigger still runs it), in `pingback dev`
    and after a restart, until `pingback resume`.

    Example: pingback pause send-emails
    """
    _set(name, "paused", app, platform_url, api_key, json_output)


def resume(
    name: NameArgument,
    app: AppOption = None,
    platform_url: PlatformUrlOption = None,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Make a paused (or inactive) function's job active again: its cron fires on schedule.

    Example: pingback resume send-emails
    """
    _set(name, "active", app, platform_url, api_key, json_output)


def _set(name: str, status: str, app: str | None, platform_url: str | None, api_key: str | None,
         json_output: bool) -> None:  # fmt: skip
    with boundary():
        from pingback_cli import controls

        job, found = controls.set_status(name, status, app, platform_url, api_key)
        out = terminal()
        if json_output:
            out.json(job)
            return
        looking_at(out, found)
        out.print(_said(job, found))


def _said(job: dict[str, Any], found: Any) -> Any:
    from rich.text import Text

    from pingback_cli.terminal import printable

    where = "in this project's history (the next `pingback dev` keeps it)" if found is None else ""
    line = Text(printable(str(job.get("name"))), style="bold")
    line.append(f" is {job.get('status')}", style="yellow" if job.get("status") != "active" else "green")
    if where:
        line.append(f" {where}", style="dim")
    return line
