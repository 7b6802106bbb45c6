"""A reader that leaves (``pingback run | head -1``, a pager quit with ``q``, ``pingback dev |
tee log`` with tee killed by the same Ctrl-C) stops the printing and nothing else: the run
finishes every execution and records it truthfully, dev stops as cleanly as ever, and the exit
code is the one the work earned (new-user trial #2, findings 2 and 16)."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cli_support import SETTLE, cli_env, free_port, pingback_command, poll, run_in_process, walk

JOBS = """
import os
import time
from pathlib import Path

from pingback import Pingback

pb = Pingback(api_key=os.environ["PINGBACK_API_KEY"], cron_secret=os.environ["PINGBACK_CRON_SECRET"])
HERE = Path(__file__).parent


def wait_for(name):
    deadline = time.monotonic() + 60
    while not (HERE / name).exists() and time.monotonic() < deadline:
        time.sleep(0.02)


@pb.task("nightly")
def nightly(ctx):
    ctx.log("starting")
    for i in range(3):
        ctx.task("charge", {"i": i})
    return "ok"


@pb.task("charge")
def charge(ctx, payload):
    wait_for("go")  # the test closes its end of the pipe first
    print("y" * 100_000)  # past the 64 KiB kept per attempt: to the worker's real stream
    (HERE / f"charged-{payload['i']}").write_text("done")
    ctx.log("charged", i=payload["i"])
    return payload


@pb.task("slow")
def slow(ctx):
    (HERE / "slow-started").write_text("")
    wait_for("never")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "closed"\nversion = "0"\n')
    (tmp_path / "jobs.py").write_text(JOBS)
    return tmp_path


def _read_line(stream: int, deadline: float) -> bytes:
    """Bytes from ``stream`` up to the first newline (a failed test past the deadline)."""
    got = b""
    while b"\n" not in got:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([stream], [], [], max(left, 0))
        if not ready:
            pytest.fail(f"no line within the deadline; read {got!r}")
        chunk = os.read(stream, 1)
        if not chunk:
            pytest.fail(f"the output ended before a line; read {got!r}")
        got += chunk
    return got


def test_run_whose_reader_left_finishes_and_records_every_execution(project: Path) -> None:
    read, write = os.pipe()
    process = subprocess.Popen(
        [pingback_command(), "run", "nightly"],
        cwd=project,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        stdout=write,
        stderr=write,  # `2>&1 | head -1`: the worker's output goes into the same closed pipe
    )
    os.close(write)
    try:
        first = _read_line(read, time.monotonic() + SETTLE)
    finally:
        os.close(read)  # head -1 has its line and leaves
    (project / "go").write_text("")
    code = process.wait(timeout=SETTLE)
    assert code == 0, first
    assert sorted(p.name for p in project.glob("charged-*")) == ["charged-0", "charged-1", "charged-2"]
    [root] = run_in_process(project, "runs", "--json").json()
    tree = run_in_process(project, "show", root["executionId"], "--json").json()
    statuses = [(e["function"], e["status"]) for e in walk(tree)]
    assert statuses == [("nightly", "success")] + [("charge", "success")] * 3, statuses


def test_dev_whose_reader_left_stops_cleanly_on_ctrl_c(project: Path) -> None:
    read, write = os.pipe()
    err = project / "dev.stderr"
    port = free_port()
    with err.open("wb") as stderr:
        process = subprocess.Popen(
            [pingback_command(), "dev", "--port", str(port)],
            cwd=project,
            env=cli_env(),
            stdin=subprocess.DEVNULL,
            stdout=write,
            stderr=stderr,
        )
    os.close(write)
    try:
        deadline = time.monotonic() + SETTLE
        while b"Ctrl-C to stop" not in _read_line(read, deadline):
            pass
        ran = run_in_process(project, "trigger", "slow")  # trigger's installed cases: test_dev
        assert ran.returncode == 0, ran.brief()
        poll("the slow task to start", (project / "slow-started").exists, SETTLE)
    finally:
        os.close(read)  # tee, killed by the Ctrl-C
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=SETTLE)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, err.read_text()
    [row] = run_in_process(project, "runs", "--json").json()
    shown = run_in_process(project, "show", row["executionId"], "--json").json()
    assert shown["status"] == "interrupted" and "dev stopped during this attempt" in str(shown), shown
