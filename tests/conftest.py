"""Shared by every test folder: ``tests/`` is on ``sys.path`` (``cli_support`` imports from
anywhere), and the per-folder conftests add what their layer needs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

# Property tests never fail on how long this machine took to draw their examples: every one sets
# deadline=None already, and the too_slow health check (data generation over ~1 s, easy for a
# loaded 2-core machine) is off too, as Hypothesis' own "ci" profile has it when it detects CI.
if settings.default is not None and not settings.default.derandomize:  # not the "ci" profile
    settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
    settings.load_profile("suite")

# The test modules' bytecode (pytest's assertion-rewritten copies included) is kept between runs
# even where PYTHONDONTWRITEBYTECODE=1 (this machine, many CI images): each xdist worker
# collects every module, ~3.5 s of CPU per worker when all are compiled from source. Only this
# process is affected, and only while it collects (pytest_collection_finish puts the setting
# back: the fixture projects tests import get no __pycache__); the `pingback` commands the
# tests start keep the environment's setting.
_DONT_WRITE_BYTECODE = sys.dont_write_bytecode
sys.dont_write_bytecode = False

_summaries: list[str] = []
"""Lines a test asked to show in the terminal summary (its ``summary`` user property)."""


def pytest_collection_finish(session: pytest.Session) -> None:
    sys.dont_write_bytecode = _DONT_WRITE_BYTECODE


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Here and not in a folder's conftest: under xdist the controller loads only this one, and
    # a worker's user properties reach it with the report.
    if report.when == "call":
        _summaries.extend(str(value) for name, value in report.user_properties if name == "summary")


@pytest.hookimpl(tryfirst=True)  # before xdist turns xdist_group marks into node ids
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Scheduling for ``pytest -n N --dist loadgroup --no-loadscope-reorder`` (scripts/test):
    xdist hands out work units (a group, or one test) in the order of their first test here.

    - A test that uses a module-scoped fixture (a shared ``pingback dev``, a batch of commands
      run once) joins its module's xdist group: the fixture is built once, on one worker,
      instead of once on every worker that happens to receive one of its tests.
    - Longest first: units holding a test marked ``long`` lead, the one expected to take longest
      first (``@pytest.mark.long(SECONDS)``, the idle-machine wall time; 30 when not given; a
      unit's other tests count 1.5 s each), then the other groups (a chain of tests on one
      worker), largest first, then single tests. A run then does not end with one worker
      finishing a long test alone. Within a group the tests keep their order (a module's last
      test may check its shared dev).
    """
    for item in items:
        if item.get_closest_marker("xdist_group") is None and _uses_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        group = item.get_closest_marker("xdist_group")
        name = (group.args[0] if group.args else group.kwargs.get("name")) if group else None
        units.setdefault(item.nodeid if name is None else str(name), []).append(item)
    ordered = sorted(units.values(), key=_unit_priority)  # stable: ties keep collection order
    items[:] = [item for unit in ordered for item in unit]


LONG_DEFAULT_SECONDS = 30.0
OTHER_TEST_SECONDS = 1.5
"""A guess for a test that is not marked ``long``, when it shares a unit with one that is."""


def _unit_priority(unit: list[pytest.Item]) -> tuple[int, float]:
    marks = [item.get_closest_marker("long") for item in unit]
    if any(marks):
        seconds = sum(
            (float(mark.args[0]) if mark.args else LONG_DEFAULT_SECONDS) if mark else OTHER_TEST_SECONDS
            for mark in marks
        )
        return 0, -seconds
    return (1, -len(unit)) if len(unit) > 1 else (2, 0)


def _uses_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        definitions[-1].scope in ("module", "class")
        for name, definitions in info.name2fixturedefs.items()
        if definitions and name in info.names_closure
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _summaries:
        terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _no_event_loop_left_running(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that leaves an event loop marked running in this thread (Playwright's sync API
    kept open, a loop stopped from inside a callback) fails here, at its own teardown, instead
    of every later asyncio test on the same xdist worker ("Runner.run() cannot be called from
    a running event loop"). The one exception is a loop a wider fixture keeps running on
    purpose and stops itself (``kept_running_loop``: the browser tests' Playwright)."""
    yield
    try:
        leaked = asyncio.get_running_loop()
    except RuntimeError:
        return
    if "kept_running_loop" in request.fixturenames and leaked is request.getfixturevalue("kept_running_loop"):
        return
    asyncio._set_running_loop(None)  # the later tests on this worker start clean
    pytest.fail(f"the test left {leaked!r} running in the test's thread")
