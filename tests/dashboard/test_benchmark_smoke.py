"""`benchmarks/dashboard.py --quick` still runs end to end (it asserts no timing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.long(5)
@pytest.mark.timeout(320)  # the run's own limit is 300 s (the suite's default is 120 s)
def test_the_dashboard_benchmark_runs(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `apt-get install chromium-headless-shell` (scripts/test does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "dashboard.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PINGBACK_CHROMIUM": str(CHROMIUM)},  # the browser tests' (lighter) one
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| runs `/` |" in done.stdout
    assert "open the execution with 1,000 children" in done.stdout  # --quick's size
    assert "trigger → the event stream's message" in done.stdout
