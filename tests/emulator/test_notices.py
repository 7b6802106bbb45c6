"""The signs of an attempt that called the hosted service instead of the emulator, and the one
hint said about it."""

from __future__ import annotations

import pytest

from pingback_cli.emulator.notices import SDK_DEFAULT_PLATFORM_URL, hosted_service, reached_hosted_service

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
