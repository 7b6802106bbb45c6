"""What every end-to-end suite needs: run the installed ``pingback`` command, read its output,
wait for things, find worker processes and free ports."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
WORKER_MODULE = "pingback_cli.worker"
COMMAND_TIMEOUT = 90.0
SETTLE = 60.0
"""The deadline for an event a test waits for (a process gone, a row written, a line printed):
generous, because a loaded 2-core machine can stall any process for seconds, and free, because
the wait ends as soon as the event happens."""


HEADLESS_SHELL = Path("/usr/bin/chromium-headless-shell")
CHROMIUM = Path(
    os.environ.get("PINGBACK_CHROMIUM")
    or (HEADLESS_SHELL if HEADLESS_SHELL.exists() else "/usr/bin/chromium")
)
"""The Chromium that browser tests and the benchmark smokes drive: ``$PINGBACK_CHROMIUM``, else
Debian's ``chromium-headless-shell`` (``scripts/test`` installs it), else ``/usr/bin/chromium``.
The shell is Chromium's own headless build, the one Playwright runs headless by default: the same
Blink and V8 without the desktop browser around them (``--headless`` in ``/usr/bin/chromium`` is
the whole browser without a window). tests/browser cost 14 s of Chromium CPU with it against 49 s
with ``/usr/bin/chromium``, in the same sitting."""


JOBS_HEADER = (
    "import os\n\nfrom pingback import Pingback\n\n"
    'pb = Pingback(api_key=os.environ["PINGBACK_API_KEY"],\n'
    '              cron_secret=os.environ["PINGBACK_CRON_SECRET"])\n\n\n'
)
"""The start of a one-file project's ``jobs.py``: the SDK instance, keys from the environment
(``cli_env`` sets them); append the functions."""


def pingback_command() -> str:
    """The ``pingback`` script installed next to the interpreter running the tests."""
    found = shutil.which("pingback", path=os.path.dirname(sys.executable))
    if found is None:
        pytest.fail(f"the pingback command is not installed next to {sys.executable}")
    return found


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without anything that changes pingback's output."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PINGBACK_") and key not in ("FORCE_COLOR", "COLUMNS")
    }
    env.update({"NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra or {})
    return env


@dataclass
class Result:
    """What one ``pingback`` invocation did."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def json(self) -> Any:
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"pingback {' '.join(self.args)} did not print JSON:\n{self.brief()}")

    def brief(self, limit: int = 3000) -> str:
        """The invocation and the ends of its output (some cases print megabytes)."""

        def cut(text: str) -> str:
            return text if len(text) <= limit else f"{text[: limit // 2]}\n[...]\n{text[-limit // 2 :]}"

        return (
            f"$ pingback {' '.join(self.args)}  -> exit {self.returncode} in {self.seconds:.1f}s\n"
            f"--- stdout ---\n{cut(self.stdout)}\n--- stderr ---\n{cut(self.stderr)}"
        )

    def __str__(self) -> str:
        return self.brief()


def run_cli(
    project: Path,
    *args: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = COMMAND_TIMEOUT,
    prefix: tuple[str, ...] = (),
) -> Result:
    """``pingback ARGS`` in ``project``, everything it printed captured; ``prefix`` wraps it."""
    started = time.monotonic()
    completed = subprocess.run(
        [*prefix, pingback_command(), *args],
        cwd=project,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        env=cli_env(env),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    return Result(args, completed.returncode, completed.stdout, completed.stderr, time.monotonic() - started)


@contextlib.contextmanager
def started_cli(project: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    """``pingback ARGS`` started in ``project`` (stdout and stderr piped, as text) for a test that
    acts while it runs (a signal, a reader of its history); killed if still running at the end."""
    with subprocess.Popen(
        [pingback_command(), *args],
        cwd=project,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=cli_env(),
    ) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()


def run_in_process(
    project: Path,
    *args: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
    encoding: str = "utf-8",
) -> Result:
    """``pingback ARGS`` in ``project`` through the Click command the entry point runs, in this
    process: the same parsing, typed errors, exit codes and rendering, without starting an
    interpreter. For variants of a case that an installed-command test already covers, and only
    for commands that start no process and no server (they would run inside the test): ones
    that read history or files, or import the project (``ls``, ``check``, ``simulate`` without
    ``--run``). What the project's import added is undone afterwards (its folders on
    ``sys.path``, its modules in ``sys.modules``), so the next call imports it afresh, as a new
    process would. ``encoding`` is the output streams' (what ``PYTHONIOENCODING`` sets for the
    installed command); the entry point's ``protect_std_streams`` runs on them first, as in
    ``pingback_cli.cli.main``. Not thread-safe: it changes the working folder and environment.
    An exception that escapes the command is appended to stderr as a traceback."""
    import contextlib
    import traceback

    from click.testing import CliRunner

    from pingback_cli import terminal
    from pingback_cli.cli.app import COMMANDS, command

    wanted = cli_env(env)
    overrides: dict[str, str | None] = {key: None for key in os.environ if key not in wanted}
    overrides.update(wanted)
    click_command = command(only=args[0] if args and args[0] in COMMANDS else None)
    path_before, modules_before = list(sys.path), set(sys.modules)
    threads_before = set(threading.enumerate())
    ascii_before = terminal._ascii_glyphs
    started = time.monotonic()
    try:
        with contextlib.chdir(project):
            done = CliRunner(charset=encoding).invoke(
                _AsTheEntryPoint(click_command), list(args), input=input, env=overrides, prog_name="pingback"
            )
    finally:
        terminal.use_ascii_glyphs(ascii_before)
        _forget_project_imports(project, path_before, modules_before)
    _refuse_threads_left(args, threads_before)
    stderr = done.stderr
    if done.exception is not None and not isinstance(done.exception, SystemExit):
        stderr += "".join(traceback.format_exception(done.exception))
    return Result(args, done.exit_code, done.stdout, stderr, time.monotonic() - started)


class _AsTheEntryPoint:
    """A Click command started as the entry point starts it: ``protect_std_streams`` first (the
    streams escape what their encoding lacks; ASCII glyphs unless stdout is UTF)."""

    def __init__(self, command: Any) -> None:
        self.command = command

    def main(self, *args: Any, **kwargs: Any) -> Any:
        from pingback_cli import terminal

        terminal.protect_std_streams()
        return self.command.main(*args, **kwargs)


def _refuse_threads_left(args: tuple[str, ...], threads_before: set[threading.Thread]) -> None:
    """AssertionError if the command left a non-daemon thread running (a project whose import
    starts one, as tests/fixtures/misbehave does): the installed `pingback` exits past it, but
    this process cannot stop it, and the xdist worker would then wait for it at exit until
    xdist kills it (10 s at the end of every run). Such a case runs through ``run_cli``."""
    left = [t for t in threading.enumerate() if t not in threads_before and not t.daemon]
    for thread in left:
        thread.join(1)
    alive = sorted(t.name for t in left if t.is_alive())
    if alive:
        raise AssertionError(
            f"pingback {' '.join(args)} left non-daemon threads {alive} in the test process: "
            "run it with run_cli, not run_in_process"
        )


def _forget_project_imports(project: Path, path_before: list[str], modules_before: set[str]) -> None:
    """Undo what importing a project did to this process: the folders it put on ``sys.path``
    and the modules it imported from them (or from ``project``)."""
    roots = [Path(entry).resolve() for entry in sys.path if entry not in path_before]
    roots.append(project.resolve())
    sys.path[:] = path_before
    for name in set(sys.modules) - modules_before:
        file = getattr(sys.modules.get(name), "__file__", None)
        if file and any(Path(file).resolve().is_relative_to(root) for root in roots):
            del sys.modules[name]


def source_of(project: Path, relative: str, needle: str) -> str:
    """``relative:LINE`` of the first line of ``relative`` that contains ``needle``."""
    lines = (project / relative).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if needle in line:
            return f"{relative}:{number}"
    raise AssertionError(f"{needle!r} not found in {relative}")


def walk(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``--json`` execution tree, depth first."""
    found = [tree]
    for child in tree.get("children", []):
        found.extend(walk(child))
    return found


def poll(
    what: str,
    probe: Callable[[], Any],
    timeout: float,
    interval: float = 0.05,
    explain: Callable[[], str] | None = None,
) -> Any:
    """``probe()`` until it is truthy; fails the test after ``timeout`` seconds (with
    ``explain()`` appended, e.g. a server's output)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    extra = f"\n{explain()}" if explain is not None else ""
    pytest.fail(f"timed out after {timeout:g}s waiting for {what}; last saw {last!r}{extra}")


def eventually(probe: Callable[[], Any], timeout: float, interval: float = 0.05) -> bool:
    """Whether ``probe()`` became truthy within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not probe():
        if time.monotonic() >= deadline:
            return bool(probe())
        time.sleep(interval)
    return True


def worker_pids(project: Path) -> list[int]:
    """Live ``pingback_cli.worker`` processes whose working directory is ``project``.

    Polled often (until a worker is gone) on a machine running hundreds of processes: each is
    ruled out by its command line first, the one read most are not workers; only a worker's
    folder and state are read (a third of the CPU of reading all three of every process)."""
    wanted = project.resolve()
    module = WORKER_MODULE.encode()
    found: list[int] = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as cmdline:
                if module not in cmdline.read().split(b"\0"):
                    continue
            cwd = Path(os.readlink(f"/proc/{name}/cwd"))
            with open(f"/proc/{name}/stat") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if cwd == wanted and state != "Z":
            found.append(int(name))
    return found


_TLS: list[Any] = []


def http_client(**options: Any) -> Any:
    """An ``httpx.Client(**options)`` for a server of ours on loopback. Every client shares one
    TLS context, made once: a client made without one loads the CA bundle itself (~33 ms of
    CPU, more than the requests most tests send with it); no server here speaks TLS anyway."""
    import ssl

    import httpx

    if not _TLS:
        _TLS.append(ssl.create_default_context())
    return httpx.Client(verify=_TLS[0], **options)


LOWEST_PICKED_PORT = 10_100
"""Above every port Chromium refuses to load a page from (the highest is 10080)."""
_picked: set[int] = set()


def free_port() -> int:
    """A loopback port nothing listens on, for a server the test starts a moment later.

    Not one the kernel hands out itself (``bind(("127.0.0.1", 0))`` picks a random odd port
    of the ephemeral range): between this call and the server's bind, any other process
    binding port 0 (every ``pingback run`` does, for its worker's API) could be given the same
    one, and the server then fails to start. So the port is drawn below the ephemeral range,
    where no ``bind(0)`` and no outgoing connection lands, from a block of its own per xdist
    worker, and never twice in one process. Without ``/proc`` (not Linux): the kernel's pick.
    """
    try:
        first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first_ephemeral = 0
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1)
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    block = (first_ephemeral - LOWEST_PICKED_PORT) // max(workers, 1)
    if block >= 100:
        import random

        low = LOWEST_PICKED_PORT + (worker % max(workers, 1)) * block
        for port in random.sample(range(low, low + block), 100):
            if port not in _picked and _bindable(port):
                _picked.add(port)
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def record_tree(
    project: Path, function: str, payload: Any = None, *, children: int = 0, child: str = "leaf"
) -> str:
    """A finished, successful root of ``function`` (with ``payload`` when given) and ``children``
    successful children of ``child``, written to ``project``'s history as a run records them (the
    history Store, in this process); the root's id. For a test whose subject is what reads or
    opens history (listings, replay's source, ui, completion), not the run that would have
    written it: a real `pingback run` costs ~0.3 s of CPU, its worker included."""
    from pingback_cli.history.store import Store, history_path
    from pingback_cli.models import Execution, new_id

    now = time.time()
    done = {"status": "success", "attempt": 1, "started_at": now, "completed_at": now, "duration_ms": 0}
    root = Execution(
        new_id(), function, "task", now, payload=payload, has_payload=payload is not None, **done,  # type: ignore[arg-type]
    )  # fmt: skip
    history_path(project).parent.mkdir(parents=True, exist_ok=True)
    with Store(history_path(project)) as store:
        store.save(root)
        for number in range(children):
            data = {"n": number}
            store.save(
                Execution(
                    new_id(), child, "task", now, payload=data, has_payload=True, parent_id=root.id,
                    root_id=root.id, depth=1, result=data, **done,  # type: ignore[arg-type]
                )
            )  # fmt: skip
    return root.id
