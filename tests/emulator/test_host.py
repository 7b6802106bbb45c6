"""The Emulator in-process: its lifecycle (``async with``), submit/drain/interrupt, the
executor it chooses and the errors it raises, with a real worker subprocess and history."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from pingback_cli.emulator.host import Emulator
from pingback_cli.emulator.options import EmulatorOptions
from pingback_cli.engine.engine import Event, UnknownFunction
from pingback_cli.errors import Interrupted, ProjectError, Unavailable
from pingback_cli.history.store import Store, history_path
from pingback_cli.project.config import ProjectConfig

JOBS = """
import os
import time

from pingback import Pingback

# The project's one secret, as the platform signs with it (docs/parity.md#secrets).
SECRET = os.environ.get("PINGBACK_CRON_SECRET") or "pb_local_dev_cron_secret"
pb = Pingback(api_key="pb_dev_local", cron_secret=SECRET)


@pb.task("ok")
def ok(ctx, payload):
    ctx.log("ran", payload=payload)
    return {"echo": payload}


@pb.task("sleepy", timeout="30s")
def sleepy(ctx, payload):
    time.sleep(10)
"""


@pytest.fixture
def project(tmp_path: Path) -> ProjectConfig:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "hosted"\n')
    (tmp_path / "jobs.py").write_text(textwrap.dedent(JOBS))
    return ProjectConfig(root=tmp_path, app="jobs")


def quick(**extra: object) -> EmulatorOptions:
    return EmulatorOptions(grace=0, stop_grace=0, **extra)  # type: ignore[arg-type]


async def test_submit_then_drain_records_the_tree(project: ProjectConfig) -> None:
    events: list[Event] = []
    async with Emulator(project, quick(), on_event=events.append) as emulator:
        assert sorted(spec.name for spec in emulator.functions()) == ["ok", "sleepy"]
        assert emulator.url.startswith("http://127.0.0.1:")
        root = emulator.submit("ok", payload={"n": 1}, has_payload=True)
        assert await emulator.drain()
    assert root.status == "success", root
    assert [event.kind for event in events][-1] == "finished"
    with Store(history_path(project.root), readonly=True) as store:
        assert store.get(root.id).status == "success"
    assert emulator.interrupted == []


async def test_only_the_kinds_asked_for_are_built_until_a_listener_comes(project: ProjectConfig) -> None:
    events: list[Event] = []
    async with Emulator(project, quick(), on_event=events.append, events=("finished",)) as emulator:
        emulator.submit("ok", payload={"n": 1}, has_payload=True)
        assert await emulator.drain()
        assert [event.kind for event in events] == ["finished"]  # no started, log, succeeded
        heard: list[Event] = []
        emulator.listen(heard.append)
        emulator.submit("ok", payload={"n": 2}, has_payload=True)
        assert await emulator.drain()
    assert [event.kind for event in heard] == ["started", "log", "succeeded", "finished"]
    assert [event.kind for event in events] == ["finished", *(event.kind for event in heard)]


async def test_an_unknown_name_is_not_found(project: ProjectConfig) -> None:
    async with Emulator(project, quick()) as emulator:
        with pytest.raises(UnknownFunction, match='"nope"'):
            emulator.submit("nope")


async def test_nothing_new_is_accepted_once_stopped(project: ProjectConfig) -> None:
    async with Emulator(project, quick()) as emulator:
        pass
    with pytest.raises(Unavailable):
        emulator.submit("ok")
    with pytest.raises(Unavailable):
        emulator.history()


async def test_stop_during_drain_interrupts_what_runs(project: ProjectConfig) -> None:
    stop = asyncio.Event()
    async with Emulator(project, quick(interrupt_reason="stopped by the test"), stop=stop) as emulator:
        root = emulator.submit("sleepy")
        asyncio.get_running_loop().call_later(0.5, stop.set)
        assert not await emulator.drain()
    assert root.status == "interrupted" and root.error == "stopped by the test"
    assert emulator.interrupted == [root]


async def test_a_stop_before_it_serves_raises_interrupted(project: ProjectConfig) -> None:
    stop = asyncio.Event()
    stop.set()
    with pytest.raises(Interrupted):
        async with Emulator(project, quick(), stop=stop):
            pytest.fail("entered a stopped emulator")


async def test_a_project_that_cannot_load_is_a_project_error(project: ProjectConfig) -> None:
    (project.root / "jobs.py").write_text("raise RuntimeError('broken on import')\n")
    with pytest.raises(ProjectError):
        async with Emulator(project, quick()):
            pytest.fail("entered with a broken project")


async def test_endpoint_mode_forwards_a_name_nobody_declares(project: ProjectConfig) -> None:
    notices: list[str] = []
    options = quick(endpoint="http://127.0.0.1:9/pingback")  # nothing listens on port 9
    async with Emulator(project, options, on_notice=notices.append) as emulator:
        root = emulator.submit("only-the-app-knows")
        assert await emulator.drain()
    assert root.status == "failed" and "nothing is listening" in (root.error or ""), root
    assert any("only-the-app-knows" in notice for notice in notices), notices
