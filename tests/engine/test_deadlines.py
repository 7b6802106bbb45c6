"""Attempts' timeouts: one timer for all, each attempt expired at its own time, an answered one
never, and no timer left once nothing waits."""

from __future__ import annotations

import asyncio

from pingback_cli.engine.clock import AttemptTimeout, FakeClock
from pingback_cli.engine.deadlines import Deadlines


def timed_out(future: asyncio.Future[object]) -> bool:
    return future.done() and not future.cancelled() and isinstance(future.exception(), AttemptTimeout)


async def test_each_attempt_expires_at_its_own_time_with_one_timer() -> None:
    clock = FakeClock()
    deadlines = Deadlines(clock)
    loop = asyncio.get_running_loop()
    long_one, short_one = loop.create_future(), loop.create_future()
    deadlines.add(30, long_one)
    await clock.advance(1)
    later_short = loop.create_future()
    deadlines.add(5, short_one)
    await clock.advance(2)
    deadlines.add(5, later_short)
    assert len(clock.pending_delays()) == 1
    assert clock.pending_delays() == [3]  # the soonest: short_one, due at 6

    await clock.advance(3)
    assert timed_out(short_one) and not later_short.done() and not long_one.done()
    await clock.advance(2)
    assert timed_out(later_short) and not long_one.done()
    assert clock.pending_delays() == [22]
    await clock.advance(22)
    assert timed_out(long_one)
    assert clock.pending_delays() == []


async def test_an_answered_attempt_never_expires_and_leaves_no_timer() -> None:
    clock = FakeClock()
    deadlines = Deadlines(clock)
    loop = asyncio.get_running_loop()
    first, second = loop.create_future(), loop.create_future()
    deadlines.add(10, first)
    deadlines.add(10, second)
    second.set_result("answered")
    deadlines.settled(10)  # behind an unanswered one: kept until it reaches the front
    assert clock.pending_delays() == [10]
    first.set_result("answered")
    deadlines.settled(10)
    assert clock.pending_delays() == [], "no timer once nothing waits"
    await clock.advance(60)
    assert first.result() == second.result() == "answered"


async def test_a_cancelled_attempt_is_skipped_and_the_next_one_still_expires() -> None:
    clock = FakeClock()
    deadlines = Deadlines(clock)
    loop = asyncio.get_running_loop()
    cancelled, waiting = loop.create_future(), loop.create_future()
    deadlines.add(10, cancelled)
    await clock.advance(4)
    deadlines.add(10, waiting)
    cancelled.cancel()
    await clock.advance(6)
    assert cancelled.cancelled() and not waiting.done()
    assert clock.pending_delays() == [4]
    await clock.advance(4)
    assert timed_out(waiting)
