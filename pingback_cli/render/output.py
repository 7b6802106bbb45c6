"""How a handler's printed output (``Attempt.output``) reads: live under its execution, and in
trees. Always marked local: the platform keeps only ``ctx.log()`` lines (``worker/capture.py``).
Returns Rich renderables; never prints."""

from __future__ import annotations

from rich.text import Text

from pingback_cli.models import Execution, OutputLine
from pingback_cli.terminal import glyph, printable

NOT_SENT = "printed output: local only, not sent to the platform (it keeps ctx.log() lines)"
TREE_OUTPUT_LINES = 20
"""Output lines shown per attempt in a tree; ``--json`` has all that was kept."""


def output_entry(line: OutputLine) -> Text:
    """``stdout│ Sent 3 emails``: the stream dim, the text verbatim (never markup)."""
    style = "yellow" if line.stream == "stderr" else None
    text = Text(f"{printable(line.stream):<6}{glyph('bar')} ", style="dim")
    text.append(printable(line.text), style="dim" if line.stream == "pingback" else style)
    return text


def live_output_heading(execution: Execution) -> Text:
    """The note before an execution's first live output line."""
    return _prefixed(execution, Text(f"{glyph('more')} {NOT_SENT}", style="dim italic"))


def live_output_line(execution: Execution, line: OutputLine) -> Text:
    """``  send-email a1b2c3d4  stdout│ Sent 3 emails`` while a run streams."""
    return _prefixed(execution, output_entry(line))


def _prefixed(execution: Execution, body: Text) -> Text:
    line = Text("  ")
    line.append(printable(execution.function), style="bold")
    line.append(f" {execution.id[:8]}  ", style="dim")
    return line.append_text(body)


def output_details(execution: Execution, *, full: bool = False) -> list[Text]:
    """The output lines under a tree node: each attempt's (named when several printed), at most
    ``TREE_OUTPUT_LINES`` each (every one with ``full``), under one note that they were not
    sent to the platform."""
    printed = [attempt for attempt in execution.attempts if attempt.output]
    if not printed:
        return []
    lines = [Text(NOT_SENT, style="dim italic")]
    for attempt in printed:
        indent = ""
        if len(printed) > 1 or len(execution.attempts) > 1:
            lines.append(Text(f"  attempt {attempt.number}:", style="dim"))
            indent = "    "
        kept = attempt.output if full else attempt.output[:TREE_OUTPUT_LINES]
        lines.extend(Text(indent).append_text(output_entry(line)) for line in kept)
        hidden = len(attempt.output) - len(kept)
        if hidden > 0:
            lines.append(
                Text(
                    f"{indent}{glyph('more')} {hidden:,} more lines: pingback show {execution.id[:8]} --full",
                    style="dim",
                )
            )
    return lines
