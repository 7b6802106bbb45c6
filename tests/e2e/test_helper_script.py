"""A helper script that uses pingback and cannot be imported (new-user trial finding 14).

pingback imports every file that uses pingback, since it cannot know which of them the app
imports; production imports only what the app imports. So the failure stays (a file that
defines functions and fails must not pass for a missing function), and the error says which
file, why pingback imported it, and how to name the app instead; following that works."""

from __future__ import annotations

from pathlib import Path

from cli_support import run_cli, run_in_process

JOBS = """\
import os

from pingback import Pingback

pb = Pingback(api_key="", cron_secret=os.environ.get("PINGBACK_CRON_SECRET", "dev"))


@pb.task("env")
def env(ctx):
    return "ran"
"""
HELPER = "import pingback\nimport missing_dep\n"


def project(root: Path, settings: str = "") -> Path:
    (root / "scripts").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "h"\nversion = "0"\n{settings}', encoding="utf-8"
    )
    (root / "jobs.py").write_text(JOBS, encoding="utf-8")
    (root / "scripts" / "other.py").write_text(HELPER, encoding="utf-8")
    return root


def test_the_error_names_the_file_why_it_was_imported_and_how_to_leave_it_out(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    result = run_cli(root, "run", "env")
    assert result.returncode == 3, result.brief()
    lines = result.stderr.splitlines()
    assert (
        lines[0]
        == "error: importing scripts/other.py failed: ModuleNotFoundError: No module named 'missing_dep'"
    )
    assert lines[1] == (
        "hint: pingback imported scripts/other.py because it uses pingback, as it imports every such "
        "file; fix it or install what it needs, or, if it is not part of your app, name the module "
        'that defines your functions with --app or [tool.pingback] app = "jobs"'
    )
    assert 'other.py", line 2' in result.stderr  # the user's traceback, still shown
    assert run_in_process(root, "ls", "--json").returncode == 3


def test_doing_what_the_hint_says_works(tmp_path: Path) -> None:
    by_option = run_cli(project(tmp_path / "a"), "run", "env", "--app", "jobs", "--json")
    assert by_option.returncode == 0, by_option.brief()
    assert by_option.json()["result"] == "ran"
    by_setting = run_cli(project(tmp_path / "b", '\n[tool.pingback]\napp = "jobs"\n'), "run", "env", "--json")
    assert by_setting.returncode == 0, by_setting.brief()
    assert by_setting.json()["result"] == "ran"


def test_a_file_named_with_app_gets_no_such_hint(tmp_path: Path) -> None:
    result = run_cli(project(tmp_path / "p"), "run", "env", "--app", "scripts/other.py")
    assert result.returncode == 3, result.brief()
    assert "because it uses pingback" not in result.stderr
