"""`pingback retry ID` and `pingback cancel ID`: the dashboard's Retry, and a local Cancel."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from pingback_cli.cli.common import (
    ApiKeyOption,
    JsonOption,
    PlatformUrlOption,
    boundary,
    looking_at,
    terminal,
)
from pingback_cli.cli.completion import complete_execution_id

IdArgument = Annotated[
    str,
    typer.Argument(
        help="An execution id, or an unambiguous prefix of one (like git). Example: 3f2a",
        autocompletion=complete_execution_id,
    ),
]


def retry(
    execution_id: IdArgument,
    platform_url: PlatformUrlOption = None,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Run a failed execution again in place, as the platform's Retry does: same id, the next
    attempt, no automatic retries after it. `pingback replay` starts a new run instead.

    Example: pingback retry 3f2a
    """
    _control("retry", execution_id, platform_url, api_key, json_output)


def cancel(
    execution_id: IdArgument,
    platform_url: PlatformUrlOption = None,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Cancel an execution in the running `pingback dev`: waiting, it never runs; running, it is
    abandoned as a timeout would be, with no retry and no fan-out. (The hosted platform has no
    cancel.)

    Example: pingback cancel 3f2a
    """
    _control("cancel", execution_id, platform_url, api_key, json_output)


def _control(action: str, execution_id: str, platform_url: str | None, api_key: str | None,
             json_output: bool) -> None:  # fmt: skip
    with boundary():
        from pingback_cli import controls

        answer, found = controls.control(action, execution_id, platform_url, api_key)
        out = terminal()
        if json_output:
            out.json(answer)
            return
        looking_at(out, found)
        out.print(_said(action, answer))


def _said(action: str, answer: dict[str, Any]) -> Any:
    from rich.text import Text

    line = Text(str(answer.get("id", "")), style="bold")
    if action == "retry":
        line.append(f"  attempt {answer.get('attempt')} queued", style="cyan")
        line.append("  (pingback show ID follows it)", style="dim")
    else:
        line.append("  cancelled", style="magenta")
    return line
