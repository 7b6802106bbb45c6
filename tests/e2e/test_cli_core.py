"""End-to-end tests of the installed ``pingback`` command: ls, run, runs, show, errors, Ctrl-C.

Every test runs the real command in a subprocess against a copy of a fixture project
under ``tests/fixtures/``, and checks exit codes, exact output and ``--json`` structure.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import pytest
from cli_support import (
    SETTLE,
    Result,
    eventually,
    poll,
    run_cli,
    run_in_process,
    source_of,
    started_cli,
    walk,
    worker_pids,
)
from reliability.helpers import history_rows

from .conftest import assert_clean_exit, copy_project, recorded_tree

LAB_FUNCTIONS = {
    "ok",
    "flaky",
    "always-fails",
    "slow",
    "slow-ish",
    "exit",
    "segfault",
    "echo",
    "markup",
    "chain-a",
    "chain-b",
    "chain-c",
    "fan-unknown",
    "nightly-report",
    "render-report",
    "cleanup",
}
WORKFLOW_FUNCTIONS = {"chain-a", "chain-b", "chain-c", "fan-unknown"}
REPORTS_INSTANCE = {"nightly-report", "render-report"}
FUNCTION_KEYS = {
    "name",
    "type",
    "schedule",
    "retries",
    "timeout",
    "concurrency",
    "nextRunAt",
    "source",
}
SUMMARY_COUNTERS = {"descendants", "failedDescendants", "unfinishedDescendants"}
WORKER_DIED = "the worker process died while this attempt was running"
MARKUP_LOG = "[bold]x[/bold] café ✓ 日本語"
SLOW_ISH_SECONDS = 50
"""How long the lab's slow-ish handler sleeps: a stop that waited for it would take this long."""
MARKUP_META = "[Errno 2] No such file: '[red]a[/red]'"
MARKUP_RESULT = "[bold]x[/bold] [Errno 2] naïve ☃"


def names(listing: list[dict[str, Any]]) -> set[str]:
    return {function["name"] for function in listing}


def only(tree: dict[str, Any], function: str) -> dict[str, Any]:
    [found] = [node for node in walk(tree) if node["function"] == function]
    return found


# --- ls -------------------------------------------------------------------------------


def test_ls_table_lists_every_function_with_source_and_schedule(lab: Path) -> None:
    result = run_cli(lab, "ls")

    assert_clean_exit(result, 0)
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "Name",
        "Type",
        "Schedule",
        "Next",
        "run",
        "Retries",
        "Timeout",
        "Concurrency*",
        "Source",
    ]
    assert lines[-2].startswith("* concurrency is not enforced by the platform")  # docs/parity.md
    assert "not enforced" not in "\n".join(lines[:-2])  # said once, under the table
    assert all(line == line.rstrip() for line in lines)  # no trailing spaces
    first_words = {line.split()[0] for line in lines[1:-2] if line and not line[0].isspace()}
    assert first_words == LAB_FUNCTIONS
    assert source_of(lab, "lab_app/basic.py", '@pb.task("ok")') in result.stdout
    assert source_of(lab, "lab_app/workflows.py", '@pb.cron("chain-a"') in result.stdout
    assert source_of(lab, "lab_app/reports.py", '@reports.cron("nightly-report"') in result.stdout
    assert "*/5 * * * *" in result.stdout
    assert "Every 5 minutes" in result.stdout
    assert "At 03:00" in result.stdout
    [slow] = [line for line in lines if line.startswith("slow ")]
    assert slow.split()[:3] == ["slow", "task", "—"]
    assert " 1s " in slow


def test_ls_json_describes_both_instances(lab: Path) -> None:
    result = run_in_process(lab, "ls", "--json")  # installed ls: the table above, and PINGBACK_APP's

    assert_clean_exit(result, 0)
    listing = result.json()
    assert isinstance(listing, list)
    assert names(listing) == LAB_FUNCTIONS
    assert len(listing) == len(LAB_FUNCTIONS)
    order = [(f["type"] != "cron", f["name"]) for f in listing]
    assert order == sorted(order)  # the text table's order: crons first, then tasks, by name
    for function in listing:
        assert function.keys() >= FUNCTION_KEYS, function
    by_name = {function["name"]: function for function in listing}

    chain = by_name["chain-a"]
    assert chain["type"] == "cron"
    assert chain["schedule"] == "*/5 * * * *"
    assert chain["retries"] == 1
    assert chain["source"] == source_of(lab, "lab_app/workflows.py", '@pb.cron("chain-a"')
    assert isinstance(chain["nextRunAt"], str)
    assert chain["nextRunAt"].endswith("Z")

    report = by_name["nightly-report"]
    assert (report["type"], report["schedule"], report["timeout"], report["concurrency"]) == (
        "cron",
        "0 3 * * *",
        "5m",
        2,
    )
    assert report["source"] == source_of(lab, "lab_app/reports.py", '"nightly-report"')

    render = by_name["render-report"]
    assert (render["type"], render["retries"], render["timeout"]) == ("task", 3, "2m")

    ok = by_name["ok"]
    assert ok["type"] == "task"
    assert ok["schedule"] is None
    assert ok["nextRunAt"] is None
    assert (ok["retries"], ok["concurrency"]) == (0, 1)
    assert ok["source"] == source_of(lab, "lab_app/basic.py", '@pb.task("ok")')

    assert by_name["flaky"]["retries"] == 2
    assert by_name["slow"]["timeout"] == "1s"


def test_ls_app_module_imports_only_that_module(lab: Path) -> None:
    result = run_in_process(lab, "ls", "--json", "--app", "lab_app.workflows")

    assert_clean_exit(result, 0)
    assert names(result.json()) == WORKFLOW_FUNCTIONS


def test_ls_app_module_without_attribute_lists_every_instance_it_touches(lab: Path) -> None:
    result = run_in_process(lab, "ls", "--json", "--app", "lab_app.reports")

    assert_clean_exit(result, 0)
    assert names(result.json()) == {*REPORTS_INSTANCE, "cleanup"}


def test_ls_app_module_attribute_selects_one_instance(lab: Path) -> None:
    result = run_in_process(lab, "ls", "--json", "--app", "lab_app.reports:reports")

    assert_clean_exit(result, 0)
    assert names(result.json()) == REPORTS_INSTANCE


def test_ls_app_file(lab: Path) -> None:
    result = run_in_process(lab, "ls", "--json", "--app", "lab_app/workflows.py")

    assert_clean_exit(result, 0)
    assert names(result.json()) == WORKFLOW_FUNCTIONS


def test_ls_pingback_app_environment_variable(lab: Path) -> None:
    result = run_cli(lab, "ls", "--json", env={"PINGBACK_APP": "lab_app.reports:reports"})

    assert_clean_exit(result, 0)
    assert names(result.json()) == REPORTS_INSTANCE


def test_ls_app_option_wins_over_environment(lab: Path) -> None:
    result = run_in_process(
        lab,
        "ls",
        "--json",
        "--app",
        "lab_app.workflows",
        env={"PINGBACK_APP": "lab_app.reports:reports"},
    )

    assert_clean_exit(result, 0)
    assert names(result.json()) == WORKFLOW_FUNCTIONS


def test_ls_app_missing_module(lab: Path) -> None:
    result = run_in_process(lab, "ls", "--app", "lab_app.nowhere")

    assert_clean_exit(result, 3)
    assert "error: cannot find module lab_app.nowhere" in result.stderr
    assert result.stdout == ""


# --- run ------------------------------------------------------------------------------


def test_run_success_prints_tree_and_logs_and_records_them(lab: Path) -> None:
    assert not (lab / ".pingback").exists()

    result = run_cli(lab, "run", "ok")

    assert_clean_exit(result, 0)
    assert "✓ ok task" in result.stdout
    assert '→ {"ok":true,"answer":42}' in result.stdout
    assert "info  all good  answer=42 who=lab" in result.stdout
    assert "1 execution · 1 success" in result.stdout
    # the state folder it created is git-ignored
    ignore = lab / ".pingback" / ".gitignore"
    assert ignore.is_file()
    assert ignore.read_text(encoding="utf-8").split() == ["*"]
    assert (lab / ".pingback" / "history.sqlite3").is_file()

    root = recorded_tree(lab, "ok")
    assert root["function"] == "ok"
    assert root["type"] == "task"
    assert root["status"] == "success"
    assert root["result"] == {"ok": True, "answer": 42}
    assert root["error"] is None
    assert root["parentId"] is None
    assert root["rootId"] == root["executionId"]
    assert root["children"] == []
    [attempt] = root["attempts"]
    assert (attempt["attempt"], attempt["status"], attempt["httpStatus"]) == (1, "success", 200)
    [log] = root["logs"]
    assert (log["level"], log["message"], log["meta"]) == (
        "info",
        "all good",
        {"answer": 42, "who": "lab"},
    )


def test_run_retried_success(shared_lab: Path) -> None:
    result = run_cli(shared_lab, "run", "flaky", "--no-backoff")

    assert_clean_exit(result, 0)
    assert "retrying    flaky" in result.stdout
    assert "retry due now: HTTP 500: first attempt always fails" in result.stdout
    assert "✓ flaky task  attempts: 2" in result.stdout
    assert "attempt 1 failed: HTTP 500: first attempt always fails" in result.stdout

    root = recorded_tree(shared_lab, "flaky")
    assert root["status"] == "success"
    assert root["attempt"] == 2
    assert [a["status"] for a in root["attempts"]] == ["failed", "success"]
    assert root["attempts"][0]["error"] == "HTTP 500: first attempt always fails"
    assert root["attempts"][0]["httpStatus"] == 500
    assert root["result"] == {"attempt": 2}


def test_run_exhausted_retries(recorded_runs: dict[str, Result]) -> None:
    result = recorded_runs["always-fails"]  # run always-fails --no-backoff --json

    assert_clean_exit(result, 1)
    root = result.json()
    assert root["status"] == "failed"
    assert [a["status"] for a in root["attempts"]] == ["failed"] * 3
    assert [a["error"] for a in root["attempts"]] == [f"HTTP 500: broken on attempt {n}" for n in (1, 2, 3)]
    assert root["error"] == "HTTP 500: broken on attempt 3"
    traceback = root["attempts"][-1]["traceback"]
    assert "ValueError: broken on attempt 3" in traceback
    assert "lab_app/basic.py" in traceback


def test_run_exhausted_retries_human(shared_lab: Path) -> None:
    result = run_cli(shared_lab, "run", "always-fails", "--no-backoff")

    assert_clean_exit(result, 1)
    assert "✗ always-fails task  attempts: 3" in result.stdout
    assert "attempt 2 failed: HTTP 500: broken on attempt 2" in result.stdout
    assert "ValueError: broken on attempt 3" in result.stdout
    assert "1 execution · 1 failed" in result.stdout


def test_run_timeout_fails_fast(shared_lab: Path) -> None:
    result = run_cli(shared_lab, "run", "slow", "--json")

    assert_clean_exit(result, 1)
    assert result.seconds < 150, f"the 300 s handler held the command: {result.seconds:.1f}s"
    root = result.json()
    assert root["status"] == "failed"
    assert "timed out after 1s" in root["error"]
    [attempt] = root["attempts"]
    assert attempt["status"] == "failed"
    assert 900 <= attempt["durationMs"] < 10_000


@pytest.mark.parametrize(
    ("function", "how"),
    [("exit", "exited with code 3"), ("segfault", "killed by SIGSEGV")],
)
def test_run_worker_death(shared_lab: Path, function: str, how: str) -> None:
    result = run_cli(shared_lab, "run", function)

    assert_clean_exit(result, 1)
    assert f"✗ {function} task" in result.stdout
    assert WORKER_DIED in result.stdout
    assert f"({how})" in result.stdout
    assert "1 execution · 1 failed" in result.stdout

    history = run_in_process(shared_lab, "runs", "--json", "--function", function, "--limit", "1")
    assert_clean_exit(history, 0)
    [root] = history.json()
    assert root["status"] == "failed"
    assert WORKER_DIED in root["error"]
    assert how in root["error"]


def test_run_three_level_chain_json(recorded_runs: dict[str, Result]) -> None:
    result = recorded_runs["chain-a"]  # run chain-a --json

    assert_clean_exit(result, 0)
    a = result.json()
    assert (a["function"], a["type"], a["status"], a["result"]) == ("chain-a", "cron", "success", "a")
    [b] = a["children"]
    [c] = b["children"]
    assert c["children"] == []
    assert (b["function"], b["type"], b["payload"], b["result"]) == (
        "chain-b",
        "task",
        {"level": 2},
        "b",
    )
    assert (c["function"], c["payload"], c["result"]) == ("chain-c", {"level": 3}, {"level": 3})
    assert a["parentId"] is None
    assert b["parentId"] == a["executionId"]
    assert c["parentId"] == b["executionId"]
    assert {node["rootId"] for node in walk(a)} == {a["executionId"]}
    assert [node["trigger"] for node in walk(a)] == ["run", "fanout", "fanout"]
    assert all(node["status"] == "success" for node in walk(a))
    assert c["logs"][0]["meta"] == {"depth": 3}


def test_run_three_level_chain_human(shared_lab: Path) -> None:
    result = run_cli(shared_lab, "run", "chain-a")

    assert_clean_exit(result, 0)
    assert "✓ chain-a cron" in result.stdout
    assert "└── ✓ chain-b task" in result.stdout
    assert "    └── ✓ chain-c task" in result.stdout
    assert "3 executions · 3 success" in result.stdout


def test_run_unregistered_child_fails_loudly(shared_lab: Path) -> None:
    result = run_cli(shared_lab, "run", "fan-unknown")

    assert_clean_exit(result, 1)
    assert "✗ no-such-task" in result.stdout
    assert 'task "no-such-task" is not registered' in result.stdout
    assert "3 executions · 2 success · 1 failed" in result.stdout

    root = recorded_tree(shared_lab, "fan-unknown")
    assert root["status"] == "success"
    assert root["result"] == "dispatched"
    missing, real = root["children"]
    assert missing["function"] == "no-such-task"
    assert missing["status"] == "failed"
    assert missing["payload"] == {"x": 1}
    assert missing["parentId"] == root["executionId"]
    assert 'task "no-such-task" is not registered' in missing["error"]
    assert (real["function"], real["status"]) == ("ok", "success")


def test_run_payload_inline(shared_lab: Path) -> None:
    result = run_cli(shared_lab, "run", "echo", "--payload", '{"id": "e1"}')

    assert_clean_exit(result, 0)
    assert "✓ echo task" in result.stdout
    assert 'payload {"id":"e1"}  → {"got":{"id":"e1"}}' in result.stdout


def test_run_payload_from_file(shared_lab: Path) -> None:
    payload = '{"items": [1, 2.5, "é"], "nested": {"ok": true, "none": null}}'
    (shared_lab / "payload.json").write_text(payload, encoding="utf-8")

    result = run_cli(shared_lab, "run", "echo", "--payload", "@payload.json", "--json")

    assert_clean_exit(result, 0)
    root = result.json()
    expected = {"items": [1, 2.5, "é"], "nested": {"ok": True, "none": None}}
    assert root["payload"] == expected
    assert root["result"] == {"got": expected}


def test_run_payload_from_stdin(shared_lab: Path) -> None:
    result = run_cli(shared_lab, "run", "echo", "--payload", "-", "--json", input='["a", 1]\n')

    assert_clean_exit(result, 0)
    root = result.json()
    assert root["payload"] == ["a", 1]
    assert root["result"] == {"got": ["a", 1]}


def test_markup_like_text_comes_out_verbatim(shared_lab: Path) -> None:
    human = run_cli(shared_lab, "run", "markup")

    assert_clean_exit(human, 0)
    assert f"info  {MARKUP_LOG}" in human.stdout
    assert f'detail="{MARKUP_META}"' in human.stdout
    assert '→ {"text":"' + MARKUP_RESULT + '"}' in human.stdout

    root = recorded_tree(shared_lab, "markup")
    assert root["result"] == {"text": MARKUP_RESULT}
    [log] = root["logs"]
    assert log["message"] == MARKUP_LOG
    assert log["meta"] == {"detail": MARKUP_META}

    shown = run_in_process(shared_lab, "show", root["executionId"])
    assert_clean_exit(shown, 0)
    assert MARKUP_LOG in shown.stdout
    assert MARKUP_META in shown.stdout
    assert MARKUP_RESULT in shown.stdout


# --- history --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded_runs(shared_lab: Path) -> dict[str, Result]:
    """Run a few functions once with ``--json`` and keep each run's result, by function."""
    results: dict[str, Result] = {}
    for name, extra in (
        ("chain-a", ()),
        ("always-fails", ("--no-backoff",)),
        ("echo", ("--payload", '{"id": "h1"}')),
    ):
        results[name] = run_cli(shared_lab, "run", name, "--json", *extra)
        assert results[name].returncode in (0, 1), str(results[name])
    return results


@pytest.fixture(scope="module")
def recorded(recorded_runs: dict[str, Result]) -> dict[str, dict[str, Any]]:
    """What each of ``recorded_runs`` printed: its tree, by function."""
    return {name: result.json() for name, result in recorded_runs.items()}


def test_runs_json_lists_roots_with_run_keys(shared_lab: Path, recorded: dict[str, dict[str, Any]]) -> None:
    result = run_cli(shared_lab, "runs", "--json", "--limit", "1000")

    assert_clean_exit(result, 0)
    listing = result.json()
    by_id = {item["executionId"]: item for item in listing}
    child_ids = {node["executionId"] for node in walk(recorded["chain-a"])[1:]}
    assert not child_ids & by_id.keys(), "children must not be listed as roots"
    assert all(item["parentId"] is None for item in listing)
    for tree in recorded.values():
        item = by_id[tree["executionId"]]
        assert set(item) - SUMMARY_COUNTERS == set(tree) - {"children"}
        assert "children" not in item
        for key in ("function", "status", "attempt", "payload", "result", "error", "trigger"):
            assert item[key] == tree[key], key
    chain = by_id[recorded["chain-a"]["executionId"]]
    assert (chain["descendants"], chain["failedDescendants"], chain["unfinishedDescendants"]) == (
        2,
        0,
        0,
    )


def test_runs_newest_first_and_filters(shared_lab: Path, recorded: dict[str, dict[str, Any]]) -> None:
    result = run_in_process(shared_lab, "runs", "--json", "--limit", "1000")
    assert_clean_exit(result, 0)
    order = [item["executionId"] for item in result.json()]
    positions = [order.index(recorded[name]["executionId"]) for name in ("echo", "always-fails")]
    assert positions == sorted(positions)

    failed = run_in_process(shared_lab, "runs", "--json", "--status", "failed", "--limit", "1000")
    assert_clean_exit(failed, 0)
    assert all(item["status"] == "failed" or item["failedDescendants"] > 0 for item in failed.json()), (
        "a failed run, or one whose children failed"
    )
    assert recorded["always-fails"]["executionId"] in {i["executionId"] for i in failed.json()}

    echo = run_in_process(shared_lab, "runs", "--json", "--function", "echo", "--limit", "1")
    assert_clean_exit(echo, 0)
    [item] = echo.json()
    assert item["function"] == "echo"


def test_runs_table(shared_lab: Path, recorded: dict[str, dict[str, Any]]) -> None:
    result = run_in_process(shared_lab, "runs", "--limit", "1000")

    assert_clean_exit(result, 0)
    assert result.stdout.splitlines()[0].split() == [
        "ID",
        "Function",
        "Status",
        "Started",
        "Duration",
        "Children",
        "Trigger",
    ]
    [chain] = [
        line for line in result.stdout.splitlines() if line.startswith(recorded["chain-a"]["executionId"][:8])
    ]
    assert chain.split()[1:3] == ["chain-a", "✓"]
    assert " 2 " in chain


def test_show_prefix_returns_the_tree(shared_lab: Path, recorded: dict[str, dict[str, Any]]) -> None:
    tree = recorded["chain-a"]

    result = run_cli(shared_lab, "show", tree["executionId"][:8], "--json")

    assert_clean_exit(result, 0)
    assert result.json() == tree


def test_show_child_id_returns_its_subtree(shared_lab: Path, recorded: dict[str, dict[str, Any]]) -> None:
    child = recorded["chain-a"]["children"][0]

    result = run_in_process(shared_lab, "show", child["executionId"], "--json")

    assert_clean_exit(result, 0)
    assert result.json() == child


def test_show_human(shared_lab: Path, recorded: dict[str, dict[str, Any]]) -> None:
    tree = recorded["always-fails"]

    result = run_in_process(shared_lab, "show", tree["executionId"][:10])

    assert_clean_exit(result, 0)
    assert "✗ always-fails task  attempts: 3" in result.stdout
    assert tree["executionId"][:8] in result.stdout
    assert "ValueError: broken on attempt 3" in result.stdout


def test_show_ambiguous_prefix(shared_lab: Path, recorded: dict[str, dict[str, Any]]) -> None:
    ids = [row["id"] for row in history_rows(shared_lab)]  # every run of the module so far
    for _ in range(20):
        firsts = [execution_id[0] for execution_id in ids]
        shared = [first for first in set(firsts) if firsts.count(first) > 1]
        if shared:
            break
        more = run_cli(shared_lab, "run", "chain-a", "--json")
        ids += [node["executionId"] for node in walk(more.json())]
    prefix = sorted(shared)[0]

    result = run_in_process(shared_lab, "show", prefix)

    assert_clean_exit(result, 2)
    assert f'error: "{prefix}" matches ' in result.stderr
    assert "type more characters" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("0123456789abcdef", 'error: no execution matches "0123456789abcdef"'),
        ("xyz", 'error: "xyz" is not an execution id'),
    ],
)
def test_show_unknown_id(
    shared_lab: Path, recorded: dict[str, dict[str, Any]], given: str, message: str
) -> None:
    result = run_in_process(shared_lab, "show", given, "--json")

    assert_clean_exit(result, 2)
    assert message in result.stderr
    assert "pingback runs" in result.stderr
    assert result.stdout == ""


def test_runs_without_history_is_empty(lab: Path) -> None:
    table = run_in_process(lab, "runs")
    listing = run_in_process(lab, "runs", "--json")

    assert_clean_exit(table, 0)
    assert "No executions yet" in table.stdout
    assert_clean_exit(listing, 0)
    assert listing.json() == []
    assert not (lab / ".pingback" / "history.sqlite3").exists()


def test_show_without_history(lab: Path) -> None:
    result = run_in_process(lab, "show", "abc")

    assert_clean_exit(result, 2)
    assert 'error: no execution matches "abc": there is no history yet' in result.stderr
    assert "hint: run `pingback run NAME`" in result.stderr
    assert result.stdout == ""
    assert not (lab / ".pingback" / "history.sqlite3").exists()


# --- errors ---------------------------------------------------------------------------


def test_unknown_function_suggests_a_name(lab: Path) -> None:
    result = run_cli(lab, "run", "ech", "--json")

    assert_clean_exit(result, 2)
    assert 'error: no cron or task named "ech"' in result.stderr
    assert "hint: did you mean 'echo'?" in result.stderr
    assert result.stdout == ""


def test_invalid_json_payload(lab: Path) -> None:
    result = run_in_process(lab, "run", "echo", "--payload", "{bad")

    assert_clean_exit(result, 2)
    assert "error: payload from --payload is not valid JSON" in result.stderr
    assert "(line 1, column 2)" in result.stderr
    assert not (lab / ".pingback").exists(), "nothing should run with a bad payload"


def test_invalid_json_payload_from_stdin(lab: Path) -> None:
    result = run_in_process(lab, "run", "echo", "--payload", "-", input="not json")

    assert_clean_exit(result, 2)
    assert "error: payload from stdin is not valid JSON" in result.stderr


def test_missing_payload_file(lab: Path) -> None:
    result = run_in_process(lab, "run", "echo", "--payload", "@missing.json")

    assert_clean_exit(result, 2)
    assert "error: cannot read payload file missing.json: No such file or directory" in (result.stderr)


BROKEN_PROJECTS = {
    "broken_import": (
        "jobs.py",
        "connection = connect_to_database()",
        [
            "error: importing jobs.py failed: ConnectionRefusedError: "
            "database at db.internal:5432 refused the connection",
            "in connect_to_database",
        ],
    ),
    "broken_syntax": (
        "jobs.py",
        "def broken(ctx)",
        ["error: importing jobs.py failed: SyntaxError", "SyntaxError: expected ':'"],
    ),
    "broken_duplicate": (
        "crm.py",
        '@pb.task("sync-invoices")',
        [
            'error: function "sync-invoices" is defined by two Pingback instances: at '
            "billing.py:11 and at crm.py:11"
        ],
    ),
    "broken_cron": (
        "jobs.py",
        '@pb.cron("bad-schedule"',
        ['error: function "bad-schedule" (jobs.py:11): invalid cron expression "61 * * * *"'],
    ),
    "broken_timeout": (
        "jobs.py",
        '@pb.task("bad-timeout"',
        ['error: function "bad-timeout" (jobs.py:11): timeout "five minutes" has no number'],
    ),
    "broken_retries": (
        "jobs.py",
        '@pb.task("too-many-retries"',
        [
            'error: function "too-many-retries" (jobs.py:11): '
            "retries is 11; the platform accepts a whole number from 0 to 10"
        ],
    ),
    "broken_concurrency": (
        "jobs.py",
        '@pb.task("no-concurrency"',
        [
            'error: function "no-concurrency" (jobs.py:11): '
            "concurrency is 0; the platform accepts a whole number from 1 to 10"
        ],
    ),
}


LS = ("ls", "--json")
RUN = ("run", "anything", "--json")
"""``run`` loads the project in the worker process: a second path to the same errors."""


@pytest.mark.parametrize(
    ("name", "command"),
    [(name, LS) for name in sorted(BROKEN_PROJECTS)]
    + [(name, RUN) for name in ("broken_import", "broken_syntax", "broken_duplicate", "broken_concurrency")],
)
def test_broken_project(tmp_path: Path, name: str, command: tuple[str, ...]) -> None:
    project = copy_project(name, tmp_path)
    relative, needle, expected = BROKEN_PROJECTS[name]
    where = source_of(project, relative, needle)

    # ls imports the project in its own process: in process here, but for one case
    run = run_cli if command == RUN or name == "broken_import" else run_in_process
    result = run(project, *command)

    assert result.returncode == 3, str(result)
    assert result.stdout == ""
    for text in expected:
        assert text in result.stderr, str(result)
    if name in ("broken_import", "broken_syntax"):
        path, line = where.split(":")
        assert f'{project / path}", line {line}' in result.stderr, str(result)
        assert "/pingback_cli/" not in result.stderr, str(result)
        assert "importlib" not in result.stderr, str(result)
    else:
        assert where in result.stderr, str(result)
        assert "Traceback" not in result.stderr, str(result)
    if name == "broken_import":
        assert "Traceback (most recent call last)" in result.stderr


# --- Ctrl-C ---------------------------------------------------------------------------


def running_root(project: Path) -> dict[str, Any] | None:
    """The newest root in history while it runs, read straight from SQLite (a `pingback runs`
    per probe would cost a process start every 50 ms)."""
    roots = [row for row in history_rows(project) if row["parent_id"] is None]
    if roots and roots[-1]["function"] == "slow-ish" and roots[-1]["status"] == "running":
        return roots[-1]
    return None


def interrupt_run(project: Path, signals: int) -> tuple[Result, dict[str, Any], float]:
    """Start ``run slow-ish``, wait until history shows it running, send SIGINT ``signals`` times.

    Returns the run's result, the root's history row while it ran, and the seconds from the
    first SIGINT to the command's exit.
    """
    args = ("run", "slow-ish")
    started = time.monotonic()
    with started_cli(project, *args) as process:
        root = poll("history to show slow-ish running", lambda: running_root(project), SETTLE)
        assert process.poll() is None
        assert worker_pids(project), "no worker process while the run is going"
        interrupted_at = time.monotonic()
        for number in range(signals):
            if number:
                time.sleep(0.1)
            process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=SETTLE)
    result = Result(args, process.returncode, stdout, stderr, time.monotonic() - started)
    return result, root, time.monotonic() - interrupted_at


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs Linux /proc")
def test_ctrl_c_interrupts_the_run(lab: Path) -> None:
    result, root, stopping = interrupt_run(lab, signals=1)

    assert_clean_exit(result, 130)
    assert stopping < SLOW_ISH_SECONDS / 2, f"took {stopping:.1f}s to stop: it waited for the handler"
    assert "⚠ slow-ish task" in result.stdout
    assert "interrupted: pingback run was stopped before this finished" in result.stdout
    assert "1 execution · 1 interrupted" in result.stdout
    assert eventually(lambda: not worker_pids(lab), SETTLE), f"worker left: {worker_pids(lab)}"

    shown = run_in_process(lab, "show", root["id"], "--json")
    assert_clean_exit(shown, 0)
    tree = shown.json()
    assert tree["status"] == "interrupted"
    assert "interrupted" in tree["error"]
    assert [a["status"] for a in tree["attempts"]] == ["interrupted"]
    assert tree["completedAt"] is not None


@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs Linux /proc")
def test_second_ctrl_c_still_cleans_up(lab: Path) -> None:
    """An impatient second Ctrl-C must not leave history "running" or the worker alive.

    The second signal may land during the cleanup (exit 130) or after it, while the
    interpreter exits (killed by SIGINT); either way the record and processes are clean.
    """
    result, root, _ = interrupt_run(lab, signals=2)

    assert result.returncode in (130, -signal.SIGINT), str(result)
    assert "Traceback" not in result.stderr, str(result)
    assert eventually(lambda: not worker_pids(lab), SETTLE), f"worker left: {worker_pids(lab)}"
    shown = run_in_process(lab, "show", root["id"], "--json")
    assert_clean_exit(shown, 0)
    assert shown.json()["status"] == "interrupted"
