"""``head_start`` in-process: the worker it spawns is the one the supervisor adopts and runs
attempts on; a head start for another project or address is killed, never used."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from pingback_cli.emulator import head_start
from pingback_cli.emulator.sockets import worker_api_url
from pingback_cli.executors.worker import Supervisor
from pingback_cli.project.config import ProjectConfig
from pingback_cli.protocol import AttemptRequest

JOBS = """
import os

from pingback import Pingback

SECRET = os.environ.get("PINGBACK_CRON_SECRET") or "pb_local_dev_cron_secret"
pb = Pingback(api_key="pb_dev_local", cron_secret=SECRET)


@pb.task("pid")
def pid(ctx):
    return {"pid": os.getpid()}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProjectConfig:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "early"\n')
    (tmp_path / "jobs.py").write_text(JOBS)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PINGBACK_APP", raising=False)
    yield ProjectConfig(root=tmp_path.resolve(), app="jobs")
    head_start.discard()


async def test_the_supervisor_runs_attempts_on_the_worker_started_early(project: ProjectConfig) -> None:
    head_start.start("jobs")
    early = head_start.take(project, head_start.HOST, 0)
    assert early is not None
    port = early.socket.getsockname()[1]
    supervisor = Supervisor(
        project, worker_api_url(head_start.HOST, port), grace=head_start.GRACE, early=early.worker
    )
    try:
        await supervisor.start()
        outcome = await asyncio.wait_for(supervisor.start_attempt(AttemptRequest("e", "pid", 1, 0.0)), 30)
        assert outcome.response is not None
        assert outcome.response["result"] == {"pid": early.worker.process.pid}
    finally:
        await supervisor.aclose(0)
        early.socket.close()
    assert early.worker.process.poll() is not None


@pytest.mark.parametrize(
    ("app", "host", "port"),
    [("other", head_start.HOST, 0), ("jobs", "0.0.0.0", 0), ("jobs", head_start.HOST, 8123)],
)
def test_a_head_start_for_something_else_is_killed(
    project: ProjectConfig, app: str, host: str, port: int
) -> None:
    head_start.start(app)
    waiting = head_start._waiting
    assert waiting is not None
    assert head_start.take(project, host, port) is None
    assert waiting.worker.process.poll() is not None
    assert waiting.socket.fileno() == -1


def test_a_head_start_nobody_takes_is_killed_at_discard(project: ProjectConfig) -> None:
    head_start.start("jobs")
    waiting = head_start._waiting
    assert waiting is not None
    head_start.discard()
    assert waiting.worker.process.poll() is not None
    assert head_start.take(project, head_start.HOST, 0) is None


def test_began_is_when_the_worker_was_spawned(project: ProjectConfig) -> None:
    """The moment `run`'s import spinner counts from (cli/run.py)."""
    assert head_start.began() is None
    before = time.monotonic()
    head_start.start("jobs")
    after = time.monotonic()
    began = head_start.began()
    assert began is not None and before <= began <= after
    head_start.discard()
    assert head_start.began() is None
