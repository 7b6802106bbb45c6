"""`pingback check`: every rule on a fixture holding only that defect, and clean projects.

Fixtures are under tests/fixtures/check/<rule>/; each finding's file:line is the line
of the declaration (or the ctx.task call) that the fixture marks with the text below.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from cli_support import FIXTURES, run_cli

from pingback_cli.check.rules import RULES

from .conftest import assert_clean_exit, copy_project, source_of

REPO = Path(__file__).resolve().parents[2]
CHECK_FIXTURES = FIXTURES / "check"

# rule -> (severity, [(file, text on the flagged line, text in the message)])
CASES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "invalid-schedule": (
        "error",
        [("jobs.py", '@pb.cron("bad-schedule"', "the platform does not wrap ranges")],
    ),
    "never-fires": (
        "error",
        [("jobs.py", '@pb.cron("short-months"', "day 31 never occurs in April, June, September or November")],
    ),
    "schedule-reads-differently": (
        "warning",
        [
            (
                "jobs.py",
                '@pb.cron("four-fields"',
                "has 4 fields; the platform fills the missing leading ones",
            ),
            ("jobs.py", '@pb.cron("big-step"', 'minute field "*/61" steps by 61'),
            ("jobs.py", '@pb.cron("last-day"', 'day-of-month field "5L" is the last day of the month'),
        ],
    ),
    "timeout-over-interval": (
        "warning",
        [("jobs.py", '@pb.cron("slow-every-minute"', "fires every minute, but its timeout is 2m00s")],
    ),
    "runs-outpace-concurrency": (
        "warning",
        [("jobs.py", '@pb.cron("busy"', "more than 2 runs (its concurrency)")],
    ),
    "retries-range": ("error", [("jobs.py", '@pb.task("too-many-retries"', "retries is 11")]),
    "concurrency-range": ("error", [("jobs.py", '@pb.task("no-concurrency"', "concurrency is 0")]),
    "timeout-format": ("error", [("jobs.py", '@pb.task("fuzzy-timeout"', '"thirty seconds"')]),
    "timeout-misread": ("error", [("jobs.py", '@pb.task("minutes"', 'the platform reads "5m" as 5 seconds')]),
    "instance-secrets": ("error", [("jobs.py", '@pb.task("ordinary")', "answers 401")]),
    "several-instances": ("warning", [("reports.py", '@reports.cron("nightly"', "one handler must serve")]),
    "plan-retries": ("error", [("jobs.py", '@pb.task("flaky"', "the free plan runs at most 1 retry")]),
    "plan-fan-out": ("warning", [("jobs.py", 'ctx.task("shard"', "the pro plan drops the rest")]),
    "plan-jobs": ("error", [("jobs.py", '@pb.task("six")', "the free plan keeps at most 5")]),
    "plan-executions": ("error", [("jobs.py", '@pb.cron("every-minute"', "past the free plan's 1,000")]),
    "retries-zero-not-sent": (
        "warning",
        [("jobs.py", '@pb.task("no-more-retries", retries=0)', "retries=0 never reaches the platform")],
    ),
    "unknown-task": (
        "error",
        [
            ("jobs.py", 'ctx.task("send-emial"', 'ctx.task("send-emial", ...) names no function'),
            ("jobs.py", 'pb.trigger("nightly-report")', "answers 404"),
        ],
    ),
    "duplicate-name": ("error", [("crm.py", '@pb.task("sync")', "already defined at billing.py:4")]),
    "handler-signature": (
        "error",
        [
            (
                "jobs.py",
                '@pb.task("typed-not-payload")',
                "builds a Charge only for a parameter named payload",
            ),
            ("jobs.py", '@pb.task("no-params")', "takes no parameters"),
            ("jobs.py", '@pb.cron("cron-extra-params"', "missing a required argument: 'shard'"),
            ("jobs.py", '@pb.task("payload-and-more")', 'payload gets payload["payload"]'),
            ("jobs.py", '@pb.task("context-misnamed")', "only to a parameter named ctx"),
            ("jobs.py", '@pb.task("async-handler")', "is async, but the SDK calls handlers without"),
        ],
    ),
    "payload-keys": (
        "error",
        [
            ("jobs.py", 'ctx.task("charge"', "lacks 'amount' and has 'cents'"),
            ("jobs.py", 'ctx.task("receipt"', "lacks 'order_id' and has 'order'"),
        ],
    ),
}


def test_every_rule_has_a_fixture() -> None:
    assert set(CASES) == set(RULES)
    assert sorted(path.name for path in CHECK_FIXTURES.iterdir()) == sorted([*RULES, "clean"])


def check(project: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(project, "check", "--json", *args)
    assert "Traceback" not in result.stderr, str(result)
    return result.returncode, result.json()


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_finds_its_defect_and_nothing_else(tmp_path: Path, rule: str) -> None:
    severity, expected = CASES[rule]
    project = copy_project(f"check/{rule}", tmp_path)
    code, report = check(project)
    findings = report["findings"]
    assert {f["rule"] for f in findings} == {rule}, findings
    assert len(findings) == len(expected), findings
    assert code == (1 if severity == "error" else 0)
    assert (report["errors"], report["warnings"]) == (
        (len(expected), 0) if severity == "error" else (0, len(expected))
    )
    for finding, (file, marker, text) in zip(findings, expected, strict=True):
        assert finding["severity"] == severity
        assert finding["location"] == source_of(project, file, marker), finding
        assert finding["location"] == f"{finding['file']}:{finding['line']}"
        assert text in finding["message"], finding
        assert finding["fix"], finding


def test_findings_print_location_severity_rule_and_fix(tmp_path: Path) -> None:
    project = copy_project("check/unknown-task", tmp_path)
    result = run_cli(project, "check")
    assert_clean_exit(result, 1)
    location = source_of(project, "jobs.py", 'ctx.task("send-emial"')
    lines = result.stdout.splitlines()
    assert f"{location}  error  unknown-task" in lines
    assert "  fix: did you mean 'send-email'?" in lines
    assert lines[-1] == "✗ 2 errors, 0 warnings (2 functions in 1 file checked)"


def test_warnings_alone_pass(tmp_path: Path) -> None:
    project = copy_project("check/several-instances", tmp_path)
    result = run_cli(project, "check")
    assert_clean_exit(result, 0)
    assert "fix: declare every function on one shared instance" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("⚠ 0 errors, 1 warning")


def test_a_misread_timeout_is_an_error_with_its_fix(tmp_path: Path) -> None:
    project = copy_project("check/timeout-misread", tmp_path)
    result = run_cli(project, "check")
    assert_clean_exit(result, 1)
    assert 'the platform reads "5m" as 5 seconds; write "300s"' in result.stdout
    assert 'fix: write it in seconds: timeout="300s"' in result.stdout


def test_plan_option_and_environment_choose_the_plan(tmp_path: Path) -> None:
    project = copy_project("check/plan-retries", tmp_path)
    code, report = check(project, "--plan", "team")
    assert (code, report["plan"], report["findings"]) == (0, "team", [])
    result = run_cli(project, "check", "--json", env={"PINGBACK_PLAN": "pro"})
    assert result.json()["plan"] == "pro" and result.returncode == 0, str(result)
    result = run_cli(project, "check", "--plan", "gold")
    assert result.returncode == 2 and "--plan is 'gold', which is not a plan" in result.stderr, str(result)


def test_a_clean_project_has_no_findings(tmp_path: Path) -> None:
    project = copy_project("check/clean", tmp_path)
    code, report = check(project)
    assert (code, report["findings"], report["functions"]) == (0, [], 6)
    text = run_cli(project, "check")
    assert_clean_exit(text, 0)
    assert text.stdout.strip() == "✓ no problems found (6 functions in 1 file checked)"


def test_the_example_shop_is_clean(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(REPO / "examples" / "shop", project, ignore=shutil.ignore_patterns(".pingback"))
    code, report = check(project)
    assert code == 0
    assert report["functions"] == 5
    assert report["findings"] == []


def test_a_project_that_cannot_load_exits_3(tmp_path: Path) -> None:
    for broken, text in (("broken_import", "importing jobs.py failed"), ("broken_syntax", "SyntaxError")):
        project = copy_project(broken, tmp_path)
        result = run_cli(project, "check", "--json")
        assert result.returncode == 3, str(result)
        assert result.stderr.startswith("error: ") and text in result.stderr  # the user's traceback follows
        assert result.stdout == ""


def test_check_respects_app(tmp_path: Path) -> None:
    project = copy_project("check/clean", tmp_path)
    (project / "other.py").write_text(
        'from jobs import pb\n\n\n@pb.task("odd", retries=99)\ndef odd(ctx):\n    return None\n',
        encoding="utf-8",
    )
    code, report = check(project)
    assert code == 1 and [f["function"] for f in report["findings"]] == ["odd"]
    code, report = check(project, "--app", "jobs")
    assert (code, report["findings"]) == (0, [])
