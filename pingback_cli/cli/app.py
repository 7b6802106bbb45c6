"""The `pingback` Typer app: commands are listed in the order a newcomer needs them.

`cli/main.py` is the entry point that runs it (and answers `--help` from its cache).
"""

from __future__ import annotations

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
