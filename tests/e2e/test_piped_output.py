"""Output to a pipe or a file is never cut: a tree's long error, a log line, a traceback's
last line and a notice come out whole (field report: lines stopped at ~200 characters with
no marker, in `run`, `show` and CI logs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import JOBS_HEADER, run_cli, run_in_process

LONG = "E" * 300 + "ERREND"
LOG = "L" * 300 + "LOGEND"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("piped") / "longlines"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "longlines"\nversion = "0"\n\n[tool.pingback]\n')
    (root / "jobs.py").write_text(
        JOBS_HEADER + '@pb.task("long-error")\n'
        "def long_error(ctx):\n"
        f'    ctx.log("{LOG}")\n'
        f'    raise RuntimeError("{LONG}")\n'
    )
    return root


@pytest.mark.parametrize("columns", [None, "80"])
def test_run_piped_prints_long_lines_whole(project: Path, columns: str | None) -> None:
    result = run_cli(project, "run", "long-error", env={"COLUMNS": columns} if columns else None)
    assert result.returncode == 1, result.brief()
    lines = result.stdout.splitlines()
    assert any(line.endswith(f"HTTP 500: {LONG}") for line in lines), result.brief()  # the node's label
    assert any(line.endswith(f"RuntimeError: {LONG}") for line in lines), result.brief()  # traceback's last
    assert any(line.endswith(LOG) for line in lines if line.startswith(("├", "└", "|", "`"))), result.brief()

    # show, piped too, of the run just made
    found = run_in_process(project, "runs", "--json").json()
    shown = run_cli(project, "show", found[0]["executionId"], env={"COLUMNS": columns} if columns else None)
    assert shown.returncode == 0, shown.brief()
    assert f"RuntimeError: {LONG}" in shown.stdout and f"HTTP 500: {LONG}" in shown.stdout, shown.brief()


def test_a_long_error_message_is_whole_on_stderr(project: Path) -> None:
    name = "x" * 250 + "NAMEEND"
    result = run_cli(project, "run", name)
    assert result.returncode == 2, result.brief()
    assert name in result.stderr, result.brief()


def test_an_ascii_stdout_gets_our_punctuation_in_ascii(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "same"\nversion = "0"\n\n[tool.pingback]\n')
    (tmp_path / "jobs.py").write_text(
        JOBS_HEADER + '@pb.task("same", retries=2)\n'
        "def same(ctx):\n"
        '    raise RuntimeError("the same every time")\n'
    )
    ran = run_cli(tmp_path, "run", "same", "--no-backoff", env={"PYTHONIOENCODING": "ascii"})
    assert ran.returncode == 1, ran.brief()
    assert "attempts 1-2 failed: same error" in ran.stdout, ran.brief()
    assert "\\u" not in ran.stdout, ran.brief()  # no \u2013 of ours
