"""`pingback ls`: every cron and task the project defines, with its job state."""

from __future__ import annotations

import time

from pingback_cli.cli.common import (
    ApiKeyOption,
    AppOption,
    JsonOption,
    PlatformUrlOption,
    boundary,
    looking_at,
    terminal,
)


def ls(
    app: AppOption = None,
    platform_url: PlatformUrlOption = None,
    api_key: ApiKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """List the project's crons and tasks with schedules, next runs, options and state.

    In a JavaScript/TypeScript project (no Python file uses pingback) it lists the
    cron(...) and task(...) calls found in files that import @usepingback/next, under
    lib/pingback/ by default or the folders in [tool.pingback] js-paths. With
    --platform-url it lists that platform's jobs.

    Example: pingback ls --json
    """
    with boundary():
        from pingback_cli import controls
        from pingback_cli.render import function_json, function_table

        out = terminal()
        found = controls.functions(app, platform_url, api_key, on_warning=out.warn)
        now = time.time()
        if json_output:
            rows = [function_json(spec, now) for spec in found.specs]
            for row in rows:
                row["status"] = found.statuses.get(row["name"], "active")
            out.json(rows)
        else:
            looking_at(out, found.target)
            out.print(function_table(found.specs, now, statuses=found.statuses))
