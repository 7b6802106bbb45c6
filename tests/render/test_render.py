from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import pytest
from rich.console import Console, RenderableType
from rich.text import Text

from pingback_cli.models import Attempt, Execution, FunctionSpec, FunctionType, LogEntry
from pingback_cli.render.events import event_line, log_line
from pingback_cli.render.functions import function_json, function_table
from pingback_cli.render.runs import runs_table
from pingback_cli.render.trees import execution_tree, tree_summary
from pingback_cli.terminal import PIPE_WIDTH, Terminal, make_console, printable

NOW = datetime(2026, 11, 28, 10, 8, tzinfo=timezone.utc).timestamp()
TRACEBACK = (
    "Traceback (most recent call last):\n"
    + "".join(f'  File "app/tasks.py", line {n}, in charge\n' for n in range(1, 11))
    + "ValueError: card declined\n"
)
COLOUR_CODES = {str(code) for code in (*range(30, 40), *range(90, 98), 48)}


def render(renderable: RenderableType, width: int = 120) -> str:
    stream = io.StringIO()
    Console(file=stream, width=width, color_system=None).print(renderable)
    return stream.getvalue()


def sgr_params(output: str) -> set[str]:
    return {p for seq in re.findall(r"\x1b\[([0-9;]*)m", output) for p in seq.split(";")}


@pytest.fixture(autouse=True)
def utc() -> Any:
    """Times in UTC whatever the machine's zone (``times`` has its own zone tests)."""
    from pingback_cli import times

    times.use_utc(True)
    yield
    times._forced_utc = None


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "COLUMNS", "TERM"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def execution(
    execution_id: str, function: str, type_: FunctionType | None = "task", **fields: Any
) -> Execution:
    return Execution(id=execution_id, function=function, type=type_, scheduled_at=NOW, **fields)


def fan_out_tree() -> Execution:
    charge = execution(
        "c3d4e5f6-0000-0000-0000-000000000000",
        "charge",
        status="failed",
        error="ValueError: card declined",
        duration_ms=40,
        attempts=[
            Attempt(1, "failed", NOW, duration_ms=40, error="ValueError: card declined"),
        ],
    )
    charge.attempts[0].traceback = TRACEBACK
    ghost = execution(
        "d4e5f6a7-0000-0000-0000-000000000000",
        "ghost",
        None,
        status="failed",
        error='task "ghost" is not registered',
    )
    send = execution(
        "b2c3d4e5-0000-0000-0000-000000000000",
        "send-email",
        payload={"id": "e1"},
        has_payload=True,
        status="success",
        result={"ok": True},
        duration_ms=12,
        attempts=[
            Attempt(1, "failed", NOW, duration_ms=1200, error="TimeoutError: smtp"),
            Attempt(2, "success", NOW, duration_ms=12),
        ],
        logs=[
            LogEntry(0, "info", "Sent email", {"to": "a@b.c", "tries": 2}),
            LogEntry(0, "warn", "slow relay", {"note": "took a while"}),
        ],
        children=[charge, ghost],
    )
    return execution(
        "a1b2c3d4-0000-0000-0000-000000000000",
        "send-emails",
        "cron",
        status="failed",
        started_at=NOW,
        completed_at=NOW + 1.0,
        duration_ms=900,
        error="1 child failed",
        logs=[LogEntry(0, "debug", "batch", {"size": 2})],
        children=[send],
    )


def test_tree_nests_children_with_attempts_logs_and_tracebacks() -> None:
    out = render(execution_tree(fan_out_tree()))
    lines = out.splitlines()
    assert lines[0] == "✗ send-emails cron  900ms  a1b2c3d4  1 child failed"
    assert "├── debug batch  size=2" in out
    assert '└── ✓ send-email task  attempts: 2  12ms  b2c3d4e5  payload {"id":"e1"}  → {"ok":true}' in out
    assert "    ├── attempt 1 failed: TimeoutError: smtp (1.2s)" in out
    assert "    ├── info  Sent email  to=a@b.c tries=2" in out
    assert '    ├── warn  slow relay  note="took a while"' in out
    assert "    ├── ✗ charge task  40ms  c3d4e5f6  ValueError: card declined" in out
    assert '    └── ✗ ghost  d4e5f6a7  task "ghost" is not registered' in out
    # The last eight traceback lines, under the failed node, indented by the tree.
    assert '    │   └── …\n    │         File "app/tasks.py", line 4, in charge' in out
    assert "    │       ValueError: card declined" in out
    assert "line 3," not in out
    assert "Traceback (most recent call last)" not in out


def test_tree_without_logs_keeps_attempt_history() -> None:
    out = render(execution_tree(fan_out_tree(), show_logs=False))
    assert "Sent email" not in out
    assert "attempt 1 failed: TimeoutError: smtp (1.2s)" in out


def test_payload_and_result_are_shortened() -> None:
    root = execution(
        "e5f6a7b8-0000",
        "bulk",
        payload={"ids": list(range(100))},
        has_payload=True,
        status="success",
        result="x" * 200,
    )
    label = render(execution_tree(root, max_payload=20)).splitlines()[0]
    assert label == '✓ bulk task  e5f6a7b8  payload {"ids":[0,1,2,3,4,5…  → "xxxxxxxxxxxxxxxxxx…'


def test_tree_summary_counts_and_spans_the_whole_tree() -> None:
    root = fan_out_tree()
    for node in root.walk():
        node.completed_at = NOW + 2.345
    assert tree_summary(root).plain == "4 executions · 1 success · 3 failed · 2.3s"
    single = execution("f", "one", status="running")
    assert tree_summary(single).plain == "1 execution · 1 running"


def test_user_text_that_looks_like_markup_is_printed_verbatim() -> None:
    root = execution(
        "a1b2c3d4-0000",
        "[bold]x[/bold]",
        payload={"path": "app/[id].py", "face": ":smile:"},
        has_payload=True,
        status="failed",
        error="[Errno 2] No such file: 'app/[id].py'",
        logs=[LogEntry(0, "error", "[red]oops[/red] :smile:", {"file": "app/[id].py"})],
    )
    out = render(execution_tree(root))
    assert (
        "✗ [bold]x[/bold] task  a1b2c3d4  payload "
        '{"path":"app/[id].py","face":":smile:"}  [Errno 2] No such file: \'app/[id].py\''
    ) in out
    assert "error [red]oops[/red] :smile:  file=app/[id].py" in out
    assert "😄" not in out

    spec = FunctionSpec("[bold]", "task", None, 0, None, 30, 1, "app/[id].py:3")
    table = render(function_table([spec], NOW))
    assert "[bold]" in table
    assert "app/[id].py:3" in table

    line = event_line("failed", root, at=NOW)
    assert render(line).rstrip("\n").endswith("[Errno 2] No such file: 'app/[id].py'")
    assert "[red]oops[/red] :smile:" in render(log_line(root, root.logs[0]))


def test_control_characters_in_user_text_are_escaped() -> None:
    assert printable("a\x1b[2Jb\tc\r\nd\x07") == "a\\x1b[2Jb\tc\nd\\x07"
    root = execution("a1b2c3d4", "job", status="failed", error="bad \x1b[31mred")
    assert "bad \\x1b[31mred" in render(execution_tree(root))


def test_ten_thousand_children_are_summarised() -> None:
    root = execution("root0000-0000", "fan", "cron", status="success", duration_ms=1000)
    root.children = [
        execution(
            f"{n:08d}-child",
            "child",
            status="failed" if n % 2000 == 1999 else "success",
            error="boom" if n % 2000 == 1999 else None,
        )
        for n in range(10_000)
    ]
    out = render(execution_tree(root))
    lines = out.splitlines()
    assert len(lines) == 1 + 20 + 1 + 5
    assert "├── ✓ child task  00000019" in lines[20]
    # 20 shown + 9,975 counted + 5 shown failed = 10,000: nothing counted twice
    assert lines[21] == "├── … 9,975 more children: 9,975 success"
    assert lines[22] == "├── ✗ child task  00001999  boom"
    assert lines[26] == "└── ✗ child task  00009999  boom"
    assert tree_summary(root).plain == "10,001 executions · 9,996 success · 5 failed"


def test_hidden_failures_beyond_the_limit_are_counted() -> None:
    root = execution("root0000", "fan", "cron", status="failed")
    root.children = [execution(f"{n:08d}", "child", status="failed") for n in range(100)]
    out = render(execution_tree(root, max_children=10))
    assert "├── … 70 more children: 70 failed" in out  # the 20 failed shown below are not in it
    assert out.count("✗ child") == 10 + 20
    assert out.splitlines()[-1].startswith("└── ✗ child")


def specs() -> list[FunctionSpec]:
    return [
        FunctionSpec("send-email", "task", None, 3, None, 30, 10, "app/tasks.py:12"),
        FunctionSpec("daily-report", "cron", "15 10 * * *", 2, None, 30, 1, None),
        FunctionSpec("cleanup", "cron", "*/5 * * * *", 0, "5m", 300, 1, "app/crons.py:3"),
    ]


def test_function_table_lists_crons_then_tasks_with_schedule_details() -> None:
    out = render(function_table(specs(), NOW))
    lines = [line.rstrip() for line in out.splitlines()]
    assert lines[0].split() == [
        "Name",
        "Type",
        "Schedule",
        "Next",
        "run",
        "Retries",
        "Timeout",
        "Concurrency*",  # not enforced by the platform: said once, under the table
        "Source",
    ]
    assert "not enforced" not in out
    names = [line.split()[0] for line in lines[1:] if line and not line.startswith(" ")]
    assert names == ["cleanup", "daily-report", "send-email"]
    assert re.search(r"cleanup +cron +\*/5 \* \* \* \* UTC +2026-11-28 10:10:00 UTC +0 +5m", out)
    assert re.search(r"Every 5 minutes +in 2m", out)
    assert re.search(r"daily-report +cron +15 10 \* \* \* UTC +2026-11-28 10:15:00 UTC +2 +30s +1 +—", out)
    assert re.search(r"At 10:15 +in 7m", out)
    assert re.search(r"send-email +task +— +— +3 +30s +10 +app/tasks\.py:12", out)
    assert "app/crons.py:3" in out


def test_function_table_says_the_real_gaps_of_an_uneven_schedule() -> None:
    uneven = FunctionSpec("uneven", "cron", "*/7 * * * *", 0, None, 30, 1)
    never = FunctionSpec("never", "cron", "0 0 31 4,6,9,11 *", 0, None, 30, 1)
    out = " ".join(render(function_table([uneven, never], NOW), width=200).split())
    assert "every 7 minutes within the hour; the gap across the hour is 4 minutes" in out
    assert re.search(r"never +cron +0 0 31 4,6,9,11 \* UTC +never", out)


def test_function_json_adds_description_and_next_run() -> None:
    task, _, cron = specs()
    assert function_json(cron, NOW) == {
        **cron.to_json(),
        "description": "Every 5 minutes",
        "nextRunAt": "2026-11-28T10:10:00.000Z",
    }
    assert function_json(task, NOW) == {**task.to_json(), "description": None, "nextRunAt": None}


@dataclass
class Summary:
    execution: Execution
    descendants: int = 0
    failed_descendants: int = 0
    unfinished_descendants: int = 0


def test_runs_table() -> None:
    started = datetime(2026, 11, 28, 10, 15, 2, tzinfo=timezone.utc).timestamp()
    runs = [
        Summary(
            execution(
                "a1b2c3d4-0000",
                "send-emails",
                "cron",
                status="failed",
                started_at=started,
                duration_ms=2300,
                trigger="cron",
            ),
            descendants=12,
            failed_descendants=2,
        ),
        Summary(execution("b2c3d4e5-0000", "send-email", status="pending")),
        Summary(
            execution("c3d4e5f6-0000", "sync", status="running", started_at=started),
            descendants=1_200,
            unfinished_descendants=7,
        ),
    ]
    lines = [line.rstrip() for line in render(runs_table(runs)).splitlines()]
    assert lines[0].split() == [
        "ID",
        "Function",
        "Status",
        "Started",
        "Duration",
        "Children",
        "Trigger",
    ]
    assert re.fullmatch(
        r"a1b2c3d4 +send-emails +✗ failed +2026-11-28 10:15:02 UTC +2\.3s +12 \(2 failed\) +cron",
        lines[1],
    )
    # A pending run shows when it is due, the time the list is ordered by.
    assert re.fullmatch(r"b2c3d4e5 +send-email +○ pending +2026-11-28 10:08:00 UTC due +— +— +run", lines[2])
    assert re.fullmatch(
        r"c3d4e5f6 +sync +● running +2026-11-28 10:15:02 UTC +— +1,200 \(7 unfinished\) +run",
        lines[3],
    )


def test_event_lines() -> None:
    at = NOW + 0.123
    run = execution("a1b2c3d4-0000", "send-emails", "cron", duration_ms=12, error="boom\nmore")
    # Kinds are padded to the longest ("interrupted") so function names line up.
    assert event_line("fired", run, at=at).plain == "10:08:00.123  fired       send-emails  a1b2c3d4"
    assert event_line("started", run, at=at).plain.startswith("10:08:00.123  started     send")
    assert (
        event_line("retrying", run, at=at, detail="in 2s: boom").plain
        == "10:08:00.123  retrying    send-emails  a1b2c3d4  in 2s: boom"
    )
    assert event_line("succeeded", run, at=at).plain.endswith("succeeded   send-emails  a1b2c3d4  12ms")
    assert event_line("failed", run, at=at).plain.endswith("a1b2c3d4  boom")
    assert event_line("skipped", run, at=at, detail="already running").plain.endswith(
        "skipped     send-emails  a1b2c3d4  already running"
    )
    assert event_line("interrupted", run, at=at).plain.startswith("10:08:00.123  interrupted send")
    assert isinstance(event_line("fired", run), Text)


def test_log_line() -> None:
    run = execution("a1b2c3d4-0000", "send-email")
    entry = LogEntry(0, "info", "Sent email", {"to": "a@b.c"})
    assert log_line(run, entry).plain == "  send-email a1b2c3d4  info  Sent email  to=a@b.c"
    error = LogEntry(0, "error", "failed", {"detail": {"code": 5}})
    assert log_line(run, error).plain.endswith('error failed  detail={"code":5}')


def test_make_console_on_a_pipe_is_plain_and_wide(clean_env: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    console = make_console(file=stream)
    assert console.width == PIPE_WIDTH
    long_line = "word " * 60
    console.print(Text(long_line.strip(), style="bold red"))
    console.print(execution_tree(fan_out_tree()))
    output = stream.getvalue()
    assert "\x1b" not in output
    assert output.splitlines()[0] == long_line.strip()

    clean_env.setenv("COLUMNS", "90")
    assert make_console(file=io.StringIO()).width == 90


def test_no_color_removes_colour_even_when_forced(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FORCE_COLOR", "1")
    forced = io.StringIO()
    make_console(file=forced).print(Text("x", style="red"))
    assert sgr_params(forced.getvalue()) & COLOUR_CODES  # the control: colour does appear

    clean_env.setenv("NO_COLOR", "1")
    plain = io.StringIO()
    console = make_console(file=plain)
    console.print(execution_tree(fan_out_tree()))
    console.print(Text("x", style="red"))
    console.print(Text("label", style="bold dim"))
    assert not sgr_params(plain.getvalue()) & COLOUR_CODES
    assert "\x1b" not in plain.getvalue()  # no bold or dim either: NO_COLOR is plain text


def test_terminal_error_and_warn_go_to_stderr_verbatim(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = Terminal()
    terminal.error(
        "[Errno 2] cannot open app/[id].py",
        hint="check the [bold]path[/bold] :smile:",
        details="Traceback:\n  boom\n",
    )
    terminal.warn("[yellow]careful[/yellow]")
    terminal.print(Text("done [ok]"))
    captured = capsys.readouterr()
    assert captured.err == (
        "error: [Errno 2] cannot open app/[id].py\n"
        "hint: check the [bold]path[/bold] :smile:\n"
        "  Traceback:\n"
        "    boom\n"
        "warning: [yellow]careful[/yellow]\n"
    )
    assert captured.out == "done [ok]\n"


def test_terminal_json_is_raw_json(capsys: pytest.CaptureFixture[str]) -> None:
    data = {"name": "[bold]é", "n": [1, 2]}
    Terminal().json(data)
    out = capsys.readouterr().out
    # Not a terminal: compact, so the C encoder serialises 10,000-execution trees quickly.
    assert out == json.dumps(data, ensure_ascii=False) + "\n"
    assert json.loads(out) == data


def test_a_cut_traceback_never_starts_at_a_marker_or_a_bare_source_line() -> None:
    frames = "".join(
        f'  File "app/tasks.py", line {n}, in step{n}\n    value = compute(x)\n            ^^^^^^^^^^\n'
        for n in range(1, 6)
    )
    failed = execution(
        "f1000000-0000",
        "fails",
        status="failed",
        error="ValueError: bad",
        attempts=[
            Attempt(
                1, "failed", NOW, traceback=f"Traceback (most recent call last):\n{frames}ValueError: bad\n"
            )
        ],
    )
    out = render(execution_tree(failed))
    body = [line.strip("│└├─ ") for line in out.splitlines()[1:]]
    first = next(line for line in body if line and line != "…")
    assert first.startswith('File "app/tasks.py"'), out


def test_a_full_tree_cuts_nothing() -> None:
    """``show --full``: a long payload printed whole under its node (a short one stays on the
    line), every log, a multi-line error and the whole traceback; the default tree cuts them."""
    long_payload = {f"key{n}": "v" * 10 for n in range(12)}
    root = execution(
        "a1b2c3d4",
        "job",
        status="failed",
        payload=long_payload,
        has_payload=True,
        error="ValueError: bad\nsecond line of the error",
        logs=[LogEntry(1, "info", f"log {n}") for n in range(60)],
        attempts=[Attempt(1, "failed", NOW, NOW + 1, 1000, traceback=TRACEBACK)],
    )
    root.children = [execution("e5f6a7b8", "leaf", payload={"n": 1}, has_payload=True, status="success")]
    cut = render(execution_tree(root))
    assert "key11" not in cut and "log 59" not in cut and "second line" not in cut
    assert "line 1, in charge" not in cut
    full = render(execution_tree(root, full=True), width=200)
    assert '  "key11": "vvvvvvvvvv"' in full and "log 59" in full and "more log entries" not in full
    assert "second line of the error" in full and "line 1, in charge" in full
    assert 'payload {"n":1}' in full  # short: on its node's line


def test_a_run_cancelled_before_it_started_shows_when_it_was_cancelled() -> None:
    """It is listed at its cancel time (``codec.listed_at``), so that is the time its row shows."""
    cancelled_at = datetime(2026, 11, 28, 10, 20, tzinfo=timezone.utc).timestamp()
    gone = execution("d4e5f6a7-0000", "leaf", status="cancelled", completed_at=cancelled_at)
    gone.scheduled_at = cancelled_at + 3600  # it was due in an hour
    [_, row] = [line.rstrip() for line in render(runs_table([Summary(gone)])).splitlines()]
    assert re.search(r"cancelled +2026-11-28 10:20:00 UTC cancelled", row), row
