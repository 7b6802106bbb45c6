"""``pingback ui``: the dashboard over the history file alone, read-only, until Ctrl-C.

For looking at what `pingback run` (or a stopped `pingback dev`) did. Run, Retry, Cancel and
the other actions answer that `pingback dev` is needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from pingback_cli import startup
from pingback_cli.emulator.server import ApiServer, api_key_for
from pingback_cli.emulator.signals import stop_on_signals
from pingback_cli.history.store import Store, history_path
from pingback_cli.project.config import ProjectConfig


@dataclass
class UiOptions:
    host: str = "127.0.0.1"
    port: int = 8766


def serve_history(config: ProjectConfig, options: UiOptions, on_ready: Callable[[str], None]) -> None:
    """Serve the read-only dashboard until SIGINT or SIGTERM; ``on_ready(url)`` once it answers.

    Raises HistoryError when the project has no history yet, UsageError for a non-loopback
    host without a secret API key, PingbackError when the port is taken."""
    api_key = api_key_for(options.host)
    store = Store(history_path(config.root), readonly=True)
    try:
        asyncio.run(_serve(config, store, options, api_key, on_ready))
    finally:
        store.close()


async def _serve(
    config: ProjectConfig,
    store: Store,
    options: UiOptions,
    api_key: str | None,
    on_ready: Callable[[str], None],
) -> None:
    from starlette.applications import Starlette

    from pingback_cli.dashboard.app import dashboard_routes
    from pingback_cli.dashboard.source import HistorySource

    async with stop_on_signals() as stop:
        source = HistorySource(config.root, store)
        server = ApiServer(options.host, options.port, api_key=api_key)
        server.bind()
        try:
            await server.serve(Starlette(routes=dashboard_routes(source, host=options.host, api_key=api_key)))
            on_ready(server.url)
            startup.release()  # serving: the usual collector for the requests' garbage
            await stop.wait()
        finally:
            source.close()
            await server.stop()
