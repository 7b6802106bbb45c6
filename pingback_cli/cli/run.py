"""`pingback run NAME`: run one function now, as the platform would, and print its tree."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from pingback_cli.cli.common import (
    AppOption,
    ConcurrencyOption,
    JsonOption,
    PayloadOption,
    PlanOption,
    boundary,
    few_collections,
    read_instant,
    read_payload,
    terminal,
)
from pingback_cli.cli.completion import complete_function
from pingback_cli.cli.endpoint import EndpointOption, SecretOption


def run(
    name: Annotated[
        str,
        typer.Argument(help="The cron or task to run. Example: send-email", autocompletion=complete_function),
    ],
    payload: PayloadOption = None,
    no_backoff: Annotated[
        bool, typer.Option("--no-backoff", help="Retry at once instead of waiting 2s, 4s, 8s, ...")
    ] = False,
    app: AppOption = None,
    json_output: JsonOption = False,
    endpoint: EndpointOption = None,
    secret: SecretOption = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="The scheduledAt the execution carries (ISO-8601 UTC), for a cron whose handler "
            "reads ctx.scheduled_at. Default: now. Example: --at 2026-12-01T02:59:00Z",
            show_default=False,
        ),
    ] = None,
    plan: PlanOption = None,
    concurrency: ConcurrencyOption = None,
) -> None:
    """Run one cron or task now with retries, timeout and fan-out, then print its execution tree.

    With --endpoint, the attempts are signed POSTs to your running app (any language)
    instead of a worker importing the project.

    Example: pingback run send-email --payload '{"id": "1"}'
    """
    with boundary():
        from pingback_cli.emulator import head_start
        from pingback_cli.emulator.options import EmulatorOptions
        from pingback_cli.emulator.run import run_function
        from pingback_cli.project.config import open_project

        body, has_payload = read_payload(payload)
        scheduled_at = read_instant("--at", at) if at is not None else None
        config = open_project(app)
        out = terminal()
        waiting = None if json_output else WaitingLine(out)
        began = head_start.began()  # run's worker began importing before this process loaded the CLI
        with out.importing(enabled=not json_output, since=began) as loading, few_collections():
            result = run_function(
                config,
                name,
                payload=body,
                has_payload=has_payload,
                backoff=not no_backoff,
                options=EmulatorOptions(endpoint=endpoint, secret=secret, plan=plan, concurrency=concurrency),
                on_event=loading.wrap(None if json_output else _live(out)),
                on_notice=loading.wrap(out.warn),
                scheduled_at=scheduled_at,
                on_waiting=loading.wrap(waiting),
            )
        if waiting is not None:
            waiting(None)
        show_result(out, result, json_output=json_output)


def show_result(out: Any, result: Any, *, json_output: bool) -> None:
    """The root's tree (and any a handler triggered), then exit with the run's code."""
    if json_output:  # no Rich at all
        from pingback_cli.tree_json import tree_pieces

        def build() -> dict[str, Any]:
            data = result.root.to_json()
            if result.triggered:
                data["triggered"] = [tree.to_json() for tree in result.triggered]
            return data

        out.json_built(build, lambda ascii: tree_pieces(result.root, result.triggered, ensure_ascii=ascii))
    else:
        from pingback_cli.render.trees import execution_tree, tree_summary

        for tree in (result.root, *result.triggered):
            out.print(execution_tree(tree))
            out.print(tree_summary(tree))
    raise typer.Exit(int(result.exit_code))


def _live(out: Any) -> Any:
    """Stream logs, retries and failures while the run goes on (capped per tree)."""
    from pingback_cli.live import LiveFeed

    feed = LiveFeed("run")

    def show(event: Any) -> None:
        for line in feed.lines(event):
            out.print(line)

    return show


class WaitingLine:
    """``waiting: 1 delayed execution due in 18s`` while the run waits on a delay or a backoff:
    a line that counts down in place on a terminal, one line per change elsewhere."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self._live: Any = None

    def __call__(self, state: tuple[int, int, float | None] | None) -> None:
        if state is None:
            if self._live is not None:
                self._live.stop()
                self._live = None
            return
        if not self.out.out.is_terminal:
            self.out.print(self._line(state))
            return
        from rich.live import Live

        if self._live is not None:
            self._live.stop()
        self._live = Live(_Fresh(lambda: self._line(state)), console=self.out.out, transient=True)
        self._live.start()

    @staticmethod
    def _line(state: tuple[int, int, float | None]) -> Any:
        import time

        from pingback_cli.render.pending import waiting_line

        return waiting_line(*state, time.time())


class _Fresh:
    """A renderable built anew at each refresh (the countdown)."""

    def __init__(self, build: Any) -> None:
        self.build = build

    def __rich__(self) -> Any:
        return self.build()
