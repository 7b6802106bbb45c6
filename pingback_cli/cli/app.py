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


UTC_HELP = "Show times in UTC instead of the local zone."


def _use_utc(_ctx: Any, _param: Any, value: bool) -> None:
    if value:
        from pingback_cli import times

        times.use_utc(True)


def options(
    utc: bool = typer.Option(False, "--utc", envvar="PINGBACK_UTC", help=UTC_HELP),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
    ),
) -> None:
    """Options for every command: pingback --utc runs."""
    _use_utc(None, None, utc)


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


def command(only: str | None = None) -> Any:
    """``build(only)`` as the Click command that runs, tidied (``tidy``)."""
    from typer.main import get_command

    return tidy(get_command(build(only)))


_TYPERS_OWN = ("install_completion", "show_completion")


def tidy(group: Any) -> Any:
    """Typer's Click command ``group`` as pingback shows it: Typer's ``--install-completion``
    and ``--show-completion`` hidden (they still work; ``pingback completion`` is the
    documented way, and the first edits ~/.bashrc unasked); ``--utc`` taken after a command
    too (``pingback runs --utc``); arguments in usage lines as ``NAME``, as Click writes them
    (Typer 0.28 writes a required one as ``{name}``)."""
    from typer.core import TyperArgument, TyperOption

    for param in group.params:
        if param.name in _TYPERS_OWN:
            param.hidden = True
    for sub in getattr(group, "commands", {}).values():
        sub.params.append(
            TyperOption(
                param_decls=["--utc"],
                is_flag=True,
                default=False,
                expose_value=False,
                callback=_use_utc,
                help=UTC_HELP,
            )
        )
        for param in sub.params:
            if isinstance(param, TyperArgument) and param.metavar is None:
                param.make_metavar = _plain_metavar(param)
    return group


def _plain_metavar(param: Any) -> Any:
    """``NAME`` (``[NAME]`` when optional, ``NAME...`` for several), whatever ``usage`` is."""

    def make_metavar(ctx: Any, *, usage: bool = False) -> str:
        name = (param.name or "").upper() + ("..." if param.nargs != 1 else "")
        return f"[{name}]" if usage and not param.required else name

    return make_metavar


_whole: typer.Typer | None = None


def __getattr__(name: str) -> Any:
    """``app``: the whole app, built on first use."""
    global _whole
    if name == "app":
        if _whole is None:
            _whole = build()
        return _whole
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
