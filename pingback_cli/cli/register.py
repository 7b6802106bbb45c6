"""`pingback register`: send the project's functions to a platform, as the SDKs do."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from pingback_cli.cli.common import ApiKeyOption, AppOption, JsonOption, boundary, terminal
from pingback_cli.state import DEFAULT_LOCAL_URL


def register(
    platform_url: Annotated[
        str | None,
        typer.Option(
            "--platform-url",
            help="The platform API to register with. Default: PINGBACK_PLATFORM_URL, then the "
            f"`pingback dev` running in this project, else {DEFAULT_LOCAL_URL}.",
            show_default=False,
        ),
    ] = None,
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
        bool, typer.Option("--dry-run", help="Print the request body as JSON and send nothing.")
    ] = False,
    app: AppOption = None,
    json_output: JsonOption = False,
) -> None:
    """Register the project's crons and tasks with a platform and print what it created or updated.

    Sends what `pingback ls` finds (Python, or JS/TS using @usepingback/next) to
    <platform>/api/v1/register in the shape the SDKs use.

    Example: pingback register --platform-url https://api.pingback.lol --dry-run
    """
    with boundary():
        from pingback_cli import client as platform_client
        from pingback_cli.project.config import open_project
        from pingback_cli.project.discovery import discover

        out = terminal()
        specs = discover(app, on_warning=out.warn)  # also loads .env
        body = platform_client.registration_body(specs, endpoint_url)
        if dry_run:
            out.json(body)
            return
        url, key = platform_client.resolve_platform(open_project(app).root, platform_url, api_key)
        jobs = platform_client.register(url, key, body)
        if json_output:
            out.json({"platformUrl": url, "jobs": jobs})
        else:
            out.print(_report(jobs, url))


def _report(jobs: list[dict[str, Any]], url: str) -> Any:
    from rich.text import Text

    from pingback_cli.terminal import printable

    text = Text()
    width = max((len(str(job.get("status", ""))) for job in jobs), default=7)
    for job in jobs:
        status = str(job.get("status", "?"))
        text.append(f"{status:<{width}}  ", style="green" if status == "created" else "cyan")
        text.append(printable(str(job.get("name", "?"))), style="bold")
        text.append("\n")
    counts: dict[str, int] = {}
    for job in jobs:
        counts[str(job.get("status", "?"))] = counts.get(str(job.get("status", "?")), 0) + 1
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    noun = "function" if len(jobs) == 1 else "functions"
    text.append(f"registered {len(jobs)} {noun} with {printable(url)}", style="dim")
    if summary:
        text.append(f" ({summary})", style="dim")
    return text
