"""The worker executor in-process (``Supervisor`` over real ``WorkerProcess`` subprocesses): it
publishes the project's functions, reloads to a fresh worker only when the new functions are
accepted, replaces a worker a handler killed, and leaves no process behind."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from pingback_cli.errors import ProjectError
from pingback_cli.executors.worker import Supervisor
from pingback_cli.models import FunctionSpec
from pingback_cli.project.config import ProjectConfig
from pingback_cli.protocol import AttemptRequest

JOBS = """
import os

from pingback import Pingback

# The project's one secret, as the platform signs with it (docs/parity.md#secrets).
SECRET = os.environ.get("PINGBACK_CRON_SECRET") or "pb_local_dev_cron_secret"
pb = Pingback(api_key="pb_dev_local", cron_secret=SECRET)


@pb.task("ok", retries={retries})
def ok(ctx, payload):
    return {{"pid": os.getpid()}}


@pb.task("die")
def die(ctx, payload):
    os._exit(3)
"""


def write_jobs(root: Path, retries: object = 0) -> None:
    (root / "jobs.py").write_text(textwrap.dedent(JOBS.format(retries=retries)))


@pytest.fixture
def project(tmp_path: Path) -> ProjectConfig:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "supervised"\n')
    write_jobs(tmp_path)
    return ProjectConfig(root=tmp_path, app="jobs")


async def attempt(supervisor: Supervisor, name: str) -> dict[str, object]:
    outcome = await asyncio.wait_for(supervisor.start_attempt(AttemptRequest("e", name, 1, 0.0)), 30)
    return outcome.response or {"error": outcome.error_message()}


async def test_start_publishes_the_specs_and_runs_attempts(project: ProjectConfig) -> None:
    published: list[list[FunctionSpec]] = []
    supervisor = Supervisor(project, "http://127.0.0.1:9", publish=published.append, grace=0)
    try:
        await supervisor.start()
        assert [sorted(spec.name for spec in specs) for specs in published] == [["die", "ok"]]
        assert (await attempt(supervisor, "ok"))["result"] == {"pid": supervisor.current.pid}  # type: ignore[union-attr]
        assert supervisor.forward("unknown") is None
    finally:
        await supervisor.aclose(0)
    assert supervisor.current is not None and supervisor.current.exited.done()


async def test_a_reload_with_invalid_options_keeps_the_old_worker(project: ProjectConfig) -> None:
    published: list[list[FunctionSpec]] = []
    supervisor = Supervisor(project, "http://127.0.0.1:9", publish=published.append, grace=0)
    try:
        await supervisor.start()
        first = supervisor.current
        write_jobs(project.root, retries=99)  # out of the platform's range 0-10
        refused = await supervisor.reload()
        assert not refused.ok and isinstance(refused.error, ProjectError)
        assert "retries" in refused.error.message
        assert supervisor.current is first and len(published) == 1
        write_jobs(project.root, retries=2)
        changed = await supervisor.reload()
        assert changed.ok and changed.changed == ["ok"], changed
        assert supervisor.current is not first and len(published) == 2
        assert first is not None
        await asyncio.wait_for(asyncio.shield(first.exited), 10)  # the old worker retired
    finally:
        await supervisor.aclose(0)


async def test_without_restart_at_once_the_next_attempt_starts_the_replacement(
    project: ProjectConfig,
) -> None:
    restarts: list[str] = []
    supervisor = Supervisor(
        project, "http://127.0.0.1:9", on_restart=restarts.append, grace=0, restart_at_once=False
    )
    try:
        await supervisor.start()
        first = supervisor.current
        assert first is not None
        assert "error" in await attempt(supervisor, "die")
        await asyncio.wait_for(asyncio.shield(first.exited), 10)  # set just before on_exit is called
        assert supervisor.current is first and supervisor._starting is None and restarts == []
        again = await attempt(supervisor, "ok")
        assert again.get("status") == "success", again
        assert supervisor.current is not first
        assert restarts and "took over" in restarts[0], restarts
    finally:
        await supervisor.aclose(0)


async def test_a_worker_a_handler_killed_is_replaced(project: ProjectConfig) -> None:
    restarts: list[str] = []
    supervisor = Supervisor(project, "http://127.0.0.1:9", on_restart=restarts.append, grace=0)
    try:
        await supervisor.start()
        first = supervisor.current
        died = await attempt(supervisor, "die")
        assert "error" in died
        again = await attempt(supervisor, "ok")
        assert again.get("status") == "success", again
        assert supervisor.current is not first
        assert restarts and "took over" in restarts[0], restarts
    finally:
        await supervisor.aclose(0)


async def test_the_direct_path_answers_once_drops_an_abandoned_answer_and_reports_a_death(
    project: ProjectConfig,
) -> None:
    """``start_attempt_direct`` (the engine's path): each answer reaches its function once, an
    abandoned attempt's answer never does, a death answers what was running, and with no live
    worker the attempt is not taken (None: the future path then starts a replacement)."""
    supervisor = Supervisor(project, "http://127.0.0.1:9", grace=0, restart_at_once=False)
    loop = asyncio.get_running_loop()
    answers: dict[str, asyncio.Future[object]] = {}

    def start(execution_id: str, name: str) -> object:
        answers[execution_id] = loop.create_future()

        def answer(outcome: object) -> None:
            assert not answers[execution_id].done(), "answered twice"
            answers[execution_id].set_result(outcome)

        return supervisor.start_attempt_direct(AttemptRequest(execution_id, name, 1, 0.0), answer)

    try:
        await supervisor.start()
        first = supervisor.current
        assert first is not None
        abandon = start("dropped", "ok")
        assert callable(abandon)
        abandon()
        start("kept", "ok")
        kept = await asyncio.wait_for(answers["kept"], 30)
        assert kept.response["result"] == {"pid": first.pid}  # type: ignore[attr-defined]
        assert not answers["dropped"].done() and first.in_flight == 0
        start("died", "die")
        died = await asyncio.wait_for(answers["died"], 30)
        assert died.http_status is None and "worker process died" in died.error  # type: ignore[attr-defined]
        await asyncio.wait_for(asyncio.shield(first.exited), 10)
        assert start("after", "ok") is None
    finally:
        await supervisor.aclose(0)
