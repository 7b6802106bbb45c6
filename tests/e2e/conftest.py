"""Helpers for end-to-end tests: run the installed ``pingback`` command on a copied project."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_support import FIXTURES, Result


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


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    """A fresh copy of the lab project, with no history."""
    return copy_project("lab", tmp_path)


@pytest.fixture(scope="module")
def shared_lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the lab project per test module; its history accumulates."""
    return copy_project("lab", tmp_path_factory.mktemp("shared"))
