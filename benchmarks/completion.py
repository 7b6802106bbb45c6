"""How long a TAB takes: shell completion of the installed ``pingback``, against a bare Python.

Each case is a fresh process, as a shell starts one per TAB. Cases are interleaved
round-robin so that load on the machine hits them alike, and each is reported as the
median and spread of ``--runs`` timings and as a ratio to ``python -c pass`` measured
in the same run (the floor any Python CLI pays).

    .venv/bin/python benchmarks/completion.py            # 20 runs per case
    .venv/bin/python benchmarks/completion.py --runs 50 --json

The project is a temporary copy of examples/shop; ``pingback ls`` and ``pingback run``
write its manifest and history first, so the TABs complete real names and ids.
Bytecode caching is on for the measured processes, as in any install, even when
PYTHONDONTWRITEBYTECODE is set for the benchmark itself.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_MS = 200.0


def pingback() -> str:
    found = shutil.which("pingback", path=os.path.dirname(sys.executable))
    if found is None:
        sys.exit(f"pingback is not installed next to {sys.executable}; pip install -e . first")
    return found


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PINGBACK_", "_PINGBACK"))}
    # Bytecode caching on, as in any install: without it every process recompiles
    # pingback's modules, which is not what a user's TAB pays.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["NO_COLOR"] = "1"
    env.update(extra or {})
    return env


def tab(words: str) -> dict[str, str]:
    """The environment Typer's bash script sets for a TAB after ``words``."""
    return environment(
        {
            "_PINGBACK_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        }
    )


def prepare(folder: Path) -> tuple[Path, str]:
    """A copy of examples/shop with a manifest and one run in history; returns an id prefix."""
    project = folder / "shop"
    shutil.copytree(
        REPO / "examples" / "shop",
        project,
        ignore=shutil.ignore_patterns(".pingback", "__pycache__"),
    )
    command = pingback()
    subprocess.run([command, "ls"], cwd=project, env=environment(), check=True, capture_output=True)
    subprocess.run(
        [command, "run", "send-emails", "--no-backoff", "--json"],
        cwd=project,
        env=environment(),
        check=True,
        capture_output=True,
    )
    runs = subprocess.run(
        [command, "runs", "--json"], cwd=project, env=environment(), check=True, capture_output=True
    )
    return project, json.loads(runs.stdout)[0]["executionId"][:2]


def time_once(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        sys.exit(f"{argv} failed ({done.returncode}):\n{done.stderr}")
    return elapsed, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="timings per case (default 20)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()

    command = pingback()
    with tempfile.TemporaryDirectory() as tmp:
        project, prefix = prepare(Path(tmp))
        cases: dict[str, tuple[list[str], dict[str, str], str | None]] = {
            "python -c pass (baseline)": ([sys.executable, "-c", "pass"], environment(), None),
            "TAB: pingback r": ([command], tab("pingback r"), "run"),
            "TAB: pingback run se": ([command], tab("pingback run se"), "send-emails"),
            f"TAB: pingback show {prefix}": ([command], tab(f"pingback show {prefix}"), prefix),
            "pingback --help": ([command, "--help"], environment(), "Commands"),
        }
        timings: dict[str, list[float]] = {name: [] for name in cases}
        for name, (argv, env, expected) in cases.items():  # warm the OS caches; check output
            _, output = time_once(argv, project, env)
            if expected is not None and expected not in output:
                sys.exit(f"{name}: expected {expected!r} in its output, got:\n{output}")
        for _ in range(args.runs):
            for name, (argv, env, _expected) in cases.items():
                timings[name].append(time_once(argv, project, env)[0])

    baseline = statistics.median(timings["python -c pass (baseline)"])
    results = []
    for name, values in timings.items():
        ordered = sorted(values)
        median = statistics.median(ordered)
        results.append(
            {
                "case": name,
                "runs": len(ordered),
                "medianMs": round(median, 1),
                "minMs": round(ordered[0], 1),
                "p90Ms": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
                "maxMs": round(ordered[-1], 1),
                "stdevMs": round(statistics.stdev(ordered), 1) if len(ordered) > 1 else 0.0,
                "vsBaseline": round(median / baseline, 2),
            }
        )
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "results": results}, indent=2))
        return
    print(f"{args.runs} runs per case, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"{'case':<30} {'median':>8} {'min':>8} {'p90':>8} {'max':>8} {'stdev':>7} {'ratio':>6}")
    for row in results:
        print(
            f"{row['case']:<30} {row['medianMs']:>6.1f}ms {row['minMs']:>6.1f}ms {row['p90Ms']:>6.1f}ms "
            f"{row['maxMs']:>6.1f}ms {row['stdevMs']:>5.1f}ms {row['vsBaseline']:>5.2f}x"
        )
    slowest = max(r["medianMs"] for r in results if r["case"].startswith("TAB"))
    verdict = "within" if slowest < TARGET_MS else "OVER"
    print(f"slowest TAB median {slowest:.1f}ms: {verdict} the {TARGET_MS:.0f}ms target")


if __name__ == "__main__":
    main()
