"""Registration as runpingback/pingback apps/platform/src/modules/projects/registration.service.ts
applies it, and the body checks of dto/register.dto.ts (pure, no server)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from pingback_cli.models import Job
from pingback_cli.project.registration import (
    Registered,
    RegistrationInvalid,
    apply,
    read_body,
    timeout_seconds,
)

NOW = 1_764_324_900.0


def ids() -> Any:
    counter = itertools.count(1)
    return lambda: f"job-{next(counter)}"


def job(name: str, **fields: Any) -> Job:
    values: dict[str, Any] = {"id": f"id-{name}", "name": name, "type": "task", "schedule": None}
    values.update(fields)
    return Job(**values)


@pytest.mark.parametrize(
    ("timeout", "seconds"),
    [(None, 30), ("", 30), ("30s", 30), ("90", 90), ("5m", 5), ("1h", 1), ("1m30s", 1), ("s5", 5),
     ("  7s", 7), ("0x10", 16), ("-5s", -5), ("abc", None), ("m", None)],
)  # fmt: skip
def test_timeout_is_parse_int_of_the_text_without_its_first_s(
    timeout: str | None, seconds: int | None
) -> None:
    assert timeout_seconds(timeout) == seconds


def test_body_reads_functions_and_endpoint() -> None:
    functions, endpoint = read_body(
        {
            "functions": [
                {"name": "a", "type": "cron", "schedule": "* * * * *", "options": {"retries": 2}},
                {"name": "b", "type": "task", "extra": "dropped"},
            ],
            "endpoint_url": "http://127.0.0.1:3000/api/pingback",
        }
    )
    assert functions == [
        Registered("a", "cron", "* * * * *", retries=2),
        Registered("b", "task"),
    ]
    assert endpoint == "http://127.0.0.1:3000/api/pingback"


@pytest.mark.parametrize(
    ("body", "messages"),
    [
        ({}, ["functions must be an array"]),
        ([], ["functions must be an array"]),
        ({"functions": [{"name": 1, "type": "job"}]},
         ["functions.0.name must be a string",
          "functions.0.type must be one of the following values: cron, task"]),
        ({"functions": [{"name": "a", "type": "task", "options": {"retries": -1, "concurrency": 0}}]},
         ["functions.0.options.retries must not be less than 0",
          "functions.0.options.concurrency must not be less than 1"]),
        ({"functions": [{"name": "a", "type": "task", "options": {"retries": 1.5, "timeout": 30}}]},
         ["functions.0.options.retries must be an integer number",
          "functions.0.options.timeout must be a string"]),
        ({"functions": [], "project_id": "nope"}, ["project_id must be a UUID"]),
        ({"functions": ["a"]}, ["each value in nested property functions must be either object or array"]),
    ],
)  # fmt: skip
def test_body_checks_are_the_dto_s(body: Any, messages: list[str]) -> None:
    with pytest.raises(RegistrationInvalid) as caught:
        read_body(body)
    assert caught.value.messages == messages


def test_no_maximum_on_retries_or_concurrency() -> None:
    [fn], _ = read_body(
        {"functions": [{"name": "a", "type": "task", "options": {"retries": 50, "concurrency": 99}}]}
    )
    assert (fn.retries, fn.concurrency) == (50, 99)


def test_new_functions_are_created_active_with_defaults() -> None:
    outcome = apply(
        {}, [Registered("a", "task"), Registered("c", "cron", "*/5 * * * *")], now=NOW, new_id=ids()
    )
    assert outcome.error is None
    assert outcome.jobs == [{"name": "a", "status": "active"}, {"name": "c", "status": "active"}]
    a, c = outcome.saved
    assert (a.id, a.retries, a.timeout_seconds, a.concurrency, a.schedule) == ("job-1", 0, 30, 1, None)
    assert (c.type, c.schedule, c.source, c.created_at) == ("cron", "*/5 * * * *", "sdk", NOW)


def test_missing_retries_and_concurrency_keep_the_stored_values_and_say_so() -> None:
    stored = {"a": job("a", retries=3, concurrency=4, timeout_seconds=90, created_at=1.0)}
    outcome = apply(stored, [Registered("a", "task")], now=NOW, new_id=ids())
    [saved] = outcome.saved
    assert (saved.id, saved.retries, saved.concurrency) == ("id-a", 3, 4)
    assert saved.timeout_seconds == 30  # a missing timeout is not kept: it becomes 30
    assert saved.created_at == 1.0 and saved.updated_at == NOW
    [notice] = outcome.notices
    assert "keeps retries=3" in notice and "pingback-py leaves retries=0 out" in notice


def test_given_options_replace_the_stored_ones() -> None:
    stored = {"a": job("a", retries=3)}
    outcome = apply(
        stored, [Registered("a", "task", retries=1, concurrency=2, timeout="5m")], now=NOW, new_id=ids()
    )
    [saved] = outcome.saved
    assert (saved.retries, saved.concurrency, saved.timeout_seconds) == (1, 2, 5)
    assert outcome.notices == []


def test_listed_functions_become_active_and_missing_sdk_ones_inactive() -> None:
    stored = {
        "paused": job("paused", status="paused"),
        "gone": job("gone"),
        "manual": job("manual", source="manual"),
        "already": job("already", status="inactive"),
    }
    outcome = apply(stored, [Registered("paused", "task")], now=NOW, new_id=ids())
    statuses = {saved.name: saved.status for saved in outcome.saved}
    assert statuses == {"paused": "active", "gone": "inactive"}  # manual jobs are left alone
    assert outcome.jobs == [{"name": "paused", "status": "active"}]


def test_retries_capped_by_the_plan() -> None:
    outcome = apply({}, [Registered("a", "task", retries=7)], now=NOW, new_id=ids(), retries_cap=5)
    assert outcome.saved[0].retries == 5


def test_job_cap_refuses_a_new_name_with_403_after_saving_the_ones_before() -> None:
    stored = {name: job(name) for name in ("a", "b")}
    functions = [Registered("a", "task"), Registered("new", "task"), Registered("later", "task")]
    outcome = apply(stored, functions, now=NOW, new_id=ids(), job_cap=2)
    assert outcome.error is not None and outcome.error.status == 403
    assert outcome.error.message == "Job limit reached (2/2). Upgrade your plan."
    assert [saved.name for saved in outcome.saved] == ["a"]  # nothing made inactive either


def test_invalid_cron_is_a_400_naming_the_function() -> None:
    outcome = apply({}, [Registered("nightly", "cron", "every night")], now=NOW, new_id=ids())
    assert outcome.error is not None and outcome.error.status == 400
    assert outcome.error.message == 'Invalid cron expression for "nightly": every night'


def test_a_timeout_javascript_reads_as_nan_is_the_platform_s_500() -> None:
    outcome = apply({}, [Registered("a", "task", timeout="soon")], now=NOW, new_id=ids())
    assert outcome.error is not None and outcome.error.status == 500
