"""In-process ``check`` tests: import a fixture project here, then forget it again."""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pingback.client  # noqa: F401  (imported once: the loader hooks this class once)
import pytest
from cli_support import FIXTURES

from pingback_cli.check.report import CheckReport
from pingback_cli.check.rules import check_project
from pingback_cli.project.config import open_project

_ENV_KEYS = ("PINGBACK_PLAN", "PINGBACK_CRON_SECRET", "PINGBACK_API_KEY", "PINGBACK_APP")


@contextlib.contextmanager
def isolated() -> Iterator[None]:
    """Undo what importing a project does to ``sys.modules``, ``sys.path`` and the environment."""
    modules, path, environ = set(sys.modules), list(sys.path), dict(os.environ)
    for key in _ENV_KEYS:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for name in set(sys.modules) - modules:
            del sys.modules[name]
        sys.path[:] = path
        os.environ.clear()
        os.environ.update(environ)


RunCheck = Callable[..., CheckReport]


@pytest.fixture
def run_check(tmp_path: Path) -> RunCheck:
    """``run_check("check/NAME", plan=None)``: the report for a fresh copy of a fixture."""
    counter = itertools.count()

    def run(name: str, *, plan: str | None = None, now: float = 1_780_000_000.0) -> CheckReport:
        target = tmp_path / f"{next(counter)}" / name.replace("/", "_")
        shutil.copytree(FIXTURES / name, target)
        with isolated():
            return check_project(open_project(cwd=target), now=now, plan=plan)

    return run
