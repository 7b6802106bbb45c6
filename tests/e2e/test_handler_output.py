"""What a handler prints or logs through ``logging`` is shown under its execution, kept in
history (``show``, ``--json``) and marked as not sent to the platform, through the installed
command; concurrent children never get each other's lines."""

from __future__ import annotations

import re
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import run_cli, run_in_process, walk
from reliability.helpers import DevServer, kill_workers

NOT_SENT = "not sent to the platform"
CHILDREN = 6

JOBS = textwrap.dedent(
    f"""
    import logging
    import os
    import sys
    import time

    from pingback import Pingback

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("jobs")
    pb = Pingback(api_key="k", cron_secret=os.environ["PINGBACK_CRON_SECRET"],
                  platform_url=os.environ.get("PINGBACK_PLATFORM_URL"))


    @pb.task("chatty")
    def chatty(ctx):
        print("hello from print")
        print("to stderr", file=sys.stderr)
        log.info("through logging")
        ctx.log("through ctx.log")
        for number in range({CHILDREN}):
            ctx.task("child", {{"n": number}})
        return "ok"


    @pb.task("verbose")
    def verbose(ctx):
        for number in range(60):
            ctx.log(f"log {{number}}")
        for number in range(70):  # 70 KiB: past the 64 KiB an attempt keeps
            print(f"line {{number}} " + "x" * 1010)
        return {{f"key{{number}}": "v" * 20 for number in range(10)}}


    @pb.task("child", concurrency={CHILDREN})
    def child(ctx, payload):
        for line in range(5):
            print(f"child {{payload['n']}} line {{line}}")
            time.sleep(0.02)
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "printing"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "printing"\nversion = "0"\n', encoding="utf-8")
    (root / "jobs.py").write_text(JOBS, encoding="utf-8")
    yield root
    kill_workers(root)


def texts(execution: dict) -> list[tuple[str, str]]:
    return [(line["stream"], line["text"]) for a in execution["attempts"] for line in a.get("output", [])]


def test_run_json_keeps_each_executions_output_on_its_attempt(project: Path) -> None:
    result = run_cli(project, "run", "chatty", "--json")
    assert result.returncode == 0, result.brief()
    root = result.json()
    assert texts(root) == [
        ("stdout", "hello from print"),
        ("stderr", "to stderr"),
        ("stderr", "INFO jobs: through logging"),
    ]
    assert [log["message"] for log in root["logs"]] == ["through ctx.log"]  # what the platform keeps
    children = [node for node in walk(root) if node["function"] == "child"]
    assert len(children) == CHILDREN
    for child in children:
        number = child["payload"]["n"]
        assert texts(child) == [("stdout", f"child {number} line {line}") for line in range(5)]
    assert "hello from print" not in result.stderr  # attributed, not also raw


def test_run_and_show_print_the_output_under_its_execution_marked_local(project: Path) -> None:
    result = run_cli(project, "run", "chatty")
    assert result.returncode == 0, result.brief()
    shown_live = result.stdout
    live = [line.strip() for line in shown_live.splitlines() if "stdout│ hello from print" in line]
    assert any(line.startswith("chatty ") for line in live), shown_live  # live, then in the tree
    assert any("stderr│ INFO jobs: through logging" in line for line in shown_live.splitlines())
    assert NOT_SENT in shown_live
    listed = run_in_process(project, "runs", "--json")
    root_id = listed.json()[0]["executionId"]
    shown = run_in_process(project, "show", root_id[:8])
    assert shown.returncode == 0, shown.brief()
    assert NOT_SENT in shown.stdout and "stdout│ hello from print" in shown.stdout
    assert "stdout│ child 3 line 4" in shown.stdout
    as_json = run_in_process(project, "show", root_id[:8], "--json").json()
    assert ("stdout", "hello from print") in texts(as_json)
    numbers = {
        node["executionId"][:8]: node["payload"]["n"] for node in walk(as_json) if node["function"] == "child"
    }
    live_children = re.findall(
        r"^  child ([0-9a-f]{8})  stdout│ child (\d) line \d$", shown_live, re.MULTILINE
    )
    assert len(live_children) == 5 * CHILDREN, shown_live
    assert all(numbers[short] == int(number) for short, number in live_children)  # each under its own id


def test_dev_shows_a_triggered_executions_output_under_it(project: Path) -> None:
    dev = DevServer(project).start()
    try:
        execution_id = dev.trigger("chatty")
        dev.wait_root(execution_id, "chatty")
        tree = dev.tree(execution_id)
    finally:
        dev.stop(signal.SIGINT)
        dev.kill()
    stdout = dev.stdout_path.read_text(encoding="utf-8")
    assert f"chatty {execution_id[:8]}  stdout│ hello from print" in stdout, stdout
    assert NOT_SENT in stdout
    assert ("stderr", "INFO jobs: through logging") in texts(tree)


def test_show_full_prints_whole_values_and_every_line_and_overflow_says_whose_it_is(project: Path) -> None:
    """`show` cuts a long result, logs and output for a readable tree, and says where the rest
    is; `show --full` prints them whole. Output past the 64 KiB an attempt keeps goes to the
    terminal's stderr with each line naming its execution (new-user trial #2, finding 12)."""
    result = run_cli(project, "run", "verbose")
    assert result.returncode == 0, result.brief()
    execution_id = run_in_process(project, "runs", "--json").json()[0]["executionId"]
    overflow = [line for line in result.stderr.splitlines() if "x" * 1010 in line]
    assert overflow and all(
        line.startswith(f"  verbose {execution_id[:8]}  stdout| line ") for line in overflow
    )

    cut = run_in_process(project, "show", execution_id[:8]).stdout
    assert "key9" not in cut and "log 59" not in cut
    assert f"10 more log entries: pingback show {execution_id[:8]} --full" in cut
    assert f"more lines: pingback show {execution_id[:8]} --full" in cut

    full = run_cli(project, "show", execution_id[:8], "--full")
    assert full.returncode == 0, full.brief()
    assert '  "key9": "' + "v" * 20 + '"' in full.stdout  # the result whole, indented
    assert "log 59" in full.stdout and "more log entries" not in full.stdout
    assert "more lines:" not in full.stdout
    kept = [line for line in full.stdout.splitlines() if "stdout│ line " in line]
    assert len(kept) + len(overflow) == 70  # every line printed: kept in history, or on stderr
