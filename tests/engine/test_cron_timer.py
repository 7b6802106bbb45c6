"""The cron scheduler on a fake clock, with a real engine and a scripted executor: nothing sleeps."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from pingback_cli.engine.clock import FakeClock, settle
from pingback_cli.engine.cron_timer import CronScheduler
from pingback_cli.engine.engine import Engine, Event
from pingback_cli.engine.slots import ConcurrencyMode
from pingback_cli.models import FunctionSpec
from pingback_cli.protocol import AttemptOutcome, AttemptRequest

HOUR = 3600.0
QUARTER = 900.0
MIDNIGHT = 1_764_288_000.0
"""2025-11-28 00:00:00 UTC: every cron in this file has an occurrence here."""


def cron(
    name: str,
    schedule: str,
    *,
    concurrency: int = 1,
    retries: int = 0,
    timeout: float = 6 * HOUR,
) -> FunctionSpec:
    """A cron whose default timeout outlasts every test, so a held run stays running."""
    return FunctionSpec(name, "cron", schedule, retries, f"{timeout:g}s", timeout, concurrency)


def task(name: str) -> FunctionSpec:
    return FunctionSpec(name, "task", None, 0, None, 30, 1)


def ok() -> AttemptOutcome:
    return AttemptOutcome(200, {"status": "success", "result": None, "logs": [], "tasks": []})


def failure() -> AttemptOutcome:
    return AttemptOutcome(500, {"status": "error", "error": "boom", "tasks": []})


class Executor:
    """Succeeds at once, or holds attempts of the functions in ``hang`` until released."""

    def __init__(self, hang: frozenset[str] = frozenset(), fail: frozenset[str] = frozenset()) -> None:
        self.hang = hang
        self.fail = fail
        self.requests: list[AttemptRequest] = []
        self.held: list[asyncio.Future[AttemptOutcome]] = []

    def start_attempt(self, request: AttemptRequest) -> asyncio.Future[AttemptOutcome]:
        self.requests.append(request)
        future: asyncio.Future[AttemptOutcome] = asyncio.get_running_loop().create_future()
        if request.function in self.hang:
            self.held.append(future)
        else:
            future.set_result(failure() if request.function in self.fail else ok())
        return future

    def release_first(self) -> None:
        self.held.pop(0).set_result(ok())


@dataclass
class Rig:
    clock: FakeClock
    engine: Engine
    executor: Executor
    scheduler: CronScheduler
    engine_events: list[Event] = field(default_factory=list)
    cron_events: list[Event] = field(default_factory=list)

    def fired(self) -> list[Event]:
        return [e for e in self.cron_events if e.kind == "fired"]

    def skipped(self) -> list[Event]:
        return [e for e in self.cron_events if e.kind == "skipped"]

    def started(self, name: str) -> list[float]:
        """scheduledAt of every attempt request the executor received for ``name``."""
        return [r.scheduled_at for r in self.executor.requests if r.function == name]


def rig(
    *specs: FunctionSpec,
    start: float = MIDNIGHT,
    executor: Executor | None = None,
    concurrency: ConcurrencyMode = "documented",
) -> Rig:
    clock = FakeClock(start)
    executor = executor or Executor()
    engine_events: list[Event] = []
    cron_events: list[Event] = []
    engine = Engine(
        executor, functions=specs, clock=clock, on_event=engine_events.append, concurrency=concurrency
    )
    scheduler = CronScheduler(engine, clock, on_event=cron_events.append)
    return Rig(clock, engine, executor, scheduler, engine_events, cron_events)


async def advance_to(r: Rig, moment: float) -> None:
    await r.clock.advance(moment - r.clock.now())


# --- firing on schedule -------------------------------------------------------------------


async def test_quarter_hour_cron_fires_exactly_at_each_occurrence() -> None:
    r = rig(cron("q", "*/15 * * * *"), start=MIDNIGHT + 100)
    r.scheduler.schedule(r.engine.functions.values())
    assert r.scheduler.next_runs() == {"q": MIDNIGHT + QUARTER}
    assert r.clock.pending_delays() == [QUARTER - 100]

    await advance_to(r, MIDNIGHT + QUARTER - 0.001)
    assert r.executor.requests == [] and r.fired() == []

    await advance_to(r, MIDNIGHT + QUARTER)
    assert r.started("q") == [MIDNIGHT + QUARTER]
    [event] = r.fired()
    execution = event.execution
    assert execution.scheduled_at == MIDNIGHT + QUARTER
    assert execution.trigger == "cron" and execution.type == "cron"
    assert execution.status == "success"
    assert event.at == MIDNIGHT + QUARTER
    assert r.scheduler.next_runs() == {"q": MIDNIGHT + 2 * QUARTER}


async def test_nothing_fires_between_occurrences() -> None:
    r = rig(cron("q", "*/15 * * * *"))
    r.scheduler.schedule(r.engine.functions.values())
    seen: list[int] = []
    for _ in range(60):  # one hour, a minute at a time
        await r.clock.advance(15)
        await r.clock.advance(45)
        seen.append(len(r.executor.requests))
    expected = [MIDNIGHT + QUARTER * n for n in range(1, 5)]
    assert r.started("q") == expected
    assert [e.execution.scheduled_at for e in r.fired()] == expected
    # The count only steps up on the minute of each quarter hour.
    steps = [minute + 1 for minute in range(len(seen)) if seen[minute] != (seen[minute - 1] if minute else 0)]
    assert steps == [15, 30, 45, 60]


async def test_a_long_jump_fires_every_occurrence_in_order() -> None:
    r = rig(cron("q", "*/15 * * * *"))
    r.scheduler.schedule(r.engine.functions.values())
    await r.clock.advance(3 * HOUR)
    await r.engine.drain()
    assert r.started("q") == [MIDNIGHT + QUARTER * n for n in range(1, 13)]
    assert all(e.execution.status == "success" for e in r.fired())


async def test_the_wire_body_carries_the_occurrence_as_scheduled_at() -> None:
    r = rig(cron("q", "*/15 * * * *"), start=MIDNIGHT + 5)
    r.scheduler.schedule(r.engine.functions.values())
    await r.clock.advance(QUARTER)
    [request] = r.executor.requests
    assert request.body()["scheduledAt"] == "2025-11-28T00:15:00.000Z"
    assert request.attempt == 1 and "payload" not in request.body()


async def test_tasks_are_not_scheduled_and_each_cron_has_its_own_timer() -> None:
    r = rig(cron("q", "*/15 * * * *"), cron("hourly", "0 * * * *"), task("t"))
    r.scheduler.schedule(r.engine.functions.values())
    assert r.scheduler.next_runs() == {"q": MIDNIGHT + QUARTER, "hourly": MIDNIGHT + HOUR}
    await r.clock.advance(HOUR)
    assert r.started("q") == [MIDNIGHT + QUARTER * n for n in range(1, 5)]
    assert r.started("hourly") == [MIDNIGHT + HOUR]
    assert r.started("t") == []


async def test_seconds_field_fires_every_five_seconds() -> None:
    r = rig(cron("fast", "*/5 * * * * *"))
    r.scheduler.schedule(r.engine.functions.values())
    await r.clock.advance(20)
    assert r.started("fast") == [MIDNIGHT + 5 * n for n in range(1, 5)]


async def test_a_schedule_the_platform_accepts_but_never_fires_is_not_armed() -> None:
    r = rig(cron("never", "0 0 31 4,6,9,11 *"), cron("q", "*/15 * * * *"))
    r.scheduler.schedule(r.engine.functions.values())
    assert r.scheduler.next_runs() == {"q": MIDNIGHT + QUARTER}


async def test_next_runs_is_a_copy() -> None:
    r = rig(cron("q", "*/15 * * * *"))
    r.scheduler.schedule(r.engine.functions.values())
    r.scheduler.next_runs().clear()
    assert r.scheduler.next_runs() == {"q": MIDNIGHT + QUARTER}


# --- skipping while at the concurrency limit ---------------------------------------------


async def test_by_default_occurrences_overlap_as_the_platform_runs_them() -> None:
    """scheduler.service.ts skips only an occurrence with the same scheduledAt: a slow run
    does not stop the next one from firing, whatever concurrency says."""
    r = rig(cron("q", "*/15 * * * *"), executor=Executor(hang=frozenset({"q"})), concurrency="platform")
    r.scheduler.schedule([cron("q", "*/15 * * * *")])
    await advance_to(r, MIDNIGHT + 3 * 900)
    assert [e.kind for e in r.cron_events] == ["fired", "fired", "fired"]
    assert r.engine.unfinished_count("q") == 3
    notices = [e.detail for e in r.engine_events if e.kind == "notice"]
    assert len(notices) == 1 and '"q" is running 2 at once, more than its concurrency=1' in notices[0]


async def test_concurrency_one_skips_the_next_occurrence_while_the_first_runs() -> None:
    r = rig(cron("q", "*/15 * * * *"), executor=Executor(hang=frozenset({"q"})))
    r.scheduler.schedule(r.engine.functions.values())
    await r.clock.advance(QUARTER)
    [first] = [e.execution for e in r.fired()]
    assert first.status == "running"

    await r.clock.advance(QUARTER)
    assert len(r.executor.requests) == 1, "the skipped occurrence must not reach the executor"
    [skip] = r.skipped()
    assert skip.execution.function == "q" and skip.execution.type == "cron"
    assert skip.execution.scheduled_at == MIDNIGHT + 2 * QUARTER
    assert skip.at == MIDNIGHT + 2 * QUARTER
    assert skip.detail == "1 still active (concurrency 1)"
    assert r.engine.unfinished_count("q") == 1
    assert skip.execution.id not in {e.execution.id for e in r.engine_events}

    # Once the first run finishes, the following occurrence fires normally.
    r.executor.release_first()
    await settle()
    assert first.status == "success"
    await r.clock.advance(QUARTER)
    assert [e.execution.scheduled_at for e in r.fired()] == [MIDNIGHT + QUARTER, MIDNIGHT + 3 * QUARTER]
    assert len(r.skipped()) == 1


async def test_concurrency_two_runs_a_second_and_skips_the_third() -> None:
    r = rig(cron("q", "*/15 * * * *", concurrency=2), executor=Executor(hang=frozenset({"q"})))
    r.scheduler.schedule(r.engine.functions.values())
    await r.clock.advance(2 * QUARTER)
    assert r.started("q") == [MIDNIGHT + QUARTER, MIDNIGHT + 2 * QUARTER]
    assert all(e.execution.status == "running" for e in r.fired())

    await r.clock.advance(QUARTER)
    assert len(r.executor.requests) == 2
    [skip] = r.skipped()
    assert skip.execution.scheduled_at == MIDNIGHT + 3 * QUARTER
    assert skip.detail == "2 still active (concurrency 2)"

    r.executor.release_first()
    await settle()
    await r.clock.advance(QUARTER)
    assert r.started("q")[-1] == MIDNIGHT + 4 * QUARTER
    assert len(r.skipped()) == 1


async def test_a_run_waiting_for_its_retry_still_counts_as_active() -> None:
    r = rig(
        cron("m", "* * * * *", retries=2),
        executor=Executor(fail=frozenset({"m"})),
    )
    r.scheduler.schedule(r.engine.functions.values())
    await r.clock.advance(60)  # attempt 1 fails; attempt 2 after 2 s, attempt 3 after 4 s more
    [first] = [e.execution for e in r.fired()]
    assert first.status == "pending"
    await r.clock.advance(60)
    assert first.status == "failed" and len(first.attempts) == 3
    assert r.skipped() == [], "finished before the next minute"

    r = rig(
        cron("m", "* * * * *", retries=10),
        executor=Executor(fail=frozenset({"m"})),
    )
    r.scheduler.schedule(r.engine.functions.values())
    await r.clock.advance(60)
    await r.clock.advance(60)  # still backing off (2+4+8+16+32 s...): the next minute is skipped
    [first] = [e.execution for e in r.fired()]
    assert first.status == "pending" and not first.finished
    assert [e.execution.scheduled_at for e in r.skipped()] == [MIDNIGHT + 120]


async def test_the_engines_current_concurrency_decides_not_the_armed_spec() -> None:
    r = rig(cron("q", "*/15 * * * *"), executor=Executor(hang=frozenset({"q"})))
    r.scheduler.schedule(r.engine.functions.values())
    r.engine.set_functions([cron("q", "*/15 * * * *", concurrency=2)])
    await r.clock.advance(2 * QUARTER)
    assert r.started("q") == [MIDNIGHT + QUARTER, MIDNIGHT + 2 * QUARTER]
    assert r.skipped() == []


async def test_a_cron_the_engine_no_longer_has_is_not_fired() -> None:
    r = rig(cron("q", "*/15 * * * *"), cron("h", "0 * * * *"))
    r.scheduler.schedule(r.engine.functions.values())
    r.engine.set_functions([cron("h", "0 * * * *")])  # "q" removed, scheduler not yet re-armed
    await r.clock.advance(HOUR)
    assert r.started("q") == [] and r.skipped() == []
    assert r.started("h") == [MIDNIGHT + HOUR]


# --- reload and stop ----------------------------------------------------------------------


async def test_reload_rearms_from_now_and_drops_removed_crons() -> None:
    r = rig(cron("a", "0 * * * *"), cron("b", "*/15 * * * *"))
    r.scheduler.schedule(r.engine.functions.values())
    await r.clock.advance(20 * 60)  # b fired at 00:15
    assert r.started("b") == [MIDNIGHT + QUARTER]

    new_specs = [cron("a", "*/5 * * * *")]
    r.engine.set_functions(new_specs)
    r.scheduler.schedule(new_specs)
    assert r.scheduler.next_runs() == {"a": MIDNIGHT + 25 * 60}
    assert r.clock.pending_delays() == [5 * 60], "the old timers are cancelled, not left behind"

    await advance_to(r, MIDNIGHT + HOUR)
    assert r.started("b") == [MIDNIGHT + QUARTER], "a removed cron never fires again"
    assert r.started("a") == [MIDNIGHT + 60 * m for m in range(25, 61, 5)]


async def test_reload_on_an_occurrence_does_not_fire_it_twice() -> None:
    r = rig(cron("q", "*/15 * * * *"))
    r.scheduler.schedule(r.engine.functions.values())
    await r.clock.advance(QUARTER)
    assert r.started("q") == [MIDNIGHT + QUARTER]
    r.scheduler.schedule(r.engine.functions.values())  # a save right at 00:15:00
    r.scheduler.schedule(r.engine.functions.values())
    assert r.scheduler.next_runs() == {"q": MIDNIGHT + 2 * QUARTER}
    assert r.clock.pending_delays() == [QUARTER]
    await r.clock.advance(QUARTER)
    assert r.started("q") == [MIDNIGHT + QUARTER, MIDNIGHT + 2 * QUARTER]


async def test_reload_keeps_running_executions_and_counts_them_for_skipping() -> None:
    r = rig(cron("q", "*/15 * * * *"), executor=Executor(hang=frozenset({"q"})))
    r.scheduler.schedule(r.engine.functions.values())
    await r.clock.advance(QUARTER)
    r.scheduler.schedule(r.engine.functions.values())
    await r.clock.advance(QUARTER)
    assert len(r.executor.requests) == 1
    assert [e.execution.scheduled_at for e in r.skipped()] == [MIDNIGHT + 2 * QUARTER]


async def test_stop_cancels_every_timer() -> None:
    r = rig(cron("q", "*/15 * * * *"), cron("h", "0 * * * *"), cron("d", "0 0 * * *"))
    r.scheduler.schedule(r.engine.functions.values())
    assert len(r.clock.pending_delays()) == 3
    r.scheduler.stop()
    assert r.clock.pending_delays() == []
    assert r.scheduler.next_runs() == {}
    await r.clock.advance(2 * 24 * HOUR)
    assert r.executor.requests == [] and r.cron_events == []


async def test_stop_leaves_running_executions_to_the_engine() -> None:
    r = rig(cron("q", "*/15 * * * *"), executor=Executor(hang=frozenset({"q"})))
    r.scheduler.schedule(r.engine.functions.values())
    await r.clock.advance(QUARTER)
    r.scheduler.stop()
    r.executor.release_first()
    await r.engine.drain()
    [event] = r.fired()
    assert event.execution.status == "success"


async def test_schedule_with_no_crons_arms_nothing() -> None:
    r = rig(task("t"))
    r.scheduler.schedule(r.engine.functions.values())
    assert r.scheduler.next_runs() == {} and r.clock.pending_delays() == []


# --- a clock that jumps (a laptop waking from sleep) ---------------------------------------


class JumpingClock(FakeClock):
    """A fake clock whose wall time can leap forward before overdue timers get to run."""

    def jump(self, seconds: float) -> None:
        self._now += seconds


async def test_occurrences_missed_while_asleep_are_not_replayed() -> None:
    clock = JumpingClock(MIDNIGHT)
    executor = Executor()
    cron_events: list[Event] = []
    engine = Engine(executor, functions=[cron("m", "* * * * *")], clock=clock)
    scheduler = CronScheduler(engine, clock, on_event=cron_events.append)
    scheduler.schedule(engine.functions.values())
    clock.jump(8 * HOUR + 30)  # asleep from 00:00:00 to 08:00:30
    await clock.advance(0)
    await engine.drain()
    # The overdue 00:01 timer fires once on waking, then the next one is the coming minute,
    # not a burst of 480 missed minutes.
    assert [e.kind for e in cron_events] == ["fired"]
    assert scheduler.next_runs() == {"m": MIDNIGHT + 8 * HOUR + 60}


@pytest.mark.parametrize(
    ("schedule", "start", "due"),
    [
        ("*/15 * * * *", MIDNIGHT, MIDNIGHT + QUARTER),
        ("*/15 * * * *", MIDNIGHT + QUARTER - 1, MIDNIGHT + QUARTER),
        ("0 0 * * *", MIDNIGHT, MIDNIGHT + 24 * HOUR),
        ("30 9 * * 1-5", MIDNIGHT, MIDNIGHT + 9.5 * HOUR),  # Friday 28th
        ("30 9 * * 1-5", MIDNIGHT + 10 * HOUR, MIDNIGHT + 3 * 24 * HOUR + 9.5 * HOUR),  # -> Monday
    ],
)
async def test_first_occurrence_is_strictly_after_now(schedule: str, start: float, due: float) -> None:
    r = rig(cron("c", schedule), start=start)
    r.scheduler.schedule(r.engine.functions.values())
    assert r.scheduler.next_runs() == {"c": due}
    await advance_to(r, due)
    assert r.started("c") == [due]


# --- occurrences that came due while no dev ran ----------------------------------------------


async def test_the_first_occurrence_missed_while_stopped_fires_late_and_the_rest_are_said_skipped() -> None:
    # Last fired 00:00 (history), dev back at 01:00:07: 00:15, 00:30, 00:45 and 01:00 came due.
    r = rig(cron("q", "*/15 * * * *"), cron("fresh", "*/15 * * * *"), start=MIDNIGHT + HOUR + 7)
    r.scheduler.schedule(r.engine.functions.values())
    r.scheduler.catch_up(r.engine.functions.values(), {"q": MIDNIGHT})  # "fresh" never fired
    await r.engine.drain()
    [event] = r.fired()
    assert event.execution.function == "q" and event.execution.scheduled_at == MIDNIGHT + QUARTER
    assert event.execution.trigger == "cron" and event.execution.status == "success"
    assert "while pingback dev was stopped: fired late, as the platform does" in (event.detail or "")
    assert (event.detail or "").endswith("; 3 later occurrences skipped, as the platform skips them")
    assert r.started("q") == [MIDNIGHT + QUARTER]
    assert r.scheduler.next_runs() == {"q": MIDNIGHT + HOUR + QUARTER, "fresh": MIDNIGHT + HOUR + QUARTER}


async def test_a_restart_before_the_next_occurrence_fires_nothing_extra() -> None:
    r = rig(cron("q", "*/15 * * * *"), start=MIDNIGHT + QUARTER + 30)  # fired 00:15, back at 00:15:30
    r.scheduler.schedule(r.engine.functions.values())
    r.scheduler.catch_up(r.engine.functions.values(), {"q": MIDNIGHT + QUARTER})
    await r.engine.drain()
    assert r.fired() == [] and r.executor.requests == []
    await advance_to(r, MIDNIGHT + 2 * QUARTER)
    assert r.started("q") == [MIDNIGHT + 2 * QUARTER]  # then on schedule, once
