"""Help from the cache is Typer's help, byte for byte, and follows the CLI when it changes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import typer.main
from cli_support import cli_env, run_cli

from pingback_cli.cli.app import app

PACKAGE = Path(__file__).resolve().parents[2] / "pingback_cli"


def _commands() -> list[str]:
    return list(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


FORMS = [[], ["--help"], ["-h"], *([name, "--help"] for name in _commands()), ["run", "-h"]]


TYPER_ITSELF = """
import contextlib, io, json, sys
from pingback_cli.cli.app import command
answers = []
for argv in json.loads(sys.argv[1]):
    sys.argv = ["pingback", *argv]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            command()()
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
    answers.append([code, out.getvalue(), err.getvalue()])
json.dump(answers, sys.__stdout__)
"""


@pytest.fixture(scope="module")
def typer_itself(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, str]]:
    """Every form's (exit code, stdout, stderr) from the Typer app run directly (as
    ``cli.app.command`` tidies it), as the entry point ran it before the cache existed: all
    forms in one interpreter, since what one prints does not depend on another."""
    cwd = tmp_path_factory.mktemp("typer-itself")
    env = {"XDG_CACHE_HOME": str(cwd / "cache"), "COLUMNS": "93"}
    done = subprocess.run(
        [sys.executable, "-c", TYPER_ITSELF, json.dumps(FORMS)],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=cli_env(env),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert not (cwd / "cache").exists(), "Typer itself reads and writes no cache"
    answers = json.loads(done.stdout)
    return {" ".join(argv): (code, out, err) for argv, (code, out, err) in zip(FORMS, answers, strict=True)}


@pytest.mark.parametrize("argv", FORMS, ids=lambda argv: " ".join(argv) or "bare")
def test_cached_help_is_typers_help(
    tmp_path: Path, argv: list[str], typer_itself: dict[str, tuple[int, str, str]]
) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "93"}
    expected = typer_itself[" ".join(argv)]
    assert expected[0] == (2 if not argv else 0), expected
    first = run_cli(tmp_path, *argv, env=env)  # renders through Typer and keeps it
    assert list((tmp_path / "cache" / "pingback" / "help").iterdir()), "nothing was cached"
    second = run_cli(tmp_path, *argv, env=env)  # from the cache
    for result in (first, second):
        assert (result.returncode, result.stdout, result.stderr) == expected


def test_the_terminal_width_is_part_of_the_key(tmp_path: Path) -> None:
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    wide = run_cli(tmp_path, "run", "--help", env={**cache, "COLUMNS": "200"})
    narrow = run_cli(tmp_path, "run", "--help", env={**cache, "COLUMNS": "60"})
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 60
    assert max(len(line) for line in wide.stdout.splitlines()) > 60
    again = run_cli(tmp_path, "run", "--help", env={**cache, "COLUMNS": "60"})
    assert again.stdout == narrow.stdout


def test_help_from_the_cache_imports_no_typer(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    report = tmp_path / "modules.json"
    probe = textwrap.dedent(
        f"""\
        import json, sys
        sys.argv[0] = "pingback"
        from pingback_cli.cli.main import main
        try:
            main()
        finally:
            with open({str(report)!r}, "w") as out:
                json.dump(sorted(sys.modules), out)
        """
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", probe, "ls", "--help"], cwd=tmp_path, env=cli_env(env), capture_output=True
        )
        for _ in range(2)
    ]
    assert [done.returncode for done in runs] == [0, 0]
    assert runs[0].stdout == runs[1].stdout
    modules = json.loads(report.read_text())
    heavy = [name for name in modules if name.split(".")[0] in ("typer", "click", "rich", "pingback")]
    assert heavy == [], heavy


def test_a_changed_cli_is_never_answered_from_the_cache(tmp_path: Path) -> None:
    """A copy of the package, first on PYTHONPATH: its help is cached, then its source edited."""
    copy = tmp_path / "src"
    shutil.copytree(PACKAGE, copy / "pingback_cli", ignore=shutil.ignore_patterns("__pycache__"))
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": str(copy)}
    before = run_cli(tmp_path, "ls", "--help", env=env)
    assert run_cli(tmp_path, "ls", "--help", env=env).stdout == before.stdout
    assert "List the project's crons and tasks" in before.stdout
    ls_module = copy / "pingback_cli" / "cli" / "ls.py"
    ls_module.write_text(
        ls_module.read_text().replace("List the project's crons and tasks", "Show the project's functions")
    )
    after = run_cli(tmp_path, "ls", "--help", env=env)
    assert after.returncode == 0
    assert "Show the project's functions" in after.stdout
    assert "List the project's crons and tasks" not in after.stdout


def test_the_program_name_is_part_of_the_key(tmp_path: Path) -> None:
    """`pingback --help` and `python -m pingback_cli --help` share a cache, never a text."""
    env = cli_env({"XDG_CACHE_HOME": str(tmp_path / "cache")})
    as_script = run_cli(tmp_path, "--help", env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    as_module = subprocess.run(
        [sys.executable, "-m", "pingback_cli", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert as_script.stdout.startswith("Usage: pingback [OPTIONS]")
    assert as_module.returncode == 0
    assert as_module.stdout.startswith("Usage: python -m pingback_cli [OPTIONS]")
    assert as_module.stdout.partition("\n")[2] == as_script.stdout.partition("\n")[2]
