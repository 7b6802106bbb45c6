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
    <platform>/api/v1/register in the shape the SDKs use: the platform named, else the
    `pingback dev` running in this project (never another project's). As on the platform,
    every function sent becomes active (a paused one too) and the platform's other
    functions become inactive; they are listed as such.

    Example: pingback register --platform-url https://api.pingback.lol --dry-run
    """
    with boundary():
        from pingback_cli import controls

        out = terminal()
        done = controls.register(
            app, platform_url, api_key, endpoint_url=endpoint_url, dry_run=dry_run, on_warning=out.warn
        )
        if done.jobs is None:
            _would_send(out, done)
            out.json(done.body)
        elif json_output:
            assert done.target is not None
            out.json({"platformUrl": done.target.url, "jobs": done.jobs, "deactivated": done.deactivated})
        else:
            assert done.target is not None
            looking_at(out, done.target)
            out.print(_report(done.jobs, done.deactivated, done.target.url))


def _would_send(out: Any, done: Any) -> None:
    """On stderr (stdout is the body, as JSON): where the body would have gone, or why nowhere."""
    from rich.text import Text

    from pingback_cli.terminal import print_whole, printable

    if done.target is None:
        said = f"dry run: nothing sent, and there is nowhere to send it: {done.nowhere}"
    else:
        said = f"dry run: would POST this to {done.target.url.rstrip('/')}/api/v1/register; nothing sent"
    print_whole(out.err, Text(printable(said), style="dim"))


def _report(jobs: list[dict[str, Any]], deactivated: list[str], url: str) -> Any:
    """One line per job the platform answered, then one per job it made inactive."""
    from rich.text import Text

    from pingback_cli.terminal import printable

    rows = [(str(job.get("status", "?")), str(job.get("name", "?"))) for job in jobs]
    rows += [("inactive", name) for name in deactivated]
    text = Text()
    width = max((len(status) for status, _ in rows), default=6)
    for status, name in rows:
        text.append(f"{status:<{width}}  ", style="green" if status == "active" else "yellow")
        text.append(printable(name), style="bold")
        text.append("\n")
    noun = "function" if len(jobs) == 1 else "functions"
    text.append(f"registered {len(jobs)} {noun} with {printable(url)}", style="dim")
    if deactivated:
        text.append(f"; {len(deactivated)} not sent became inactive (their crons stop firing)", style="dim")
    return text
