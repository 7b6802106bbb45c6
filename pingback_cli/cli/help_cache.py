"""`pingback --help`, `pingback COMMAND --help` and a bare `pingback`, answered without Typer.

Typer and the command modules cost about three times an empty interpreter's start, and
help is the same text every time for the same CLI and terminal. So the first time, Typer
prints it (captured, then written out as it would have been) and the result is kept in
the user's cache folder; after that this module (standard library only) replays it.

The cache key is every input the text can depend on: pingback's version, the path, size
and modification time of every module of the package (a changed option or docstring
changes one), Typer's own module (an upgrade changes the formatting), the Python in
use, the program name Click prints, the arguments, and the terminal: ``COLUMNS``, the
width of stdout's terminal, stdout's encoding, whether stdout and stderr are terminals,
``NO_COLOR``/``FORCE_COLOR``/``TERM`` and the locale variables. The full key is stored in
the entry and compared as a whole, so a stale entry is never replayed; anything
unreadable is a miss.

Paths are strings (``os.path``), not ``pathlib``: pathlib imports ``urllib.parse``, ``fnmatch``
and ``re`` (~4 ms of CPU, a sixth of a cached answer).
"""

from __future__ import annotations

import contextlib
import io
import marshal
import os
import sys
from collections.abc import Callable

HELP_OPTIONS = ("--help", "-h")
ENV_INPUTS = ("COLUMNS", "NO_COLOR", "FORCE_COLOR", "TERM", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def is_help(argv: list[str]) -> bool:
    """``[]``, ``[--help]`` / ``[-h]`` and ``[COMMAND, --help]`` / ``[COMMAND, -h]``."""
    if len(argv) == 1:
        return argv[0] in HELP_OPTIONS
    if len(argv) == 2:
        return argv[1] in HELP_OPTIONS and not argv[0].startswith("-")
    return not argv


def cache_dir() -> str | None:
    """``$XDG_CACHE_HOME/pingback/help`` (else ``~/.cache/pingback/help``); None without a home."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):
        home = os.path.expanduser("~")
        if home == "~":
            return None
        base = os.path.join(home, ".cache")
    return os.path.join(base, "pingback", "help")


def sources_stamp(package: str | None = None) -> str:
    """(path, size, mtime) of every module of the package (default: this one) and of Typer's."""
    lines: list[str] = []
    folders = [package or PACKAGE]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        folders.append(entry.path)
                elif entry.name.endswith(".py"):
                    stat = entry.stat()
                    lines.append(f"{entry.path}:{stat.st_size}:{stat.st_mtime_ns}")
    lines.sort()
    from importlib.machinery import PathFinder

    typer = PathFinder.find_spec("typer")
    origin = typer.origin if typer is not None else None
    if origin:
        stat = os.stat(origin)
        lines.append(f"{origin}:{stat.st_size}:{stat.st_mtime_ns}")
    return "\n".join(lines)


def _terminal() -> list[str]:
    found: list[str] = []
    for stream in (sys.__stdout__, sys.__stderr__):
        try:
            tty = stream is not None and stream.isatty()
            columns = os.get_terminal_size(stream.fileno()).columns if tty and stream else None
        except (AttributeError, OSError, ValueError):
            tty, columns = False, None
        found.append(f"tty={tty} columns={columns}")
    stdout = sys.stdout
    found.append(f"stdout={getattr(stdout, 'encoding', None)}/{getattr(stdout, 'errors', None)}")
    return found


def cache_key(argv: list[str], package: str | None = None) -> str:
    """Everything the help text can depend on (see the module's docstring), as one string."""
    from pingback_cli import __version__

    main = sys.modules.get("__main__")
    parts = [
        f"pingback {__version__}",
        sys.version,
        sys.executable,
        f"prog={os.path.basename(sys.argv[0])} main={getattr(main, '__package__', None)!r}"
        f" {getattr(getattr(main, '__spec__', None), 'name', None)!r}",
        "argv=" + "\0".join(argv),
        *(f"{name}={os.environ.get(name)!r}" for name in ENV_INPUTS),
        *_terminal(),
        sources_stamp(package),
    ]
    return "\n".join(parts)


def _entry_path(folder: str, argv: list[str], key: str) -> str:
    import zlib

    name = "-".join(word.lstrip("-") or "_" for word in argv) or "bare"
    return os.path.join(folder, f"{name[:40]}-{zlib.crc32(key.encode('utf-8', 'surrogateescape')):08x}")


def replay(argv: list[str]) -> int | None:
    """The exit code after writing the cached help for ``argv``; None on a miss (nothing written)."""
    folder = cache_dir()
    if folder is None:
        return None
    key = cache_key(argv)
    try:
        with open(_entry_path(folder, argv, key), "rb") as entry:
            stored_key, code, out, err = marshal.loads(entry.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if stored_key != key or not isinstance(code, int) or not isinstance(out, str) or not isinstance(err, str):
        return None
    return _write(code, out, err)


def render(argv: list[str], run: Callable[[], None]) -> int:
    """Run Typer (``run``) with its output captured, keep it in the cache, write it out as
    Typer would have, and return Typer's exit code. Only help that succeeded (or the
    bare command's usage) is kept."""
    out, err = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            run()
        except SystemExit as done:
            code = done.code
    number = code if isinstance(code, int) else (0 if code is None else 1)
    if isinstance(code, str):
        err.write(code + "\n")
    if number == 0 or not argv:
        _store(argv, number, out.getvalue(), err.getvalue())
    return _write(number, out.getvalue(), err.getvalue())


def _store(argv: list[str], code: int, out: str, err: str) -> None:
    folder = cache_dir()
    if folder is None:
        return
    key = cache_key(argv)
    path = _entry_path(folder, argv, key)
    with contextlib.suppress(OSError):
        os.makedirs(folder, exist_ok=True)
        partial = f"{path}.{os.getpid()}.tmp"
        with open(partial, "wb") as entry:
            entry.write(marshal.dumps((key, code, out, err)))
        os.replace(partial, path)


def _write(code: int, out: str, err: str) -> int:
    """Write as Click's ``echo`` would, and as Click does on a closed pipe: exit 1, quietly."""
    try:
        for stream, text in ((sys.stdout, out), (sys.stderr, err)):
            if text:
                stream.write(text)
                stream.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code
