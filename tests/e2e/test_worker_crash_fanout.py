"""`pingback run` of a fan-out whose last child kills the worker (``os._exit``) while the children
before it have finished on the same worker: their results, each written to the pipe before the
worker takes its next call, all arrive; only the killer's attempt fails."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from cli_support import run_cli

from .conftest import assert_clean_exit

CHILDREN = 200
WORKER_DIED = "the worker process died while this attempt was running (exited with code 9)"

JOBS = f"""
import os

from pingback import Pingback

SECRET = os.environ.get("PINGBACK_CRON_SECRET") or "pb_local_dev_cron_secret"
pb = Pingback(api_key="pb_dev_local", cron_secret=SECRET)


@pb.task("fan")
def fan(ctx):
    for i in range({CHILDREN}):
        ctx.task("leaf", {{"i": i}})
    ctx.task("crash", {{}})
    return {{"children": {CHILDREN + 1}}}


# Retried: a leaf sent after the crash's attempt, or running beside it, dies with it.
@pb.task("leaf", retries=2)
def leaf(ctx, payload):
    return {{"i": payload["i"]}}


@pb.task("crash")
def crash(ctx, payload):
    os._exit(9)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "crash"\n\n[tool.pingback]\napp = "jobs"\n')
    (tmp_path / "jobs.py").write_text(textwrap.dedent(JOBS))
    return tmp_path


def test_a_child_that_kills_the_worker_fails_alone(project: Path) -> None:
    result = run_cli(project, "run", "fan", "--json")

    assert_clean_exit(result, 1)  # a failed execution in the tree
    root = result.json()
    assert (root["function"], root["status"]) == ("fan", "success")
    assert root["result"] == {"children": CHILDREN + 1}
    [crash] = [child for child in root["children"] if child["function"] == "crash"]
    assert crash["status"] == "failed"
    assert WORKER_DIED in crash["error"]
    leaves = {child["payload"]["i"]: child for child in root["children"] if child["function"] == "leaf"}
    assert sorted(leaves) == list(range(CHILDREN))
    assert all(leaf["status"] == "success" and leaf["result"] == {"i": i} for i, leaf in leaves.items())
