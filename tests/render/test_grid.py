"""``Grid.plain`` against Rich: where it gives text, that text is what Rich prints of
``Grid.rich()`` on a console that is not a terminal (the console ``terminal.make_console`` makes
for a pipe), byte for byte; where it cannot be sure, it gives None."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from property_support import examples

from pingback_cli.models import FunctionSpec
from pingback_cli.render.functions import CONCURRENCY_NOTE, function_grid
from pingback_cli.render.grid import Cell, Column, Grid, cell
from pingback_cli.terminal import Terminal, as_written, make_console, print_whole

NOW = 1_795_000_000.0


def rich_piped(grid: Grid, width: int) -> str:
    stream = io.StringIO()
    console = make_console(file=stream)
    console.width = width
    print_whole(console, grid.rich())
    return stream.getvalue()


texts = st.text(alphabet="ab Z-:[]/\n\u2014\u2192\u00b7\t\u4e00", max_size=12)
spans = st.tuples(texts, st.sampled_from(["", "dim", "bold", "yellow"]))
cells = st.builds(Cell, st.lists(spans, min_size=1, max_size=3).map(tuple), st.sampled_from(["", "bold"]))
columns = st.builds(
    Column,
    st.text(alphabet="abcXY -", max_size=10),
    st.sampled_from(["left", "right"]),
    st.booleans(),
    st.sampled_from([None, "fold"]),
)


@st.composite
def grids(draw: st.DrawFn) -> Grid:
    cols = draw(st.lists(columns, min_size=1, max_size=5))
    rows = draw(st.lists(st.lists(cells, min_size=len(cols), max_size=len(cols)), max_size=4))
    return Grid(cols, rows, title_columns=1)


@settings(max_examples=examples(400), deadline=None)
@given(grids(), st.sampled_from([8, 20, 40, 80, 200]))
def test_plain_text_is_what_rich_prints_off_a_terminal(grid: Grid, width: int) -> None:
    plain = grid.plain(width)
    if plain is not None:
        assert plain == rich_piped(grid, width)


def test_the_function_table_of_ls_is_plain_text_off_a_terminal() -> None:
    specs = [
        FunctionSpec("send-email", "task", None, 3, None, 30, 10, "app/tasks.py:12"),
        FunctionSpec("daily-report", "cron", "15 10 * * *", 2, None, 30, 1, None),
        FunctionSpec("cleanup", "cron", "*/5 * * * *", 0, "5m", 300, 1, "app/crons.py:3"),
        FunctionSpec("[bold]", "task", None, 0, None, 30, 1, "app/[id].py:3"),
    ]
    for statuses in ({}, {"cleanup": "paused", "send-email": "inactive"}):
        for mode in ("platform", "documented"):
            grid = function_grid(specs, NOW, statuses=statuses, concurrency=mode)
            plain = grid.plain(200)
            assert plain is not None
            assert plain == rich_piped(grid, 200)
            assert "[bold]" in plain
    assert all(as_written(line) for line in CONCURRENCY_NOTE.split("\n"))  # `ls` prints it without Rich


def test_what_rich_would_lay_out_otherwise_is_left_to_rich() -> None:
    wide = Grid((Column("Name"), Column("Source")), [(cell("x" * 30), cell("y" * 30))])
    assert wide.plain(40) is None  # Rich stacks it as cards
    assert wide.plain(62) is not None
    for odd in ("tab\there", "\u4e00\u4e8c", "e\u0301", "bell\x07", " lead", "trail ", "two  spaces"):
        assert Grid((Column("Name"),), [(cell(odd),)]).plain(200) is None


@settings(max_examples=examples(200), deadline=None)
@given(texts, st.sampled_from(["", "dim"]))
def test_a_line_off_a_terminal_is_what_rich_prints(text: str, style: str) -> None:
    from rich.text import Text

    ours, theirs = io.StringIO(), io.StringIO()
    Terminal(out_file=ours).line(text, style)
    print_whole(make_console(file=theirs), Text(text, style=style))
    assert ours.getvalue() == theirs.getvalue()


@settings(max_examples=examples(200), deadline=None)
@given(texts)
def test_a_warning_off_a_terminal_is_what_rich_prints(text: str) -> None:
    """``Terminal.warn`` writes plain text without Rich when Rich would print it as written."""
    from rich.text import Text

    from pingback_cli.terminal import printable

    ours, theirs = io.StringIO(), io.StringIO()
    Terminal(err_file=ours).warn(text)
    print_whole(make_console(file=theirs), Text(f"warning: {printable(text)}", style="yellow"))
    assert ours.getvalue() == theirs.getvalue()


@settings(max_examples=examples(200), deadline=None)
@given(texts, st.none() | texts, st.none() | texts)
def test_an_error_off_a_terminal_is_what_rich_prints(
    message: str, hint: str | None, details: str | None
) -> None:
    """``Terminal.error`` likewise: its plain text is Rich's, byte for byte."""
    ours, theirs = io.StringIO(), io.StringIO()
    Terminal(err_file=ours).error(message, hint=hint, details=details)
    Terminal(err=make_console(file=theirs)).error(message, hint=hint, details=details)
    assert ours.getvalue() == theirs.getvalue()


def test_a_run_notice_off_a_terminal_imports_no_rich() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from pingback_cli.terminal import Terminal; "
        "Terminal().warn('a notice\\n  (said once)'); "
        "Terminal().error('bad', hint='do x', details='a\\n b'); "
        "print('rich' in sys.modules, file=sys.stdout)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
    assert done.stderr == "warning: a notice\n  (said once)\nerror: bad\nhint: do x\n  a\n   b\n"
