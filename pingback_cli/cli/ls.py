"""`pingback ls`: every cron and task the project defines."""

from __future__ import annotations

import time

from pingback_cli.cli.common import AppOption, JsonOption, boundary, terminal


def ls(app: AppOption = None, json_output: JsonOption = False) -> None:
    """List the project's crons and tasks with schedules, next runs and options.

    Example: pingback ls --json
    """
    with boundary():
        from pingback_cli.functions import discover
        from pingback_cli.render import function_json, function_table

        specs = discover(app)
        now = time.time()
        out = terminal()
        if json_output:
            out.json([function_json(spec, now) for spec in specs])
        else:
            out.print(function_table(specs, now))
