"""Shared by every test folder: ``tests/`` is on ``sys.path`` (``cli_support`` imports from
anywhere), and the per-folder conftests add what their layer needs."""

from __future__ import annotations

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
