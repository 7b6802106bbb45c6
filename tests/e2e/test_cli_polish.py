"""Rough edges of the command line from a new user's trial, through the installed command:
Typer's completion options hidden, usage lines in capitals, --utc after the command, TAB
completion of --status."""

from __future__ import annotations

from pathlib import Path

from cli_support import JOBS_HEADER, record_tree, run_cli, run_in_process

from .conftest import assert_clean_exit
from .test_completion import bash_complete


def test_help_hides_typers_completion_options_but_keeps_the_command(tmp_path: Path) -> None:
    shown = run_cli(tmp_path, "--help")
    assert_clean_exit(shown, 0)
    assert "--install-completion" not in shown.stdout and "--show-completion" not in shown.stdout
    assert "completion" in shown.stdout


def test_usage_lines_name_arguments_in_capitals(lab: Path) -> None:
    for command, argument in (("run", "NAME"), ("show", "EXECUTION_ID"), ("trigger", "NAME")):
        helped = run_in_process(lab, command, "--help")
        assert helped.stdout.splitlines()[0] == f"Usage: pingback {command} [OPTIONS] {argument}", (
            helped.brief()
        )
    missing = run_in_process(lab, "run")
    assert missing.returncode == 2 and "Usage: pingback run [OPTIONS] NAME" in missing.stderr, missing.brief()
    assert "{" not in missing.stderr


def test_utc_is_taken_after_the_command_too(lab: Path) -> None:
    record_tree(lab, "ok")  # a run in history, its times shown below
    env = {"TZ": "America/New_York"}
    before = run_cli(lab, "--utc", "runs", env=env)
    after = run_cli(lab, "runs", "--utc", env=env)
    assert_clean_exit(after, 0)
    assert after.stdout == before.stdout and " UTC " in after.stdout
    assert " UTC " not in run_cli(lab, "runs", env=env).stdout


def test_tab_completes_the_values_of_runs_status(lab: Path) -> None:
    assert bash_complete(lab, "pingback", "runs", "--status", "") == [
        "pending",
        "running",
        "success",
        "failed",
        "interrupted",
        "cancelled",
    ]
    assert bash_complete(lab, "pingback", "runs", "--status", "f") == ["failed"]


def test_a_decimal_delay_is_refused_as_not_whole(lab: Path) -> None:
    result = run_in_process(lab, "trigger", "ok", "--delay", "1.5")
    assert_clean_exit(result, 2)
    assert result.stderr.splitlines()[0] == 'error: --delay "1.5" is not a whole number of seconds', (
        result.brief()
    )


def test_register_dry_run_says_where_it_would_post(lab: Path) -> None:
    result = run_in_process(lab, "register", "--dry-run", "--platform-url", "http://127.0.0.1:9/base/")
    assert_clean_exit(result, 0)
    assert "functions" in result.json()  # stdout stays the body alone
    assert "would POST this to http://127.0.0.1:9/base/api/v1/register" in result.stderr, result.brief()


def test_a_schedule_from_another_scheduler_gets_a_cron_hint(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "b"\nversion = "0"\n\n[tool.pingback]\n')
    (tmp_path / "jobs.py").write_text(
        JOBS_HEADER + '@pb.cron("tick", "@every 5m")\ndef tick(ctx):\n    pass\n'
    )
    listed = run_in_process(tmp_path, "ls")
    assert_clean_exit(listed, 3)
    assert '"@every" is not supported by the platform\'s parser' in listed.stderr, listed.brief()
    assert 'hint: write "*/5 * * * *", then run again' in listed.stderr, listed.brief()
    checked = run_in_process(tmp_path, "check")
    assert 'fix: write "*/5 * * * *"' in checked.stdout, checked.brief()


def in_a_terminal(project: Path, *args: str, env: dict[str, str]) -> str:
    """What ``pingback ARGS`` writes to an 80-column terminal (a pseudo-terminal)."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import termios

    from cli_support import cli_env, pingback_command

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 80, 0, 0))
    process = subprocess.Popen(
        [pingback_command(), *args],
        cwd=project,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env={k: v for k, v in cli_env(env).items() if k != "NO_COLOR"} | env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's last writer is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert process.wait(timeout=60) == 0
    return b"".join(chunks).decode("utf-8", "replace")


def test_no_color_means_no_escape_codes_at_all_in_a_terminal(lab: Path) -> None:
    styled = in_a_terminal(lab, "ls", env={"TERM": "xterm-256color"})
    assert "\x1b[" in styled  # the control: a terminal gets styles
    plain = in_a_terminal(lab, "ls", env={"TERM": "xterm-256color", "NO_COLOR": "1"})
    assert "\x1b" not in plain, plain[:400]
    assert "Schedule */5 * * * * UTC" in plain  # the stacked cards of 80 columns
