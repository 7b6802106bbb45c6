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

    A timeout the platform reads as another number of seconds shows both ("5m -> 5s on the
    platform"), and concurrency is marked "not enforced by the platform" (once, under the
    table) unless [tool.pingback] concurrency = "documented" (see docs/parity.md). The table
    and --json list crons first, then tasks, each by name.

    Example: pingback ls --json
    """
    with boundary():
        from pingback_cli import controls
        from pingback_cli.engine.slots import concurrency_mode
        from pingback_cli.project.config import configure
        from pingback_cli.render.functions import (
            CONCURRENCY_NOTE,
            function_grid,
            function_json,
            listing_order,
        )

        out = terminal()
        with out.importing(enabled=not json_output and not controls.platform_given(platform_url)):
            found = controls.functions(app, platform_url, api_key, on_warning=out.warn)
        mode = concurrency_mode(None, configure(app).settings)
        now = time.time()
        if json_output:
            rows = [function_json(spec, now) for spec in listing_order(found.specs)]
            for row in rows:
                row["status"] = found.statuses.get(row["name"], "active")
                row["concurrencyEnforced"] = mode == "documented"
            out.json(rows)
        else:
            looking_at(out, found.target)
            out.grid(function_grid(found.specs, now, statuses=found.statuses, concurrency=mode))
            if mode == "platform" and found.specs:
                out.line(CONCURRENCY_NOTE, style="dim")
