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
which the process design would run as fast (linear between the two B around it; not read, with a
warning, when the curve does not fall as B grows or ours lies outside it). That B is what
the engine's main thread costs beyond the process design's own loop. A target ratio read off the
curve is the engine cost a target allows.

    .venv/bin/python benchmarks/budget.py                      # 6 rounds, B = 0,10,20,30,40,50
    .venv/bin/python benchmarks/budget.py --rounds 3 --burn 0,25,50 --fanout 5000 --json

B = 0 is always measured (the curve's anchor). Read the figures at the default size: below a few
thousand children the start-up and the machine's noise outweigh the burns, and the script says so
when the curve does not fall as B grows or our fan-out took no longer than ``run noop``.
Bad arguments are usage errors (one line, exit 2).

Results of a run are recorded in RESULTS.md, "Profiles and notes" (session 10).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
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

SCRIPT_TIMEOUT = 300
"""Seconds one floor script may run."""

MOST_BURN_US = 1_000
"""The largest B accepted: 1 ms a child is already 20× what the engine spends."""


def _script(project: Path, script: str, fanout: int, **extra: str) -> dict[str, Any]:
    """One run of a floor script: its JSON report (``seconds``, ``executions``, ``failed``...)."""
    db = project.parent / f"budget-{uuid.uuid4().hex[:8]}.sqlite3"
    try:
        done = subprocess.run(
            [PYTHON, str(LIB_DIR / script), str(project), str(db)],
            env=bench_env(fanout, **extra),
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        sys.exit(f"{script} ran past {SCRIPT_TIMEOUT} s: use a smaller --fanout or --burn")
    if done.returncode != 0:
        sys.exit(f"{script} failed: {done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if report["executions"] != fanout + 1 or report["failed"]:
        sys.exit(f"{script} ran {report['executions']} executions, {report['failed']} failed")
    return report


def _ours_once_started(project: Path, fanout: int) -> float | None:
    """Children/s of ``pingback run fanout-default --json`` after its start-up (``run noop``);
    None when the fan-out took no longer than ``run noop`` (too small to read)."""
    shutil.rmtree(project / ".pingback", ignore_errors=True)
    env = bench_env(fanout)
    seconds, code = run_timed([PINGBACK, "run", "fanout-default", "--json"], cwd=project, env=env)
    fixed, fixed_code = run_timed([PINGBACK, "run", "noop", "--json"], cwd=project, env=env)
    if code or fixed_code:
        sys.exit(f"pingback run exited {code or fixed_code}")
    return fanout / (seconds - fixed) if seconds > fixed else None


def measure(rounds: int, burns: list[int], fanout: int) -> dict[str, Any]:
    """Per B: children/s and paired ratios; ours once started; the process design's main CPU.

    ``burns`` must hold 0. The ``ours_*`` figures are None when no round's fan-out took longer
    than ``run noop``; ``warnings`` says what makes the figures unfit to read."""
    compile_installed_package()
    rates: dict[int, list[tuple[float, float]]] = {burn: [] for burn in burns}
    ours: list[tuple[float, float]] = []
    main_cpu: list[float] = []
    with temp_project() as project:
        for number in range(rounds):
            floor = fanout / _script(project, "floor_inprocess.py", fanout)["seconds"]
            once_started = _ours_once_started(project, fanout)
            if once_started is not None:
                ours.append((once_started, floor))
            for burn in burns if number % 2 == 0 else reversed(burns):
                report = _script(project, "floor_worker.py", fanout, BENCH_BURN_US=str(burn))
                if burn == 0:
                    main_cpu.append(report["main_cpu_seconds"] / fanout * 1e6)
                rates[burn].append((fanout / report["seconds"], floor))
            ours_text = "no longer than run noop" if once_started is None else f"{once_started:,.0f}/s"
            print(
                f"  round {number + 1}: floor {floor:,.0f}/s, ours once started {ours_text}", file=sys.stderr
            )
    return summarize(fanout, rounds, rates, ours, main_cpu)


def summarize(
    fanout: int,
    rounds: int,
    rates: dict[int, list[tuple[float, float]]],
    ours: list[tuple[float, float]],
    main_cpu: list[float],
) -> dict[str, Any]:
    """The report of :func:`measure` from its samples: ``rates`` per B and ``ours`` as (children/s,
    floor's children/s) pairs, ``main_cpu`` in µs a child at B = 0 (at least one)."""
    curve = [
        {
            "burn_us": burn,
            "children_per_s": statistics.median(rate for rate, _ in pairs),
            "ratio": statistics.median(rate / floor for rate, floor in pairs),
        }
        for burn, pairs in sorted(rates.items())
    ]
    ours_ratio = statistics.median(rate / floor for rate, floor in ours) if ours else None
    warnings = []
    if not ours:
        warnings.append(f"our fan-out of {fanout:,} took no longer than `run noop`: use a larger --fanout")
    ratios = [point["ratio"] for point in curve]
    falls = all(later <= earlier for earlier, later in itertools.pairwise(ratios))
    if not falls:
        warnings.append(
            "the curve does not fall as B grows: noise outweighs the burns, so ours is not read off it"
            " (more --rounds or --fanout)"
        )
    equivalent = None if ours_ratio is None or not falls else equivalent_burn(curve, ours_ratio)
    if ours_ratio is not None and falls and equivalent is None:
        warnings.append(
            "ours is faster than the curve's fastest point"
            if ours_ratio > ratios[0]
            else "ours is slower than the curve's slowest point: add larger --burn values"
        )
    return {
        "fanout": fanout,
        "rounds": rounds,
        "curve": curve,
        "design_main_cpu_us_per_child": statistics.median(main_cpu),
        "ours_once_started_per_s": statistics.median(rate for rate, _ in ours) if ours else None,
        "ours_once_started_ratio": ours_ratio,
        "ours_equivalent_burn_us": equivalent,
        "warnings": warnings,
    }


def equivalent_burn(curve: list[dict[str, float]], ratio: float) -> float | None:
    """The B at which the curve reads ``ratio`` (linear between neighbours, sorted by B); None
    when ``ratio`` lies outside the curve."""
    points = sorted((point["burn_us"], point["ratio"]) for point in curve)
    for (b0, r0), (b1, r1) in itertools.pairwise(points):
        if min(r0, r1) <= ratio <= max(r0, r1) and r0 != r1:
            return b0 + (ratio - r0) * (b1 - b0) / (r1 - r0)
    return None


def _whole(text: str, *, least: int, most: int | None = None) -> int:
    """An argparse type: a whole number from ``least`` to ``most`` (``10,000`` and ``10_000`` read
    as 10000)."""
    try:
        value = int(text.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", text.strip()) else text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value} is below {least}")
    if most is not None and value > most:
        raise argparse.ArgumentTypeError(f"{value} is above {most:,}")
    return value


def _burns(text: str) -> list[int]:
    """An argparse type: microseconds separated by commas, each >= 0; 0 is always added."""
    values = [part.strip() for part in text.split(",")]
    if any(not value for value in values):
        raise argparse.ArgumentTypeError(f"{text!r} has an empty entry: give numbers like 0,10,20")
    return sorted({0, *(_whole(value, least=0, most=MOST_BURN_US) for value in values)})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rounds", type=lambda text: _whole(text, least=1), default=6, help="interleaved rounds (default 6)"
    )
    parser.add_argument(
        "--burn",
        type=_burns,
        default=[0, 10, 20, 30, 40, 50],
        help=f"µs of engine per child, comma-separated, each 0 to {MOST_BURN_US:,} (0 is always added;"
        " default 0,10,20,30,40,50)",
    )
    parser.add_argument(
        "--fanout",
        type=lambda text: _whole(text, least=1),
        default=10_000,
        help="children per fan-out (default 10,000; below a few thousand the figures are noise)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    result = measure(args.rounds, args.burn, args.fanout)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for point in result["curve"]:
        burn, rate, ratio = point["burn_us"], point["children_per_s"], point["ratio"]
        print(f"B = {burn:>3} µs: {rate:>8,.0f}/s, {ratio:.0%} of the floor")
    print(f"process design's main thread, B = 0: {result['design_main_cpu_us_per_child']:.1f} µs CPU a child")
    rate, ratio = result["ours_once_started_per_s"], result["ours_once_started_ratio"]
    if rate is not None and ratio is not None:
        equivalent = result["ours_equivalent_burn_us"]
        where = (
            "not read off the curve (see below)"
            if equivalent is None
            else f"the process design with B ≈ {equivalent:.0f} µs"
        )
        print(f"ours once started: {rate:,.0f}/s, {ratio:.0%} of the floor: {where}")
    for warning in result["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)


if __name__ == "__main__":
    main()
