"""What a live view prints for each engine event, for `pingback dev` and `pingback run`: one
policy, so a runaway fan-out or a chatty cron never floods the terminal.

Each tree gets a budget of lines while it runs (``LINES_PER_TREE``); past it, one line says
where everything is, and a running count follows every ``COUNT_EVERY`` executions. A
finished tree prints as a tree (bounded by ``render.execution_tree``) and a summary line.
``quiet`` keeps failures, retries, skips and one summary line per tree. Builds renderables;
never prints.
"""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.text import Text

from pingback_cli.render.cells import short_id
from pingback_cli.render.events import event_line, log_line
from pingback_cli.render.trees import execution_tree, tree_summary
from pingback_cli.terminal import glyph, printable

LINES_PER_TREE = 300
"""Live lines (events and logs) per tree while it runs; the finished tree and its summary come
on top."""
LOGS_PER_EXECUTION = 200
COUNT_EVERY = 10_000
"""A capped tree says how many executions it has started every this many."""
REMEMBERED_ERRORS = 1_000
"""Distinct error texts remembered to say "same error as ..." (oldest forgotten first)."""
QUIET_KINDS = frozenset({"failed", "retrying", "skipped", "interrupted"})


class LiveFeed:
    """Turns engine events into the lines to print (``lines(event)``).

    ``mode``: "dev" (roots' starts, fires, schedules, every tree when it finishes), "run"
    (logs, retries and failures only; the caller prints the final tree), or "quiet"
    (`dev --quiet`)."""

    def __init__(self, mode: str = "dev", *, lines_per_tree: int = LINES_PER_TREE) -> None:
        self.mode = mode
        self.lines_per_tree = lines_per_tree
        self._used: dict[str, int] = {}
        self._started: dict[str, int] = {}
        self._names: dict[str, str] = {}
        self._logs: dict[str, int] = {}
        self._printed: set[str] = set()
        self._repeats = Repeats()

    def lines(self, event: Any) -> list[RenderableType]:
        execution = event.execution
        root = execution.root_id
        if execution.parent_id is None:
            self._names.setdefault(root, execution.function)
        if event.kind == "started":
            self._started[root] = self._started.get(root, 0) + 1
        if event.kind == "finished":
            return self._finished(execution, event.at)
        counted = self._count_line(root) if event.kind == "started" else []
        if not self._has_budget(root):  # past the cap: no line of this tree is shown, none is built
            return counted
        line = self._line(event)
        if line is None:
            return counted
        note = self._spend(root)
        shown = [*note, line] if self._has_budget(root) else note
        return [*shown, *counted]

    # -- what an event shows, before the budget ---------------------------------------

    def _line(self, event: Any) -> RenderableType | None:
        kind, execution = event.kind, event.execution
        if kind == "log":
            return self._log(event) if self.mode != "quiet" else None
        if kind == "output":
            return self._output(event) if self.mode != "quiet" else None
        if self.mode == "quiet" or self.mode == "run":
            if kind not in QUIET_KINDS or (self.mode == "run" and kind == "skipped"):
                return None
        elif kind in ("started", "succeeded") and execution.parent_id is not None:
            return None
        elif kind == "started" and execution.attempt > 1:
            return None  # the "retrying" line said it would; its outcome comes next
        detail = event.detail
        if kind in ("retrying", "failed") and detail:
            detail = self._repeats.detail(kind, execution, detail)
            if detail is None:
                return None
        return event_line(kind, execution, detail=detail, at=event.at)

    def _log(self, event: Any) -> RenderableType | None:
        if event.log is None:
            return None
        return self._budgeted(event.execution, lambda: log_line(event.execution, event.log))

    def _output(self, event: Any) -> RenderableType | None:
        """A printed line, under the same per-execution budget as logs; the first one of an
        execution comes with the note that printed output is not sent to the platform."""
        from pingback_cli.render.output import live_output_heading, live_output_line

        execution, line = event.execution, event.output
        if line is None:
            return None
        if execution.id in self._printed:
            return self._budgeted(execution, lambda: live_output_line(execution, line))
        self._printed.add(execution.id)
        from rich.console import Group

        return self._budgeted(
            execution, lambda: Group(live_output_heading(execution), live_output_line(execution, line))
        )

    def _budgeted(self, execution: Any, make: Any) -> RenderableType | None:
        """``make()`` while the execution has live log lines left; one note when they run out."""
        seen = self._logs[execution.id] = self._logs.get(execution.id, 0) + 1
        if seen > LOGS_PER_EXECUTION + 1:
            return None
        if seen == LOGS_PER_EXECUTION + 1:
            short = short_id(execution.id)
            return Text(
                f"  {printable(execution.function)} {short}  {glyph('more')} more logs are recorded "
                f"but not shown live (pingback show {short})",
                style="dim",
            )
        return make()

    # -- the per-tree budget -------------------------------------------------------------

    def _has_budget(self, root: str) -> bool:
        return self._used.get(root, 0) <= self.lines_per_tree

    def _spend(self, root: str) -> list[RenderableType]:
        """Count a line against ``root``'s budget; the line past it says the output is capped."""
        used = self._used[root] = self._used.get(root, 0) + 1
        if used != self.lines_per_tree + 1:
            return []
        return [
            Text(
                f"{glyph('more')} {self._who(root)}: live output capped at {self.lines_per_tree} lines "
                f"for this run; pingback show {short_id(root)} has everything",
                style="dim",
            )
        ]

    def _count_line(self, root: str) -> list[RenderableType]:
        started = self._started.get(root, 0)
        if self._has_budget(root) or started % COUNT_EVERY:
            return []
        return [
            Text(f"{glyph('more')} {self._who(root)}: {started:,} executions started so far", style="dim")
        ]

    def _who(self, root: str) -> str:
        name = self._names.get(root)
        return f"{printable(name)} {short_id(root)}" if name else short_id(root)

    # -- a finished tree -----------------------------------------------------------------

    def _finished(self, root: Any, at: float) -> list[RenderableType]:
        for key in (self._used, self._started, self._names):
            key.pop(root.id, None)
        for done in root.walk():
            self._logs.pop(done.id, None)
            self._printed.discard(done.id)
            self._repeats.forget(done.id)
        if self.mode == "run":
            return []
        if self.mode == "quiet":
            return [event_line("finished", root, detail=tree_summary(root).plain, at=at)]
        # Always the tree: for a task with no logs or children it is the one line with its
        # result, which the summary does not show.
        return [execution_tree(root), tree_summary(root)]


class Repeats:
    """Says an error once: an attempt failing like the one before it prints nothing until the
    execution fails for good (``same error on attempts 2–4``), and an error another execution
    already showed in full is named by that execution (``same error as a1b2c3d4``). A setup
    mistake (a wrong secret, a wrong route, an app that is not running) fails every attempt
    of every execution the same way; this keeps it to one full line."""

    def __init__(self) -> None:
        self._streaks: dict[str, tuple[str, int]] = {}
        self._shown_by: dict[str, str] = {}

    def detail(self, kind: str, execution: Any, error: str) -> str | None:
        """The text to show for attempt ``execution.attempt`` failing with ``error`` (``kind``:
        retrying or failed); None to show nothing."""
        streak = self._streaks.get(execution.id)
        if streak is not None and streak[0] == error:
            if kind == "retrying":
                return None
            del self._streaks[execution.id]
            first, last = streak[1] + 1, execution.attempt
            span = f"attempt {first}" if first == last else f"attempts {first}{glyph('to')}{last}"
            return f"same error on {span}"
        if kind == "retrying":
            self._streaks[execution.id] = (error, execution.attempt)
        else:
            self._streaks.pop(execution.id, None)
        if len(self._shown_by) >= REMEMBERED_ERRORS:
            del self._shown_by[next(iter(self._shown_by))]
        first_shown = self._shown_by.setdefault(error, short_id(execution.id))
        return error if first_shown == short_id(execution.id) else f"same error as {first_shown}"

    def forget(self, execution_id: str) -> None:
        self._streaks.pop(execution_id, None)
