"""The `pingback` entry point: standard library only until it knows what the command needs.

A TAB (shell completion) and help that is already in the cache (``help_cache``) are
answered without importing Typer; everything else runs the Typer app of ``cli/app.py``.
"""

from __future__ import annotations

import gc
import os
import sys

from pingback_cli import startup
from pingback_cli.cli import COMPLETE_VAR

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~3 ms): cached help needs none of it
if TYPE_CHECKING:
    from typing import Any


def main() -> None:
    """The `pingback` command: the process ends when this returns (or raises SystemExit)."""
    startup.hold()  # released where long work starts: few_collections (run, dev, replay), ui, simulate
    sys.unraisablehook = quiet_interrupts
    try:
        _dispatch()
    finally:
        # Python's last act before exiting would be a garbage collection over every object
        # start-up made (Typer, Rich, the project, the user's code): ~35 ms of CPU on this
        # machine kind, a fifth of `pingback ls`, and it finds nothing to free that matters.
        # Our files, pipes and history are closed by now; frozen objects are left to the OS.
        gc.freeze()
        startup.release()  # the usual thresholds back: tests call main() in their own process


def quiet_interrupts(unraisable: Any) -> None:
    """``sys.unraisablehook`` for the command: a Ctrl-C that lands inside a finalizer (a second
    Ctrl-C while the interpreter collects a closed event loop after `run`'s clean-up) is the
    user's own interrupt, which Python ignores there anyway; it is not shown as "Exception
    ignored" with a traceback. Anything else goes to Python's default hook."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt):
        return
    sys.__unraisablehook__(unraisable)


def _dispatch() -> None:
    from pingback_cli.terminal import protect_std_streams

    protect_std_streams()  # a cp1252 or ascii terminal gets ASCII glyphs, never a traceback
    if os.environ.get(COMPLETE_VAR):
        from pingback_cli.cli.app import app
        from pingback_cli.cli.completion import answer_tab

        if not answer_tab(app):  # a TAB, answered without Typer's slow value conversion
            _run_app()  # every command: completion lists them
        return
    argv = sys.argv[1:]
    from pingback_cli.cli import help_cache

    if help_cache.is_help(argv):
        code = help_cache.replay(argv)
        if code is None:
            code = help_cache.render(argv, lambda: _run_app(argv[0] if argv else None))
        raise SystemExit(code)
    if argv[:1] == ["run"]:
        _start_worker_early(argv[1:])
    _run_app(argv[0] if argv else None)


def _start_worker_early(args: list[str]) -> None:
    """`pingback run` in a project: its worker starts now, importing the project while this
    process imports Typer and the emulator (``emulator.head_start``). Not with ``--endpoint``
    (no worker); a guess that turns out wrong (another ``--app``) is discarded, not used."""
    app: str | None = None
    for index, word in enumerate(args):
        if word == "--endpoint" or word.startswith("--endpoint="):
            return
        if word in ("--app", "-a") and index + 1 < len(args):
            app = args[index + 1]
        elif word.startswith("--app="):
            app = word.partition("=")[2]
        elif word.startswith("-a") and not word.startswith("--") and len(word) > 2:
            app = word[2:]
    from pingback_cli.emulator import head_start

    head_start.start(app)


def _run_app(command: str | None = None) -> None:
    """The Typer app: with ``command`` (a word the user typed first), only that command's
    module is imported if it names one; otherwise every command's."""
    from pingback_cli.cli.app import COMMANDS
    from pingback_cli.cli.app import command as click_command

    app = click_command(only=command if command in COMMANDS else None)
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


def __getattr__(name: str) -> Any:
    """``app``: the Typer app, imported on first use (tests and tools import it from here)."""
    if name == "app":
        from pingback_cli.cli.app import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
