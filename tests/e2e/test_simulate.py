"""`pingback simulate` (time travel for crons) and `pingback run --at`, through the installed command."""

from __future__ import annotations

import sqlite3
import textwrap
from pathlib import Path

from cli_support import run_cli, run_in_process

from .conftest import assert_clean_exit, copy_project

DAY = ("--from", "2026-12-01T00:00Z", "--to", "2026-12-02T00:00Z")


def history_counts(project: Path) -> dict[str, int]:
    with sqlite3.connect(project / ".pingback" / "history.sqlite3") as conn:
        rows = conn.execute("SELECT status, COUNT(*) FROM executions GROUP BY status").fetchall()
    return dict(rows)


def test_lists_every_occurrence_in_order_with_counts_and_a_monthly_estimate(tmp_path: Path) -> None:
    project = copy_project("timeproj", tmp_path)

    result = run_cli(project, "simulate", "--from", "2026-02-28T23:30Z", "--to", "2026-03-01T00:30Z")

    assert_clean_exit(result, 0)
    lines = result.stdout.splitlines()
    assert [line.split("UTC")[1].strip() for line in lines[:5]] == [
        "digest",
        "digest",
        "digest",
        "month-end",
        "digest",
    ]
    assert lines[0].startswith("2026-02-28 23:30:00 UTC")
    assert lines[3].startswith("2026-03-01 00:00:00 UTC")
    assert not (project / ".pingback" / "history.sqlite3").exists()

    data = run_in_process(
        project, "simulate", "--from", "2026-02-28T23:30Z", "--to", "2026-03-01T00:30Z", "--json"
    )
    assert_clean_exit(data, 0)
    body = data.json()
    assert body["counts"] == {"digest": 4, "month-end": 1, "leap-day": 0}
    assert body["occurrences"][3] == {"function": "month-end", "scheduledAt": "2026-03-01T00:00:00.000Z"}
    assert body["monthlyEstimate"]["functions"]["digest"] == 2880
    assert body["monthlyEstimate"]["functions"]["month-end"] == 1
    # digest fires 2,880 times a month with one ctx.task() in a loop: the free plan dispatches
    # none of it (about 2,881 with month-end); for pro the written count is only a lower bound
    assert body["monthlyEstimate"]["plans"]["free"] == {
        "executionsPerMonth": 1000,
        "attempts": 2881,
        "atLeast": False,
        "verdict": "exceeded",
        "fits": False,
    }
    assert body["monthlyEstimate"]["plans"]["pro"] == {
        "executionsPerMonth": 50000,
        "attempts": 5761,
        "atLeast": True,
        "verdict": "unknown",
        "fits": None,
    }
    assert "free 1,000 a month: exceeded (about 2,881)" in result.stdout

    pro = run_in_process(
        project, "simulate", "--from", "2026-02-28T23:30Z", "--to", "2026-03-01T00:30Z", "--plan", "pro"
    )
    assert_clean_exit(pro, 0)
    assert "pro 50,000 a month: unknown (at least 5,761)" in pro.stdout
    ran = run_cli(
        project,
        "simulate",
        "--from",
        "2026-12-01T00:00Z",
        "--to",
        "2026-12-01T00:30Z",
        "--run",
        "--plan",
        "pro",
    )
    assert_clean_exit(ran, 0)  # two fires of digest, each with 3 deliveries: 4 attempts a fire
    assert "pro 50,000 a month: fits (about 11,521)" in ran.stdout, ran.brief()
    unknown = run_in_process(
        project, "simulate", "--from", "2026-02-28T23:30Z", "--to", "2026-03-01T00:30Z", "--plan", "gold"
    )
    assert_clean_exit(unknown, 2)
    assert "--plan is 'gold', which is not a plan of the platform" in unknown.stderr


def test_run_executes_a_day_and_records_384_executions(tmp_path: Path) -> None:
    project = copy_project("simday", tmp_path)

    result = run_cli(project, "simulate", *DAY, "--run")

    assert_clean_exit(result, 0)
    trees = [line for line in result.stdout.splitlines() if line.startswith("✓")]
    assert len(trees) == 96
    assert trees[0].startswith("✓ 2026-12-01 00:00:00 UTC  sweep  4 executions")
    assert trees[-1].startswith("✓ 2026-12-01 23:45:00 UTC  sweep")
    assert "384 executions · 96 runs" in result.stdout
    assert history_counts(project) == {"success": 384}


def test_run_json_summarises_by_function(tmp_path: Path) -> None:
    project = copy_project("simday", tmp_path)

    result = run_cli(project, "simulate", *DAY, "--run", "--json")

    assert_clean_exit(result, 0)
    body = result.json()
    assert body["executions"] == {
        "byFunction": {"sweep": {"success": 96}, "sweep-shard": {"success": 288}},
        "total": 384,
    }
    assert len(body["trees"]) == 96 and body["failures"] == []
    assert body["trees"][1]["scheduledAt"] == "2026-12-01T00:15:00.000Z"


def test_run_exits_1_and_names_the_failures(tmp_path: Path) -> None:
    project = tmp_path / "failing"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "failing"\nversion = "0"\n')
    (project / "jobs.py").write_text(
        textwrap.dedent(
            """
            import os
            from pingback import Pingback

            pb = Pingback(api_key="k", cron_secret=os.environ["PINGBACK_CRON_SECRET"])

            @pb.cron("hourly", "0 * * * *")
            def hourly(ctx):
                print("a handler's print goes to stderr")
                if ctx.scheduled_at.hour == 2:
                    raise RuntimeError("the 02:00 run breaks")
                return {"hour": ctx.scheduled_at.hour}
            """
        )
    )

    result = run_cli(project, "simulate", "--from", "2026-12-01T00:00Z", "--to", "2026-12-01T04:00Z", "--run")
    assert_clean_exit(result, 1)
    failed = [line for line in result.stdout.splitlines() if line.startswith("✗")]
    assert len(failed) == 2  # its tree line, then the summary's list of failures
    assert failed[0].startswith("✗ 2026-12-01 02:00:00 UTC  hourly  1 execution, 1 failed: ")
    assert failed[1].startswith("✗ hourly ")
    assert all("the 02:00 run breaks" in line for line in failed)
    assert "4 executions · 4 runs · 1 failed" in result.stdout

    data = run_cli(
        project, "simulate", "--from", "2026-12-01T00:00Z", "--to", "2026-12-01T04:00Z", "--run", "--json"
    )
    assert_clean_exit(data, 1)
    body = data.json()  # the handler's prints did not reach stdout
    assert [f["function"] for f in body["failures"]] == ["hourly"]
    assert "the 02:00 run breaks" in body["failures"][0]["error"]
    assert body["executions"]["byFunction"] == {"hourly": {"failed": 1, "success": 3}}
    assert "a handler's print goes to stderr" in data.stderr


def test_bad_windows_are_one_line_and_exit_2(tmp_path: Path) -> None:
    project = copy_project("simday", tmp_path)

    bad = run_in_process(project, "simulate", "--from", "yesterday", "--to", "2026-12-02T00:00Z")
    backwards = run_in_process(
        project, "simulate", "--from", "2026-12-02T00:00Z", "--to", "2026-12-01T00:00Z"
    )

    assert_clean_exit(bad, 2)
    assert bad.stderr.startswith("error: --from 'yesterday' is not a point in time")
    assert_clean_exit(backwards, 2)
    assert "is not later than --from" in backwards.stderr


def test_run_at_sets_scheduled_at(tmp_path: Path) -> None:
    project = copy_project("timeproj", tmp_path)

    result = run_cli(project, "run", "month-end", "--at", "2026-12-01T00:00Z", "--json")

    assert_clean_exit(result, 0)
    body = result.json()
    assert body["scheduledAt"] == "2026-12-01T00:00:00.000Z"
    assert body["result"] == {"month": "2026-12"}
    # a refusal before the worker: in process (test_head_start checks the installed form)
    bad = run_in_process(project, "run", "month-end", "--at", "noon")
    assert_clean_exit(bad, 2)
    assert "--at 'noon' is not a point in time" in bad.stderr


def test_run_applies_the_plan_as_run_does(tmp_path: Path) -> None:
    project = copy_project("simday", tmp_path)

    result = run_cli(
        project,
        "simulate",
        "--from",
        "2026-12-01T00:00Z",
        "--to",
        "2026-12-01T01:00Z",
        "--run",
        "--plan",
        "free",
        "--json",
    )

    assert_clean_exit(result, 0)
    body = result.json()  # the free plan dispatches no fan-out tasks
    assert body["executions"] == {"byFunction": {"sweep": {"success": 4}}, "total": 4}
    assert body["monthlyEstimate"]["plan"] == "free"


def test_run_marks_what_it_records_as_simulated(tmp_path: Path) -> None:
    project = copy_project("simday", tmp_path)
    assert_clean_exit(
        run_cli(project, "simulate", "--from", "2030-01-01T00:00Z", "--to", "2030-01-01T00:20Z", "--run"), 0
    )
    assert_clean_exit(run_cli(project, "run", "sweep"), 0)  # a real run, for contrast

    runs = run_in_process(project, "runs", "--json").json()
    # dated 2030, the simulated runs sit where they were recorded: below the later real run
    assert [run["trigger"] for run in runs] == ["run", "simulate", "simulate"]
    only = run_in_process(project, "runs", "--trigger", "simulate", "--json").json()
    assert [run["executionId"] for run in only] == [run["executionId"] for run in runs[1:]]
    table = run_in_process(project, "runs")
    assert sum(line.rstrip().endswith("simulate") for line in table.stdout.splitlines()) == 2, table.brief()
    simulated = next(run for run in runs if run["trigger"] == "simulate")
    shown = run_in_process(project, "show", simulated["executionId"])
    assert "simulated (pingback simulate --run)" in shown.stdout.splitlines()[0], shown.brief()
    real = next(run for run in runs if run["trigger"] == "run")
    assert "simulated" not in run_in_process(project, "show", real["executionId"]).stdout
    with sqlite3.connect(project / ".pingback" / "history.sqlite3") as conn:
        children = conn.execute(
            'SELECT DISTINCT "trigger" FROM executions WHERE parent_id IS NOT NULL'
        ).fetchall()
    assert children == [("fanout",)]  # children keep what made them


def test_a_year_in_summary_counts_without_listing(tmp_path: Path) -> None:
    """New-user trial #2, finding 10: a year of crons took minutes to list before its summary."""
    project = copy_project("timeproj", tmp_path)
    year = ("--from", "2027-01-01T00:00Z", "--to", "2028-01-01T00:00Z", "--summary")

    data = run_in_process(project, "simulate", *year, "--json")

    assert_clean_exit(data, 0)
    body = data.json()
    assert "occurrences" not in body
    assert body["counts"] == {"digest": 35_040, "month-end": 12, "leap-day": 0}
    text = run_in_process(project, "simulate", *year)
    assert_clean_exit(text, 0)
    assert text.stdout.startswith("Cron "), text.brief()  # no line per occurrence
    assert "35,052 occurrences from 2027-01-01 00:00:00 UTC" in text.stdout, text.brief()
