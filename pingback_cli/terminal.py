"""The one place the CLI writes to the terminal.

Everything the tool shows goes through :class:`Terminal`: tables, trees and lines as
Rich renderables on stdout, errors and warnings on stderr, and ``--json`` output as raw
text on stdout. Consoles never interpret markup, emoji codes or "highlight" user text, so
a path like ``app/[id].py`` or a message like ``[Errno 2]`` prints exactly as written.
"""

from __future__ import annotations

import json as jsonlib
import os
import sys
from typing import Any, TextIO

from rich.console import Console, RenderableType
from rich.text import Text

PIPE_WIDTH = 200
"""Width used when output is not a terminal, so piped lines are not wrapped at 80."""


_CONTROL_ESCAPES: dict[int, str | None] = {
    code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if code not in (0x09, 0x0A)
}
_CONTROL_ESCAPES[0x0D] = None


def printable(text: str) -> str:
    """``text`` with control characters (an ESC that could drive the terminal, a bell)
    shown as ``\\x1b``-style escapes; tabs and newlines are kept, carriage returns dropped.
    """
    return text.translate(_CONTROL_ESCAPES)


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or already closed
        return False


def make_console(*, stderr: bool = False, file: TextIO | None = None) -> Console:
    """A console for stdout (or stderr) that prints user text verbatim.

    On a terminal it wraps to the terminal's width. Anywhere else (a pipe, a file) it
    emits plain text without colour codes and does not break long lines: the width is
    ``COLUMNS`` when set, otherwise a wide :data:`PIPE_WIDTH`. ``NO_COLOR`` and
    ``FORCE_COLOR`` are honoured as Rich honours them. ``file`` overrides the stream,
    for tests.
    """
    stream = file or (sys.stderr if stderr else sys.stdout)
    terminal = _is_tty(stream)
    width = None if terminal or os.environ.get("COLUMNS", "").isdigit() else PIPE_WIDTH
    return Console(
        file=file,
        stderr=stderr,
        width=width,
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=not terminal,
    )


class Terminal:
    """stdout and stderr consoles behind the few calls the CLI needs."""

    def __init__(self, out: Console | None = None, err: Console | None = None) -> None:
        self.out = out or make_console()
        self.err = err or make_console(stderr=True)

    def print(self, renderable: RenderableType = "") -> None:
        self.out.print(renderable)

    def error(self, message: str, hint: str | None = None, details: str | None = None) -> None:
        """``error: <message>``, then an optional ``hint:`` and indented details, on stderr."""
        self.err.print(Text(f"error: {printable(message)}", style="bold red"))
        if hint:
            self.err.print(Text(f"hint: {printable(hint)}", style="dim"))
        if details:
            lines = printable(details).rstrip("\n").splitlines()
            self.err.print(Text("\n".join(f"  {line}" for line in lines)))

    def warn(self, message: str) -> None:
        self.err.print(Text(f"warning: {printable(message)}", style="yellow"))

    def json(self, data: Any) -> None:
        """Machine-readable output: exactly ``json.dumps`` plus a newline, no Rich at all."""
        indent = 2 if _is_tty(sys.stdout) else None  # the C encoder only runs without indent
        sys.stdout.write(jsonlib.dumps(data, indent=indent, ensure_ascii=False) + "\n")
        sys.stdout.flush()
