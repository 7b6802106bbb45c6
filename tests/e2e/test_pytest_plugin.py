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

import pytest

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


@pytest.fixture(scope="module")
def shop_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One plain `pytest` run over a copy of the shop: its shipped tests plus a test of ours whose
    ``assert_success`` fails (tests/test_fails.py, collected first). Both tests below read it: a
    second pytest would cost ~1.5 s of CPU for the same start-up."""
    project = tmp_path_factory.mktemp("plugin") / "shop"
    shutil.copytree(
        REPO / "examples" / "shop",
        project,
        ignore=shutil.ignore_patterns(".pingback", "__pycache__", ".pytest_cache"),
    )
    assert (project / "tests" / "test_jobs.py").is_file()
    (project / "tests" / "test_fails.py").write_text(
        "def test_it(pingback):\n"
        "    pingback.fail('send-email', times=9, error='relay refused')  # 3 emails x 3 attempts\n"
        "    pingback.run('send-emails').assert_success()\n",
        encoding="utf-8",
    )
    return project, plain_pytest(project)


def test_the_shipped_example_passes_with_plain_pytest(
    shop_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    project, done = shop_run
    output = done.stdout[-4000:] + done.stderr[-2000:]
    assert re.search(r"^1 failed, 6 passed\b", done.stdout, re.MULTILINE), output
    failed = [line.split(" - ")[0] for line in done.stdout.splitlines() if line.startswith("FAILED ")]
    assert failed == ["FAILED tests/test_fails.py::test_it"], output  # ours: every shipped test passed
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


def test_a_failing_assert_success_shows_the_tree(
    shop_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    _, done = shop_run

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
