"""Execution trees: one node per execution, fan-out children under their parent, crowds and
long trees summarised; and the one-line count of a tree's statuses."""

from __future__ import annotations

from rich.text import Text
from rich.tree import Tree

from pingback_cli import times
from pingback_cli.models import SIMULATED, Attempt, Execution
from pingback_cli.render.cells import (
    STATUS_STYLES,
    compact_json,
    first_line,
    log_entry,
    ran_for,
    short_id,
    status_counts,
    status_icon,
)
from pingback_cli.render.output import output_details
from pingback_cli.terminal import glyph, printable

TREE_LINES = 500
"""About how many lines a tree may take before the rest is left out (JSON has it all)."""


HEAD_CHILDREN = 20
"""How many children a crowded node shows before summarising the rest."""


HIDDEN_FAILED = 20
"""How many failed children of a crowded node are listed after the summary."""


TRACEBACK_LINES = 8


def _node_label(execution: Execution, max_payload: int | None) -> Text:
    icon, style = status_icon(execution.status)
    label = Text()
    label.append(icon, style=style)
    label.append(" ")
    label.append(printable(execution.function), style="bold")
    if execution.type:
        label.append(f" {execution.type}", style="dim")
    if len(execution.attempts) > 1:
        label.append(f"  attempts: {len(execution.attempts)}", style="yellow")
    duration = ran_for(execution)
    if duration:
        label.append(f"  {duration}")
    label.append(f"  {short_id(execution.id)}", style="dim")
    if execution.replay_of:
        label.append(f"  replay of {short_id(execution.replay_of)}", style="magenta")
    if execution.trigger == SIMULATED:
        label.append("  simulated (pingback simulate --run)", style="magenta")
    if (execution.has_payload or execution.payload is not None) and _inline(execution.payload, max_payload):
        label.append("  payload ", style="dim")
        label.append(compact_json(execution.payload, max_payload))
    if execution.status == "success" and _inline(execution.result, max_payload):
        label.append(f"  {glyph('arrow')} {compact_json(execution.result, max_payload)}")
    elif execution.error:
        error_style = "yellow" if execution.status == "interrupted" else "red"
        label.append(f"  {first_line(execution.error)}", style=error_style)
    return label


FULL_INLINE = 60
"""With ``full``, a payload or result up to this long in one-line JSON stays on the node's line;
a longer one is printed whole under it, indented."""


def _inline(value: object, max_payload: int | None) -> bool:
    """Whether ``value`` goes on the node's line: always, cut to ``max_payload``; in full mode
    (``max_payload`` None) when it is short, else it is printed whole under the node."""
    if value is None:
        return False
    return max_payload is not None or len(compact_json(value)) <= FULL_INLINE


def _whole_values(execution: Execution) -> list[Text]:
    """In full mode: the payload and result too long for the node's line, as indented JSON, and
    an error of several lines whole."""
    import json

    lines: list[Text] = []
    values = [("payload", execution.payload if execution.has_payload else None)]
    if execution.status == "success":
        values.append(("result", execution.result))
    for name, value in values:
        if value is not None and not _inline(value, None):
            text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
            lines.append(Text.assemble((f"{name} ", "dim"), printable(text)))
    if execution.error and "\n" in execution.error.strip():
        style = "yellow" if execution.status == "interrupted" else "red"
        lines.append(Text(printable(execution.error.strip()), style=style))
    return lines


ATTEMPT_LOGS = 10
"""Logs shown under each earlier failed attempt (the last attempt's are the node's logs)."""


MAX_LOGS_PER_NODE = 50
"""A handler that logs 100,000 lines still makes a readable tree; JSON has them all."""


def _attempt_groups(attempts: list[Attempt]) -> list[list[Attempt]]:
    """Earlier unsuccessful attempts, consecutive ones that failed alike (same status and
    error, no logs) grouped, so a setup mistake repeated on every attempt reads once."""
    groups: list[list[Attempt]] = []
    for attempt in attempts:
        if attempt.status == "success":
            continue
        previous = groups[-1][-1] if groups else None
        if (
            previous is not None
            and not previous.logs
            and (previous.status, previous.error) == (attempt.status, attempt.error)
        ):
            groups[-1].append(attempt)
        else:
            groups.append([attempt])
    return groups


def _node_details(execution: Execution, show_logs: bool, full: bool = False) -> list[Text]:
    """The lines under a node: earlier failed attempts, logs, the last traceback; with
    ``full``, also whole values (``_whole_values``), and no log, output or traceback cut."""
    lines: list[Text] = _whole_values(execution) if full else []
    for group in _attempt_groups(execution.attempts[:-1]):
        first, last = group[0], group[-1]
        numbers = (
            f"attempt {first.number}"
            if first is last
            else f"attempts {first.number}{glyph('to')}{last.number}"
        )
        error = first_line(first.error or "?")
        said = "same error" if execution.error and error == first_line(execution.error) else error
        line = f"{numbers} {first.status}: {said}"
        duration = times.duration_ms(first.duration_ms) if first is last else None
        lines.append(Text(f"{line} ({duration})" if duration else line, style="dim"))
        if show_logs:  # what a failed attempt logged is often why it failed
            lines.extend(Text("  ").append_text(log_entry(e)) for e in last.logs[:ATTEMPT_LOGS])
            if len(last.logs) > ATTEMPT_LOGS:
                hidden = len(last.logs) - ATTEMPT_LOGS
                lines.append(Text(f"  {glyph('more')} {hidden:,} more", style="dim"))
    for attempt in execution.attempts:
        for notice in attempt.notices:
            lines.append(Text(f"{glyph('interrupted')} production: {printable(notice)}", style="yellow"))
    if show_logs:
        shown = execution.logs if full else execution.logs[:MAX_LOGS_PER_NODE]
        lines.extend(log_entry(entry) for entry in shown)
        hidden = len(execution.logs) - len(shown)
        if hidden > 0:
            lines.append(
                Text(
                    f"{glyph('more')} {hidden:,} more log entries: "
                    f"pingback show {short_id(execution.id)} --full",
                    style="dim",
                )
            )
        lines.extend(output_details(execution, full=full))
    if execution.attempts and execution.attempts[-1].traceback:
        tb = printable(execution.attempts[-1].traceback).rstrip().splitlines()
        start = 0 if full else max(0, len(tb) - TRACEBACK_LINES)
        while start > 0 and (_is_marker(tb[start]) or tb[start].startswith("    ")):
            start -= 1  # never begin at a ^^^^ marker or a source line without its File line
        shown = tb[start:]
        if start > 0:
            shown.insert(0, glyph("more"))
        lines.append(Text("\n".join(shown), style="dim"))
    return lines


def _is_marker(line: str) -> bool:
    """A traceback's ``^^^^~~~`` line under the code it points at."""
    return bool(line.strip()) and set(line.strip()) <= set("^~")


def _hidden_summary(hidden: list[Execution]) -> Text:
    """``… 9,975 more children: 9,975 success``: the children shown nowhere, by status (the
    failed ones printed after this line are not counted in it)."""
    text = Text(f"{glyph('more')} {len(hidden):,} more children: ", style="dim")
    for index, (count, status) in enumerate(status_counts(c.status for c in hidden)):
        if index:
            text.append(", ")
        text.append(f"{count:,} {status}", style="red" if status == "failed" else None)
    return text


def _add_children(
    node: Tree, children: list[Execution], max_children: int, max_payload: int | None
) -> list[tuple[Execution, Tree]]:
    """Add children's labels under ``node``, summarising a crowd; returns those added."""
    added: list[tuple[Execution, Tree]] = []

    def add(child: Execution) -> None:
        added.append((child, node.add(_node_label(child, max_payload))))

    if len(children) <= max_children:
        for child in children:
            add(child)
        return added
    head = min(HEAD_CHILDREN, max_children)
    for child in children[:head]:
        add(child)
    rest = children[head:]
    failed = [child for child in rest if child.status == "failed"][:HIDDEN_FAILED]
    shown = {id(child) for child in failed}
    node.add(_hidden_summary([child for child in rest if id(child) not in shown]))
    for child in failed:
        add(child)
    return added


def execution_tree(
    root: Execution,
    *,
    max_payload: int | None = 60,
    show_logs: bool = True,
    max_children: int = 50,
    max_lines: int = TREE_LINES,
    full: bool = False,
) -> Tree:
    """One node per execution, fan-out children nested under their parent.

    A node with more than ``max_children`` children shows the first few, a count by status
    of those it does not show, and then the failed ones among the rest (up to HIDDEN_FAILED).
    Past about ``max_lines`` lines the rest is left out, with one line saying how many
    executions and where they are. ``full`` (``pingback show --full``) cuts nothing: whole
    payloads, results and errors, every log and printed line kept, whole tracebacks, every
    child.
    """
    if full:
        max_payload, max_children, max_lines = None, 1 << 62, 1 << 62
    tree = Tree(_node_label(root, max_payload), guide_style="dim")
    stack: list[tuple[Execution, Tree]] = [(root, tree)]
    used = 1
    while stack and used < max_lines:
        execution, node = stack.pop()
        for line in _node_details(execution, show_logs, full):
            node.add(line)
            used += line.plain.count("\n") + 1
        added = _add_children(node, execution.children, max_children, max_payload)
        used += len(added)
        stack.extend(added)
    if stack:
        total = len(root.walk())
        more = f"{glyph('more')} only part of this tree of {total:,} executions is shown"
        tree.add(Text(f"{more}: pingback show {short_id(root.id)} --full shows all of it", style="dim"))
    return tree


def tree_summary(root: Execution) -> Text:
    """``10,001 executions · 10,000 success · 1 failed · 2.3s``."""
    executions = root.walk()
    total = len(executions)
    text = Text(f"{total:,} execution{'' if total == 1 else 's'}")
    for count, status in status_counts(e.status for e in executions):
        text.append(f" {glyph('dot')} ")
        text.append(f"{count:,} {status}", style=STATUS_STYLES.get(status, ""))
    ends = [e.completed_at for e in executions if e.completed_at is not None]
    if root.started_at is not None and len(ends) == total:
        text.append(f" {glyph('dot')} {times.duration(max(ends) - root.started_at)}")
    return text
