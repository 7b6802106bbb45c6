"""What the trivial fan-out's targets leave the engine: the process design with B µs of engine.

``benchlib/floor_worker.py`` drives the real worker through the real pipes, 20 in flight, with a
floor-shaped row per execution and no engine. Here it runs with B microseconds of busy CPU added
per child on its main thread (``BENCH_BURN_US``), as if an engine of that cost sat there. Each
round interleaves it with the in-process floor (``benchlib/floor_inprocess.py``) and with our
``pingback run fanout-default --json``, all at N children, so every ratio is paired with a floor
from the same minute. Start-up is excluded on both sides of the curve: ours is read once started,
N / (wall − ``run noop`` wall), as ``run.py``'s run-fanout row does.

Prints, per B, children/s and the median paired ratio to the floor, and the main thread's CPU
per child of the process design with no burn. Then it prints ours once started, and the B at
which the process design would run as fast (linear between the two nearest B). That B is what
the engine's main thread costs beyond the process design's own loop. A target ratio read off the
curve is the engine cost a target allows.

    .venv/bin/python benchmarks/budget.py                      # 6 rounds, B = 0,10,20,30,40,50
    .venv/bin/python benchmarks/budget.py --rounds 3 --burn 0,25,50 --fanout 5000 --json

Results of a run are recorded in RESULTS.md, "Profiles and notes" (session 10).
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib.common import LIB_DIR, PINGBACK, PYTHON, bench_env, run_timed, temp_project
from benchlib.startup import compile_installed_package


def _script(project: Path, script: str, fanout: int, **extra: str) -> dict[str, Any]:
    """One run of a floor script: its JSON report (``seconds``, ``executions``, ``failed``...)."""
    db = project.parent / f"budget-{uuid.uuid4().hex[:8]}.sqlite3"
    done = subprocess.run(
        [PYTHON, str(LIB_DIR / script), str(project), str(db)],
        env=bench_env(fanout, **extra),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        sys.exit(f"{script} failed: {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if report["executions"] != fanout + 1 or report["failed"]:
        sys.exit(f"{script} ran {report['executions']} executions, {report['failed']} failed")
    return report


def _ours_once_started(project: Path, fanout: int) -> float:
    """Children/s of ``pingback run fanout-default --json`` after its start-up (``run noop``)."""
    shutil.rmtree(project / ".pingback", ignore_errors=True)
    env = bench_env(fanout)
    seconds, code = run_timed([PINGBACK, "run", "fanout-default", "--json"], cwd=project, env=env)
    fixed, fixed_code = run_timed([PINGBACK, "run", "noop", "--json"], cwd=project, env=env)
    if code or fixed_code:
        sys.exit(f"pingback run exited {code or fixed_code}")
    return fanout / max(seconds - fixed, 1e-6)


def measure(rounds: int, burns: list[int], fanout: int) -> dict[str, Any]:
    """Per B: children/s and paired ratios; ours once started; the process design's main CPU."""
    compile_installed_package()
    rates: dict[int, list[tuple[float, float]]] = {burn: [] for burn in burns}
    ours: list[tuple[float, float]] = []
    main_cpu: list[float] = []
    with temp_project() as project:
        for number in range(rounds):
            floor = fanout / _script(project, "floor_inprocess.py", fanout)["seconds"]
            ours.append((_ours_once_started(project, fanout), floor))
            for burn in burns if number % 2 == 0 else reversed(burns):
                report = _script(project, "floor_worker.py", fanout, BENCH_BURN_US=str(burn))
                if burn == 0:
                    main_cpu.append(report["main_cpu_seconds"] / fanout * 1e6)
                rates[burn].append((fanout / report["seconds"], floor))
            line = f"  round {number + 1}: floor {floor:,.0f}/s, ours once started {ours[-1][0]:,.0f}/s"
            print(line, file=sys.stderr)
    curve = [
        {
            "burn_us": burn,
            "children_per_s": statistics.median(rate for rate, _ in pairs),
            "ratio": statistics.median(rate / floor for rate, floor in pairs),
        }
        for burn, pairs in rates.items()
    ]
    ours_ratio = statistics.median(rate / floor for rate, floor in ours)
    return {
        "fanout": fanout,
        "rounds": rounds,
        "curve": curve,
        "design_main_cpu_us_per_child": statistics.median(main_cpu) if main_cpu else None,
        "ours_once_started_per_s": statistics.median(rate for rate, _ in ours),
        "ours_once_started_ratio": ours_ratio,
        "ours_equivalent_burn_us": equivalent_burn(curve, ours_ratio),
    }


def equivalent_burn(curve: list[dict[str, float]], ratio: float) -> float | None:
    """The B at which the curve reads ``ratio`` (linear between neighbours, sorted by B); None
    when ``ratio`` lies outside the curve."""
    points = sorted((point["burn_us"], point["ratio"]) for point in curve)
    for (b0, r0), (b1, r1) in itertools.pairwise(points):
        if min(r0, r1) <= ratio <= max(r0, r1) and r0 != r1:
            return b0 + (ratio - r0) * (b1 - b0) / (r1 - r0)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="interleaved rounds (default 6)")
    parser.add_argument("--burn", default="0,10,20,30,40,50", help="µs of engine per child, comma-separated")
    parser.add_argument("--fanout", type=int, default=10_000, help="children per fan-out (default 10,000)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    try:
        burns = sorted({int(value) for value in args.burn.split(",") if value.strip()})
    except ValueError:
        sys.exit(f"--burn takes whole microseconds separated by commas, not {args.burn!r}")
    if not burns or burns[0] < 0 or args.rounds < 1 or args.fanout < 1:
        sys.exit("--burn needs values >= 0, --rounds and --fanout at least 1")
    result = measure(args.rounds, burns, args.fanout)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for point in result["curve"]:
        burn, rate, ratio = point["burn_us"], point["children_per_s"], point["ratio"]
        print(f"B = {burn:>3} µs: {rate:>8,.0f}/s, {ratio:.0%} of the floor")
    design_cpu = result["design_main_cpu_us_per_child"] or 0.0
    print(f"process design's main thread, B = 0: {design_cpu:.1f} µs CPU a child")
    rate, ratio = result["ours_once_started_per_s"], result["ours_once_started_ratio"]
    equivalent = result["ours_equivalent_burn_us"]
    where = "outside the curve" if equivalent is None else f"the process design with B ≈ {equivalent:.0f} µs"
    print(f"ours once started: {rate:,.0f}/s, {ratio:.0%} of the floor: {where}")


if __name__ == "__main__":
    main()
