"""When endpoint mode says the app has not registered: only once the app answered a failed
attempt by running its handler (pingback-py registers on its first request), never after an
attempt succeeded or the app registered, never for a setup error; and at most one hint."""

from __future__ import annotations

import pytest

from pingback_cli.emulator.hints import Hints
from pingback_cli.models import Attempt, Execution

URL = "http://127.0.0.1:8765"


def failed(http_status: int | None, error: str = "RuntimeError: boom") -> Execution:
    execution = Execution(id="e1", function="boom", type="task", scheduled_at=0.0, status="failed")
    execution.attempts.append(
        Attempt(number=1, status="failed", started_at=0.0, http_status=http_status, error=error)
    )
    return execution


def said(hints_for: str, http_status: int | None) -> list[str]:
    words: list[str] = []
    hints = Hints(words.append, endpoint_mode=True)
    if hints_for == "registered":
        hints.app_registered = True
    elif hints_for == "succeeded":
        hints.app_succeeded = True
    for _ in range(3):
        hints.attempt_failed(failed(http_status), URL)
    return words


def test_the_app_ran_its_handler_without_registering_here() -> None:
    words = said("nothing", 500)
    assert len(words) == 1
    assert "has not registered with this dev" in words[0] and "restart the app" in words[0]
    assert f"PINGBACK_PLATFORM_URL={URL}" in words[0]


@pytest.mark.parametrize(
    ("known", "status"),
    [("registered", 500), ("succeeded", 500), ("nothing", 404), ("nothing", 401), ("nothing", None)],
)
def test_nothing_said(known: str, status: int | None) -> None:
    assert said(known, status) == []


def test_worker_mode_never_says_it() -> None:
    words: list[str] = []
    Hints(words.append, endpoint_mode=False).attempt_failed(failed(500), URL)
    assert words == []


def test_the_hosted_hint_comes_first_and_alone() -> None:
    words: list[str] = []
    hints = Hints(words.append, endpoint_mode=True)
    for _ in range(2):
        hints.attempt_failed(failed(500, "<urlopen error [Errno 111] Connection refused>"), URL)
    assert len(words) == 1 and "hosted Pingback service" in words[0]
