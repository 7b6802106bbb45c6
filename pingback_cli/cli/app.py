"""The `pingback` Typer app: commands are listed in the order a newcomer needs them.

`cli/main.py` is the entry point that runs it (and answers `--help` from its cache). A
command given by name gets an app holding that command alone (``build(only=NAME)``): its
parsing, errors, usage lines and exit codes are the same, and the other fifteen command
modules are never imported. Help, completion and anything unrecognised get the whole app.
"""

from __future__ import annotations

import importlib
from typing import Any

import typer

from pingback_cli.cli.common import EXIT_CODES

# The order `pingback --help` lists them in: start, look, run, emulate, inspect, ship.
COMMANDS: dict[str, tuple[str, bool]] = {
    "init": ("init:init", False),
    "ls": ("ls:ls", False),
    "run": ("run:run", True),
    "dev": ("dev:dev", False),
    "trigger": ("trigger:trigger", False),
    "runs": ("history:runs", False),
    "show": ("history:show", False),
    "replay": ("replay:replay", True),
    "ui": ("ui:ui", False),
    "simulate": ("simulate:simulate", True),
    "retry": ("retry:retry", False),
    "cancel": ("retry:cancel", False),
    "pause": ("pause:pause", False),
    "resume": ("pause:resume", False),
    "check": ("check:check", False),
    "register": ("register:register", False),
    "completion": ("completion:completion", False),
}
"""name: ("module:function" under ``pingback_cli.cli``, whether its help ends with the exit codes)."""


def _print_version(value: bool) -> None:
    if value:
        from pingback_cli import __version__

        print(f"pingback {__version__}")
        raise typer.Exit()


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


def build(only: str | None = None) -> typer.Typer:
    """The app with every command, or with the command ``only`` names alone."""
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
    app.callback()(options)
    for name, (where, exit_codes) in COMMANDS.items():
        if only is None or name == only:
            module, _, function = where.partition(":")
            handler = getattr(importlib.import_module(f"pingback_cli.cli.{module}"), function)
            app.command(name, **({"epilog": EXIT_CODES} if exit_codes else {}))(handler)
    return app


_whole: typer.Typer | None = None


def __getattr__(name: str) -> Any:
    """``app``: the whole app, built on first use."""
    global _whole
    if name == "app":
        if _whole is None:
            _whole = build()
        return _whole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
