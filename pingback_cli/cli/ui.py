"""`pingback ui`: the web dashboard over the project's history, without running anything."""

from __future__ import annotations

from typing import Annotated

import typer

from pingback_cli.cli.common import AppOption, boundary, terminal


def ui(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Dashboard port.")] = 8766,
    host: Annotated[
        str,
        typer.Option("--host", help="Address. Beyond 127.0.0.1 a secret PINGBACK_API_KEY is required."),
    ] = "127.0.0.1",
    app: AppOption = None,
) -> None:
    """Open the dashboard over history alone (read-only): what `pingback run` and past
    `pingback dev` sessions did. Running functions needs `pingback dev`, whose dashboard
    is on its API port. Ctrl-C stops it.

    Example: pingback ui --port 8766
    """
    with boundary():
        from rich.text import Text

        from pingback_cli.emulator.ui import UiOptions, serve_history
        from pingback_cli.project.config import open_project

        config = open_project(app)
        out = terminal()

        def ready(url: str) -> None:
            line = Text("pingback ui  ", style="bold")
            line.append(f"{url}/", style="cyan")
            line.append("  read-only view of history; Ctrl-C to stop", style="dim")
            out.print(line)

        serve_history(config, UiOptions(host=host, port=port), ready)
