"""`pingback replay ID`: run an execution's function again, as a new root linked to it."""

from __future__ import annotations

from typing import Annotated

import typer

from pingback_cli.cli.common import (
    AppOption,
    JsonOption,
    PayloadOption,
    boundary,
    few_collections,
    read_payload,
    terminal,
)
from pingback_cli.cli.completion import complete_execution_id
from pingback_cli.cli.endpoint import EndpointOption, SecretOption


def replay(
    execution_id: Annotated[
        str,
        typer.Argument(
            help="The execution to run again: an id or an unambiguous prefix of one, "
            "from `pingback runs`. Example: 3f2a",
            autocompletion=complete_execution_id,
            show_default=False,
        ),
    ],
    payload: PayloadOption = None,
    no_backoff: Annotated[
        bool,
        typer.Option(
            "--no-backoff",
            help="Retry at once instead of waiting 2s, 4s, 8s, ... Example: --no-backoff",
        ),
    ] = False,
    app: AppOption = None,
    json_output: JsonOption = False,
    endpoint: EndpointOption = None,
    secret: SecretOption = None,
) -> None:
    """Run a past execution again, with its payload or a new one.

    Runs the execution's function now with the same payload (or --payload). The
    replay is a new root execution in history, marked "replay of <id>", with retries,
    timeout and fan-out as in `pingback run`, and the same output and exit codes.
    Any execution can be replayed, a fan-out child too. With --endpoint, the attempts
    go to your running app, as with `pingback run --endpoint`.

    Example: pingback replay 3f2a --payload '{"id": "e2"}'
    """
    with boundary():
        from pingback_cli.cli.run import _live, show_result
        from pingback_cli.emulator.replay import replay_execution
        from pingback_cli.project.config import open_project

        body, has_payload = read_payload(payload)
        config = open_project(app)
        out = terminal()
        with out.importing(enabled=not json_output) as loading, few_collections():  # to the first event
            result = replay_execution(
                config,
                execution_id,
                payload=body,
                has_payload=has_payload,
                backoff=not no_backoff,
                on_event=loading.wrap(None if json_output else _live(out)),
                endpoint=endpoint,
                secret=secret,
            )
        show_result(out, result, json_output=json_output)
