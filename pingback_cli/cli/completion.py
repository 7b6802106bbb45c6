"""Shell completion: `pingback completion SHELL`, and the callbacks that answer a TAB.

The callbacks run in a fresh ``pingback`` process on every TAB, so they import only
the standard library (no Rich, no project import, no croniter): function names come
from the manifest cache that every project load writes, execution ids from the
history file, opened read-only without creating anything.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from pingback_cli.cli import COMPLETE_VAR

PROG_NAME = "pingback"
SHELLS = ("bash", "zsh", "fish")
SCRIPT_FILES = {"bash": "pingback.bash", "zsh": "_pingback", "fish": "pingback.fish"}
"""Where each shell's script is committed under ``completions/``."""

RECENT_IDS = 20
"""Ids offered for an empty word: the newest root executions."""
MATCHING_IDS = 50


def _root() -> Path:
    from pingback_cli.project.manifest import project_root

    return project_root(Path(os.getcwd()))


def complete_function(incomplete: str) -> list[tuple[str, str]]:
    """Function names from ``.pingback/manifest.json`` that start with ``incomplete``."""
    from pingback_cli.project.manifest import read_manifest

    found: list[tuple[str, str]] = []
    for entry in read_manifest(_root()):
        name = entry["name"]
        if name.startswith(incomplete):
            kind = entry.get("type") or "function"
            schedule = entry.get("schedule")
            found.append((name, f"{kind} {schedule}" if schedule else str(kind)))
    return found


def complete_execution_id(incomplete: str) -> list[str]:
    """Execution ids from history starting with ``incomplete`` (the newest roots when empty)."""
    return history_ids(_root(), incomplete)


def history_ids(root: Path, prefix: str, limit: int = MATCHING_IDS) -> list[str]:
    """Ids from ``.pingback/history.sqlite3`` by an indexed query; [] on any problem.

    Never creates a file: with no write-ahead log beside it (no writer is active) the
    database is opened immutable, which creates no ``-shm``/``-wal`` files; with one,
    a plain read-only connection uses the files that are already there.
    """
    import sqlite3

    from pingback_cli import state as statedir

    path = statedir.state_dir(root) / statedir.HISTORY
    if not path.is_file():
        return []
    wanted = prefix.strip().lower()
    if wanted and not all(c in "0123456789abcdef-" for c in wanted):
        return []
    live = Path(f"{path}-wal").exists() and Path(f"{path}-shm").exists()
    uri = path.absolute().as_uri() + ("?mode=ro" if live else "?mode=ro&immutable=1")
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=0.2)
        try:
            if wanted:
                upper = wanted[:-1] + chr(ord(wanted[-1]) + 1)
                rows = conn.execute(
                    "SELECT id FROM executions WHERE id >= ? AND id < ? ORDER BY id LIMIT ?",
                    (wanted, upper, limit),
                ).fetchall()
            else:
                rows = conn.execute(
                    "SELECT id FROM executions WHERE parent_id IS NULL ORDER BY seq DESC LIMIT ?",
                    (min(limit, RECENT_IDS),),
                ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []
    return [row[0] for row in rows]


_ZSH_REGISTER = f"compdef _{PROG_NAME}_completion {PROG_NAME}"
_ZSH_AUTOLOAD = f"""\
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  # autoloaded from fpath: complete this TAB too, not only the next one
  _{PROG_NAME}_completion "$@"
else
  {_ZSH_REGISTER}
fi"""


def completion_script(shell: str) -> str:
    """The script for ``shell``: Typer's (as ``--show-completion`` prints it), with the
    zsh one also working on the first TAB when it is autoloaded from ``fpath``.
    """
    from typer.completion import get_completion_script

    script = get_completion_script(prog_name=PROG_NAME, complete_var=COMPLETE_VAR, shell=shell)
    if shell == "zsh" and script.endswith(_ZSH_REGISTER):
        script = script[: -len(_ZSH_REGISTER)] + _ZSH_AUTOLOAD
    return script + "\n"


def answer_tab(app: typer.Typer) -> bool:
    """Answer a TAB (``_PINGBACK_COMPLETE=complete_SHELL``) as Typer would, only faster.

    Typer finds the parameter to complete by parsing the command line, which converts
    every option value through a pydantic adapter: importing pydantic and building the
    adapters is most of a TAB's time. This walks the same command tree with the bare
    option parser instead (which values the line gives, nothing converted), then lets
    Typer's own completion classes format the answer. False, having printed nothing, when
    this Typer lacks what it relies on; the caller then falls back to Typer's path.
    """
    shell = _requested_shell()
    if shell is None:
        return False
    try:
        from typer import _completion_classes
        from typer.completion import completion_init, shell_completion
        from typer.main import get_command

        resolve_incomplete = shell_completion._resolve_incomplete
        completion_init()
        base = shell_completion.get_completion_class(shell)
    except (ImportError, AttributeError):
        return False
    if base is None:
        return False
    if hasattr(_completion_classes, "_sanitize_help_text"):
        # Typer renders zsh and fish help through Rich to strip markup (Rich's import is
        # most of a TAB, and it wraps long help into lines fish reads as extra candidates).
        # Our help is plain text: the app sets rich_markup_mode=None.
        _completion_classes._sanitize_help_text = str

    class LightComplete(base):  # type: ignore[misc, valid-type]
        def get_completions(self, args: list[str], incomplete: str) -> list[Any]:
            ctx = _light_context(self.cli, self.prog_name, args)
            target, incomplete = resolve_incomplete(ctx, args, incomplete)
            return target.shell_complete(ctx, incomplete)

    from pingback_cli.cli.app import tidy

    completer = LightComplete(tidy(get_command(app)), {}, PROG_NAME, COMPLETE_VAR)
    try:
        answer = completer.complete()
    except (AttributeError, TypeError):  # Typer's internals changed: use its own path
        return False
    typer.echo(answer)
    return True


def _requested_shell() -> str | None:
    """The shell a TAB asks for, from ``_PINGBACK_COMPLETE``; None when it is not a TAB."""
    first, _, second = os.environ.get(COMPLETE_VAR, "").partition("_")
    # Typer's scripts send complete_bash; Click's style, bash_complete, is answered too.
    if first == "complete":
        return second
    if second == "complete":
        return first
    return None


def _parse_without_values(ctx: typer.Context, args: list[str]) -> list[str]:
    """Record which parameters ``args`` gives (as the completion logic reads them)."""
    from typer.completion import shell_completion

    parser = ctx.command.make_parser(ctx)
    opts, rest, _ = parser.parse_args(args=list(args))
    ctx._opt_prefixes.update(parser._opt_prefixes)  # what tells "-x" from a value
    for param in ctx.command.get_params(ctx):
        if param.name is None:
            continue
        ctx.params[param.name] = opts.get(param.name)
        if opts.get(param.name) is not None:
            ctx.set_parameter_source(param.name, shell_completion.ParameterSource.COMMANDLINE)
    return rest


def _light_context(cli: Any, prog_name: str, args: list[str]) -> typer.Context:
    """The context of the (sub)command ``args`` reach, parsed without converting values."""
    from typer.core import TyperGroup

    ctx = cli.context_class(cli, info_name=prog_name, resilient_parsing=True)
    rest = _parse_without_values(ctx, args)
    while rest and isinstance(ctx.command, TyperGroup):
        name, command, rest = ctx.command.resolve_command(ctx, rest)
        if command is None:
            break
        ctx = command.context_class(command, info_name=name, parent=ctx, resilient_parsing=True)
        rest = _parse_without_values(ctx, rest)
    return ctx


def _complete_shell(incomplete: str) -> list[str]:
    return [shell for shell in SHELLS if shell.startswith(incomplete)]


def completion(
    shell: Annotated[
        str,
        typer.Argument(
            help="bash, zsh or fish. Example: pingback completion bash",
            autocompletion=_complete_shell,
            show_default=False,
        ),
    ],
) -> None:
    """Print the shell completion script for bash, zsh or fish.

    It completes commands, options, function names (for run and trigger), statuses
    (runs --status) and execution ids (for show and replay). Install it once: it reads
    names from .pingback/manifest.json (written by every `pingback ls`, `run` and `dev`)
    and ids from history, and never imports your code.

    Example: pingback completion zsh > ~/.zfunc/_pingback
    """
    from pingback_cli.cli.common import boundary
    from pingback_cli.errors import UsageError

    with boundary():
        if shell not in SHELLS:
            raise UsageError(
                f'no completion script for shell "{shell}"',
                hint=f"choose one of: {', '.join(SHELLS)}",
            )
        typer.echo(completion_script(shell), nl=False)
