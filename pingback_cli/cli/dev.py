"""`pingback dev`: the local platform, with a live view of everything it does."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from pingback_cli.cli.common import (
    AppOption,
    ConcurrencyOption,
    PlanOption,
    boundary,
    few_collections,
    terminal,
)
from pingback_cli.cli.endpoint import EndpointOption, SecretOption


def dev(
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="API port.")] = 8765,
    host: Annotated[
        str,
        typer.Option("--host", help="API address. Beyond 127.0.0.1 a secret PINGBACK_API_KEY is required."),
    ] = "127.0.0.1",
    no_reload: Annotated[
        bool, typer.Option("--no-reload", help="Do not restart the worker when files change.")
    ] = False,
    no_backoff: Annotated[
        bool, typer.Option("--no-backoff", help="Retry at once instead of waiting 2s, 4s, 8s, ...")
    ] = False,
    app: AppOption = None,
    endpoint: EndpointOption = None,
    secret: SecretOption = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="Print only failures, retries, skips and one summary line per run."
        ),
    ] = False,
    plan: PlanOption = None,
    concurrency: ConcurrencyOption = None,
) -> None:
    """Emulate the platform: fire crons on schedule, queue and run tasks, reload on save.

    With --endpoint, executions are signed POSTs to your running app (a Flask or
    FastAPI app using pingback-py, a Next.js dev server, ...) instead of a worker.

    Serves the platform API (trigger, register, functions, executions) so that
    `pingback trigger` and the SDK's own pb.trigger() land here. Ctrl-C stops it.

    Example: pingback dev --port 8765
    """
    with boundary():
        from pingback_cli.emulator.dev import DevOptions, serve
        from pingback_cli.project.config import configure

        config = configure(app)  # the env files are read where needed, never put in os.environ
        out = terminal()
        with out.importing() as loading, few_collections():  # until dev is ready (or stops)
            view = LiveView(out, quiet=quiet, loaded=loading.done)
            try:
                serve(
                    config,
                    DevOptions(
                        host=host,
                        port=port,
                        reload=not no_reload,
                        backoff=not no_backoff,
                        endpoint=endpoint,
                        secret=secret,
                        plan=plan,
                        concurrency=concurrency,
                    ),
                    view,
                )
            finally:
                view.flush()  # what start-up said, should dev never have become ready


class LiveView:
    """Event lines as they happen, and each root's tree when it finishes. What start-up says
    (history recovered, queued work taken over and resumed) waits for the header, and is
    printed right after it."""

    def __init__(self, out: Any, *, quiet: bool = False, loaded: Any = None) -> None:
        from pingback_cli.live import LiveFeed

        self.out = out
        self.feed = LiveFeed("quiet" if quiet else "dev")
        self.loaded = loaded or (lambda: None)
        """Called when the project has loaded (clears the start-up spinner)."""
        self._early: list[Any] | None = []
        """Lines held until the header is printed; None once it is."""

    def _say(self, say: Any) -> None:
        if self._early is None:
            say()
        else:
            self._early.append(say)

    def flush(self) -> None:
        """Print what was held for the header (at once from now on)."""
        early, self._early = self._early or [], None
        for say in early:
            say()

    def ready(self, info: Any) -> None:
        from rich.text import Text

        self.loaded()
        from pingback_cli import times
        from pingback_cli.render.functions import function_table
        from pingback_cli.terminal import printable

        crons = sum(1 for f in info.functions if f.type == "cron")
        header = Text()
        header.append("pingback dev", style="bold")
        header.append(f"  {info.root}\n", style="dim")
        header.append(f"  {_count(len(info.functions), 'function')} ({_count(crons, 'cron')}, ")
        header.append(f"{_count(len(info.functions) - crons, 'task')})\n")
        rows: list[tuple[str, str, str | None]] = [
            ("API", info.api_url, "cyan"),
            ("dashboard", f"{info.api_url}/", "cyan"),
        ]
        if info.endpoint:
            rows.append(("endpoint", printable(info.endpoint), "cyan"))
        rows.append(("reload", "on" if info.reload else "off", "green" if info.reload else "yellow"))
        rows.append(("history", str(info.history), None))
        zone = "UTC" if times.in_utc() else f"local ({times.zone()})"
        rows.append(("times", f"{zone}; cron schedules are in UTC", None))
        for label, value, style in rows:
            header.append(f"  {label:<{BANNER_LABEL}}")
            header.append(value, style=style)
            header.append("\n")
            if label == "endpoint":
                indent = " " * (BANNER_LABEL + 2)
                header.append(
                    f"{indent}your app registers and triggers here when it runs with "
                    f"PINGBACK_PLATFORM_URL={info.api_url}\n{indent}and passes "
                    'platform_url=os.environ.get("PINGBACK_PLATFORM_URL") to Pingback(...)\n',
                    style="dim",
                )
        self.out.print(header)
        self.out.print(function_table(info.functions, _now(), concurrency=info.concurrency))
        if info.concurrency != "documented" and info.functions:
            from pingback_cli.render.functions import CONCURRENCY_NOTE

            self.out.print(Text(CONCURRENCY_NOTE, style="dim"))
        self.out.print(Text("Waiting for crons and triggers. Ctrl-C to stop.", style="dim"))
        self.flush()

    def event(self, event: Any) -> None:
        for line in self.feed.lines(event):
            self._say(lambda line=line: self.out.print(line))

    def reloading(self, paths: list[str]) -> None:
        from rich.text import Text

        shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
        self.out.print(Text(f"{_clock()}  reloading  {shown} changed", style="cyan"))

    def reloaded(self, result: Any, seconds: float) -> None:
        from rich.text import Text

        from pingback_cli import times

        if not result.ok:
            error = result.error
            self.out.error(
                f"reload failed: {error.message if error else 'unknown error'}",
                hint="still serving the last good code; save again to retry",
                details=error.details if error else None,
            )
            return
        line = Text(f"{_clock()}  reloaded   in {times.duration(seconds)}", style="green")
        for label, names in (
            ("added", result.added),
            ("removed", result.removed),
            ("changed", result.changed),
        ):
            if names:
                line.append(f"  {label}: {', '.join(names)}", style=None)
        self.out.print(line)

    def worker_restarted(self, message: str) -> None:
        self._say(lambda: self.out.warn(message))

    def stopped(self, interrupted: int, kept: int = 0) -> None:
        from rich.text import Text

        self.loaded()
        self.flush()
        note = f", {interrupted:,} unfinished marked interrupted" if interrupted else ""
        if kept:
            note += f", {kept:,} queued execution{'s' if kept != 1 else ''} kept for the next `pingback dev`"
        self.out.print(Text(f"{_clock()}  stopped{note}", style="dim"))


BANNER_LABEL = 10
"""The width of the banner's labels (``dashboard`` and a space): every value in one column."""


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def _now() -> float:
    import time

    return time.time()


def _clock() -> str:
    import time

    from pingback_cli import times

    return times.clock(time.time())
