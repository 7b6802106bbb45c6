"""The cron oracle (the platform's ``cron-parser`` 4.9.0 under Node), installed on first use."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ORACLE = Path(__file__).parent / "cron_oracle"


@pytest.fixture(scope="session")
def cron_oracle() -> Iterator[list[str]]:
    """The command that runs the oracle; installs ``cron-parser`` 4.9.0 with npm when missing.

    Without Node or npm the test fails under ``CI=true`` and is skipped elsewhere.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = "node" if node is None else "npm"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the cron parity test needs {missing} on PATH (CI=true)")
        pytest.skip(f"the cron parity test needs {missing} on PATH")
    if not (ORACLE / "node_modules" / "cron-parser" / "package.json").is_file():
        command = "ci" if (ORACLE / "package-lock.json").is_file() else "install"
        done = subprocess.run(
            [npm, command, "--no-audit", "--no-fund"], cwd=ORACLE, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            pytest.fail(f"npm {command} in {ORACLE} failed: {done.stderr.strip()[-500:]}")
    yield [node, str(ORACLE / "oracle.js")]
