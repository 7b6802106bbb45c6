"""A fan-out whose children wait (as on an HTTP call), against the platform's pool of 20.

The platform's Go worker runs 20 executions at once, each a goroutine waiting on its HTTP call
(``runpingback/worker`` ``internal/pipeline/pool.go:32-36``): N children that each wait W take
N/20 x W there. Here the whole ``pingback run fanout-wait --json`` is timed against that plus the
command's own start-up, ``pingback run noop --json`` in the same project, interleaved with it
(the order alternating), so a busy machine weighs on both.
"""

from __future__ import annotations

from pathlib import Path

from benchlib.common import (
    PINGBACK,
    MeasureError,
    MeasureResult,
    Row,
    Target,
    bench_env,
    median,
    run_timed,
    tail,
    temp_project,
)
from benchlib.measures import Settings, Shared, _n, _verify_history

POOL = 20
"""The platform's pool (``internal/config/config.go:29`` ``WORKER_POOL_SIZE``)."""
WAIT_MS = 20
FANOUT = 1_000
QUICK_FANOUT = 2 * POOL
"""``--quick``: two waves, so the pool still has to refill."""


def _wall_ms(project: Path, function: str, env: dict[str, str]) -> float:
    """Milliseconds of ``pingback run FUNCTION --json`` in ``project`` (MeasureError if it fails)."""
    out = project.parent / f"{function}.json"
    seconds, code = run_timed([PINGBACK, "run", function, "--json"], cwd=project, env=env, stdout=out)
    if code != 0:
        raise MeasureError(f"pingback run {function} exited {code}: {tail(out, 5)}")
    return seconds * 1000


def fanout_wait(settings: Settings, shared: Shared) -> MeasureResult:
    """``pingback run fanout-wait --json``: N children sleeping ``WAIT_MS`` each, in ms, against
    N/POOL x WAIT_MS + ``pingback run noop --json`` of the same repetition."""
    result = MeasureResult(
        "run-fanout-wait", "`pingback run` fan-out of children that each wait, vs the pool of 20"
    )
    n = QUICK_FANOUT if settings.quick else FANOUT
    env = bench_env(BENCH_WAIT_FANOUT=str(n), BENCH_WAIT_MS=str(WAIT_MS))
    ours: list[float] = []
    ideal: list[float] = []
    for rep in range(settings.repeat):
        with temp_project() as project:
            order = ("noop", "fanout-wait") if rep % 2 == 0 else ("fanout-wait", "noop")
            wall = {function: _wall_ms(project, function, env) for function in order}
            _verify_history(project, n + 2)  # the fan-out's root and children, and noop
        ours.append(wall["fanout-wait"])
        ideal.append(n / POOL * WAIT_MS + wall["noop"])
        settings.log(f"  rep {rep + 1}: {ours[-1]:,.0f} ms, the pool of 20 + start-up {ideal[-1]:,.0f} ms")
    result.rows.append(
        Row(
            f"wall time of `pingback run fanout-wait --json`, N = {_n(n)} children each waiting {WAIT_MS} ms",
            "ms",
            ours,
            floor=ideal,
            floor_label=f"the platform's pool of 20: N/20 x {WAIT_MS} ms + `pingback run noop --json`",
            ratio_style="times",
            targets=[Target("<=", 1.3, on="ratio")],
            target_text="<= 1.3× floor",
        )
    )
    paired = median([ours_ms / ideal_ms for ours_ms, ideal_ms in zip(ours, ideal, strict=True)])
    result.notes += [
        f"Median of the paired ratios (each repetition against its own start-up): {paired:.2f}×.",
        "The children sleep (benchmarks/project `leaf-wait`, declared with the SDK's defaults), as a "
        "handler waits on an HTTP call or a query; history was checked to hold the N + 1 executions "
        "and `noop`, all `success`, after each repetition.",
    ]
    return result


FANOUT_WAIT_MEASURES = {
    "run-fanout-wait": ("`pingback run` fan-out of waiting children", fanout_wait),
}
"""Registered in ``benchmarks/run.py`` beside ``measures.MEASURES``."""
