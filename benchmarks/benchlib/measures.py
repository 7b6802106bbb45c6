"""Every measure of the performance issue. Each takes the run's settings and the figures
shared between measures, and returns a ``MeasureResult`` whose rows carry raw samples.

Every figure is paired with a floor or baseline measured in the same run, interleaved
with it where both repeat, so a busy machine slows both alike.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchlib.common import (
    CRON_SECRET,
    LIB_DIR,
    PINGBACK,
    PYTHON,
    VENV_BIN,
    DevServer,
    History,
    MeasureError,
    MeasureResult,
    Row,
    Target,
    Unavailable,
    bench_env,
    child_pids,
    free_port,
    history_db,
    median,
    percentile,
    rss_mb,
    run_timed,
    stop_process,
    tail,
    temp_project,
    wait_until,
)


@dataclass
class Settings:
    quick: bool = False
    full: bool = False
    repeat: int = 5
    fanout: int = 10_000
    history_rows: int = 100_000
    cli_samples: int = 15
    cli_warmups: int = 2
    history_samples: int = 10
    history_warmups: int = 1
    """Rounds of `runs` / `show` before the timed ones (the file and the OS caches warm)."""
    latency_samples: int = 200
    latency_warmup: int = 20
    reload_saves: int = 7
    cron_fires: int = 10
    memory_points: tuple[int, ...] = (1, 5, 10)
    """Fan-out triggers after which dev's RSS is read (x (fanout + 1) executions)."""
    log: Callable[[str], None] = print

    @classmethod
    def make(cls, *, quick: bool, full: bool, repeat: int | None, log: Callable[[str], None]) -> Settings:
        if quick:
            return cls(
                quick=True,
                full=full,
                repeat=repeat or 2,
                fanout=100,
                history_rows=1_000,
                # No warm-up rounds: a smoke run's figures are not compared, and each warm-up is
                # one more `pingback` process (~0.15 s of CPU in the suite's smoke test).
                cli_samples=1,
                cli_warmups=0,
                history_samples=1,
                history_warmups=0,
                latency_samples=5,
                latency_warmup=2,
                reload_saves=1,
                cron_fires=2,
                memory_points=(1, 2),
                log=log,
            )
        return cls(full=full, repeat=repeat or 5, log=log)


@dataclass
class Shared:
    """Figures more than one measure uses, measured once per run (children/s samples), and what
    more than one measure starts once per run: the browser (``resources``, closed by the run)."""

    floor: list[float] = field(default_factory=list)
    run_fanout: list[float] = field(default_factory=list)
    resources: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    browser: Any = None
    """A headless Chromium (Playwright), started by the first browser measure."""


def _n(value: int) -> str:
    return f"{value:,}"


# --- 1. run-fanout ----------------------------------------------------------------------


def _floor_once(project: Path, settings: Settings, script: str = "floor_inprocess.py") -> float:
    """The in-process floor (pb.handle + a SQLite row per execution), or another ``script`` that
    prints the same report (``floor_worker.py``): children/s."""
    db = project.parent / f"floor-{uuid.uuid4().hex[:8]}.sqlite3"
    completed = subprocess.run(
        [PYTHON, str(LIB_DIR / script), str(project), str(db)],
        env=bench_env(settings.fanout),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if completed.returncode != 0:
        raise MeasureError(f"floor failed: {completed.stderr[-2000:]}")
    data = json.loads(completed.stdout.strip().splitlines()[-1])
    if data["executions"] != settings.fanout + 1 or data["failed"]:
        raise MeasureError(f"floor ran {data['executions']} executions, {data['failed']} failed")
    return settings.fanout / float(data["seconds"])


def _run_fanout_once(project: Path, settings: Settings) -> float:
    """``pingback run fanout --json``, verified against history: children/s."""
    seconds, code = run_timed(
        [PINGBACK, "run", "fanout", "--json"],
        cwd=project,
        env=bench_env(settings.fanout),
        stdout=project.parent / "run.json",
    )
    if code != 0:
        raise MeasureError(f"pingback run fanout exited {code}: {tail(project.parent / 'run.json', 5)}")
    _verify_history(project, settings.fanout + 1)
    return settings.fanout / seconds


def _with_cpu(into: list[float], measure: Callable[[], float]) -> float:
    """``measure()``, appending to ``into`` the CPU milliseconds (user + system) its child processes
    used, their own children included (a waited-for worker's time rolls up to its parent)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    value = measure()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    into.append((after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000)
    return value


def _verify_history(project: Path, expected: int) -> None:
    history = History(history_db(project))
    try:
        total, succeeded = history.all_counts()
    finally:
        history.close()
    if total != expected or succeeded != expected:
        raise MeasureError(f"history has {total} executions ({succeeded} succeeded), expected {expected}")


def run_fanout(settings: Settings, shared: Shared) -> MeasureResult:
    result = MeasureResult("run-fanout", "`pingback run` of a cron fanning out trivial tasks")
    ours: list[float] = []
    floor: list[float] = []
    fixed: list[float] = []
    design: list[float] = []
    cpu: dict[str, list[float]] = {"ours": [], "floor": []}
    for rep in range(settings.repeat):
        with temp_project() as project:
            # Alternate which goes first, so drift in the machine's load favours neither.
            steps: list[Callable[[], None]] = [
                lambda: floor.append(_with_cpu(cpu["floor"], lambda: _floor_once(project, settings))),
                lambda: ours.append(_with_cpu(cpu["ours"], lambda: _run_fanout_once(project, settings))),
                lambda: design.append(_floor_once(project, settings, "floor_worker.py")),
            ]
            for step in steps if rep % 2 == 0 else reversed(steps):
                step()
            seconds, code = run_timed([PINGBACK, "run", "noop", "--json"], cwd=project, env=bench_env())
            if code != 0:
                raise MeasureError(f"pingback run noop exited {code}")
            fixed.append(seconds * 1000)
        settings.log(f"  rep {rep + 1}: pingback {ours[-1]:,.0f}/s, floor {floor[-1]:,.0f}/s")
    shared.floor.extend(floor)
    shared.run_fanout.extend(ours)
    n = settings.fanout
    result.rows.append(
        Row(
            f"children/s, `pingback run fanout --json`, N = {_n(n)}",
            "/s",
            ours,
            floor=floor,
            floor_label="pb.handle() + one SQLite row per execution, one process",
            targets=[Target(">=", 0.70, on="ratio")],
            target_text=">= 70% of floor",
        )
    )
    result.rows.append(
        Row(
            "children/s of the process design alone: the real worker and its pipes, 20 in flight, "
            "a floor row per execution, no engine (`benchlib/floor_worker.py`)",
            "/s",
            design,
            floor=floor,
            floor_label="same floor",
            target_text="— (explains the above: the rest of the gap is the engine and history)",
        )
    )
    result.rows.append(
        Row(
            "fixed cost: wall time of `pingback run noop --json` (one execution)",
            "ms",
            fixed,
            target_text="— (explains the above)",
        )
    )
    result.rows.append(
        Row(
            "CPU time of the whole command (engine and worker processes) against the floor's process",
            "ms",
            cpu["ours"],
            floor=cpu["floor"],
            floor_label="the floor's process, imports included",
            ratio_style="times",
            target_text="— (explains the above: steadier than wall time on a loaded machine)",
        )
    )
    # The marginal rate: what each child costs once the command is up. Meaningless when the
    # fan-out is so small that start-up is all of it (--quick).
    variable = [n / children - fixed_ms / 1000 for children, fixed_ms in zip(ours, fixed, strict=True)]
    metric = "children/s once started: N / (wall − noop wall)"
    if all(seconds > 0.05 for seconds in variable):
        result.rows.append(
            Row(
                metric,
                "/s",
                [n / seconds for seconds in variable],
                floor=floor,
                floor_label="same floor",
                target_text="— (explains the above)",
            )
        )
    else:
        result.rows.append(
            Row(metric, "/s", status="skipped", message="start-up is all of the run at this N")
        )
    result.notes += [
        f"Every repetition ran in a fresh copy of benchmarks/project; history was checked to hold "
        f"{_n(n + 1)} executions, all `success`.",
        "Our wall time is the whole command (interpreter start, imports, worker start, the run, "
        "writing history, printing the JSON tree). The floor times only its loop, after imports.",
    ]
    return result


def _shared_run_fanout(settings: Settings, shared: Shared) -> list[float]:
    if not shared.run_fanout:
        settings.log("  measuring `pingback run fanout` for this run")
        for _ in range(settings.repeat):
            with temp_project() as project:
                shared.run_fanout.append(_run_fanout_once(project, settings))
    return shared.run_fanout


# --- 2. dev-fanout ----------------------------------------------------------------------


def dev_fanout(settings: Settings, shared: Shared) -> MeasureResult:
    result = MeasureResult(
        "dev-fanout", "The same cron triggered through the API of a running `pingback dev`"
    )
    n = settings.fanout
    samples: list[float] = []
    floor: list[float] = []
    for rep in range(settings.repeat):
        with temp_project() as project, DevServer(project, bench_env(n)) as dev:
            warm = dev.trigger_id("noop")
            dev.wait_tree(warm, 1, timeout=30)
            started = time.perf_counter()
            root = dev.trigger_id("fanout")
            seen = dev.wait_tree(root, n + 1, timeout=60 + n / 100)
            samples.append(n / (seen - started))
        # The floor right after each repetition: the machine's load drifts within a run.
        with temp_project() as project:
            floor.append(_floor_once(project, settings))
        settings.log(f"  rep {rep + 1}: {samples[-1]:,.0f}/s, floor {floor[-1]:,.0f}/s")
    result.rows.append(
        Row(
            f"children/s, POST /api/v1/trigger → last child in history, N = {_n(n)}",
            "/s",
            samples,
            floor=floor,
            floor_label="in-process floor, measured after each repetition",
            targets=[Target(">=", 0.80, on="ratio")],
            target_text=">= 80% of floor",
        )
    )
    result.notes += [
        "Time from just before the POST to the moment a read-only poll of the history file "
        f"(every 5 ms) sees all {_n(n + 1)} executions finished; all were checked to be `success`.",
        "Each repetition starts a fresh `pingback dev --no-reload` in a fresh project copy and "
        "warms it with one `noop` trigger first.",
    ]
    return result


# --- 3. endpoint-fanout -----------------------------------------------------------------


def _endpoint_available() -> bool:
    completed = subprocess.run(
        [PINGBACK, "run", "--help"], env=bench_env(), capture_output=True, text=True, timeout=60
    )
    return "--endpoint" in completed.stdout


@contextlib.contextmanager
def _endpoint_app(project: Path, fanout: int) -> Iterator[str]:
    port = free_port()
    log = project.parent / f"app-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [PYTHON, str(LIB_DIR / "endpoint_app.py"), str(project), str(port)],
            env=bench_env(fanout),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def listening() -> bool:
        if process.poll() is not None:
            raise MeasureError(f"endpoint app exited {process.returncode}: {tail(log)}")
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_until(listening, timeout=30, what="the endpoint app to listen")
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def _http_floor(url: str, count: int) -> float:
    """Sequential keep-alive signed POSTs of ``count`` leaf requests: requests/s."""
    from pingback_cli.protocol import AttemptRequest, signed_headers

    with httpx.Client(timeout=30) as client:
        warm = AttemptRequest(str(uuid.uuid4()), "noop", 1, time.time()).encode()
        client.post(url, content=warm, headers=signed_headers(CRON_SECRET, warm))
        started = time.perf_counter()
        for i in range(count):
            body = AttemptRequest(str(uuid.uuid4()), "leaf", 1, time.time(), {"i": i}, True).encode()
            response = client.post(url, content=body, headers=signed_headers(CRON_SECRET, body))
            if response.status_code != 200:
                raise MeasureError(f"endpoint floor: HTTP {response.status_code} {response.text[:200]}")
        return count / (time.perf_counter() - started)


def endpoint_fanout(settings: Settings, shared: Shared) -> MeasureResult:
    result = MeasureResult("endpoint-fanout", "`pingback run --endpoint` against a local app, same fan-out")
    n = settings.fanout
    metric = f"children/s, `pingback run fanout --endpoint URL --json`, N = {_n(n)}"
    if not _endpoint_available():
        result.rows.append(
            Row(
                metric,
                "/s",
                status="unavailable",
                message="not available yet (`pingback run` has no --endpoint)",
            )
        )
        return result
    ours: list[float] = []
    floor: list[float] = []
    with temp_project() as app_project, _endpoint_app(app_project, n) as url:
        for rep in range(settings.repeat):
            with temp_project() as project:

                def run_ours(project: Path = project) -> None:
                    out = project.parent / "run.json"
                    seconds, code = run_timed(
                        [PINGBACK, "run", "fanout", "--endpoint", url, "--json"],
                        cwd=project,
                        env=bench_env(n),
                        stdout=out,
                    )
                    if code != 0:
                        raise MeasureError(f"pingback run --endpoint exited {code}: {tail(out, 5)}")
                    _verify_history(project, n + 1)
                    ours.append(n / seconds)

                steps: list[Callable[[], None]] = [lambda: floor.append(_http_floor(url, n)), run_ours]
                for step in steps if rep % 2 == 0 else reversed(steps):
                    step()
            settings.log(f"  rep {rep + 1}: pingback {ours[-1]:,.0f}/s, floor {floor[-1]:,.0f}/s")
    result.rows.append(
        Row(
            metric,
            "/s",
            ours,
            floor=floor,
            floor_label="sequential keep-alive httpx POSTs, same app",
            targets=[Target(">=", 0.70, on="ratio")],
            target_text=">= 70% of floor",
        )
    )
    result.notes += [
        "The app: stdlib `ThreadingHTTPServer`, HTTP/1.1 keep-alive, TCP_NODELAY, calling the "
        "benchmark project's `pb.handle()` (benchlib/endpoint_app.py), in its own process.",
        f"History was checked to hold {_n(n + 1)} executions, all `success`, after each run.",
        "Our wall time is the whole command; the floor times its POST loop only.",
    ]
    return result


# --- 4. trigger-latency -----------------------------------------------------------------


def trigger_latency(settings: Settings, shared: Shared) -> MeasureResult:
    result = MeasureResult("trigger-latency", "One trigger through a running `pingback dev`, trivial task")
    unknown = json.dumps({"task": "no-such-task"}).encode()
    via_api: list[float] = []
    via_file: list[float] = []
    via_fresh: list[float] = []
    rtt: list[float] = []
    with temp_project() as project, DevServer(project, bench_env(1)) as dev:

        def through_api(fresh: bool = False) -> float:
            client = dev.fresh if fresh else dev.client
            started = time.perf_counter()
            execution_id = dev.trigger_id("noop", fresh=fresh)
            while True:
                response = client.get(f"/api/v1/executions/{execution_id}/tree")
                if response.status_code == 200 and response.json().get("status") == "success":
                    return time.perf_counter() - started
                if time.perf_counter() - started > 30:
                    raise MeasureError(
                        f"noop {execution_id} not successful after 30 s: {response.text[:200]}"
                    )
                time.sleep(0.0002)

        def through_file() -> float:
            started = time.perf_counter()
            execution_id = dev.trigger_id("noop")
            while dev.history.status(execution_id) != "success":
                if time.perf_counter() - started > 30:
                    raise MeasureError(f"noop {execution_id} not in history as success after 30 s")
                time.sleep(0.0005)
            return time.perf_counter() - started

        def round_trip() -> float:
            started = time.perf_counter()
            response = dev.client.post(
                "/api/v1/trigger", content=unknown, headers={"Content-Type": "application/json"}
            )
            if response.status_code != 404:
                raise MeasureError(f"unknown task answered {response.status_code}")
            return time.perf_counter() - started

        for _ in range(settings.latency_warmup):
            through_api()
            through_api(fresh=True)
            through_file()
            round_trip()
        for _ in range(settings.latency_samples):
            rtt.append(round_trip() * 1000)
            via_api.append(through_api() * 1000)
            via_fresh.append(through_api(fresh=True) * 1000)
            via_file.append(through_file() * 1000)
    floor_label = "API round trip (trigger of an unknown name → 404)"
    result.rows.append(
        Row(
            "trigger → success, seen through the API (GET /api/v1/executions/{id}/tree)",
            "ms",
            via_api,
            floor=rtt,
            floor_label=floor_label,
            ratio_style="times",
            targets=[Target("<=", 3.0)],
            target_text="<= 3 ms median",
        )
    )
    result.rows.append(
        Row(
            "the same with a new connection per request (as the SDK's urllib, `pingback trigger`)",
            "ms",
            via_fresh,
            floor=rtt,
            floor_label=floor_label,
            ratio_style="times",
            target_text="— (info)",
        )
    )
    result.rows.append(
        Row(
            "trigger → success, seen in the history file (read-only SQLite poll every 0.5 ms)",
            "ms",
            via_file,
            floor=rtt,
            floor_label=floor_label,
            ratio_style="times",
            targets=[Target("<=", 3.0)],
            target_text="<= 3 ms median",
        )
    )
    for label, samples in (
        ("Through the API", via_api),
        ("Through the API, new connections", via_fresh),
        ("In the history file", via_file),
    ):
        result.notes.append(
            f"{label}: p90 {percentile(samples, 90):.2f} ms, max {max(samples):.2f} ms "
            f"over {len(samples)} triggers."
        )
    result.notes.append(
        f"{settings.latency_warmup} warm-up triggers of each kind first; then the four kinds "
        "interleaved, one at a time; keep-alive httpx client except where said."
    )
    if median(rtt) > 30:
        result.notes.append(
            f"The bare API round trip on a keep-alive connection is {median(rtt):.0f} ms: the signature "
            "of Nagle's algorithm meeting delayed ACKs (~40 ms), i.e. the API's accepted sockets lack "
            "TCP_NODELAY. asyncio sets it only when the listening socket's proto is IPPROTO_TCP; a "
            "socket made as `socket.socket(family, SOCK_STREAM)` has proto 0. A new connection per "
            "request (curl, urllib) hides it, as Linux starts each connection in quick-ACK mode."
        )
    return result


# --- 5 and 6. help, ls: benchlib/startup.py (start-up against floors) --------------------


# --- 7. reload --------------------------------------------------------------------------


def reload_time(settings: Settings, shared: Shared) -> MeasureResult:
    result = MeasureResult("reload", "Save → new code serving in `pingback dev`")
    serving: list[float] = []
    succeeded: list[float] = []
    with temp_project() as project, DevServer(project, bench_env(1), reload=True) as dev:
        time.sleep(0.3 if settings.quick else 1.0)  # let the watcher settle after start-up
        source = project / "bench_jobs.py"
        for i in range(settings.reload_saves):
            token = uuid.uuid4().hex[:12]
            name = f"reload-{i}-{token}"
            code = f'\n\n@pb.task("{name}")\ndef reload_{i}_{token}(ctx):\n    return "{token}"\n'
            with source.open("a", encoding="utf-8") as handle:
                handle.write(code)
            saved = time.perf_counter()
            while True:
                response = dev.trigger(name, fresh=True)
                if response.status_code == 201:
                    break
                if response.status_code != 404:
                    raise MeasureError(f"trigger {name}: HTTP {response.status_code} {response.text[:200]}")
                if time.perf_counter() - saved > 30:
                    raise MeasureError(f"{name} not served 30 s after the save:\n{tail(dev.log)}")
                time.sleep(0.002)
            accepted = time.perf_counter()
            execution_id = response.json()["executionId"]
            while True:
                body = dev.fresh.get(f"/api/v1/executions/{execution_id}/tree").json()
                if body.get("status") == "success":
                    if body.get("result") != token:
                        raise MeasureError(
                            f"{name} answered {body.get('result')!r}, not the new code's token"
                        )
                    break
                if body.get("status") in ("failed", "interrupted"):
                    raise MeasureError(f"{name} {body.get('status')}: {body.get('error')}")
                if time.perf_counter() - saved > 30:
                    raise MeasureError(f"{name} did not succeed 30 s after the save")
                time.sleep(0.001)
            done = time.perf_counter()
            serving.append((accepted - saved) * 1000)
            succeeded.append((done - saved) * 1000)
            settings.log(
                f"  save {i + 1}: serving after {serving[-1]:.0f} ms, succeeded after {succeeded[-1]:.0f} ms"
            )
            time.sleep(0.5)  # the old worker stops in the background; do not overlap saves
    result.rows.append(
        Row(
            "save → a trigger of the new task is accepted (new code serving)",
            "ms",
            serving,
            targets=[Target("<=", 300)],
            target_text="<= 300 ms median",
        )
    )
    result.rows.append(
        Row(
            "save → that execution succeeded with the new code's result",
            "ms",
            succeeded,
            target_text="— (includes the first run)",
        )
    )
    result.notes.append(
        f"{len(serving)} saves, each appending a new task that returns a unique token to the "
        "project copy's bench_jobs.py; a trigger is retried every 2 ms while it answers 404, each "
        "on a new connection (a keep-alive one would add the API's ~40 ms Nagle stall per poll)."
    )
    return result


# --- 8. cron-lateness -------------------------------------------------------------------

MINUTE_CRON = """

@pb.cron("every-minute", "* * * * *")
def every_minute(ctx):
    return None
"""


def cron_lateness(settings: Settings, shared: Shared) -> MeasureResult:
    result = MeasureResult("cron-lateness", "Cron lateness (started_at − scheduled_at)")
    completed = subprocess.run(
        [PYTHON, str(LIB_DIR / "cron_lateness.py"), str(settings.cron_fires)],
        env=bench_env(),
        capture_output=True,
        text=True,
        timeout=settings.cron_fires + 60,
    )
    if completed.returncode != 0:
        raise MeasureError(f"cron_lateness.py failed: {completed.stderr[-2000:]}")
    in_process = [value * 1000 for value in json.loads(completed.stdout.strip().splitlines()[-1])]
    result.rows.append(
        Row(
            "engine's CronScheduler on the real clock, in-process (next_fire → next whole second)",
            "ms",
            in_process,
            targets=[Target("<=", 50)],
            target_text="<= 50 ms median",
        )
    )
    metric = "real `pingback dev`, a `* * * * *` cron across 2 minute boundaries"
    if settings.full:
        with temp_project() as project:
            with (project / "bench_jobs.py").open("a", encoding="utf-8") as handle:
                handle.write(MINUTE_CRON)
            with DevServer(project, bench_env(1)) as dev:
                sql = (
                    "SELECT started_at - scheduled_at FROM executions"
                    " WHERE function = 'every-minute' AND started_at IS NOT NULL ORDER BY scheduled_at"
                )
                settings.log("  waiting for 2 minute boundaries in a real pingback dev (up to 3 minutes)")
                wait_until(
                    lambda: len(dev.history.rows(sql)) >= 2, timeout=200, interval=0.5, what="2 cron fires"
                )
                lateness = [float(row[0]) * 1000 for row in dev.history.rows(sql)]
        result.rows.append(
            Row(metric, "ms", lateness, targets=[Target("<=", 50)], target_text="<= 50 ms median")
        )
    else:
        result.rows.append(Row(metric, "ms", status="skipped", message="run with --full (takes 2–3 minutes)"))
    result.notes.append(
        "In-process: `pingback_cli.engine.cron_timer.next_fire` patched to return the next whole second, "
        "an executor whose attempts succeed at once, lateness of each `started` event."
    )
    return result


# --- 9. history -------------------------------------------------------------------------


def _build_history(project: Path, rows: int) -> tuple[str, str, int]:
    """About ``rows`` executions through the real Store: one big fan-out tree (a tenth of
    the rows) among many small ones (a root and 3 children). Returns (small root id, big
    root id, executions written)."""
    from pingback_cli.history.store import Store
    from pingback_cli.models import Attempt, Execution, new_id

    big_children = max(rows // 10, 10)
    small_trees = max((rows - big_children - 1) // 4, 1)
    start = time.time() - rows  # one execution a second, in the past
    written = 0
    small_id = big_id = ""

    def execution(function: str, at: float, *, parent: Execution | None = None, i: int = 0) -> Execution:
        attempt = Attempt(1, "success", at, at + 0.002, 2, 200)
        return Execution(
            id=new_id(),
            function=function,
            type="task" if parent else "cron",
            scheduled_at=at,
            payload={"i": i} if parent else None,
            has_payload=parent is not None,
            parent_id=parent.id if parent else None,
            root_id=parent.root_id if parent else "",
            depth=1 if parent else 0,
            status="success",
            attempt=1,
            attempts=[attempt],
            result=i if parent else {"children": 3},
            started_at=at,
            completed_at=at + 0.002,
            duration_ms=2,
            http_status=200,
            trigger="fanout" if parent else "run",
        )

    store = Store(history_db(project))
    try:
        big_at = int(small_trees * 0.995)  # among the 20 newest roots, as `pingback runs` lists
        for tree in range(small_trees + 1):
            at = start + written
            if tree == big_at:
                root = execution("fanout", at)
                store.save(root)
                for i in range(big_children):
                    store.save(execution("leaf", at, parent=root, i=i))
                written += big_children + 1
                big_id = root.id
                continue
            root = execution("fanout", at)
            store.save(root)
            for i in range(3):
                store.save(execution("leaf", at, parent=root, i=i))
            written += 4
            small_id = root.id
    finally:
        store.close()
    return small_id, big_id, written


def history_commands(settings: Settings, shared: Shared) -> MeasureResult:
    result = MeasureResult("history", "`pingback runs` / `show` on a large history")
    with temp_project() as project:
        started = time.perf_counter()
        small_id, big_id, written = _build_history(project, settings.history_rows)
        built = time.perf_counter() - started
        settings.log(f"  built {written:,} executions in {built:.1f} s")
        env = bench_env()
        commands = {
            "runs": [PINGBACK, "runs"],
            "show-small": [PINGBACK, "show", small_id[:8]],
            "show-big": [PINGBACK, "show", big_id[:8]],
        }
        samples: dict[str, list[float]] = {key: [] for key in commands}
        baseline: list[float] = []
        for _ in range(settings.history_warmups):  # warm caches
            for args in commands.values():
                run_timed(args, cwd=project, env=env)
        for _ in range(settings.history_samples):
            for key, args in commands.items():
                out = project.parent / "out.txt"
                seconds, code = run_timed(args, cwd=project, env=env, stdout=out)
                if code != 0:
                    raise MeasureError(f"{' '.join(args[1:])} exited {code}: {tail(out, 5)}")
                samples[key].append(seconds * 1000)
            baseline.append(run_timed([PYTHON, "-c", "pass"], cwd=project, env=env)[0] * 1000)
    big = max(settings.history_rows // 10, 10)
    common = {"floor": baseline, "floor_label": "`python -c pass`", "ratio_style": "times"}
    result.rows += [
        Row(
            f"`pingback runs` with {_n(written)} executions",
            "ms",
            samples["runs"],
            targets=[Target("<=", 300)],
            target_text="<= 300 ms",
            **common,  # type: ignore[arg-type]
        ),
        Row(
            "`pingback show <id>`, a root with 3 children",
            "ms",
            samples["show-small"],
            targets=[Target("<=", 300)],
            target_text="<= 300 ms",
            **common,  # type: ignore[arg-type]
        ),
        Row(
            f"`pingback show <id>`, a root with {_n(big)} children",
            "ms",
            samples["show-big"],
            target_text="— (info: rendering a large tree)",
            **common,  # type: ignore[arg-type]
        ),
    ]
    result.notes += [
        f"History written through `pingback_cli.history.store.Store` in {built:.1f} s: one fan-out of "
        f"{_n(big)} children (among the 20 newest roots) and roots with 3 children each.",
        "`show` is given an 8-character id prefix, as a user copies it from `runs`; output to a file "
        "(plain, not a terminal).",
    ]
    return result


# --- 10. dev-memory ---------------------------------------------------------------------


def dev_memory(settings: Settings, shared: Shared) -> MeasureResult:
    """RSS of one `pingback dev` as its history grows, read after a warm-up as the issue asks
    ("grows less than 10% from 10,000 to 100,000 after warm-up"): one fan-out of N runs first
    and is not counted, then executions are counted from zero. Every fan-out's reading,
    the warm-up's included, is in the notes, and the growth from the warm-up's own reading is
    a row of its own (information, no target)."""
    result = MeasureResult("dev-memory", "`pingback dev` memory as history grows")
    idle, series, points = _dev_memory_readings(settings)
    for executions, rss, _ in points:
        result.rows.append(
            Row(
                f"RSS of the `pingback dev` process after {_n(executions)} executions",
                "MB",
                [rss],
                targets=[Target("<=", 100)],
                target_text="<= 100 MB",
            )
        )
    first, last = points[0][1], points[-1][1]
    result.rows.append(
        Row(
            f"growth from {_n(points[0][0])} to {_n(points[-1][0])} executions",
            "%",
            [(last - first) / first * 100],
            targets=[Target("<=", 10)],
            target_text="flat: <= 10%",
        )
    )
    result.rows.append(
        Row(
            f"growth from the end of the warm-up fan-out to {_n(points[-1][0])} executions after it",
            "%",
            [(last - series[0]) / series[0] * 100],
            target_text="— (information: includes the first fan-out's allocator high-water mark)",
        )
    )
    result.notes += [
        f"One `pingback dev --no-reload`; the fan-out cron (N = {_n(settings.fanout)}) triggered "
        f"{DEV_MEMORY_WARMUP + max(settings.memory_points)} times through the API, each waited for in "
        f"history. The first {DEV_MEMORY_WARMUP} is the warm-up: executions are counted after it.",
        f"RSS at start, before any execution: {idle:.1f} MB; after each fan-out (warm-up first): "
        + ", ".join(f"{rss:.1f}" for rss in series)
        + " MB. Worker subprocess RSS at the points: "
        + ", ".join(f"{workers:.1f} MB" for _, _, workers in points)
        + " (not counted above).",
    ]
    return result


def _dev_memory_readings(settings: Settings) -> tuple[float, list[float], list[tuple[int, float, float]]]:
    """One dev, fan-outs of N: (RSS at start, RSS after each fan-out, [(executions counted
    after the warm-up, dev RSS, workers' RSS) at each of ``settings.memory_points``])."""
    n = settings.fanout
    points: list[tuple[int, float, float]] = []
    series: list[float] = []
    with temp_project() as project, DevServer(project, bench_env(n)) as dev:
        time.sleep(0.5)
        idle = rss_mb(dev.pid)
        executions = 0
        for trigger in range(DEV_MEMORY_WARMUP + max(settings.memory_points)):
            root = dev.trigger_id("fanout")
            dev.wait_tree(root, n + 1, timeout=60 + n / 100)
            time.sleep(0.5)  # let the last flush and the tree print finish
            series.append(rss_mb(dev.pid))
            if trigger < DEV_MEMORY_WARMUP:
                continue
            executions += n + 1
            if trigger - DEV_MEMORY_WARMUP + 1 in settings.memory_points:
                workers = sum(rss_mb(pid) for pid in child_pids(dev.pid))
                points.append((executions, series[-1], workers))
                settings.log(f"  after {executions:,}: dev {points[-1][1]:.1f} MB, worker {workers:.1f} MB")
        total, succeeded = dev.history.all_counts()
        expected = executions + DEV_MEMORY_WARMUP * (n + 1)
        if total != expected or succeeded != expected:
            raise MeasureError(f"history has {total} executions ({succeeded} succeeded), expected {expected}")
    return idle, series, points


DEV_MEMORY_WARMUP = 1
"""Fan-outs run before dev-memory counts executions (the issue: "after warm-up")."""


# --- 11. peer-huey ----------------------------------------------------------------------


@contextlib.contextmanager
def _huey_consumer(folder: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    consumer = shutil.which("huey_consumer", path=str(VENV_BIN)) or shutil.which("huey_consumer")
    if consumer is None:
        raise Unavailable("huey_consumer not found")
    log = folder / "consumer.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [consumer, "huey_app.huey", "-w", "4", "-k", "thread", "-d", "0.01", "-m", "0.05", "-C", "-q"],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield process, log
    finally:
        stop_process(process)


def _huey_once(settings: Settings, fsync: bool) -> float:
    n = settings.fanout
    folder = Path(tempfile.mkdtemp(prefix="pingback-bench-huey-"))
    try:
        db = folder / "huey.db"
        extra = {"BENCH_HUEY_DB": str(db), "BENCH_HUEY_FSYNC": "1" if fsync else "0"}
        env = bench_env(PYTHONPATH=str(LIB_DIR), **extra)
        os.environ.update(extra)
        if str(LIB_DIR) not in sys.path:
            sys.path.insert(0, str(LIB_DIR))
        app: Any = (
            importlib.reload(sys.modules["huey_app"])
            if "huey_app" in sys.modules
            else (importlib.import_module("huey_app"))
        )
        with _huey_consumer(folder, env) as (process, log):
            pong = app.ping()
            try:
                pong.get(blocking=True, timeout=60, max_delay=0.05)
            except Exception as exc:
                raise MeasureError(f"huey consumer did not answer a ping: {exc!r} {tail(log)}") from None
            time.sleep(0.2)  # the workers are idle and polling at their floor delay
            history = History(db)
            started = time.perf_counter()
            app.fanout(n)

            def stored() -> bool:
                if process.poll() is not None:
                    raise MeasureError(f"huey_consumer exited {process.returncode}: {tail(log)}")
                # Count results (~1 ms per 10,000) only once the queue looks empty (a few µs).
                if history.rows("SELECT 1 FROM task WHERE queue = 'bench' LIMIT 1"):
                    return False
                return history.rows("SELECT COUNT(*) FROM kv WHERE queue = 'bench'")[0][0] >= n + 1

            seen = wait_until(stored, timeout=60 + n / 50, interval=0.005, what=f"{n + 1} huey results")
            history.close()
            return n / (seen - started)
    finally:
        app = sys.modules.get("huey_app")
        if app is not None:
            with contextlib.suppress(Exception):
                app.huey.storage.close()
        shutil.rmtree(folder, ignore_errors=True)


def peer_huey(settings: Settings, shared: Shared) -> MeasureResult:
    result = MeasureResult("peer-huey", "Peers on the same fan-out: Huey + SQLite, real consumer")
    n = settings.fanout
    try:
        import huey
    except ImportError:
        for label in ("fsync on, huey's default", "fsync off"):
            result.rows.append(
                Row(
                    f"children/s, Huey + SQLite ({label}), N = {_n(n)}",
                    "/s",
                    status="unavailable",
                    message="huey is not installed: `.venv/bin/pip install -e '.[bench]'`",
                )
            )
        result.rows.append(_celery_row(n))
        return result
    ours = _shared_run_fanout(settings, shared)
    for fsync, label in ((True, "fsync on, huey's default"), (False, "fsync off")):
        samples: list[float] = []
        for rep in range(1 if settings.quick else settings.repeat):
            samples.append(_huey_once(settings, fsync))
            settings.log(f"  huey ({label}) rep {rep + 1}: {samples[-1]:,.0f}/s")
        result.rows.append(
            Row(
                f"children/s, Huey + SQLite ({label}), N = {_n(n)}",
                "/s",
                samples,
                floor=ours,
                floor_label="`pingback run fanout` (this run)",
                ratio_style="peer",
                target_text="— (peer)",
            )
        )
    result.rows.append(_celery_row(n))
    result.notes += [
        f"Huey {huey.__version__}: `huey_consumer huey_app.huey -w 4 -k thread -d 0.01 -m 0.05 -C` "
        "(benchlib/huey_app.py), a fresh SQLite file and consumer per repetition, started and "
        "answering a ping before the clock starts (our figure includes start-up).",
        f"Timed from enqueueing `fanout({_n(n)})` until {_n(n + 1)} results are in huey's kv table "
        "(read-only poll every 5 ms). The ratio is Huey's median over ours.",
    ]
    return result


def _celery_row(n: int) -> Row:
    metric = f"children/s, Celery + Redis, N = {_n(n)}"
    if shutil.which("redis-server") is None:
        return Row(
            metric, "/s", status="unavailable", message="redis-server is not installed on this machine"
        )
    return Row(metric, "/s", status="skipped", message="not measured yet (Huey is the required peer)")


MEASURES: dict[str, tuple[str, Callable[[Settings, Shared], MeasureResult]]] = {
    "run-fanout": ("`pingback run` fan-out", run_fanout),
    "dev-fanout": ("`pingback dev` fan-out via the API", dev_fanout),
    "endpoint-fanout": ("`pingback run --endpoint` fan-out", endpoint_fanout),
    "trigger-latency": ("one trigger round trip", trigger_latency),
    "reload": ("save → serving", reload_time),
    "cron-lateness": ("cron lateness", cron_lateness),
    "history": ("`runs` / `show` on a large history", history_commands),
    "dev-memory": ("`pingback dev` RSS", dev_memory),
    "peer-huey": ("Huey + SQLite peer", peer_huey),
}
