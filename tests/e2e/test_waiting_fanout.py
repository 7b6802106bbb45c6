"""`pingback run` of a fan-out whose children wait (as on an HTTP call): the platform's Go worker
runs 20 such children at once (one goroutine each), and so does the worker here. Each child
records its start, then waits until 20 children have started: all 20 of the first wave must be
running together, or none would finish before its generous deadline."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from cli_support import run_cli

from .conftest import assert_clean_exit

WAVE = 20
CHILDREN = 2 * WAVE
DEADLINE = 60

JOBS = f"""
import os
import time
from pathlib import Path

from pingback import Pingback

SECRET = os.environ.get("PINGBACK_CRON_SECRET") or "pb_local_dev_cron_secret"
pb = Pingback(api_key="pb_dev_local", cron_secret=SECRET)
STARTS = Path(__file__).parent / "starts"


@pb.task("fan")
def fan(ctx):
    for i in range({CHILDREN}):
        ctx.task("wait", {{"i": i}})
    return {{"children": {CHILDREN}}}


@pb.task("wait", timeout="2m")
def wait(ctx, payload):
    (STARTS / str(payload["i"])).touch()
    deadline = time.monotonic() + {DEADLINE}
    while len(os.listdir(STARTS)) < {WAVE} and time.monotonic() < deadline:
        time.sleep(0.005)
    return {{"started": len(os.listdir(STARTS))}}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "waits"\n\n[tool.pingback]\napp = "jobs"\n')
    (tmp_path / "jobs.py").write_text(textwrap.dedent(JOBS))
    (tmp_path / "starts").mkdir()
    return tmp_path


def test_twenty_waiting_children_run_at_once(project: Path) -> None:
    result = run_cli(project, "run", "fan", "--json", timeout=3 * DEADLINE)

    assert_clean_exit(result, 0)
    root = result.json()
    children = root["children"]
    assert len(children) == CHILDREN
    assert all(child["status"] == "success" for child in children), children
    # Every child saw the whole first wave started before it finished; none ran alone.
    assert all(child["result"]["started"] >= WAVE for child in children), [c["result"] for c in children]
