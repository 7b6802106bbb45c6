"""`pingback register`: send the project's functions to a platform, as the SDKs do."""

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


def register(
    platform_url: PlatformUrlOption = None,
    api_key: ApiKeyOption = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url",
            help="The URL the platform should call your app at (sent as endpoint_url). "
            "Example: --endpoint-url https://myapp.com/api/pingback",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the request body as JSON (and, on stderr, the URL it would go to); send nothing.",
        ),
    ] = False,
    app: AppOption = None,
    json_output: JsonOption = False,
) -> None:
    """Register the project's crons and tasks with a platform, as a deploy does.

    Sends what `pingback ls` finds (Python, or JS/TS using @usepingback/next) to
    <platform>/api/v1/register in the shape the SDKs use. As on the platform, every
    function sent becomes active (a paused one too) and the platform's other functions
    become inactive.

    Example: pingback register --platform-url https://api.pingback.lol --dry-run
    """
    with boundary():
        from pingback_cli import controls

        out = terminal()
        body, jobs, found = controls.register(
            app, platform_url, api_key, endpoint_url=endpoint_url, dry_run=dry_run, on_warning=out.warn
        )
        if jobs is None:
            _would_send(out, found.url)
            out.json(body)
        elif json_output:
            out.json({"platformUrl": found.url, "jobs": jobs})
        else:
            looking_at(out, found)
            out.print(_report(jobs, found.url))


def _would_send(out: Any, url: str) -> None:
    """On stderr (stdout is the body, as JSON): where the body would have gone."""
    from rich.text import Text

    from pingback_cli.terminal import print_whole, printable

    where = f"{url.rstrip('/')}/api/v1/register"
    print_whole(out.err, Text(f"dry run: would POST this to {printable(where)}; nothing sent", style="dim"))


def _report(jobs: list[dict[str, Any]], url: str) -> Any:
    from rich.text import Text

    from pingback_cli.terminal import printable

    text = Text()
    width = max((len(str(job.get("status", ""))) for job in jobs), default=6)
    for job in jobs:
        status = str(job.get("status", "?"))
        text.append(f"{status:<{width}}  ", style="green" if status == "active" else "yellow")
        text.append(printable(str(job.get("name", "?"))), style="bold")
        text.append("\n")
    noun = "function" if len(jobs) == 1 else "functions"
    text.append(f"registered {len(jobs)} {noun} with {printable(url)}", style="dim")
    return text
