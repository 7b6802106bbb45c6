"""The virtual clock's surfaces (issue 17's new surfaces): the test toolkit's ``advance("1d")``
and ``pingback simulate --run`` over the same day of a ``*/15`` cron with a 3-child fan-out
(tests/fixtures/simday: 96 trees, 384 executions), each checked to have run every execution.

- ``toolkit-advance``: ``advance("1d")`` in the ``pingback`` fixture's platform, in a fresh
  process per repetition (``advance_day.py``), against the same day's 384 ``pb.handle()`` calls
  in that process (the handlers' own cost). Target: <= 0.5 s.
- ``simulate-run``: the whole ``pingback simulate --from ... --to ... --run --json`` command,
  against ``pingback ls`` in the same project (interpreter, our CLI, importing the project),
  interleaved. Target: <= 2 s (``run.py --only simulate-run`` alone).
"""

from __future__ import annotations

import json
import subprocess

from benchlib.common import (
    LIB_DIR,
    PINGBACK,
    PYTHON,
    MeasureError,
    MeasureResult,
    Row,
    Target,
    bench_env,
    run_timed,
    temp_project,
)
from benchlib.measures import Settings, Shared, _verify_history

SIMDAY = LIB_DIR.parent.parent / "tests" / "fixtures" / "simday"
EXECUTIONS = 384
WINDOW = ["--from", "2026-12-01T00:00Z", "--to", "2026-12-02T00:00Z"]


def _repetitions(settings: Settings) -> int:
    return 1 if settings.quick else max(5, settings.repeat)


def toolkit_advance(settings: Settings, shared: Shared) -> MeasureResult:
    result = MeasureResult("toolkit-advance", 'The test toolkit\'s `advance("1d")` on the virtual clock')
    advance: list[float] = []
    floor: list[float] = []
    for _ in range(_repetitions(settings)):
        with temp_project("pingback-bench-simday-", SIMDAY) as project:
            done = subprocess.run(
                [PYTHON, str(LIB_DIR / "advance_day.py"), str(project)],
                env=bench_env(),
                capture_output=True,
                text=True,
                timeout=120,
            )
        if done.returncode != 0:
            raise MeasureError(f"advance_day.py exited {done.returncode}: {done.stderr[-2000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        if (figures["executions"], figures["succeeded"]) != (EXECUTIONS, EXECUTIONS):
            raise MeasureError(f"advance ran {figures['executions']} ({figures['succeeded']} success)")
        advance.append(figures["advanceSeconds"] * 1000)
        floor.append(figures["floorSeconds"] * 1000)
    result.rows.append(
        Row(
            f'`advance("1d")`, `*/15` fanning out to 3 tasks ({EXECUTIONS} executions)',
            "ms",
            advance,
            floor=floor,
            floor_label="the same 384 handler calls through pb.handle(), one process",
            targets=[Target("<=", 500)],
            target_text="<= 0.5 s median",
            ratio_style="times",
        )
    )
    result.notes.append(
        "Each repetition is a fresh process (`benchlib/advance_day.py`) on a fresh copy of "
        "tests/fixtures/simday: the project is loaded, time set to 2026-12-01T00:00Z, then only "
        "`advance` is timed; every one of the 384 executions was checked to be `success`."
    )
    return result


def simulate_run(settings: Settings, shared: Shared) -> MeasureResult:
    result = MeasureResult("simulate-run", "`pingback simulate --run` of the same day")
    simulate: list[float] = []
    floor: list[float] = []
    for _ in range(_repetitions(settings)):
        with temp_project("pingback-bench-simday-", SIMDAY) as project:
            seconds, code = run_timed([PINGBACK, "ls"], cwd=project, env=bench_env())
            if code != 0:
                raise MeasureError(f"pingback ls exited {code}")
            floor.append(seconds * 1000)
            seconds, code = run_timed(
                [PINGBACK, "simulate", *WINDOW, "--run", "--json"], cwd=project, env=bench_env()
            )
            if code != 0:
                raise MeasureError(f"pingback simulate --run exited {code}")
            _verify_history(project, EXECUTIONS)
            simulate.append(seconds * 1000)
    result.rows.append(
        Row(
            f"`pingback simulate` of one day `--run --json` ({EXECUTIONS} executions recorded)",
            "ms",
            simulate,
            floor=floor,
            floor_label="`pingback ls` in the same project",
            targets=[Target("<=", 2000)],
            target_text="<= 2 s median",
            ratio_style="times",
        )
    )
    result.notes.append(
        "The whole command (interpreter start, the CLI, importing the project, the day, writing "
        "history) next to `pingback ls`, interleaved; history was checked to hold 384 executions, "
        "all `success`."
    )
    return result


TOOLKIT_MEASURES = {
    "toolkit-advance": ('the test toolkit\'s `advance("1d")`', toolkit_advance),
    "simulate-run": ("`pingback simulate --run` of a day", simulate_run),
}
