"""Misbehaving handlers, each through the installed command: ``pingback run NAME --json`` and a
trigger into one shared ``pingback dev``. Every case ends as a recorded execution with a clear
status and error; the emulator keeps serving; a trivial task succeeds afterwards.

The ``pingback run`` cases run a few at a time (in one project, which also exercises
concurrent runs sharing a history file); each test then checks its own result.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cli_support import SETTLE, Result, eventually, run_cli, run_in_process, walk, worker_pids

from pingback_cli.engine.slots import POOL_SIZE
from pingback_cli.executors.process import MAX_ABANDONED

from .helpers import (
    HAS_PROC,
    DevServer,
    assert_history_settled,
    assert_one_error_line,
    copy_misbehave,
    dev_server,
    history_rows,
    kill_workers,
)

pytestmark = pytest.mark.skipif(not HAS_PROC, reason="finds leftover worker processes through /proc")

# Two xdist groups, each run in order on one worker, side by side: the `pingback run` batch and
# the tests reading it, and the shared `pingback dev` (test_dev_after_every_case checks it after
# every case ran on it). The tests with a project of their own spread over the other workers.
ON_RUN_BATCH = pytest.mark.xdist_group("handlers-run")
ON_SHARED_DEV = pytest.mark.xdist_group("handlers-shared-dev")
BATCH_TIMEOUT = pytest.mark.timeout(600)
"""For the tests whose first builds a whole batch (ten thousand children, five megabytes, ...):
pytest-timeout counts a fixture's set-up in the test that needs it first, and the 120 s default
was overrun at load 23."""

BIG_CHARS = 5 * 1024 * 1024 // 2
"""A string of this many "é" is 5 MB of UTF-8."""
MARKUP_NAME = "[bold]ünïcode[/bold] :smile: [id]"
MARKUP_LOG = "[bold]not bold[/bold] [id] :smile: café ✓ 日本語 🎉"
MARKUP_PAYLOAD = {"title": "[red]x[/red] :smile: [id] ☃", "path": "app/[id].py"}


def big_text() -> str:
    return "é" * BIG_CHARS


@dataclass(frozen=True)
class Case:
    function: str
    status: str
    needles: tuple[str, ...] = ()
    """Each must be in the root's error."""
    payload: Any = None
    check: Callable[[dict[str, Any]], None] | None = None
    """More assertions on the root's ``--json`` tree."""
    args: tuple[str, ...] = field(default=())

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "success" and not self.function.startswith("runaway") else 1


def _traceback_shown(tree: dict[str, Any]) -> None:
    [attempt] = tree["attempts"]
    assert "ValueError: handler raised on purpose" in (attempt["traceback"] or ""), attempt
    assert "handlers.py" in attempt["traceback"], attempt


def _fails_fast(tree: dict[str, Any]) -> None:
    assert tree["durationMs"] < 8000, tree["durationMs"]
    assert [a["status"] for a in tree["attempts"]] == ["failed"]


def _log_streamed_before_death(tree: dict[str, Any]) -> None:
    assert [log["message"] for log in tree["logs"]] == ["about to call os._exit"], tree["logs"]


def _printed(tree: dict[str, Any]) -> None:
    assert tree["result"] == {"printed": 6 * 1024 * 1024}


def _hundred_thousand_logs(tree: dict[str, Any]) -> None:
    """An answer past 1 MiB: the platform reads only its start, so it keeps no log (dispatch.go:92)."""
    assert tree["logs"] == []
    assert "reads only the first 1 MiB" in tree["attempts"][0]["notices"][0]
    assert tree["result"] == {"logged": 100_000}


def _ten_thousand_children(tree: dict[str, Any]) -> None:
    children = tree["children"]
    assert len(children) == 10_000
    assert {child["status"] for child in children} == {"success"}
    assert sorted(child["result"]["n"] for child in children) == list(range(10_000))


def _stopped_by_max_depth(tree: dict[str, Any]) -> None:
    nodes = walk(tree)
    assert [node["status"] for node in nodes] == ["success"] * 6 + ["failed"]
    last = nodes[-1]
    assert "fan-out depth limit reached" in last["error"] and "max-depth = 5" in last["error"], last
    assert last["payload"] == {"level": 6}
    assert last["type"] == "task", last  # refused by depth, but its function exists


def _big_result(tree: dict[str, Any]) -> None:
    assert tree["result"]["size"] == BIG_CHARS
    assert tree["result"]["data"] == big_text()
    assert len(tree["payload"]["data"]) == BIG_CHARS


def _markup_verbatim(tree: dict[str, Any]) -> None:
    assert tree["function"] == MARKUP_NAME
    assert tree["payload"] == MARKUP_PAYLOAD
    assert tree["result"] == {"echo": MARKUP_PAYLOAD, "text": "[/] [bold] :smile: ☃"}
    [log] = tree["logs"]
    assert log["message"] == MARKUP_LOG and log["meta"] == {"meta": "[red]x[/red] [Errno 2]"}


def _thread_alive(tree: dict[str, Any]) -> None:
    assert tree["result"] == {"poller": True}


CASES = [
    Case("raises", "failed", ("handler raised on purpose",), check=_traceback_shown),
    Case("hangs", "failed", ("timed out after 1s", "timeout 1s"), check=_fails_fast),
    Case("ignores-signals", "failed", ("timed out after 1s",), check=_fails_fast),
    Case(
        "os-exit",
        "failed",
        ("worker process died", "exited with code 7"),
        check=_log_streamed_before_death,
    ),
    Case("segfault", "failed", ("worker process died", "killed by SIGSEGV")),
    Case("system-exit", "failed", ("SystemExit: 4",)),
    Case("keyboard-interrupt", "failed", ("KeyboardInterrupt",)),
    Case("returns-set", "failed", ("response is not JSON", "it returned a set")),
    Case("returns-object", "failed", ("response is not JSON", "Opaque is not JSON serializable")),
    Case("prints-megabytes", "success", check=_printed),
    Case("logs-100k", "success", check=_hundred_thousand_logs),
    Case("fan-out-10k", "success", check=_ten_thousand_children),
    Case("runaway", "success", check=_stopped_by_max_depth),
    Case("big-payload", "success", payload="big", check=_big_result),
    Case(MARKUP_NAME, "success", payload=MARKUP_PAYLOAD, check=_markup_verbatim),
    Case("thread-alive", "success", check=_thread_alive),
]
HEAVY = ("logs-100k", "fan-out-10k")
"""Started first, so the batch is not left waiting on them at the end."""


def case_id(case: Case) -> str:
    return "markup" if case.function == MARKUP_NAME else case.function


def check_tree(case: Case, tree: dict[str, Any]) -> None:
    assert tree["function"] == case.function
    assert tree["status"] == case.status, json.dumps(tree)[:2000]
    for needle in case.needles:
        assert needle in (tree["error"] or ""), tree["error"]
    if case.status == "success" and case.function != "runaway":
        assert tree["error"] is None
    if case.check is not None:
        case.check(tree)


# --- pingback run --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    project = copy_misbehave(tmp_path_factory.mktemp("handlers-run"))
    (project / "big.json").write_text(json.dumps({"data": big_text()}, ensure_ascii=False), encoding="utf-8")
    yield project
    kill_workers(project)


HUMAN = (MARKUP_NAME,)
"""Run without ``--json``: what the run printed is checked as a person reads it
(``test_run_markup_in_names_logs_and_payloads_prints_verbatim``), and its tree is read back
from history with ``show --json`` (``recorded_tree``)."""


def _run_args(case: Case) -> tuple[str, ...]:
    args: tuple[str, ...] = (
        ("run", case.function) if case.function in HUMAN else ("run", case.function, "--json")
    )
    if case.payload == "big":
        args += ("--payload", "@big.json")
    elif case.payload is not None:
        args += ("--payload", json.dumps(case.payload, ensure_ascii=False))
    return args


@pytest.fixture(scope="module")
def run_results(run_project: Path) -> dict[str, Result]:
    """Every case through ``pingback run NAME --json``, three processes at a time."""
    ordered = sorted(CASES, key=lambda case: case.function not in HEAVY)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {case.function: pool.submit(run_cli, run_project, *_run_args(case)) for case in ordered}
    return {name: future.result() for name, future in futures.items()}


@ON_RUN_BATCH
@BATCH_TIMEOUT
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_run(case: Case, run_project: Path, run_results: dict[str, Result]) -> None:
    result = run_results[case.function]
    assert result.returncode == case.exit_code, result.brief()
    assert "Traceback (most recent call last)" not in result.stderr, result.brief()
    check_tree(case, recorded_tree(run_project, case.function) if case.function in HUMAN else result.json())


def recorded_tree(project: Path, function: str) -> dict[str, Any]:
    """The ``--json`` tree of the one root of ``function`` in history (``show`` reads history
    only: the Click command in this process)."""
    [root] = [row["id"] for row in history_rows(project) if row["function"] == function]
    shown = run_in_process(project, "show", root, "--json")
    assert shown.returncode == 0, shown.brief()
    return dict(shown.json())


@ON_RUN_BATCH
@BATCH_TIMEOUT
def test_a_one_shot_run_starts_no_worker_after_a_handler_killed_its_own(
    run_results: dict[str, Result],
) -> None:
    for name in ("os-exit", "segfault"):  # nothing else will run: no replacement, no notice of one
        assert "took over" not in run_results[name].stderr, run_results[name].brief()


@ON_RUN_BATCH
@BATCH_TIMEOUT
def test_run_prints_of_a_handler_never_reach_json_stdout(run_results: dict[str, Result]) -> None:
    result = run_results["prints-megabytes"]
    root = result.json()
    assert root["status"] == "success"  # stdout is exactly the JSON
    [attempt] = root["attempts"]
    kept = [line for line in attempt["output"] if line["stream"] in ("stdout", "stderr")]
    assert kept and all(line["text"] == "x" * 1023 for line in kept)
    assert sum(len(line["text"]) + 1 for line in kept) <= 64 * 1024  # attributed up to 64 KiB
    # Nothing is lost: what is not kept on the attempt goes to stderr, whole.
    assert result.stderr.count("x" * 1023) + len(kept) == 3 * 1024 * 2
    assert "more characters of output went to the terminal unattributed" in attempt["output"][-1]["text"]


@ON_RUN_BATCH
@BATCH_TIMEOUT
def test_run_after_every_case_history_is_settled_and_ok_still_succeeds(
    run_project: Path, run_results: dict[str, Result]
) -> None:
    assert eventually(lambda: not worker_pids(run_project), SETTLE), worker_pids(run_project)
    rows = assert_history_settled(run_project)
    roots = {row["function"] for row in rows if row["parent_id"] is None}
    assert {case.function for case in CASES} <= roots
    after = run_cli(run_project, "run", "ok", "--json")
    assert after.returncode == 0, after.brief()
    assert after.json()["status"] == "success"


@ON_RUN_BATCH
@BATCH_TIMEOUT
def test_a_tree_shows_fifty_logs_per_node_and_says_where_the_rest_are(
    run_project: Path, run_results: dict[str, Result]
) -> None:
    """100,000 logs make an answer past 1 MiB, of which the platform reads only the start, so it
    keeps none of them (dispatch.go:92): the tree says so instead of listing them."""
    execution_id = run_results["logs-100k"].json()["executionId"]
    shown = run_in_process(run_project, "show", execution_id)  # reads history only
    assert shown.returncode == 0, shown.brief()
    assert sum(1 for line in shown.stdout.splitlines() if "info  entry  n=" in line) == 0
    assert "reads only the first 1 MiB" in " ".join(shown.stdout.split())


@ON_RUN_BATCH
@BATCH_TIMEOUT
def test_run_markup_in_names_logs_and_payloads_prints_verbatim(run_results: dict[str, Result]) -> None:
    result = run_results[MARKUP_NAME]
    assert result.returncode == 0, result.brief()
    assert f"✓ {MARKUP_NAME} task" in result.stdout
    assert MARKUP_LOG in result.stdout and "[red]x[/red] [Errno 2]" in result.stdout
    assert '"title":"[red]x[/red] :smile: [id] ☃"' in result.stdout
    assert "\x1b[" not in result.stdout, "no styling leaked into piped output"


@ON_RUN_BATCH
@BATCH_TIMEOUT
def test_a_thread_started_at_import_does_not_keep_commands_alive(run_project: Path) -> None:
    """``ls``, ``register --dry-run`` and ``check`` import the project in their own process;
    a non-daemon thread it starts must not keep them from exiting."""
    listed = run_cli(run_project, "ls", "--json", timeout=30)
    assert listed.returncode == 0, listed.brief()
    assert "thread-alive" in {entry["name"] for entry in listed.json()}
    dry = run_cli(run_project, "register", "--dry-run", timeout=30)
    assert dry.returncode == 0, dry.brief()
    assert "thread-alive" in {entry["name"] for entry in dry.json()["functions"]}
    checked = run_cli(run_project, "check", "--json", timeout=30)
    assert checked.returncode in (0, 1), checked.brief()


# --- fan-out limits ------------------------------------------------------------------------


def test_max_executions_per_root_stops_a_wide_runaway(tmp_path: Path) -> None:
    project = copy_misbehave(tmp_path, settings={"max-executions-per-root": 50})
    result = run_cli(project, "run", "runaway-wide", "--json")
    assert result.returncode == 1, result.brief()
    nodes = walk(result.json())
    ran = [node for node in nodes if node["attempts"]]
    assert len(ran) == 50 and all(node["status"] == "success" for node in ran)
    refused = [node for node in nodes if not node["attempts"]]
    assert refused and all(node["status"] == "failed" for node in refused)
    assert all(
        "fan-out limit reached" in node["error"]
        and "has used all 50 executions that max-executions-per-root allows" in node["error"]
        for node in refused
    ), refused[0]
    assert_history_settled(project)


def test_a_run_past_max_executions_per_root_stays_near_the_limit(tmp_path: Path) -> None:
    project = copy_misbehave(tmp_path, settings={"max-executions-per-root": 100})
    result = run_cli(project, "run", "fan-out-10k", "--payload", '{"count": 2000}', "--json")
    assert result.returncode == 1, result.brief()
    nodes = walk(result.json())
    assert len(nodes) <= 2 * 100, f"{len(nodes)} executions recorded with max-executions-per-root = 100"


@pytest.mark.parametrize(
    ("setting", "value", "needle"),
    [
        ("max-depth", "0", "[tool.pingback] max-depth must be a whole number of at least 1, got 0"),
        (
            "max-executions-per-root",
            '"many"',
            "[tool.pingback] max-executions-per-root must be a whole number of at least 1, got 'many'",
        ),
    ],
)
def test_an_invalid_limit_is_a_project_error(tmp_path: Path, setting: str, value: str, needle: str) -> None:
    """max-depth through the installed command; the other, refused as early (the settings are
    read before anything starts), through the same Click command in this process."""
    project = copy_misbehave(tmp_path, settings={setting: value})
    result = (run_cli if setting == "max-depth" else run_in_process)(project, "run", "ok")
    assert_one_error_line(result, 3, needle)
    assert eventually(lambda: not worker_pids(project), SETTLE)


# --- one shared pingback dev ---------------------------------------------------------------


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    project = copy_misbehave(tmp_path_factory.mktemp("handlers-dev"))
    with dev_server(project) as server:
        yield server
        assert server.stop() == 0, server.output()
        assert eventually(lambda: not worker_pids(project), SETTLE), worker_pids(project)


def _dev_payload(case: Case) -> Any:
    return {"data": big_text()} if case.payload == "big" else case.payload


@ON_SHARED_DEV
@BATCH_TIMEOUT
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_dev(case: Case, dev: DevServer) -> None:
    if case.payload == "big":  # 5 MB: past the platform's 100 kB JSON body limit, as in production
        response = dev.http.post(
            "/api/v1/trigger", json={"task": case.function, "payload": _dev_payload(case)}
        )
        assert response.status_code == 413 and response.json()["message"] == "request entity too large"
        assert dev.run("ok")["status"] == "success"
        return
    execution_id = dev.trigger(case.function, _dev_payload(case))
    dev.wait_root(execution_id, case.function, timeout=90)
    check_tree(case, dev.tree(execution_id))
    after = dev.run("ok")
    assert after["status"] == "success", after


@ON_SHARED_DEV
@BATCH_TIMEOUT
def test_dev_keeps_serving_after_many_handlers_overran_their_timeout(dev: DevServer) -> None:
    """Two rounds of the platform's pool of 20 hang past their timeouts, then one more starts:
    by then at least 20 handlers (> MAX_ABANDONED) hang in the worker, so it is replaced while
    work still comes (was 70 hangs, from when 64 hung threads ran the worker's pool dry). On the
    shared dev, after every case ran on it (test_dev_after_every_case then checks it too)."""
    hangs = 2 * POOL_SIZE + 1
    assert hangs - POOL_SIZE > MAX_ABANDONED
    said_before = dev.stderr_path.stat().st_size  # the cases before printed megabytes there

    def said_since() -> str:
        with dev.stderr_path.open("rb") as stderr:
            stderr.seek(said_before)
            return stderr.read().decode("utf-8", "replace")

    ids = [dev.trigger("hangs-in-parallel") for _ in range(hangs)]
    for execution_id in ids:
        dev.wait_root(execution_id, "hangs-in-parallel", timeout=60)
    after = dev.run("ok-quick", timeout=30)
    assert after["status"] == "success", after["error"]
    replaced = "handlers are still running past their timeouts; a fresh worker"
    assert eventually(lambda: replaced in said_since(), SETTLE), dev.output()
    # The old worker, and the hung threads in it, are gone once it is retired.
    assert eventually(lambda: len(worker_pids(dev.project)) == 1, SETTLE), worker_pids(dev.project)


@ON_SHARED_DEV
@BATCH_TIMEOUT
def test_dev_after_every_case(dev: DevServer) -> None:
    """Still one worker, history settled, live logs capped, no error of ours in the output."""
    assert len(worker_pids(dev.project)) == 1
    assert_history_settled(dev.project)
    stdout = dev.stdout_path.read_text(encoding="utf-8", errors="replace")
    shown = sum(1 for line in stdout.splitlines() if line.startswith("  logs-100k ") and " entry " in line)
    assert 0 < shown <= 200, f"{shown} live log lines of logs-100k"
    assert "more logs are recorded but not shown live" in stdout
    stderr = dev.stderr_path.read_text(encoding="utf-8", errors="replace")
    for sign in ("Exception in callback", "ERROR:", "internal error in pingback"):
        assert sign not in stdout + stderr, dev.output()
    assert "a new worker" in stderr, "os._exit and the segfault each restarted the worker"


@ON_SHARED_DEV
@BATCH_TIMEOUT
def test_history_rows_of_dev_carry_its_owner(dev: DevServer) -> None:
    """Each row names the dev process (pid:start-time), which is what kill -9 recovery reads."""
    assert dev.process is not None
    owners = {row["owner"] for row in history_rows(dev.project)}
    assert owners and all(owner.startswith(f"{dev.process.pid}:") for owner in owners), owners
