"""An attempt's record as it moves: begun, answered, or closed without an answer (a stop, a
cancel). Pure changes to ``Execution`` and ``Attempt``; the engine decides which one happens."""

from __future__ import annotations

from typing import Any

from pingback_cli.engine.outcomes import keep_logs
from pingback_cli.models import Attempt, Execution, LogEntry, OutputLine
from pingback_cli.protocol import AttemptOutcome
from pingback_cli.reading import Reading


def begin(execution: Execution, now: float, *, by_hand: bool = False) -> Attempt:
    """The next attempt of ``execution``, running from ``now`` (the execution's start if first);
    ``by_hand``: a manual retry asked for it, at ``scheduled_at`` (``again``)."""
    execution.attempt += 1
    attempt = Attempt(number=execution.attempt, status="running", started_at=now)
    if by_hand:
        attempt.requested_at = execution.scheduled_at
    execution.attempts.append(attempt)
    execution.status = "running"
    if execution.started_at is None:
        execution.started_at = now
    return attempt


def again(execution: Execution, now: float) -> None:
    """``execution`` (finished) is due again at ``now`` for one more attempt, as the platform's
    manual retry has it: the same record, its earlier children left to history."""
    execution.status = "pending"
    execution.scheduled_at = execution.due_at = now
    execution.completed_at = None
    execution.children = []


def answered(
    execution: Execution, attempt: Attempt, outcome: AttemptOutcome, reading: Reading, now: float
) -> None:
    """``attempt`` ended at ``now`` with ``outcome`` (read as ``reading``): its logs, notices,
    duration (ms) and HTTP status, copied to the execution. Success or failure is set apart."""
    keep_logs(attempt, reading, outcome)
    attempt.completed_at = now
    attempt.duration_ms = round((now - attempt.started_at) * 1000)
    attempt.http_status = outcome.http_status
    execution.logs = attempt.logs
    execution.http_status = outcome.http_status
    execution.duration_ms = attempt.duration_ms


def close_running(
    execution: Execution, status: str, reason: str, now: float | None, *, died: bool = False
) -> list[Attempt]:
    """End ``execution``'s running attempt at ``now`` as ``status`` (interrupted, failed,
    cancelled) with ``reason`` as its error; its logs and duration become the execution's.
    ``died``: the process running it was killed, so it ended when it was last seen
    (``Attempt.last_seen``), and its duration is unknown (None) when it never was.
    Returns the attempts so closed (none when nothing ran)."""
    closed = []
    for attempt in execution.attempts:
        if attempt.status == "running":
            ended = attempt.last_seen() if died else now
            attempt.status = status
            attempt.error = reason
            attempt.completed_at = ended
            attempt.duration_ms = (
                None if ended is None else max(0, round((ended - attempt.started_at) * 1000))
            )
            execution.logs = attempt.logs
            execution.duration_ms = attempt.duration_ms
            closed.append(attempt)
    return closed


def succeeded(execution: Execution, attempt: Attempt, outcome: AttemptOutcome, now: float) -> None:
    """``attempt`` succeeded: the execution is over with the answer's ``result``."""
    attempt.status = "success"
    execution.status = "success"
    execution.result = (outcome.response or {}).get("result")
    execution.error = None
    execution.completed_at = now


def failed(execution: Execution, attempt: Attempt, error: str, outcome: AttemptOutcome) -> None:
    """``attempt`` failed with ``error`` (and the outcome's traceback); whether the execution is
    retried or over is the engine's choice (``end``)."""
    attempt.status = "failed"
    attempt.error = error
    attempt.traceback = outcome.traceback
    execution.error = error


def stopped(
    execution: Execution, reason: str, now: float, retry_in: float | None, *, died: bool = False
) -> None:
    """The running attempt failed because pingback stopped (``reason``): the execution waits
    ``retry_in`` seconds for its next attempt, or is ``interrupted`` when that is None.
    ``died``: that pingback was killed, so the attempt ended when last seen (``close_running``)."""
    closed = close_running(execution, "failed", reason, now, died=died)
    execution.error = reason
    if retry_in is not None:
        due(execution, now + retry_in)
    else:
        execution.status = "interrupted"
        execution.completed_at = closed[-1].completed_at if died and closed else now


def due(execution: Execution, at: float) -> None:
    """``execution`` waits (``pending``) for its next attempt, due ``at``."""
    execution.status = "pending"
    execution.due_at = at


def refused(child: Execution, problem: str, now: float) -> None:
    """A fan-out child that never runs: failed at ``now`` with ``problem`` as its error."""
    child.status = "failed"
    child.error = problem
    child.started_at = child.completed_at = now


def end(execution: Execution, status: str, error: str | None, now: float) -> None:
    """The execution is over at ``now`` as ``status`` (failed, interrupted, cancelled)."""
    execution.status = status
    execution.error = error
    execution.completed_at = now


def add_line(attempt: Attempt, entry: dict[str, Any]) -> LogEntry | OutputLine:
    """A line the running handler of ``attempt`` logged, or printed (``stream`` in ``entry``:
    worker/capture.py), kept on the attempt."""
    if "stream" in entry:
        line = OutputLine.from_json(entry)
        attempt.output.append(line)
        return line
    log = LogEntry.from_json(entry)
    attempt.logs.append(log)
    return log
