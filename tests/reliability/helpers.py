"""Helpers for the fault-injection suite: the installed ``pingback`` command on copies of
``tests/fixtures/misbehave``, a ``pingback dev`` of our own, history read straight from SQLite,
and the worker processes found through ``/proc``."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import (
    FIXTURES,
    SETTLE,
    Result,
    cli_env,
    free_port,
    http_client,
    pingback_command,
    poll,
    worker_pids,
)

MISBEHAVE = FIXTURES / "misbehave"
READY_TIMEOUT = SETTLE
FINISHED = ("success", "failed", "interrupted")
HAS_PROC = Path("/proc/self/cwd").exists()


def copy_misbehave(
    into: Path,
    *,
    settings: dict[str, int | str] | None = None,
    name: str = "misbehave",
    import_thread: bool = True,
) -> Path:
    """A fresh copy of the fixture; ``settings`` replaces values under ``[tool.pingback]``
    (a str is written as TOML source, e.g. ``'"many"'``). ``import_thread=False`` leaves out
    ``threads_at_import.py`` (and its ``thread-alive`` task), whose non-daemon thread keeps
    ``run_in_process`` from importing the project: for tests about something else."""
    target = into / name
    skipped = ["threads_at_import.py"] if not import_thread else []
    shutil.copytree(
        MISBEHAVE, target, ignore=shutil.ignore_patterns(".pingback", "__pycache__", "*.pyc", *skipped)
    )
    if settings:
        pyproject = target / "pyproject.toml"
        text = pyproject.read_text(encoding="utf-8")
        for key, value in settings.items():
            text, found = re.subn(rf"(?m)^{re.escape(key)} = .*$", f"{key} = {value}", text)
            if not found:
                text += f"{key} = {value}\n"
        pyproject.write_text(text, encoding="utf-8")
    return target


def listening_addresses(port: int) -> set[str]:
    """``host:port`` of every listening TCP socket on ``port``, from /proc/net/tcp{,6}."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, _, port_hex = local.partition(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            if len(address) == 8:
                octets = bytes.fromhex(address)[::-1]
                found.add(".".join(str(b) for b in octets) + f":{port}")
            else:
                found.add(f"[{address}]:{port}")
    return found


def kill_workers(project: Path) -> None:
    """Teardown's last resort: a worker a failed test left behind."""
    for pid in worker_pids(project):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def history_db(project: Path) -> Path:
    return project / ".pingback" / "history.sqlite3"


def history_rows(project: Path) -> list[dict[str, Any]]:
    """Every execution row, read-only and straight from SQLite (no pingback code involved)."""
    path = history_db(project)
    if not path.exists():
        return []
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(
            "SELECT id, root_id, parent_id, function, status, error, owner, queue"
            " FROM executions ORDER BY seq"
        ).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []  # a pingback process has just created the file and not the schema yet
        raise
    finally:
        conn.close()
    return [dict(row) for row in rows]


def statuses(project: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in history_rows(project):
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


def is_queued(row: dict[str, Any]) -> bool:
    """Waiting in `pingback dev`'s durable queue for the next dev (not lost, not running)."""
    return row["status"] == "pending" and row["queue"] == "dev"


def assert_history_settled(project: Path, *, queued_ok: bool = False) -> list[dict[str, Any]]:
    """Every execution ended as success, failed or interrupted: none pending or running
    (``queued_ok``: except what waits in dev's durable queue)."""
    rows = history_rows(project)
    unsettled = [row for row in rows if row["status"] not in FINISHED and not (queued_ok and is_queued(row))]
    assert not unsettled, f"{len(unsettled)} executions left unfinished: {unsettled[:5]}"
    return rows


def assert_one_error_line(result: Result, code: int, needle: str = "") -> str:
    """Exit ``code``; nothing on stdout; stderr has exactly one ``error:`` line (plus maybe a
    hint, or click's usage lines), which contains ``needle``; no traceback."""
    shown = result.brief()
    assert result.returncode == code, shown
    assert "Traceback" not in result.stdout + result.stderr, shown
    assert result.stdout == "", shown
    errors = [line for line in result.stderr.splitlines() if line.lower().startswith("error:")]
    assert len(errors) == 1, shown
    assert needle in errors[0], shown
    return errors[0]


class DevServer:
    """One ``pingback dev`` process on a free port, its output in files."""

    def __init__(
        self,
        project: Path,
        *,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        reload: bool = False,
    ) -> None:
        self.project = project
        self.reload = reload
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = args
        self.env = env or {}
        self.stdout_path = project.parent / f"dev-{self.port}.stdout"
        self.stderr_path = project.parent / f"dev-{self.port}.stderr"
        self.process: subprocess.Popen[bytes] | None = None
        self.http = http_client(base_url=self.url, timeout=30, headers=self._auth())

    def _auth(self) -> dict[str, str]:
        key = self.env.get("PINGBACK_API_KEY")
        return {"Authorization": f"Bearer {key}"} if key else {}

    def launch(self) -> DevServer:
        with self.stdout_path.open("wb") as stdout, self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [
                    pingback_command(),
                    "dev",
                    "--port",
                    str(self.port),
                    *(() if self.reload else ("--no-reload",)),
                    *self.args,
                ],
                cwd=self.project,
                env=cli_env(self.env),
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        return self

    def start(self) -> DevServer:
        self.launch()
        poll(f"pingback dev on {self.url}", self._serving, READY_TIMEOUT, explain=self.output)
        return self

    def _serving(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"pingback dev exited with {self.process.returncode}:\n{self.output()}")
        try:
            response = self.http.get("/api/v1/functions")
        except httpx.TransportError:
            return False
        return response.status_code == 200 and bool(response.json()) and self._announced()

    def _announced(self) -> bool:
        """Whether dev has written its ``.pingback/dev.json`` (a moment after its API answers),
        by which `pingback trigger`, `retry`, ... in the project find it."""
        folder = self.project.resolve()
        return any((where / ".pingback" / "dev.json").exists() for where in (folder, *folder.parents))

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = 15) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"pingback dev did not exit within {timeout:g}s of {sig.name}:\n{self.output()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        kill_workers(self.project)
        self.http.close()

    def output(self, limit: int = 4000) -> str:
        def read(path: Path) -> str:
            text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
            return text if len(text) <= limit else f"[...]\n{text[-limit:]}"

        return f"--- stdout ---\n{read(self.stdout_path)}\n--- stderr ---\n{read(self.stderr_path)}"

    def trigger(self, task: str, payload: Any = None, **extra: Any) -> str:
        body: dict[str, Any] = {"task": task, **extra}
        if payload is not None:
            body["payload"] = payload
        response = self.http.post("/api/v1/trigger", json=body)
        assert response.status_code == 201, f"{response.status_code} {response.text}\n{self.output()}"
        return str(response.json()["executionId"])

    def summary(self, execution_id: str, function: str) -> dict[str, Any] | None:
        """The root's row from GET /api/v1/executions (cheap: no tree, counts only)."""
        response = self.http.get("/api/v1/executions", params={"function": function, "limit": 1000})
        assert response.status_code == 200, response.text
        return next((row for row in response.json() if row["executionId"] == execution_id), None)

    def wait_root(self, execution_id: str, function: str, timeout: float = 60) -> dict[str, Any]:
        """Until the root and everything under it has finished; returns its summary row."""

        def done() -> dict[str, Any] | None:
            row = self.summary(execution_id, function)
            if row and row["status"] in FINISHED and row["unfinishedDescendants"] == 0:
                return row
            return None

        return dict(poll(f"{function} {execution_id} to finish", done, timeout, 0.2, self.output))

    def tree(self, execution_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/executions/{execution_id}/tree")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def run(self, task: str, payload: Any = None, timeout: float = 60, **extra: Any) -> dict[str, Any]:
        """Trigger ``task``, wait for its whole tree, return the tree."""
        execution_id = self.trigger(task, payload, **extra)
        self.wait_root(execution_id, task, timeout)
        return self.tree(execution_id)


@contextlib.contextmanager
def dev_server(
    project: Path, *, args: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> Iterator[DevServer]:
    server = DevServer(project, args=args, env=env)
    try:
        yield server.start()
    finally:
        server.kill()
