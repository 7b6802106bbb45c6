"""An attempt's end as the platform records it: its logs, its notices, its timeout text.

Each notice names what production does that the answer itself does not say, and the section
of ``docs/parity.md`` that says why.
"""

from __future__ import annotations

from pingback_cli.models import Attempt, FunctionSpec, LogEntry
from pingback_cli.protocol import AttemptOutcome
from pingback_cli.reading import Reading


def timed_out(spec: FunctionSpec) -> str:
    """The error of an attempt past ``spec``'s timeout, saying how the platform read it."""
    text = f"timed out after {spec.timeout_seconds:g}s: the handler was still running"
    if spec.timeout_written is None:
        return f"{text} (timeout {spec.timeout or '30s'})"
    from pingback_cli.project.durations import read_timeout

    return f"{text}: {read_timeout(spec.timeout).advice()} (see docs/parity.md#timeouts)"


def keep_logs(attempt: Attempt, reading: Reading, outcome: AttemptOutcome) -> None:
    """The attempt's logs as the platform keeps them, and its notices. Without an answer (a
    timeout, a dead worker) the logs streamed before it stay, marked: the platform keeps none."""
    attempt.notices.extend(reading.notices)
    if outcome.response is not None or outcome.http_status is not None:
        attempt.logs = [LogEntry.from_json(entry) for entry in reading.logs]
        return
    if outcome.logs and not attempt.logs:
        attempt.logs = [LogEntry.from_json(entry) for entry in outcome.logs]
    if attempt.logs:
        attempt.notices.append(
            f"the {len(attempt.logs)} log line{'s' if len(attempt.logs) != 1 else ''} above: not kept by "
            "the platform, which keeps no log of an attempt that ended without an answer; shown "
            "here because they were streamed before it (see docs/parity.md#departures)"
        )


def over_declared(spec: FunctionSpec, running: int) -> str:
    return (
        f'"{spec.name}" is running {running} at once, more than its concurrency={spec.concurrency}: '
        "production does the same, since the platform never reads concurrency (one pool of 20 "
        "for everything); run with --concurrency documented to hold it to its declared limit "
        "(see docs/parity.md#concurrency)"
    )
