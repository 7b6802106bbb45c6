"""Output on terminals that are not UTF-8: glyphs fall back to ASCII, user text is escaped,
nothing raises."""

from __future__ import annotations

import io
import json
import sys

import pytest

from pingback_cli.models import Execution
from pingback_cli.render.trees import execution_tree, tree_summary
from pingback_cli.terminal import Terminal, make_console, protect, use_ascii_glyphs


@pytest.fixture
def ascii_glyphs() -> object:
    use_ascii_glyphs(True)
    yield
    use_ascii_glyphs(False)


def stream(encoding: str) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(), encoding=encoding, write_through=True)


def written(text_stream: io.TextIOWrapper) -> str:
    buffer = text_stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode(text_stream.encoding)


def tree() -> Execution:
    root = Execution(id="a" * 8 + "-0", function="café-ñ 日本", type="task", scheduled_at=0.0)
    root.status, root.started_at, root.completed_at, root.result = "success", 0.0, 0.5, {"x": "☃"}
    child = Execution(id="b" * 8 + "-1", function="child", type="task", scheduled_at=0.0, parent_id=root.id)
    child.status, child.error = "failed", "boom"
    root.children.append(child)
    return root


@pytest.mark.parametrize("encoding", ["cp1252", "ascii", "latin-1"])
def test_a_tree_prints_on_any_encoding(encoding: str, ascii_glyphs: object) -> None:
    out = stream(encoding)
    terminal = Terminal(out=make_console(file=out), err=make_console(file=stream(encoding)))
    terminal.print(execution_tree(tree()))
    terminal.print(tree_summary(tree()))
    text = written(out)
    assert text.startswith("+ ")  # the success mark, in ASCII
    assert "x child" in text  # the failed mark
    assert "->" in text and "`--" in text
    assert "\\u65e5\\u672c" in text  # user text escaped, not dropped
    if encoding == "ascii":
        assert "caf\\xe9-\\xf1" in text


def test_utf8_streams_are_left_alone() -> None:
    out = stream("utf-8")
    make_console(file=out).print(execution_tree(tree()))
    assert written(out).startswith("✓ café-ñ 日本")
    assert out.errors == "strict"


def test_a_chosen_error_handler_is_kept() -> None:
    out = io.TextIOWrapper(io.BytesIO(), encoding="ascii", errors="replace")
    assert protect(out).errors == "replace"


def test_user_text_is_escaped_never_replaced(ascii_glyphs: object) -> None:
    err = stream("ascii")
    terminal = Terminal(out=make_console(file=stream("ascii")), err=make_console(file=err))
    terminal.error("no function “ünï” → check", hint="did you mean ✓?")
    terminal.warn("⚠ careful")
    assert written(err).splitlines() == [
        "error: no function \\u201c\\xfcn\\xef\\u201d \\u2192 check",
        "hint: did you mean \\u2713?",
        "warning: \\u26a0 careful",
    ]


def test_the_cli_picks_ascii_glyphs_for_a_stdout_that_is_not_utf(monkeypatch: pytest.MonkeyPatch) -> None:
    from pingback_cli.terminal import glyph, protect_std_streams

    monkeypatch.setattr(sys, "stdout", stream("cp1252"))
    monkeypatch.setattr(sys, "stderr", stream("cp1252"))
    try:
        protect_std_streams()
        assert (glyph("success"), glyph("arrow")) == ("+", "->")
        sys.stdout.write("\u2603")
        assert written(sys.stdout) == "\\u2603"  # type: ignore[arg-type]
    finally:
        use_ascii_glyphs(False)


def test_json_on_an_ascii_stdout_is_escaped_json(monkeypatch: pytest.MonkeyPatch) -> None:
    out = stream("ascii")
    monkeypatch.setattr(sys, "stdout", out)
    Terminal(out=make_console(file=stream("ascii")), err=make_console(file=stream("ascii"))).json(
        {"function": "café ✓", "ratio": float("nan")}
    )
    text = written(out)
    assert text.isascii()
    assert json.loads(text) == {"function": "café ✓", "ratio": "NaN"}


def long_failure() -> Execution:
    root = Execution(id="c" * 8 + "-0", function="long", type="task", scheduled_at=0.0)
    root.status, root.started_at, root.completed_at = "failed", 0.0, 0.1
    root.error = "RuntimeError: " + "E" * 300 + "ERREND"
    return root


def test_a_tree_off_a_terminal_is_never_cut() -> None:
    out = io.StringIO()
    Terminal(out=make_console(file=out)).print(execution_tree(long_failure()))
    assert "RuntimeError: " + "E" * 300 + "ERREND" in out.getvalue()


def test_a_tree_on_a_terminal_still_wraps_to_its_width() -> None:
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, width=60, force_terminal=True, color_system=None, markup=False)
    Terminal(out=console).print(execution_tree(long_failure()))
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 60 and "ERREND" in out.getvalue()


def test_warnings_and_errors_off_a_terminal_are_whole() -> None:
    err = io.StringIO()
    terminal = Terminal(err=make_console(file=err))
    terminal.warn("w" * 400 + "WARNEND")
    terminal.error("e" * 400 + "ERREND", hint="h" * 300 + "HINTEND", details="d" * 300 + "DETAILEND")
    for end in ("WARNEND", "ERREND", "HINTEND", "DETAILEND"):
        assert end in err.getvalue()


def test_a_table_off_a_terminal_still_stacks_at_the_width_it_was_given() -> None:
    from rich.table import Table

    from pingback_cli.layout import FitTable

    table = Table("Name", "Detail")
    table.add_row("one", "x" * 120 + "TAIL")
    out = io.StringIO()
    console = make_console(file=out)
    console.width = 80
    Terminal(out=console).print(FitTable(table))
    text = out.getvalue()
    assert text.startswith("one\n") and "Detail " in text and "TAIL" in text


def test_our_own_punctuation_falls_back_to_ascii(ascii_glyphs: object) -> None:
    from pingback_cli.models import Attempt, OutputLine

    root = Execution(id="d" * 8 + "-0", function="same", type="task", scheduled_at=0.0)
    root.status, root.started_at, root.completed_at, root.error = "failed", 0.0, 6.0, "boom"
    root.attempt, root.duration_ms = 3, 1
    root.attempts = [Attempt(n, "failed", n * 2.0, n * 2.0 + 0.001, 1, error="boom") for n in (1, 2, 3)]
    root.attempts[-1].output = [OutputLine(0, "stdout", "hello")]
    out = stream("ascii")
    Terminal(out=make_console(file=out)).print(execution_tree(root))
    text = written(out)
    assert "attempts 1-2 failed: same error" in text
    assert "last attempt 1ms | total 6.0s" in text and "stdout| hello" in text
    assert "\\u" not in text, text  # nothing of ours escaped


def test_no_printed_line_ends_in_spaces_on_a_terminal_or_off_it() -> None:
    """Rich pads table cells to their column's width; the terminal drops that padding at the
    end of each line (``pingback ls | cat -A`` showed spaces before every ``$``)."""
    from rich.console import Console
    from rich.table import Table

    table = Table("Name", "Detail", box=None)
    table.add_row("a-long-name", "x")
    table.add_row("b", "a longer detail")
    piped = io.StringIO()
    Terminal(out=make_console(file=piped)).print(table)
    tty = io.StringIO()
    Terminal(out=Console(file=tty, width=60, force_terminal=True, color_system=None)).print(table)
    for text in (piped.getvalue(), tty.getvalue()):
        assert text.splitlines() == [line.rstrip() for line in text.splitlines()], text
        assert "b            a longer detail" in text and text.endswith("\n")


def test_plain_lines_are_written_whole_and_escaped() -> None:
    out = io.StringIO()
    Terminal(out=make_console(file=out)).lines((f"line {n}\x1b[31m" for n in range(5_001)), chunk=2_000)
    lines = out.getvalue().splitlines()
    assert len(lines) == 5_001 and lines[-1] == "line 5000\\x1b[31m"
