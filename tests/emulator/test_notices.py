"""The signs of an attempt that called the hosted service instead of the emulator, and the one
hint said about it."""

from __future__ import annotations

import pytest

from pingback_cli.emulator.notices import (
    SDK_DEFAULT_PLATFORM_URL,
    hosted_service,
    reached_hosted_service,
    taken_over,
)

SDK_TRACE = (
    'Traceback (most recent call last):\n  File "/app/jobs.py", line 9, in flaky\n    pb.trigger("later")\n'
    '  File "/venv/site-packages/pingback/client.py", line 248, in trigger\n'
    "urllib.error.URLError: <urlopen error [Errno -3] Temporary failure in name resolution>\n"
)


@pytest.mark.parametrize(
    ("error", "trace", "registered", "expected"),
    [
        ("HTTPSConnectionPool(host='api.pingback.lol', port=443): Max retries", None, None, True),
        ("<urlopen error [Errno -3] Temporary failure in name resolution>", SDK_TRACE, None, True),
        ("<urlopen error [Errno 111] Connection refused>", None, False, True),  # endpoint, unregistered
        ('Trigger failed (401): {"message": "Invalid API key"}', None, False, True),
        ("<urlopen error [Errno 111] Connection refused>", None, True, False),  # the app talks to us
        ("<urlopen error [Errno 111] Connection refused>", None, None, False),  # worker, not the SDK
        ("database is locked", None, False, False),
        (None, None, False, False),
    ],
)
def test_reached_hosted_service(
    error: str | None, trace: str | None, registered: bool | None, expected: bool
) -> None:
    assert reached_hosted_service(error, trace, app_registered=registered) is expected


def test_the_hint_names_the_sdk_default_and_what_to_set() -> None:
    hint = hosted_service("http://127.0.0.1:8765")
    assert SDK_DEFAULT_PLATFORM_URL in hint
    assert 'platform_url=os.environ.get("PINGBACK_PLATFORM_URL")' in hint
    assert "PINGBACK_PLATFORM_URL=http://127.0.0.1:8765" in hint
    assert "\n" not in hint


def test_a_take_over_counts_with_thousands_separators() -> None:
    """As every other count pingback prints (a new user's trial saw ``2667`` beside ``2,667``)."""
    from pingback_cli.models import Execution

    now = 1_764_000_000.0

    def leaf(number: int, **fields: object) -> Execution:
        return Execution(id=f"c{number}", function="leaf", type="task", scheduled_at=now, **fields)  # type: ignore[arg-type]

    waiting = [leaf(i, due_at=now - 1 if i < 2_000 else now + 60) for i in range(2_667)]
    ended = [leaf(i, status="interrupted") for i in range(2_667, 3_867)]
    assert taken_over(waiting + ended, now) == (
        "from the last `pingback dev`: 2,667 queued executions taken over (2,000 due now, 667 later); "
        "1,200 interrupted (no retries left)"
    )
