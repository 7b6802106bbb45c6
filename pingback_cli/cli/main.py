"""The `pingback` command: commands are listed in the order a newcomer needs them."""

from __future__ import annotations

import os

import typer

from pingback_cli.cli import check, completion, dev, history, init, ls, register, replay, run, trigger
from pingback_cli.cli.common import EXIT_CODES

app = typer.Typer(
    name="pingback",
    help="Run Pingback crons and tasks on your machine: list them, run one now, "
    "or emulate the whole platform with `pingback dev`.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
# The order `pingback --help` lists them in: start, look, run, emulate, inspect, ship.
app.command("init")(init.init)
app.command("ls")(ls.ls)
app.command("run", epilog=EXIT_CODES)(run.run)
app.command("dev")(dev.dev)
app.command("trigger")(trigger.trigger)
app.command("runs")(history.runs)
app.command("show")(history.show)
app.command("replay", epilog=EXIT_CODES)(replay.replay)
app.command("check")(check.check)
app.command("register")(register.register)
app.command("completion")(completion.completion)


def main() -> None:
    if os.environ.get(completion.COMPLETE_VAR) and completion.answer_tab(app):
        return  # a TAB, answered without Typer's slow value conversion
    app()
