"""How the platform reads an app's answer to one attempt, and what that means for the attempt.

From ``runpingback/worker`` (commit 8eb1b57):

- ``internal/processor/dispatch.go:92-93``: only the first 1 MiB of the body is read.
- ``dispatch.go:96-100``: any HTTP 2xx is success, whatever the body's ``status`` says.
- ``dispatch.go:102-109``: ``logs`` and ``tasks`` are decoded in one ``json.Unmarshal`` into
  typed structs (``internal/db/executions.go:41-46`` ``LogEntry``, ``internal/limits/limits.go:11-14``
  ``Task``): one log whose message is not a string, or one task whose name is not a string,
  fails the whole decode, and the attempt keeps no log and no task.
- ``dispatch.go:111-113``: a failed attempt's error is recorded as ``HTTP <code>``.
- ``internal/db/executions.go:98-101, 125-128``: the stored response body is cut at 10,240 bytes.

Pure and import-light: the engine calls :func:`read_attempt` once per finished attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pingback_cli.protocol import AttemptOutcome
from pingback_cli.record import Record

MAX_READ_BYTES = 1024 * 1024
"""dispatch.go:92 ``maxResponseBytes``."""
STORED_BODY_BYTES = 10_240
"""executions.go:99 and :126."""
_INT64 = range(-(2**63), 2**63)

_LOG_FIELDS = {"timestamp": "int", "level": "str", "message": "str", "meta": "any"}
_TASK_FIELDS = {"name": "str", "payload": "any"}
_SDK_KEYS = frozenset({"status", "result", "error", "logs", "tasks", "durationMs"})
"""Keys of pingback-py's answers (``client.py:167-183``, ``handle``). An answer with no other key has
no second spelling of ``logs`` or ``tasks`` (Go matches keys case-insensitively, the last
one winning), so its two fields are read directly: this runs once per attempt."""


class Reading(Record):
    """An attempt as the platform records it."""

    __slots__ = _fields = ("succeeded", "logs", "tasks", "error", "notices")

    succeeded: bool
    logs: list[dict[str, Any]]
    tasks: list[Any]
    error: str | None
    """What the platform records, with the handler's own words beside it when it said any."""
    notices: list[str]
    """What production does differently from what the answer says, each naming why."""

    def __init__(
        self, succeeded: bool, logs: list[dict[str, Any]], tasks: list[Any], error: str | None = None,
        notices: list[str] | None = None,
    ) -> None:  # fmt: skip
        self.succeeded = succeeded
        self.logs = logs
        self.tasks = tasks
        self.error = error
        self.notices = [] if notices is None else notices


def _field_problem(value: Any, kind: str) -> str | None:
    """Why Go's ``json.Unmarshal`` refuses ``value`` for a field of ``kind`` (None: it takes it)."""
    if value is None or kind == "any":
        return None
    if kind == "str":
        return None if isinstance(value, str) else f"is {_shown(value)}, not a string"
    if isinstance(value, bool) or not isinstance(value, int):
        return f"is {_shown(value)}, not a whole number"
    return None if value in _INT64 else f"is {value}, past a 64-bit integer"


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 40 else text[:39] + "…"


def _record_problem(item: Any, fields: Mapping[str, str], what: str, index: int) -> str | None:
    """Why one element of ``logs`` or ``tasks`` fails the decode; keys match case-insensitively."""
    if item is None:
        return None
    if not isinstance(item, dict):
        return f"{what} {index} is {_shown(item)}, not an object"
    for key, value in item.items():
        kind = fields.get(key.lower()) if isinstance(key, str) else None
        problem = _field_problem(value, kind) if kind else None
        if problem:
            return f"{what} {index}'s {key.lower()} {problem}"
    return None


def decode_problem(data: Any) -> str | None:
    """Why the platform's decode of ``logs`` and ``tasks`` fails for this parsed body, or None.

    Elements are counted from 1, as a person counts them ("log 2's message is 42, not a string").
    """
    if not isinstance(data, dict):
        return f"the body is {type(data).__name__ if data is not None else 'null'}, not a JSON object"
    plain = data.keys() <= _SDK_KEYS  # then "logs" and "tasks" are the only spellings present
    for key, fields, what in (("logs", _LOG_FIELDS, "log"), ("tasks", _TASK_FIELDS, "task")):
        if plain:
            value = data.get(key)
        else:
            values = [v for k, v in data.items() if isinstance(k, str) and k.lower() == key]
            value = values[-1] if values else None
        if value is None:
            continue
        if not isinstance(value, list):
            return f"{key} is {_shown(value)}, not a list"
        for index, item in enumerate(value, start=1):
            problem = _record_problem(item, fields, what, index)
            if problem:
                return problem
    return None


def read_attempt(outcome: AttemptOutcome, *, child: bool = False) -> Reading:
    """``outcome`` as the platform records it: success by status code, strict logs and tasks.

    An outcome without an HTTP status got no answer (timeout, no connection, a worker that
    died): a failure, with the logs streamed before it. ``child``: a fan-out child, whose
    nanosecond ``scheduledAt`` Python 3.10's ``datetime.fromisoformat`` cannot read.
    """
    plain = _plain(outcome, child)
    return plain if plain is not None else _read(outcome, child)


_TASK_KEYS = frozenset(_TASK_FIELDS)
_LOG_KEYS = frozenset(_LOG_FIELDS)


def _plain(outcome: AttemptOutcome, child: bool = False) -> Reading | None:
    """The usual answer read directly, as ``_read`` reads it: an answer with the SDK's keys only,
    a body the platform reads whole, tasks (if any) with only a string ``name`` and a
    ``payload``; a 2xx says ``status`` "success" with no log, any other status is pingback-py's
    error answer (``client.py``, ``handle``'s ``except``) with logs of the SDK's four keys, of
    the types Go's decode takes. None for any other answer. Once per attempt, and once per task
    of a fan-out: the general reading's checks showed in the engine's profile (a runaway of
    failing children reads 100,000 error answers, each with its ``ctx.log``)."""
    status, response, size = outcome.http_status, outcome.response, outcome.body_bytes
    if (
        status is None
        or type(response) is not dict
        or (size is not None and size > MAX_READ_BYTES)
        or not response.keys() <= _SDK_KEYS
    ):
        return None
    succeeded = 200 <= status < 300
    logs = response.get("logs")
    if logs is None or logs == []:  # _empty, inline: twice per answer
        logs = []
    elif succeeded or type(logs) is not list or not all(map(_plain_log, logs)):
        return None
    tasks = response.get("tasks")
    if tasks is None or tasks == []:
        tasks = []
    elif type(tasks) is not list:
        return None
    for task in tasks:
        if type(task) is not dict or not task.keys() <= _TASK_KEYS or type(task.get("name", "")) is not str:
            return None
    notices: list[str] = []
    if succeeded:
        if response.get("status") != "success":
            return None
        if size is not None and size > STORED_BODY_BYTES:
            _note_size(size, notices)
        return Reading(True, [], list(tasks), None, notices)
    said = response.get("error")
    said = said if type(said) is str and said else None
    return _failed(outcome, status, said, list(logs), list(tasks), child, notices)


def _plain_log(entry: Any) -> bool:
    """A log entry as the SDK writes it (``context.py`` ``_add_log``), which Go's decode takes."""
    if type(entry) is not dict or not entry.keys() <= _LOG_KEYS:
        return False
    timestamp, level, message = entry.get("timestamp"), entry.get("level"), entry.get("message")
    return (
        (timestamp is None or (type(timestamp) is int and -(2**63) <= timestamp < 2**63))
        and (level is None or type(level) is str)
        and (message is None or type(message) is str)
    )


def _empty(value: Any) -> bool:
    """None or ``[]``: nothing to read (a falsy value of another type fails Go's decode)."""
    return value is None or (type(value) is list and not value)


def _read(outcome: AttemptOutcome, child: bool) -> Reading:
    """``read_attempt`` for any outcome."""
    if outcome.http_status is None:
        return Reading(False, list(outcome.logs), [], outcome.error or "no answer")
    status = outcome.http_status or 0
    response = outcome.response
    notices: list[str] = []
    succeeded = 200 <= status < 300
    logs, tasks = _logs_and_tasks(outcome, notices)
    said = response.get("error") if isinstance(response, dict) else None
    said = said if isinstance(said, str) and said else None
    if succeeded:
        _note_status(response, status, said, notices)
        _note_size(outcome.body_bytes, notices)
        return Reading(True, logs, tasks, None, notices)
    return _failed(outcome, status, said, logs, tasks, child, notices)


def _failed(
    outcome: AttemptOutcome,
    status: int,
    said: str | None,
    logs: list[dict[str, Any]],
    tasks: list[Any],
    child: bool,
    notices: list[str],
) -> Reading:
    """The reading of a non-2xx answer: its error is "HTTP <status>", then ours (the transport's)
    or what the body ``said``, with the notices of a cut body and of a failure production shares."""
    _note_size(outcome.body_bytes, notices)
    own = outcome.error or said
    _note_failure(status, own or "", child, notices)
    error = f"HTTP {status}" + (f": {own}" if own and own != f"HTTP {status}" else "")
    return Reading(False, logs, tasks, error, notices)


def _note_failure(status: int, own: str, child: bool, notices: list[str]) -> None:
    """Why a failure that looks like ours is production's too: the secret, Python 3.10."""
    if status == 401:
        notices.append(
            "the platform signs every request with the project's one cron secret "
            "(PINGBACK_CRON_SECRET): a Pingback instance constructed with another answers 401 "
            "there too (see docs/parity.md#secrets)"
        )
    elif child and "Invalid isoformat string" in own:
        notices.append(
            "the platform sends a fan-out child's scheduledAt in nanoseconds (Go's RFC3339Nano), "
            "which datetime.fromisoformat cannot read on Python 3.10, so pingback-py fails every "
            "child in production too: run the app on Python 3.11 or later (see docs/parity.md#requests)"
        )


def _logs_and_tasks(outcome: AttemptOutcome, notices: list[str]) -> tuple[list[dict[str, Any]], list[Any]]:
    size = outcome.body_bytes or 0
    if size > MAX_READ_BYTES:
        notices.append(
            f"the platform reads only the first 1 MiB of this {size:,}-byte answer, so its JSON is cut "
            "and it keeps no log and no task of this attempt (see docs/parity.md#responses)"
        )
        return [], []
    data = outcome.response
    if data is None:
        if outcome.http_status is not None and 200 <= outcome.http_status < 300:
            notices.append(
                "the answer is not the protocol's JSON: the platform counts the 2xx as success and "
                "keeps no log and no task (see docs/parity.md#responses)"
            )
        return [], []
    problem = decode_problem(data)
    if problem is not None:
        if isinstance(data, dict) and (data.get("logs") or data.get("tasks")):
            notices.append(
                f"the platform drops every log and task of this attempt: {problem} "
                "(see docs/parity.md#responses)"
            )
        return [], []
    assert isinstance(data, dict)
    logs = [entry for entry in data.get("logs") or [] if isinstance(entry, dict)]
    return logs, list(data.get("tasks") or [])


def _note_status(response: Any, status: int, said: str | None, notices: list[str]) -> None:
    claimed = response.get("status") if isinstance(response, dict) else None
    if claimed == "success" or (claimed is None and said is None):
        return
    what = f'status "{claimed}"' if isinstance(claimed, str) else "no success status"
    notices.append(
        f"the platform counts any 2xx as success: this HTTP {status} answer with {what}"
        + (f' ("{said}")' if said else "")
        + " passes there (see docs/parity.md#responses)"
    )


def _note_size(size: int | None, notices: list[str]) -> None:
    if size is not None and STORED_BODY_BYTES < size <= MAX_READ_BYTES:
        notices.append(
            f"the platform stores only the first {STORED_BODY_BYTES:,} bytes of this {size:,}-byte "
            "answer as its response body (see docs/parity.md#responses)"
        )
