"""`pingback ls`: every cron and task the project defines."""

from __future__ import annotations

import time

from pingback_cli.cli.common import AppOption, JsonOption, boundary, terminal


def ls(app: AppOption = None, json_output: JsonOption = False) -> None:
    """List the project's crons and tasks with schedules, next runs and options.

    In a JavaScript/TypeScript project (no Python file uses pingback) it lists the
    cron(...) and task(...) calls found in files that import @usepingback/next, under
    lib/pingback/ by default or the folders in [tool.pingback] js-paths.

    Example: pingback ls --json
    """
    with boundary():
        from pingback_cli.project.discovery import discover
        from pingback_cli.render import function_json, function_table

        out = terminal()
        specs = discover(app, on_warning=out.warn)
        now = time.time()
        if json_output:
            out.json([function_json(spec, now) for spec in specs])
        else:
            out.print(function_table(specs, now))
