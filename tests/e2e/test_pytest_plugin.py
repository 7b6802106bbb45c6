"""The pytest plugin in a user's project: plain `pytest`, with pingback-cli installed in the
environment as the only setup, runs the shipped example test file (examples/shop/tests/
test_jobs.py, the README's example: tests/test_readme.py holds them equal) against examples/shop."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def plain_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINGBACK_", "PYTEST_", "PYTHONPATH"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_the_shipped_example_passes_with_plain_pytest(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(
        REPO / "examples" / "shop",
        project,
        ignore=shutil.ignore_patterns(".pingback", "__pycache__", ".pytest_cache"),
    )
    assert (project / "tests" / "test_jobs.py").is_file()

    done = plain_pytest(project)

    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"\b6 passed\b", done.stdout), done.stdout[-2000:]
    assert not (project / ".pingback").exists()  # no history unless asked


def test_the_example_in_place_is_its_own_pytest_project() -> None:
    """The README runs the example's tests in place (``cd examples/shop && pytest``): pytest must
    stop at the example's pyproject.toml, not climb to this repository's, whose options name
    plugins (pytest-asyncio, pytest-timeout) a user's environment doesn't have."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-p", "no:cacheprovider"],
        cwd=REPO / "examples" / "shop",
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    header = done.stdout
    assert f"rootdir: {REPO / 'examples' / 'shop'}" in header, header[:1000]
    assert "configfile: pyproject.toml" in header, header[:1000]


def test_a_failing_assert_success_shows_the_tree(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    shutil.copytree(
        REPO / "examples" / "shop",
        project,
        ignore=shutil.ignore_patterns(".pingback", "__pycache__", ".pytest_cache", "tests"),
    )
    (project / "test_fails.py").write_text(
        "def test_it(pingback):\n"
        "    pingback.fail('send-email', times=9, error='relay refused')  # 3 emails x 3 attempts\n"
        "    pingback.run('send-emails').assert_success()\n",
        encoding="utf-8",
    )

    done = plain_pytest(project)

    assert done.returncode == 1, done.stdout[-4000:]
    assert "did not succeed" in done.stdout
    assert "✗ send-email task" in done.stdout
    assert "relay refused" in done.stdout


def test_the_plugin_imports_nothing_heavy_at_start_up() -> None:
    probe = (
        "import sys, pingback_cli.testing.plugin as p; "
        "print(sorted(m for m in sys.modules if m.startswith(('pingback_cli.', 'rich', 'starlette', "
        "'httpx', 'pingback.'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['pingback_cli.testing', 'pingback_cli.testing.plugin']"
