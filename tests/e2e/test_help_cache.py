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
from cli_support import cli_env, pingback_command, run_cli

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


FIRST_RUNS = """
import io, json, sys
from pingback_cli.cli.main import main
answers = []
for argv in json.loads(sys.argv[1]):
    sys.argv = ["pingback", *argv]  # the program name is part of the key: the installed script's
    out, err = io.BytesIO(), io.BytesIO()
    # as the interpreter's own pipes are (their encoding and error handler are part of the key)
    sys.stdout = io.TextIOWrapper(out, sys.__stdout__.encoding, sys.__stdout__.errors, write_through=True)
    sys.stderr = io.TextIOWrapper(err, sys.__stderr__.encoding, sys.__stderr__.errors, write_through=True)
    code = 0
    try:
        main()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    answers.append([code, out.getvalue().decode(), err.getvalue().decode()])
json.dump(answers, sys.__stdout__)
"""


@pytest.fixture(scope="module")
def first_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[int, str, str]]]:
    """Every form run once through the entry point (``cli.main.main``, what the installed
    script calls) on an empty cache, all in one interpreter: each renders through Typer and
    keeps its help. Returns the cache's folder and what each printed. (A miss through the
    installed command itself: the width, changed-CLI and program-name tests below.)"""
    cwd = tmp_path_factory.mktemp("first-runs")
    # The interpreter is part of the key: the one the installed script names (python3, maybe
    # not sys.executable's name).
    interpreter = Path(pingback_command()).read_text(encoding="utf-8").splitlines()[0].removeprefix("#!")
    done = subprocess.run(
        [interpreter, "-c", FIRST_RUNS, json.dumps(FORMS)],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=cli_env({"XDG_CACHE_HOME": str(cwd / "cache"), "COLUMNS": "93"}),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    printed = {
        " ".join(argv): (code, out, err) for argv, (code, out, err) in zip(FORMS, answers, strict=True)
    }
    return cwd / "cache", printed


def entries(cache: Path) -> list[tuple[str, int, int]]:
    """The cache's files with their inode and modification time: keeping an entry again
    replaces its file (a new inode), even under the same name with the same text."""
    folder = cache / "pingback" / "help"
    return sorted((path.name, path.stat().st_ino, path.stat().st_mtime_ns) for path in folder.iterdir())


@pytest.mark.parametrize("argv", FORMS, ids=lambda argv: " ".join(argv) or "bare")
def test_cached_help_is_typers_help(
    tmp_path: Path,
    argv: list[str],
    typer_itself: dict[str, tuple[int, str, str]],
    first_runs: tuple[Path, dict[str, tuple[int, str, str]]],
) -> None:
    cache, printed = first_runs
    expected = typer_itself[" ".join(argv)]
    assert expected[0] == (2 if not argv else 0), expected
    assert printed[" ".join(argv)] == expected  # rendered through Typer, and kept
    kept = entries(cache)
    assert len(kept) == len(FORMS), "a form's help was not cached"
    env = {"XDG_CACHE_HOME": str(cache), "COLUMNS": "93"}
    second = run_cli(tmp_path, *argv, env=env)  # the installed command, from the cache
    assert (second.returncode, second.stdout, second.stderr) == expected
    assert entries(cache) == kept, "rendered and kept again: not answered from the cache"


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
