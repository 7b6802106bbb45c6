"""The virtual platform's parts on their own: the clock, the time parsers, the fixture's edges."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pingback_cli.testing.clock import VirtualClock
from pingback_cli.testing.platform import VirtualPlatform
from pingback_cli.testing.times import instant, span


def test_the_clock_fires_in_time_order_and_same_time_in_arming_order() -> None:
    clock = VirtualClock(100.0)
    fired: list[tuple[str, float]] = []
    clock.call_later(5, lambda: fired.append(("late", clock.now())))
    clock.call_later(1, lambda: fired.append(("a", clock.now())))
    clock.call_later(1, lambda: fired.append(("b", clock.now())))
    clock.call_later(3, lambda: fired.append(("cancelled", clock.now()))).cancel()

    assert clock.next_due() == 101.0
    while clock.next_due() is not None:
        clock.fire_next()

    assert fired == [("a", 101.0), ("b", 101.0), ("late", 105.0)]
    assert clock.pending() == 0


def test_instants_and_spans() -> None:
    assert instant("2026-12-01T02:59:00Z") == datetime(2026, 12, 1, 2, 59, tzinfo=timezone.utc).timestamp()
    assert instant("2026-12-01T03:59:00+01:00") == instant("2026-12-01T02:59:00Z")
    assert instant("2026-12-01T02:59") == instant("2026-12-01T02:59:00Z")  # naive is UTC
    assert span("1d2h30m") == 86400 + 7200 + 1800
    assert span("1w") == 7 * 86400
    assert span(timedelta(minutes=2)) == 120
    assert span("90") == 90
    for bad in ("soon", "1x", "-5", True):
        with pytest.raises(ValueError):
            span(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a point in time"):
        instant("tomorrow")


def test_handlers_may_run_their_own_event_loop(pingback: VirtualPlatform) -> None:
    assert pingback.run("gather", {"value": 21}).result == {"doubled": 42}


def test_executions_lists_every_root_in_creation_order(pingback: VirtualPlatform) -> None:
    first = pingback.run("month-end")
    queued = pingback.trigger("follow-up", {"user": "u"}, delay="1h")
    pingback.advance("15m")

    functions = [e.function for e in pingback.executions]
    assert functions == ["month-end", "follow-up", "digest"]
    assert pingback.executions[0] == first and pingback.executions[1] == queued
    assert first.to_json()["executionId"] == first.id


def test_history_defaults_to_the_projects_file(in_timeproj: Path, tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "timeproj"
    shutil.copytree(in_timeproj, project, ignore=shutil.ignore_patterns(".pingback", "__pycache__"))
    platform = VirtualPlatform(cwd=project)
    try:
        path = platform.history()
        platform.run("month-end")
    finally:
        platform.close()
    assert path == project / ".pingback" / "history.sqlite3"
    assert path.is_file()


def test_order_of_setup_calls_is_checked(pingback: VirtualPlatform) -> None:
    pingback.run("month-end")
    with pytest.raises(RuntimeError, match="already loaded"):
        pingback.load()
    with pytest.raises(RuntimeError, match="isolated"):
        pingback.isolated()
    with pytest.raises(ValueError, match="times must be 1 or more"):
        pingback.fail("deliver", times=0)


def test_closing_interrupts_what_is_unfinished(in_timeproj: Path) -> None:
    platform = VirtualPlatform()
    queued = platform.trigger("follow-up", {"user": "u"}, delay="1h")
    platform.close()
    assert queued.status == "interrupted"


def test_a_registration_at_import_reaches_the_virtual_platform(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "eager"\nversion = "0"\n')
    (tmp_path / "eager_jobs.py").write_text(
        "import os\n"
        "from pingback import Pingback\n"
        "pb = Pingback(api_key='pb_live_test', cron_secret=os.environ['PINGBACK_CRON_SECRET'])\n"
        "@pb.task('ping')\n"
        "def ping(ctx):\n"
        "    return 'pong'\n"
        "pb.register()\n"
    )
    with caplog.at_level("ERROR", logger="pingback"), VirtualPlatform(cwd=tmp_path) as platform:
        assert platform.run("ping").result == "pong"
    assert [r.message for r in caplog.records if r.name == "pingback"] == []
