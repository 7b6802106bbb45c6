"""End-to-end: the installed ``pingback dev`` command, driven over HTTP, by the SDK and by the CLI.

Each server runs on a copy of ``tests/fixtures/devproj`` in a temporary folder, so
its ``.pingback/`` history is its own. Tests that do not disturb each other share
one server (the crash test last: it stops it); reload and shutdown tests start their own.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cli_support import SETTLE, Result, free_port, poll, run_in_process, walk, worker_pids

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "devproj"
JOBS = Path("devapp") / "jobs.py"
API_KEY = "pb_e2e_api_key"
CRON_SECRET = "pb_e2e_cron_secret"
READY_TIMEOUT = SETTLE
RUN_TIMEOUT = SETTLE
STOP_TIMEOUT = 20.0
"""A stop that waited for the fixture's sleepy (30 s) would take longer; a loaded machine can
stall a prompt stop for seconds (5 s was the old figure)."""

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/cwd").exists(), reason="finds leftover worker processes through /proc"
)


# --- helpers ------------------------------------------------------------------------------


def pingback_executable() -> str:
    found = shutil.which("pingback", path=os.path.dirname(sys.executable))
    if found is None:
        pytest.fail(f"the pingback command is not installed next to {sys.executable}")
    return found


def child_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PINGBACK_") and key not in ("FORCE_COLOR", "COLUMNS")
    }
    env.update(
        {
            "NO_COLOR": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PINGBACK_API_KEY": API_KEY,
            "PINGBACK_CRON_SECRET": CRON_SECRET,
        }
    )
    return env


def copy_devproj(into: Path) -> Path:
    target = into / "devproj"
    shutil.copytree(FIXTURE, target, ignore=shutil.ignore_patterns(".pingback", "__pycache__", "*.pyc"))
    return target


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class DevServer:
    """One ``pingback dev`` process on a free port, with its output in files."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout_path = project.parent / f"dev-{self.port}.stdout"
        self.stderr_path = project.parent / f"dev-{self.port}.stderr"
        self.process: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=10)
        self.ready_at = 0.0
        self.triggered: list[str] = []

    # lifecycle

    def start(self, env: dict[str, str] | None = None) -> DevServer:
        self.launch(env)
        return self.wait_ready()

    def launch(self, env: dict[str, str] | None = None) -> None:
        with self.stdout_path.open("wb") as stdout, self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [pingback_executable(), "dev", "--port", str(self.port)],
                cwd=self.project,
                env={**child_env(), **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
            )

    def wait_ready(self) -> DevServer:
        poll(
            f"pingback dev to serve its functions on {self.url}",
            self._serving,
            READY_TIMEOUT,
            explain=self.output,
        )
        self.ready_at = time.time()
        return self

    def _serving(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(
                f"pingback dev exited with {self.process.returncode} before serving:\n{self.output()}"
            )
        try:
            response = self.http.get("/api/v1/functions")
        except httpx.TransportError:
            return False
        # The API answers before the worker has imported the project (an empty list);
        # ready means the functions are known.
        return response.status_code == 200 and bool(response.json())

    def stop(self, sig: signal.Signals = signal.SIGINT, timeout: float = STOP_TIMEOUT) -> tuple[int, float]:
        """Send ``sig``; returns (exit code, seconds it took)."""
        assert self.process is not None
        started = time.monotonic()
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"pingback dev did not exit within {timeout:g}s of {sig.name}:\n{self.output()}")
        return code, time.monotonic() - started

    def kill(self) -> None:
        """Last resort in teardown: the server and any worker it left behind."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        for pid in worker_pids(self.project):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
        self.http.close()

    def output(self) -> str:
        def read(path: Path) -> str:
            return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

        return f"--- stdout ---\n{read(self.stdout_path)}--- stderr ---\n{read(self.stderr_path)}"

    # the API

    def trigger_response(self, body: Any) -> httpx.Response:
        return self.http.post("/api/v1/trigger", json=body)

    def trigger(self, task: str, payload: Any = None, **extra: Any) -> str:
        body: dict[str, Any] = {"task": task, **extra}
        if payload is not None:
            body["payload"] = payload
        response = self.trigger_response(body)
        assert response.status_code == 201, f"{response.status_code} {response.text}\n{self.output()}"
        execution_id = str(response.json()["executionId"])
        self.triggered.append(execution_id)
        return execution_id

    def execution(self, execution_id: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/executions/{execution_id}/tree")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def wait_finished(self, execution_id: str, timeout: float = RUN_TIMEOUT) -> dict[str, Any]:
        """The tree under ``execution_id`` once every execution in it has finished."""

        def finished() -> dict[str, Any] | None:
            tree = self.execution(execution_id)
            done = all(node["status"] in ("success", "failed", "interrupted") for node in walk(tree))
            return tree if done else None

        return dict(poll(f"execution {execution_id} to finish", finished, timeout, explain=self.output))

    def run(self, task: str, payload: Any = None, **extra: Any) -> dict[str, Any]:
        return self.wait_finished(self.trigger(task, payload, **extra))


def run_cli(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [pingback_executable(), *args],
        cwd=project,
        env={**child_env(), **(env or {})},
        capture_output=True,
        text=True,
        encoding="utf-8",
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def assert_one_error_line(result: subprocess.CompletedProcess[str] | Result, code: int, needle: str) -> None:
    shown = f"exit {result.returncode}\n--- stdout ---\n{result.stdout}--- stderr ---\n{result.stderr}"
    assert result.returncode == code, shown
    assert "Traceback" not in result.stderr + result.stdout, shown
    assert result.stdout == "", shown
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("hint: ")]
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], shown


def history(project: Path) -> list[dict[str, Any]]:
    """``pingback runs --json``, its Click command in process (the installed command's ``runs``
    is tested in test_cli_core)."""
    result = run_in_process(project, "runs", "--json", "--limit", "1000")
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


@pytest.fixture
def dev_factory(tmp_path: Path) -> Iterator[Callable[..., DevServer]]:
    """A server of one's own on a fresh copy of the project; killed at teardown if still up.

    ``dev_factory()`` returns it serving; ``dev_factory(launch_only=True)`` just launched.
    """
    servers: list[DevServer] = []

    def start(*, launch_only: bool = False, env: dict[str, str] | None = None) -> DevServer:
        server = DevServer(copy_devproj(tmp_path / f"p{len(servers)}"))
        servers.append(server)
        server.launch(env)
        return server if launch_only else server.wait_ready()

    yield start
    for server in servers:
        server.kill()


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One server shared by the tests that leave it as they found it."""
    server = DevServer(copy_devproj(tmp_path_factory.mktemp("shared-dev")))
    try:
        server.start()
        yield server
        code, _ = server.stop()
        assert code == 0, server.output()
    finally:
        server.kill()


# --- a shared server ----------------------------------------------------------------------


def test_header_lists_the_functions_and_the_next_cron_run(dev: DevServer) -> None:
    # The API serves the functions a moment before the table and this last line are printed.
    waiting = "Waiting for crons and triggers. Ctrl-C to stop."
    poll("the header's last line", lambda: waiting in dev.output(), SETTLE, explain=dev.output)
    stdout = dev.stdout_path.read_text(encoding="utf-8")
    assert f"API       {dev.url}" in stdout
    assert "6 functions (2 crons, 4 tasks)" in stdout
    assert "Waiting for crons and triggers. Ctrl-C to stop." in stdout
    row = next(line for line in stdout.splitlines() if line.startswith("every-minute"))
    assert "* * * * *" in row and " UTC" in row
    asked = time.time()
    functions = {f["name"]: f for f in dev.http.get("/api/v1/functions").json()}
    answered = time.time()
    assert set(functions) == {"fanout", "every-minute", "leaf", "calls-trigger", "crash", "sleepy"}
    next_run = parse_iso(functions["every-minute"]["nextRunAt"])
    # The minute after the moment the server answered, which lies between asked and answered
    # (not after time.time() read later: a minute boundary may pass in between).
    assert next_run % 60 == 0 and asked < next_run <= answered + 60
    assert functions["leaf"]["nextRunAt"] is None and functions["leaf"]["concurrency"] == 5


def test_dev_banner_values_line_up(dev: DevServer) -> None:
    """The banner's labels and values in two columns (new-user trial; was test_cli_polish's,
    on a dev of its own: the shared server prints the same banner)."""
    poll("the banner", lambda: "Ctrl-C to stop" in dev.output(), SETTLE, explain=dev.output)
    lines = dev.stdout_path.read_text(encoding="utf-8").splitlines()
    labels = ("API", "dashboard", "reload", "history", "times")
    rows = [line for line in lines if line.strip().split(" ")[0] in labels][: len(labels)]
    columns = {len(row) - len(row.strip().partition(" ")[2].lstrip()) for row in rows}
    assert len(rows) == len(labels) and len(columns) == 1, "\n".join(lines[:10])


def test_triggered_cron_fans_out_twenty_children_that_all_succeed(dev: DevServer) -> None:
    root_id = dev.trigger("fanout")
    tree = dev.wait_finished(root_id)
    nodes = walk(tree)
    assert len(nodes) == 21
    assert [node["status"] for node in nodes] == ["success"] * 21, json.dumps(tree, indent=1)[:3000]
    assert (tree["type"], tree["trigger"], tree["result"]) == ("cron", "trigger", {"dispatched": 20})
    children = tree["children"]
    assert sorted(child["payload"]["n"] for child in children) == list(range(20))
    for child in children:
        assert (child["function"], child["parentId"], child["rootId"]) == ("leaf", root_id, root_id)
        assert child["trigger"] == "fanout" and child["attempt"] == 1
        assert child["result"] == {"echo": child["payload"]}
    [summary] = [r for r in dev.http.get("/api/v1/executions").json() if r["executionId"] == root_id]
    assert (summary["descendants"], summary["failedDescendants"]) == (20, 0)


def test_the_sdk_client_triggers_into_the_emulator(dev: DevServer) -> None:
    from pingback import Pingback

    client = Pingback(api_key=API_KEY, cron_secret=CRON_SECRET, platform_url=dev.url)
    execution_id = client.trigger("leaf", {"x": 1})
    dev.triggered.append(execution_id)
    tree = dev.wait_finished(execution_id)
    assert (tree["status"], tree["function"], tree["trigger"]) == ("success", "leaf", "trigger")
    assert tree["payload"] == {"x": 1} and tree["result"] == {"echo": {"x": 1}}
    assert tree["logs"][0]["message"] == "leaf ran"


def test_the_sdk_client_reports_refusals(dev: DevServer) -> None:
    from pingback import Pingback

    client = Pingback(api_key=API_KEY, cron_secret=CRON_SECRET, platform_url=dev.url)
    with pytest.raises(RuntimeError, match=r"Trigger failed \(404\)"):
        client.trigger("no-such-task")
    with pytest.raises(RuntimeError, match=r"Trigger failed \(400\)"):
        client.trigger("leaf", delay="soon")


def test_a_handler_calling_pb_trigger_creates_a_new_root(dev: DevServer) -> None:
    caller = dev.run("calls-trigger")
    assert caller["status"] == "success", caller
    assert caller["children"] == [], "pb.trigger() is a new root, not a child"
    triggered = caller["result"]["triggered"]
    dev.triggered.append(triggered)

    def landed() -> dict[str, Any] | None:
        roots = dev.http.get("/api/v1/executions", params={"function": "leaf", "limit": 100}).json()
        return next((r for r in roots if r["executionId"] == triggered), None)

    root = poll("the handler's trigger to show up", landed, RUN_TIMEOUT, explain=dev.output)
    assert (root["parentId"], root["trigger"], root["payload"]) == (None, "trigger", {"from": "handler"})
    assert dev.wait_finished(triggered)["status"] == "success"


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"task": "leaf", "delay": "abc"}, 400, 'Invalid delay format: "abc"'),
        ({"task": "leaf", "delay": 0}, 400, "Delay must be a positive number of seconds"),
        ({"task": "leaf", "delay": "31d"}, 400, "Delay of 2678400s exceeds maximum of 2592000s (30 days)"),
        ({"task": "no-such-task"}, 404, 'Task "no-such-task" not found in this project'),
        ({"payload": {}}, 404, 'Task "undefined" not found in this project'),
    ],
)
def test_refusals_over_http(dev: DevServer, body: dict[str, Any], status: int, needle: str) -> None:
    response = dev.trigger_response(body)
    assert response.status_code == status
    assert needle in response.json()["message"]


def test_refusals_via_pingback_trigger(dev: DevServer) -> None:
    bad_delay = run_cli(dev.project, "trigger", "leaf", "--delay", "abc", "--platform-url", dev.url)
    assert_one_error_line(
        bad_delay, 2, f'the platform at {dev.url} refused (400): Invalid delay format: "abc"'
    )
    # the same refusal path for other answers: trigger's Click command in process
    unknown = run_in_process(dev.project, "trigger", "no-such-task", env={"PINGBACK_PLATFORM_URL": dev.url})
    assert_one_error_line(unknown, 2, 'Task "no-such-task" not found in this project (404)')
    assert "hint: `pingback ls` and `pingback runs` list what exists" in unknown.stderr, unknown.brief()
    typo = run_in_process(dev.project, "trigger", "Leaf", env={"PINGBACK_PLATFORM_URL": dev.url})
    assert_one_error_line(typo, 2, 'Task "Leaf" not found in this project (404)')
    assert "hint: did you mean 'leaf'?" in typo.stderr, typo.brief()


def test_pingback_trigger_succeeds(dev: DevServer) -> None:
    result = run_cli(
        dev.project, "trigger", "leaf", "--payload", '{"via": "cli"}', "--json", "--platform-url", dev.url
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {"executionId", "task", "scheduledAt"} and answer["task"] == "leaf"
    dev.triggered.append(answer["executionId"])
    tree = dev.wait_finished(answer["executionId"])
    assert tree["status"] == "success" and tree["payload"] == {"via": "cli"}

    plain = run_in_process(dev.project, "trigger", "leaf", "--platform-url", dev.url)  # the text
    assert plain.returncode == 0 and plain.stderr == ""
    execution_id, task, *when = plain.stdout.split()
    assert (task, when) == ("leaf", ["starts", "now"])
    dev.triggered.append(execution_id)
    assert dev.wait_finished(execution_id)["status"] == "success"


def test_a_delayed_task_waits_for_its_delay(dev: DevServer) -> None:
    asked = time.time()
    response = dev.trigger_response({"task": "leaf", "payload": {"late": True}, "delay": 2})
    answered = time.time()
    assert response.status_code == 201
    execution_id = response.json()["executionId"]
    dev.triggered.append(execution_id)
    scheduled = parse_iso(response.json()["scheduledAt"])
    # Two seconds after the server took the request, between asked and answered (to the ms).
    assert asked + 2 - 0.002 <= scheduled <= answered + 2 + 0.002, (asked, scheduled, answered)

    before_due = dev.execution(execution_id)
    if time.time() < scheduled:  # answered before it was due (unless this machine stalled for 2 s)
        assert before_due["status"] == "pending", before_due

    # The emulator's own timestamps say it waited, however slow this machine is.
    tree = dev.wait_finished(execution_id)
    assert tree["status"] == "success"
    assert parse_iso(tree["startedAt"]) >= scheduled - 0.01, tree
    assert tree["scheduledAt"] == response.json()["scheduledAt"]


def test_runs_and_show_read_history_while_dev_runs(dev: DevServer) -> None:
    execution_id = dev.trigger("fanout")
    dev.wait_finished(execution_id)

    runs = history(dev.project)
    ids = [r["executionId"] for r in runs]
    assert execution_id in ids
    assert all(r["parentId"] is None for r in runs), "runs lists roots only"
    row = runs[ids.index(execution_id)]
    assert (row["function"], row["status"], row["descendants"]) == ("fanout", "success", 20)

    shown = run_in_process(dev.project, "show", execution_id[:8], "--json")
    assert shown.returncode == 0, shown.stderr
    tree = json.loads(shown.stdout)
    assert tree["executionId"] == execution_id and len(walk(tree)) == 21
    assert tree == dev.execution(execution_id)

    failed_only = run_in_process(dev.project, "runs", "--json", "--status", "failed")
    assert failed_only.returncode == 0 and json.loads(failed_only.stdout) == []


EVERY_SECOND = """

@pb.cron("every-second", "* * * * * *")
def every_second(ctx):
    return {"scheduledAt": str(ctx.scheduled_at)}
"""


def test_a_cron_fires_once_at_each_occurrence(tmp_path: Path) -> None:
    """A six-field (seconds) cron on a dev of its own: every whole second it is up fires once,
    on time, and the handler sees the occurrence's own time. Nothing here waits for a minute."""
    project = copy_devproj(tmp_path / "p")
    with (project / "devapp" / "jobs.py").open("a", encoding="utf-8") as jobs:
        jobs.write(EVERY_SECOND)
    server = DevServer(project)
    try:
        server.start()
        time.sleep(3.2)
        now = time.time()
        roots = server.http.get("/api/v1/executions", params={"function": "every-second"}).json()
        fired = sorted(parse_iso(r["scheduledAt"]) for r in roots if r["trigger"] == "cron")
        must = [
            s * 1.0 for s in range(int(server.ready_at) + 1, int(now)) if server.ready_at + 0.5 < s < now - 1
        ]
        assert len(must) >= 1, "the server was up for whole seconds"
        assert len(fired) == len(set(fired)), f"a second fired twice: {fired}"
        assert set(must) <= set(fired), (must, fired)
        assert all(at == int(at) and server.ready_at - 1 <= at <= now for at in fired), fired
        for root in roots:
            tree = server.wait_finished(root["executionId"])
            assert tree["status"] == "success", tree
            late = parse_iso(tree["startedAt"]) - parse_iso(tree["scheduledAt"])
            assert -0.05 <= late < 1.0, tree
            assert tree["result"]["scheduledAt"].startswith(tree["scheduledAt"][:19].replace("T", " "))
    finally:
        server.kill()


def test_an_occurrence_missed_while_dev_was_stopped_fires_late_on_start(tmp_path: Path) -> None:
    """As the platform's scheduler after downtime: the overdue occurrence fires once, late, with
    its own scheduledAt; the later ones are skipped; the live output says both."""
    from pingback_cli.history.store import Store, history_path
    from pingback_cli.models import Execution, new_id

    project = copy_devproj(tmp_path / "p")
    last = (int(time.time()) // 60 - 10) * 60.0  # "every-minute" last fired 10 minutes ago
    history_path(project).parent.mkdir(parents=True, exist_ok=True)
    with Store(history_path(project)) as store:
        fired = Execution(new_id(), "every-minute", "cron", last, trigger="cron", status="success")
        fired.started_at = fired.completed_at = last
        store.save(fired)
    server = DevServer(project)
    try:
        server.start()

        def caught_up() -> dict[str, Any] | None:
            roots = server.http.get("/api/v1/executions", params={"function": "every-minute"}).json()
            return next((r for r in roots if parse_iso(r["scheduledAt"]) == last + 60), None)

        row = poll("the missed occurrence to fire", caught_up, RUN_TIMEOUT, explain=server.output)
        assert row["trigger"] == "cron"
        assert server.wait_finished(row["executionId"])["status"] == "success"
        poll("the line saying so", lambda: "fired late, as the platform does" in server.output(), RUN_TIMEOUT)
        assert "later occurrences skipped, as the platform skips them" in server.output()
        code, _ = server.stop()
        assert code == 0, server.output()
    finally:
        server.kill()


def test_the_shared_server_logged_no_errors(dev: DevServer) -> None:
    """Runs after the shared server's other tests but the crash below: the SDK's registration
    landed, nothing crashed."""
    output = dev.output()
    assert "Registration failed" not in output, output
    assert "Traceback" not in output and "error:" not in output, output
    # Parity notices (a function running past its declared concurrency, what a plan would cut)
    # are expected: production behaves so; every other warning is a fault.
    warnings = output.split("warning:")[1:]
    assert all("docs/parity.md" in " ".join(warning.split()) for warning in warnings), output


def test_a_crashing_handler_fails_and_the_next_run_gets_a_new_worker(dev: DevServer) -> None:
    """The shared server's last test, after the one that checks its output for errors (a new
    worker is warned about): a crash, a new worker, then SIGTERM stops it cleanly."""
    server = dev
    crashed = server.run("crash")
    assert crashed["status"] == "failed"
    assert "worker process died" in crashed["error"] and "exited with code 1" in crashed["error"]
    assert crashed["attempts"][0]["status"] == "failed"

    after = server.run("leaf", {"after": "crash"})
    assert after["status"] == "success", after
    poll("the restart warning", lambda: "a new worker" in server.output(), SETTLE)
    assert len(worker_pids(server.project)) == 1

    code, _ = server.stop(signal.SIGTERM)
    assert code == 0
    assert worker_pids(server.project) == []


# --- servers of their own -----------------------------------------------------------------


ADDED_LATER = """

@pb.task("added-later")
def added_later(ctx, payload):
    ctx.log("hello from the new code")
    return {"added": True, "payload": payload}
"""

ADDED_AFTER_FIX = """

@pb.task("added-after-fix")
def added_after_fix(ctx):
    return "recovered"
"""


def manifest_names(server: DevServer) -> set[str]:
    """The functions ``.pingback/manifest.json`` lists (none while it is missing or half-written)."""
    try:
        manifest = json.loads((server.project / ".pingback" / "manifest.json").read_text(encoding="utf-8"))
        return {function["name"] for function in manifest["functions"]}
    except (OSError, ValueError, KeyError):
        return set()


def test_hot_reload_picks_up_a_save_made_during_start_up_and_survives_a_broken_save(
    dev_factory: Callable[..., DevServer],
) -> None:
    """One dev: a save made while the project imports is reloaded once serving; then a broken
    save keeps the last good code serving, and the next good save recovers. The completion
    manifest is written on start and again on the reload."""
    server = dev_factory(launch_only=True, env={"DEVPROJ_SLOW_IMPORT": "1.5"})
    poll("the worker to be importing", lambda: "devapp.jobs: slow import" in server.output(), READY_TIMEOUT)
    jobs = server.project / JOBS
    original = jobs.read_text(encoding="utf-8")
    jobs.write_text(original + ADDED_LATER, encoding="utf-8")
    server.wait_ready()
    # the completion manifest (tests/e2e/test_completion.py reads it), written on start
    poll("the manifest written on start", lambda: "leaf" in manifest_names(server), SETTLE, 0.1)

    def accepted() -> httpx.Response | None:
        response = server.trigger_response({"task": "added-later", "payload": {"k": "v"}})
        return response if response.status_code != 404 else None

    response = poll(
        "the save made during start-up to be reloaded", accepted, SETTLE, interval=0.1, explain=server.output
    )
    assert response.status_code == 201, response.text
    tree = server.wait_finished(response.json()["executionId"])
    assert tree["status"] == "success" and tree["result"] == {"added": True, "payload": {"k": "v"}}
    assert "added: added-later" in server.stdout_path.read_text(encoding="utf-8")

    good = original + ADDED_LATER
    jobs.write_text(good + "\n\ndef broken(:\n    pass\n", encoding="utf-8")
    poll(
        "reload failed in the output",
        lambda: "reload failed" in server.output(),
        SETTLE,
        interval=0.1,
        explain=server.output,
    )
    time.sleep(0.2)
    assert server.process is not None and server.process.poll() is None
    assert server.run("leaf", {"during": "broken"})["status"] == "success"
    assert server.run("added-later", {})["status"] == "success", "the last good code keeps serving"
    assert "SyntaxError" in server.output() or "invalid syntax" in server.output()
    assert "added-after-fix" not in manifest_names(server)

    jobs.write_text(good + ADDED_AFTER_FIX, encoding="utf-8")

    def recovered() -> httpx.Response | None:
        response = server.trigger_response({"task": "added-after-fix"})
        return response if response.status_code != 404 else None

    response = poll("the next reload to recover", recovered, SETTLE, interval=0.1, explain=server.output)
    assert response.status_code == 201
    tree = server.wait_finished(response.json()["executionId"])
    assert tree["status"] == "success" and tree["result"] == "recovered"
    poll(
        "the manifest rewritten on reload",
        lambda: "added-after-fix" in manifest_names(server),
        SETTLE,
        0.1,
        server.output,
    )

    code, _ = server.stop()
    assert code == 0
    assert worker_pids(server.project) == []


def test_sigint_stops_everything_and_keeps_what_waits(dev_factory: Callable[..., DevServer]) -> None:
    server = dev_factory()
    done = [server.run("leaf", {"n": n})["executionId"] for n in range(3)]
    fanned = server.run("fanout")
    sleepy = server.trigger("sleepy")
    delayed = server.trigger("leaf", {"never": True}, delay="1h")
    poll("sleepy to be running", lambda: server.execution(sleepy)["status"] == "running", RUN_TIMEOUT)
    poll("sleepy's first log line", lambda: "going to sleep" in server.output(), RUN_TIMEOUT)
    assert len(worker_pids(server.project)) == 1

    code, seconds = server.stop(signal.SIGINT)
    assert code == 0, server.output()
    assert seconds < STOP_TIMEOUT
    assert worker_pids(server.project) == []
    stdout = server.stdout_path.read_text(encoding="utf-8")
    assert "stopped, 1 unfinished marked interrupted, 1 queued execution kept for the next" in stdout
    assert "Traceback" not in server.output()

    runs = {r["executionId"]: r for r in history(server.project)}
    assert set(server.triggered) <= set(runs)
    assert all(runs[i]["status"] == "success" for i in done)
    assert runs[fanned["executionId"]]["descendants"] == 20
    # sleepy has no retries: its attempt failed with the stop, nothing is left to try.
    assert runs[sleepy]["status"] == "interrupted"
    assert runs[sleepy]["error"] == "pingback dev stopped during this attempt"
    assert runs[delayed]["status"] == "pending"  # kept in the durable queue for the next dev
    shown = run_in_process(server.project, "show", sleepy, "--json")
    tree = json.loads(shown.stdout)
    assert [a["status"] for a in tree["attempts"]] == ["failed"]
    assert [log["message"] for log in tree["attempts"][0]["logs"]] == ["going to sleep"]
    assert [log["message"] for log in tree["logs"]] == ["going to sleep"], "streamed logs are kept"
    assert tree["completedAt"] is not None and tree["durationMs"] is not None
