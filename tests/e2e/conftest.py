"""Helpers for end-to-end tests: run the installed ``pingback`` command on a copied project."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from cli_support import FIXTURES, Result, run_in_process
from reliability.helpers import history_rows


def copy_project(name: str, into: Path) -> Path:
    """A fresh copy of ``tests/fixtures/NAME`` so history never lands in the repository."""
    target = into / name
    shutil.copytree(
        FIXTURES / name,
        target,
        ignore=shutil.ignore_patterns(".pingback", "__pycache__", "*.pyc"),
    )
    return target


def assert_clean_exit(result: Result, code: int) -> None:
    """The exit code is ``code`` and pingback printed no traceback of its own."""
    assert result.returncode == code, str(result)
    assert "Traceback" not in result.stderr, str(result)


def recorded_tree(project: Path, function: str) -> dict[str, Any]:
    """The newest root in ``project``'s history, which must be of ``function``, as ``pingback
    show ID --json`` prints it (its Click command in process): the tree ``run --json`` prints
    (test_cli_core's test_show_prefix_returns_the_tree), so one human run answers the JSON
    questions too, without a second run of the same function."""
    roots = [row["id"] for row in history_rows(project) if row["parent_id"] is None]
    assert roots, f"no run in {project}'s history"
    shown = run_in_process(project, "show", roots[-1], "--json")
    assert_clean_exit(shown, 0)
    tree = shown.json()
    assert tree["function"] == function, tree
    return dict(tree)


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A fresh copy of the lab project, with no history."""
    return copy_project("lab", tmp_path)


@pytest.fixture(scope="module")
def shared_lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the lab project per test module; its history accumulates."""
    return copy_project("lab", tmp_path_factory.mktemp("shared"))
