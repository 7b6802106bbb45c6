"""How the platform reads an answer (dispatch.go, executions.go), as a table."""

from __future__ import annotations

from typing import Any

import pytest

from pingback_cli import reading
from pingback_cli.protocol import AttemptOutcome
from pingback_cli.reading import MAX_READ_BYTES, STORED_BODY_BYTES, decode_problem, read_attempt

LOG = {"timestamp": 1764324900000, "level": "info", "message": "ok"}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"logs": [LOG], "tasks": [{"name": "t", "payload": {"a": 1}}]}, None),
        ({"logs": None, "tasks": None}, None),
        ({"logs": [None], "tasks": [None]}, None),  # Go leaves a null element as a zero struct
        ({"logs": [LOG, {**LOG, "message": 42}]}, "log 2's message is 42, not a string"),
        ({"logs": [{**LOG, "Message": 42}]}, "log 1's message is 42, not a string"),  # keys match any case
        ({"logs": [{**LOG, "timestamp": 1.5}]}, "log 1's timestamp is 1.5, not a whole number"),
        ({"logs": [{**LOG, "timestamp": "1"}]}, 'log 1\'s timestamp is "1", not a whole number'),
        ({"logs": [{**LOG, "timestamp": 2**63}]}, "past a 64-bit integer"),
        ({"logs": [{**LOG, "level": None, "meta": [1, "x"]}]}, None),
        ({"logs": [{**LOG, "extra": object()}]}, None),  # unknown fields are ignored
        ({"logs": ["text"]}, 'log 1 is "text", not an object'),
        ({"logs": {"a": 1}}, "logs is {'a': 1}, not a list"),
        ({"tasks": [{"name": 7}]}, "task 1's name is 7, not a string"),
        ({"tasks": [{"name": "t"}, {"name": ["x"]}]}, "task 2's name is ['x'], not a string"),
        ([1, 2], "the body is list, not a JSON object"),
        # the SDK's own keys only (read directly) and the same with another spelling beside them
        ({"status": "success", "result": 1, "logs": [], "tasks": [], "durationMs": 0}, None),
        ({"status": "success", "logs": "no", "durationMs": 0}, 'logs is "no", not a list'),
        ({"status": "success", "logs": [], "Logs": [{**LOG, "level": 3}]}, "log 1's level is 3"),
        ({"logs": [LOG], "LOGS": None}, None),  # the last spelling wins, as in Go
        ({"status": "success", "tasks": [], "TASKS": [{"name": 1}]}, "task 1's name is 1"),
    ],
)
def test_decode_problem(body: Any, problem: str | None) -> None:
    found = decode_problem(body)
    assert found == problem if problem is None or found is None else problem in found


def test_2xx_is_success_whatever_status_says() -> None:
    reading = read_attempt(AttemptOutcome(204, {"status": "error", "error": "nope"}))
    assert reading.succeeded and reading.error is None
    assert 'HTTP 204 answer with status "error" ("nope") passes there' in reading.notices[0]


def test_a_non_2xx_is_a_failure_even_with_status_success() -> None:
    reading = read_attempt(AttemptOutcome(503, {"status": "success", "logs": [LOG]}))
    assert not reading.succeeded and reading.error == "HTTP 503"
    assert reading.logs == [LOG]  # a failed attempt keeps its logs too (FailResult.Logs)


def test_a_bad_task_drops_logs_too() -> None:
    reading = read_attempt(AttemptOutcome(200, {"status": "success", "logs": [LOG], "tasks": [{"name": 1}]}))
    assert reading.succeeded and reading.logs == [] and reading.tasks == []
    assert "task 1's name is 1, not a string" in reading.notices[0]


@pytest.mark.parametrize(
    ("size", "kept", "notice"),
    [
        (10_240, True, None),
        (10_241, True, "stores only the first 10,240 bytes of this 10,241-byte answer"),
        (1024 * 1024 + 1, False, "reads only the first 1 MiB of this 1,048,577-byte answer"),
    ],
)
def test_body_size_limits(size: int, kept: bool, notice: str | None) -> None:
    reading = read_attempt(AttemptOutcome(200, {"status": "success", "logs": [LOG]}, body_bytes=size))
    assert reading.succeeded
    assert (reading.logs == [LOG]) == kept
    assert (notice is None and not reading.notices) or (notice is not None and notice in reading.notices[0])


def test_no_answer_keeps_the_error_and_streamed_logs() -> None:
    reading = read_attempt(AttemptOutcome(None, error="timed out", logs=[LOG]))
    assert (reading.succeeded, reading.error, reading.logs) == (False, "timed out", [LOG])


def test_a_child_failing_on_python_3_10s_fromisoformat_names_the_cause_and_fix() -> None:
    said = {"error": "ValueError: Invalid isoformat string: '2026-11-28T10:15:00.1234567+00:00'"}
    reading = read_attempt(AttemptOutcome(500, said), child=True)
    assert not reading.succeeded
    assert "run the app on Python 3.11 or later" in reading.notices[0]
    assert read_attempt(AttemptOutcome(500, said)).notices == []  # a root's scheduledAt is milliseconds


def test_a_401_names_the_projects_one_secret() -> None:
    reading = read_attempt(AttemptOutcome(401, {"error": "unauthorized: invalid signature"}))
    assert reading.error == "HTTP 401: unauthorized: invalid signature"
    assert "the project's one cron secret" in reading.notices[0]


PLAIN = {"status": "success", "result": 1, "logs": [], "tasks": [], "durationMs": 0}
FAILED = {"status": "error", "error": "RuntimeError: boom", "logs": [LOG], "tasks": [], "durationMs": 0}


@pytest.mark.parametrize(
    ("outcome", "usual"),
    [
        (AttemptOutcome(200, PLAIN), True),
        (
            AttemptOutcome(200, {**PLAIN, "tasks": [{"name": "t", "payload": {"i": 1}}, {"name": "u"}, {}]}),
            True,
        ),
        (AttemptOutcome(200, {**PLAIN, "tasks": None, "logs": None}), True),
        (AttemptOutcome(201, {"status": "success"}), True),
        (AttemptOutcome(200, PLAIN, body_bytes=STORED_BODY_BYTES), True),
        (AttemptOutcome(200, {**PLAIN, "tasks": [{"name": "t"}]}, body_bytes=STORED_BODY_BYTES + 1), True),
        (AttemptOutcome(200, PLAIN, body_bytes=MAX_READ_BYTES), True),
        # each of these is not the usual answer: read the general way, with what it notes
        (AttemptOutcome(200, {**PLAIN, "logs": 0, "tasks": [{"name": "t"}]}), False),
        (AttemptOutcome(200, {**PLAIN, "logs": [LOG]}), False),
        (AttemptOutcome(200, {**PLAIN, "tasks": [{"name": 7}]}), False),
        (AttemptOutcome(200, {**PLAIN, "tasks": [{"name": None}]}), False),
        (AttemptOutcome(200, {**PLAIN, "tasks": [{"name": "t", "Name": 7}]}), False),
        (AttemptOutcome(200, {**PLAIN, "tasks": [{"name": "t", "other": 1}]}), False),
        (AttemptOutcome(200, {**PLAIN, "tasks": ["t"]}), False),
        (AttemptOutcome(200, {**PLAIN, "tasks": {"name": "t"}}), False),
        (AttemptOutcome(200, {**PLAIN, "tasks": 0}), False),
        (AttemptOutcome(200, {**PLAIN, "TASKS": [{"name": 1}]}), False),
        (AttemptOutcome(200, {**PLAIN, "status": "error", "error": "no"}), False),
        (AttemptOutcome(200, {"result": 1}), False),
        (AttemptOutcome(200, PLAIN, body_bytes=MAX_READ_BYTES + 1), False),
        (AttemptOutcome(None, error="timed out"), False),
        # pingback-py's error answer (a handler that raised), read directly too
        (AttemptOutcome(500, PLAIN), True),
        (AttemptOutcome(500, FAILED), True),
        (AttemptOutcome(500, {**FAILED, "logs": [LOG, {**LOG, "meta": {"n": 1}}], "tasks": None}), True),
        (
            AttemptOutcome(500, {**FAILED, "logs": [{"timestamp": None, "level": None, "message": None}]}),
            True,
        ),
        (AttemptOutcome(500, {**FAILED, "tasks": [{"name": "t", "payload": 1}]}), True),
        (AttemptOutcome(500, {**FAILED, "error": ""}), True),
        (AttemptOutcome(500, {**FAILED, "error": 7}), True),
        (AttemptOutcome(500, {**FAILED, "error": "HTTP 500"}), True),
        (AttemptOutcome(401, {"error": "unauthorized: invalid signature"}), True),
        (AttemptOutcome(404, {"error": 'function "f" not found'}, body_bytes=STORED_BODY_BYTES + 1), True),
        (AttemptOutcome(503, None), False),
        (AttemptOutcome(500, FAILED, body_bytes=MAX_READ_BYTES + 1), False),
        (AttemptOutcome(500, {**FAILED, "logs": [{**LOG, "message": 42}]}), False),
        (AttemptOutcome(500, {**FAILED, "logs": [{**LOG, "timestamp": True}]}), False),
        (AttemptOutcome(500, {**FAILED, "logs": [{**LOG, "timestamp": 2**63}]}), False),
        (AttemptOutcome(500, {**FAILED, "logs": [{**LOG, "level": 3}]}), False),
        (AttemptOutcome(500, {**FAILED, "logs": [{**LOG, "Level": 3}]}), False),
        (AttemptOutcome(500, {**FAILED, "logs": [None]}), False),
        (AttemptOutcome(500, {**FAILED, "logs": "no"}), False),
        (AttemptOutcome(500, {**FAILED, "tasks": [{"name": 7}]}), False),  # drops the logs too
        (AttemptOutcome(500, {**FAILED, "Logs": None}), False),
    ],
)
def test_the_usual_answers_direct_reading_is_the_general_one(outcome: AttemptOutcome, usual: bool) -> None:
    """``read_attempt`` reads the usual answer directly (``_plain``): the same Reading as the
    general way, and any other answer is left to the general way."""
    general = reading._read(outcome, False)
    assert read_attempt(outcome) == general
    direct = reading._plain(outcome)
    assert direct == general if usual else direct is None


@pytest.mark.parametrize(
    "outcome",
    [
        AttemptOutcome(
            500, {**FAILED, "error": "ValueError: Invalid isoformat string: '2026-01-01T00:00:00.123456789Z'"}
        ),
        AttemptOutcome(401, {"error": "unauthorized: stale timestamp"}),
        AttemptOutcome(500, FAILED, body_bytes=STORED_BODY_BYTES + 1),
    ],
)
@pytest.mark.parametrize("child", [False, True])
def test_an_error_answers_direct_reading_keeps_every_notice(outcome: AttemptOutcome, child: bool) -> None:
    """The direct reading of an error answer notes what the general one notes (a child's Python
    3.10 scheduledAt, the one secret, a stored body cut), for a fan-out child or not."""
    general = reading._read(outcome, child)
    assert general.notices or (not child and "isoformat" in str(general.error))  # a root's is no child's
    assert reading._plain(outcome, child) == general
    assert read_attempt(outcome, child=child) == general
