"""The loader in-process: it imports the user's project (here, in this test process) and
collects every function of every Pingback instance, or says in one ProjectError what is wrong."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from pingback_cli.errors import ProjectError
from pingback_cli.project.config import ProjectConfig
from pingback_cli.project.loader import load_project

HEAD = 'from pingback import Pingback\n\npb = Pingback(api_key="k", cron_secret="s")\n'


def project(tmp_path: Path, source: str) -> ProjectConfig:
    """A project of one module with a name no other test uses (imports are per process)."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "loaded"\n')
    module = f"jobs_{uuid.uuid4().hex[:12]}"
    (tmp_path / f"{module}.py").write_text(source)
    return ProjectConfig(root=tmp_path, app=module)


def test_every_function_of_the_instance_is_collected(tmp_path: Path) -> None:
    config = project(
        tmp_path,
        HEAD
        + '\n@pb.cron("nightly", "0 3 * * *", retries=2)\ndef nightly(ctx):\n    return None\n'
        + '\n@pb.task("email", timeout="15s")\ndef email(ctx, payload):\n    return None\n',
    )
    found = {function.name: function.to_json() for function in load_project(config)}
    assert sorted(found) == ["email", "nightly"]
    assert found["nightly"]["schedule"] == "0 3 * * *" and found["nightly"]["retries"] == 2
    assert found["email"]["timeout"] == "15s"


def test_an_import_error_is_one_project_error_with_the_users_traceback(tmp_path: Path) -> None:
    config = project(tmp_path, HEAD + "\nraise RuntimeError('the database is not configured')\n")
    with pytest.raises(ProjectError) as raised:
        load_project(config)
    assert "the database is not configured" in raised.value.message + (raised.value.details or "")


def test_a_project_without_an_instance_says_how_to_make_one(tmp_path: Path) -> None:
    config = project(tmp_path, "VALUE = 1\n")
    with pytest.raises(ProjectError, match="no Pingback instance") as raised:
        load_project(config)
    assert raised.value.hint and "Pingback(" in raised.value.hint


def test_a_root_where_nothing_uses_pingback_says_which_folder_and_why(tmp_path: Path) -> None:
    from pingback_cli.project.config import configure, nothing_uses_pingback, root_marker

    bare = tmp_path / "bare"
    bare.mkdir()
    assert root_marker(bare) is None
    error = nothing_uses_pingback(configure(cwd=bare), js=True)
    assert error.message == (
        "no project here: no pyproject.toml, package.json or .pingback/ "
        f"in {bare} or any folder above it, and no "
        f"Python file in {bare} uses pingback (imports it, or declares @pb.cron/@pb.task), and no JS/TS "
        "file imports @usepingback/next"
    )
    assert "js-paths" in (error.hint or "")
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text("", encoding="utf-8")
    assert configure(cwd=project / "sub").root == project and root_marker(project) == "pyproject.toml"
    assert nothing_uses_pingback(configure(cwd=project)).message.endswith(
        "it is the project root, as the nearest folder holding a pyproject.toml"
    )
    no_project = r"no project here: no pyproject\.toml, package\.json or \.pingback/ in"
    with pytest.raises(ProjectError, match=no_project):
        load_project(configure(cwd=bare))


def test_a_pingback_folder_marks_the_root_for_subfolders_but_not_in_a_shared_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pingback_cli.project.config import configure, root_marker

    project = tmp_path / "home" / "project"
    (project / "sub" / "deeper").mkdir(parents=True)
    (project / ".pingback").mkdir()
    assert configure(cwd=project / "sub").root == project / "sub"  # a lock alone marks nothing
    (project / ".pingback" / "history.sqlite3").write_bytes(b"")
    assert configure(cwd=project / "sub" / "deeper").root == project
    assert root_marker(project) == ".pingback"
    home = tmp_path / "home"
    (home / ".pingback").mkdir()  # a stray one in ~ marks nothing
    (home / ".pingback" / "history.sqlite3").write_bytes(b"")
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: home))
    assert root_marker(home) is None
    (project / ".pingback" / "history.sqlite3").unlink()
    assert configure(cwd=project / "sub").root == project / "sub"


def test_a_second_project_with_a_same_named_module_is_imported_from_its_own_file(tmp_path: Path) -> None:
    """One process, two projects each with a ``jobs.py`` (the pytest plugin, in-process tests):
    the second gets its own functions, not the first's cached module."""
    import sys

    from pingback_cli.project.config import open_project
    from pingback_cli.project.loader import load_project

    names = []
    for index, function in enumerate(("first-job", "second-job")):
        root = tmp_path / f"p{index}"
        root.mkdir()
        (root / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0"\n', encoding="utf-8")
        (root / "jobs.py").write_text(
            "from pingback import Pingback\npb = Pingback(api_key='', cron_secret='s')\n"
            f"@pb.task({function!r})\ndef handler(ctx, payload):\n    return None\n",
            encoding="utf-8",
        )
        path = list(sys.path)
        try:
            names.append([raw.name for raw in load_project(open_project(cwd=root))])
        finally:
            sys.path[:] = path
    sys.modules.pop("jobs", None)
    assert names == [["first-job"], ["second-job"]]
