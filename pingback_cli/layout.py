"""A table that fits the terminal: shown as a table when its natural width fits, else as
stacked cards (one block per row, one line per column), so a narrow terminal never loses a
column. Builds renderables; never prints.
"""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from pingback_cli.terminal import GLYPHS, glyph

EMPTY = frozenset({"", *GLYPHS["none"]})
"""Cells that say "nothing here" (``—``, or ``-`` in ASCII); cards leave them out."""


class FitTable:
    """Renders ``table`` when it fits the width given, else ``cards(table)``."""

    def __init__(self, table: Table, *, title_columns: int = 1) -> None:
        self.table = table
        self.title_columns = title_columns

    def fitted(self, console: Console, options: ConsoleOptions) -> Table | Group:
        """The table when its natural width fits ``options.max_width``, else its cards."""
        natural = Measurement.get(console, options.update_width(1_000_000), self.table).maximum
        if natural <= options.max_width:
            return self.table
        return cards(self.table, title_columns=self.title_columns, width=options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.fitted(console, options)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.table)


def _text(cell: object) -> Text:
    return cell.copy() if isinstance(cell, Text) else Text(str(cell))


def _one_line(cell: Text) -> Text:
    """A multi-line cell on one line, its lines joined by `` · ``."""
    parts = [part for part in cell.split("\n") if part.plain.strip()]
    return Text(f" {glyph('dot')} ", style="dim").join(parts) if parts else cell


def cards(table: Table, *, title_columns: int = 1, width: int = 80) -> Group:
    """One block per row: the first ``title_columns`` cells as its title line, then
    ``Header value`` for every other column that has a value, packed into lines of at most
    ``width`` characters (a pair longer than that gets a line of its own and wraps)."""
    columns = table.columns
    grid = [list(column.cells) for column in columns]
    blocks: list[Text] = []
    for row in range(table.row_count):
        title = Text("  ").join(_one_line(_text(grid[c][row])) for c in range(title_columns))
        lines = [title]
        current: Text | None = None
        for c in range(title_columns, len(columns)):
            value = _one_line(_text(grid[c][row]))
            if value.plain.strip() in EMPTY:
                continue
            pair = Text(f"{columns[c].header} ", style="dim")
            pair.append_text(value)
            if current is not None and current.cell_len + len(GAP) + pair.cell_len <= width:
                current.append(GAP)
                current.append_text(pair)
                continue
            current = Text(INDENT)
            current.append_text(pair)
            lines.append(current)
        blocks.append(Text("\n").join(lines))
    return Group(*blocks)


INDENT = "  "
GAP = "   "
