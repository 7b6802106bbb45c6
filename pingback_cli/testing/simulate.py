"""Time travel for a project's crons (``pingback simulate``): every occurrence in a window, and
optionally running them all on the virtual platform with the handlers for real.

The window is ``[start, end)``: an occurrence at ``start`` is in, one at ``end`` is the next
window's. Times are unix seconds.
"""

from __future__ import annotations

import contextlib
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pingback_cli.models import SIMULATED, FunctionSpec, iso
from pingback_cli.models import Execution as Record
from pingback_cli.project.cron import NeverFires, next_fire, next_fires
from pingback_cli.project.plans import PLANS, Plan

MONTH_SECONDS = 30 * 86_400
"""The month an estimate is for: 30 days from the window's start."""
_ESTIMATE_SAMPLE = 60
"""Occurrences counted before the monthly rate is extrapolated from their spacing."""
_EDGE = 0.001
"""Cron occurrences are whole seconds; starting a hair before ``start`` includes one at it."""


@dataclass(frozen=True)
class Occurrence:
    function: str
    scheduled_at: float

    def to_json(self) -> dict[str, Any]:
        return {"function": self.function, "scheduledAt": iso(self.scheduled_at)}


@dataclass
class Forecast:
    """Every cron occurrence in ``[start, end)`` in time order, counts per function, and each
    cron's executions in a 30-day month from ``start`` (roots only: retries and fan-out add)."""

    start: float
    end: float
    occurrences: list[Occurrence]
    counts: dict[str, int]
    monthly: dict[str, int]
    plan: Plan | None = None
    """The plan chosen (``--plan``, PINGBACK_PLAN, ``[tool.pingback] plan``), if any."""

    @property
    def monthly_total(self) -> int:
        return sum(self.monthly.values())

    def plans(self) -> list[tuple[Plan, bool]]:
        """The chosen plan, else every plan, each with whether the month's estimate fits it
        (``executionsPerMonth`` of ``project/plans.py``; every attempt counts there)."""
        chosen = [self.plan] if self.plan is not None else list(PLANS.values())
        return [(plan, self.monthly_total <= plan.executions_per_month) for plan in chosen]

    def monthly_json(self) -> dict[str, Any]:
        return {
            "functions": self.monthly,
            "total": self.monthly_total,
            "plan": self.plan.name if self.plan is not None else None,
            "plans": {
                plan.name: {"executionsPerMonth": plan.executions_per_month, "fits": fits}
                for plan, fits in self.plans()
            },
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "from": iso(self.start),
            "to": iso(self.end),
            "occurrences": [occurrence.to_json() for occurrence in self.occurrences],
            "counts": self.counts,
            "monthlyEstimate": self.monthly_json(),
        }


def forecast_project(app: str | None, start: float, end: float, *, plan: str | None = None) -> Forecast:
    """``pingback simulate``: the project's crons (imported, no handler runs) over ``[start,
    end)``. ProjectError when it cannot be loaded; UsageError for an unknown plan."""
    from pingback_cli.project.config import open_project
    from pingback_cli.project.discovery import discover_project
    from pingback_cli.project.plans import choose_plan

    config = open_project(app)
    chosen = choose_plan(plan, config.settings)
    result = forecast(discover_project(config).specs, start, end)
    result.plan = chosen
    return result


def forecast(specs: Iterable[FunctionSpec], start: float, end: float) -> Forecast:
    """Every occurrence of every cron in ``specs`` within ``[start, end)``; ValueError when
    ``end`` is not after ``start``. ScheduleError for a schedule that cannot be walked."""
    if end <= start:
        raise ValueError("the window is empty: --to must be later than --from")
    occurrences: list[Occurrence] = []
    crons = [spec for spec in specs if spec.type == "cron" and spec.schedule]
    for spec in crons:
        assert spec.schedule is not None
        occurrences.extend(Occurrence(spec.name, at) for at in _fires_between(spec.schedule, start, end))
    return _tally(crons, start, end, occurrences)


def _tally(crons: list[FunctionSpec], start: float, end: float, occurrences: list[Occurrence]) -> Forecast:
    occurrences.sort(key=lambda o: o.scheduled_at)
    counts = dict.fromkeys((spec.name for spec in crons), 0)
    for occurrence in occurrences:
        counts[occurrence.function] = counts.get(occurrence.function, 0) + 1
    monthly = {spec.name: _monthly(spec.schedule or "", start) for spec in crons}
    return Forecast(start, end, occurrences, counts, monthly)


def _fires_between(expr: str, start: float, end: float) -> list[float]:
    found: list[float] = []
    at = start - _EDGE
    while True:
        try:
            at = next_fire(expr, at)
        except NeverFires:  # accepted by the platform, but its scheduler finds no next time
            return found
        if at >= end:
            return found
        found.append(at)


def _monthly(expr: str, start: float) -> int:
    """Occurrences in the 30 days from ``start``: counted, or extrapolated from the first 60."""
    try:
        fires = next_fires(expr, start - _EDGE, _ESTIMATE_SAMPLE)
    except NeverFires:
        return len(_fires_between(expr, start, start + MONTH_SECONDS))
    within = [at for at in fires if at < start + MONTH_SECONDS]
    if len(within) < len(fires) or len(fires) < 2:
        return len(within)
    rate = (len(fires) - 1) / (fires[-1] - fires[0])
    return round(rate * MONTH_SECONDS)


@dataclass
class Simulation:
    """What ``simulate --run`` did: the roots in the order they started, and the forecast."""

    forecast: Forecast
    roots: list[Record]
    history: str | None = None
    by_function: dict[str, dict[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        counts: dict[str, Counter[str]] = {}
        for root in self.roots:
            for record in root.walk():
                counts.setdefault(record.function, Counter())[record.status] += 1
        self.by_function = {name: dict(sorted(c.items())) for name, c in sorted(counts.items())}

    @property
    def total(self) -> int:
        return sum(sum(statuses.values()) for statuses in self.by_function.values())

    @property
    def failures(self) -> list[Record]:
        return [record for root in self.roots for record in root.walk() if record.status != "success"]

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> dict[str, Any]:
        return {
            "from": iso(self.forecast.start),
            "to": iso(self.forecast.end),
            "trees": [_tree_json(root) for root in self.roots],
            "executions": {"byFunction": self.by_function, "total": self.total},
            "failures": [
                {"executionId": r.id, "function": r.function, "status": r.status, "error": r.error}
                for r in self.failures
            ],
            "monthlyEstimate": self.forecast.monthly_json(),
            "history": self.history,
        }


def _tree_json(root: Record) -> dict[str, Any]:
    data = root.to_json(children=False)
    tree = root.walk()
    data["executions"] = len(tree)
    data["failed"] = sum(1 for record in tree if record.status != "success")
    return data


def simulate_run(
    app: str | None,
    start: float,
    end: float,
    *,
    isolated: bool = False,
    record: bool = True,
    plan: str | None = None,
    concurrency: str | None = None,
    on_tree: Callable[[Record], None] | None = None,
) -> Simulation:
    """Run every cron occurrence in ``[start, end)`` on the virtual platform, handlers for real
    (in this process, or a worker subprocess with ``isolated``), recording them in the
    project's history when ``record``. ``on_tree`` hears each root when its tree finishes.
    ``plan`` and ``concurrency`` as ``run``'s ``--plan`` and ``--concurrency``. Raises
    ProjectError when the project cannot be loaded, UsageError for an unknown plan or mode."""
    from pingback_cli.models import utc_datetime
    from pingback_cli.testing.platform import VirtualPlatform

    if end <= start:
        raise ValueError("the window is empty: --to must be later than --from")
    platform = VirtualPlatform(start=start - _EDGE)
    try:
        if isolated:
            platform.isolated()
        platform.load(app, plan=plan, concurrency=concurrency)
        # Labelled, not a file of their own: `pingback show ID` of a simulated run then works,
        # and its future-dated runs say what they are wherever they are listed.
        path = str(platform.history(label=SIMULATED)) if record else None
        if on_tree is not None:
            platform.on_event = lambda event: event.kind == "finished" and on_tree(event.execution)
        # The user's prints go to stderr, as in the worker: stdout carries --json.
        with contextlib.redirect_stdout(sys.stderr):
            roots = platform.advance(utc_datetime(end - _EDGE))
        crons = [spec for spec in platform.functions.values() if spec.type == "cron" and spec.schedule]
        fired = [Occurrence(r.function, r.record.scheduled_at) for r in roots if r.record.trigger == "cron"]
        summary = _tally(crons, start, end, fired)
        summary.plan = platform.plan
    finally:
        platform.close()
    return Simulation(summary, [root.record for root in roots], history=path)
