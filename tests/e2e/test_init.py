"""`pingback init`: a project that `ls`, `run` and `check` accept, and never an overwritten file."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import run_cli, run_in_process, walk

from .conftest import assert_clean_exit

HISTORY = "# Pingback's local history and caches\n.pingback/\n"
SECRETS = "# Secrets (PINGBACK_API_KEY, PINGBACK_CRON_SECRET): keep them out of git\n.env\n"


def test_init_creates_a_project_that_ls_and_run_accept(tmp_path: Path) -> None:
    created = run_cli(tmp_path, "init")
    assert_clean_exit(created, 0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env.example", ".gitignore", "pingback_jobs.py"]
    for name in ("pingback_jobs.py", ".env.example", ".gitignore"):
        assert f"created  {name}" in created.stdout
    assert "pingback run send-reminders" in created.stdout

    jobs = (tmp_path / "pingback_jobs.py").read_text(encoding="utf-8")
    assert 'os.environ["PINGBACK_API_KEY"]' in jobs and 'os.environ["PINGBACK_CRON_SECRET"]' in jobs
    env_example = (tmp_path / ".env.example").read_text(encoding="utf-8")
    assert "PINGBACK_API_KEY=" in env_example and "PINGBACK_CRON_SECRET=" in env_example
    ignored = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".pingback/" in ignored and ".env" in ignored  # .env.example says "keep .env out of git"

    listed = run_in_process(tmp_path, "ls", "--json")  # ls and check in process, run installed
    assert_clean_exit(listed, 0)
    assert {(f["name"], f["type"]) for f in listed.json()} == {
        ("send-reminders", "cron"),
        ("send-reminder", "task"),
    }

    ran = run_cli(tmp_path, "run", "send-reminders", "--json")
    assert_clean_exit(ran, 0)
    tree = ran.json()
    assert tree["function"] == "send-reminders"
    children = tree["children"]
    assert [c["function"] for c in children] == ["send-reminder", "send-reminder"]
    assert all(node["status"] == "success" for node in walk(tree))

    checked = run_in_process(tmp_path, "check", "--json")
    assert_clean_exit(checked, 0)
    assert checked.json()["findings"] == []


def test_init_with_a_module_name(tmp_path: Path) -> None:
    result = run_in_process(tmp_path, "init", "jobs", "--json")  # installed init: the test above
    assert_clean_exit(result, 0)
    data = result.json()
    assert data["module"] == "jobs"
    assert [(Path(f["path"]).name, f["action"]) for f in data["files"]] == [
        ("jobs.py", "created"),
        (".env.example", "created"),
        (".gitignore", "created"),
    ]
    assert (tmp_path / "jobs.py").exists() and not (tmp_path / "pingback_jobs.py").exists()
    assert_clean_exit(
        run_cli(tmp_path, "run", "send-reminder", "--payload", '{"user": "u", "email": "e"}'), 0
    )


def test_init_never_overwrites_and_says_what_it_skipped(tmp_path: Path) -> None:
    (tmp_path / "pingback_jobs.py").write_text("# mine\n", encoding="utf-8")
    (tmp_path / ".env.example").write_text("MINE=1\n", encoding="utf-8")
    result = run_in_process(tmp_path, "init")
    assert_clean_exit(result, 0)
    assert "skipped  pingback_jobs.py  already exists" in result.stdout
    assert "skipped  .env.example      already exists" in result.stdout
    assert "created  .gitignore" in result.stdout
    assert (tmp_path / "pingback_jobs.py").read_text(encoding="utf-8") == "# mine\n"
    assert (tmp_path / ".env.example").read_text(encoding="utf-8") == "MINE=1\n"


def test_init_twice_changes_nothing(tmp_path: Path) -> None:
    assert_clean_exit(run_in_process(tmp_path, "init"), 0)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    again = run_in_process(tmp_path, "init", "--json")
    assert_clean_exit(again, 0)
    assert {f["action"] for f in again.json()["files"]} == {"skipped"}
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    ("existing", "expected"),
    [
        ("node_modules/\n", f"node_modules/\n\n{HISTORY}{SECRETS}"),
        ("dist", f"dist\n\n{HISTORY}{SECRETS}"),
        ("", f"{HISTORY}{SECRETS}"),
        (".env\n", f".env\n\n{HISTORY}"),  # only what is missing
        (".pingback/\n", f".pingback/\n\n{SECRETS}"),
    ],
)
def test_init_appends_to_an_existing_gitignore(tmp_path: Path, existing: str, expected: str) -> None:
    (tmp_path / ".gitignore").write_text(existing, encoding="utf-8")
    result = run_in_process(tmp_path, "init")
    assert_clean_exit(result, 0)
    assert "updated  .gitignore" in result.stdout
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == expected


@pytest.mark.parametrize("line", [".pingback/", ".pingback", "/.pingback/", "  .pingback/  "])
def test_init_does_not_duplicate_an_existing_ignore(tmp_path: Path, line: str) -> None:
    content = f"*.pyc\n{line}\n.env\n"
    (tmp_path / ".gitignore").write_text(content, encoding="utf-8")
    result = run_in_process(tmp_path, "init")
    assert "skipped  .gitignore" in result.stdout
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8") == content


@pytest.mark.parametrize(
    ("module", "message"),
    [
        ("pingback", 'would hide the "pingback" module'),
        ("json", 'would hide the "json" module'),
        ("2fast", "is not a Python module name"),
        ("my-jobs", "is not a Python module name"),
        ("class", "is not a Python module name"),
    ],
)
def test_init_refuses_module_names_that_cannot_work(tmp_path: Path, module: str, message: str) -> None:
    result = run_in_process(tmp_path, "init", module)
    assert_clean_exit(result, 2)
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_init_in_a_project_that_uses_pingback_adds_no_example(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "mine"\n', encoding="utf-8")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "jobs.py").write_text(
        'from pingback import Pingback\n\npb = Pingback(api_key="k", cron_secret="s")\n\n\n'
        '@pb.task("mine")\ndef mine(ctx, payload):\n    return 1\n',
        encoding="utf-8",
    )
    result = run_in_process(tmp_path, "init")
    assert_clean_exit(result, 0)
    assert result.stdout.splitlines()[0] == (
        "skipped  pingback_jobs.py  this project already uses pingback (app/jobs.py): "
        "no example added (--force adds it)"
    )
    assert "pingback run send-reminders" not in result.stdout
    assert not (tmp_path / "pingback_jobs.py").exists()
    assert (tmp_path / ".gitignore").exists()  # the rest is still done
    forced = run_in_process(tmp_path, "init", "--force", "--json")
    assert_clean_exit(forced, 0)
    assert forced.json()["files"][0]["action"] == "created" and forced.json()["existingProject"] is False
    assert (tmp_path / "pingback_jobs.py").exists()
