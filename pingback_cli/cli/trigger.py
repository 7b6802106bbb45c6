"""`pingback trigger NAME`: the dashboard's Run button, from the terminal."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from pingback_cli.cli.common import (
    ApiKeyOption,
    JsonOption,
    PayloadOption,
    PlatformUrlOption,
    boundary,
    looking_at,
    read_payload,
    terminal,
)
from pingback_cli.cli.completion import complete_function
from pingback_cli.usage import DELAY_OPTION, TRIGGER_EXAMPLE


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
        typer.Option(
            DELAY_OPTION,
            "-d",
            help='Start later: whole seconds (more than 0) or units in any order, e.g. 90, "15m", "1h30m".',
        ),
    ] = None,
    platform_url: PlatformUrlOption = None,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    with boundary():
        from pingback_cli import controls

        _whole_seconds(delay)
        body, has_payload = read_payload(payload)
        answer, found = controls.trigger(
            name, platform_url, api_key, payload=body, has_payload=has_payload, delay=delay
        )
        out = terminal()
        looking_at(out, found, stderr=True)  # stdout stays the id alone, for scripts
        if json_output:
            out.json(answer)
        else:
            from pingback_cli.render.pending import trigger_line

            out.print(trigger_line(answer, time.time()))


def _whole_seconds(delay: str | None) -> None:
    """UsageError for a decimal --delay (1.5): the platform's own message for it says "Use a
    number (seconds)", which 1.5 is (parse-delay.ts:31-33 reads whole seconds only)."""
    import re

    from pingback_cli.errors import UsageError

    if delay is not None and re.fullmatch(r"[0-9]*\.[0-9]+", delay.strip()):
        raise UsageError(
            f'--delay "{delay}" is not a whole number of seconds',
            hint='the platform takes whole seconds (e.g. 2) or units like "90s" and "1m30s"',
        )


trigger.__doc__ = f"""Trigger a function on the `pingback dev` running in this project (or any platform):
prints its execution id and when it is due. --json prints the platform's answer as it gives it,
{{"executionId", "task", "scheduledAt"}} (POST /api/v1/trigger calls the function "task").

Example: {TRIGGER_EXAMPLE}
"""
