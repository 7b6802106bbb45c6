"""The benchmark command at a tiny size and one repetition, so it cannot rot. No timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_support import CHROMIUM

RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"
MEASURES = [
    "startup",
    "run-fanout-default",
    "run-fanout-wait",
    "run-fanout",
    "dev-fanout",
    "endpoint-fanout",
    "trigger-latency",
    "reload",
    "cron-lateness",
    "history",
    "dev-memory",
    "peer-huey",
    "dashboard-live",
    "dashboard-open",
    "toolkit-advance",
    "simulate-run",
]


@pytest.mark.long(19)
@pytest.mark.timeout(600)  # ~30 s idle; past 240 s inside a whole suite at load 30
def test_quick_benchmark_writes_every_measure(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    completed = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--repeat", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=580,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PINGBACK_CHROMIUM": str(CHROMIUM)},  # the browser tests' (lighter) one
    )
    assert completed.returncode == 0, completed.stderr[-6000:]
    text = out.read_text(encoding="utf-8")
    for name in MEASURES:
        assert f"## {name}:" in text, name
        rows = [line for line in text.splitlines() if line.startswith(f"| {name} | ")]
        assert rows, f"no summary row for {name}"
        assert not any("| ERROR |" in row for row in rows), rows
    assert "## Machine" in text and "## Profiles and notes" in text
    if CHROMIUM.exists():  # scripts/test installs it; CI has it
        names = ("| dashboard-live | ", "| dashboard-open | ")
        browser = [line for line in text.splitlines() if line.startswith(names)]
        assert len(browser) == 3 and all(" ms** " in line for line in browser), browser
    if importlib.util.find_spec("huey") is None:
        # Without the bench extra the peer is reported, not measured.
        print("huey is not installed (pip install -e '.[bench]'): peer-huey reported as unavailable")
        assert "huey is not installed" in text
    else:
        peer = [line for line in text.splitlines() if line.startswith("| peer-huey | ") and "Huey" in line]
        assert peer and all("/s**" in line for line in peer), peer


BUDGET = RUN.parent / "budget.py"


@pytest.mark.timeout(300)
def test_budget_runs_end_to_end_and_reports_every_figure() -> None:
    """benchmarks/budget.py at a small size, through the real worker and `pingback run`. No
    timing is asserted (the suite runs in parallel): the burn's effect is checked below."""
    completed = subprocess.run(
        [sys.executable, str(BUDGET), "--rounds", "1", "--burn", "0,60", "--fanout", "500", "--json"],
        capture_output=True,
        text=True,
        timeout=280,
        stdin=subprocess.DEVNULL,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = json.loads(completed.stdout)
    assert [point["burn_us"] for point in report["curve"]] == [0, 60]
    assert all(point["children_per_s"] > 0 and point["ratio"] > 0 for point in report["curve"])
    assert report["design_main_cpu_us_per_child"] > 0
    assert (report["fanout"], report["rounds"]) == (500, 1)
    assert isinstance(report["warnings"], list)


@pytest.mark.timeout(120)
def test_floor_worker_burns_what_it_is_told_per_child(tmp_path: Path) -> None:
    """BENCH_BURN_US spins the main thread on the wall clock for each child: 200 children at
    500 µs cannot take less than 0.1 s, however loaded the machine."""
    sys.path.insert(0, str(RUN.parent))
    try:
        from benchlib.common import PROJECT_SRC, bench_env
    finally:
        sys.path.remove(str(RUN.parent))
    project = tmp_path / "project"
    shutil.copytree(PROJECT_SRC, project, ignore=shutil.ignore_patterns(".pingback", "__pycache__"))
    script = RUN.parent / "benchlib" / "floor_worker.py"
    completed = subprocess.run(
        [sys.executable, str(script), str(project), str(tmp_path / "floor.sqlite3")],
        env=bench_env(200, BENCH_BURN_US="500"),
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert (report["executions"], report["failed"]) == (201, 0)
    assert report["seconds"] >= 201 * 500e-6


def _budget_module() -> Any:
    spec = importlib.util.spec_from_file_location("budget", BUDGET)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_budget_reads_ours_off_the_curve_between_its_two_nearest_points() -> None:
    budget = _budget_module()
    rates = {0: [(30_000.0, 20_000.0)], 20: [(20_000.0, 20_000.0)], 40: [(10_000.0, 20_000.0)]}
    report = budget.summarize(10_000, 1, rates, [(14_000.0, 20_000.0)], [30.0])
    assert [point["ratio"] for point in report["curve"]] == [1.5, 1.0, 0.5]
    assert report["ours_once_started_ratio"] == 0.7
    assert report["ours_equivalent_burn_us"] == pytest.approx(32.0)  # 0.7 is 60% of the way 1.0 → 0.5
    assert report["warnings"] == []
    assert budget.equivalent_burn(report["curve"], 0.4) is None  # slower than the slowest point


def test_budget_says_when_ours_is_unreadable_or_the_curve_is_noise() -> None:
    budget = _budget_module()
    rates = {0: [(20_000.0, 20_000.0)], 10: [(25_000.0, 20_000.0)]}
    report = budget.summarize(20, 1, rates, [], [30.0])
    assert report["ours_once_started_per_s"] is None and report["ours_equivalent_burn_us"] is None
    assert report["warnings"] == [
        "our fan-out of 20 took no longer than `run noop`: use a larger --fanout",
        "the curve does not fall as B grows: noise outweighs the burns, so ours is not read off it"
        " (more --rounds or --fanout)",
    ]


def test_budget_says_why_ours_is_not_read_off_the_curve() -> None:
    budget = _budget_module()
    rates = {0: [(20_000.0, 20_000.0)], 10: [(15_000.0, 20_000.0)]}
    slower = budget.summarize(10_000, 1, rates, [(10_000.0, 20_000.0)], [30.0])
    assert slower["ours_equivalent_burn_us"] is None
    assert slower["warnings"] == ["ours is slower than the curve's slowest point: add larger --burn values"]
    faster = budget.summarize(10_000, 1, rates, [(30_000.0, 20_000.0)], [30.0])
    assert faster["warnings"] == ["ours is faster than the curve's fastest point"]
    noisy = {0: [(20_000.0, 20_000.0)], 10: [(12_000.0, 20_000.0)], 20: [(16_000.0, 20_000.0)]}
    crossing = budget.summarize(10_000, 1, noisy, [(14_000.0, 20_000.0)], [30.0])
    assert crossing["ours_equivalent_burn_us"] is None  # 0.7 crosses a rising curve twice: not read


def test_budget_always_measures_b_zero() -> None:
    budget = _budget_module()
    assert budget._burns("30,10") == [0, 10, 30]
    assert budget._whole("10,000", least=1) == budget._whole("10_000", least=1) == 10_000


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--burn", "ten"], "argument --burn: 'ten' is not a whole number"),
        (["--burn", "0,-5"], "argument --burn: -5 is below 0"),
        (["--burn", "0,,10"], "argument --burn: '0,,10' has an empty entry: give numbers like 0,10,20"),
        (["--rounds", "0"], "argument --rounds: 0 is below 1"),
        (["--fanout", "ten"], "argument --fanout: 'ten' is not a whole number"),
        (["--burn", "100000"], "argument --burn: 100000 is above 1,000"),
    ],
)
def test_budget_refuses_bad_arguments_in_one_line(args: list[str], error: str) -> None:
    completed = subprocess.run(
        [sys.executable, str(BUDGET), *args], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines()[-1] == f"budget.py: error: {error}"
    assert "Traceback" not in completed.stderr
