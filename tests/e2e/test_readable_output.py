"""Readable output through the installed command: live output capped per tree (a storm of
failing children prints a bounded number of lines with a pointer to `pingback show`), and
`dev --quiet` printing only summaries for a cron that keeps firing."""

from __future__ import annotations

import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import FIXTURES, run_cli
from reliability.helpers import DevServer, kill_workers

MAX_LINES = 1000


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "durable"
    shutil.copytree(FIXTURES / "durable", target, ignore=shutil.ignore_patterns(".pingback", "__pycache__"))
    pyproject = target / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "max-executions-per-root = 200000\n")
    yield target
    kill_workers(target)


def storm(project: Path, count: int) -> None:
    result = run_cli(project, "run", "storm", "--payload", f'{{"count": {count}}}', timeout=600)
    assert result.returncode == 1, result.brief()
    lines = result.stdout.splitlines()
    assert len(lines) < MAX_LINES, f"{len(lines)} lines"
    assert any("live output capped at 300 lines" in line and "pingback show" in line for line in lines)
    assert f"{count + 1:,} executions · 1 success · {count:,} failed" in result.stdout


def test_a_storm_of_failing_children_prints_a_bounded_number_of_lines(project: Path) -> None:
    storm(project, 20_000)


@pytest.mark.soak
def test_a_100k_child_storm_prints_fewer_than_1000_lines(project: Path) -> None:
    storm(project, 100_000)


def test_dev_caps_a_storm_too(project: Path) -> None:
    server = DevServer(project).start()
    try:
        root = server.trigger("storm", {"count": 5_000})
        server.wait_root(root, "storm", timeout=300)
    finally:
        server.stop(signal.SIGINT)
        server.kill()
    stdout = server.stdout_path.read_text(encoding="utf-8")
    assert len(stdout.splitlines()) < MAX_LINES, len(stdout.splitlines())
    assert f"storm {root[:8]}: live output capped at 300 lines" in stdout


TICK = """

@pb.cron("tick", "*/2 * * * * *")
def tick(ctx):
    ctx.log("tick")
    return "ticked"
"""


def test_dev_quiet_prints_only_summaries_for_a_firing_cron(project: Path) -> None:
    """An every-2-seconds cron (six fields) stands for the every-minute one, 60 times faster."""
    with (project / "durable" / "jobs.py").open("a", encoding="utf-8") as jobs:
        jobs.write(TICK)
    server = DevServer(project, args=("--quiet",)).start()
    try:
        time.sleep(7)  # "tick" fires every 2 seconds
        failed = server.trigger("boom", {"n": 1})
        server.wait_root(failed, "boom")
    finally:
        server.stop(signal.SIGINT)
        server.kill()
    stdout = server.stdout_path.read_text(encoding="utf-8")
    live = stdout.split("Ctrl-C to stop.\n", 1)[1].splitlines()
    ticks = [line for line in live if re.search(r"finished +tick ", line)]
    assert len(ticks) >= 3, stdout
    assert all("1 execution · 1 success" in line for line in ticks)
    assert any(re.search(r"failed +boom .*boom 1", line) for line in live), stdout
    others = [line for line in live if not re.search(r" (finished|failed) ", line) and "stopped" not in line]
    assert others == [], stdout
    for noisy in ("fired", "started", "succeeded", "info  tick"):
        assert noisy not in stdout.split("Ctrl-C to stop.", 1)[1], noisy
