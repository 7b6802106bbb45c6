"""How long `pingback simulate --run` takes over one day of a quarter-hourly cron with a 3-child
fan-out (96 trees, 384 executions, all recorded in history), against `pingback ls` in the same
project (the floor: interpreter start, our CLI, importing the project).

    .venv/bin/python benchmarks/simulate.py             # 7 runs of each, interleaved
    .venv/bin/python benchmarks/simulate.py --runs 15 --json

Target (issue 16): under 2 s. Every run is verified: history must hold 384 executions, all
`success`. Runs are interleaved round-robin so load on the shared machine hits both alike;
compare the ratio, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PROJECT = REPO / "tests" / "fixtures" / "simday"
TARGET_SECONDS = 2.0
EXPECTED = 384
WINDOW = ["--from", "2026-12-01T00:00Z", "--to", "2026-12-02T00:00Z"]


def pingback() -> str:
    found = shutil.which("pingback", path=os.path.dirname(sys.executable))
    if found is None:
        sys.exit(f"pingback is not installed next to {sys.executable}; pip install -e . first")
    return found


def timed(args: list[str], cwd: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGBACK_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["NO_COLOR"] = "1"
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds


def recorded(project: Path) -> tuple[int, int]:
    with sqlite3.connect(project / ".pingback" / "history.sqlite3") as conn:
        total = conn.execute("SELECT COUNT(*) FROM executions").fetchone()[0]
        ok = conn.execute("SELECT COUNT(*) FROM executions WHERE status = 'success'").fetchone()[0]
    return total, ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    options = parser.parse_args()
    command = pingback()
    simulate, floor = [], []
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(options.runs):
            project = Path(scratch) / f"run{run}"
            shutil.copytree(PROJECT, project)
            floor.append(timed([command, "ls"], project))
            simulate.append(timed([command, "simulate", *WINDOW, "--run", "--json"], project))
            total, ok = recorded(project)
            if (total, ok) != (EXPECTED, EXPECTED):
                sys.exit(f"history holds {total} executions ({ok} success), expected {EXPECTED}")
    figures = {
        "simulateMedianSeconds": round(statistics.median(simulate), 3),
        "simulateMinSeconds": round(min(simulate), 3),
        "floorMedianSeconds": round(statistics.median(floor), 3),
        "ratioToFloor": round(statistics.median(simulate) / statistics.median(floor), 2),
        "executions": EXPECTED,
        "targetSeconds": TARGET_SECONDS,
        "met": statistics.median(simulate) < TARGET_SECONDS,
        "runs": options.runs,
    }
    if options.json:
        print(json.dumps(figures))
    else:
        print(
            f"simulate --run, 1 day of */15 with 3 children ({EXPECTED} executions): median "
            f"{figures['simulateMedianSeconds']}s (min {figures['simulateMinSeconds']}s), "
            f"{figures['ratioToFloor']}x `pingback ls` ({figures['floorMedianSeconds']}s); "
            f"target < {TARGET_SECONDS}s: {'met' if figures['met'] else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
