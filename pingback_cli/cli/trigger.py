"""`pingback trigger NAME`: the dashboard's Run button, from the terminal."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from pingback_cli.cli.common import ApiKeyOption, JsonOption, PayloadOption, boundary, read_payload, terminal
from pingback_cli.cli.completion import complete_function
from pingback_cli.state import DEFAULT_LOCAL_URL


def trigger(
    name: Annotated[
        str,
        typer.Argument(
            help="The task (or cron) to run. Example: send-email", autocompletion=complete_function
        ),
    ],
    payload: PayloadOption = None,
    delay: Annotated[
        str | None,
        typer.Option("--delay", "-d", help='Start later: seconds or units, e.g. 90, "15m", "1h30m".'),
    ] = None,
    platform_url: Annotated[
        str | None,
        typer.Option(
            "--platform-url",
            envvar="PINGBACK_PLATFORM_URL",
            help="The platform API to send it to. Default: the `pingback dev` running in this project, "
            f"else {DEFAULT_LOCAL_URL}.",
            show_default=False,
        ),
    ] = None,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Trigger a function on a running `pingback dev` (or any platform): prints its execution
    id and when it is due.

    Example: pingback trigger send-email --payload '{"id": "1"}' --delay 15m
    """
    with boundary():
        from pingback_cli import client as platform_client
        from pingback_cli.project.config import open_project

        body, has_payload = read_payload(payload)
        url, key = platform_client.resolve_platform(open_project(None).root, platform_url, api_key)
        answer = platform_client.trigger(
            url,
            key,
            name,
            payload=body,
            has_payload=has_payload,
            delay=delay,
        )
        out = terminal()
        if json_output:
            out.json(answer)
        else:
            from pingback_cli.render_pending import trigger_line

            out.print(trigger_line(answer, time.time()))
