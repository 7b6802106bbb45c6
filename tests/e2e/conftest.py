"""Helpers for end-to-end tests: run the installed ``pingback`` command on a copied project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
COMMAND_TIMEOUT = 60


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
            pytest.fail(f"pingback {' '.join(self.args)} did not print JSON:\n{self}")

    def __str__(self) -> str:
        return (
            f"$ pingback {' '.join(self.args)}  -> exit {self.returncode} in {self.seconds:.1f}s\n"
            f"--- stdout ---\n{self.stdout}--- stderr ---\n{self.stderr}"
        )


def run_cli(
    project: Path,
    *args: str,
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = COMMAND_TIMEOUT,
) -> Result:
    """Run ``pingback ARGS`` in ``project`` and capture everything it printed."""
    started = time.monotonic()
    completed = subprocess.run(
        [pingback_command(), *args],
        cwd=project,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env=cli_env(env),
        input=input,
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    return Result(
        args=args,
        returncode=completed.returncode,
        stdout=completed.stdout,
        stderr=completed.stderr,
        seconds=time.monotonic() - started,
    )


def copy_project(name: str, into: Path) -> Path:
    """A fresh copy of ``tests/fixtures/NAME`` so history never lands in the repository."""
    target = into / name
    shutil.copytree(
        FIXTURES / name,
        target,
        ignore=shutil.ignore_patterns(".pingback", "__pycache__", "*.pyc"),
    )
    return target


def source_of(project: Path, relative: str, needle: str) -> str:
    """``relative:LINE`` of the first line of ``relative`` that contains ``needle``."""
    lines = (project / relative).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if needle in line:
            return f"{relative}:{number}"
    raise AssertionError(f"{needle!r} not found in {relative}")


def assert_clean_exit(result: Result, code: int) -> None:
    """The exit code is ``code`` and pingback printed no traceback of its own."""
    assert result.returncode == code, str(result)
    assert "Traceback" not in result.stderr, str(result)


def walk(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``--json`` execution tree, depth first."""
    found = [tree]
    for child in tree.get("children", []):
        found.extend(walk(child))
    return found


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A fresh copy of the lab project, with no history."""
    return copy_project("lab", tmp_path)


@pytest.fixture(scope="module")
def shared_lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the lab project per test module; its history accumulates."""
    return copy_project("lab", tmp_path_factory.mktemp("shared"))
