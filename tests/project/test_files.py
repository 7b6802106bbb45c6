"""The one rule for which files belong to the project, shared by discovery and the watcher:
symlinked folders are followed (loops guarded), skipped folders that use pingback are named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pingback_cli.project.files import belongs, leave_out_hint, project_files, scan_files

USES = "from pingback import Pingback\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """app/ (the project) with a link to ../common, a loop, a build/ folder and tests."""
    app, common = tmp_path / "app", tmp_path / "common"
    for folder in (app / "build", app / "tests", app / "pkg", common / "deep"):
        folder.mkdir(parents=True)
    (app / "jobs.py").write_text(USES)
    (app / "pkg" / "more.py").write_text(USES)
    (app / "helpers.py").write_text("x = 1\n")
    (app / "build" / "old.py").write_text(USES)
    (app / "tests" / "test_jobs.py").write_text(USES)
    (common / "shared_jobs.py").write_text(USES)
    (common / "deep" / "nested.py").write_text(USES)
    os.symlink("../common", app / "shared")
    os.symlink("..", common / "up")  # leads back to the folder holding the project
    os.symlink("../pkg", app / "pkg" / "self")  # a loop inside the project
    os.symlink("pkg", app / "pkg2")  # the same folder twice
    return app


def names(root: Path, files: list[Path]) -> list[str]:
    return [path.relative_to(root).as_posix() for path in files]


def test_symlinked_folders_are_followed_once_under_their_name(tree: Path) -> None:
    assert names(tree, project_files(tree)) == [
        "jobs.py",
        "pkg/more.py",
        "shared/shared_jobs.py",
        "shared/deep/nested.py",
    ]


def test_a_skipped_folder_that_uses_pingback_is_named_once(tree: Path) -> None:
    scan = scan_files(tree)
    assert scan.notices == [
        "skipped build/ (folders named build are not scanned), which has files that use pingback: "
        "build/old.py"
    ]


def test_the_watcher_keeps_what_discovery_keeps(tree: Path) -> None:
    for path in project_files(tree):
        assert belongs(tree, path)
    assert belongs(tree, tree / "helpers.py")
    assert belongs(tree, tree / "shared" / "deep" / "nested.py")
    assert not belongs(tree, tree / "build" / "old.py")
    assert not belongs(tree, tree / ".venv" / "lib" / "x.py")
    assert not belongs(tree.parent, tree.parent / "elsewhere" / "node_modules" / "x.py")
    venv = tree / "myenv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("")
    assert not belongs(tree, venv / "lib" / "x.py")


def test_a_project_inside_a_folder_named_build_still_counts(tmp_path: Path) -> None:
    root = tmp_path / "build" / "proj"
    root.mkdir(parents=True)
    (root / "jobs.py").write_text(USES)
    assert names(root, project_files(root)) == ["jobs.py"]
    assert belongs(root, root / "jobs.py")


def test_with_no_project_marker_a_subfolder_that_is_a_project_of_its_own_is_not_searched(
    tmp_path: Path,
) -> None:
    (tmp_path / "mine.py").write_text(USES)
    for marker in ("pyproject.toml", "package.json", "setup.py", ".git", ".pingback"):
        other = tmp_path / f"other-{marker.strip('.')}"
        (other / "pkg").mkdir(parents=True)
        (other / marker).mkdir() if marker.startswith(".") else (other / marker).write_text("")
        (other / "pkg" / "theirs.py").write_text(USES)
    (tmp_path / "plain" / "jobs.py").parent.mkdir()
    (tmp_path / "plain" / "jobs.py").write_text(USES)

    loose = scan_files(tmp_path, loose=True)
    assert names(tmp_path, loose.files) == ["mine.py", "plain/jobs.py"]
    assert "skipped other-git/ (a project of its own: run pingback there)" in loose.notices[0]
    assert len(loose.notices) == 5
    # A real project root (a marker there or above) keeps its nested folders, as before.
    assert len(scan_files(tmp_path).files) == 7


def test_with_no_project_marker_a_shared_folder_is_searched_no_deeper_than_its_own_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: tmp_path))
    (tmp_path / "mine.py").write_text(USES)
    (tmp_path / "someone" / "jobs.py").parent.mkdir()
    (tmp_path / "someone" / "jobs.py").write_text(USES)
    assert names(tmp_path, project_files(tmp_path, loose=True)) == ["mine.py"]
    assert names(tmp_path, project_files(tmp_path / "someone", loose=True)) == ["someone/jobs.py"]


def test_leave_out_hint_names_another_file_as_the_app_or_the_setting_alone() -> None:
    helper, jobs = Path("/p/scripts/other.py"), Path("/p/jobs.py")
    module_of = {helper: "scripts.other", jobs: "jobs"}.get
    hint = leave_out_hint(helper, "scripts/other.py", [helper, jobs], module_of)
    assert hint.startswith("pingback imported scripts/other.py because it uses pingback")
    assert hint.endswith('with --app or [tool.pingback] app = "jobs"')
    alone = leave_out_hint(helper, "scripts/other.py", [helper], module_of)
    assert alone.endswith("with --app or [tool.pingback] app")
