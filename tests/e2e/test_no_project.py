"""Running where there is no project, through the installed command: every command says which
folder it tried and why it is not a project (or what it looked for), in one line, and none
leaves a `.pingback/` folder behind; code in a subfolder without a pyproject.toml that imports
from a folder above is told where to run."""

from __future__ import annotations

from pathlib import Path

import pytest

NO_PROJECT_COMMANDS = (
    ("run", "anything"),
    ("dev", "--no-reload", "--port", "0"),
    ("runs",),
    ("ls",),
    ("check",),
    ("show", "0000"),
    ("replay", "0000"),
    ("simulate", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z"),
    ("register", "--dry-run"),
    ("pause", "anything"),
    ("resume", "anything"),
    ("retry", "0000"),
    ("cancel", "0000"),
    ("trigger", "anything"),
)

THROUGH_THE_COMMAND = ("run", "dev", "ls")
"""These run as the installed command; the others' Click commands run in process (they stop at
the missing project before starting any process or server; `runs` through the installed command
is test_cli_core's)."""


@pytest.mark.parametrize("args", NO_PROJECT_COMMANDS, ids=lambda args: args[0])
def test_a_command_that_finds_no_project_leaves_no_state_folder(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    from cli_support import run_cli, run_in_process

    empty = tmp_path / "not-a-project" / "sub"
    empty.mkdir(parents=True)
    env = {"PINGBACK_PLATFORM_URL": ""} if args[0] == "trigger" else None
    if args[0] in THROUGH_THE_COMMAND:
        result = run_cli(empty, *args, env=env, timeout=60)
    else:
        result = run_in_process(empty, *args, env=env)
    assert result.returncode in (0, 2, 3), result.brief()
    assert "Traceback" not in result.stderr, result.brief()
    assert not (empty / ".pingback").exists(), args
    assert not (empty.parent / ".pingback").exists(), args
    if args[0] in ("run", "dev", "ls", "check", "simulate", "register", "runs"):  # they look for code
        assert result.returncode == 3, result.brief()
        line = result.stderr.splitlines()[0]
        assert line == (
            "error: no project here: no pyproject.toml, package.json or .pingback/ "
            f"in {empty} or any folder above it, "
            f"and no Python file in {empty} uses pingback (imports it, or declares @pb.cron/@pb.task)"
            + (
                ", and no JS/TS file imports @usepingback/next"
                if args[0] in ("ls", "simulate", "register")
                else ""
            )
        ), result.brief()
        assert "start one here with `pingback init`" in result.stderr.splitlines()[1], result.brief()


def test_dev_on_a_taken_port_says_first_that_there_is_no_project_and_leaves_nothing(tmp_path: Path) -> None:
    """The API binds while the worker imports the project: a taken port must not hide that
    the folder is no project, nor leave a `.pingback/` that makes it one for later commands."""
    import socket

    from cli_support import run_cli

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = str(taken.getsockname()[1])
    empty = tmp_path / "not-a-project"
    empty.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    (project / "jobs.py").write_text(
        'from pingback import Pingback\n\npb = Pingback(api_key="k", cron_secret="s")\n\n\n'
        '@pb.task("t")\ndef t(ctx, payload):\n    return 1\n',
        encoding="utf-8",
    )
    try:
        nowhere = run_cli(empty, "dev", "--no-reload", "--port", port, timeout=60)
        busy = run_cli(project, "dev", "--no-reload", "--port", port, timeout=60)
    finally:
        taken.close()
    assert nowhere.returncode == 3, nowhere.brief()
    assert nowhere.stderr.startswith(
        f"error: no project here: no pyproject.toml, package.json or .pingback/ in {empty}"
    )
    assert not (empty / ".pingback").exists()
    # A project: the port is the error, and its first (failed) start leaves no state either.
    assert busy.returncode == 2, busy.brief()
    assert busy.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port}: "), busy.brief()
    assert not (project / ".pingback").exists()


def test_code_importing_from_a_folder_above_a_root_without_pyproject_says_where_to_run(
    tmp_path: Path,
) -> None:
    """No pyproject.toml anywhere, run from a subfolder whose code imports a sibling package:
    the hint says why (the root is the subfolder) instead of "fix the error in your code"."""
    from cli_support import run_in_process

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "models.py").write_text("X = 1\n", encoding="utf-8")
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "tasks.py").write_text(
        "from app.models import X\nfrom pingback import Pingback\n\n"
        'pb = Pingback(api_key="k", cron_secret="s")\n\n\n@pb.task("t")\ndef t(ctx):\n    return X\n',
        encoding="utf-8",
    )
    result = run_in_process(jobs, "ls")  # the same import, in process (ls is installed above)
    assert result.returncode == 3, result.brief()
    assert result.stderr.startswith(
        "error: importing tasks.py failed: ModuleNotFoundError: No module named 'app'"
    )
    assert (
        f"hint: no pyproject.toml in {jobs} or above, so pingback imported the code from {jobs}"
        in result.stderr
    )
    assert "fix the error in your code" not in result.stderr
    assert not (jobs / ".pingback").exists()


JOBS = (
    "import os\nfrom pingback import Pingback\n\n"
    'pb = Pingback(api_key=os.environ["PINGBACK_API_KEY"], cron_secret=os.environ["PINGBACK_CRON_SECRET"])'
    '\n\n\n@pb.task("{name}")\ndef t(ctx):\n    return 1\n'
)


def test_without_a_project_marker_another_project_below_is_not_imported(tmp_path: Path) -> None:
    """A folder with no marker up (as ~ or a downloads folder): its own files are the project,
    a subfolder that is a project of its own (here a git checkout) is neither imported nor run."""
    from cli_support import run_in_process

    (tmp_path / "mine.py").write_text(JOBS.format(name="mine"), encoding="utf-8")
    theirs = tmp_path / "someone-elses" / "pkg"
    theirs.mkdir(parents=True)
    (tmp_path / "someone-elses" / ".git").mkdir()
    (theirs / "jobs.py").write_text("import pingback\nraise SystemExit('imported a stranger')\n")
    listed = run_in_process(tmp_path, "ls", "--json")
    assert listed.returncode == 0, listed.brief()
    assert [function["name"] for function in listed.json()] == ["mine"]
    assert "skipped someone-elses/ (a project of its own: run pingback there)" in listed.stderr


def test_a_subfolder_of_a_project_with_history_finds_it_without_a_pyproject(tmp_path: Path) -> None:
    """The layout `pingback init` makes has no pyproject.toml: once a command recorded history
    in .pingback/, every subfolder finds the project there."""
    from cli_support import run_cli, run_in_process

    (tmp_path / "jobs.py").write_text(JOBS.format(name="t"), encoding="utf-8")
    assert run_cli(tmp_path, "run", "t").returncode == 0
    sub = tmp_path / "app" / "views"
    sub.mkdir(parents=True)
    runs = run_in_process(sub, "runs", "--json")
    assert runs.returncode == 0, runs.brief()
    assert [row["function"] for row in runs.json()] == ["t"]
    assert [function["name"] for function in run_in_process(sub, "ls", "--json").json()] == ["t"]
