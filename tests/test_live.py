"""The live feed's policy on made-up events: a budget per tree, a running count, quiet mode."""

from __future__ import annotations

from typing import Any

import pytest

from pingback_cli import times
from pingback_cli.engine.engine import Event
from pingback_cli.live import COUNT_EVERY, LiveFeed
from pingback_cli.models import Execution, LogEntry

NOW = 1_764_324_000.0


@pytest.fixture(autouse=True)
def utc() -> Any:
    times.use_utc(True)
    yield
    times._forced_utc = None


def plain(lines: list[Any]) -> list[str]:
    return [getattr(line, "plain", str(line)) for line in lines]


def node(execution_id: str, function: str = "t", parent: Execution | None = None, **fields: Any) -> Execution:
    execution = Execution(
        id=execution_id,
        function=function,
        type="task",
        scheduled_at=NOW,
        parent_id=parent.id if parent else None,
        root_id=parent.root_id if parent else "",
        **fields,
    )
    if parent:
        parent.children.append(execution)
    return execution


def test_a_runaway_tree_is_capped_with_a_pointer_and_a_running_count() -> None:
    feed = LiveFeed("dev", lines_per_tree=10)
    root = node("a0000000-root", "runaway")
    printed = plain(feed.lines(Event("started", root, NOW)))
    for number in range(2 * COUNT_EVERY):
        child = node(f"c{number:07d}", "runaway", root)
        printed += plain(feed.lines(Event("started", child, NOW)))
        printed += plain(feed.lines(Event("failed", child, NOW, "boom")))
    assert len(printed) == 10 + 1 + 2  # the budget, the cap note, a count per COUNT_EVERY
    assert "runaway a0000000: live output capped at 10 lines" in printed[10]
    assert "pingback show a0000000 has everything" in printed[10]
    assert printed[-1].endswith(f"runaway a0000000: {2 * COUNT_EVERY:,} executions started so far")
    finished = plain(feed.lines(Event("finished", root, NOW)))
    assert finished[-1].startswith(f"{2 * COUNT_EVERY + 1:,} executions")


def test_quiet_keeps_failures_retries_skips_and_one_summary_per_tree() -> None:
    feed = LiveFeed("quiet")
    root = node("b0000000-root", "every-minute", status="success", duration_ms=5)
    root.started_at, root.completed_at = NOW, NOW + 0.005
    shown: list[str] = []
    for kind in ("fired", "started", "succeeded", "scheduled", "resumed"):
        shown += plain(feed.lines(Event(kind, root, NOW)))
    entry = LogEntry(1, "info", "hello")
    shown += plain(feed.lines(Event("log", root, NOW, log=entry)))
    assert shown == []
    assert plain(feed.lines(Event("retrying", root, NOW, "boom")))[0].split()[1:3] == [
        "retrying",
        "every-minute",
    ]
    [summary] = plain(feed.lines(Event("finished", root, NOW)))
    assert summary.split()[1:4] == ["finished", "every-minute", "b0000000"]
    assert "1 execution · 1 success" in summary


def test_logs_are_capped_per_execution_too() -> None:
    feed = LiveFeed("run", lines_per_tree=10_000)
    root = node("d0000000-root")
    entry = LogEntry(1, "info", "line")
    printed = [line for _ in range(500) for line in plain(feed.lines(Event("log", root, NOW, log=entry)))]
    assert len(printed) == 201 and "more logs are recorded but not shown live" in printed[-1]


def test_a_repeated_error_is_shown_once_then_collapsed() -> None:
    feed = LiveFeed("dev")
    shown: list[str] = []
    first = node("e1000000-aaaa", "send-email")
    for attempt in (1, 2, 3):
        first.attempt = attempt
        shown += plain(feed.lines(Event("retrying", first, NOW, "the app refused the signature (401)")))
    first.attempt = 4
    shown += plain(feed.lines(Event("failed", first, NOW, "the app refused the signature (401)")))
    second = node("e2000000-bbbb", "send-email", attempt=1)
    shown += plain(feed.lines(Event("failed", second, NOW, "the app refused the signature (401)")))
    assert len(shown) == 3, shown
    assert shown[0].endswith("the app refused the signature (401)")
    assert shown[1].endswith("failed      send-email  e1000000  same error on attempts 2–4")
    assert shown[2].endswith("failed      send-email  e2000000  same error as e1000000")


def test_printed_output_shows_under_its_execution_marked_local_and_shares_the_log_budget() -> None:
    from pingback_cli.live import LOGS_PER_EXECUTION
    from pingback_cli.models import OutputLine

    feed = LiveFeed("run")
    root = node("r1", "chatty")
    printed = []
    for number in range(LOGS_PER_EXECUTION + 5):
        line = OutputLine(0, "stdout", f"[bold]line {number}[/bold]")
        printed.extend(feed.lines(Event("output", root, NOW, line.text, output=line)))
    from rich.console import Console

    console = Console(width=200, record=True, file=__import__("io").StringIO())
    for item in printed:
        console.print(item)
    text = console.export_text()
    assert text.count("not sent to the platform") == 1  # once per execution, before its first line
    assert "chatty r1  stdout│ [bold]line 0[/bold]" in text  # verbatim, never markup
    assert f"line {LOGS_PER_EXECUTION - 1}[" in text and f"line {LOGS_PER_EXECUTION}[" not in text
    assert "more logs are recorded but not shown live" in text
    assert LiveFeed("quiet").lines(Event("output", root, NOW, "x", output=OutputLine(0, "stdout", "x"))) == []
