"""`pingback check`: every rule on a fixture holding only that defect, and clean projects.

Every rule is tested in process (tests/check/test_rules.py, same table: tests/check/cases.py);
here a few of them run through the installed command, then its text output, options and exit
codes: the installed command for a clean project, an error and a load failure, the same Click
command in process (``run_in_process``) for the variants of options and output.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from check.cases import CASES
from cli_support import FIXTURES, Result, run_cli, run_in_process, source_of

from pingback_cli.check.rules import RULES

from .conftest import assert_clean_exit, copy_project

REPO = Path(__file__).resolve().parents[2]
CHECK_FIXTURES = FIXTURES / "check"


def test_every_rule_has_a_fixture() -> None:
    assert set(CASES) == set(RULES)
    assert sorted(path.name for path in CHECK_FIXTURES.iterdir()) == sorted([*RULES, "clean"])


def check(project: Path, *args: str, run: Callable[..., Result] = run_cli) -> tuple[int, dict[str, Any]]:
    result = run(project, "check", "--json", *args)
    assert "Traceback" not in result.stderr, str(result)
    return result.returncode, result.json()


THROUGH_THE_COMMAND = ("handler-signature", "invalid-schedule", "schedule-reads-differently")
"""An error, six findings in one file, and a warning with three; the first through the installed
command, the others its Click command in process (the rest: tests/check/test_rules.py)."""


@pytest.mark.parametrize("rule", THROUGH_THE_COMMAND)
def test_each_rule_finds_its_defect_and_nothing_else(tmp_path: Path, rule: str) -> None:
    severity, expected = CASES[rule]
    project = copy_project(f"check/{rule}", tmp_path)
    code, report = check(project, run=run_cli if rule == THROUGH_THE_COMMAND[0] else run_in_process)
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
    result = run_in_process(project, "check")
    assert_clean_exit(result, 0)
    assert "fix: declare every function on one shared instance" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("⚠ 0 errors, 1 warning")


def test_a_misread_timeout_is_an_error_with_its_fix(tmp_path: Path) -> None:
    project = copy_project("check/timeout-misread", tmp_path)
    result = run_in_process(project, "check")
    assert_clean_exit(result, 1)
    assert 'the platform reads "5m" as 5 seconds; write "300s"' in result.stdout
    assert 'fix: write it in seconds: timeout="300s"' in result.stdout


def test_plan_option_and_environment_choose_the_plan(tmp_path: Path) -> None:
    project = copy_project("check/plan-retries", tmp_path)
    code, report = check(project, "--plan", "team", run=run_in_process)
    assert (code, report["plan"], report["findings"]) == (0, "team", [])
    result = run_in_process(project, "check", "--json", env={"PINGBACK_PLAN": "pro"})
    assert result.json()["plan"] == "pro" and result.returncode == 0, str(result)
    result = run_in_process(project, "check", "--plan", "gold")
    assert result.returncode == 2 and "--plan is 'gold', which is not a plan" in result.stderr, str(result)


def test_a_clean_project_has_no_findings(tmp_path: Path) -> None:
    project = copy_project("check/clean", tmp_path)
    code, report = check(project)
    assert (code, report["findings"], report["functions"]) == (0, [], 6)
    text = run_in_process(project, "check")
    assert_clean_exit(text, 0)
    assert text.stdout.strip() == "✓ no problems found (6 functions in 1 file checked)"


def test_the_example_shop_is_clean(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(REPO / "examples" / "shop", project, ignore=shutil.ignore_patterns(".pingback"))
    code, report = check(project, run=run_in_process)
    assert code == 0
    assert report["functions"] == 5
    assert report["findings"] == []


def test_a_project_that_cannot_load_exits_3(tmp_path: Path) -> None:
    for broken, text in (("broken_import", "importing jobs.py failed"), ("broken_syntax", "SyntaxError")):
        project = copy_project(broken, tmp_path)
        # the import error through the installed command, the syntax error in process
        result = (run_cli if broken == "broken_import" else run_in_process)(project, "check", "--json")
        assert result.returncode == 3, str(result)
        assert result.stderr.startswith("error: ") and text in result.stderr  # the user's traceback follows
        assert result.stdout == ""


def test_check_respects_app(tmp_path: Path) -> None:
    project = copy_project("check/clean", tmp_path)
    (project / "other.py").write_text(
        'from jobs import pb\n\n\n@pb.task("odd", retries=99)\ndef odd(ctx):\n    return None\n',
        encoding="utf-8",
    )
    code, report = check(project, run=run_in_process)
    assert code == 1 and [f["function"] for f in report["findings"]] == ["odd"]
    code, report = check(project, "--app", "jobs")
    assert (code, report["findings"]) == (0, [])
