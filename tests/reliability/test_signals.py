"""SIGINT and SIGTERM at random moments, and kill -9, against the installed command.

Whenever the signal lands (while Python starts, while the worker imports, while children
run, while the tree is printed), afterwards every execution in history is success, failed or
interrupted, no worker process is left, and the next start works. The delays come from a
seeded generator, so a failure can be replayed; ``-m soak`` runs 100 repetitions.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from cli_support import SETTLE, cli_env, eventually, http_client, pingback_command, poll, run_cli, worker_pids

from .helpers import (
    FINISHED,
    HAS_PROC,
    DevServer,
    assert_history_settled,
    copy_misbehave,
    history_db,
    history_rows,
    is_queued,
    kill_workers,
)

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="finds leftover worker processes through /proc")

REPETITIONS = 6
"""Signals of each kind to each command, two per lane: a seeded random moment (anywhere from
the interpreter's start to serving with work in flight), then one on running work
(``wait_for_the_moment``). Each costs a whole start of the command (~0.9 s of CPU for dev, its
worker and the triggers; ~0.4 s for run), so the suite keeps this to 6 (it was 10: 14 more
starts, ~8 s of CPU a run) and ``-m soak`` repeats a hundred."""
LANES = 3
"""Repetitions run in this many projects side by side (mostly waiting, so it fits 2 cores)."""
SOAK_REPETITIONS = 100
SEED = 20261128
WORKER_GONE_SECONDS = SETTLE
RUN_EXIT = {0, 1, 130}
"""0 or 1: the run ended before the signal did anything; 130: interrupted."""
DEV_EXIT = {0, 130}
"""0: stopped; 130: the signal landed while the project was still being set up."""
EARLY_EXIT = {-signal.SIGINT, -signal.SIGTERM}
"""Killed by the signal's default action: it landed while the interpreter was still starting,
before any handler was set, or after the clean-up, while the result was being printed."""


@pytest.fixture(autouse=True)
def _ctrl_c_reaches_the_commands() -> Iterator[None]:
    """The commands start with SIGINT at its default, as in a terminal. A suite started in the
    background (``cmd &``, nohup) ignores SIGINT, and an ignored signal stays ignored across
    exec: a SIGINT landing while ``pingback dev`` still imported, before it set its handler, was
    then dropped, and dev served on (in each of four backgrounded whole-suite runs, never in a
    terminal). Setting a handler here makes the children's SIGINT default again at exec."""
    if signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def deliver(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """SIGINT as a terminal's Ctrl-C does (the whole foreground group), SIGTERM as ``kill``."""
    with contextlib.suppress(ProcessLookupError):
        if sig == signal.SIGINT:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)


PYTHON_DROPPED_IT = re.compile(
    r"Exception ignored in: [^\n]*\nTraceback \(most recent call last\):\n(?:[ \t][^\n]*\n)*"
    r"KeyboardInterrupt(?:: ?)?\n"
)
"""CPython's notice that it dropped a KeyboardInterrupt: a Ctrl-C in the first milliseconds,
before pingback sets a handler, raised inside a callback of the interpreter's own (seen in
``_get_module_lock.<locals>.cb`` while importing) is printed and ignored, and the command goes
on as if it had not come. Its traceback is the interpreter's, not ours."""


def check_aftermath(
    project: Path, code: int, allowed: set[int], output: str, rows_before: int, *, queued_ok: bool = False
) -> None:
    """No worker left, nothing pending or running (``queued_ok``: but what waits in dev's
    durable queue for the next dev), an expected exit code and no traceback.

    A signal that lands before pingback recorded anything may have hit the interpreter while
    it was still starting (site, or importing our modules, before any handler is set): Python
    then prints its own KeyboardInterrupt traceback or dies of the signal. That is tolerated,
    and only that.
    """
    assert eventually(lambda: not worker_pids(project), WORKER_GONE_SECONDS), (
        f"worker left behind: {worker_pids(project)}\n{output}"
    )
    rows = history_rows(project)
    unsettled = [row for row in rows if row["status"] not in FINISHED and not (queued_ok and is_queued(row))]
    assert not unsettled, f"{len(unsettled)} executions left unfinished: {unsettled[:3]}\n{output}"
    if len(rows) == rows_before and (code in EARLY_EXIT or output.rstrip().endswith("KeyboardInterrupt")):
        return  # the interpreter was still starting
    # Dying of the signal itself is fine once the work is recorded: pingback restores the
    # default handlers after its clean-up, so a signal while it prints the tree ends it.
    assert code in allowed | EARLY_EXIT, f"exit {code}\n{output}"
    assert "Traceback" not in PYTHON_DROPPED_IT.sub("", output), output


def something_running(project: Path) -> bool:
    """Whether history has an execution running (one indexed probe, not every row: it is
    polled every 20 ms while the history grows by hundreds of rows)."""
    path = history_db(project)
    if not path.exists():
        return False
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        return (
            conn.execute("SELECT 1 FROM executions WHERE status = 'running' LIMIT 1").fetchone() is not None
        )
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return False  # a pingback process has just created the file and not the schema yet
        raise
    finally:
        conn.close()


def wait_for_the_moment(project: Path, delay: float, last: bool) -> str:
    """Sleep ``delay`` (a random moment), or for a lane's ``last`` repetition, until an
    execution is running: so at least one signal per lane lands on running work however
    slowly this machine starts processes. Returns how the moment was chosen, for the output."""
    if not last:
        time.sleep(delay)
        return f"delay {delay:.3f}s"
    poll("an execution running", lambda: something_running(project), SETTLE, 0.02)
    return "once an execution was running"


def interrupt_runs(project: Path, sig: signal.Signals, repetitions: int, lane: int = 0) -> None:
    rng = random.Random(f"{SEED}-run-{sig.name}-{lane}")
    for repetition in range(repetitions):
        delay = rng.uniform(0.0, 2.5)
        rows_before = len(history_rows(project))
        process = subprocess.Popen(
            [pingback_command(), "run", "workflow", "--json"],
            cwd=project,
            env=cli_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            moment = wait_for_the_moment(project, delay, repetition == repetitions - 1)
            deliver(process, sig)
            stdout, stderr = process.communicate(timeout=SETTLE)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        output = f"{moment}\n--- stdout ---\n{stdout.decode()[-2000:]}\n--- stderr ---\n{stderr.decode()}"
        check_aftermath(project, process.returncode, RUN_EXIT, output, rows_before)


TRIGGER_INTERVAL = 0.1
"""Seconds between two triggers while a dev runs: ten a second keep workflows, slow steps and
quick tasks in flight the whole time and several arriving while dev stops; at fifty a second
(before) the triggers were half the CPU of a repetition, this process's and dev's."""


def fire_triggers(url: str, stop: threading.Event) -> None:
    """Triggers in flight the whole time: workflows, slow steps and quick tasks."""
    tasks = [("workflow", None), ("slow-step", {"seconds": 2}), ("ok", None)]
    with http_client(base_url=url, timeout=5) as client:
        number = 0
        while not stop.is_set():
            task, payload = tasks[number % len(tasks)]
            number += 1
            body = {"task": task} if payload is None else {"task": task, "payload": payload}
            try:
                client.post("/api/v1/trigger", json=body)
            except httpx.HTTPError:
                stop.wait(0.05)
            stop.wait(TRIGGER_INTERVAL)


def interrupt_devs(project: Path, sig: signal.Signals, repetitions: int, lane: int = 0) -> None:
    rng = random.Random(f"{SEED}-dev-{sig.name}-{lane}")
    for repetition in range(repetitions):
        delay = rng.uniform(0.0, 3.0)
        rows_before = len(history_rows(project))
        # PYTHONFAULTHANDLER: a dev that does not stop is made to say where it is (stuck_at).
        server = DevServer(project, reload=True, env={"PYTHONFAULTHANDLER": "1"}).launch()
        stop = threading.Event()
        firing = threading.Thread(target=fire_triggers, args=(server.url, stop), daemon=True)
        firing.start()
        try:
            moment = wait_for_the_moment(project, delay, repetition == repetitions - 1)
            assert server.process is not None
            deliver(server.process, sig)
            try:
                code = server.process.wait(timeout=SETTLE)
            except subprocess.TimeoutExpired:
                pytest.fail(
                    f"pingback dev did not stop within {SETTLE:g}s of {sig.name}:\n{stuck_at(server)}"
                )
        finally:
            stop.set()
            firing.join(10)
            server.kill()
        check_aftermath(project, code, DEV_EXIT, f"{moment}\n{server.output()}", rows_before, queued_ok=True)


def stuck_at(server: DevServer) -> str:
    """The output of a dev that did not stop, with every thread's stack: SIGABRT makes
    faulthandler (PYTHONFAULTHANDLER=1) write them to its stderr before it dies."""
    assert server.process is not None
    with contextlib.suppress(ProcessLookupError):
        server.process.send_signal(signal.SIGABRT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.process.wait(timeout=10)
    return server.output(limit=20_000)


def next_start_works(project: Path, *, queued_ok: bool = False) -> None:
    result = run_cli(project, "run", "ok", "--json")
    assert result.returncode == 0, result.brief()
    assert result.json()["status"] == "success"
    assert_history_settled(project, queued_ok=queued_ok)


# --- random moments ------------------------------------------------------------------------

Interrupt = Callable[[Path, signal.Signals, int, int], None]


def interrupted_count(project: Path) -> int:
    return sum(1 for row in history_rows(project) if row["status"] == "interrupted")


def in_lanes(tmp_path: Path, sig: signal.Signals, phases: list[tuple[Interrupt, int]]) -> list[Path]:
    """Each phase's repetitions spread over LANES projects that run side by side; in each lane
    the phases follow one another, so each repetition's next start is the one after it (the
    next phase's first, after the last of a phase) and the lane's last is followed by
    ``next_start_works``. Every phase must have interrupted running work in some lane.
    ``run`` phases must come before ``dev`` ones: dev leaves its queue pending, which a
    ``run`` phase's checks would take for unfinished work. Returns the projects."""
    projects = [copy_misbehave(tmp_path / f"lane{lane}") for lane in range(LANES)]

    def lane(number: int) -> list[int]:
        """The project's interrupted executions after each phase."""
        counts = []
        for interrupt, repetitions in phases:
            share = repetitions // LANES + (number < repetitions % LANES)
            interrupt(projects[number], sig, share, number)
            counts.append(interrupted_count(projects[number]))
        return counts

    try:
        with ThreadPoolExecutor(max_workers=LANES) as pool:
            counts = list(pool.map(lane, range(LANES)))
        for phase, (interrupt, _) in enumerate(phases):
            before = [lane_counts[phase - 1] if phase else 0 for lane_counts in counts]
            during = sum(lane_counts[phase] for lane_counts in counts) - sum(before)
            assert during > 0, f"no {sig.name} in {interrupt.__name__} hit a running execution"
        queued_ok = any(interrupt is interrupt_devs for interrupt, _ in phases)
        for project in projects:
            next_start_works(project, queued_ok=queued_ok)
    finally:
        for project in projects:
            kill_workers(project)
    return projects


@pytest.mark.long(14)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_signals_at_random_moments_during_run_then_dev(tmp_path: Path, sig: signal.Signals) -> None:
    """REPETITIONS signals to `pingback run`, then as many to `pingback dev`, in each lane's
    one project: dev's first start follows run's last signal."""
    in_lanes(tmp_path, sig, [(interrupt_runs, REPETITIONS), (interrupt_devs, REPETITIONS)])


@pytest.mark.soak
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_soak_signals_during_run(tmp_path: Path, sig: signal.Signals) -> None:
    in_lanes(tmp_path, sig, [(interrupt_runs, SOAK_REPETITIONS)])


@pytest.mark.soak
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_soak_signals_during_dev(tmp_path: Path, sig: signal.Signals) -> None:
    in_lanes(tmp_path, sig, [(interrupt_devs, SOAK_REPETITIONS)])


# --- kill -9 -------------------------------------------------------------------------------


def _recorded(server: DevServer, running: list[str], pending: str) -> bool:
    rows = {row["id"]: row for row in history_rows(server.project)}
    return (
        all(rows.get(i, {}).get("status") == "running" for i in running)
        and rows.get(pending, {}).get("status") == "pending"
    )


def test_kill_9_of_dev_then_run_leaves_its_queue_and_the_next_dev_takes_it_over(tmp_path: Path) -> None:
    """`pingback run` in between (of the very function that waits in dev's queue) leaves the
    killed dev's rows alone, running ones included; the next `pingback dev` takes them over."""
    project = copy_misbehave(tmp_path)
    server = DevServer(project).start()
    try:
        slow = [server.trigger("slow-step", {"seconds": 60}) for _ in range(2)]
        delayed = server.trigger("ok", delay="1h")
        poll(
            "the slow steps running and the delayed task pending in history",
            lambda: _recorded(server, slow, delayed),
            15,
            0.1,
            server.output,
        )
        assert server.process is not None and len(worker_pids(project)) == 1
        server.process.kill()
        server.process.wait(10)
        assert eventually(lambda: not worker_pids(project), WORKER_GONE_SECONDS), (
            "the worker outlived its killed engine"
        )
        left = {row["id"]: row["status"] for row in history_rows(project)}
        assert [left[i] for i in slow] == ["running", "running"] and left[delayed] == "pending"
    finally:
        server.kill()

    result = run_cli(project, "run", "ok")
    assert result.returncode == 0, result.brief()
    assert "interrupted" not in result.stderr, result.brief()
    after = {row["id"]: row["status"] for row in history_rows(project)}
    assert [after[i] for i in [*slow, delayed]] == ["running", "running", "pending"]

    with contextlib.ExitStack() as stack:
        again = DevServer(project).start()
        stack.callback(again.kill)
        assert again.stop() == 0
        notice = again.output()
    taken = "1 queued execution taken over (0 due now, 1 later); 2 interrupted (no retries left)"
    assert taken in notice, notice
    rows = {row["id"]: row for row in assert_history_settled(project, queued_ok=True)}
    for execution_id in slow:  # slow-step has no retries: its attempt failed, nothing is left to try
        assert rows[execution_id]["status"] == "interrupted"
        assert rows[execution_id]["error"] == "pingback dev stopped during this attempt"
    assert is_queued(rows[delayed])  # still due in an hour: queued again by the second dev
    assert not worker_pids(project)


def test_kill_9_of_run_then_the_next_run_marks_its_executions_interrupted(tmp_path: Path) -> None:
    project = copy_misbehave(tmp_path)
    with subprocess.Popen(
        [pingback_command(), "run", "slow-step", "--payload", '{"seconds": 60}'],
        cwd=project,
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    ) as process:
        try:
            poll(
                "slow-step to be recorded running",
                lambda: [row["status"] for row in history_rows(project)] == ["running"],
                15,
                0.1,
            )
        finally:
            process.kill()
    try:
        assert eventually(lambda: not worker_pids(project), WORKER_GONE_SECONDS)
    finally:
        kill_workers(project)
    result = run_cli(project, "run", "ok", "--json")
    assert result.returncode == 0, result.brief()
    assert "1 execution left unfinished by a pingback process that was killed" in result.stderr
    [slow, ok] = assert_history_settled(project)
    assert (slow["function"], slow["status"]) == ("slow-step", "interrupted")
    assert ok["status"] == "success"
