"""The one place the CLI writes to the terminal.

Everything the tool shows goes through :class:`Terminal`: tables, trees and lines as
Rich renderables on stdout, errors and warnings on stderr, and ``--json`` output as raw
text on stdout. Consoles never interpret markup, emoji codes or "highlight" user text, so
a path like ``app/[id].py`` or a message like ``[Errno 2]`` prints exactly as written.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence

from pingback_cli.streams import guard_reader_gone

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~3 ms): cached help needs none of it
if TYPE_CHECKING:  # Rich loads when output is made, not when the CLI starts (a TAB never needs it)
    from collections.abc import Iterable
    from typing import Any, TextIO

    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.measure import Measurement
    from rich.segment import Segment

PIPE_WIDTH = 200
"""Width used when output is not a terminal, so piped lines are not wrapped at 80. Only
layout reads it (when a table is stacked as cards): no line is ever cut to it, see
:func:`print_whole`."""

_UNBOUNDED = 1_000_000


_CONTROL_ESCAPES: dict[int, str | None] = {
    code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if code not in (0x09, 0x0A)
}
_CONTROL_ESCAPES[0x0D] = None


def printable(text: str) -> str:
    """``text`` with control characters (an ESC that could drive the terminal, a bell)
    shown as ``\\x1b``-style escapes; tabs and newlines are kept, carriage returns dropped.
    """
    return text.translate(_CONTROL_ESCAPES)


GLYPHS: dict[str, tuple[str, str]] = {
    "success": ("\u2713", "+"),
    "failed": ("\u2717", "x"),
    "interrupted": ("\u26a0", "!"),
    "cancelled": ("\u2298", "/"),
    "running": ("\u25cf", "*"),
    "pending": ("\u25cb", "o"),
    "none": ("\u2014", "-"),
    "arrow": ("\u2192", "->"),
    "more": ("\u2026", "..."),
    "dot": ("\u00b7", "|"),
    "to": ("\u2013", "-"),
    "bar": ("\u2502", "|"),
}
"""Each glyph we print: (Unicode, ASCII). The ASCII one is used when stdout is not UTF
(``PYTHONIOENCODING=cp1252``, a C locale); Rich picks ASCII tree and table lines itself."""

_ascii_glyphs = False


_NARROW_GLYPHS = frozenset(
    unicode for unicode, _ in (GLYPHS[name] for name in ("none", "arrow", "to", "dot"))
)
"""Glyphs Rich counts as one cell wide."""


def as_written(line: str) -> bool:
    """Whether Rich lays ``line`` out as written: every character one cell wide (no tab,
    control, wide or combining character) and no space its wrapping could drop or move
    (leading, trailing, doubled). Then plain text is what Rich prints of it off a terminal."""
    if line.startswith(" ") or line.endswith(" ") or "  " in line:
        return False
    if line.isascii():
        return line.isprintable()
    return all((ch.isascii() and ch.isprintable()) or ch in _NARROW_GLYPHS for ch in line)


def whole(line: str) -> bool:
    """Whether :func:`print_whole` prints ``line`` unchanged off a terminal (natural width): as
    :func:`as_written`, but a space is kept anywhere except at the end (``Trimmed`` drops it)."""
    return not line.endswith(" ") and as_written(line.replace(" ", "-"))


def glyph(name: str) -> str:
    """The glyph ``name`` (a key of :data:`GLYPHS`) as the output can show it."""
    return GLYPHS[name][_ascii_glyphs]


def use_ascii_glyphs(on: bool) -> None:
    """Switch :func:`glyph` to ASCII (``on``) or back to Unicode."""
    global _ascii_glyphs
    _ascii_glyphs = on


ERRORS = "pingback-escape"
"""The codec error handler of our output streams: what the encoding lacks is escaped."""


def _escape(error: UnicodeError) -> tuple[str, int]:
    """Each unencodable character as a ``\\xe9`` / ``\\u2603`` escape: user text stays
    readable and nothing is lost (backslashreplace, registered for streams under our name)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    bad = error.object[error.start : error.end]
    return bad.encode("ascii", "backslashreplace").decode("ascii"), error.end


codecs.register_error(ERRORS, _escape)


def _is_unicode(encoding: str | None) -> bool:
    return (encoding or "").lower().replace("-", "").replace("_", "").startswith("utf")


def protect(stream: TextIO) -> TextIO:
    """``stream`` made unable to fail on a character its encoding lacks (cp1252, ascii, ...).

    A text stream still on strict errors is switched to :data:`ERRORS` in place, so
    everything written to it later (Rich, JSON, Typer's help) is escaped instead of
    raising UnicodeEncodeError. UTF streams and streams that chose a handler are left alone.
    """
    if (
        isinstance(stream, io.TextIOWrapper)
        and not _is_unicode(stream.encoding)
        and stream.errors == "strict"
    ):
        with contextlib.suppress(ValueError, OSError):  # closed, or detached
            stream.reconfigure(errors=ERRORS)
    return stream


def protect_std_streams() -> None:
    """:func:`protect` stdout and stderr and guard them against a reader that leaves
    (:class:`ReaderGoneGuard`), and pick ASCII glyphs when stdout is not UTF; the CLI calls
    this once before any output."""
    sys.stdout = guard_reader_gone(protect(sys.stdout))
    sys.stderr = guard_reader_gone(protect(sys.stderr))
    use_ascii_glyphs(not _is_unicode(getattr(sys.stdout, "encoding", "utf-8")))


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or already closed
        return False


def no_styling() -> bool:
    """Whether ``NO_COLOR`` is set (to anything but empty, as no-color.org has it). pingback
    then writes no escape codes at all: no colour, and no bold or dim either. The convention
    asks only for no colour; without it, text that was dim for contrast against coloured text
    (a stacked table's labels, every value of ``ls`` at 80 columns) is left low-contrast grey
    on terminals that render dim, and nothing here needs bold or dim to be read."""
    return bool(os.environ.get("NO_COLOR"))


def make_console(*, stderr: bool = False, file: TextIO | None = None) -> Console:
    """A console for stdout (or stderr) that prints user text verbatim.

    On a terminal it wraps to the terminal's width. Anywhere else (a pipe, a file) it
    emits plain text without colour codes and does not break long lines: the width is
    ``COLUMNS`` when set, otherwise a wide :data:`PIPE_WIDTH`. ``NO_COLOR`` means no escape
    codes at all (:func:`no_styling`); ``FORCE_COLOR`` as Rich honours it. ``file`` overrides the stream,
    for tests.
    """
    from rich.console import Console

    stream = protect(file or (sys.stderr if stderr else sys.stdout))
    terminal = _is_tty(stream)
    width = None if terminal or os.environ.get("COLUMNS", "").isdigit() else PIPE_WIDTH
    plain = {"color_system": None} if no_styling() else {}
    return Console(
        file=file,
        stderr=stderr,
        width=width,
        **plain,  # type: ignore[arg-type]
        markup=False,
        emoji=False,
        highlight=False,
        soft_wrap=not terminal,
    )


def print_whole(console: Console, renderable: RenderableType) -> None:
    """Print ``renderable`` on ``console``; off a terminal, no line is cut.

    On a terminal Rich wraps to its width, as ever. Anywhere else (a pipe, a file, CI logs)
    a tree's label or a traceback's last line may be longer than the console's width, and
    Rich would crop it without a marker; so the console is widened, for this print only, to
    the renderable's natural width. A renderable that lays itself out by width (a
    :class:`~pingback_cli.layout.FitTable`, through its ``fitted(console, options)``) chooses its layout
    at the console's own width first. No line ends in spaces (:class:`Trimmed`).
    """
    if console.is_terminal:
        console.print(Trimmed(renderable))
        return
    from rich.measure import Measurement

    fitted = getattr(renderable, "fitted", None)
    if callable(fitted):
        renderable = fitted(console, console.options)
    width = console.width
    needed = Measurement.get(console, console.options.update_width(_UNBOUNDED), renderable).maximum
    if needed <= width:
        console.print(Trimmed(renderable))
        return
    console.width = needed
    try:
        console.print(Trimmed(renderable))
    finally:
        console.width = width


class Trimmed:
    """``renderable`` with the spaces that end each of its lines dropped: Rich pads every
    table cell and tree line to its column's width, so a table's lines would end in spaces
    (noise in a pipe, a diff, ``cat -A``). Measured as ``renderable``."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        from rich.segment import Segment

        for line in console.render_lines(self.renderable, options, pad=False, new_lines=False):
            while line and not line[-1].control and not line[-1].text.rstrip(" "):
                line.pop()
            if line and not line[-1].control:
                last = line[-1]
                line[-1] = Segment(last.text.rstrip(" "), last.style, last.control)
            yield from line
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        from rich.measure import Measurement

        return Measurement.get(console, options, self.renderable)


class Terminal:
    """stdout and stderr consoles behind the few calls the CLI needs, each made on first use
    (so a command that prints only JSON never imports Rich); ``out_file`` binds stdout's
    console to that stream, as it is now."""

    def __init__(
        self,
        out: Console | None = None,
        err: Console | None = None,
        *,
        out_file: TextIO | None = None,
        err_file: TextIO | None = None,
    ) -> None:
        self._out = out
        self._err = err
        self._out_file = out_file
        self._err_file = err_file

    @property
    def out(self) -> Console:
        if self._out is None:
            self._out = make_console(file=self._out_file)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            self._err = make_console(stderr=True, file=self._err_file)
        return self._err

    def print(self, renderable: RenderableType = "") -> None:
        print_whole(self.out, renderable)

    def lines(self, texts: Iterable[str], chunk: int = 2_000) -> None:
        """Plain lines on stdout (no style, control characters escaped), written ``chunk`` at a
        time without Rich: a listing of hundreds of thousands of lines (a year of an
        every-minute cron) costs a Rich render of ~40 µs each, and none needs one."""
        stream = self.out.file
        batch: list[str] = []
        for text in texts:
            batch.append(printable(text))
            if len(batch) >= chunk:
                stream.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            stream.write("\n".join(batch) + "\n")
        stream.flush()

    def grid(self, grid: Any) -> None:
        """A table (``render.grid.Grid``). Where stdout is not a terminal, its plain text is
        written without importing Rich whenever that text is exactly what Rich would print
        (``Grid.plain``); otherwise, and on a terminal, Rich prints ``grid.rich()``."""
        width = self._plain_width()
        text = grid.plain(width) if width else None
        if text is None:
            self.print(grid.rich())
            return
        stream = protect(self._out_file or sys.stdout)
        stream.write(text)

    def line(self, text: str, style: str = "") -> None:
        """``text`` (one or more lines) in ``style`` on stdout (plain off a terminal: ``_say``)."""
        self._say([(text, style)])

    def _plain_width(self, *, err: bool = False) -> int | None:
        """Rich's width when stdout (``err``: stderr) is not a terminal and nothing makes Rich treat
        it as one (``FORCE_COLOR``, ``TTY_COMPATIBLE``) or read it otherwise (a console given to
        this Terminal, Windows' legacy console); None otherwise."""
        console, stream = (
            (self._err, self._err_file or sys.stderr) if err else (self._out, self._out_file or sys.stdout)
        )
        if console is not None or sys.platform == "win32":
            return None
        if _is_tty(stream) or os.environ.get("FORCE_COLOR") is not None:
            return None
        if os.environ.get("TTY_COMPATIBLE") == "1":
            return None
        columns = os.environ.get("COLUMNS", "")
        if columns.isdigit():
            return int(columns) or None
        return PIPE_WIDTH

    def error(self, message: str, hint: str | None = None, details: str | None = None) -> None:
        """``error: <message>``, then an optional ``hint:`` and indented details, on stderr."""
        texts = [(f"error: {printable(message)}", "bold red")]
        if hint:
            texts.append((f"hint: {printable(hint)}", "dim"))
        if details:
            lines = printable(details).rstrip("\n").splitlines()
            texts.append(("\n".join(f"  {line}" for line in lines), ""))
        self._say(texts, err=True)

    def _say(self, texts: list[tuple[str, str]], *, err: bool = False) -> None:
        """Each (text, style) on stdout (``err``: stderr) by ``print_whole``; off a terminal
        without Rich when that prints them unchanged (:func:`whole`): else a run's notice imports
        Rich (~28 ms)."""
        if self._plain_width(err=err) and all(whole(line) for text, _ in texts for line in text.split("\n")):
            stream = (self._err_file or sys.stderr) if err else (self._out_file or sys.stdout)
            protect(stream).write("".join(text + "\n" for text, _ in texts))
            return
        from rich.text import Text

        for text, style in texts:
            print_whole(self.err if err else self.out, Text(text, style=style))

    def importing(
        self, *, enabled: bool = True, what: str = "importing the project", since: float | None = None
    ) -> Any:
        """A context manager: a second after the import began (``since``, a ``time.monotonic()``
        reading; default: now), a spinner with the elapsed time on stderr until its ``done()``
        (``spinner.ImportSpinner``); nothing unless ``enabled`` and stderr is a terminal."""
        from pingback_cli.spinner import ImportSpinner

        shown = enabled and _is_tty(sys.stderr)
        return ImportSpinner(self.err if shown else None, what=what, ellipsis=glyph("more"), since=since)

    def warn(self, message: str) -> None:
        """``warning: <message>`` on stderr (plain off a terminal: ``_say``)."""
        self._say([(f"warning: {printable(message)}", "yellow")], err=True)

    def json(self, data: Any) -> None:
        """Machine-readable output: strict JSON plus a newline, no Rich at all.

        Never ``NaN`` or ``Infinity`` (see :func:`pingback_cli.protocol.json_safe`); on a
        stream that is not UTF, non-ASCII text is written as ``\\u00e9`` escapes, which
        JSON reads back exactly.
        """
        self.json_built(lambda: data)

    def json_built(
        self, build: Callable[[], Any], compact: Callable[[bool], Sequence[str] | None] | None = None
    ) -> None:
        """:meth:`json` of ``build()``. ``compact(ensure_ascii)``, when given, is the text
        ``json.dumps`` writes of that data without indent, in pieces written one after the
        other, made without building it (a fan-out's tree: ``tree_json.tree_pieces``), or None
        when it cannot be; ``build`` then runs (and on a terminal, which gets the data indented)."""
        from pingback_cli.protocol import strict_dumps

        stream = protect(sys.stdout)
        indent = 2 if _is_tty(stream) else None  # the C encoder only runs without indent
        ascii_only = not _is_unicode(getattr(stream, "encoding", "utf-8"))
        pieces = compact(ascii_only) if compact is not None and indent is None else None
        if pieces is None:
            pieces = (strict_dumps(build(), indent=indent, ensure_ascii=ascii_only),)
        for piece in pieces:  # not joined: a big text would cost fresh memory twice over
            stream.write(piece)
        stream.write("\n")
        stream.flush()
