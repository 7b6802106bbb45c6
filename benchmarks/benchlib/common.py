"""What every measure shares: statistics, result rows, temp projects, processes, history reads."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO = BENCH_DIR.parent
PROJECT_SRC = BENCH_DIR / "project"
LIB_DIR = Path(__file__).resolve().parent
VENV_BIN = Path(sys.executable).parent
"""The interpreter's own bin folder (not resolved: a venv's python is a symlink)."""
PYTHON = str(VENV_BIN / Path(sys.executable).name)
PINGBACK = (
    str(VENV_BIN / "pingback") if (VENV_BIN / "pingback").exists() else (shutil.which("pingback") or "")
)

API_KEY = "pb_bench_api_key"
CRON_SECRET = "pb_bench_cron_secret"


class MeasureError(Exception):
    """A measure could not produce a trustworthy figure (a wrong count, a crash, a timeout)."""


class Unavailable(Exception):
    """A measure that cannot run here (a missing optional package or command)."""


# --- statistics -----------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile, ``q`` in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> tuple[float, float, str]:
    """min–max for a few repetitions, p10–p90 for a sample of ten or more."""
    if len(values) >= 10:
        return percentile(values, 10), percentile(values, 90), "p10–p90"
    return min(values), max(values), "min–max"


# --- results --------------------------------------------------------------------------

Op = Literal[">=", "<="]


@dataclass(frozen=True)
class Target:
    op: Op
    value: float
    on: Literal["value", "ratio"] = "value"
    """``value``: the median itself; ``ratio``: median / floor median."""

    def met(self, value: float, ratio: float | None) -> bool | None:
        subject = value if self.on == "value" else ratio
        if subject is None:
            return None
        return subject >= self.value if self.op == ">=" else subject <= self.value


@dataclass
class Row:
    """One figure: its samples, the floor or baseline measured in the same run, the target."""

    metric: str
    unit: str
    samples: list[float] = field(default_factory=list)
    floor: list[float] | None = None
    floor_label: str = ""
    targets: list[Target] = field(default_factory=list)
    target_text: str = ""
    ratio_style: Literal["percent", "times", "peer"] = "percent"
    """``percent``: a throughput as a share of its floor; ``times``: a duration as a multiple;
    ``peer``: a peer's figure as a multiple of ours."""
    status: Literal["ok", "unavailable", "error", "skipped"] = "ok"
    message: str = ""
    """Why a row has no figure (unavailable, error, skipped)."""

    @property
    def value(self) -> float | None:
        return median(self.samples) if self.samples else None

    @property
    def floor_value(self) -> float | None:
        return median(self.floor) if self.floor else None

    @property
    def ratio(self) -> float | None:
        value, floor = self.value, self.floor_value
        if value is None or not floor:
            return None
        return value / floor

    @property
    def met(self) -> bool | None:
        if self.status != "ok" or self.value is None or not self.targets:
            return None
        verdicts = [target.met(self.value, self.ratio) for target in self.targets]
        if any(verdict is None for verdict in verdicts):
            return None
        return all(verdicts)

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "unit": self.unit,
            "status": self.status,
            "message": self.message,
            "median": self.value,
            "samples": self.samples,
            "floor": self.floor,
            "floorLabel": self.floor_label,
            "ratio": self.ratio,
            "target": self.target_text,
            "met": self.met,
        }


@dataclass
class MeasureResult:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


# --- processes and projects -----------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env(fanout: int | None = None, **extra: str) -> dict[str, str]:
    """The environment of every command: the bench keys, plain output, no stray PINGBACK_*."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PINGBACK_", "BENCH_"))}
    env.update(
        PINGBACK_API_KEY=API_KEY,
        PINGBACK_CRON_SECRET=CRON_SECRET,
        NO_COLOR="1",
        PYTHONUNBUFFERED="1",
    )
    if fanout is not None:
        env["BENCH_FANOUT"] = str(fanout)
    env.update(extra)
    return env


@contextlib.contextmanager
def temp_project(prefix: str = "pingback-bench-", source: Path = PROJECT_SRC) -> Iterator[Path]:
    """A fresh copy of ``source`` (benchmarks/project unless told), without history or caches,
    removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    project = root / "project"
    shutil.copytree(source, project, ignore=shutil.ignore_patterns(".pingback", "__pycache__"))
    try:
        yield project
    finally:
        shutil.rmtree(root, ignore_errors=True)


def history_db(project: Path) -> Path:
    return project / ".pingback" / "history.sqlite3"


def run_timed(
    args: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    stdout: Path | None = None,
    timeout: float = 600,
) -> tuple[float, int]:
    """Wall seconds and exit code of one command; its output goes to ``stdout`` or nowhere.

    The wait blocks in waitpid: ``subprocess.run(timeout=...)`` polls with sleeps that double
    up to 50 ms, which rounded every figure up to the next step (32, 64, 115, 165 ms ...).
    Past ``timeout`` the command is killed and its exit code is the signal's."""
    with contextlib.ExitStack() as stack:
        out: Any = stack.enter_context(stdout.open("wb")) if stdout else subprocess.DEVNULL
        started = time.perf_counter()
        process = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=out)
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        try:
            code = process.wait()
        finally:
            killer.cancel()
        return time.perf_counter() - started, code


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def stop_process(process: subprocess.Popen[Any], grace: float = 10.0) -> None:
    """SIGINT (what Ctrl-C sends), then SIGKILL to its whole session after ``grace``."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(grace)
    # The process was started in its own session: its group id is its pid. Reap leftovers
    # (a worker that outlived its parent) of that group only.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


def rss_mb(pid: int) -> float:
    """Resident set size of one process, from /proc (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise MeasureError(f"no VmRSS for pid {pid}")


def child_pids(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found.extend(int(p) for p in (task / "children").read_text().split())
    return found


def wait_until(
    check: Callable[[], bool], *, timeout: float, interval: float = 0.01, what: str = "a condition"
) -> float:
    """Poll ``check`` until true; the perf_counter time at which it was seen true."""
    deadline = time.perf_counter() + timeout
    while True:
        if check():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise MeasureError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


# --- history (read-only, as any other process may read it while pingback writes) -----


class History:
    """A read-only connection to a project's history file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection | None:
        if self._conn is None and self.path.exists():
            self._conn = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=5)
        return self._conn

    def tree_counts(self, root_id: str) -> tuple[int, int, int]:
        """(executions, finished, succeeded) under ``root_id``, the root included."""
        conn = self._connect()
        if conn is None:
            return 0, 0, 0
        try:
            row = conn.execute(
                "SELECT COUNT(*),"
                " COALESCE(SUM(status NOT IN ('pending', 'running')), 0),"
                " COALESCE(SUM(status = 'success'), 0)"
                " FROM executions WHERE root_id = ?",
                (root_id,),
            ).fetchone()
        except sqlite3.OperationalError:  # no table yet, or a lock held a moment too long
            return 0, 0, 0
        return int(row[0]), int(row[1]), int(row[2])

    def maybe_done(self, root_id: str) -> bool:
        """Cheap (index-only, a few µs): the root is recorded and nothing under it is unfinished.
        Rows not flushed yet are invisible, so confirm with ``tree_counts``."""
        conn = self._connect()
        if conn is None:
            return False
        try:
            if conn.execute("SELECT 1 FROM executions WHERE id = ?", (root_id,)).fetchone() is None:
                return False
            row = conn.execute(
                "SELECT COUNT(*) FROM executions WHERE root_id = ? AND status IN ('pending', 'running')",
                (root_id,),
            ).fetchone()
        except sqlite3.OperationalError:
            return False
        return int(row[0]) == 0

    def status(self, execution_id: str) -> str | None:
        conn = self._connect()
        if conn is None:
            return None
        try:
            row = conn.execute("SELECT status FROM executions WHERE id = ?", (execution_id,)).fetchone()
        except sqlite3.OperationalError:
            return None
        return None if row is None else str(row[0])

    def all_counts(self) -> tuple[int, int]:
        """(executions, succeeded) in the whole file."""
        conn = self._connect()
        if conn is None:
            return 0, 0
        row = conn.execute("SELECT COUNT(*), COALESCE(SUM(status = 'success'), 0) FROM executions").fetchone()
        return int(row[0]), int(row[1])

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self._connect()
        if conn is None:
            return []
        return conn.execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


# --- a running `pingback dev` ---------------------------------------------------------


class DevServer:
    """``pingback dev`` as a subprocess on a free loopback port, with an httpx client to it."""

    def __init__(
        self,
        project: Path,
        env: dict[str, str],
        *,
        reload: bool = False,
        expect: frozenset[str] = frozenset({"fanout", "leaf", "noop"}),
    ) -> None:
        self.project = project
        self.env = env
        self.reload = reload
        self.expect = expect
        """Functions the API must list before the server counts as started."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = project.parent / f"dev-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        headers = {"Authorization": f"Bearer {API_KEY}"}
        self.client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        """Keep-alive, as an app's long-lived HTTP client."""
        self.fresh = httpx.Client(
            base_url=self.url, headers=headers, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)
        )
        """A new connection per request, as the SDK's urllib and `pingback trigger` do."""
        self.history = History(history_db(project))

    def start(self, timeout: float = 60) -> float:
        """Start and wait until the API answers; the seconds that took."""
        args = [PINGBACK, "dev", "--port", str(self.port)]
        if not self.reload:
            args.append("--no-reload")
        started = time.perf_counter()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                args,
                cwd=self.project,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise MeasureError(f"pingback dev exited with {self.process.returncode}:\n{tail(self.log)}")
            try:
                response = self.client.get("/api/v1/functions")
            except httpx.TransportError:
                return False
            # The API answers before the worker has reported the project's functions.
            return response.status_code == 200 and self.expect <= {f["name"] for f in response.json()}

        wait_until(ready, timeout=timeout, interval=0.02, what="pingback dev to answer")
        return time.perf_counter() - started

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def trigger(self, task: str, payload: Any = None, *, fresh: bool = False) -> httpx.Response:
        body: dict[str, Any] = {"task": task}
        if payload is not None:
            body["payload"] = payload
        return (self.fresh if fresh else self.client).post(
            "/api/v1/trigger", content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )

    def trigger_id(self, task: str, *, fresh: bool = False) -> str:
        response = self.trigger(task, fresh=fresh)
        if response.status_code != 201:
            raise MeasureError(f"trigger {task}: HTTP {response.status_code} {response.text[:200]}")
        return str(response.json()["executionId"])

    def wait_tree(self, root_id: str, expected: int, *, timeout: float, interval: float = 0.005) -> float:
        """Until ``expected`` executions under ``root_id`` are finished in the history file;
        the perf_counter time that was seen. Raises unless every one succeeded.

        Polls an index-only query; the full count (about 1 ms per 10,000 rows, which would
        steal CPU from the server on a 2-core machine) runs only when that one says done."""
        counts = (0, 0, 0)

        def done() -> bool:
            nonlocal counts
            if self.process is not None and self.process.poll() is not None:
                raise MeasureError(f"pingback dev exited with {self.process.returncode}:\n{tail(self.log)}")
            if not self.history.maybe_done(root_id):
                return False
            counts = self.history.tree_counts(root_id)
            return counts[1] >= expected

        seen = wait_until(done, timeout=timeout, interval=interval, what=f"{expected} executions recorded")
        total, _finished, succeeded = counts
        if total != expected or succeeded != expected:
            raise MeasureError(
                f"expected {expected} successful executions, history has {total} ({succeeded} succeeded)"
            )
        return seen

    def close(self) -> None:
        self.client.close()
        self.fresh.close()
        self.history.close()
        if self.process is not None:
            stop_process(self.process)

    def __enter__(self) -> DevServer:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
