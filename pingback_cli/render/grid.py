"""A borderless table as data (columns, and rows of styled text), with two layouts: Rich's
(``Grid.rich``: the :class:`~pingback_cli.layout.FitTable` of a ``cells.plain_table``, as on a
terminal) and plain text (``Grid.plain``), which imports no Rich at all.

Plain text is what Rich prints of that table where stdout is not a terminal: no colour, no
borders, each column as wide as its widest line, columns two spaces apart, right-justified
columns padded on the left, no line ending in spaces (``terminal.Trimmed``). ``Grid.plain``
gives exactly those lines (tests/render/test_grid.py
checks them against Rich's) or None whenever they could differ: a table wider than the output
(Rich stacks it as cards), a character whose width is not one cell (tabs, wide and combining
characters), or spaces Rich's wrapping could drop (leading, trailing, doubled). A piped
`pingback ls` then never imports Rich, the largest import of its start-up after Typer and the
user's own code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pingback_cli.terminal import as_written

Span = tuple[str, str]
"""(text, style): a piece of a cell; its text may hold newlines (a cell of several lines)."""


class Cell:
    """Styled text: ``spans`` in order, all under the base ``style`` (``Text.assemble``).
    (Plain classes here, not dataclasses: each dataclass costs ~0.5 ms of start-up to build.)"""

    __slots__ = ("spans", "style")

    def __init__(self, spans: tuple[Span, ...], style: str = "") -> None:
        self.spans = spans
        self.style = style

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.spans)

    def text(self) -> Any:
        """The cell as a Rich ``Text``."""
        from rich.text import Text

        return Text.assemble(
            *((text, style) if style else text for text, style in self.spans), style=self.style
        )


def cell(text: str, style: str = "") -> Cell:
    """A cell of one span."""
    return Cell(((text, ""),), style)


class Column:
    """A column: its header, ``justify`` ("left" or "right"), whether it may wrap, and Rich's
    ``overflow`` for it (None: Rich's default)."""

    __slots__ = ("header", "justify", "no_wrap", "overflow")

    def __init__(
        self, header: str, justify: str = "left", no_wrap: bool = False, overflow: str | None = None
    ) -> None:
        self.header = header
        self.justify = justify
        self.no_wrap = no_wrap
        self.overflow = overflow


class Grid:
    """``rows`` of cells under ``columns``; ``title_columns``: the columns that make a card's
    title line when Rich stacks the table (``layout.cards``)."""

    __slots__ = ("columns", "rows", "title_columns")

    def __init__(
        self, columns: Sequence[Column], rows: Sequence[Sequence[Cell]], title_columns: int = 1
    ) -> None:
        self.columns = columns
        self.rows = rows
        self.title_columns = title_columns

    def rich(self) -> Any:
        """The grid as Rich shows it: a ``FitTable`` (a table, or cards when narrow)."""
        from pingback_cli.layout import FitTable
        from pingback_cli.render.cells import plain_table

        table = plain_table()
        for column in self.columns:
            extra = {"overflow": column.overflow} if column.overflow else {}
            table.add_column(column.header, justify=column.justify, no_wrap=column.no_wrap, **extra)  # type: ignore[arg-type]
        for row in self.rows:
            table.add_row(*(item.text() for item in row))
        return FitTable(table, title_columns=self.title_columns)

    def plain(self, width: int) -> str | None:
        """The lines Rich prints of ``rich()`` at ``width`` where stdout is not a terminal,
        each ending in a newline; None when they could differ (see the module's docstring)."""
        grid = [[column.header.split("\n") for column in self.columns]]
        grid += [[item.plain.split("\n") for item in row] for row in self.rows]
        if not all(as_written(line) for row in grid for lines in row for line in lines):
            return None
        widths = [max(len(line) for row in grid for line in row[i]) for i in range(len(self.columns))]
        if min(widths) == 0 or sum(widths) + 2 * (len(widths) - 1) > width:
            return None
        out: list[str] = []
        for row in grid:
            for k in range(max(len(lines) for lines in row)):
                parts = []
                for lines, column, size in zip(row, self.columns, widths, strict=True):
                    line = lines[k] if k < len(lines) else ""
                    parts.append(line.rjust(size) if column.justify == "right" else line.ljust(size))
                out.append("  ".join(parts).rstrip(" ") + "\n")  # as terminal.Trimmed
        return "".join(out)
