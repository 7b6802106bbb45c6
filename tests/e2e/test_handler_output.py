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
from cli_support import run_cli, walk
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
    listed = run_cli(project, "runs", "--json")
    root_id = listed.json()[0]["executionId"]
    shown = run_cli(project, "show", root_id[:8])
    assert shown.returncode == 0, shown.brief()
    assert NOT_SENT in shown.stdout and "stdout│ hello from print" in shown.stdout
    assert "stdout│ child 3 line 4" in shown.stdout
    as_json = run_cli(project, "show", root_id[:8], "--json").json()
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
