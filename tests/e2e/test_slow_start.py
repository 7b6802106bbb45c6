"""A start that talks, through the installed command in a pseudo-terminal: a project whose
import takes over a second gets a spinner with the elapsed time after a second, cleared when
the import is over, for run, dev, ls, check and replay; never with --json, never when not a
terminal."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import textwrap
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cli_support import cli_env, pingback_command, record_tree, run_cli
from reliability.helpers import kill_workers

from pingback_cli.spinner import SHOW_AFTER_SECONDS

SPINNER = "importing the project… "
CLEAR_LINE = "\x1b[2K"
COUNTED = re.compile(re.escape(SPINNER) + r"[1-9]\d*s")
"""The spinner counting a whole second or more."""
IMPORT_SECONDS = SHOW_AFTER_SECONDS + 0.5
"""How long the project's import lasts without a gate: past the moment a spinner would show."""


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[Path]:
    """The project, one per test (two files): the tests spread over xdist's workers instead of
    queueing on the one that would hold a module-scoped copy."""
    root = tmp_path / "slow"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "slow"\nversion = "0"\n', encoding="utf-8")
    (root / "jobs.py").write_text(
        textwrap.dedent(
            """
            import os
            import time

            from pingback import Pingback

            gate = os.environ.get("SLOW_IMPORT_GATE")
            if gate:  # slow until the test has seen the spinner count a second
                deadline = time.monotonic() + 60
                while not os.path.exists(gate) and time.monotonic() < deadline:
                    time.sleep(0.02)
            else:
                time.sleep(IMPORT_SECONDS)  # a slow import
            pb = Pingback(api_key="k", cron_secret=os.environ["PINGBACK_CRON_SECRET"])


            @pb.task("hello")
            def hello(ctx):
                return "said hello"
            """
        ).replace("IMPORT_SECONDS", str(IMPORT_SECONDS)),
        encoding="utf-8",
    )
    yield root
    kill_workers(root)


def in_pty(
    project: Path,
    *args: str,
    until: Callable[[str], bool] | None = None,
    gate: Path | None = None,
    timeout: float = 60,
    no_color: bool = False,
) -> str:
    """``pingback ARGS`` with stdin, stdout and stderr on a pseudo-terminal; all it wrote.
    With ``until``, SIGINT once the output satisfies it (for `dev`). With ``gate``, the
    project's import lasts until the spinner has counted a second (then the test creates the
    gate file), not a fixed 2.2 s that a slow start of the command itself could use up."""
    master, slave = os.openpty()
    env = cli_env({"COLUMNS": "120", **({"SLOW_IMPORT_GATE": str(gate)} if gate else {})})
    env.pop("NO_COLOR", None)
    if no_color:
        env["NO_COLOR"] = "1"
    process = subprocess.Popen(
        [pingback_command(), *args], cwd=project, stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    output, deadline, signalled = b"", time.monotonic() + timeout, False
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the other side closed
                    break
                if not data:
                    break
                output += data
            elif process.poll() is not None:
                break
            text = output.decode("utf-8", "replace")
            if gate is not None and COUNTED.search(text):
                gate.touch()
            if until is not None and not signalled and until(text):
                process.send_signal(signal.SIGINT)
                signalled = True
        else:
            pytest.fail(f"pingback {' '.join(args)} still running after {timeout}s:\n{output!r}")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        os.close(master)
    return output.decode("utf-8", "replace")


def assert_spinner_then_cleared(output: str, after: str) -> None:
    """The spinner showed, counted whole seconds, and was cleared before ``after`` printed.
    How many seconds is the machine's: `run`'s count starts when its worker began importing,
    before the CLI had loaded (7 s before it, once, at load 17), so its first count may be past 1."""
    assert COUNTED.search(output), output[:2000]
    last = output.rindex(SPINNER)
    assert output.index(after, last) > output.index(CLEAR_LINE, last), output[last : last + 400]
    assert SPINNER not in output[output.index(after, last) :]


@pytest.mark.parametrize(
    "command",
    ["ls", "check", "run", "replay", "dev"],
)
def test_a_slow_import_gets_a_spinner_with_the_elapsed_time_then_it_is_cleared(
    slow: Path, command: str, tmp_path: Path
) -> None:
    gate = tmp_path / "imported"
    if command == "ls":
        assert_spinner_then_cleared(in_pty(slow, "ls", gate=gate), "hello")
    elif command == "check":
        assert_spinner_then_cleared(in_pty(slow, "check", gate=gate), "no problems found")
    elif command == "run":
        assert_spinner_then_cleared(in_pty(slow, "run", "hello", gate=gate), "said hello")
    elif command == "replay":
        first = record_tree(slow, "hello")  # what is replayed: a run of hello in history
        output = in_pty(slow, "replay", first[:8], gate=gate)
        assert_spinner_then_cleared(output, "said hello")
    else:
        output = in_pty(
            slow,
            "dev",
            "--no-reload",
            "--port",
            "0",
            until=lambda text: "Ctrl-C to stop" in text,
            gate=gate,
        )
        assert_spinner_then_cleared(output, "pingback dev")


def test_with_no_color_the_spinner_writes_no_escape_code(slow: Path, tmp_path: Path) -> None:
    """NO_COLOR means no escape code at all (README): the spinner's line is redrawn after a
    carriage return and blanked the same way (Rich's live display hid the cursor and erased
    the line with escape codes, so test_cli_polish's NO_COLOR check failed whenever its
    project took over a second to import)."""
    output = in_pty(slow, "ls", gate=tmp_path / "imported", no_color=True)
    assert COUNTED.search(output), output[:2000]
    assert "\x1b" not in output, repr(output[:2000])
    assert "hello" in output


@pytest.mark.parametrize("command", [("ls", "--json"), ("run", "hello", "--json"), ("check", "--json")])
def test_no_spinner_with_json_or_when_not_a_terminal(slow: Path, command: tuple[str, ...]) -> None:
    with ThreadPoolExecutor(1) as pool:  # meanwhile, the same without --json, on pipes
        running = pool.submit(run_cli, slow, *command[:-1])
        assert SPINNER not in in_pty(slow, *command)
        piped = running.result()
    assert piped.returncode == 0, piped.brief()
    assert SPINNER not in piped.stdout + piped.stderr
