"""The `pingback` command: commands are listed in the order a newcomer needs them."""

from __future__ import annotations

import os

import typer

from pingback_cli.cli import (
    check,
    completion,
    dev,
    history,
    init,
    ls,
    pause,
    register,
    replay,
    retry,
    run,
    simulate,
    trigger,
    ui,
)
from pingback_cli.cli.common import EXIT_CODES

app = typer.Typer(
    name="pingback",
    help="Run Pingback crons and tasks on your machine: list them, run one now, "
    "or emulate the whole platform with `pingback dev`.\n\n"
    "New here? `pingback init` sets up a project; then `pingback ls` lists its functions "
    "and `pingback run NAME` runs one. `pingback COMMAND --help` explains each command.\n\n"
    "Example: pingback run send-emails",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        from pingback_cli import __version__

        print(f"pingback {__version__}")
        raise typer.Exit()


@app.callback()
def options(
    utc: bool = typer.Option(
        False, "--utc", envvar="PINGBACK_UTC", help="Show times in UTC instead of the local zone."
    ),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
    ),
) -> None:
    """Options for every command: pingback --utc runs."""
    if utc:
        from pingback_cli import times

        times.use_utc(True)


# The order `pingback --help` lists them in: start, look, run, emulate, inspect, ship.
app.command("init")(init.init)
app.command("ls")(ls.ls)
app.command("run", epilog=EXIT_CODES)(run.run)
app.command("dev")(dev.dev)
app.command("trigger")(trigger.trigger)
app.command("runs")(history.runs)
app.command("show")(history.show)
app.command("replay", epilog=EXIT_CODES)(replay.replay)
app.command("ui")(ui.ui)
app.command("simulate", epilog=EXIT_CODES)(simulate.simulate)
app.command("retry")(retry.retry)
app.command("cancel")(retry.cancel)
app.command("pause")(pause.pause)
app.command("resume")(pause.resume)
app.command("check")(check.check)
app.command("register")(register.register)
app.command("completion")(completion.completion)


def main() -> None:
    from pingback_cli.terminal import protect_std_streams

    protect_std_streams()  # a cp1252 or ascii terminal gets ASCII glyphs, never a traceback
    if os.environ.get(completion.COMPLETE_VAR) and completion.answer_tab(app):
        return  # a TAB, answered without Typer's slow value conversion
    try:
        app()
    except SystemExit as done:
        _leave_past_user_threads(done.code)
        raise
    _leave_past_user_threads(0)


def _leave_past_user_threads(code: int | str | None) -> None:
    """Exit now if the user's code, imported into this process (``ls``, ``check``, ...), left
    a non-daemon thread running: Python would otherwise wait for it forever after our work
    is done. Everything of ours has been written and closed by this point."""
    import contextlib
    import sys
    import threading

    project = sys.modules.get("pingback_cli.project.loader")
    if project is None or not project.imported_user_code:
        return
    main_thread = threading.main_thread()
    if not any(t.is_alive() and not t.daemon and t is not main_thread for t in threading.enumerate()):
        return
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code or 0)
