"""`pingback run` starts its worker before importing the CLI (``emulator.head_start``): the
project is imported once, by that worker, and no worker outlives a run that ends early."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from cli_support import run_cli

from .conftest import assert_clean_exit

JOBS = """
import os
from pathlib import Path

from pingback import Pingback

with Path(__file__).with_name("imports.log").open("a") as log:
    log.write(f"{os.getpid()} {os.environ.get('PINGBACK_WORKER_API', '-')}\\n")

SECRET = os.environ.get("PINGBACK_CRON_SECRET") or "pb_local_dev_cron_secret"
pb = Pingback(api_key="pb_dev_local", cron_secret=SECRET)


@pb.task("noop")
def noop(ctx):
    return {"pid": os.getpid()}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "one"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "one"\n\n[tool.pingback]\napp = "jobs"\n')
    (root / "jobs.py").write_text(textwrap.dedent(JOBS))
    (root / "other.py").write_text(textwrap.dedent(JOBS))
    return root


def imports(root: Path) -> list[str]:
    log = root / "imports.log"
    return log.read_text().splitlines() if log.exists() else []


def processes_in(root: Path) -> list[int]:
    """Processes whose working directory is ``root`` (the worker runs there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == root:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.parametrize("extra", [[], ["--app", "jobs"], ["-a", "other"], ["--app=other"]])
def test_the_project_is_imported_once_by_the_worker_that_runs(project: Path, extra: list[str]) -> None:
    result = run_cli(project, "run", "noop", "--json", *extra)
    assert_clean_exit(result, 0)
    (line,) = imports(project)
    pid, api = line.split()
    assert int(pid) == result.json()["result"]["pid"]
    assert api.startswith("http://127.0.0.1:") and api.endswith("/__worker")
    assert processes_in(project) == []


def test_options_before_run_get_no_head_start_and_the_same_result(project: Path) -> None:
    result = run_cli(project, "--utc", "run", "noop", "--json")
    assert_clean_exit(result, 0)
    assert len(imports(project)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "noop", "--payload", "{bad"], "payload from --payload is not valid JSON"),
        (["run", "nope"], 'no cron or task named "nope"'),
        (["run", "noop", "--plan", "gold"], "gold"),
        (["run", "noop", "--no-such-option"], "No such option"),
    ],
)
def test_a_run_that_ends_early_leaves_no_worker(project: Path, args: list[str], message: str) -> None:
    result = run_cli(project, *args)
    assert result.returncode == 2, str(result)
    assert message in result.stderr
    assert processes_in(project) == []
    assert len(imports(project)) <= 1
