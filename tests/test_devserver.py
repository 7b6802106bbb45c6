"""Which saves make ``pingback dev`` reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from watchfiles import Change

from pingback_cli.devserver import watch_filter


def accepts(root: Path, relative: str) -> bool:
    return bool(watch_filter(root)(Change.modified, str(root / relative)))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = tmp_path / "shop"
    project.mkdir()
    return project


@pytest.mark.parametrize(
    "relative", ["app.py", "shop/jobs.py", "deep/er/still.py", ".env", ".env.local", "pyproject.toml"]
)
def test_sources_env_files_and_pyproject_reload(root: Path, relative: str) -> None:
    assert accepts(root, relative)


@pytest.mark.parametrize(
    "relative",
    [
        "README.md",
        "data.json",
        "shop/__pycache__/jobs.cpython-311.pyc",
        "shop/__pycache__/jobs.py",
        ".pingback/history.sqlite3",
        ".pingback/x.py",
        ".venv/lib/site.py",
        "venv/lib/site.py",
        "env/lib/site.py",
        "build/lib/shop/jobs.py",
        "dist/x.py",
        "node_modules/x.py",
        ".git/hooks/pre-commit.py",
        "jobs.py~",
        ".#jobs.py",
    ],
)
def test_history_caches_builds_and_editor_files_do_not(root: Path, relative: str) -> None:
    assert not accepts(root, relative)


def test_a_virtualenv_with_any_name_is_ignored(root: Path) -> None:
    (root / "myenv").mkdir()
    (root / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert not accepts(root, "myenv/lib/python3.12/site-packages/pkg/mod.py")
    assert accepts(root, "myenvironment.py")


@pytest.mark.parametrize("parent", ["build", "dist", "env", "venv", "site-packages", "node_modules"])
def test_a_project_inside_a_folder_with_an_ignored_name_still_reloads(tmp_path: Path, parent: str) -> None:
    root = tmp_path / parent / "shop"
    root.mkdir(parents=True)
    assert accepts(root, "jobs.py")
    assert not accepts(root, "build/jobs.py")


def test_a_project_inside_a_virtualenv_still_reloads(tmp_path: Path) -> None:
    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    root = tmp_path / "src" / "shop"
    root.mkdir(parents=True)
    assert accepts(root, "jobs.py")


def test_paths_outside_the_project_are_ignored(root: Path) -> None:
    assert not watch_filter(root)(Change.modified, str(root.parent / "elsewhere.py"))
