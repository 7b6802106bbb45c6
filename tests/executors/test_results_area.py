"""The engine's side of the results area, through a real worker: results the worker finished but
had not written to the pipe when it died are delivered before the attempts left are failed, so a
handler that kills the worker (``os._exit``, SIGKILL from outside) takes only its own attempt."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pingback_cli.executors import spawn
from pingback_cli.executors.process import WorkerProcess
from pingback_cli.project.config import ProjectConfig
from pingback_cli.protocol import AttemptOutcome, AttemptRequest

DEADLINE = 30.0
WORKER_DIED = "the worker process died while this attempt was running"

JOBS = """
import os
import time

from pingback import Pingback

SECRET = os.environ.get("PINGBACK_CRON_SECRET") or "pb_local_dev_cron_secret"
pb = Pingback(api_key="pb_dev_local", cron_secret=SECRET)
MARKS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "finished")


@pb.task("ok")
def ok(ctx, payload):
    return {"n": payload["n"]}


@pb.task("marked")
def marked(ctx, payload):
    fd = os.open(MARKS, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, b"%d\\n" % payload["n"])
    os.close(fd)
    return {"n": payload["n"]}


@pb.task("big")
def big(ctx, payload):
    return "x" * payload["bytes"]


@pb.task("hang")
def hang(ctx, payload):
    time.sleep(60)


@pb.task("die")
def die(ctx, payload):
    os._exit(3)
"""


@pytest.fixture
def project(tmp_path: Path) -> ProjectConfig:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "area"\n')
    (tmp_path / "jobs.py").write_text(textwrap.dedent(JOBS))
    return ProjectConfig(root=tmp_path, app="jobs")


class Answers:
    """Each attempt's outcome by its payload's ``n`` (or the function's name), exactly once."""

    def __init__(self) -> None:
        self.outcomes: dict[Any, AttemptOutcome] = {}

    def send(self, worker: WorkerProcess, function: str, n: Any) -> None:
        payload = {"n": n} if isinstance(n, int) else {"bytes": n[1]} if function == "big" else {}
        request = AttemptRequest(f"e-{function}-{n}", function, 1, 0.0, payload=payload, has_payload=True)

        def answer(outcome: AttemptOutcome) -> None:
            assert n not in self.outcomes, f"{n} answered twice"
            self.outcomes[n] = outcome

        worker.run(request, answer)


def succeeded(outcome: AttemptOutcome) -> bool:
    return outcome.http_status == 200 and (outcome.response or {}).get("status") == "success"


def result(outcome: AttemptOutcome) -> Any:
    return (outcome.response or {}).get("result")


@pytest.fixture
def worker_fds() -> Iterator[list[int]]:
    """The results areas spawned in a test (to check each one is closed)."""
    made: list[int] = []
    original = spawn.results_area

    def recording(size: int = spawn.RESULTS_AREA_BYTES) -> int:
        fd = original(size)
        made.append(fd)
        return fd

    spawn.results_area = recording  # type: ignore[assignment]
    yield made
    spawn.results_area = original  # type: ignore[assignment]


async def until(what: str, condition: Any) -> None:
    """Let the loop run until ``condition()`` holds (AssertionError past DEADLINE)."""
    deadline = asyncio.get_running_loop().time() + DEADLINE
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.001)


def closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


async def started(project: ProjectConfig, threads: int = 1) -> WorkerProcess:
    worker = WorkerProcess(project, "http://127.0.0.1:9", threads=threads, grace=0)
    await worker.start(DEADLINE)
    return worker


async def test_results_finished_in_the_batch_of_a_handler_that_exits_keep_their_results(
    project: ProjectConfig, worker_fds: list[int]
) -> None:
    """One batch: five trivial attempts, one that calls os._exit, five more. One thread runs the
    batch in order (``threads=1``: none joins while calls wait), and the five results gathered
    before the exit stay in the area (fewer than the calls still waiting), so only the area holds
    them when the worker dies."""
    worker = await started(project)
    answers = Answers()
    for n in range(5):
        answers.send(worker, "ok", n)
    answers.send(worker, "die", "die")
    for n in range(5, 10):
        answers.send(worker, "ok", n)
    await asyncio.wait_for(asyncio.shield(worker.exited), DEADLINE)

    for n in range(5):
        assert succeeded(answers.outcomes[n]), answers.outcomes[n]
        assert result(answers.outcomes[n]) == {"n": n}
    assert WORKER_DIED in answers.outcomes["die"].error_message()
    for n in range(5, 10):  # sent, never started: failed as before (the engine retries them)
        assert WORKER_DIED in answers.outcomes[n].error_message()
    assert len(answers.outcomes) == 11
    assert worker_fds and all(closed(fd) for fd in worker_fds)


async def test_sigkill_from_outside_mid_fan_out_loses_no_finished_result(project: ProjectConfig) -> None:
    """Each ``marked`` call notes its number in a file before it returns: every number noted has its
    success, but for the calls running at the moment of the kill (at most two threads: one runs,
    and past ``threads`` one more may join to read)."""
    worker = await started(project)
    answers = Answers()
    total = 3000
    for n in range(total):
        answers.send(worker, "marked", n)
    answers.send(worker, "hang", "hang")  # one attempt surely unfinished at the kill
    await until("the first answers", lambda: len(answers.outcomes) >= 50)
    assert worker.pid is not None
    os.killpg(worker.pid, signal.SIGKILL)
    await asyncio.wait_for(asyncio.shield(worker.exited), DEADLINE)

    assert WORKER_DIED in answers.outcomes.pop("hang").error_message()
    assert len(answers.outcomes) == total
    marks = (project.root / "finished").read_bytes().split()
    noted = {int(mark) for mark in marks}
    ok = {n for n, outcome in answers.outcomes.items() if succeeded(outcome)}
    assert ok <= noted
    assert len(noted - ok) <= 2, sorted(noted - ok)
    assert all(result(answers.outcomes[n]) == {"n": n} for n in ok)
    failed = set(range(total)) - ok
    assert all(WORKER_DIED in answers.outcomes[n].error_message() for n in failed)
    assert len(ok) >= 50


async def test_a_result_bigger_than_the_area_and_a_large_batch_arrive_whole(project: ProjectConfig) -> None:
    worker = await started(project, threads=4)
    answers = Answers()
    size = 2 * spawn.RESULTS_AREA_BYTES
    answers.send(worker, "ok", 0)
    answers.send(worker, "big", ("big", size))
    for n in range(1, 2000):
        answers.send(worker, "ok", n)
    await until("every answer", lambda: len(answers.outcomes) == 2001)
    await worker.stop(grace=DEADLINE)

    assert result(answers.outcomes[("big", size)]) == "x" * size
    assert all(result(answers.outcomes[n]) == {"n": n} for n in range(2000))
    assert len(answers.outcomes) == 2001  # the area, empty at exit, delivered nothing again


async def test_without_memfd_the_area_is_an_unlinked_file(
    project: ProjectConfig, monkeypatch: pytest.MonkeyPatch, worker_fds: list[int]
) -> None:
    monkeypatch.delattr(os, "memfd_create")
    worker = await started(project)
    [fd] = worker_fds
    info = os.fstat(fd)
    assert stat.S_ISREG(info.st_mode) and info.st_nlink == 0
    assert info.st_size == spawn.RESULTS_AREA_BYTES
    answers = Answers()
    for n in range(3):
        answers.send(worker, "ok", n)
    answers.send(worker, "die", "die")
    for n in range(3, 6):
        answers.send(worker, "ok", n)
    await asyncio.wait_for(asyncio.shield(worker.exited), DEADLINE)
    assert [result(answers.outcomes[n]) for n in range(3)] == [{"n": n} for n in range(3)]
    assert WORKER_DIED in answers.outcomes["die"].error_message()
    assert closed(fd)


def test_a_worker_killed_unused_closes_its_area(project: ProjectConfig) -> None:
    """A head start nobody took (``emulator.head_start.discard``) is killed this way."""
    spawned = spawn.spawn_worker(project, "http://127.0.0.1:9", threads=1, grace=0)
    assert not closed(spawned.results)
    spawned.kill()
    assert all(closed(fd) for fd in (spawned.results, spawned.to_worker, spawned.from_worker))
