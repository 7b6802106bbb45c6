"""How an execution is stored: the table's columns, and a row from and to an Execution.

JSON columns are written strictly where the value is JSON and leniently (repr) where a
handler returned something JSON cannot hold, so a row can always be written and read back.
Nothing written holds NaN or Infinity (JSON has neither; see ``protocol.json_safe``), and
reading is forgiving: a row written by an older version (a ``NaN`` inside) or damaged by
hand still reads, its bad column shown as text or left empty, so one row can never make a
listing fail.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from pingback_cli.models import JSON, Attempt, Execution, LogEntry, OutputLine
from pingback_cli.protocol import NON_FINITE_TEXT, compact_encoder, json_safe, non_finite_path

# Column order of a row as written; reads use the same order without seq.
COLUMNS = (
    "id",
    "seq",
    "root_id",
    "parent_id",
    "depth",
    "function",
    "type",
    "status",
    "attempt",
    "has_payload",
    "payload",
    "result",
    "error",
    "logs",
    "attempts",
    "scheduled_at",
    "started_at",
    "completed_at",
    "duration_ms",
    "http_status",
    "trigger",
    "replay_of",
    "due_at",
    "owner",
    "queue",
    "listed_at",
)


QUOTED = [f'"{name}"' for name in COLUMNS]


READ_COLUMNS = [name for name in QUOTED if name not in ('"seq"', '"owner"', '"queue"', '"listed_at"')]


SELECT = ", ".join(READ_COLUMNS)


SELECT_ROOT = ", ".join(f"r.{name}" for name in READ_COLUMNS)


UPSERT = (
    f"INSERT INTO executions ({', '.join(QUOTED)}) VALUES ({', '.join('?' for _ in QUOTED)})"
    " ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in QUOTED if name not in ('"id"', '"seq"'))
)


# Encoders are built once: json.dumps with options builds a new one per call.
_STRICT = compact_encoder()


_LENIENT = compact_encoder(default=repr)


# NaN / Infinity in an older row read as the strings "NaN" / "Infinity".
_DECODER = json.JSONDecoder(parse_constant=NON_FINITE_TEXT.__getitem__)


def loads(text: str) -> JSON:
    """``json.loads`` for text we wrote: no surrounding whitespace to skip."""
    return _DECODER.raw_decode(text)[0]


def _load_value(text: str) -> JSON:
    """A payload or result column; text that is not JSON (a damaged row) reads as itself."""
    try:
        return loads(text)
    except (ValueError, RecursionError):
        return text


def dump_value(value: JSON) -> str:
    """JSON text; NaN and Infinity are stored as strings, and a value JSON cannot hold at
    all as its repr string."""
    try:
        return _STRICT(value)
    except ValueError:
        if non_finite_path(value) is not None:
            return dump_value(json_safe(value))
        return _STRICT(_repr(value))
    except (TypeError, RecursionError):
        return _STRICT(_repr(value))


def _repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _dump_list(items: list[dict[str, JSON]]) -> str:
    """Logs and attempts; a value inside that JSON cannot hold becomes its repr."""
    if not items:
        return "[]"
    try:
        return _LENIENT(items)
    except ValueError:  # NaN or Infinity inside, or a circular log meta
        if non_finite_path(items) is not None:
            return _dump_list(json_safe(items))
        return "[]"
    except RecursionError:
        return "[]"


def _load_list(text: str | None) -> list[Any]:
    if not text or text == "[]":
        return []
    try:
        loaded = loads(text)
    except (ValueError, RecursionError):  # a damaged row: its list reads as empty
        return []
    return loaded if isinstance(loaded, list) else []


def _dump_logs(logs: list[LogEntry]) -> str:
    return _dump_list([log.to_json() for log in logs]) if logs else "[]"


def _load_logs(text: str | None) -> list[LogEntry]:
    return _log_entries(_load_list(text))


def _log_entries(items: Any) -> list[LogEntry]:
    """Log entries from stored JSON, skipping any that is not a readable entry."""
    entries: list[LogEntry] = []
    for item in items if isinstance(items, list) else ():
        try:
            entries.append(LogEntry.from_json(item))
        except (AttributeError, TypeError, ValueError):
            continue
    return entries


def _output_lines(items: list[Any]) -> list[OutputLine]:
    lines = []
    for item in items:
        with contextlib.suppress(AttributeError, TypeError, ValueError):
            lines.append(OutputLine.from_json(item))
    return lines


def dump_attempts(attempts: list[Attempt], logs_text: tuple[list[LogEntry], str] | None = None) -> str:
    """Like ``Attempt.to_json`` but with unix-second times: ISO formatting dominated flushes.
    ``logs_text``: a list of logs and its text as ``_dump_logs`` wrote it (the execution's
    logs, which are its last attempt's own list), so that it is not encoded twice."""
    if not attempts:
        return "[]"
    if len(attempts) == 1 and (plain := _plain_attempt(attempts[0], logs_text)) is not None:
        return plain
    return _general_attempts(attempts)


def _general_attempts(attempts: list[Attempt]) -> str:
    return _dump_list(
        [
            {
                "attempt": attempt.number,
                "status": attempt.status,
                "startedAt": attempt.started_at,
                "completedAt": attempt.completed_at,
                "durationMs": attempt.duration_ms,
                "httpStatus": attempt.http_status,
                "error": attempt.error,
                "traceback": attempt.traceback,
                "logs": [log.to_json() for log in attempt.logs],
                **({"notices": attempt.notices} if attempt.notices else {}),
                **({"output": [line.to_json() for line in attempt.output]} if attempt.output else {}),
                **({"requestedAt": attempt.requested_at} if attempt.requested_at is not None else {}),
            }
            for attempt in attempts
        ]
    )


_PLAIN_STATUSES = frozenset({"pending", "running", "success", "failed", "interrupted", "cancelled"})


def _number(value: Any) -> str | None:
    """JSON text of a finite int or float, as the json module writes it; None for anything else."""
    kind = type(value)
    if kind is float:
        return repr(value) if value - value == 0.0 else None  # NaN and infinities fail this
    return repr(value) if kind is int else None


def _text(value: Any) -> str | None:
    """JSON text of None or a string, as the encoder writes it inside a list; None otherwise."""
    if value is None:
        return "null"
    return _STRICT(value) if type(value) is str else None


def _plain_attempt(attempt: Attempt, logs_text: tuple[list[LogEntry], str] | None = None) -> str | None:
    """``dump_attempts([attempt])`` for the usual attempt (numbers, text or null for its error
    and traceback, no notice or output), written directly; None when it is not one. Runs about
    once per execution (a failed one's with its error, traceback and ``ctx.log`` lines): a float
    time, an int and None are written inline, anything else by ``_number``/``_text``."""
    number, started, completed, duration, status = (
        attempt.number, attempt.started_at, attempt.completed_at, attempt.duration_ms, attempt.http_status
    )  # fmt: skip
    if (
        attempt.notices
        or attempt.output
        or attempt.requested_at is not None
        or attempt.status not in _PLAIN_STATUSES
        or number.__class__ is not int
    ):
        return None
    started_text = (
        repr(started) if started.__class__ is float and started - started == 0.0 else _number(started)
    )
    completed_text = "null" if completed is None else _number(completed)
    duration_text = (
        repr(duration) if duration.__class__ is int else "null" if duration is None else _number(duration)
    )
    status_text = repr(status) if status.__class__ is int else "null" if status is None else _number(status)
    error, traceback = attempt.error, attempt.traceback
    error_text = "null" if error is None else _text(error)
    traceback_text = "null" if traceback is None else _text(traceback)
    logs = "[]"
    if attempt.logs:
        if logs_text is not None and logs_text[0] is attempt.logs:
            logs = logs_text[1]
        else:
            logs = _dump_logs(attempt.logs)
        if logs == "[]" or "NaN" in logs or "Infinity" in logs:
            return None  # a log the encoder could not write as it is: the general way decides
    if None in (started_text, completed_text, duration_text, status_text, error_text, traceback_text):
        return None
    return (
        f'[{{"attempt":{number},"status":"{attempt.status}","startedAt":{started_text},'
        f'"completedAt":{completed_text},"durationMs":{duration_text},"httpStatus":{status_text},'
        f'"error":{error_text},"traceback":{traceback_text},"logs":{logs}}}]'
    )


def load_attempts(text: str | None) -> list[Attempt]:
    """Attempts as ``dump_attempts`` wrote them; an entry missing its number or status is skipped."""
    attempts: list[Attempt] = []
    for item in _load_list(text):
        try:
            attempts.append(
                Attempt(
                    number=item["attempt"],
                    status=item["status"],
                    started_at=item["startedAt"],
                    completed_at=item.get("completedAt"),
                    duration_ms=item.get("durationMs"),
                    http_status=item.get("httpStatus"),
                    error=item.get("error"),
                    traceback=item.get("traceback"),
                    logs=_log_entries(item.get("logs") or []),
                    notices=[str(notice) for notice in item.get("notices") or []],
                    output=_output_lines(item.get("output") or []),
                    requested_at=item.get("requestedAt"),
                )
            )
        except (KeyError, TypeError, AttributeError):
            continue
    return attempts


def listed_at(seq: int, e: Execution, *, simulated: bool = False) -> float:
    """The time lists order ``e`` by (``schema.shown_at``), in unix seconds: when it started,
    else when it is due; when it was recorded (``seq``, microseconds of the real clock) if its
    times come from a ``simulated`` clock; when it was cancelled if that was before it started
    (a delayed trigger: its due time never came)."""
    if simulated:
        return seq / 1_000_000
    if e.started_at is not None:
        return e.started_at
    if e.status == "cancelled":
        return e.completed_at if e.completed_at is not None else seq / 1_000_000
    return e.scheduled_at


def encode_row(
    seq: int,
    e: Execution,
    owner: str,
    queue: str | None = None,
    root_trigger: str | None = None,
    *,
    simulated: bool = False,
    payload: str | None = None,
) -> tuple[Any, ...]:
    """One row in ``COLUMNS`` order; ``queue`` names the durable queue holding it (or None);
    ``root_trigger``, when given, is written as a root execution's trigger instead of its own;
    ``simulated``: its times come from a simulated clock (``listed_at``); ``payload``: the
    payload's text as ``dump_value`` wrote it, when known (a queued child's, from its batch)."""
    logs = _dump_logs(e.logs) if e.logs else "[]"
    result = e.result
    return (
        e.id,
        seq,
        e.root_id or e.id,
        e.parent_id,
        e.depth,
        e.function,
        e.type,
        e.status,
        e.attempt,
        int(e.has_payload),
        (dump_value(e.payload) if payload is None else payload) if e.has_payload else None,
        None if result is None else repr(result) if result.__class__ is int else dump_value(result),
        e.error,
        logs,
        dump_attempts(e.attempts, (e.logs, logs)),
        e.scheduled_at,
        e.started_at,
        e.completed_at,
        e.duration_ms,
        e.http_status,
        root_trigger if root_trigger and e.parent_id is None else e.trigger,
        e.replay_of,
        e.due_at,
        owner,
        queue,
        listed_at(seq, e, simulated=simulated),
    )


def decode_row(row: tuple[Any, ...]) -> Execution:
    (
        execution_id,
        root_id,
        parent_id,
        depth,
        function,
        type_,
        status,
        attempt,
        has_payload,
        payload,
        result,
        error,
        logs,
        attempts,
        scheduled_at,
        started_at,
        completed_at,
        duration_ms,
        http_status,
        trigger,
        replay_of,
        due_at,
    ) = row
    return Execution(
        id=execution_id,
        function=function,
        type=type_,
        scheduled_at=scheduled_at,
        payload=_load_value(payload) if has_payload and payload is not None else None,
        has_payload=bool(has_payload),
        parent_id=parent_id,
        root_id=root_id,
        depth=depth,
        status=status,
        attempt=attempt,
        attempts=load_attempts(attempts),
        result=None if result is None else _load_value(result),
        error=error,
        logs=_load_logs(logs),
        started_at=started_at,
        completed_at=completed_at,
        duration_ms=duration_ms,
        http_status=http_status,
        trigger=trigger,
        replay_of=replay_of,
        due_at=due_at,
    )
