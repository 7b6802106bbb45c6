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

from pingback_cli import startup
from pingback_cli.models import SIMULATED, FunctionSpec, iso
from pingback_cli.models import Execution as Record
from pingback_cli.project.cron import NeverFires, count_fires, fires_in
from pingback_cli.project.plans import PLANS, Plan
from pingback_cli.project.quota import MonthEstimate, measured_estimate, monthly_fires

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
    """Every cron occurrence in ``[start, end)`` in time order, counts per function, each
    cron's fires in a 30-day month from ``start``, and that month's attempts against each plan
    (``project.quota``: the estimate ``check`` makes too)."""

    start: float
    end: float
    occurrences: list[Occurrence] | None
    """None when only counted (``simulate --summary``)."""
    counts: dict[str, int]
    monthly: dict[str, int]
    plan: Plan | None = None
    """The plan chosen (``--plan``, PINGBACK_PLAN, ``[tool.pingback] plan``), if any."""
    months: list[MonthEstimate] = field(default_factory=list)
    """The month under the chosen plan, else under each plan."""

    @property
    def monthly_fires(self) -> int:
        return sum(self.monthly.values())

    def monthly_json(self) -> dict[str, Any]:
        return {
            "functions": self.monthly,
            "fires": self.monthly_fires,
            "plan": self.plan.name if self.plan is not None else None,
            "basis": self.months[0].basis if self.months else None,
            "plans": {
                month.plan.name: {
                    "executionsPerMonth": month.plan.executions_per_month,
                    "attempts": month.total,
                    "atLeast": month.at_least,
                    "verdict": month.verdict,
                    "fits": None if month.verdict == "unknown" else month.verdict == "fits",
                }
                for month in self.months
                if month.plan is not None
            },
        }

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"from": iso(self.start), "to": iso(self.end)}
        if self.occurrences is not None:
            data["occurrences"] = [occurrence.to_json() for occurrence in self.occurrences]
        return {**data, "counts": self.counts, "monthlyEstimate": self.monthly_json()}


def plans_to_judge(chosen: Plan | None) -> list[Plan]:
    """The chosen plan, else every plan."""
    return [chosen] if chosen is not None else list(PLANS.values())


def forecast_project(
    app: str | None, start: float, end: float, *, plan: str | None = None, listing: bool = True
) -> Forecast:
    """``pingback simulate``: the project's crons (imported, no handler runs) over ``[start,
    end)``, each occurrence listed unless ``listing`` is False (``--summary``: counted only).
    ProjectError when it cannot be loaded; UsageError for an unknown plan."""
    from pingback_cli.project.config import open_project
    from pingback_cli.project.discovery import discover_project
    from pingback_cli.project.plans import choose_plan

    config = open_project(app)
    chosen = choose_plan(plan, config.settings)
    specs = discover_project(config).specs
    result = forecast(specs, start, end, listing=listing)
    result.plan = chosen
    result.months = _written_months(config.root, specs, chosen, start)
    return result


def _written_months(
    root: Any, specs: Iterable[FunctionSpec], chosen: Plan | None, start: float
) -> list[MonthEstimate]:
    """The month with the fan-out the crons' handlers write, as ``check`` estimates it."""
    from pingback_cli.check.plans import written_month
    from pingback_cli.check.scan import scan_files
    from pingback_cli.project.files import project_files

    scan = scan_files(project_files(root), root)
    crons = [(spec.name, spec.schedule) for spec in specs if spec.type == "cron" and spec.schedule]
    return [written_month(plan, crons, scan, start) for plan in plans_to_judge(chosen)]  # type: ignore[misc]


def forecast(specs: Iterable[FunctionSpec], start: float, end: float, *, listing: bool = True) -> Forecast:
    """Every occurrence of every cron in ``specs`` within ``[start, end)`` (only their counts
    when not ``listing``); ValueError when ``end`` is not after ``start``. ScheduleError for
    a schedule that cannot be read."""
    if end <= start:
        raise ValueError("the window is empty: --to must be later than --from")
    crons = [spec for spec in specs if spec.type == "cron" and spec.schedule]
    monthly = {spec.name: monthly_fires(spec.schedule or "", start) for spec in crons}
    if not listing:
        counts = {spec.name: _count(spec.schedule or "", start, end) for spec in crons}
        return Forecast(start, end, None, counts, monthly)
    occurrences: list[Occurrence] = []
    for spec in crons:
        occurrences.extend(
            Occurrence(spec.name, at) for at in _fires_between(spec.schedule or "", start, end)
        )
    return _tally(crons, start, end, occurrences, monthly)


def _tally(
    crons: list[FunctionSpec],
    start: float,
    end: float,
    occurrences: list[Occurrence],
    monthly: dict[str, int] | None = None,
) -> Forecast:
    occurrences.sort(key=lambda o: o.scheduled_at)
    counts = dict.fromkeys((spec.name for spec in crons), 0)
    for occurrence in occurrences:
        counts[occurrence.function] = counts.get(occurrence.function, 0) + 1
    if monthly is None:
        monthly = {spec.name: monthly_fires(spec.schedule or "", start) for spec in crons}
    return Forecast(start, end, occurrences, counts, monthly)


def _fires_between(expr: str, start: float, end: float) -> list[float]:
    found: list[float] = []
    with contextlib.suppress(NeverFires):  # accepted by the platform, but its scheduler finds no next time
        found.extend(fires_in(expr, start - _EDGE, end))  # (what came before it is kept)
    return found


def _count(expr: str, start: float, end: float) -> int:
    try:
        return count_fires(expr, start - _EDGE, end)
    except NeverFires:
        return 0


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
        startup.release()  # `simulate --run`: the usual collector for the handlers' garbage
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
        summary.months = _measured_months(summary, [root.record for root in roots])
    finally:
        platform.close()
    return Simulation(summary, [root.record for root in roots], history=path)


def _measured_months(summary: Forecast, roots: list[Record]) -> list[MonthEstimate]:
    """The month with the attempts each cron's runs made per fire, capped as each plan caps."""
    runs: dict[str, list[Record]] = {}
    for root in roots:
        if root.trigger == "cron":
            runs.setdefault(root.function, []).append(root)
    months = []
    for plan in plans_to_judge(summary.plan):
        per_fire = {name: sum(_attempts(r, plan) for r in trees) / len(trees) for name, trees in runs.items()}
        months.append(measured_estimate(summary.monthly, per_fire, plan))
    return months


def _attempts(record: Record, plan: Plan | None) -> int:
    """The attempts ``record``'s tree made, as ``plan`` would have let it: at most its retries
    plus one per execution, at most its fan-out per parent (first ones kept)."""
    made = len(record.attempts) if plan is None else min(len(record.attempts), plan.retries + 1)
    children = record.children if plan is None else record.children[: plan.fan_out]
    return made + sum(_attempts(child, plan) for child in children)
