"""Shared by every test folder: ``tests/`` is on ``sys.path`` (``cli_support`` imports from
anywhere), and the per-folder conftests add what their layer needs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

_summaries: list[str] = []
"""Lines a test asked to show in the terminal summary (its ``summary`` user property)."""


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    # Here and not in a folder's conftest: under xdist the controller loads only this one, and
    # a worker's user properties reach it with the report.
    if report.when == "call":
        _summaries.extend(str(value) for name, value in report.user_properties if name == "summary")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in _summaries:
        terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def _no_event_loop_left_running() -> Iterator[None]:
    """A test that leaves an event loop marked running in this thread (Playwright's sync API
    kept open, a loop stopped from inside a callback) fails here, at its own teardown, instead
    of every later asyncio test on the same xdist worker ("Runner.run() cannot be called from
    a running event loop")."""
    yield
    try:
        leaked = asyncio.get_running_loop()
    except RuntimeError:
        return
    asyncio._set_running_loop(None)  # the later tests on this worker start clean
    pytest.fail(f"the test left {leaked!r} running in the test's thread")
