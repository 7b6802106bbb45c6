"""Pending work in sight and every time labelled, through the installed command: `trigger`
says when its execution is due, `runs --status pending` lists waiting work, `show` gives due,
start and end times, times name their zone (`--utc` switches), `ls` at 80 columns keeps every
column's data, and empty listings say why they are empty."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import FIXTURES, poll, record_tree, run_cli, run_in_process
from reliability.helpers import DevServer, kill_workers

NEW_YORK = {"TZ": "America/New_York"}


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "durable"
    shutil.copytree(FIXTURES / "durable", target, ignore=shutil.ignore_patterns(".pingback", "__pycache__"))
    yield target
    kill_workers(target)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """One dev (in New York) for the tests that trigger: each looks only at what it sent."""
    target = tmp_path_factory.mktemp("shared") / "durable"
    shutil.copytree(FIXTURES / "durable", target, ignore=shutil.ignore_patterns(".pingback", "__pycache__"))
    server = DevServer(target, env=NEW_YORK)
    try:
        yield server.start()
    finally:
        server.kill()
        kill_workers(target)


def test_trigger_prints_the_id_and_when_it_is_due(dev: DevServer) -> None:
    result = run_cli(dev.project, "trigger", "later", "--delay", "15m", env=NEW_YORK)
    assert result.returncode == 0, result.brief()
    execution_id, task, *when = result.stdout.split()
    assert task == "later" and len(execution_id) == 36
    # The due time carries its date when it falls on another day than now (from 23:45 in New York).
    assert re.fullmatch(r"due (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d (EST|EDT), in 15m", " ".join(when)), (
        result.stdout
    )
    now = run_cli(dev.project, "trigger", "later", env=NEW_YORK)
    assert now.stdout.split()[2:] == ["starts", "now"], now.stdout


def test_runs_status_pending_lists_waiting_work_with_due_times(dev: DevServer) -> None:
    delayed = dev.trigger("later", delay="1h")
    flaky = dev.trigger("flaky")
    poll(
        "flaky waiting out its backoff",
        lambda: dev.tree(flaky)["attempt"] >= 1 and dev.tree(flaky)["status"] == "pending",
        20,
        0.1,
        dev.output,
    )
    listed = run_cli(dev.project, "runs", "--status", "pending", env={**NEW_YORK, "COLUMNS": "120"})
    assert listed.returncode == 0, listed.brief()
    lines = listed.stdout.splitlines()
    assert re.match(r"ID +Function +Waiting for +Due \((EST|EDT)\) +Trigger", lines[0]), listed.stdout
    assert any(line.startswith(flaky[:8]) and "retry " in line for line in lines), listed.stdout
    assert any(line.startswith(delayed[:8]) and " delay " in line for line in lines), listed.stdout
    assert "in 1h" in listed.stdout or "in 59m" in listed.stdout, listed.stdout
    as_json = run_in_process(dev.project, "runs", "--status", "pending", "--json").json()
    assert {row["executionId"] for row in as_json} >= {delayed, flaky}
    assert all(row["dueAt"].endswith("Z") for row in as_json)

    shown = run_cli(dev.project, "show", delayed[:8], env=NEW_YORK)
    # A time on another day than today carries its date (an hour after 23:00 is tomorrow).
    assert re.search(r"due (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d (EST|EDT) \(in (1h|59m)\)", shown.stdout), (
        shown.stdout
    )
    in_utc = run_cli(dev.project, "--utc", "show", delayed[:8], env=NEW_YORK)
    assert re.search(r"due (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d UTC", in_utc.stdout), in_utc.stdout


def test_show_gives_start_and_end_times_and_failed_attempts_logs(project: Path) -> None:
    result = run_cli(project, "run", "flaky", "--no-backoff", "--json")
    assert result.returncode == 1
    execution_id = result.json()["executionId"]
    shown = run_cli(project, "show", execution_id[:8], env=NEW_YORK)
    assert re.search(
        r"scheduled (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d (EST|EDT) · started (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d"
        r" (EST|EDT) · ended (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d (EST|EDT)",  # dated if not today
        shown.stdout,
    ), shown.stdout
    assert "attempts 1–3 failed: same error" in shown.stdout  # the earlier attempts, said once


def test_ls_at_80_columns_shows_every_columns_data(project: Path) -> None:
    (project / "durable" / "crons.py").write_text(
        "from durable.jobs import pb\n\n\n"
        '@pb.cron("nightly-report", "0 9 * * *", retries=2, timeout="45s")\n'
        "def nightly(ctx):\n    pass\n",
        encoding="utf-8",
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('app = "durable.jobs"', 'app = "durable"'))
    (project / "durable" / "__init__.py").write_text("from durable import crons, jobs  # noqa: F401\n")
    result = run_cli(project, "ls", env={**NEW_YORK, "COLUMNS": "80"})
    assert result.returncode == 0, result.brief()
    lines = result.stdout.splitlines()
    table = [line for line in lines if "docs/parity.md" not in line]  # a note, not the table
    assert max(len(line) for line in table) <= 80, result.stdout
    text = result.stdout
    for needle in ("nightly-report", "cron", "0 9 * * * UTC", "Next run", "in ", "Retries 2", "Timeout 45s"):
        assert needle in text, (needle, text)
    assert "Concurrency* 1" in text and "durable/crons.py:4" in text  # *: not enforced, said below
    assert re.search(r"\d{4}-\d\d-\d\d 0[45]:00:00 (EST|EDT)", text), text  # 09:00 UTC, said locally


def test_empty_listings_say_why(project: Path) -> None:
    assert "No executions yet" in run_in_process(project, "runs").stdout
    record_tree(project, "later")  # one execution in history
    unknown = run_in_process(project, "runs", "-f", "nope").stdout
    assert 'No runs of "nope" among 1 execution in history' in unknown, unknown
    failed = run_in_process(project, "runs", "--status", "failed").stdout
    assert "No failed runs among 1 execution" in failed, failed
    assert "Nothing is waiting" in run_in_process(project, "runs", "--status", "pending").stdout


def test_runs_status_failed_includes_runs_whose_children_failed(project: Path) -> None:
    (project / "durable" / "fails.py").write_text(
        "from durable.jobs import pb\n\n\n"
        '@pb.task("fan")\ndef fan(ctx):\n    ctx.task("kaboom")\n\n\n'
        '@pb.task("kaboom")\ndef kaboom(ctx):\n    raise RuntimeError("child failed")\n',
        encoding="utf-8",
    )
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('app = "durable.jobs"', 'app = "durable.fails"'))
    result = run_cli(project, "run", "fan", "--json")
    assert result.returncode == 1
    root = result.json()
    assert root["status"] == "success"
    listed = run_in_process(project, "runs", "--status", "failed", "--json").json()
    assert [row["executionId"] for row in listed] == [root["executionId"]]


def test_version() -> None:
    result = run_cli(FIXTURES, "--version")
    assert result.returncode == 0 and re.fullmatch(r"pingback \d+\.\d+\.\d+\n", result.stdout), result.brief()


def test_run_says_what_it_waits_for(project: Path) -> None:
    result = run_cli(project, "run", "kicks-later", "--payload", '{"delay": "3s"}')
    assert result.returncode == 0, result.brief()
    # The count is what is left when the line prints: a loaded machine can take a second or more
    # between the trigger and the line; it never says more than the delay.
    assert re.search(r"waiting: 1 delayed execution due in [1-3]s", result.stdout), result.stdout
    flaky = run_cli(project, "run", "flaky-one-retry")  # one backoff of 2 s
    assert flaky.returncode == 1, flaky.brief()
    assert re.search(r"waiting: 1 retry in backoff due in [12]s", flaky.stdout), flaky.stdout
