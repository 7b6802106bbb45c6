"""Every ``check`` rule, in process, on the fixture that holds only its defect.

The e2e suite (tests/e2e/test_check.py) runs a few of these through the installed command.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import FIXTURES, source_of

from pingback_cli.check.rules import RULES
from pingback_cli.errors import ExitCode, ProjectError
from pingback_cli.project.rules import OPTION_RULES

from .cases import CASES
from .conftest import RunCheck

# rule -> (severity, count, text in the first message, function of the first finding)
EXPECTED: dict[str, tuple[str, int, str, str | None]] = {
    "invalid-schedule": ("error", 1, "the platform does not wrap ranges", "bad-schedule"),
    "never-fires": ("error", 1, "day 31 never occurs in April, June, September or November", "short-months"),
    "schedule-reads-differently": (
        "warning",
        3,
        'has 4 fields; the platform fills the missing leading ones, reading it as "* 0 9 * *"',
        "four-fields",
    ),
    "timeout-over-interval": (
        "warning",
        1,
        "fires every minute, but its timeout is 2m00s",
        "slow-every-minute",
    ),
    "runs-outpace-concurrency": ("warning", 1, "more than 2 runs (its concurrency)", "busy"),
    "retries-range": ("error", 1, "retries is 11", "too-many-retries"),
    "concurrency-range": ("error", 1, "concurrency is 0", "no-concurrency"),
    "timeout-format": ("error", 1, '"thirty seconds" has no number', "fuzzy-timeout"),
    "timeout-misread": ("error", 1, 'the platform reads "5m" as 5 seconds; write "300s"', "minutes"),
    "unknown-task": ("error", 2, 'ctx.task("send-emial", ...) names no function', None),
    "duplicate-name": ("error", 1, "already defined at billing.py:4", "sync"),
    "handler-signature": (
        "error",
        6,
        "builds a Charge only for a parameter named payload",
        "typed-not-payload",
    ),
    "payload-keys": ("error", 2, "lacks 'amount' and has 'cents'", None),
    "instance-secrets": ("error", 1, "answers 401 to all of them", "ordinary"),
    "several-instances": ("warning", 1, "spread over 2 Pingback instances", None),
    "plan-retries": ("error", 1, "the free plan runs at most 1 retry (2 attempts in all", "flaky"),
    "plan-fan-out": ("warning", 1, "past 10 tasks per execution the pro plan drops the rest", "fan"),
    "plan-jobs": ("error", 1, "the project has 6 functions, but the free plan keeps at most 5", "six"),
    "plan-executions": ("error", 1, "past the free plan's 1,000 a month", "every-minute"),
    "retries-zero-not-sent": ("warning", 1, "retries=0 never reaches the platform", "no-more-retries"),
}


def test_every_rule_is_listed_and_tested() -> None:
    assert set(EXPECTED) == set(RULES)
    assert {rule.id for rule in OPTION_RULES} <= set(RULES)
    assert all(summary and "\n" not in summary for summary in RULES.values())


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_each_rule_on_its_fixture(run_check: RunCheck, rule: str) -> None:
    severity, count, text, function = EXPECTED[rule]
    report = run_check(f"check/{rule}")
    assert [f.rule for f in report.findings] == [rule] * count, report.findings
    first = report.findings[0]
    assert first.severity == severity
    assert text in first.message, first.message
    assert first.fix and first.file and first.line
    if function is not None:
        assert first.function == function
    assert report.exit_code == (ExitCode.EXECUTION_FAILED if severity == "error" else ExitCode.OK)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_finding_names_its_line_message_and_fix(run_check: RunCheck, rule: str) -> None:
    """Every finding of every rule, as ``check --json`` prints it: the line that holds its marker,
    its message, a fix, the counts and the exit code."""
    severity, expected = CASES[rule]
    report = run_check(f"check/{rule}")
    printed = report.to_json()
    findings = printed["findings"]
    assert [f["rule"] for f in findings] == [rule] * len(expected), findings
    assert report.exit_code == (ExitCode.EXECUTION_FAILED if severity == "error" else ExitCode.OK)
    assert (printed["errors"], printed["warnings"]) == (
        (len(expected), 0) if severity == "error" else (0, len(expected))
    )
    for finding, (file, marker, text) in zip(findings, expected, strict=True):
        assert finding["severity"] == severity
        assert finding["location"] == source_of(FIXTURES / "check" / rule, file, marker), finding
        assert finding["location"] == f"{finding['file']}:{finding['line']}"
        assert text in finding["message"], finding
        assert finding["fix"], finding


def test_the_clean_fixture_passes_every_rule_under_every_plan(run_check: RunCheck) -> None:
    assert run_check("check/clean").findings == []
    for plan in ("pro", "team"):
        report = run_check("check/clean", plan=plan)
        assert (report.plan, report.findings) == (plan, [])


def test_the_free_plan_drops_the_clean_fixtures_fan_out(run_check: RunCheck) -> None:
    report = run_check("check/clean", plan="free")
    rules = sorted({f.rule for f in report.findings})
    assert rules == ["plan-executions", "plan-fan-out", "plan-jobs", "plan-retries"]
    fan_out = next(f for f in report.findings if f.rule == "plan-fan-out")
    assert "the free plan dispatches no fan-out tasks" in fan_out.message and fan_out.severity == "error"


def test_plan_rules_are_off_without_a_plan(run_check: RunCheck) -> None:
    for name in ("plan-retries", "plan-jobs", "plan-executions"):
        report = run_check(f"check/{name}", plan="team")
        assert report.findings == [], name


def test_a_project_that_cannot_load_raises(run_check: RunCheck) -> None:
    with pytest.raises(ProjectError, match=r"importing jobs\.py failed"):
        run_check("broken_import")


def test_duplicates_alone_are_reported_without_loading(run_check: RunCheck) -> None:
    report = run_check("check/duplicate-name")
    assert report.skipped and "does not" in report.skipped
    assert report.to_json()["findings"][0]["location"] == "crm.py:4"


def test_a_project_held_back_by_duplicates_still_gets_its_literal_schedules_checked(tmp_path: Path) -> None:
    from pingback_cli.check.rules import check_project
    from pingback_cli.project.config import open_project

    from .conftest import isolated

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "dup"\n', encoding="utf-8")
    (tmp_path / "dupjobs.py").write_text(
        'from pingback import Pingback\n\npb = Pingback(api_key="k", cron_secret="s")\n\n\n'
        '@pb.cron("feb", "0 0 31 2 *")\ndef feb(ctx):\n    pass\n\n\n'
        '@pb.cron("fine", schedule="*/5 * * * *")\ndef fine(ctx):\n    pass\n\n\n'
        '@pb.task("c")\ndef c(ctx):\n    pass\n\n\n'
        '@pb.task("c")\ndef c_again(ctx):\n    pass\n',
        encoding="utf-8",
    )
    with isolated():
        report = check_project(open_project(cwd=tmp_path), now=1_780_000_000.0)
    assert report.skipped and "does not" in report.skipped
    assert [(f.rule, f.location, f.function) for f in report.findings] == [
        ("invalid-schedule", "dupjobs.py:6", "feb"),
        ("duplicate-name", "dupjobs.py:21", "c"),
    ]
    assert report.functions == 4  # every definition, the duplicate too


def test_an_import_error_still_shows_what_the_literal_schedules_break(tmp_path: Path) -> None:
    from pingback_cli.check.rules import check_project
    from pingback_cli.project.config import open_project

    from .conftest import isolated

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "imp"\n', encoding="utf-8")
    (tmp_path / "impjobs.py").write_text(
        "import no_such_helper_module\nfrom pingback import Pingback\n\n"
        'pb = Pingback(api_key="k", cron_secret="s")\n\n\n'
        '@pb.cron("seven", "0 0 * * * * *")\ndef seven(ctx):\n    pass\n',
        encoding="utf-8",
    )
    with isolated(), pytest.raises(ProjectError) as caught:
        check_project(open_project(cwd=tmp_path), now=1_780_000_000.0)
    assert "No module named 'no_such_helper_module'" in caught.value.message
    details = caught.value.details or ""
    assert details.index("Traceback") < details.index("found without importing the project")
    assert 'impjobs.py:7  error  invalid-schedule: cron "seven": invalid cron expression' in details
