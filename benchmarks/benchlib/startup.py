"""Start-up of every command, and the fan-out at the SDK's defaults (issue 17).

Each start-up figure is paired with its floor in the same loop, interleaved sample by
sample, so the machine's load at that moment weighs on both: ``pingback --help`` against
``python -c pass``; ``pingback ls`` and ``pingback run noop --json`` in a one-function
project against ``python -c "import jobs"`` (the project's module, which imports the SDK)
in the same venv.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchlib.common import (
    PINGBACK,
    PYTHON,
    MeasureError,
    MeasureResult,
    Row,
    Target,
    bench_env,
    run_timed,
    temp_project,
)
from benchlib.measures import Settings, Shared, _floor_once, _n, _verify_history

ONE_FUNCTION = """import os

from pingback import Pingback

pb = Pingback(api_key=os.environ["PINGBACK_API_KEY"], cron_secret=os.environ["PINGBACK_CRON_SECRET"])


@pb.task("noop")
def noop(ctx):
    return None
"""


@contextmanager
def one_function_project() -> Iterator[Path]:
    """A fresh project whose module ``jobs`` declares one task, ``noop``."""
    root = Path(tempfile.mkdtemp(prefix="pingback-bench-one-"))
    (root / "pyproject.toml").write_text(
        '[project]\nname = "one"\nversion = "0"\n\n[tool.pingback]\napp = "jobs"\n'
    )
    (root / "jobs.py").write_text(ONE_FUNCTION)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


COMMANDS: dict[str, list[str]] = {
    "pass": [PYTHON, "-c", "pass"],
    "import": [PYTHON, "-c", "import jobs"],
    "help": [PINGBACK, "--help"],
    "ls": [PINGBACK, "ls"],
    "run": [PINGBACK, "run", "noop", "--json"],
}


def compile_installed_package() -> Path:
    """Write the bytecode of the installed ``pingback_cli``, as ``pip install .`` does at
    install time (the README's install) and as Python does on a first run. An editable
    install under ``PYTHONDONTWRITEBYTECODE=1`` (set on this machine kind) would otherwise
    compile each of our modules from source on every start, while the floor's modules (the
    standard library, the SDK in site-packages) load from bytecode. Returns the package folder."""
    where = subprocess.run(
        [PYTHON, "-c", "import os, pingback_cli; print(os.path.dirname(pingback_cli.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run([PYTHON, "-m", "compileall", "-q", where], capture_output=True, check=True)
    return Path(where)


def _samples(settings: Settings, project: Path) -> dict[str, list[float]]:
    """Milliseconds of each command, interleaved: one of each per round, the order rotated."""
    env = bench_env()
    found: dict[str, list[float]] = {name: [] for name in COMMANDS}
    names = list(COMMANDS)
    for round_ in range(settings.cli_warmups + settings.cli_samples):
        order = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in order:
            seconds, code = run_timed(COMMANDS[name], cwd=project, env=env)
            if code != 0:
                raise MeasureError(f"{' '.join(COMMANDS[name][1:])} exited {code}")
            if round_ >= settings.cli_warmups:
                found[name].append(seconds * 1000)
    return found


def startup(settings: Settings, shared: Shared) -> MeasureResult:
    result = MeasureResult("startup", "Start-up of `--help`, `ls` and `run`, each against its floor")
    package = compile_installed_package()
    with one_function_project() as project:
        ms = _samples(settings, project)
    module_floor = '`python -c "import jobs"` (the project\'s module)'
    for metric, name, floor, label, limit in (
        ("wall time of `pingback --help`", "help", "pass", "`python -c pass`", 2.0),
        ("wall time of `pingback ls` (one function)", "ls", "import", module_floor, 1.5),
        ("wall time of `pingback run noop --json` (whole command)", "run", "import", module_floor, 2.0),
    ):
        result.rows.append(
            Row(
                metric,
                "ms",
                ms[name],
                floor=ms[floor],
                floor_label=label,
                ratio_style="times",
                targets=[Target("<=", limit, on="ratio")],
                target_text=f"<= {limit:.1f}× floor",
            )
        )
    result.notes.append(
        f"All five commands interleaved, {settings.cli_samples} rounds after {settings.cli_warmups} "
        "warm-up rounds, the order rotated each round; the project has one task."
    )
    result.notes.append(
        f"Our bytecode was written first (`python -m compileall {package.name}`), as `pip install .` "
        "does and as Python does on a first run: with an editable install and "
        "PYTHONDONTWRITEBYTECODE=1 (this machine's default) every one of our modules would be "
        "compiled from source on every start, the floor's never."
    )
    return result


def run_fanout_default(settings: Settings, shared: Shared) -> MeasureResult:
    """``pingback run fanout-default --json``: children of a task declared with no ``concurrency=``."""
    result = MeasureResult("run-fanout-default", "`pingback run` fan-out, the task at the SDK's defaults")
    ours: list[float] = []
    floor: list[float] = []
    n = settings.fanout
    for rep in range(settings.repeat):
        with temp_project() as project:
            out = project.parent / "run.json"
            seconds, code = run_timed(
                [PINGBACK, "run", "fanout-default", "--json"], cwd=project, env=bench_env(n), stdout=out
            )
            if code != 0:
                raise MeasureError(f"pingback run fanout-default exited {code}")
            _verify_history(project, n + 1)
            ours.append(n / seconds)
            floor.append(_floor_once(project, settings))
        settings.log(f"  rep {rep + 1}: pingback {ours[-1]:,.0f}/s, floor {floor[-1]:,.0f}/s")
    result.rows.append(
        Row(
            f"children/s, `pingback run fanout-default --json` (no `concurrency=`), N = {_n(n)}",
            "/s",
            ours,
            floor=floor,
            floor_label="pb.handle() + one SQLite row per execution, one process",
            targets=[Target(">=", 0.60, on="ratio")],
            target_text=">= 60% of floor",
        )
    )
    result.notes.append("History was checked to hold N + 1 executions, all `success`, after each run.")
    return result


STARTUP_MEASURES = {
    "startup": ("start-up of `--help`, `ls`, `run`", startup),
    "run-fanout-default": ("`pingback run` fan-out at the SDK's defaults", run_fanout_default),
}
"""Registered in ``benchmarks/run.py`` beside ``measures.MEASURES`` (which this module imports)."""
